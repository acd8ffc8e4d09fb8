-- The first and last day of the data in scope that the weekly drift can stand on: UTC days of event
-- copies (by event_time) holding at least $min_share of the median day's copies, so a handful of stray
-- timestamps (future or millisecond event_time) do not decide the latest complete week. Backend records
-- alone do not make a week: the drift is about what was sent to Meta, and a CRM export reaching back
-- years would otherwise list every week since. params: $date_from, $date_to, $pixel_id, $event_names,
-- $min_share
with
volumes as (
  select
    cast(e.event_time as date) as day,
    count(*) as rows_in_day
  from events as e
  where e.event_time is not null
    and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
    and (cast($date_to as timestamp) is null or e.event_time < $date_to)
    and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
    and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
  group by cast(e.event_time as date)
),
days as (
  select
    v.day,
    sum(v.rows_in_day) as rows_in_day
  from volumes as v
  group by v.day
),
typical as (
  select percentile_cont(0.5) within group (order by d.rows_in_day) as median_rows
  from days as d
)
select
  min(d.day) as first_day,
  max(d.day) as last_day
from days as d
cross join typical as t
where d.rows_in_day >= $min_share * t.median_rows
