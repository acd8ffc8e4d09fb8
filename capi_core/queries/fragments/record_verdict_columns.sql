-- Fragment (select-list items, not CTEs): a truth record's facts as the reconciliation scope reads them,
-- alias t: the columns of truth_verdicts (derived_recon_records.sql) and of fragments/record_verdicts.sql's
-- CTE `record_verdicts` but kind. Included by fragments/scoped_records.sql (the store-wide facts) and
-- fragments/scoped_records_pixel.sql (a pixel's own), whose select it fills (it ends without a comma).
    t.truth_id, t.raw_id, t.created_at, t.paid_at, t.status, t.eligible, t.currency, t.sales_channel,
    t.status_eligible, t.channel_excluded, t.verdict, t.value_total, t.value_subtotal, t.copies,
    t.browser_copies, t.server_copies, t.counted_copies, t.meta_value, t.sent_value_min, t.sent_value_max,
    t.browser_value_min, t.browser_value_max, t.server_value_min, t.server_value_max, t.browser_currency_min,
    t.browser_currency_max, t.server_currency_min, t.server_currency_max, t.first_server_at,
    t.counted_more_than_once, t.value_mismatch_total, t.value_mismatch_subtotal, t.currency_mismatch,
    t.pair_value_disagrees, t.pair_currency_disagrees, t.not_paid_sent, t.late_2h, t.late_24h,
    t.name_variant, t.consent_denied, t.merged_ok
