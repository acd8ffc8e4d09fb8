-- Dedup keys on both channels whose copies fall in different 48 h windows with a one-channel window
-- counted on its own (Meta counts the conversion again): the counted copies per pixel, event name and
-- UTC day of event_time, with their keys' event ids. No scope: a scope's figures are the sums over the
-- days, pixel and names it covers (capi_core.metrics.by_day), so this runs once per data version.
-- DuckDB-only: list() and list_slice() aggregate the examples (standard SQL has array_agg; Spark
-- collect_list / slice); each day keeps its 5 smallest event ids, as many as a finding shows.
-- params: none
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
  cast(c.event_time as date) as day,
  count(*) as copies,
  list_slice(list(distinct k.event_id order by k.event_id), 1, 5) as examples
from copies as c
inner join keys as k
  on k.dedup_key = c.dedup_key
where k.channels = 2
  and k.windows > 1
  and c.verdict = 'counted'
  and not c.merged
  and not c.same_channel_repeat
group by c.pixel_id, c.event_name, cast(c.event_time as date)
