-- Per-copy signal checks of every stored copy: which match keys are valid, fbc / fbp problems, baseline
-- invalid key combinations. The one place that says what a "valid key" is. Built as the derived table
-- `copy_signal_checks` after every ingest / undo (capi_core/derived.py); scoped reads go through
-- fragments/copy_checks.sql.
-- params: none
with scoped as (
  select
    e.fingerprint,
    e.occurrence,
    e.pixel_id,
    e.event_name,
    e.channel,
    e.event_id,
    -- example id shown in findings: the event_id, else a fingerprint prefix
    coalesce(e.event_id, left(e.fingerprint, 12)) as example_id,
    e.event_time,
    e.event_time_format,
    e.sent_at,
    e.received_at,
    e.action_source,
    e.event_source_url,
    e.test_event_code,
    e.consent,
    e.data_processing_options,
    e.value_check,
    e.currency_check,
    e.em, e.ph, e.external_id, e.fbp, e.client_ip_address,
    e.em_check, e.ph_check, e.fn_check, e.ln_check, e.ct_check, e.st_check, e.zp_check,
    e.country_check, e.db_check, e.ge_check, e.external_id_check, e.fbp_check, e.fbc_check,
    e.client_ip_address_check, e.client_user_agent_check, e.lead_id_check,
    -- fb.<subdomain index>.<13-digit ms>.<fbclid>[.<appendix>] (reference §2.7.3); regexp_matches and
    -- try_cast are DuckDB spellings (Spark: rlike, try_cast). An fbc expires 90 days after creation.
    case
      when e.fbc_check = 'malformed' then 'malformed'
      when e.fbc_check <> 'valid' then null
      when not regexp_matches(e.fbc, '^fb\.\d+\.\d{13}\.[^.]+(\.[A-Za-z0-9_-]{2}|\.[A-Za-z0-9_-]{8})?$')
        then 'malformed'
      when epoch_ms(e.received_at) - try_cast(split_part(e.fbc, '.', 3) as bigint) > cast(90 as bigint) * 86400000
        then 'expired'
    end as fbc_issue,
    case
      when e.fbp_check = 'malformed' then 'malformed'
      when e.fbp_check <> 'valid' then null
      when not regexp_matches(e.fbp, '^fb\.\d+\.\d{13}\.\d+(\.[A-Za-z0-9_-]{2}|\.[A-Za-z0-9_-]{8})?$')
        then 'malformed'
    end as fbp_issue
  from events e
),
keyed as (
  select
    s.*,
    s.em_check = 'valid' as em_ok,
    s.ph_check = 'valid' as ph_ok,
    s.fn_check = 'valid' as fn_ok,
    s.ln_check = 'valid' as ln_ok,
    s.ct_check = 'valid' as ct_ok,
    s.st_check = 'valid' as st_ok,
    s.zp_check = 'valid' as zp_ok,
    s.country_check = 'valid' as country_ok,
    s.db_check = 'valid' as db_ok,
    s.ge_check = 'valid' as ge_ok,
    s.external_id_check = 'valid' as external_id_ok,
    s.fbp_check = 'valid' and s.fbp_issue is null as fbp_ok,
    s.fbc_check = 'valid' and s.fbc_issue is null as fbc_ok,
    s.client_ip_address_check = 'valid' as client_ip_address_ok,
    s.client_user_agent_check = 'valid' as client_user_agent_ok,
    s.lead_id_check = 'valid' as lead_id_ok
  from scoped s
)
select
  k.*,
  (k.em_check <> 'missing' or k.ph_check <> 'missing' or k.fn_check <> 'missing' or k.ln_check <> 'missing'
    or k.ct_check <> 'missing' or k.st_check <> 'missing' or k.zp_check <> 'missing'
    or k.country_check <> 'missing' or k.db_check <> 'missing' or k.ge_check <> 'missing'
    or k.external_id_check <> 'missing' or k.fbp_check <> 'missing' or k.fbc_check <> 'missing'
    or k.client_ip_address_check <> 'missing' or k.client_user_agent_check <> 'missing'
    or k.lead_id_check <> 'missing') as any_key_present,
  (k.em_ok or k.ph_ok or k.fn_ok or k.ln_ok or k.ct_ok or k.st_ok or k.zp_ok or k.country_ok or k.db_ok
    or k.ge_ok or k.external_id_ok or k.fbp_ok or k.fbc_ok or k.client_ip_address_ok
    or k.client_user_agent_ok or k.lead_id_ok) as any_key_valid,
  -- Meta rejects (2804050) an event whose only valid customer information is one of these combinations
  -- or a subset of one (reference §2.4): {ct, country, st, zp, ge, ua}, {db, ua}, {fn, ge}, {ln, ge}.
  -- No key at all is a subset of every one.
  (not (k.em_ok or k.ph_ok or k.external_id_ok or k.fbp_ok or k.fbc_ok or k.client_ip_address_ok
        or k.lead_id_ok)
    and (
      not (k.fn_ok or k.ln_ok or k.db_ok)
      or not (k.fn_ok or k.ln_ok or k.ct_ok or k.st_ok or k.zp_ok or k.country_ok or k.ge_ok)
      or not (k.ln_ok or k.ct_ok or k.st_ok or k.zp_ok or k.country_ok or k.db_ok
              or k.client_user_agent_ok)
      or not (k.fn_ok or k.ct_ok or k.st_ok or k.zp_ok or k.country_ok or k.db_ok
              or k.client_user_agent_ok)
    )) as insufficient_keys
from keyed k
