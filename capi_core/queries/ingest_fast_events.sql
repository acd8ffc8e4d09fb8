-- Server JSONL lines (temp table _fast_lines) -> one row per event: canonical columns plus whether
-- SQL could decide every value (line_ok; otherwise the Python reader reads that line).
-- Parameters: $format (capi_log | capi_request | capi_events), $pixel_id (ReadOptions.pixel_id),
-- $max_line (characters; longer lines go to Python, which refuses them), $url_keys (page-URL keys whose
-- values are kept: privacy.url_keys_kept). Needs ingest_fast_macros.
create temp table _fast_events as
with lines as (
    select
        line_no,
        text,
        lower(text) as lowered
    from _fast_lines
    where text is not null
      and not regexp_full_match(text, '[ \t]*')
),

checked as materialized (
    select
        line_no,
        text,
        length(text) <= $max_line
        and case when json_valid(text) then json_type(text) = 'OBJECT' else false end
        -- yyjson accepts what orjson refuses: NaN/Infinity, trailing commas, overflowing exponents
        -- (the cheap contains() tests keep the regexes off ordinary lines)
        and not ((contains(lowered, 'nan') or contains(lowered, 'inf'))
                 and regexp_matches(lowered, '[\[:,]\s*[-+]?(nan|inf)'))
        and not ((contains(text, ',]') or contains(text, ',}') or contains(text, ', ') or contains(text, ',\t'))
                 and regexp_matches(text, ',\s*[\]}]'))
        and not regexp_matches(lowered, '[\[:,]\s*-?[0-9]+(\.[0-9]+)?e[-+]?[0-9]{3}')
        -- escaped letters could spell a credential key the count below would miss
        and not (contains(text, '\u') and regexp_matches(lowered, '\\u(00[4-7][0-9a-f]|212a)'))
        and not contains(text, chr(8490)) as parsable,
        -- privacy.strip_secrets: every credential key with a scalar value counts once; any other
        -- mention of token/secret (nested values, access_token= in text) is left to Python
        if(contains(lowered, 'token') or contains(lowered, 'secret'),
           len(regexp_extract_all(lowered, 'token|secret')), 0) as mentions,
        if(contains(lowered, 'token') or contains(lowered, 'secret'),
           len(regexp_extract_all(
               lowered,
               '[{,]\s*"(access_token|appsecret_proof|app_secret|token)"\s*:\s*("[^"\\]*"|-?[0-9]+|true|false|null)'
           )), 0) as secrets
    from lines
),

envelope_fields as materialized (
    select
        line_no,
        text,
        parsable and mentions = secrets as parsable,
        secrets,
        json_extract(
            if(parsable, text, null),
            ['$.request', '$.pixel_id', '$.sent_at', '$.timestamp', '$.consent', '$.response', '$.data',
             '$.test_event_code', '$.url', '$.endpoint', '$.RequestUrl', '$.request_url']
        ) as f
    from checked
),

request_fields as materialized (
    select
        *,
        -- the object holding the data array: the log's request, or the line itself
        case $format
            when 'capi_log' then json_extract(f[1], ['$.data', '$.test_event_code', '$.url', '$.endpoint',
                                                     '$.RequestUrl', '$.request_url'])
            when 'capi_request' then [f[7], f[8], f[9], f[10], f[11], f[12]]
        end as b
    from envelope_fields
),

envelopes as materialized (
    select
        line_no,
        secrets,
        parsable
        and case $format
            when 'capi_events' then true
            when 'capi_log' then json_type(f[1]) = 'OBJECT'
                and fx_consent_ok(f[5])
                and (f[6] is null
                     or json_type(f[6]) not in ('VARCHAR', 'OBJECT')
                     or (json_type(f[6]) = 'OBJECT'
                         and (json_exists(f[6], '$.events_received') or json_exists(f[6], '$.error')
                              or not json_exists(f[6], '$.body'))))
                and if(fx_blank(f[3]), fx_blank(f[4]),
                       coalesce(fx_time_format(f[3]) in ('seconds', 'milliseconds', 'iso'), false))
            else true
        end
        and ($format = 'capi_events'
             or (json_type(b[1]) = 'ARRAY' and fx_text_ok(b[2])
                 and b[3] is null and b[4] is null and b[5] is null and b[6] is null))
        and ($format = 'capi_events' or fx_text_ok(f[2])) as envelope_ok,
        if($format = 'capi_events', [if(parsable, text, null)::json], json_extract(b[1], '$[*]')) as data,
        if($format = 'capi_events', $pixel_id, coalesce(fx_text(f[2]), $pixel_id)) as env_pixel_id,
        if($format = 'capi_log' and not fx_blank(f[3]), fx_time(f[3]), null) as env_sent_at,
        if($format = 'capi_events', null, fx_text(b[2])) as env_test_event_code,
        if($format = 'capi_log', fx_consent_text(f[5]), null) as env_consent,
        if($format = 'capi_log' and json_type(f[6]) = 'OBJECT', f[6], null) as env_response
    from request_fields
),

