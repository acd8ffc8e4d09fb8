-- Would-be pairs (derived table would_be_pairs) with either copy among the given copies.
-- params: $refs (varchar[] of 'fingerprint:occurrence')
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
where list_contains(cast($refs as varchar[]), p.browser_fingerprint || ':' || cast(p.browser_occurrence as varchar))
  or list_contains(cast($refs as varchar[]), p.server_fingerprint || ':' || cast(p.server_occurrence as varchar))
