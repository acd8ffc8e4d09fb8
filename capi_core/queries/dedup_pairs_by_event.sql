-- Would-be pairs per browser pixel, browser event name and reason in scope (derived table would_be_pairs).
-- The scope predicate reads the browser copy's columns carried by the pairs (no join to events).
-- params: $date_from, $date_to, $pixel_id, $event_names
select
  p.browser_pixel_id as pixel_id,
  p.browser_event_name as event_name,
  p.reason,
  count(*) as pairs
from would_be_pairs as p
where true
  and (cast($date_from as timestamp) is null or p.browser_event_time >= $date_from)
  and (cast($date_to as timestamp) is null or p.browser_event_time < $date_to)
  and (cast($pixel_id as varchar) is null or p.browser_pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, p.browser_event_name))
group by p.browser_pixel_id, p.browser_event_name, p.reason
order by p.browser_pixel_id, p.browser_event_name, p.reason
