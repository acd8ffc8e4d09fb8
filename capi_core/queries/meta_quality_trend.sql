-- Meta's own Dataset Quality figures per snapshot and web event (meta_quality_snapshots, meta_quality_events), oldest snapshot first.
-- params: $date_from, $date_to (on the snapshot's fetched_at), $pixel_id, $event_names
with
-- @include fragments/meta_quality_snapshots
select
  s.snapshot_id, s.fetched_at, s.pixel_id, s.source,
  e.event_name, e.emq, e.event_coverage, e.coverage_goal, e.upload_frequency, e.acr, e.diagnostics
from snapshots s
join meta_quality_events e
  on e.snapshot_id = s.snapshot_id
where cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name)
order by s.fetched_at, s.snapshot_id, e.event_name
