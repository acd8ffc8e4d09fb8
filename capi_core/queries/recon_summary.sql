-- Reconciliation headline (continues recon_base.sql + recon_links.sql): one row of counts for the summary, the waterfall, the verdicts, the flags and the phantoms.
-- params: those of recon_links.sql
,
record_totals as (
  select
    count(*) as records,
    sum(case when eligible then 1 else 0 end) as eligible,
    sum(case when eligible then truth_value else 0 end) as truth_value,
    sum(case when eligible and copies > 0 then 1 else 0 end) as reached,
    sum(case when eligible and server_copies > 0 then 1 else 0 end) as has_server,
    sum(case when eligible and server_copies > 0 and merged_ok then 1 else 0 end) as merged_ok,
    sum(case when eligible and server_copies > 0 and merged_ok and counted_copies = 1 then 1 else 0 end)
      as counted_once,
    sum(case when eligible and verdict = 'both_channels' then 1 else 0 end) as v_both_channels,
    sum(case when eligible and verdict = 'browser_only' then 1 else 0 end) as v_browser_only,
    sum(case when eligible and verdict = 'server_only' then 1 else 0 end) as v_server_only,
    sum(case when eligible and verdict = 'none' then 1 else 0 end) as v_none,
    sum(case when counted_more_than_once then 1 else 0 end) as f_counted_more_than_once,
    sum(case when value_mismatch then 1 else 0 end) as f_value_mismatch,
    sum(case when currency_mismatch then 1 else 0 end) as f_currency_mismatch,
    sum(case when not_paid_sent then 1 else 0 end) as f_not_paid_sent,
    sum(case when late_2h then 1 else 0 end) as f_late_2h,
    sum(case when late_24h then 1 else 0 end) as f_late_24h,
    sum(case when name_variant then 1 else 0 end) as f_name_variant,
    sum(case when consent_denied then 1 else 0 end) as f_consent_denied,
    sum(case when copies > 0 then 1 else 0 end) as records_reached,
    sum(case when copies > 0 and counted_copies > 1 then 1 else 0 end) as records_reached_multi
  from record_facts
),
meta_totals as (
  select
    count(*) as meta_count,
    coalesce(sum(value), 0) as meta_value,
    sum(case when name_variant then 1 else 0 end) as variant_copies
  from copies
  where counted
),
phantom_totals as (
  select
    count(*) as phantoms,
    sum(case when reason = 'test_code' then 1 else 0 end) as p_test_code,
    sum(case when reason = 'reused_id' then 1 else 0 end) as p_reused_id,
    sum(case when reason = 'outside_truth_window' then 1 else 0 end) as p_outside_truth_window,
    sum(case when reason = 'unknown_id' then 1 else 0 end) as p_unknown_id
  from phantom_copies
)
select
  ct.copies,
  ck.method as join_key,
  ck.linked as join_linked,
  rt.*,
  mt.*,
  pt.*
from record_totals rt
cross join meta_totals mt
cross join phantom_totals pt
cross join copy_total ct
left join chosen_key ck
  on 1 = 1
