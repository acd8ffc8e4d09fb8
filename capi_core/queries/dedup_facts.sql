-- Dedup facts per pixel, event name, channel and UTC day of event_time, in one pass over every copy and
-- its verdict (copy_verdicts): the outcome counts behind dedup_by_event and the counts and examples that
-- DEDUP_MISSING_EVENT_ID, DEDUP_SAME_CHANNEL_REPEAT and COVERAGE_BELOW_GOAL report. No scope: a scope's
-- figures are the sums over the days, pixel and names it covers (capi_core.metrics.by_day).
-- Event coverage is counted per unique browser event (fragments/browser_events.sql: Meta's definition),
-- on the browser row of the event's first day: browser_events, covered (any dedup key), id_covered
-- (event_id alone), uncovered_examples (event ids of uncovered events).
-- DuckDB-only: min(x, n) aggregates the examples, the n smallest values (min(distinct x, n): distinct
-- ones); standard SQL has no bounded form (Spark: slice(sort_array(collect_list / collect_set))). Each
-- day keeps its 5 smallest examples, as many as a finding shows: the smallest of their union are the
-- scope's smallest.
-- params: none
with
-- @include fragments/browser_events
event_days as (
  select
    b.pixel_id,
    b.event_name,
    cast(b.first_event_time as date) as day,
    count(*) as browser_events,
    sum(b.covered) as covered,
    sum(b.id_covered) as id_covered,
    min(distinct b.event_id, 5) filter (where b.covered = 0 and b.event_id is not null) as uncovered_examples
  from browser_events as b
  group by b.pixel_id, b.event_name, cast(b.first_event_time as date)
),
copy_days as (
  select
    e.pixel_id,
    e.event_name,
    e.channel,
    cast(e.event_time as date) as day,
    count(*) as copies,
    sum(case when v.merged and v.verdict = 'counted' then 1 else 0 end) as merged_pairs,
    sum(case when e.channel = 'browser' and v.reason = 'duplicate_of_server' then 1 else 0 end)
      as browser_deduplicated,
    sum(
      case
        when e.channel = 'server' and v.reason in ('duplicate_of_browser', 'fbp_match', 'external_id_match')
          then 1
        else 0
      end
    ) as server_deduplicated,
    sum(case when v.verdict = 'counted' then 1 else 0 end) as counted,
    sum(case when e.event_id is null then 1 else 0 end) as missing_id,
    min(left(e.fingerprint, 12), 5) filter (where e.event_id is null) as missing_id_examples,
    sum(case when v.same_channel_repeat then 1 else 0 end) as repeats,
    min(distinct e.event_id, 5) filter (where v.same_channel_repeat) as repeat_examples
  from events as e
  inner join copy_verdicts as v
    on v.fingerprint = e.fingerprint
    and v.occurrence = e.occurrence
  group by e.pixel_id, e.event_name, e.channel, cast(e.event_time as date)
)
-- each copy day, with the coverage of the browser events that start on it (browser rows only)
select
  c.*,
  coalesce(d.browser_events, 0) as browser_events,
  coalesce(d.covered, 0) as covered,
  coalesce(d.id_covered, 0) as id_covered,
  d.uncovered_examples
from copy_days as c
-- every event's first day holds one of its browser copies, so the browser row of that day exists
left join event_days as d
  on c.channel = 'browser'
  and d.pixel_id is not distinct from c.pixel_id
  and d.event_name is not distinct from c.event_name
  and d.day is not distinct from c.day
