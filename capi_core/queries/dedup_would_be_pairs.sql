-- Would-be pairs (SPEC §4 dedup health): a browser and a server copy of one conversion that the dedup
-- model did not merge, so Meta counts both. Whole store, unscoped (a pair can straddle a date filter);
-- callers scope it on the browser copy. Queries over the pairs read them as the CTE `would_be_pairs`.
-- params: none
--
-- Candidates are counted, unmerged copies with a receipt time. A pair is found by
--   user: the same event name case-insensitively and trimmed, the same fbp, external_id or em, at most
--     10 minutes apart, and no conflicting order id (both present and different after normalization);
--   order: Purchase copies carrying the same order id after normalization (custom_data.order_id or
--     event_id: trimmed, lowercased, leading '#' removed), at most 7 days apart;
--   key: the same pixel_id, event_name and event_id (necessarily in different 48 h windows), at most 7
--     days apart (further apart it is a reused id, not one conversion).
-- One-to-one: a pair is kept when each copy is the other's best candidate (order/key evidence before a
-- user match, then the smaller time difference, then fingerprints). A key value carried by more than 50
-- candidate copies of one event name (a constant or bot fbp, a shared email) is not evidence of a user.
-- browser_event_time is carried so that scoped readers filter on the browser copy without joining events.
-- Reason, first that applies: different_pixel, name_mismatch, missing_id (a side has no event_id),
-- id_mismatch (both have one and they differ), outside_window.
with
loose as (
  select
    e.fingerprint,
    e.occurrence,
    e.channel,
    e.pixel_id,
    e.event_name,
    lower(trim(e.event_name)) as name_norm,
    e.event_id,
    e.order_id,
    e.received_at,
    e.event_time,
    e.fbp,
    e.external_id,
    e.em,
    nullif(trim(ltrim(lower(trim(e.order_id)), '#')), '') as order_norm,
    nullif(trim(ltrim(lower(trim(e.event_id)), '#')), '') as event_id_norm
  from events as e
  inner join copy_verdicts as v
    on v.fingerprint = e.fingerprint
    and v.occurrence = e.occurrence
  where v.verdict = 'counted'
    and not v.merged
    and e.received_at is not null
),
browsers as (
  select
    l.fingerprint, l.occurrence, l.pixel_id, l.event_name, l.event_id, l.order_id, l.received_at, l.event_time
  from loose as l
  where l.channel = 'browser'
),
servers as (
  select
    l.fingerprint, l.occurrence, l.pixel_id, l.event_name, l.event_id, l.order_id, l.received_at
  from loose as l
  where l.channel = 'server'
),
-- one row per candidate copy and user key it carries, the key's evidence rank (3 fbp, 4 external_id,
-- 5 em) in place of its name, with the candidate copies of its event name carrying the same value: the
-- three user matches are then one join
user_keys as (
  select
    u.fingerprint,
    u.occurrence,
    u.channel,
    u.name_norm,
    u.order_norm,
    u.received_at,
    u.evidence,
    u.key_value,
    count(*) over (partition by u.evidence, u.name_norm, u.key_value) as key_copies
  from (
    select
      l.fingerprint,
      l.occurrence,
      l.channel,
      l.name_norm,
      l.order_norm,
      l.received_at,
      k.evidence,
      case k.evidence when 3 then l.fbp when 4 then l.external_id else l.em end as key_value
    from loose as l
    cross join (values (3), (4), (5)) as k (evidence)
  ) as u
  where u.key_value is not null
),
purchase_ids as (
  select l.fingerprint, l.occurrence, l.channel, l.order_norm as id_norm
  from loose as l
  where l.name_norm = 'purchase'
    and l.order_norm is not null
  union
  select l.fingerprint, l.occurrence, l.channel, l.event_id_norm
  from loose as l
  where l.name_norm = 'purchase'
    and l.event_id_norm is not null
),
-- evidence: 1 same event_id, 2 same order id, 3 fbp, 4 external_id, 5 em (1-2 outrank 3-5)
candidates as (
  select b.fingerprint as bf, b.occurrence as bo, s.fingerprint as sf, s.occurrence as so, b.evidence
  from user_keys as b
  inner join user_keys as s
    on s.evidence = b.evidence
    and s.name_norm = b.name_norm
    and s.key_value = b.key_value
  where b.channel = 'browser'
    and s.channel = 'server'
    and b.key_copies <= 50
    and s.received_at between b.received_at - interval '10 minutes' and b.received_at + interval '10 minutes'
    and (b.order_norm is null or s.order_norm is null or b.order_norm = s.order_norm)
  union all
  select bi.fingerprint, bi.occurrence, si.fingerprint, si.occurrence, 2
  from purchase_ids as bi
  inner join purchase_ids as si
    on si.id_norm = bi.id_norm
  inner join browsers as b
    on b.fingerprint = bi.fingerprint
    and b.occurrence = bi.occurrence
  inner join servers as s
    on s.fingerprint = si.fingerprint
    and s.occurrence = si.occurrence
  where bi.channel = 'browser'
    and si.channel = 'server'
    and s.received_at between b.received_at - interval '7 days' and b.received_at + interval '7 days'
  union all
  select b.fingerprint, b.occurrence, s.fingerprint, s.occurrence, 1
  from browsers as b
  inner join servers as s
    on s.pixel_id = b.pixel_id
    and s.event_name = b.event_name
    and s.event_id = b.event_id
  where s.received_at between b.received_at - interval '7 days' and b.received_at + interval '7 days'
),
best as (
  select
    c.bf, c.bo, c.sf, c.so,
    min(c.evidence) as evidence
  from candidates as c
  group by c.bf, c.bo, c.sf, c.so
),
ranked as (
  select
    p.bf, p.bo, p.sf, p.so,
    case p.evidence
      when 1 then 'event_id' when 2 then 'order_id' when 3 then 'fbp' when 4 then 'external_id' else 'em'
    end as matched_on,
    row_number() over (
      partition by p.bf, p.bo
      order by case when p.evidence <= 2 then 0 else 1 end, abs(extract(epoch from (s.received_at - b.received_at))), p.sf, p.so
    ) as browser_rank,
    row_number() over (
      partition by p.sf, p.so
      order by case when p.evidence <= 2 then 0 else 1 end, abs(extract(epoch from (s.received_at - b.received_at))), p.bf, p.bo
    ) as server_rank,
    b.pixel_id as browser_pixel_id,
    s.pixel_id as server_pixel_id,
    b.event_name as browser_event_name,
    s.event_name as server_event_name,
    b.event_id as browser_event_id,
    s.event_id as server_event_id,
    b.order_id as browser_order_id,
    s.order_id as server_order_id,
    b.received_at as browser_received_at,
    s.received_at as server_received_at,
    b.event_time as browser_event_time
  from best as p
  inner join browsers as b
    on b.fingerprint = p.bf
    and b.occurrence = p.bo
  inner join servers as s
    on s.fingerprint = p.sf
    and s.occurrence = p.so
)
select
  r.bf as browser_fingerprint,
  r.bo as browser_occurrence,
  r.sf as server_fingerprint,
  r.so as server_occurrence,
  r.browser_pixel_id,
  r.server_pixel_id,
  r.browser_event_name,
  r.server_event_name,
  r.browser_event_id,
  r.server_event_id,
  r.browser_order_id,
  r.server_order_id,
  r.browser_received_at,
  r.server_received_at,
  r.matched_on,
  r.browser_event_time,
  case
    when r.browser_pixel_id is distinct from r.server_pixel_id then 'different_pixel'
    when r.browser_event_name is distinct from r.server_event_name then 'name_mismatch'
    when r.browser_event_id is null or r.server_event_id is null then 'missing_id'
    when r.browser_event_id <> r.server_event_id then 'id_mismatch'
    else 'outside_window'
  end as reason
from ranked as r
where r.browser_rank = 1
  and r.server_rank = 1
