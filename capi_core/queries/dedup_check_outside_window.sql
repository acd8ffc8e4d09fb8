-- Dedup keys on both channels whose copies fall in different 48 h windows with a one-channel window
-- counted on its own (Meta counts the conversion again), in scope.
-- DuckDB-only: list() aggregates the examples (standard SQL has array_agg; Spark collect_list).
-- params: $date_from, $date_to, $pixel_id, $event_names
-- Windows are numbered from 1 by the key's first copy, so a key spans several windows only if one of its
-- copies has window_no >= 2: that few keys are found without a join, and only their copies are read.
with
split as (
  select distinct v.dedup_key
  from copy_verdicts as v
  where v.dedup_key is not null
    and v.window_no >= 2
),
split_copies as (
  select v.fingerprint, v.occurrence, v.dedup_key, v.window_no, v.verdict, v.merged, v.same_channel_repeat
  from copy_verdicts as v
  inner join split as k
    on k.dedup_key = v.dedup_key
  where v.window_no is not null
),
copies as (
  select
    c.dedup_key,
    c.window_no,
    c.verdict,
    c.merged,
    c.same_channel_repeat,
    e.pixel_id,
    e.event_name,
    e.event_id,
    e.channel,
    e.event_time
  from split_copies as c
  inner join events as e
    on e.fingerprint = c.fingerprint
    and e.occurrence = c.occurrence
),
keys as (
  select
    c.dedup_key,
    min(c.event_id) as event_id,
    count(distinct c.channel) as channels,
    count(distinct c.window_no) as windows
  from copies as c
  group by c.dedup_key
)
select
  c.pixel_id,
  c.event_name,
  count(*) as copies,
  list(distinct k.event_id order by k.event_id) as examples
from copies as c
inner join keys as k
  on k.dedup_key = c.dedup_key
where k.channels = 2
  and k.windows > 1
  and c.verdict = 'counted'
  and not c.merged
  and not c.same_channel_repeat
  and (cast($date_from as timestamp) is null or c.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or c.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or c.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, c.event_name))
group by c.pixel_id, c.event_name
order by c.pixel_id, c.event_name
