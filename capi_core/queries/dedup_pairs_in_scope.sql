-- Would-be pairs whose browser copy is in scope, most recent first (derived table would_be_pairs).
-- The scope predicate reads the browser copy's columns carried by the pairs (no join to events).
-- params: $date_from, $date_to, $pixel_id, $event_names, $limit (null: all)
select
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
from would_be_pairs as p
where true
  and (cast($date_from as timestamp) is null or p.browser_event_time >= $date_from)
  and (cast($date_to as timestamp) is null or p.browser_event_time < $date_to)
  and (cast($pixel_id as varchar) is null or p.browser_pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, p.browser_event_name))
order by p.browser_received_at desc, p.browser_fingerprint, p.browser_occurrence
limit $limit
