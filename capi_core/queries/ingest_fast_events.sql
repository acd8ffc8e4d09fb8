-- Server JSONL lines (temp table _fast_lines) -> one row per event: canonical columns plus whether
-- SQL could decide every value (line_ok; otherwise the Python reader reads that line). The envelope's
-- values and then each event's become leaves (their type and text) in two parses of the line and two of
-- the event (fx_leaves: json_type and json_extract_string with a path list, not one parse per value);
-- the fx_ macros read the leaves without parsing again.
-- Parameters: $format (capi_log | capi_request | capi_events), $pixel_id (ReadOptions.pixel_id),
-- $max_line (characters; longer lines go to Python, which refuses them), $url_keys (page-URL keys whose
-- values are kept: privacy.url_keys_kept). Needs ingest_fast_macros.
create temp table _fast_events as
with lines as (
    select
        line_no,
        text
    from _fast_lines
    where text is not null
      and not regexp_full_match(text, '[ \t]*')
),

-- One regex pass over each line finds both what makes a line need a closer look: a credential word, or
-- what yyjson accepts and orjson refuses (NaN/Infinity, trailing commas, overflowing exponents) or
-- escaped letters that could spell a credential key. (?i) matches at least what these patterns match on
-- the lowercased line; routing more lines than needed is safe (Python reads them).
checked as materialized (
    select
        line_no,
        text,
        length(text) <= $max_line
        and json_valid(text)
        and starts_with(ltrim(text, chr(32) || chr(9)), '{')
        and not contains(text, chr(8490))
        -- _json.too_deep walks only a line with more than MAX_DEPTH (64) brackets; such a line goes to Python
        and strlen(text) - strlen(replace(replace(text, '{', ''), '[', '')) <= 64 as well_formed,
        regexp_matches(
            text,
            '(?i)token|secret|[\[:,]\s*[-+]?(nan|inf)|,\s*[\]}]|[\[:,]\s*-?[0-9]+(\.[0-9]+)?e[-+]?[0-9]{3}|\\u(00[4-7][0-9a-f]|212a)'
        ) as flagged
    from lines
),

-- privacy.strip_secrets: every credential key with a scalar value counts once; any other mention of
-- token/secret (nested values, access_token= in text) is left to Python
counted as (
    select
        line_no,
        text,
        -- a case, not an and: the regex then runs on flagged lines only
        well_formed
        and case
            when flagged then not regexp_matches(
                text,
                '(?i)[\[:,]\s*[-+]?(nan|inf)|,\s*[\]}]|[\[:,]\s*-?[0-9]+(\.[0-9]+)?e[-+]?[0-9]{3}|\\u(00[4-7][0-9a-f]|212a)'
            )
            else true
        end as parsable,
        coalesce(len(regexp_extract_all(lowered, 'token|secret')), 0) as mentions,
        coalesce(len(regexp_extract_all(
            lowered,
            '[{,]\s*"(access_token|appsecret_proof|app_secret|token)"\s*:\s*("[^"\\]*"|-?[0-9]+|true|false|null)'
        )), 0) as secrets
    from (
        select
            *,
            -- lowered only when flagged: the usual line has no credential word
            if(flagged, lower(text), null) as lowered
        from checked
    )
),

