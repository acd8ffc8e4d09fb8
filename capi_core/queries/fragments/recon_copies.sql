-- Every copy of a reconciled dataset's event with its normalized ids and its dedup verdict, as CTEs
-- `datasets` (fragments/recon_datasets.sql) and `copies as materialized`; included by
-- derived_recon_links.sql (the links) and derived_recon_match_keys.sql (what a link can depend on), so the
-- two agree on which copies a dataset has and on how an id is normalized. Ends with a comma: the
-- includer's CTEs follow. Reads events, copy_verdicts, settings.
--
-- One row per copy of a dataset's event, its case or spacing variants included (`purchase`: they reached
-- Meta; flagged as name_variant).
-- @include fragments/recon_datasets
copies as materialized (
  select
    d.dataset, d.kind,
    e.fingerprint, e.occurrence, e.channel, e.pixel_id, e.event_name, e.event_id, e.order_id,
    e.event_name <> d.dataset as name_variant,
    -- the truth_id normalization of canonical.normalize_truth_id; ltrim(text, chars) is DuckDB's form
    nullif(trim(ltrim(lower(trim(e.order_id)), '#')), '') as order_key,
    nullif(trim(ltrim(lower(trim(e.event_id)), '#')), '') as event_key,
    case when d.kind = 'lead' then nullif(trim(ltrim(lower(trim(e.lead_id)), '#')), '') end as lead_key,
    e.fbp, e.em, e.event_time, e.received_at, e.value, e.currency, e.consent, e.test_event_code,
    coalesce(v.verdict = 'counted', false) as counted,
    coalesce(v.merged, false) as merged,
    coalesce(v.reason = 'rejected_by_meta', false) as rejected,
    coalesce(v.kept_fingerprint, e.fingerprint) as kept_fingerprint,
    coalesce(v.kept_occurrence, e.occurrence) as kept_occurrence,
    v.dedup_key,
    v.window_no
  from events e
  join datasets d
    on lower(replace(trim(e.event_name), ' ', '')) = d.name_key
  join copy_verdicts v
    on v.fingerprint = e.fingerprint
    and v.occurrence = e.occurrence
),
