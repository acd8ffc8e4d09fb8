-- Reconciliation headline (over fragments/recon_base.sql): one row of counts for the summary, the waterfall, the verdicts, the flags, the phantoms and the join key.
-- params: those of fragments/recon_base.sql
--
-- No value here: values are summed per currency by recon_currency_values.sql (never across currencies).
with
-- @include fragments/recon_base
,
record_totals as (
  select
    count(*) as records,
    sum(case when eligible then 1 else 0 end) as eligible,
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
    sum(case when pair_disagrees then 1 else 0 end) as f_pair_disagrees,
    sum(case when browser_copies > 0 and server_copies > 0 then 1 else 0 end) as both_channel_records,
    sum(case when pair_value_disagrees then 1 else 0 end) as pair_value_records,
    sum(case when pair_currency_disagrees then 1 else 0 end) as pair_currency_records,
    sum(case when copies > 0 then 1 else 0 end) as records_reached
  from records
),
copy_totals as (
  select
    count(*) as copies,
    max(join_key) as join_key,
    sum(case join_key
      when 'lead_id' then case when lead_linked then 1 else 0 end
      when 'order_id' then case when order_linked then 1 else 0 end
      when 'event_id' then case when event_linked then 1 else 0 end
      when 'event_id_token' then case when token_linked then 1 else 0 end
      else 0
    end) as join_linked,
    sum(case when counted then 1 else 0 end) as meta_count,
    sum(case when counted and name_variant then 1 else 0 end) as variant_copies,
    sum(case when counted and truth_id is null then 1 else 0 end) as phantoms,
    sum(case when counted and phantom_reason = 'test_code' then 1 else 0 end) as p_test_code,
    sum(case when counted and phantom_reason = 'reused_id' then 1 else 0 end) as p_reused_id,
    sum(case when counted and phantom_reason = 'outside_truth_window' then 1 else 0 end)
      as p_outside_truth_window,
    sum(case when counted and phantom_reason = 'no_order_key' then 1 else 0 end) as p_no_order_key,
    sum(case when counted and phantom_reason = 'unknown_id' then 1 else 0 end) as p_unknown_id
  from copies
)
select
  rt.*,
  ct.*
from record_totals rt
cross join copy_totals ct
