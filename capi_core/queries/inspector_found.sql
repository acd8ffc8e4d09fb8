-- The copies one event-inspector search finds, with how each was found (the first step of a search;
-- inspector_copies reads their rows).
-- params: $event_id (exact), $event_key (normalized event_id), $order_key (normalized order id or truth_id),
--   $fbp, $em (hashed email); a null parameter is not searched
--
-- A copy is found directly (its event_id, normalized event_id, normalized custom_data.order_id, fbp or
-- hashed email equals the search), or through a truth record: records whose truth_id, fbp or hashed email
-- equals the search, and records a directly found copy links to (copy_truth_links), bring every copy
-- linked to them. Normalization is canonical.normalize_truth_id's: trimmed, lowercased, leading '#' off
-- (ltrim(text, chars) is DuckDB's form).
-- Speed: the normalized id is a substring of lower(raw), so `contains(lower(raw), key)` is a necessary
-- condition; the CASE tests it first and normalizes only the few rows that pass (normalizing every
-- event_id of a 1 M-event store costs most of a second, the substring test a tenth of that).
with
direct as (
  select e.fingerprint, e.occurrence, 'event_id' as matched_on, 1 as match_rank
  from events as e
  where e.event_id = cast($event_id as varchar)
  union all
  select e.fingerprint, e.occurrence, 'event_id' as matched_on, 2 as match_rank
  from events as e
  where case
    when contains(lower(e.event_id), cast($event_key as varchar))
      then nullif(trim(ltrim(lower(trim(e.event_id)), '#')), '')
  end = cast($event_key as varchar)
  union all
  select e.fingerprint, e.occurrence, 'order_id' as matched_on, 3 as match_rank
  from events as e
  where case
    when contains(lower(e.order_id), cast($order_key as varchar))
      then nullif(trim(ltrim(lower(trim(e.order_id)), '#')), '')
  end = cast($order_key as varchar)
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
)
-- min_by is both DuckDB's and Spark's name
select fingerprint, occurrence, min_by(matched_on, match_rank) as matched_on
from (
  select fingerprint, occurrence, matched_on, match_rank from direct
  union all
  select fingerprint, occurrence, matched_on, match_rank from via_records
) as hits
group by fingerprint, occurrence
