-- One dataset's truth records as a pixel filter sees them, as CTE `scoped_records`: reconcile.py puts this
-- fragment in place of fragments/scoped_records.sql in recon_base.sql when the scope names a pixel (the
-- same columns: fragments/record_verdict_columns.sql).
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
-- @include fragments/record_verdict_columns
  from record_verdicts t
)
