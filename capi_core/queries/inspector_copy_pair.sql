-- Two copies' stored fields and dedup verdicts, for the side-by-side pair view.
-- params: $a_fingerprint, $a_occurrence, $b_fingerprint, $b_occurrence
select
  case when e.fingerprint = $a_fingerprint and e.occurrence = $a_occurrence then 'a' else 'b' end as side,
  v.verdict,
  v.reason,
  -- every stored column: the pair view compares the copies field by field
  e.*
from events as e
left join copy_verdicts as v
  on v.fingerprint = e.fingerprint
  and v.occurrence = e.occurrence
where (e.fingerprint = $a_fingerprint and e.occurrence = $a_occurrence)
  or (e.fingerprint = $b_fingerprint and e.occurrence = $b_occurrence)
