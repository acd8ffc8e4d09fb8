-- Meta's dedup-key feedback per snapshot, web event and key (meta_quality_dedupe_keys), same filters as meta_quality_trend.sql.
-- params: $date_from, $date_to (on the snapshot's fetched_at), $pixel_id, $event_names
with
-- @include fragments/meta_quality_snapshots
select
  s.snapshot_id,
  k.event_name, k.dedupe_key, k.browser_share, k.server_share, k.browser_coverage
from snapshots s
join meta_quality_dedupe_keys k
  on k.snapshot_id = s.snapshot_id
where cast($event_names as varchar[]) is null or list_contains($event_names, k.event_name)
order by s.snapshot_id, k.event_name, k.dedupe_key
