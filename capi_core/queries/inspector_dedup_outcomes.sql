-- Copies in scope that Meta counts on one channel only, per pixel and event name: counted, not merged
-- with a copy of the other channel, and not one half of a would-be pair (derived table would_be_pairs).
-- params: $date_from, $date_to, $pixel_id, $event_names
with
paired as (
  select browser_fingerprint as fingerprint, browser_occurrence as occurrence
  from would_be_pairs
  union
  select server_fingerprint as fingerprint, server_occurrence as occurrence
  from would_be_pairs
)
select
  e.pixel_id,
  e.event_name,
  sum(case when e.channel = 'browser' then 1 else 0 end) as browser_only,
  sum(case when e.channel = 'server' then 1 else 0 end) as server_only
from events as e
inner join copy_verdicts as v
  on v.fingerprint = e.fingerprint
  and v.occurrence = e.occurrence
left join paired as p
  on p.fingerprint = e.fingerprint
  and p.occurrence = e.occurrence
where v.verdict = 'counted'
  and not coalesce(v.merged, false)
  and p.fingerprint is null
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
group by e.pixel_id, e.event_name
order by e.pixel_id, e.event_name
