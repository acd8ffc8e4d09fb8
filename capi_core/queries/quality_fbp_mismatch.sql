-- Merged pairs (copy_verdicts: a discarded copy merged into the kept copy of the other channel) per
-- pixel x event_name of the kept copy, and those whose fbp differs between the two channels.
-- params: $date_from, $date_to, $pixel_id, $event_names
with pairs as (
  select
    k.pixel_id,
    k.event_name,
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
  count(*) as pairs,
  count(*) filter (where p.fbp_differs) as mismatched,
  min(p.example_id, 5) filter (where p.fbp_differs) as examples  -- DuckDB: the 5 smallest values
from pairs p
group by
  p.pixel_id,
  p.event_name
