-- Every copy the event inspector shows for one search, with its dedup facts, earliest receipt first.
-- params: $event_id (exact), $event_key (normalized event_id), $order_key (normalized order id or truth_id),
--   $fbp, $em (hashed email); a null parameter is not searched; $limit
--
-- A copy is found directly (its event_id, normalized event_id, normalized custom_data.order_id, fbp or
-- hashed email equals the search), or through a truth record: records whose truth_id, fbp or hashed email
-- equals the search, and records a directly found copy links to (copy_truth_links), bring every copy
-- linked to them. Normalization is canonical.normalize_truth_id's: trimmed, lowercased, leading '#' off
-- (ltrim(text, chars) is DuckDB's form).
-- The columns after e.* are the facts dedup.copy_verdict's explanation reads.
with
direct as (
  select e.fingerprint, e.occurrence, 'event_id' as matched_on, 1 as match_rank
  from events as e
  where e.event_id = cast($event_id as varchar)
  union all
  select e.fingerprint, e.occurrence, 'event_id' as matched_on, 2 as match_rank
  from events as e
  where nullif(trim(ltrim(lower(trim(e.event_id)), '#')), '') = cast($event_key as varchar)
  union all
  select e.fingerprint, e.occurrence, 'order_id' as matched_on, 3 as match_rank
  from events as e
  where nullif(trim(ltrim(lower(trim(e.order_id)), '#')), '') = cast($order_key as varchar)
  union all
  select e.fingerprint, e.occurrence, 'fbp' as matched_on, 4 as match_rank
  from events as e
  where e.fbp = cast($fbp as varchar)
  union all
  select e.fingerprint, e.occurrence, 'email' as matched_on, 5 as match_rank
  from events as e
  where e.em = cast($em as varchar)
),
records as (
  select t.kind, t.truth_id
  from truth_current as t
  where t.truth_id = cast($order_key as varchar)
    or t.fbp = cast($fbp as varchar)
    or t.em = cast($em as varchar)
  union
  select l.kind, l.truth_id
  from copy_truth_links as l
  inner join direct as d
    on d.fingerprint = l.fingerprint
    and d.occurrence = l.occurrence
  where l.truth_id is not null
),
via_records as (
  select l.fingerprint, l.occurrence, 'linked_record' as matched_on, 6 as match_rank
  from copy_truth_links as l
  inner join records as r
    on r.kind = l.kind
    and r.truth_id = l.truth_id
),
found as (
  -- min_by is both DuckDB's and Spark's name
  select fingerprint, occurrence, min_by(matched_on, match_rank) as matched_on
  from (
    select fingerprint, occurrence, matched_on, match_rank from direct
    union all
    select fingerprint, occurrence, matched_on, match_rank from via_records
  ) as hits
  group by fingerprint, occurrence
),
links as (
  select l.fingerprint, l.occurrence, min(l.truth_id) as truth_id
  from copy_truth_links as l
  inner join found as f
    on f.fingerprint = l.fingerprint
    and f.occurrence = l.occurrence
  group by l.fingerprint, l.occurrence
),
absorbed as (
  -- for a merged counted copy: the other channel's copy it absorbed or outlived
  select f.fingerprint, f.occurrence, min(o.channel) as absorbed_channel
  from found as f
  inner join events as e
    on e.fingerprint = f.fingerprint
    and e.occurrence = f.occurrence
  inner join copy_verdicts as ov
    on ov.kept_fingerprint = f.fingerprint
    and ov.kept_occurrence = f.occurrence
    and ov.verdict = 'discarded'
  inner join events as o
    on o.fingerprint = ov.fingerprint
    and o.occurrence = ov.occurrence
  where o.channel <> e.channel
  group by f.fingerprint, f.occurrence
)
select
  f.matched_on,
  l.truth_id,
  v.dedup_key,
  v.window_no,
  v.verdict,
  v.reason,
  v.merged,
  v.kept_fingerprint,
  v.kept_occurrence,
  v.same_channel_repeat,
  k.channel as kept_channel,
  k.received_at as kept_received_at,
  a.absorbed_channel,
  count(*) over () as total_copies,
  -- every stored column: the inspector shows the copy's payload as stored
  e.*
from found as f
inner join events as e
  on e.fingerprint = f.fingerprint
  and e.occurrence = f.occurrence
left join copy_verdicts as v
  on v.fingerprint = e.fingerprint
  and v.occurrence = e.occurrence
left join events as k
  on k.fingerprint = v.kept_fingerprint
  and k.occurrence = v.kept_occurrence
left join links as l
  on l.fingerprint = e.fingerprint
  and l.occurrence = e.occurrence
left join absorbed as a
  on a.fingerprint = e.fingerprint
  and a.occurrence = e.occurrence
order by e.received_at nulls last, e.channel, e.fingerprint, e.occurrence
limit $limit
