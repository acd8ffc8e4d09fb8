-- Event ids sent on both channels of one pixel under different event names: per pixel, event id, event
-- name, channel and UTC day of event_time, the copies. No scope: a scope's copies fold the days, pixel and
-- names it covers (capi_core.metrics.by_day), and diagnostics.dedup_checks keeps the ids that, in scope,
-- have a browser copy with a name, a server copy and two names. Only candidates are listed: ids that
-- qualify over the whole store (a scope's copies are a subset of the store's, so an id that qualifies
-- in a scope is one of them); they are few.
-- params: none
-- One cheap pass finds the candidates (both channels: a browser and a server flag, channel being one of
-- the two; min <> max: more than one distinct name), so no distinct aggregate runs over every id; the
-- rows are read only for those few ids. Not materialized, so the second read of events only fetches
-- their rows (`not materialized`: DuckDB / PostgreSQL; Spark inlines CTEs anyway, drop the hint).
with
scoped as not materialized (
  select e.pixel_id, e.event_id, e.channel, e.event_name, cast(e.event_time as date) as day
  from events as e
  where e.event_id is not null
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
  s.event_name,
  s.channel,
  s.day,
  count(*) as copies
from scoped as s
inner join mismatched as m
  on m.pixel_id is not distinct from s.pixel_id
  and m.event_id = s.event_id
group by s.pixel_id, s.event_id, s.event_name, s.channel, s.day
