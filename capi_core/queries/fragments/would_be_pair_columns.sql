-- Fragment (select-list items, not CTEs): one would-be pair as the dedup page and the inspector list it,
-- from the derived table would_be_pairs (alias p; built by dedup_would_be_pairs.sql); shared by
-- dedup_pairs_in_scope.sql and inspector_pairs.sql, whose select it fills (it ends without a comma).
  p.browser_fingerprint,
  p.browser_occurrence,
  p.server_fingerprint,
  p.server_occurrence,
  p.browser_pixel_id,
  p.server_pixel_id,
  p.browser_event_name,
  p.server_event_name,
  p.browser_event_id,
  p.server_event_id,
  p.browser_order_id,
  p.server_order_id,
  p.browser_received_at,
  p.server_received_at,
  p.matched_on,
  p.reason
