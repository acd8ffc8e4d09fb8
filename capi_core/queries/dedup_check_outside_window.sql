-- Dedup keys on both channels whose copies fall in different 48 h windows with a one-channel window
-- counted on its own (Meta counts the conversion again), in scope.
-- DuckDB-only: list() aggregates the examples (standard SQL has array_agg; Spark collect_list).
-- params: $date_from, $date_to, $pixel_id, $event_names
with
keys as (
  select
    v.dedup_key,
    min(e.pixel_id) as pixel_id,
    min(e.event_name) as event_name,
    min(e.event_id) as event_id,
    count(distinct e.channel) as channels,
    count(distinct v.window_no) as windows
  from events as e
  inner join copy_verdicts as v
    on v.fingerprint = e.fingerprint
    and v.occurrence = e.occurrence
  where v.dedup_key is not null
    and v.window_no is not null
  group by v.dedup_key
)
select
  e.pixel_id,
  e.event_name,
  count(*) as copies,
  list(distinct k.event_id order by k.event_id) as examples
from events as e
inner join copy_verdicts as v
  on v.fingerprint = e.fingerprint
  and v.occurrence = e.occurrence
inner join keys as k
  on k.dedup_key = v.dedup_key
where k.channels = 2
  and k.windows > 1
  and v.verdict = 'counted'
  and not v.merged
  and not v.same_channel_repeat
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
group by e.pixel_id, e.event_name
order by e.pixel_id, e.event_name