events as materialized (
    select
        line_no,
        secrets,
        envelope_ok,
        env_pixel_id,
        env_sent_at,
        env_test_event_code,
        env_consent,
        env_response,
        unnest(data) as e,
        generate_subscripts(data, 1) as pos
    from envelopes
    where envelope_ok
),

event_fields as materialized (
    select
        *,
        json_extract(e, ['$.event_name', '$.event_time', '$.event_id', '$.pixel_id', '$.sent_at',
                         '$.action_source', '$.event_source_url', '$.test_event_code', '$.consent',
                         '$.data_processing_options', '$.user_data', '$.custom_data', '$.response']) as ef
    from events
),

parts as materialized (
    select
        *,
        json_extract(ef[11], ['$.em', '$.ph', '$.fn', '$.ln', '$.ct', '$.st', '$.zp', '$.country', '$.db',
                              '$.ge', '$.external_id', '$.fbp', '$.fbc', '$.client_ip_address',
                              '$.client_user_agent', '$.lead_id']) as ud,
        json_extract(ef[12], ['$.value', '$.currency', '$.order_id', '$.content_ids', '$.contents',
                              '$.num_items', '$.content_type', '$.status', '$.predicted_ltv']) as cd,
        coalesce(if(json_type(ef[13]) = 'OBJECT', ef[13], null), env_response) as response
    from event_fields
),

firsts as materialized (
    select
        *,
        list_transform(ud, lambda v: fx_first(v)) as uf,
        json_extract(response, ['$.events_received', '$.error', '$.fbtrace_id']) as rf
    from parts
),

errors as materialized (
    select
        *,
        json_extract(if(json_type(rf[2]) = 'OBJECT', rf[2], null),
                     ['$.code', '$.error_subcode', '$.fbtrace_id']) as xf
    from firsts
),

judged as materialized (
    select
        *,
        coalesce(
            json_type(e) = 'OBJECT'
            and json_type(ef[1]) = 'VARCHAR' and ef[1]::varchar <> '""'
            and fx_blank(ef[5])
            and coalesce(json_type(ef[11]), 'NULL') in ('NULL', 'OBJECT')
            and coalesce(json_type(ef[12]), 'NULL') in ('NULL', 'OBJECT')
            and fx_time_format(ef[2]) is not null
            and fx_text_ok(ef[3]) and fx_text_ok(ef[4]) and fx_text_ok(ef[6]) and fx_text_ok(ef[7])
            and fx_text_ok(ef[8])
            -- a URL that may carry an email goes to Python (fx_mask_url_items masks the rest)
            and coalesce(not regexp_matches(fx_text(ef[7]), '@|%40'), true)
            and (ef[9] is null or fx_consent_ok(ef[9]))
            and fx_dpo_ok(ef[10])
            and fx_value_ok(cd[1]) and fx_currency_ok(cd[2]) and fx_str_ok(cd[3])
            and fx_content_ids_ok(cd[4], cd[5]) and fx_int_ok(cd[6]) and fx_str_ok(cd[7])
            and fx_str_ok(cd[8]) and fx_value_ok(cd[9])
            and list_bool_and(list_transform(uf[1:11], lambda v: fx_hashed_ok(v)))
            and fx_plain_ok('fbp', uf[12]) and fx_plain_ok('fbc', uf[13])
            and fx_plain_ok('client_ip_address', uf[14]) and fx_plain_ok('client_user_agent', uf[15])
            and fx_plain_ok('lead_id', uf[16])
            and fx_int_ok(rf[1]) and fx_int_ok(xf[1]) and fx_int_ok(xf[2])
            and coalesce(json_type(rf[3]), 'NULL') in ('NULL', 'VARCHAR')
            and coalesce(json_type(xf[3]), 'NULL') in ('NULL', 'VARCHAR'),
            false
        ) as event_ok
    from errors
)

