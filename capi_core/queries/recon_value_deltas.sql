-- Distribution of Meta's booked value minus the backend value per record that reached Meta (a counted copy) with both values known, in $bins equal-width bins from the smallest to the largest delta (over fragments/recon_base.sql).
-- params: those of fragments/recon_base.sql, $bins
-- Only the bins come back (at most $bins rows), never the records: the page draws them as bars.
with
-- @include fragments/recon_base
,
deltas as (
  select r.meta_value - r.truth_value as delta
  from records as r
  where r.meta_value is not null
    and r.truth_value is not null
    and r.counted_copies > 0
),
bounds as (
  select min(d.delta) as low, max(d.delta) as high
  from deltas as d
),
binned as (
  select
    case
      when b.high = b.low then 0
      else least(cast(floor((d.delta - b.low) / (b.high - b.low) * $bins) as integer), $bins - 1)
    end as bin,
    d.delta,
    b.low,
    b.high
  from deltas as d
  cross join bounds as b
)
select
  x.bin,
  min(x.low) as low,
  min(x.high) as high,
  count(*) as records,
  sum(case when x.delta = 0 then 1 else 0 end) as exact
from binned as x
group by x.bin
order by x.bin
