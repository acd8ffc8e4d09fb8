-- Truth vs estimated Meta per period (continues recon_base.sql): eligible records by created_at, counted copies by event_time, per $grain ('day' | 'week').
-- params: those of recon_base.sql, $grain
,
truth_periods as (
  select
    date_trunc($grain, created_at) as period,
    count(*) as truth_count,
    sum(truth_value) as truth_value,
    sum(case when copies > 0 then 1 else 0 end) as reached
  from records
  where eligible
    and created_at is not null
  group by date_trunc($grain, created_at)
),
meta_periods as (
  select
    date_trunc($grain, event_time) as period,
    count(*) as meta_count,
    sum(value) as meta_value
  from copies
  where counted
    and event_time is not null
  group by date_trunc($grain, event_time)
)
select
  coalesce(t.period, m.period) as period,
  coalesce(t.truth_count, 0) as truth_count,
  coalesce(t.truth_value, 0) as truth_value,
  coalesce(t.reached, 0) as reached,
  coalesce(m.meta_count, 0) as meta_count,
  coalesce(m.meta_value, 0) as meta_value
from truth_periods t
full outer join meta_periods m
  on m.period = t.period
order by coalesce(t.period, m.period)
