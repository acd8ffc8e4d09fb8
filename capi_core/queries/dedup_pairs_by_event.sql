-- Would-be pairs per browser pixel, browser event name and reason in scope (over the CTE would_be_pairs).
-- params: $date_from, $date_to, $pixel_id, $event_names
select
  e.pixel_id,
  e.event_name,
  p.reason,
  count(*) as pairs
from would_be_pairs as p
inner join events as e
  on e.fingerprint = p.browser_fingerprint
  and e.occurrence = p.browser_occurrence
where true
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
group by e.pixel_id, e.event_name, p.reason
order by e.pixel_id, e.event_name, p.reason
