-- Latest version of every truth record (derived table `truth_current`, rebuilt by derived.refresh after every ingest / undo).
-- params: none
--
-- Overlapping exports repeat a record with an updated status: the latest batch wins, then the highest
-- line of that batch, then the highest fingerprint (deterministic). `status_eligible` is the status half
-- of eligibility (orders: paid; leads: any stage but test, since a lead is a conversion whatever its
-- later stage); the consent half comes from the linked copies (truth rows carry no consent), so the full
-- `eligible` lives in `truth_verdicts`. The lead columns (qualified_at, won_at, utm_*, form) feed the
-- lead-quality queries (leads_*.sql).
select
  kind,
  truth_id,
  raw_id,
  created_at,
  paid_at,
  status,
  value,
  subtotal,
  currency,
  em,
  fbp,
  coalesce(case when kind = 'lead' then coalesce(status, '') <> 'test' else status = 'paid' end, false)
    as status_eligible,
  qualified_at,
  won_at,
  utm_source,
  utm_campaign,
  form,
  versions
from (
  select
    t.kind, t.truth_id, t.raw_id, t.created_at, t.paid_at, t.status, t.value, t.subtotal, t.currency, t.em,
    t.fbp, t.qualified_at, t.won_at, t.utm_source, t.utm_campaign, t.form,
    row_number() over (
      partition by t.kind, t.truth_id
      order by t.batch_id desc, t.line_no desc, t.fingerprint desc
    ) as version_rank,
    count(*) over (partition by t.kind, t.truth_id) as versions
  from truth t
  where t.truth_id is not null
) ranked
where version_rank = 1
