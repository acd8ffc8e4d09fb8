-- Merged pairs (copy_verdicts: a discarded copy merged into the kept copy of the other channel) per
-- pixel x event_name x UTC day of event_time of the kept copy, and those whose fbp differs between the
-- two channels. Run over the whole store (every scope parameter null): a scope's figures are the sums
-- over the days, pixel and names it covers (capi_core.metrics.by_day), so this runs once per data version.
-- params: $date_from, $date_to, $pixel_id, $event_names (of copy_checks; null)
with
-- @include fragments/copy_checks
,
pairs as (
  select
    k.pixel_id,
    k.event_name,
    cast(k.event_time as date) as day,
    k.example_id,
    k.fbp_ok and d.fbp_check = 'valid' and d.fbp <> k.fbp as fbp_differs
  from copy_verdicts v
  join events d
    on d.fingerprint = v.fingerprint
    and d.occurrence = v.occurrence
  join copy_checks k
    on k.fingerprint = v.kept_fingerprint
    and k.occurrence = v.kept_occurrence
  where v.verdict = 'discarded'
    and v.merged
    and d.channel <> k.channel
)
select
  p.pixel_id,
  p.event_name,
  p.day,
  count(*) as pairs,
  count(*) filter (where p.fbp_differs) as mismatched,
  min(p.example_id, 5) filter (where p.fbp_differs) as examples  -- DuckDB: the 5 smallest values
from pairs p
group by
  p.pixel_id,
  p.event_name,
  p.day
