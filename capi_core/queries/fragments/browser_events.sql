-- Meta's event coverage per unique browser event, as CTEs `coverage_server_keys` and `browser_events`
-- (browser_events: pixel_id, event_name, first_event_time, event_id, covered, id_covered); included by
-- dedup_facts.sql and drift_daily.sql, so the report, the COVERAGE_BELOW_GOAL check and the weekly drift
-- share one definition.
--
-- Meta (Dataset Quality API / Events Manager, reference §5): event coverage is "the 7-day average percent
-- of Pixel events that are covered by the Conversions API and share deduplication keys with events from
-- the Conversions API", the keys being event_id, external_id and fbp
-- (https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api).
-- A browser event is covered (`covered`) when a server copy of the same pixel and exact event name that
-- Meta accepted (no logged Graph error: a rejected copy never reached Meta, as in dedup_model.sql) carries
-- the same event_id, external_id or fbp, whatever its date (Meta names no time limit); `id_covered` is the
-- stricter event_id-only test (our event_id_coverage).
--
-- Unique browser events (Meta's API: "compared to unique browser events from the Meta Pixel"; Meta does
-- not say what makes two browser events one): browser copies of one pixel, name and event_id from one
-- browser (fbp) inside one of the dedup model's 48 h windows (copy_verdicts' dedup_key, window_no) are
-- one event, e.g. a reloaded thank-you page; an id reused by other browsers (`undefined`) stays one event
-- per browser; a copy without event_id (or without a receipt time, so in no window) is an event of its
-- own. An event is dated by its first event_time.
coverage_server_keys as (
  select s.pixel_id, s.event_name, 'event_id' as key_name, s.event_id as key_value
  from events as s
  where s.channel = 'server'
    and s.response_error_code is null
    and s.pixel_id is not null
    and s.event_name is not null
    and s.event_id is not null
  union
  select s.pixel_id, s.event_name, 'external_id' as key_name, s.external_id as key_value
  from events as s
  where s.channel = 'server'
    and s.response_error_code is null
    and s.pixel_id is not null
    and s.event_name is not null
    and s.external_id is not null
  union
  select s.pixel_id, s.event_name, 'fbp' as key_name, s.fbp as key_value
  from events as s
  where s.channel = 'server'
    and s.response_error_code is null
    and s.pixel_id is not null
    and s.event_name is not null
    and s.fbp is not null
),
browser_copies as (
  select
    e.pixel_id,
    e.event_name,
    e.event_id,
    e.fbp,
    e.event_time,
    e.fingerprint,
    e.occurrence,
    v.dedup_key,
    v.window_no,
    i.key_value is not null as id_covered,
    i.key_value is not null or x.key_value is not null or f.key_value is not null as covered
  from events as e
  inner join copy_verdicts as v
    on v.fingerprint = e.fingerprint
    and v.occurrence = e.occurrence
  left join coverage_server_keys as i
    on i.key_name = 'event_id'
    and i.pixel_id = e.pixel_id
    and i.event_name = e.event_name
    and i.key_value = e.event_id
  left join coverage_server_keys as x
    on x.key_name = 'external_id'
    and x.pixel_id = e.pixel_id
    and x.event_name = e.event_name
    and x.key_value = e.external_id
  left join coverage_server_keys as f
    on f.key_name = 'fbp'
    and f.pixel_id = e.pixel_id
    and f.event_name = e.event_name
    and f.key_value = e.fbp
  where e.channel = 'browser'
),
browser_events as (
  select
    b.pixel_id,
    b.event_name,
    min(b.event_time) as first_event_time,
    min(b.event_id) as event_id,
    max(case when b.covered then 1 else 0 end) as covered,
    max(case when b.id_covered then 1 else 0 end) as id_covered
  from browser_copies as b
  group by
    b.pixel_id,
    b.event_name,
    b.dedup_key,
    b.window_no,
    b.fbp,
    case when b.window_no is null then b.fingerprint end,
    case when b.window_no is null then b.occurrence end
),
