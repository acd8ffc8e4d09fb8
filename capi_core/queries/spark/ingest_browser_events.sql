-- browser_events on Spark: JSONL lines in server-event shape (view _spark_lines(line_no, text)) -> one
-- canonical events row per line, channel browser, as readers/browser.py::BrowserEventsReader (CapiEventsReader
-- with channel browser, action_source website unless the record says) + canonical.canonical_event give it.
-- JSONL only: a JSON array document is not line-based, the driver reads it with Python.
-- Parameters: :pixel_id (ReadOptions.pixel_id, may be null), :default_country (ReadOptions.default_country,
-- may be null; only the phone and US-zip rules use it, and those values go to Python), :max_line
-- (characters; a longer line is not line_ok). Contract: engines/spark_formats.py.
--
-- Spark SQL of its own, not a sqlglot translation of ingest_fast_events.sql: that query stands on DuckDB
-- macros, lambdas over json_extract lists and json_type, which sqlglot does not map. Here try_parse_json,
-- schema_of_variant and variant_get/try_variant_get (VARIANT) say what json_type says, and higher-order
-- functions over arrays stand in for the macros. What goes to Python (line_ok false):
-- * JSON Spark reads but orjson refuses or reads differently: parse_json ignores text after the value,
--   so the line is parsed wrapped as '[' || line || ',"\u0000"]' and must come back as [object, "\u0000"];
--   NaN/Infinity, exponents of 3 digits (orjson: infinity), 300-digit numbers, -0 (VARIANT has no
--   negative zero), control characters, \u escapes of surrogates, NUL or letters (a credential key could
--   be spelt with them), duplicate keys (parse_json refuses them, orjson keeps the last);
-- * credentials privacy.strip_secrets would count differently than a regex can: every "token"/"secret" in
--   the line must be a credential key with a scalar value, counted on pos 1;
-- * values whose Python text this query does not reproduce: non-integral or exponent numbers where a text
--   or an integer is needed (repr, int() truncation), objects/arrays printed by str(); value/predicted_ltv
--   decimals are taken when their repr is their plain digits (at most 15 significant, 1e-4 <= |x| < 1e16);
-- * event times other than integer epochs, digit strings and ISO 'YYYY-MM-DDTHH:MM:SS[.fff|.ffffff][Z|+HH:MM]';
-- * raw user data as in ingest_pixel_beacons.sql (same steps): ph, db, st/country names, US-region zips,
--   non-IPv4 IPs, non-ASCII text; and a URL with an email that is not printable ASCII (masked in Python).
-- Shared with ingest_fbq_jsonl.sql / ingest_pixel_beacons.sql: the spark/_json_*.sql and spark/_browser_*.sql
-- fragments that the include lines below pull in (queries.load_query expands them).
with
-- @include spark/_json_records

record_fields as (
    select
        *,
        m['event_name'] as v_name,
        m['event_time'] as v_time,
        m['sent_at'] as v_sent,
        m['consent'] as v_consent,
        map_contains_key(m, 'consent') as has_consent,
        m['data_processing_options'] as v_dpo,
        m['user_data'] as v_ud,
        m['custom_data'] as v_cd,
        try_variant_get(m['user_data'], '$', 'map<string, variant>') as ud_map,
        try_variant_get(m['custom_data'], '$', 'map<string, variant>') as cd_map,
        try_variant_get(m['response'], '$', 'map<string, variant>') as resp,
        -- server._text of event_id, pixel_id, action_source, event_source_url, test_event_code: strings as
        -- sent, integers as digits, booleans as Python prints them; bad = Python would print it otherwise
        transform(
            array(m['event_id'], m['pixel_id'], m['action_source'], m['event_source_url'], m['test_event_code']),
            x -> named_struct(
                'text', case schema_of_variant(x)
                    when 'STRING' then nullif(variant_get(x, '$', 'string'), '')
                    when 'BIGINT' then cast(variant_get(x, '$', 'bigint') as string)
                    when 'BOOLEAN' then if(variant_get(x, '$', 'boolean'), 'True', 'False')
                end,
                'ok', x is null or schema_of_variant(x) in ('STRING', 'BIGINT', 'BOOLEAN', 'VOID')
            )
        ) as texts
    from records
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
                'value', if(try_variant_get(ud_map[k], '$', 'array<variant>') is not null,
                    try_element_at(filter(try_variant_get(ud_map[k], '$', 'array<variant>'),
                                          e -> schema_of_variant(e) <> 'VOID'
                                               and coalesce(try_variant_get(e, '$', 'string') <> '' or schema_of_variant(e) <> 'STRING', true)),
                                   1),
                    ud_map[k])
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
            parsed_ok and m is not null
            and schema_of_variant(v_name) = 'STRING' and variant_get(v_name, '$', 'string') <> ''
            and forall(texts, x -> x.ok)
            and (texts[3].text is null or masked_url is not null)
            and time_parts[0].kind is not null
            and time_parts[1].kind in ('missing', 'seconds', 'milliseconds', 'iso')
            and (time_parts[0].kind not in ('seconds', 'milliseconds', 'iso') or time_values[0] is not null)
            and (time_parts[1].kind not in ('seconds', 'milliseconds', 'iso') or time_values[1] is not null)
            and (v_ud is null or schema_of_variant(v_ud) = 'VOID' or ud_map is not null)
            and (v_cd is null or schema_of_variant(v_cd) = 'VOID' or cd_map is not null)
            and forall(amounts, a -> a.check is not null)
            and forall(custom_texts, x -> x.ok)
            and (currency_text is null or currency_text rlike r'^[\x00-\x7F]*\z')
            and forall(ints, x -> x.ok)
            and (id_items is null or forall(ids_str, x -> x is not null and not x rlike r'[\x00-\x1F]'))
            and (consent_value is null or schema_of_variant(consent_value) not in ('DOUBLE')
                 and not schema_of_variant(consent_value) like 'DECIMAL%')
            and dpo_ok
            and forall(traces, x -> x.ok)
            and forall(ud, u -> u.ok),
            false
        ) as line_ok
    from judged
),

-- the event a line stores: null for a blank line or one left to Python (see spark/_browser_rows.sql)
contents as (
    select
        r.*,
        if(r.line_ok and not r.skipped, named_struct(
            'channel', 'browser',
            'pixel_id', left(nullif(coalesce(r.texts[1].text, :pixel_id), ''), 64),
            'event_name', left(variant_get(r.v_name, '$', 'string'), 256),
            'event_id', left(r.texts[0].text, 256),
            'event_time', r.time_values[0],
            'event_time_format', r.time_parts[0].kind,
            'sent_at', r.time_values[1],
            'received_at', coalesce(r.time_values[1], r.time_values[0]),
            -- @include spark/_json_event_fields
        ), null) as content
    from mapped r
)

-- @include spark/_browser_rows
