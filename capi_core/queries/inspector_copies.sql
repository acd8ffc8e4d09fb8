-- The rows of the copies one event-inspector search found (inspector_found), with their dedup facts,
-- earliest receipt first.
-- params: $fingerprints (varchar[]: fingerprints of the found copies), $refs (varchar[]: their
--   'fingerprint:occurrence'), $limit
--
-- Speed: every large table is reached through a one-column `fingerprint in (...)` semi-join, which DuckDB
-- pushes into the table scan (a Bloom filter), so only the found rows are read; a join on (fingerprint,
-- occurrence) reads the whole table. unnest of a bound list is DuckDB's form (Spark: explode).
-- The columns before e.* are the facts dedup.copy_verdict's explanation reads (fragments/copy_verdict_facts,
-- shared with dedup_copy_verdict.sql); total_copies counts every found copy (the page lists at most $limit).
with
wanted as (
  select unnest(cast($fingerprints as varchar[])) as fingerprint
),
found as (
  select e.*
  from events as e
  where e.fingerprint in (select fingerprint from wanted)
    and list_contains(cast($refs as varchar[]), e.fingerprint || ':' || cast(e.occurrence as varchar))
),
verdicts as (
  select v.*
  from copy_verdicts as v
  where v.fingerprint in (select fingerprint from wanted)
),
kept as (
  select k.fingerprint, k.occurrence, k.channel, k.received_at
  from events as k
  where k.fingerprint in (select kept_fingerprint from verdicts)
),
links as (
  select l.fingerprint, l.occurrence, min(l.truth_id) as truth_id
  from copy_truth_links as l
  where l.fingerprint in (select fingerprint from wanted)
  group by l.fingerprint, l.occurrence
),
absorbed_copies as (
  -- copies a found copy absorbed or outlived (discarded, kept = the found copy)
  select ov.fingerprint, ov.occurrence, ov.kept_fingerprint, ov.kept_occurrence
  from copy_verdicts as ov
  where ov.kept_fingerprint in (select fingerprint from wanted)
    and ov.verdict = 'discarded'
),
absorbed_channels as (
  select o.fingerprint, o.occurrence, o.channel
  from events as o
  where o.fingerprint in (select fingerprint from absorbed_copies)
),
absorbed as (
  -- for a merged counted copy: the other channel's copy it absorbed or outlived
  select f.fingerprint, f.occurrence, min(o.channel) as absorbed_channel
  from found as f
  inner join absorbed_copies as ov
    on ov.kept_fingerprint = f.fingerprint
    and ov.kept_occurrence = f.occurrence
  inner join absorbed_channels as o
    on o.fingerprint = ov.fingerprint
    and o.occurrence = ov.occurrence
  where o.channel <> f.channel
  group by f.fingerprint, f.occurrence
)
select
  l.truth_id,
-- @include fragments/copy_verdict_facts
  a.absorbed_channel,
  count(*) over () as total_copies,
  -- every stored column: the inspector shows the copy's payload as stored
  e.*
from found as e
left join verdicts as v
  on v.fingerprint = e.fingerprint
  and v.occurrence = e.occurrence
left join kept as k
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
