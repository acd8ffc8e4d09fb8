-- Browser copies and those covered by a server copy with the same pixel, event name and event_id, per
-- pixel and event name in scope, with the server copies in scope and example uncovered event ids.
-- DuckDB-only: list() aggregates the examples (standard SQL has array_agg; Spark collect_list).
-- params: $date_from, $date_to, $pixel_id, $event_names
with
-- every server key of the store (a twin counts whatever its date): one distinct pass and a hash join
server_keys as (
  select distinct s.pixel_id, s.event_name, s.event_id
  from events as s
  where s.channel = 'server'
    and s.pixel_id is not null
    and s.event_name is not null
    and s.event_id is not null
),
scoped as (
  select
    e.pixel_id,
    e.event_name,
    e.channel,
    e.event_id,
    e.channel = 'browser' and k.event_id is not null as covered
  from events as e
  left join server_keys as k
    on e.channel = 'browser'
    and k.pixel_id = e.pixel_id
    and k.event_name = e.event_name
    and k.event_id = e.event_id
  where true
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
)
select
  s.pixel_id,
  s.event_name,
  sum(case when s.channel = 'browser' then 1 else 0 end) as browser,
  sum(case when s.channel = 'server' then 1 else 0 end) as server,
  sum(case when s.covered then 1 else 0 end) as covered,
  list(distinct s.event_id order by s.event_id) filter (
    where s.channel = 'browser' and not s.covered and s.event_id is not null
  ) as examples
from scoped as s
group by s.pixel_id, s.event_name
having sum(case when s.channel = 'browser' then 1 else 0 end) > 0
order by s.pixel_id, s.event_name
