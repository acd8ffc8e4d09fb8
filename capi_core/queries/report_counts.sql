-- Copies per event name and channel in scope, with the time span they cover.
-- params: $date_from, $date_to, $pixel_id, $event_names
select
  e.event_name,
  e.channel,
  count(*) as copies,
  min(e.event_time) as first_event_time,
  max(e.event_time) as last_event_time
from events as e
where (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
group by e.event_name, e.channel
order by copies desc, e.event_name, e.channel
