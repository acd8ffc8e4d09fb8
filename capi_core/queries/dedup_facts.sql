-- Dedup facts per pixel, event name, channel and UTC day of event_time, in one pass over every copy and
-- its verdict (copy_verdicts): the outcome counts behind dedup_by_event and the counts and examples that
-- DEDUP_MISSING_EVENT_ID, DEDUP_SAME_CHANNEL_REPEAT and COVERAGE_BELOW_GOAL report. No scope: a scope's
-- figures are the sums over the days, pixel and names it covers (capi_core.metrics.by_day).
-- DuckDB-only: min(x, n) aggregates the examples, the n smallest values (min(distinct x, n): distinct
-- ones); standard SQL has no bounded form (Spark: slice(sort_array(collect_list / collect_set))). Each
-- day keeps its 5 smallest examples, as many as a finding shows: the smallest of their union are the
-- scope's smallest.
-- params: none
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
copies as (
  select
    e.pixel_id,
    e.event_name,
    e.channel,
    cast(e.event_time as date) as day,
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
)
select
  s.pixel_id,
  s.event_name,
  s.channel,
  s.day,
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
  min(distinct s.event_id, 5) filter (
    where s.channel = 'browser' and not s.covered and s.event_id is not null
  ) as uncovered_examples,
  sum(case when s.same_channel_repeat then 1 else 0 end) as repeats,
  min(distinct s.event_id, 5) filter (where s.same_channel_repeat) as repeat_examples
from copies as s
group by s.pixel_id, s.event_name, s.channel, s.day
