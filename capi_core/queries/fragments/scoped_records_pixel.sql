-- One dataset's truth records as a pixel filter sees them, as CTE `scoped_records`: reconcile.py puts this
-- fragment in place of fragments/scoped_records.sql in recon_base.sql when the scope names a pixel.
-- params: $kind, $pixel_id
--
-- The truth findings are the pixel's own: a record's facts (fragments/record_verdicts.sql) come from the
-- copies that pixel received only, and no record is in scope when the pixel received no copy of the
-- dataset's event (nothing of it reconciles with this truth: a pixel with no Purchase has no missing
-- orders). Dates never narrow a record's copies (a copy sent after midnight still reached Meta): the scope
-- picks records by created_at in recon_base.sql.
record_links as (
  select
    l.kind, l.truth_id, l.fingerprint, l.occurrence, l.channel, l.counted, l.merged, l.rejected, l.value,
    l.currency, l.received_at, l.name_variant, l.consent
  from copy_truth_links l
  where l.kind = $kind
    and l.pixel_id = $pixel_id
    and l.truth_id is not null
),
record_truth as (
  select
    t.kind, t.truth_id, t.raw_id, t.created_at, t.paid_at, t.status, t.currency, t.value, t.subtotal,
    t.sales_channel, t.status_eligible, t.channel_excluded
  from truth_current t
  where t.kind = $kind
    and t.kind in (
      select p.kind
      from copy_truth_links p
      where p.pixel_id = $pixel_id
    )
),
-- @include fragments/record_verdicts
,
scoped_records as (
  select
    v.truth_id, v.raw_id, v.created_at, v.paid_at, v.status, v.eligible, v.currency, v.sales_channel,
    v.status_eligible, v.channel_excluded, v.verdict, v.value_total, v.value_subtotal, v.copies,
    v.browser_copies, v.server_copies, v.counted_copies, v.meta_value, v.sent_value_min, v.sent_value_max,
    v.browser_value_min, v.browser_value_max, v.server_value_min, v.server_value_max, v.browser_currency_min,
    v.browser_currency_max, v.server_currency_min, v.server_currency_max, v.first_server_at,
    v.counted_more_than_once, v.value_mismatch_total, v.value_mismatch_subtotal, v.currency_mismatch,
    v.pair_value_disagrees, v.pair_currency_disagrees, v.not_paid_sent, v.late_2h, v.late_24h,
    v.name_variant, v.consent_denied, v.merged_ok
  from record_verdicts v
)