select
    line_no,
    pos,
    -- the request's credential count goes on its first event (readers/server.py::request_events)
    if(pos = 1, secrets, 0) as secrets,
    bool_and(event_ok) over (partition by line_no) as line_ok,
    'server' as channel,
    left(coalesce(fx_text(ef[4]), env_pixel_id), 64) as pixel_id,
    left(json_extract_string(ef[1], '$'), 256) as event_name,
    left(fx_text(ef[3]), 256) as event_id,
    fx_time(ef[2]) as event_time,
    -- canonical.event_time_format: epoch digits sent as a JSON string are marked as text
    if(json_type(ef[2]) = 'VARCHAR' and fx_time_format(ef[2]) in ('seconds', 'milliseconds'),
       fx_time_format(ef[2]) || '_text',
       fx_time_format(ef[2])) as event_time_format,
    env_sent_at as sent_at,
    coalesce(env_sent_at, fx_time(ef[2])) as received_at,
    left(fx_text(ef[6]), 64) as action_source,
    -- canonical._url: the text cut to 2048 characters, masked (privacy.mask_url), cut again
    left(fx_mask_url_items(left(fx_text(ef[7]), 2048), $url_keys), 2048) as event_source_url,
    left(coalesce(fx_text(ef[8]), env_test_event_code), 64) as test_event_code,
    fx_consent(if(ef[9] is not null, fx_consent_text(ef[9]), env_consent)) as consent,
    fx_dpo(ef[10]) as data_processing_options,
    fx_value(cd[1]) as value,
    fx_value_raw(cd[1]) as value_raw,
    fx_value_check(cd[1]) as value_check,
    fx_currency(cd[2]) as currency,
    fx_currency_check(cd[2]) as currency_check,
    left(fx_str(cd[3]), 256) as order_id,
    fx_content_ids(cd[4], cd[5]) as content_ids,
    fx_int(cd[6]) as num_items,
    left(fx_str(cd[7]), 64) as content_type,
    left(fx_str(cd[8]), 64) as status,
    fx_value(cd[9]) as predicted_ltv,
    fx_hashed(uf[1]) as em,
    fx_hashed(uf[2]) as ph,
    fx_hashed(uf[3]) as fn,
    fx_hashed(uf[4]) as ln,
    fx_hashed(uf[5]) as ct,
    fx_hashed(uf[6]) as st,
    fx_hashed(uf[7]) as zp,
    fx_hashed(uf[8]) as country,
    fx_hashed(uf[9]) as db,
    fx_hashed(uf[10]) as ge,
    fx_hashed(uf[11]) as external_id,
    fx_plain(uf[12]) as fbp,
    fx_plain(uf[13]) as fbc,
    fx_plain(uf[14]) as client_ip_address,
    fx_plain(uf[15]) as client_user_agent,
    fx_plain(uf[16]) as lead_id,
    fx_hashed_check(uf[1]) as em_check,
    fx_hashed_check(uf[2]) as ph_check,
    fx_hashed_check(uf[3]) as fn_check,
    fx_hashed_check(uf[4]) as ln_check,
    fx_hashed_check(uf[5]) as ct_check,
    fx_hashed_check(uf[6]) as st_check,
    fx_hashed_check(uf[7]) as zp_check,
    fx_hashed_check(uf[8]) as country_check,
    fx_hashed_check(uf[9]) as db_check,
    fx_hashed_check(uf[10]) as ge_check,
    fx_hashed_check(uf[11]) as external_id_check,
    fx_plain_check('fbp', uf[12]) as fbp_check,
    fx_plain_check('fbc', uf[13]) as fbc_check,
    fx_plain_check('client_ip_address', uf[14]) as client_ip_address_check,
    fx_plain_check('client_user_agent', uf[15]) as client_user_agent_check,
    fx_plain_check('lead_id', uf[16]) as lead_id_check,
    fx_int(rf[1]) as response_events_received,
    fx_int(xf[1]) as response_error_code,
    fx_int(xf[2]) as response_error_subcode,
    left(coalesce(fx_text(rf[3]), fx_text(xf[3])), 128) as fbtrace_id
from judged
