-- Truth records the event inspector shows for one search, with their reconciliation verdict, oldest first.
-- params: $order_key (normalized truth_id), $fbp, $em (hashed email): null means not searched;
--   $truth_ids (varchar[]: records the found copies link to), $limit
select
  r.kind,
  r.truth_id,
  r.raw_id,
  r.created_at,
  r.paid_at,
  r.status,
  r.value,
  r.currency,
  v.eligible,
  v.verdict,
  coalesce(v.copies, 0) as copies,
  coalesce(v.counted_copies, 0) as counted_copies,
  coalesce(v.counted_more_than_once, false) as counted_more_than_once,
  coalesce(v.value_mismatch_total, false) as value_mismatch,
  coalesce(v.currency_mismatch, false) as currency_mismatch,
  coalesce(v.not_paid_sent, false) as not_paid_sent,
  coalesce(v.late_2h, false) as late_2h,
  coalesce(v.late_24h, false) as late_24h,
  coalesce(v.name_variant, false) as name_variant,
  coalesce(v.consent_denied, false) as consent_denied
from truth_current as r
left join truth_verdicts as v
  on v.kind = r.kind
  and v.truth_id = r.truth_id
where r.truth_id = cast($order_key as varchar)
  or r.fbp = cast($fbp as varchar)
  or r.em = cast($em as varchar)
  or list_contains(cast($truth_ids as varchar[]), r.truth_id)
order by r.created_at, r.kind, r.truth_id
limit $limit
