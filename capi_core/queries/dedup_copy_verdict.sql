-- One copy's dedup verdict with the facts its explanation needs (fragments/copy_verdict_facts: the kept
-- copy's channel and time among them).
-- params: $fingerprint, $occurrence
select
  e.fingerprint,
  e.occurrence,
  e.channel,
  e.pixel_id,
  e.event_name,
  e.event_id,
  e.received_at,
-- @include fragments/copy_verdict_facts
  k.event_id as kept_event_id,
  -- for a merged counted copy: the copy of the other channel it absorbed or outlived
  (
    select min(o.channel)
    from copy_verdicts as ov
    inner join events as o
      on o.fingerprint = ov.fingerprint
      and o.occurrence = ov.occurrence
    where ov.kept_fingerprint = e.fingerprint
      and ov.kept_occurrence = e.occurrence
      and ov.verdict = 'discarded'
      and o.channel <> e.channel
  ) as absorbed_channel
from events as e
inner join copy_verdicts as v
  on v.fingerprint = e.fingerprint
  and v.occurrence = e.occurrence
left join events as k
  on k.fingerprint = v.kept_fingerprint
  and k.occurrence = v.kept_occurrence
where e.fingerprint = $fingerprint
  and e.occurrence = $occurrence
