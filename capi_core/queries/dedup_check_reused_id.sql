-- Event ids that may be carried by several distinct conversions: per pixel, event name, event id and UTC
-- day of event_time, the copies and the distinct order ids, users (fbp, external_id, em) and days of
-- receipt of that day's copies. No scope: a scope's figures fold the days, pixel and names it covers
-- (capi_core.metrics.by_day: copies add up, the distinct values merge) and diagnostics.dedup_checks
-- keeps the ids with 2+ order ids, 3+ users or 3+ days of receipt. A single conversion has one order, at
-- most two fbp values (a browser/server fbp mismatch) and at most two days (a late retry).
-- params: none
-- Only candidates are listed: ids with two order ids (min <> max) or three copies over the whole store (a
-- scope's copies are a subset of the store's, so an id that qualifies in a scope is a candidate). They
-- are few, so the per-day value lists stay small. `not materialized`: DuckDB / PostgreSQL (Spark inlines
-- CTEs anyway, drop the hint); array_agg(distinct ...) is Spark's collect_set.
with
scoped as not materialized (
  select
    e.pixel_id,
    e.event_name,
    e.event_id,
    cast(e.event_time as date) as day,
    trim(ltrim(lower(trim(e.order_id)), '#')) as order_norm,
    e.fbp,
    e.external_id,
    e.em,
    cast(e.received_at as date) as received_day
  from events as e
  where e.event_id is not null
),
candidates as (
  select s.pixel_id, s.event_name, s.event_id
  from scoped as s
  group by s.pixel_id, s.event_name, s.event_id
  having min(s.order_norm) <> max(s.order_norm)
    or count(*) >= 3
)
select
  s.pixel_id,
  s.event_name,
  s.event_id,
  s.day,
  count(*) as copies,
  array_agg(distinct s.order_norm) filter (where s.order_norm is not null) as orders,
  array_agg(distinct s.fbp) filter (where s.fbp is not null) as fbps,
  array_agg(distinct s.external_id) filter (where s.external_id is not null) as external_ids,
  array_agg(distinct s.em) filter (where s.em is not null) as ems,
  array_agg(distinct s.received_day) filter (where s.received_day is not null) as received_days
from scoped as s
inner join candidates as c
  on c.pixel_id is not distinct from s.pixel_id
  and c.event_name is not distinct from s.event_name
  and c.event_id = s.event_id
group by s.pixel_id, s.event_name, s.event_id, s.day