-- the envelope's fields as leaves (fx_leaves: two parses of the line): the data array and its siblings
-- (in the log's request, or in the line itself), then the log's own fields and its response's
envelope_fields as materialized (
    select
        line_no,
        secrets,
        if($format = 'capi_events', text, null) as event_line,
        case $format
            when 'capi_log' then fx_leaves(
                text,
                ['$.request.data', '$.request.test_event_code', '$.request.url', '$.request.endpoint',
                 '$.request.RequestUrl', '$.request.request_url', '$.pixel_id', '$.sent_at', '$.timestamp',
                 '$.consent', '$.response', '$.response.events_received', '$.response.error',
                 '$.response.fbtrace_id', '$.response.error.code', '$.response.error.error_subcode',
                 '$.response.error.fbtrace_id']
            )
            when 'capi_request' then fx_leaves(
                text,
                ['$.data', '$.test_event_code', '$.url', '$.endpoint', '$.RequestUrl', '$.request_url',
                 '$.pixel_id']
            )
        end as x,
        -- every object read here (capi_events: the line is the event, checked with its fields)
        case $format
            when 'capi_log'
                then fx_unique_keys(json_keys(text, ['$', '$.request', '$.response', '$.response.error']))
            when 'capi_request' then fx_unique_keys(json_keys(text, ['$']))
            else true
        end as unique_keys
    from counted
    where parsable
      and mentions = secrets
),

envelope_leaves as (
    select
        line_no,
        secrets,
        event_line,
        unique_keys,
        fx_node_at(x, 1) as data,
        fx_leaf_at(x, 2) as test_event_code,
        x.t[3] is null and x.t[4] is null and x.t[5] is null and x.t[6] is null as no_url,
        fx_leaf_at(x, 7) as pixel_id,
        fx_leaf_at(x, 8) as sent_at,
        fx_leaf_at(x, 9) as timestamp,
        fx_leaf_at(x, 10) as consent,
        fx_node_at(x, 11) as response,
        {
            'events_received': fx_leaf_at(x, 12),
            'error': fx_leaf_at(x, 13),
            'fbtrace_id': fx_leaf_at(x, 14),
            'error_code': fx_leaf_at(x, 15),
            'error_subcode': fx_leaf_at(x, 16),
            'error_fbtrace_id': fx_leaf_at(x, 17)
        } as response_fields
    from envelope_fields
),

envelopes as materialized (
    select
        line_no,
        secrets,
        case $format
            when 'capi_events' then true
            when 'capi_log' then fx_consent_ok(consent)
                and (response.t is null
                     or response.t not in ('VARCHAR', 'OBJECT')
                     or (response.t = 'OBJECT'
                         and (json_exists(fx_object(response), '$.events_received')
                              or json_exists(fx_object(response), '$.error')
                              or not json_exists(fx_object(response), '$.body'))))
                and if(fx_blank(sent_at), fx_blank(timestamp),
                       coalesce(sent_format in ('seconds', 'milliseconds', 'iso'), false))
            else true
        end
        and ($format = 'capi_events' or (data.t = 'ARRAY' and fx_text_ok(test_event_code) and no_url))
        and ($format = 'capi_events' or fx_text_ok(pixel_id))
        and unique_keys as envelope_ok,
        if($format = 'capi_events',
           [event_line::json],
           fx_items(data)) as data,
        if($format = 'capi_events', $pixel_id, coalesce(fx_text(pixel_id), $pixel_id)) as env_pixel_id,
        if($format = 'capi_log' and not fx_blank(sent_at), fx_time(sent_at, sent_format), null) as env_sent_at,
        if($format = 'capi_events', null, fx_text(test_event_code)) as env_test_event_code,
        if($format = 'capi_log', fx_consent_text(consent), null) as env_consent,
        if($format = 'capi_log' and response.t = 'OBJECT', response_fields, null) as env_response_fields
    from (
        select
            *,
            if($format = 'capi_log', fx_time_format(sent_at), null) as sent_format
        from envelope_leaves
    )
),

events as (
    select
        line_no,
        secrets,
        env_pixel_id,
        env_sent_at,
        env_test_event_code,
        env_consent,
        env_response_fields,
        unnest(data) as e,
        generate_subscripts(data, 1) as pos
    from envelopes
    where envelope_ok
),

-- each event's fields as leaves (fx_leaves: two parses of the event): its own, its user_data's, its
-- custom_data's and its response's (a path into a field that is not an object gives null; the field's
-- type routes the line)
event_fields as materialized (
    select
        line_no,
        pos,
        secrets,
        env_pixel_id,
        env_sent_at,
        env_test_event_code,
        env_consent,
        $format = 'capi_events' or starts_with(e::varchar, '{') as is_object,
        fx_unique_keys(json_keys(
            e, ['$', '$.user_data', '$.custom_data', '$.response', '$.response.error', '$.consent']
        )) as unique_keys,
        {
            'event_name': fx_leaf_at(x, 1),
            'event_time': fx_leaf_at(x, 2),
            'event_id': fx_leaf_at(x, 3),
            'pixel_id': fx_leaf_at(x, 4),
            'sent_at': fx_leaf_at(x, 5),
            'action_source': fx_leaf_at(x, 6),
            'event_source_url': fx_leaf_at(x, 7),
            'test_event_code': fx_leaf_at(x, 8),
            'consent': fx_leaf_at(x, 9),
            'data_processing_options': fx_leaf_at(x, 10),
            'user_data': fx_node_at(x, 11),
            'custom_data': fx_node_at(x, 12),
            'response': fx_node_at(x, 13)
        } as ev,
        {
            'em': fx_first(fx_leaf_at(x, 14)),
            'ph': fx_first(fx_leaf_at(x, 15)),
            'fn': fx_first(fx_leaf_at(x, 16)),
            'ln': fx_first(fx_leaf_at(x, 17)),
            'ct': fx_first(fx_leaf_at(x, 18)),
            'st': fx_first(fx_leaf_at(x, 19)),
            'zp': fx_first(fx_leaf_at(x, 20)),
            'country': fx_first(fx_leaf_at(x, 21)),
            'db': fx_first(fx_leaf_at(x, 22)),
            'ge': fx_first(fx_leaf_at(x, 23)),
            'external_id': fx_first(fx_leaf_at(x, 24)),
            'fbp': fx_first(fx_leaf_at(x, 25)),
            'fbc': fx_first(fx_leaf_at(x, 26)),
            'client_ip_address': fx_first(fx_leaf_at(x, 27)),
            'client_user_agent': fx_first(fx_leaf_at(x, 28)),
            'lead_id': fx_first(fx_leaf_at(x, 29))
        } as ud,
        {
            'value': fx_leaf_at(x, 30),
            'currency': fx_leaf_at(x, 31),
            'order_id': fx_leaf_at(x, 32),
            'content_ids': fx_leaf_at(x, 33),
            'contents': fx_leaf_at(x, 34),
            'num_items': fx_leaf_at(x, 35),
            'content_type': fx_leaf_at(x, 36),
            'status': fx_leaf_at(x, 37),
            'predicted_ltv': fx_leaf_at(x, 38)
        } as cd,
        -- the event's response, else the log's (canonical: the event's own wins when it is an object)
        if(x.t[13] = 'OBJECT',
           {
               'events_received': fx_leaf_at(x, 39),
               'error': fx_leaf_at(x, 40),
               'fbtrace_id': fx_leaf_at(x, 41),
               'error_code': fx_leaf_at(x, 42),
               'error_subcode': fx_leaf_at(x, 43),
               'error_fbtrace_id': fx_leaf_at(x, 44)
           },
           env_response_fields) as rf
    from (
        select
            *,
            fx_leaves(
                e,
                ['$.event_name', '$.event_time', '$.event_id', '$.pixel_id', '$.sent_at', '$.action_source',
                 '$.event_source_url', '$.test_event_code', '$.consent', '$.data_processing_options',
                 '$.user_data', '$.custom_data', '$.response', '$.user_data.em', '$.user_data.ph',
                 '$.user_data.fn', '$.user_data.ln', '$.user_data.ct', '$.user_data.st', '$.user_data.zp',
                 '$.user_data.country', '$.user_data.db', '$.user_data.ge', '$.user_data.external_id',
                 '$.user_data.fbp', '$.user_data.fbc', '$.user_data.client_ip_address',
                 '$.user_data.client_user_agent', '$.user_data.lead_id', '$.custom_data.value',
                 '$.custom_data.currency', '$.custom_data.order_id', '$.custom_data.content_ids',
                 '$.custom_data.contents', '$.custom_data.num_items', '$.custom_data.content_type',
                 '$.custom_data.status', '$.custom_data.predicted_ltv', '$.response.events_received',
                 '$.response.error', '$.response.fbtrace_id', '$.response.error.code',
                 '$.response.error.error_subcode', '$.response.error.fbtrace_id']
            ) as x
        from events
    )
),

judged as materialized (
    select
        line_no,
        pos,
        -- the request's credential count goes on its first event (readers/server.py::request_events)
        if(pos = 1, secrets, 0) as secrets,
        coalesce(
            is_object
            and unique_keys
            and ev.event_name.t = 'VARCHAR' and ev.event_name.s <> ''
            and fx_blank(ev.sent_at)
            and coalesce(ev.user_data.t, 'NULL') in ('NULL', 'OBJECT')
            and coalesce(ev.custom_data.t, 'NULL') in ('NULL', 'OBJECT')
            and time_format is not null
            and fx_text_ok(ev.event_id) and fx_text_ok(ev.pixel_id) and fx_text_ok(ev.action_source)
            and fx_text_ok(ev.event_source_url) and fx_text_ok(ev.test_event_code)
            -- a URL that may carry an email goes to Python (fx_mask_url_items masks the rest)
            and coalesce(not regexp_matches(fx_text(ev.event_source_url), '@|%40'), true)
            and (ev.consent.t is null or fx_consent_ok(ev.consent))
            and fx_dpo_ok(ev.data_processing_options)
            and fx_value_ok(cd.value) and fx_currency_ok(cd.currency) and fx_str_ok(cd.order_id)
            and fx_content_ids_ok(content_id_items, cd.contents) and fx_int_ok(cd.num_items)
            and fx_str_ok(cd.content_type) and fx_str_ok(cd.status) and fx_value_ok(cd.predicted_ltv)
            and fx_hashed_ok(ud.em) and fx_hashed_ok(ud.ph) and fx_hashed_ok(ud.fn) and fx_hashed_ok(ud.ln)
            and fx_hashed_ok(ud.ct) and fx_hashed_ok(ud.st) and fx_hashed_ok(ud.zp) and fx_hashed_ok(ud.country)
            and fx_hashed_ok(ud.db) and fx_hashed_ok(ud.ge) and fx_hashed_ok(ud.external_id)
            and fx_plain_ok('fbp', ud.fbp) and fx_plain_ok('fbc', ud.fbc)
            and fx_plain_ok('client_ip_address', ud.client_ip_address)
            and fx_plain_ok('client_user_agent', ud.client_user_agent)
            and fx_plain_ok('lead_id', ud.lead_id)
            and fx_int_ok(rf.events_received) and fx_int_ok(rf.error_code) and fx_int_ok(rf.error_subcode)
            and coalesce(rf.fbtrace_id.t, 'NULL') in ('NULL', 'VARCHAR')
            and coalesce(rf.error_fbtrace_id.t, 'NULL') in ('NULL', 'VARCHAR'),
            false
        ) as event_ok,
        'server' as channel,
        left(coalesce(fx_text(ev.pixel_id), env_pixel_id), 64) as pixel_id,
        left(ev.event_name.s, 256) as event_name,
        left(fx_text(ev.event_id), 256) as event_id,
        fx_time(ev.event_time, time_format) as event_time,
        -- canonical.event_time_format: epoch digits sent as a JSON string are marked as text
        if(ev.event_time.t = 'VARCHAR' and time_format in ('seconds', 'milliseconds'),
           time_format || '_text',
           time_format) as event_time_format,
        env_sent_at as sent_at,
        coalesce(env_sent_at, fx_time(ev.event_time, time_format)) as received_at,
        left(fx_text(ev.action_source), 64) as action_source,
        -- canonical._url: the text cut to 2048 characters, masked (privacy.mask_url), cut again
        left(fx_mask_url_items(left(fx_text(ev.event_source_url), 2048), $url_keys), 2048) as event_source_url,
        left(coalesce(fx_text(ev.test_event_code), env_test_event_code), 64) as test_event_code,
        fx_consent(consent_text) as consent,
        fx_dpo(ev.data_processing_options) as data_processing_options,
        fx_value(cd.value) as value,
        fx_value_raw(cd.value) as value_raw,
        fx_value_check(cd.value) as value_check,
        fx_currency(cd.currency) as currency,
        fx_currency_check(cd.currency) as currency_check,
        left(fx_str(cd.order_id), 256) as order_id,
        fx_content_ids(content_id_items) as content_ids,
        fx_int(cd.num_items) as num_items,
        left(fx_str(cd.content_type), 64) as content_type,
        left(fx_str(cd.status), 64) as status,
        fx_value(cd.predicted_ltv) as predicted_ltv,
        fx_hashed(ud.em) as em,
        fx_hashed(ud.ph) as ph,
        fx_hashed(ud.fn) as fn,
        fx_hashed(ud.ln) as ln,
        fx_hashed(ud.ct) as ct,
        fx_hashed(ud.st) as st,
        fx_hashed(ud.zp) as zp,
        fx_hashed(ud.country) as country,
        fx_hashed(ud.db) as db,
        fx_hashed(ud.ge) as ge,
        fx_hashed(ud.external_id) as external_id,
        fx_plain(ud.fbp) as fbp,
        fx_plain(ud.fbc) as fbc,
        fx_plain(ud.client_ip_address) as client_ip_address,
        fx_plain(ud.client_user_agent) as client_user_agent,
        fx_plain(ud.lead_id) as lead_id,
        fx_hashed_check(ud.em) as em_check,
        fx_hashed_check(ud.ph) as ph_check,
        fx_hashed_check(ud.fn) as fn_check,
        fx_hashed_check(ud.ln) as ln_check,
        fx_hashed_check(ud.ct) as ct_check,
        fx_hashed_check(ud.st) as st_check,
        fx_hashed_check(ud.zp) as zp_check,
        fx_hashed_check(ud.country) as country_check,
        fx_hashed_check(ud.db) as db_check,
        fx_hashed_check(ud.ge) as ge_check,
        fx_hashed_check(ud.external_id) as external_id_check,
        fx_plain_check('fbp', ud.fbp) as fbp_check,
        fx_plain_check('fbc', ud.fbc) as fbc_check,
        fx_plain_check('client_ip_address', ud.client_ip_address) as client_ip_address_check,
        fx_plain_check('client_user_agent', ud.client_user_agent) as client_user_agent_check,
        fx_plain_check('lead_id', ud.lead_id) as lead_id_check,
        fx_int(rf.events_received) as response_events_received,
        fx_int(rf.error_code) as response_error_code,
        fx_int(rf.error_subcode) as response_error_subcode,
        left(coalesce(fx_text(rf.fbtrace_id), fx_text(rf.error_fbtrace_id)), 128) as fbtrace_id
    from (
        -- computed once here: fx_time and fx_consent compare them with many constants; the content ids
        -- are checked and stored
        select
            *,
            fx_time_format(ev.event_time) as time_format,
            if(ev.consent.t is not null, fx_consent_text(ev.consent), env_consent) as consent_text,
            fx_ids(cd.content_ids, cd.contents) as content_id_items
        from event_fields
    )
),

-- a line is read here only when SQL decides every one of its events
line_verdicts as (
    select
        line_no,
        bool_and(event_ok) as line_ok
    from judged
    group by line_no
)

select
    j.* exclude (event_ok),
    v.line_ok
from judged j
join line_verdicts v using (line_no)
