-- Truth vs estimated Meta per period and currency (over fragments/recon_base.sql): eligible records by created_at, counted copies by event_time, per $grain ('day' | 'week') and currency code (trimmed, upper-cased; null when none is given).
-- params: those of fragments/recon_base.sql, $grain
--
-- One row per period and currency, so no sum adds two currencies: reconcile.py adds the counts of a
-- period and only the values it may (the headline currency's, or those converted with the store's rate).
with
-- @include fragments/recon_base
,
truth_periods as (
  select
    date_trunc($grain, created_at) as period,
    nullif(upper(trim(currency)), '') as currency,
    count(*) as truth_count,
    sum(truth_value) as truth_value,
    sum(case when copies > 0 then 1 else 0 end) as reached
  from records
  where eligible
    and created_at is not null
  group by date_trunc($grain, created_at), nullif(upper(trim(currency)), '')
),
meta_periods as (
  select
    date_trunc($grain, event_time) as period,
    nullif(upper(trim(currency)), '') as currency,
    count(*) as meta_count,
    sum(value) as meta_value
  from copies
  where counted
    and event_time is not null
  group by date_trunc($grain, event_time), nullif(upper(trim(currency)), '')
)
select
  coalesce(t.period, m.period) as period,
  coalesce(t.currency, m.currency) as currency,
  coalesce(t.truth_count, 0) as truth_count,
  coalesce(t.truth_value, 0) as truth_value,
  coalesce(t.reached, 0) as reached,
  coalesce(m.meta_count, 0) as meta_count,
  coalesce(m.meta_value, 0) as meta_value
from truth_periods t
full outer join meta_periods m
  on m.period = t.period
  and coalesce(m.currency, '') = coalesce(t.currency, '')
order by coalesce(t.period, m.period), coalesce(t.currency, m.currency)
