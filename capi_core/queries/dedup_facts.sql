-- Dedup facts per pixel, event name and channel in scope, in one pass over the copies and their verdicts
-- (copy_verdicts): the outcome counts behind dedup_by_event and the counts and examples that
-- DEDUP_MISSING_EVENT_ID, DEDUP_SAME_CHANNEL_REPEAT and COVERAGE_BELOW_GOAL report.
-- DuckDB-only: list() and min(x, n) aggregate the examples (standard SQL has array_agg; Spark
-- collect_list / sort_array). min(x, 5): the 5 smallest values, as many examples as a finding keeps.
-- params: $date_from, $date_to, $pixel_id, $event_names
with
-- every server key of the store (coverage looks for a twin whatever its date): one distinct pass and a
-- hash join instead of a lookup per browser copy
server_keys as (
  select distinct s.pixel_id, s.event_name, s.event_id
  from events as s
  where s.channel = 'server'
    and s.pixel_id is not null
    and s.event_name is not null
    and s.event_id is not null
),
scoped as (
  select
    e.pixel_id,
    e.event_name,
    e.channel,
    e.event_id,
    e.fingerprint,
    v.verdict,
    v.reason,
    v.merged,
    v.same_channel_repeat,
    -- Meta's event coverage: the browser copy has a server copy with the same pixel, name and event_id
    e.channel = 'browser' and k.event_id is not null as covered
  from events as e
  inner join copy_verdicts as v
    on v.fingerprint = e.fingerprint
    and v.occurrence = e.occurrence
  left join server_keys as k
    on e.channel = 'browser'
    and k.pixel_id = e.pixel_id
    and k.event_name = e.event_name
    and k.event_id = e.event_id
  where true
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
)
select
  s.pixel_id,
  s.event_name,
  s.channel,
  count(*) as copies,
  sum(case when s.merged and s.verdict = 'counted' then 1 else 0 end) as merged_pairs,
  sum(case when s.channel = 'browser' and s.reason = 'duplicate_of_server' then 1 else 0 end)
    as browser_deduplicated,
  sum(
    case
      when s.channel = 'server' and s.reason in ('duplicate_of_browser', 'fbp_match', 'external_id_match')
        then 1
      else 0
    end
  ) as server_deduplicated,
  sum(case when s.covered then 1 else 0 end) as covered,
  sum(case when s.verdict = 'counted' then 1 else 0 end) as counted,
  sum(case when s.event_id is null then 1 else 0 end) as missing_id,
  min(left(s.fingerprint, 12), 5) filter (where s.event_id is null) as missing_id_examples,
  list(distinct s.event_id order by s.event_id) filter (
    where s.channel = 'browser' and not s.covered and s.event_id is not null
  ) as uncovered_examples,
  sum(case when s.same_channel_repeat then 1 else 0 end) as repeats,
  list(distinct s.event_id order by s.event_id) filter (where s.same_channel_repeat) as repeat_examples
from scoped as s
group by s.pixel_id, s.event_name, s.channel
order by s.pixel_id, s.event_name, s.channel
