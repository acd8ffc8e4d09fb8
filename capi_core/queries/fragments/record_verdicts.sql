-- Each truth record against the copies linked to it, as CTEs `record_copies` and `record_verdicts`: verdict,
-- flags, eligibility. Included by derived_recon_records.sql (every record, every linked copy: the derived
-- table `truth_verdicts`) and fragments/scoped_records_pixel.sql (a pixel's copies only). The including query
-- defines `record_links` (rows of copy_truth_links to count) and `record_truth` (rows of truth_current)
-- first; the fragment ends without a comma.
--
-- Both value policies are precomputed (`total`, `subtotal`); a counted copy's value is off when it
-- differs from the record's by more than max(0.01, 1 %) (reconcile.VALUE_TOLERANCE_ABS / _REL).
-- Eligible: status paid (an order) or not test (a lead), not from a channel no pixel sees
-- (truth_current.channel_excluded), and no linked copy logged consent as denied (truth rows carry no
-- consent). One event per truth kind, so a record is keyed by (kind, truth_id). Copies Meta rejected
-- (copy_truth_links.rejected: copy_verdicts reason rejected_by_meta) never reached it and take no part in
-- a record's facts.
--
-- The pair (PAIR_VALUE_DISAGREES): the record's browser copies against its server copies, counted or
-- discarded (the discarded one is what Meta books the day the other is blocked): the value differs when
-- some browser and some server value are further apart than max(0.01, 1 % of the larger), the currency
-- when the two channels do not carry one and the same code (case ignored). Only values that parsed and
-- three-letter currencies take part: a malformed one is PARAM_INVALID_VALUE / _CURRENCY's.
record_copies as (
  select
    l.kind,
    l.truth_id,
    count(*) as copies,
    sum(case when l.channel = 'browser' then 1 else 0 end) as browser_copies,
    sum(case when l.channel = 'server' then 1 else 0 end) as server_copies,
    sum(case when l.counted then 1 else 0 end) as counted_copies,
    sum(case when l.counted then l.value else 0 end) as meta_value,
    min(case when l.channel = 'server' then l.received_at end) as first_server_at,
    coalesce(bool_or(l.merged), false) as any_merged,
    coalesce(bool_or(l.name_variant), false) as name_variant,
    coalesce(bool_or(l.consent = 'denied'), false) as consent_denied,
    coalesce(bool_or(
      l.counted and l.value is not null and abs(l.value - r.value) > greatest(0.01, 0.01 * abs(r.value))
    ), false) as value_mismatch_total,
    coalesce(bool_or(
      l.counted and l.value is not null
      and abs(l.value - r.subtotal) > greatest(0.01, 0.01 * abs(r.subtotal))
    ), false) as value_mismatch_subtotal,
    coalesce(bool_or(l.counted and upper(l.currency) <> upper(r.currency)), false) as currency_mismatch,
    min(case when l.counted then l.value end) as sent_value_min,
    max(case when l.counted then l.value end) as sent_value_max,
    min(case when l.channel = 'browser' then l.value end) as browser_value_min,
    max(case when l.channel = 'browser' then l.value end) as browser_value_max,
    min(case when l.channel = 'server' then l.value end) as server_value_min,
    max(case when l.channel = 'server' then l.value end) as server_value_max,
    -- regexp_matches is DuckDB's spelling (Spark: rlike)
    min(case when l.channel = 'browser' and regexp_matches(trim(l.currency), '^[A-Za-z]{3}$')
      then upper(trim(l.currency)) end) as browser_currency_min,
    max(case when l.channel = 'browser' and regexp_matches(trim(l.currency), '^[A-Za-z]{3}$')
      then upper(trim(l.currency)) end) as browser_currency_max,
    min(case when l.channel = 'server' and regexp_matches(trim(l.currency), '^[A-Za-z]{3}$')
      then upper(trim(l.currency)) end) as server_currency_min,
    max(case when l.channel = 'server' and regexp_matches(trim(l.currency), '^[A-Za-z]{3}$')
      then upper(trim(l.currency)) end) as server_currency_max
  from record_links l
  join record_truth r
    on r.kind = l.kind
    and r.truth_id = l.truth_id
  where not l.rejected
  group by l.kind, l.truth_id
),
record_verdicts as (
  select
    r.kind,
    r.truth_id,
    r.raw_id,
    r.created_at,
    r.paid_at,
    r.status,
    r.currency,
    r.sales_channel,
    r.status_eligible,
    r.channel_excluded,
    r.value as value_total,
    r.subtotal as value_subtotal,
    r.status_eligible and not r.channel_excluded and not coalesce(rc.consent_denied, false) as eligible,
    coalesce(rc.copies, 0) as copies,
    coalesce(rc.browser_copies, 0) as browser_copies,
    coalesce(rc.server_copies, 0) as server_copies,
    coalesce(rc.counted_copies, 0) as counted_copies,
    coalesce(rc.meta_value, 0) as meta_value,
    rc.sent_value_min,
    rc.sent_value_max,
    rc.browser_value_min,
    rc.browser_value_max,
    rc.server_value_min,
    rc.server_value_max,
    rc.browser_currency_min,
    rc.browser_currency_max,
    rc.server_currency_min,
    rc.server_currency_max,
    rc.first_server_at,
    case
      when rc.browser_copies > 0 and rc.server_copies > 0 then 'both_channels'
      when rc.browser_copies > 0 then 'browser_only'
      when rc.server_copies > 0 then 'server_only'
      else 'none'
    end as verdict,
    coalesce(rc.counted_copies > 1, false) as counted_more_than_once,
    coalesce(rc.value_mismatch_total, false) as value_mismatch_total,
    coalesce(rc.value_mismatch_subtotal, false) as value_mismatch_subtotal,
    coalesce(rc.currency_mismatch, false) as currency_mismatch,
    coalesce(
      greatest(rc.browser_value_max - rc.server_value_min, rc.server_value_max - rc.browser_value_min)
        > greatest(0.01, 0.01 * greatest(abs(rc.browser_value_max), abs(rc.server_value_max))),
      false
    ) as pair_value_disagrees,
    coalesce(
      rc.browser_currency_min is not null
        and rc.server_currency_min is not null
        and (
          rc.browser_currency_min <> rc.server_currency_min
          or rc.browser_currency_max <> rc.server_currency_max
        ),
      false
    ) as pair_currency_disagrees,
    coalesce(rc.copies > 0 and coalesce(r.status, '') in ('refunded', 'cancelled', 'pending', 'test'), false)
      as not_paid_sent,
    coalesce(rc.first_server_at > r.created_at + interval '2' hour, false) as late_2h,
    coalesce(rc.first_server_at > r.created_at + interval '24' hour, false) as late_24h,
    coalesce(rc.name_variant, false) as name_variant,
    coalesce(rc.consent_denied, false) as consent_denied,
    -- merged correctly: both channels folded into one conversion, or a server-only record counted once
    case
      when rc.browser_copies > 0 and rc.server_copies > 0 then rc.any_merged
      when rc.server_copies > 0 then rc.counted_copies = 1
      else false
    end as merged_ok
  from record_truth r
  left join record_copies rc
    on rc.kind = r.kind
    and rc.truth_id = r.truth_id
)
