-- Meta's Dataset Quality snapshots in scope, as CTE `snapshots` (meta_quality_snapshots rows fetched in
-- the date window, of the pixel); included by meta_quality_trend.sql and meta_quality_dedupe.sql, so
-- both answer for the same snapshots. Ends without a comma. The event-name filter stays in each includer:
-- it applies to that file's per-event rows, not to the snapshot.
-- params: $date_from, $date_to (on the snapshot's fetched_at), $pixel_id
snapshots as (
  select s.*
  from meta_quality_snapshots s
  where (cast($date_from as timestamp) is null or s.fetched_at >= $date_from)
    and (cast($date_to as timestamp) is null or s.fetched_at < $date_to)
    and (cast($pixel_id as varchar) is null or s.pixel_id = $pixel_id)
)
