-- Event name + event_id pairs whose browser copies reach one pixel and whose server copies reach another
-- pixel that has no browser copy of it (and the reverse), in scope.
-- params: $date_from, $date_to, $pixel_id, $event_names
with
per_pixel as (
  select
    e.event_name,
    e.event_id,
    e.pixel_id,
    max(case when e.channel = 'browser' then 1 else 0 end) as on_browser,
    max(case when e.channel = 'server' then 1 else 0 end) as on_server
  from events as e
  where e.event_id is not null
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
  group by e.event_name, e.event_id, e.pixel_id
)
select
  b.event_name,
  b.event_id,
  b.pixel_id as browser_pixel_id,
  s.pixel_id as server_pixel_id
from per_pixel as b
inner join per_pixel as s
  on s.event_name = b.event_name
  and s.event_id = b.event_id
  and s.pixel_id is distinct from b.pixel_id
where b.on_browser = 1
  and b.on_server = 0
  and s.on_server = 1
  and s.on_browser = 0
  and (cast($pixel_id as varchar) is null or $pixel_id in (b.pixel_id, s.pixel_id))
order by b.event_name, b.event_id, b.pixel_id, s.pixel_id
