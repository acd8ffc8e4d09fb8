-- Would-be pairs whose browser copy is in scope, most recent first (derived table would_be_pairs).
-- The scope predicate reads the browser copy's columns carried by the pairs (no join to events).
-- params: $date_from, $date_to, $pixel_id, $event_names, $limit (null: all)
select
-- @include fragments/would_be_pair_columns
from would_be_pairs as p
where true
  and (cast($date_from as timestamp) is null or p.browser_event_time >= $date_from)
  and (cast($date_to as timestamp) is null or p.browser_event_time < $date_to)
  and (cast($pixel_id as varchar) is null or p.browser_pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, p.browser_event_name))
order by p.browser_received_at desc, p.browser_fingerprint, p.browser_occurrence
limit $limit
