-- Each truth record against every copy linked to it (derived table `truth_verdicts`, rebuilt by derived.refresh after every ingest / undo): verdict, flags, eligibility.
-- params: none (reads truth_current, copy_truth_links)
--
-- A record's facts count all its linked copies, whatever their date, pixel or name: a copy sent the day
-- after the order still reached Meta. Scoped queries pick records by created_at; a pixel filter counts
-- that pixel's copies only (fragments/scoped_records.sql). The facts themselves are
-- fragments/record_verdicts.sql, shared with the pixel-scoped records.
with
record_links as (
  select
    l.kind, l.truth_id, l.fingerprint, l.occurrence, l.channel, l.counted, l.merged, l.rejected, l.value,
    l.currency, l.received_at, l.name_variant, l.consent
  from copy_truth_links l
  where l.truth_id is not null
),
record_truth as (
  select
    t.kind, t.truth_id, t.raw_id, t.created_at, t.paid_at, t.status, t.currency, t.value, t.subtotal,
    t.sales_channel, t.status_eligible, t.channel_excluded
  from truth_current t
),
-- @include fragments/record_verdicts
select
  kind, truth_id, raw_id, created_at, paid_at, status, currency, sales_channel, status_eligible,
  channel_excluded, value_total, value_subtotal, eligible, copies, browser_copies, server_copies,
  counted_copies, meta_value, sent_value_min, sent_value_max, browser_value_min, browser_value_max,
  server_value_min, server_value_max, browser_currency_min, browser_currency_max, server_currency_min,
  server_currency_max, first_server_at, verdict, counted_more_than_once, value_mismatch_total,
  value_mismatch_subtotal, currency_mismatch, pair_value_disagrees, pair_currency_disagrees, not_paid_sent,
  late_2h, late_24h, name_variant, consent_denied, merged_ok
from record_verdicts
