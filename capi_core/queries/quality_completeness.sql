-- Parameter completeness: copies per event_name x channel x parameter x outcome, with example ids.
-- The one place for the parameter list, each parameter's requirement, where it applies, what makes it
-- valid (reference §2.2-2.9) and the Meta page that states the requirement (`source`): the `requirement`
-- column is Meta's; metrics/completeness.py raises a parameter to required when the pixel's event
-- contract requires it (a contract only adds requirements, never removes Meta's).
-- A parameter may have one row per event scope (`events`: 'all', 'Purchase' or 'other', i.e. every
-- event but Purchase): value and currency are required on Purchase only; on other events Meta asks for
-- them only when the event is used for value optimization, which the copies cannot tell, so there they
-- are recommended and checked only on copies that carry one of the two.
-- Outcome per applicable copy: valid | missing | malformed | milliseconds | iso_text | epoch_text | stale |
-- future | raw_pii | hashed_forbidden | expired; a copy a parameter does not apply to has no outcome for it.
-- Always per pixel and per UTC day of event_time, run over the whole store (every scope parameter null):
-- capi_core.metrics.completeness folds the days, pixel and names a scope covers (metrics.by_day) and sums
-- pixels away when asked, so this runs once per data version instead of once per filter change.
-- params: $date_from, $date_to, $pixel_id, $event_names (of copy_checks; null)
with
-- @include fragments/copy_checks
,
pages (page, source) as (
  -- the Meta pages the requirements below come from, each named once
  values
    ('server-event',
     'https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event'),
    ('parameters', 'https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters'),
    ('custom-data',
     'https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/custom-data'),
    ('value-optimization',
     'https://developers.facebook.com/documentation/ads-commerce/conversions-api/guides/value-optimization'),
    ('best-practices',
     'https://developers.facebook.com/documentation/ads-commerce/conversions-api/best-practices#req-rec-params')
),
requirements (ordinal, parameter, requirement, applies_to, events, page) as (
  values
    -- "event_name string Required", "event_time integer Required", "user_data object Required"
    (1, 'event_name', 'required', 'every copy', 'all', 'server-event'),
    (2, 'event_time', 'required', 'every copy', 'all', 'server-event'),
    -- "non-web events require only action_source"
    (3, 'action_source', 'required', 'server copies', 'all', 'parameters'),
    (4, 'user_data', 'required', 'every copy', 'all', 'server-event'),
    -- "Website events shared using the Conversions API require the client_user_agent, action_source,
    -- and event_source_url parameters"
    (5, 'event_source_url', 'required', 'server copies with action_source website', 'all', 'parameters'),
    (6, 'client_user_agent', 'required', 'server copies with action_source website', 'all', 'parameters'),
    -- value and currency: required for Purchase (custom-data page, reference §2.8; the Pixel reference
    -- says the same); elsewhere "Value and currency should be added to existing events you want to use
    -- value optimization for" (value-optimization guide)
    (7, 'value', 'required', 'Purchase', 'Purchase', 'custom-data'),
    (7, 'value', 'recommended',
     'copies carrying currency or value (required by Meta only on events used for value optimization)',
     'other', 'value-optimization'),
    (8, 'currency', 'required', 'Purchase', 'Purchase', 'custom-data'),
    (8, 'currency', 'recommended',
     'copies carrying currency or value (required by Meta only on events used for value optimization)',
     'other', 'value-optimization'),
    -- Meta's recommended parameters (best practices, "Send Required and Recommended Parameters")
    (9, 'event_id', 'recommended', 'every copy', 'all', 'best-practices'),
    (10, 'external_id', 'recommended', 'every copy', 'all', 'best-practices'),
    (11, 'fbp', 'recommended', 'every copy', 'all', 'best-practices'),
    (12, 'fbc', 'recommended', 'every copy', 'all', 'best-practices'),
    (13, 'client_ip_address', 'recommended', 'every copy', 'all', 'best-practices'),
    (14, 'em/ph', 'recommended', 'every copy', 'all', 'best-practices')
),
parameters as (
  select r.ordinal, r.parameter, r.requirement, r.applies_to, r.events, p.source
  from requirements r
  join pages p
    on p.page = r.page
),
outcomes as (
  select
    c.pixel_id,
    c.event_name,
    c.channel,
    cast(c.event_time as date) as day,
    c.example_id,
    case
      when c.event_name is null or trim(c.event_name) = '' then 'missing'
      when length(c.event_name) > 50 then 'malformed'  -- custom names: at most 50 characters
      else 'valid'
    end as o_event_name,
    case
      when c.event_time_format = 'missing' then 'missing'
      when c.event_time_format = 'invalid' then 'malformed'
      when c.event_time_format in ('milliseconds', 'milliseconds_text') then 'milliseconds'
      -- a server payload's event_time must be "integer ... A Unix timestamp in seconds" (server-event
      -- page): ISO 8601 text and epoch digits sent as a JSON string are not (canonical.event_time_format)
      when c.channel = 'server' and c.event_time_format = 'iso' then 'iso_text'
      when c.channel = 'server' and c.event_time_format = 'seconds_text' then 'epoch_text'
      -- Meta documents no future limit; 5 minutes of clock skew are tolerated
      when c.event_time > c.received_at + interval '5' minute then 'future'
      -- older than 7 days when Meta receives it: the whole request is rejected (2804003)
      when c.received_at - c.event_time > interval '7' day then 'stale'
      else 'valid'
    end as o_event_time,
    -- the Pixel sets action_source itself; only server payloads must carry it
    case
      when c.channel <> 'server' then null
      when c.action_source is null or trim(c.action_source) = '' then 'missing'
      when c.action_source in (
        'email', 'website', 'app', 'phone_call', 'chat', 'physical_store', 'system_generated',
        'business_messaging', 'other'
      ) then 'valid'
      else 'malformed'
    end as o_action_source,
    case
      when c.any_key_valid then 'valid'
      when c.any_key_present then 'malformed'
      else 'missing'
    end as o_user_data,
    -- required for server website events only: the browser supplies URL and user agent itself
    case
      when c.channel <> 'server' or coalesce(c.action_source, '') <> 'website' then null
      when c.event_source_url is null or trim(c.event_source_url) = '' then 'missing'
      when c.event_source_url ilike 'http://_%' or c.event_source_url ilike 'https://_%'
        then 'valid'
      else 'malformed'
    end as o_event_source_url,
    case
      when c.channel <> 'server' or coalesce(c.action_source, '') <> 'website' then null
      when c.client_user_agent_ok then 'valid'
      else c.client_user_agent_check
    end as o_client_user_agent,
    case
      when c.event_name = 'Purchase' or c.value_check <> 'missing' or c.currency_check <> 'missing'
        then c.value_check
    end as o_value,
    case
      when c.event_name = 'Purchase' or c.value_check <> 'missing' or c.currency_check <> 'missing'
        then c.currency_check
    end as o_currency,
    case when c.event_id is null or trim(c.event_id) = '' then 'missing' else 'valid' end as o_event_id,
    case when c.external_id_ok then 'valid' else c.external_id_check end as o_external_id,
    case when c.fbp_ok then 'valid' when c.fbp_check <> 'valid' then c.fbp_check else c.fbp_issue end as o_fbp,
    case when c.fbc_ok then 'valid' when c.fbc_check <> 'valid' then c.fbc_check else c.fbc_issue end as o_fbc,
    case when c.client_ip_address_ok then 'valid' else c.client_ip_address_check end as o_client_ip_address,
    case
      when c.em_ok or c.ph_ok then 'valid'
      when c.em_check = 'missing' and c.ph_check = 'missing' then 'missing'
      when c.em_check = 'raw_pii' or c.ph_check = 'raw_pii' then 'raw_pii'
      else 'malformed'
    end as o_em_ph
  from copy_checks c
),
combos as (
  -- aggregate first: copies and example ids per distinct combination of outcomes (a few hundred rows),
  -- then unpivot that small result; one pass over the copies instead of one per parameter
  select
    o.pixel_id,
    o.event_name,
    o.channel,
    o.day,
    o.o_event_name, o.o_event_time, o.o_action_source, o.o_user_data, o.o_event_source_url,
    o.o_client_user_agent, o.o_value, o.o_currency, o.o_event_id, o.o_external_id, o.o_fbp, o.o_fbc,
    o.o_client_ip_address, o.o_em_ph,
    count(*) as copies,
    min(o.example_id, 5) as examples  -- DuckDB: the 5 smallest values (no standard bounded form)
  from outcomes o
  group by all
),
unpivoted as (
  select
    c.pixel_id,
    c.event_name,
    c.channel,
    c.day,
    p.ordinal,
    p.parameter,
    p.requirement,
    p.applies_to,
    p.source,
    case p.parameter
      when 'event_name' then c.o_event_name
      when 'event_time' then c.o_event_time
      when 'action_source' then c.o_action_source
      when 'user_data' then c.o_user_data
      when 'event_source_url' then c.o_event_source_url
      when 'client_user_agent' then c.o_client_user_agent
      when 'value' then c.o_value
      when 'currency' then c.o_currency
      when 'event_id' then c.o_event_id
      when 'external_id' then c.o_external_id
      when 'fbp' then c.o_fbp
      when 'fbc' then c.o_fbc
      when 'client_ip_address' then c.o_client_ip_address
      when 'em/ph' then c.o_em_ph
    end as outcome,
    c.copies,
    c.examples
  from combos c
  join parameters p
    on p.events = 'all'
    or p.events = case when c.event_name = 'Purchase' then 'Purchase' else 'other' end
)
select
  u.pixel_id,
  u.event_name,
  u.channel,
  u.day,
  u.ordinal,
  u.parameter,
  u.requirement,
  u.applies_to,
  u.source,
  u.outcome,
  sum(u.copies) as copies,
  -- the 5 smallest of the union are among the 5 smallest of each combination (DuckDB list functions)
  list_slice(list_sort(flatten(list(u.examples))), 1, 5) as examples
from unpivoted u
where u.outcome is not null
group by all
