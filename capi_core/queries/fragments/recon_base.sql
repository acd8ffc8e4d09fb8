-- Reconciliation scope, CTEs `scoped_records`, `records` and `copies` that every other recon_*.sql query includes first in its WITH list: one dataset's truth records (by created_at) and copies (by the scope predicate), read from the derived tables truth_verdicts and copy_truth_links.
-- params: $date_from, $date_to, $pixel_id, $event_names (scope), $event_name (the dataset's event, as in reconcile.DATASETS), $kind, $value_policy ('total' | 'subtotal')
--
-- A fragment (ends without a comma: an including query goes on with `,` or its select). Every link, verdict
-- and flag is computed once per change of the store (derived_recon_*.sql); here they are only filtered, so
-- a record keeps the copies linked to it whatever their date, and a copy keeps its record whatever the
-- record's date. A pixel filter narrows the records' facts to that pixel's copies: reconcile.chained_query
-- then puts fragments/scoped_records_pixel.sql in place of fragments/scoped_records.sql. `pair_disagrees`
-- is the record's PAIR_VALUE_DISAGREES flag: its browser and server copies carry different values or
-- currencies.
-- @include fragments/scoped_records
,
records as (
  select
    t.truth_id, t.raw_id, t.created_at, t.paid_at, t.status, t.eligible, t.currency, t.verdict,
    t.sales_channel, t.status_eligible, t.channel_excluded,
    case when $value_policy = 'subtotal' then t.value_subtotal else t.value_total end as truth_value,
    t.copies, t.browser_copies, t.server_copies, t.counted_copies, t.meta_value, t.sent_value_min,
    t.sent_value_max, t.browser_value_min, t.browser_value_max, t.server_value_min, t.server_value_max,
    t.browser_currency_min, t.browser_currency_max, t.server_currency_min, t.server_currency_max,
    t.first_server_at, t.counted_more_than_once,
    case when $value_policy = 'subtotal' then t.value_mismatch_subtotal else t.value_mismatch_total end
      as value_mismatch,
    t.currency_mismatch, t.pair_value_disagrees or t.pair_currency_disagrees as pair_disagrees,
    t.pair_value_disagrees, t.pair_currency_disagrees, t.not_paid_sent, t.late_2h, t.late_24h,
    t.name_variant, t.consent_denied, t.merged_ok
  from scoped_records t
  where (cast($date_from as timestamp) is null or t.created_at >= $date_from)
    and (cast($date_to as timestamp) is null or t.created_at < $date_to)
),
copies as (
  select
    e.fingerprint, e.occurrence, e.channel, e.pixel_id, e.event_name, e.event_id, e.order_id, e.event_time,
    e.value, e.currency, e.test_event_code, e.name_variant, e.counted, e.truth_id, e.lead_linked,
    e.order_linked,
    e.event_linked, e.token_linked, e.join_key, e.phantom_reason
  from copy_truth_links e
  where e.dataset = $event_name
    and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
    and (cast($date_to as timestamp) is null or e.event_time < $date_to)
    and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
    and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
)
