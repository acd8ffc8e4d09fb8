-- Contract violations: copies of a contract's events that break one of its rules, one row per example
-- copy (up to 5) of each event x channel x rule x parameter x detail, with the violating copies and all
-- copies of that event and channel. Reads the CTE copy_checks (fragments/copy_checks.sql, included
-- first), events, copy_truth_links and truth_current.
-- params: $date_from, $date_to, $pixel_id, $event_names (the scope), and $rules: a varchar list, one item
--   per rule, `event_name <US> rule <US> parameter <US> argument` (US = chr(31)), rule one of
--   event | required | recommended | match_key | event_id_rule | currencies | consent | value_policy.
-- Parameter verdicts follow the stored format checks (the same ones parameter completeness reads): a
-- parameter is valid, missing, or present but invalid, the reason kept as the detail (malformed,
-- milliseconds, iso_text, epoch_text, stale, future, raw_pii, hashed_forbidden, expired, no_valid_key, too_long). The Pixel adds action_source, the client IP and the user agent to the browser
-- request itself (beacon logs do not show them), so those are never held against a browser copy.
with
-- @include fragments/copy_checks
,
rules as (
  select
    split_part(r.item, chr(31), 1) as event_name,
    split_part(r.item, chr(31), 2) as rule,
    split_part(r.item, chr(31), 3) as parameter,
    split_part(r.item, chr(31), 4) as argument
  from (select unnest($rules) as item) as r
),
contract_events as (
  select distinct event_name
  from rules
),
copies as (
  -- every copy of a contract event, case and spacing variants included (`purchase` was meant as Purchase)
  select
    ce.event_name as contract_event,
    c.fingerprint,
    c.occurrence,
    c.channel,
    c.event_name,
    c.event_id,
    c.event_time,
    c.event_time_format,
    c.received_at,
    c.action_source,
    c.event_source_url,
    c.consent,
    c.value_check,
    c.currency_check,
    c.any_key_present,
    c.any_key_valid,
    c.em_ok, c.ph_ok, c.fn_ok, c.ln_ok, c.ct_ok, c.st_ok, c.zp_ok, c.country_ok, c.db_ok, c.ge_ok,
    c.external_id_ok, c.fbp_ok, c.fbc_ok, c.client_ip_address_ok, c.client_user_agent_ok, c.lead_id_ok,
    c.em_check, c.ph_check, c.fn_check, c.ln_check, c.ct_check, c.st_check, c.zp_check, c.country_check,
    c.db_check, c.ge_check, c.external_id_check, c.fbp_check, c.fbc_check, c.client_ip_address_check,
    c.client_user_agent_check, c.lead_id_check,
    c.fbp_issue,
    c.fbc_issue,
    e.value,
    e.currency,
    e.order_id,
    e.content_ids,
    e.content_type,
    e.num_items,
    e.predicted_ltv,
    e.status,
    e.lead_id
  from copy_checks c
  join contract_events ce
    on lower(trim(c.event_name)) = lower(ce.event_name)
  join events e
    on e.fingerprint = c.fingerprint
    and e.occurrence = c.occurrence
),
parameter_states as (
  select
    c.contract_event,
    c.channel,
    c.fingerprint,
    c.occurrence,
    c.event_id,
    r.rule,
    r.parameter,
    case r.parameter
      when 'event_name' then case
        when c.event_name is null or trim(c.event_name) = '' then 'missing'
        when length(c.event_name) > 50 then 'too_long'
        else 'valid' end
      when 'event_time' then case
        when c.event_time_format = 'missing' then 'missing'
        when c.event_time_format in ('milliseconds', 'milliseconds_text') then 'milliseconds'
        when c.event_time_format = 'invalid' then 'malformed'
        -- not the integer Meta documents (quality_completeness.sql says why)
        when c.channel = 'server' and c.event_time_format = 'iso' then 'iso_text'
        when c.channel = 'server' and c.event_time_format = 'seconds_text' then 'epoch_text'
        when c.event_time > c.received_at + interval '5' minute then 'future'
        when c.received_at - c.event_time > interval '7' day then 'stale'
        else 'valid' end
      when 'action_source' then case
        when c.channel = 'browser' then 'valid'
        when c.action_source is null or trim(c.action_source) = '' then 'missing'
        when c.action_source in (
          'email', 'website', 'app', 'phone_call', 'chat', 'physical_store', 'system_generated',
          'business_messaging', 'other'
        ) then 'valid'
        else 'malformed' end
      when 'user_data' then case
        when c.any_key_valid then 'valid'
        when c.any_key_present then 'no_valid_key'
        else 'missing' end
      when 'event_source_url' then case
        when c.event_source_url is null or trim(c.event_source_url) = '' then 'missing'
        when c.event_source_url like 'http://_%' or c.event_source_url like 'https://_%' then 'valid'
        else 'malformed' end
      when 'value' then c.value_check
      when 'currency' then c.currency_check
      when 'event_id' then case when c.event_id is null or trim(c.event_id) = '' then 'missing' else 'valid' end
      when 'em/ph' then case
        when c.em_ok or c.ph_ok then 'valid'
        when c.em_check = 'missing' and c.ph_check = 'missing' then 'missing'
        when c.em_check = 'raw_pii' or c.ph_check = 'raw_pii' then 'raw_pii'
        else 'malformed' end
      when 'order_id' then case when c.order_id is null or trim(c.order_id) = '' then 'missing' else 'valid' end
      when 'content_ids' then case when c.content_ids is null or c.content_ids = '[]' then 'missing' else 'valid' end
      when 'content_type' then case when c.content_type is null then 'missing' else 'valid' end
      when 'num_items' then case when c.num_items is null then 'missing' else 'valid' end
      when 'predicted_ltv' then case when c.predicted_ltv is null then 'missing' else 'valid' end
      when 'status' then case when c.status is null then 'missing' else 'valid' end
      when 'client_ip_address' then case
        when c.channel = 'browser' or c.client_ip_address_ok then 'valid'
        else c.client_ip_address_check end
      when 'client_user_agent' then case
        when c.channel = 'browser' or c.client_user_agent_ok then 'valid'
        else c.client_user_agent_check end
      when 'em' then case when c.em_ok then 'valid' else c.em_check end
      when 'ph' then case when c.ph_ok then 'valid' else c.ph_check end
      when 'fn' then case when c.fn_ok then 'valid' else c.fn_check end
      when 'ln' then case when c.ln_ok then 'valid' else c.ln_check end
      when 'ct' then case when c.ct_ok then 'valid' else c.ct_check end
      when 'st' then case when c.st_ok then 'valid' else c.st_check end
      when 'zp' then case when c.zp_ok then 'valid' else c.zp_check end
      when 'country' then case when c.country_ok then 'valid' else c.country_check end
      when 'db' then case when c.db_ok then 'valid' else c.db_check end
      when 'ge' then case when c.ge_ok then 'valid' else c.ge_check end
      when 'external_id' then case when c.external_id_ok then 'valid' else c.external_id_check end
      when 'fbp' then case when c.fbp_ok then 'valid' when c.fbp_check <> 'valid' then c.fbp_check else c.fbp_issue end
      when 'fbc' then case when c.fbc_ok then 'valid' when c.fbc_check <> 'valid' then c.fbc_check else c.fbc_issue end
      when 'lead_id' then case when c.lead_id_ok then 'valid' else c.lead_id_check end
    end as state
  from copies c
  join rules r
    on r.event_name = c.contract_event
    and r.rule in ('required', 'recommended', 'match_key')
),
violations as (
  select
    p.contract_event, p.channel, p.fingerprint, p.occurrence, p.event_id,
    case
      when p.rule = 'match_key' then 'missing_match_key'
      when p.state <> 'missing' then 'invalid_parameter'
      else 'missing_' || p.rule
    end as rule,
    p.parameter,
    case when p.rule = 'match_key' or p.state <> 'missing' then p.state else '' end as detail
  from parameter_states p
  where p.state <> 'valid'

  union all
  -- sent under a case or spacing variant of the contract's name: Meta treats it as another event
  select
    c.contract_event, c.channel, c.fingerprint, c.occurrence, c.event_id,
    'event_name_variant' as rule,
    'event_name' as parameter,
    c.event_name as detail
  from copies c
  where c.event_name <> c.contract_event

  union all
  -- the rules with an argument (event_id_rule, currencies, consent, value_policy), in one pass: detail
  -- says how a copy breaks its rule, null when it keeps it
  select
    d.contract_event, d.channel, d.fingerprint, d.occurrence, d.event_id,
    case d.rule when 'currencies' then 'currency_not_allowed' else d.rule end as rule,
    case d.rule
      when 'event_id_rule' then 'event_id' when 'currencies' then 'currency' when 'consent' then 'consent'
      else 'value'
    end as parameter,
    d.detail
  from (
    select
      c.contract_event, c.channel, c.fingerprint, c.occurrence, c.event_id,
      r.rule,
      case r.rule
        when 'event_id_rule' then case
          when r.argument = 'none' then null
          when c.event_id is null or trim(c.event_id) = '' then 'missing'
          when r.argument = 'order_id_without_hash' and position('#' in c.event_id) > 0 then 'contains #'
          when r.argument = 'order_id_without_hash' and c.order_id is not null
            and c.event_id <> trim(replace(c.order_id, '#', '')) then 'differs from order_id'
          when r.argument = 'order_id' and c.order_id is not null and c.event_id <> c.order_id
            then 'differs from order_id'
          when r.argument = 'lead_id' and c.lead_id is not null and c.event_id <> c.lead_id
            then 'differs from lead_id'
          -- regexp_matches is DuckDB's spelling (Spark: rlike)
          when r.argument = 'uuid'
            and not regexp_matches(lower(c.event_id), '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
            then 'not a UUID'
          end
        when 'currencies' then case
          when c.currency_check <> 'missing'
            and position(',' || upper(trim(c.currency)) || ',' in ',' || r.argument || ',') = 0
            then substr(c.currency, 1, 16)
          end
        when 'consent' then case
          when (r.argument = 'not_denied' and c.consent = 'denied')
            or (r.argument = 'granted' and c.consent <> 'granted')
            then c.consent
          end
        -- the value sent differs from the linked backend record's total (or subtotal) by more than
        -- max(0.01, 1 %), the tolerance reconciliation uses
        when 'value_policy' then case
          when c.value is not null
            and case when r.argument = 'subtotal' then t.subtotal else t.value end is not null
            and abs(c.value - case when r.argument = 'subtotal' then t.subtotal else t.value end)
              > greatest(0.01, 0.01 * abs(case when r.argument = 'subtotal' then t.subtotal else t.value end))
            then r.argument
          end
      end as detail
    from copies c
    join rules r
      on r.event_name = c.contract_event
      and r.rule in ('event_id_rule', 'currencies', 'consent', 'value_policy')
    -- the copy's backend record (a copy has one link at most): none, and no value differs
    left join copy_truth_links l
      on l.fingerprint = c.fingerprint
      and l.occurrence = c.occurrence
    left join truth_current t
      on t.truth_id = l.truth_id
      and t.kind = l.kind
  ) as d
  where d.detail is not null
),
totals as (
  select
    c.contract_event,
    c.channel,
    count(*) as of_copies
  from copies c
  group by c.contract_event, c.channel
),
ranked as (
  select
    v.contract_event,
    v.channel,
    v.rule,
    v.parameter,
    v.detail,
    v.fingerprint,
    v.occurrence,
    v.event_id,
    count(*) over (partition by v.contract_event, v.channel, v.rule, v.parameter, v.detail) as copies,
    row_number() over (
      partition by v.contract_event, v.channel, v.rule, v.parameter, v.detail
      order by v.fingerprint, v.occurrence
    ) as example_rank
  from violations v
)
select
  r.contract_event as event_name,
  r.channel,
  r.rule,
  r.parameter,
  r.detail,
  r.copies,
  t.of_copies,
  r.example_rank,
  r.fingerprint,
  r.occurrence,
  r.event_id
from ranked r
join totals t
  on t.contract_event = r.contract_event
  and t.channel = r.channel
where r.example_rank <= 5
order by r.contract_event, r.channel, r.rule, r.parameter, r.detail, r.example_rank
