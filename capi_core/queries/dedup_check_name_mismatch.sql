-- Event ids sent on both channels of one pixel under different event names, in scope.
-- params: $date_from, $date_to, $pixel_id, $event_names
-- One cheap pass finds the ids (both channels: a browser and a server flag, channel being one of the two;
-- min <> max: more than one distinct name), so no distinct aggregate runs over every id; the names are
-- listed only for those few ids. Not materialized, so the second read of events only fetches their rows
-- (`not materialized`: DuckDB / PostgreSQL; Spark inlines CTEs anyway, drop the hint).
with
scoped as not materialized (
  select e.pixel_id, e.event_id, e.channel, e.event_name
  from events as e
  where e.event_id is not null
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
),
mismatched as (
  select s.pixel_id, s.event_id
  from scoped as s
  group by s.pixel_id, s.event_id
  having max(case when s.channel = 'browser' then 1 else 0 end) = 1
    and max(case when s.channel = 'server' then 1 else 0 end) = 1
    and min(s.event_name) <> max(s.event_name)
    and max(case when s.channel = 'browser' and s.event_name is not null then 1 else 0 end) = 1
)
select
  s.pixel_id,
  s.event_id,
  string_agg(distinct s.channel || ': ' || s.event_name, ', ' order by s.channel || ': ' || s.event_name) as names,
  count(*) as copies
from scoped as s
inner join mismatched as m
  on m.pixel_id is not distinct from s.pixel_id
  and m.event_id = s.event_id
group by s.pixel_id, s.event_id
order by s.pixel_id, s.event_id
