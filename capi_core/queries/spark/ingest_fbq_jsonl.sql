-- fbq_jsonl on Spark: JSONL of logged fbq calls {"ts", "pixel_id", "fbq": [..call..], "fbp", "fbc", "url",
-- "user_agent", "consent", "user_data"} (view _spark_lines(line_no, text)) -> one canonical events row per
-- tracking call, as readers/browser.py::FbqJsonlReader (fbq_event) + canonical.canonical_event give it.
-- track/trackCustom name the event as the call's 2nd element, trackSingle/trackSingleCustom name the
-- pixel 2nd and the event 3rd; any other command (init, consent, set ...) is no event: one row, pos 0,
-- line_ok true. JSONL only (a JSON array document is read by Python).
-- Parameters: :pixel_id (ReadOptions.pixel_id, may be null), :default_country (ReadOptions.default_country,
-- may be null; only the phone and US-zip rules use it, and those values go to Python), :max_line
-- (characters; a longer line is not line_ok). Contract: engines/spark_formats.py.
--
-- Spark SQL of its own (no DuckDB twin to translate; the DuckDB fast path covers server logs only). It
-- shares its steps with ingest_browser_events.sql (JSON checks, secrets, times, custom data, user data:
-- see that file for what goes to Python and why); what differs is the record: the call list read with
-- try_variant_get(.., 'array<variant>') and padded with nulls as _fbq_parts pads with None, ts -> sent_at
-- and event_time (a datetime: format 'datetime'), eventID from the options object, fbp/fbc/user_agent
-- of the record added to user_data where it lacks them, url taken only when truthy (Python's `or None`).
-- Also to Python: a record without a call list, a call without an event name, parameters or options that
-- are not objects, a ts that is not a time (all quarantined by Python), non-empty object/array urls.
-- Shared with ingest_browser_events.sql / ingest_pixel_beacons.sql: the spark/_json_*.sql and spark/_browser_*.sql
-- fragments that the include lines below pull in (queries.load_query expands them).
with
-- @include spark/_json_records

fields as (
    select
        *,
        try_variant_get(m['fbq'], '$', 'array<variant>') as call,
        -- _TRACK: 1 = track/trackCustom, 2 = trackSingle/trackSingleCustom, 0 = another command (no event)
        case try_variant_get(m['fbq'], '$[0]', 'string')
            when 'track' then 1 when 'trackCustom' then 1
            when 'trackSingle' then 2 when 'trackSingleCustom' then 2
            else 0
        end as shift,
        try_variant_get(m['fbq'], '$', 'array<variant>') is not null
        and schema_of_variant(try_variant_get(m['fbq'], '$[0]')) = 'STRING' as call_ok
    from records
),

call_parts as (
    select
        *,
        -- (pixel, name, custom, options) as _fbq_parts gives them (None past the end of the call)
        if(shift = 2, try_element_at(call, 2), m['pixel_id']) as v_pixel,
        try_element_at(call, shift + 1) as v_name,
        try_element_at(call, shift + 2) as v_custom,
        try_element_at(call, shift + 3) as v_extra
    from fields
),

record_fields as (
    select
        *,
        m['ts'] as v_time,
        m['ts'] as v_sent,
        m['consent'] as v_consent,
        cast(null as variant) as v_dpo,
        try_variant_get(m['user_data'], '$', 'map<string, variant>') as ud_map,
        try_variant_get(v_custom, '$', 'map<string, variant>') as cd_map,
        cast(null as map<string, variant>) as resp,
        -- the record's fbp / fbc / user_agent when not None or "" (added to user_data where it lacks them)
        transform(array(m['fbp'], m['fbc'], m['user_agent']), x -> if(
            x is null or schema_of_variant(x) = 'VOID'
            or (schema_of_variant(x) = 'STRING' and variant_get(x, '$', 'string') = ''), null, x)) as extras,
        -- (text, ok) of eventID, pixel, (action_source), url, (test_event_code): str() of strings,
        -- integers and booleans; other types go to Python. A pixel that is None or "" is the option's;
        -- a falsy url (None, "", 0, false, {}, []) is None.
        array(
            named_struct(
                'text', case schema_of_variant(try_variant_get(v_extra, '$.eventID'))
                    when 'STRING' then nullif(variant_get(try_variant_get(v_extra, '$.eventID'), '$', 'string'), '')
                    when 'BIGINT' then cast(variant_get(try_variant_get(v_extra, '$.eventID'), '$', 'bigint') as string)
                    when 'BOOLEAN' then if(variant_get(try_variant_get(v_extra, '$.eventID'), '$', 'boolean'), 'True', 'False')
                end,
                'ok', try_variant_get(v_extra, '$.eventID') is null
                      or schema_of_variant(try_variant_get(v_extra, '$.eventID')) in ('STRING', 'BIGINT', 'BOOLEAN', 'VOID')),
            named_struct(
                'text', case schema_of_variant(v_pixel)
                    when 'STRING' then nullif(variant_get(v_pixel, '$', 'string'), '')
                    when 'BIGINT' then cast(variant_get(v_pixel, '$', 'bigint') as string)
                    when 'BOOLEAN' then if(variant_get(v_pixel, '$', 'boolean'), 'True', 'False')
                end,
                'ok', v_pixel is null or schema_of_variant(v_pixel) in ('STRING', 'BIGINT', 'BOOLEAN', 'VOID')),
            named_struct('text', cast(null as string), 'ok', true),
            named_struct(
                'text', case schema_of_variant(m['url'])
                    when 'STRING' then nullif(variant_get(m['url'], '$', 'string'), '')
                    when 'BIGINT' then nullif(cast(variant_get(m['url'], '$', 'bigint') as string), '0')
                    when 'BOOLEAN' then if(variant_get(m['url'], '$', 'boolean'), 'True', null)
                end,
                'ok', m['url'] is null or schema_of_variant(m['url']) in ('STRING', 'BIGINT', 'BOOLEAN', 'VOID')
                      or to_json(m['url']) in ('{}', '[]')),
            named_struct('text', cast(null as string), 'ok', true)
        ) as texts
    from call_parts
),

-- @include spark/_json_record_values

user_firsts as (
    select
        *,
        -- canonical._first on each user_data key (first item that is not null or ""), then its text:
        -- strings as sent, integers as digits, booleans as str(); bad = another type (Python's str())
        transform(
            array('em', 'ph', 'fn', 'ln', 'ct', 'st', 'zp', 'country', 'db', 'ge', 'external_id',
                  'fbp', 'fbc', 'client_ip_address', 'client_user_agent', 'lead_id'),
            k -> named_struct(
                'key', k,
                'value', if(try_variant_get(
                        if(coalesce(map_contains_key(ud_map, k), false), ud_map[k],
                           case k when 'fbp' then extras[0] when 'fbc' then extras[1] when 'client_user_agent' then extras[2] end),
                        '$', 'array<variant>') is not null,
                    try_element_at(filter(try_variant_get(
                        if(coalesce(map_contains_key(ud_map, k), false), ud_map[k],
                           case k when 'fbp' then extras[0] when 'fbc' then extras[1] when 'client_user_agent' then extras[2] end),
                        '$', 'array<variant>'),
                                          e -> schema_of_variant(e) <> 'VOID'
                                               and coalesce(try_variant_get(e, '$', 'string') <> '' or schema_of_variant(e) <> 'STRING', true)),
                                   1),
                    if(coalesce(map_contains_key(ud_map, k), false), ud_map[k],
                       case k when 'fbp' then extras[0] when 'fbc' then extras[1] when 'client_user_agent' then extras[2] end))
            )
        ) as user_values
    from ids_text
),

-- @include spark/_json_user_raws

-- @include spark/_browser_user_data

-- @include spark/_json_judged

mapped as (
    select
        *,
        coalesce(
            parsed_ok and m is not null and call_ok
            and (shift = 0 or (
                schema_of_variant(v_name) = 'STRING' and variant_get(v_name, '$', 'string') <> ''
                and (v_custom is null or schema_of_variant(v_custom) = 'VOID' or cd_map is not null)
                and (v_extra is null or schema_of_variant(v_extra) = 'VOID'
                     or try_variant_get(v_extra, '$', 'map<string, variant>') is not null)
                and forall(texts, x -> x.ok)
                and (texts[3].text is null or masked_url is not null)
                and time_parts[0].kind in ('missing', 'seconds', 'milliseconds', 'iso')
                and (time_parts[0].kind = 'missing' or time_values[0] is not null)
                and forall(amounts, a -> a.check is not null)
                and forall(custom_texts, x -> x.ok)
                and (currency_text is null or currency_text rlike r'^[\x00-\x7F]*\z')
                and forall(ints, x -> x.ok)
                and (id_items is null or forall(ids_str, x -> x is not null and not x rlike r'[\x00-\x1F]'))
                and (consent_value is null or schema_of_variant(consent_value) not in ('DOUBLE')
                     and not schema_of_variant(consent_value) like 'DECIMAL%')
                and forall(ud, u -> u.ok))),
            false
        ) as line_ok
    from judged
),

-- the event a line stores: null for a blank line, a call that is not an event or a line left to
-- Python (see spark/_browser_rows.sql)
contents as (
    select
        r.*,
        if(r.line_ok and not r.skipped and r.shift > 0, named_struct(
            'channel', 'browser',
            'pixel_id', left(nullif(coalesce(r.texts[1].text, :pixel_id), ''), 64),
            'event_name', left(variant_get(r.v_name, '$', 'string'), 256),
            'event_id', left(r.texts[0].text, 256),
            'event_time', r.time_values[0],
            'event_time_format', if(r.time_values[0] is null, 'missing', 'datetime'),
            'sent_at', r.time_values[0],
            'received_at', r.time_values[0],
            -- @include spark/_json_event_fields
        ), null) as content
    from mapped r
)

-- @include spark/_browser_rows
