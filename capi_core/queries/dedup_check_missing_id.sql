-- Copies without event_id per pixel, event name and channel, for event names both channels send in scope.
-- DuckDB-only: list() aggregates the examples (standard SQL has array_agg; Spark collect_list).
-- params: $date_from, $date_to, $pixel_id, $event_names
with
scoped as (
  select e.pixel_id, e.event_name, e.channel, e.event_id, e.fingerprint
  from events as e
  where true
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
),
both_channels as (
  select s.pixel_id, s.event_name
  from scoped as s
  group by s.pixel_id, s.event_name
  having count(distinct s.channel) = 2
)
select
  s.pixel_id,
  s.event_name,
  s.channel,
  sum(case when s.event_id is null then 1 else 0 end) as missing,
  count(*) as copies,
  list(left(s.fingerprint, 12) order by s.fingerprint) filter (where s.event_id is null) as examples
from scoped as s
inner join both_channels as b
  on b.pixel_id is not distinct from s.pixel_id
  and b.event_name is not distinct from s.event_name
group by s.pixel_id, s.event_name, s.channel
having sum(case when s.event_id is null then 1 else 0 end) > 0
order by s.pixel_id, s.event_name, s.channel
