-- Truth and estimated Meta values per currency (over fragments/recon_base.sql): eligible records and counted copies in scope, grouped by currency code (trimmed, upper-cased; null when none is given), so no sum ever adds two currencies.
-- params: those of fragments/recon_base.sql
--
-- reconcile.py decides which currency the headline speaks in and which others it may convert (only with a
-- rate the store was given); the other currencies are reported beside it, never added.
with
-- @include fragments/recon_base
,
sides as (
  select
    nullif(upper(trim(r.currency)), '') as currency,
    1 as truth_count,
    r.truth_value,
    0 as meta_count,
    cast(null as double) as meta_value
  from records r
  where r.eligible
  union all
  select
    nullif(upper(trim(c.currency)), '') as currency,
    0 as truth_count,
    cast(null as double) as truth_value,
    1 as meta_count,
    c.value as meta_value
  from copies c
  where c.counted
)
select
  s.currency,
  sum(s.truth_count) as truth_count,
  coalesce(sum(s.truth_value), 0) as truth_value,
  sum(s.meta_count) as meta_count,
  coalesce(sum(s.meta_value), 0) as meta_value
from sides s
group by s.currency
order by s.currency
