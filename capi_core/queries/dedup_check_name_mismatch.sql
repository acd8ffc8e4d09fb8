-- Event ids sent on both channels of one pixel under different event names, in scope.
-- params: $date_from, $date_to, $pixel_id, $event_names
select
  e.pixel_id,
  e.event_id,
  string_agg(distinct e.channel || ': ' || e.event_name, ', ' order by e.channel || ': ' || e.event_name) as names,
  count(*) as copies
from events as e
where e.event_id is not null
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
group by e.pixel_id, e.event_id
having count(distinct e.channel) = 2
  and count(distinct e.event_name) > 1
  and count(distinct case when e.channel = 'browser' then e.event_name end) >= 1
order by e.pixel_id, e.event_id
