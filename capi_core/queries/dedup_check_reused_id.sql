-- Event ids carried by several distinct conversions in scope: 2+ order ids, 3+ users (fbp, external_id
-- or em values) or 3+ days of receipt. A single conversion has one order, at most two fbp values (a
-- browser/server fbp mismatch) and at most two days (a late retry).
-- params: $date_from, $date_to, $pixel_id, $event_names
-- A cheap pass keeps the ids that can qualify: two order ids (min <> max) or three copies (three distinct
-- users or days need three copies); the distinct counts run only over those few ids. Not materialized,
-- so the second read of events only fetches the candidates' rows (`not materialized`: DuckDB / PostgreSQL;
-- Spark inlines CTEs anyway, drop the hint).
with
scoped as not materialized (
  select
    e.pixel_id,
    e.event_name,
    e.event_id,
    trim(ltrim(lower(trim(e.order_id)), '#')) as order_norm,
    e.fbp,
    e.external_id,
    e.em,
    cast(e.received_at as date) as received_day
  from events as e
  where e.event_id is not null
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
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
  count(*) as copies,
  count(distinct s.order_norm) as orders,
  greatest(count(distinct s.fbp), count(distinct s.external_id), count(distinct s.em)) as users,
  count(distinct s.received_day) as days
from scoped as s
inner join candidates as c
  on c.pixel_id is not distinct from s.pixel_id
  and c.event_name is not distinct from s.event_name
  and c.event_id = s.event_id
group by s.pixel_id, s.event_name, s.event_id
having count(distinct s.order_norm) >= 2
  or greatest(count(distinct s.fbp), count(distinct s.external_id), count(distinct s.em)) >= 3
  or count(distinct s.received_day) >= 3
order by copies desc, s.pixel_id, s.event_name, s.event_id
