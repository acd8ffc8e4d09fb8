-- One dataset's truth records as a scope without a pixel filter sees them, as CTE `scoped_records` (included
-- by recon_base.sql; the including WITH clause goes on after it with a comma): the derived table
-- truth_verdicts, where a record's facts count every copy linked to it, whatever its pixel. With a pixel
-- filter reconcile.py puts fragments/scoped_records_pixel.sql in its place (the same columns).
-- params: $kind
scoped_records as (
  select
    t.truth_id, t.raw_id, t.created_at, t.paid_at, t.status, t.eligible, t.currency, t.sales_channel,
    t.status_eligible, t.channel_excluded, t.verdict, t.value_total, t.value_subtotal, t.copies,
    t.browser_copies, t.server_copies, t.counted_copies, t.meta_value, t.sent_value_min, t.sent_value_max,
    t.browser_value_min, t.browser_value_max, t.server_value_min, t.server_value_max, t.browser_currency_min,
    t.browser_currency_max, t.server_currency_min, t.server_currency_max, t.first_server_at,
    t.counted_more_than_once, t.value_mismatch_total, t.value_mismatch_subtotal, t.currency_mismatch,
    t.pair_value_disagrees, t.pair_currency_disagrees, t.not_paid_sent, t.late_2h, t.late_24h,
    t.name_variant, t.consent_denied, t.merged_ok
  from truth_verdicts t
  where t.kind = $kind
)
