-- Per-record reconciliation verdicts (over fragments/recon_base.sql), filtered by verdict and flag, oldest first, at most $limit rows.
-- params: those of fragments/recon_base.sql, $verdict, $flag, $limit
with
-- @include fragments/recon_base
select
  truth_id, raw_id, created_at, paid_at, status, eligible, truth_value, currency, verdict,
  copies, browser_copies, server_copies, counted_copies, meta_value, sent_value_min, sent_value_max,
  first_server_at, counted_more_than_once, value_mismatch, currency_mismatch, not_paid_sent,
  late_2h, late_24h, name_variant, consent_denied, merged_ok, pair_disagrees, sales_channel,
  channel_excluded, browser_value_min, browser_value_max, server_value_min, server_value_max,
  browser_currency_min, browser_currency_max, server_currency_min, server_currency_max
from records
where (cast($verdict as varchar) is null or verdict = $verdict)
  and (
    cast($flag as varchar) is null
    or case cast($flag as varchar)
      when 'counted_more_than_once' then counted_more_than_once
      when 'value_mismatch' then value_mismatch
      when 'currency_mismatch' then currency_mismatch
      when 'not_paid_sent' then not_paid_sent
      when 'late_2h' then late_2h
      when 'late_24h' then late_24h
      when 'name_variant' then name_variant
      when 'consent_denied' then consent_denied
      when 'pair_disagrees' then pair_disagrees
      when 'missing' then eligible and copies = 0
      else false
    end
  )
order by created_at, truth_id
limit $limit
