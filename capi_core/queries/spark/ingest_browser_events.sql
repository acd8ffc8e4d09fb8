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
with lines as (
    select
        line_no,
        coalesce(text, '') as text,
        -- str.strip(): exactly the characters Python's str.isspace() accepts
        reverse(regexp_replace(reverse(regexp_replace(coalesce(text, ''), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')) as stripped
    from _spark_lines
),

parsed as (
    select
        line_no,
        text,
        stripped = '' as skipped,
        length(text) <= :max_line as short_enough,
        length(text) <= :max_line
        and not text rlike r'[\x00-\x08\x0A-\x1F]'
        and not contains(text, '\u212A')
        and not lower(text) rlike r'\\u(d[89a-f]|0000|00[4-7][0-9a-f]|212a)'
        and not lower(text) rlike r'[\[:,]\s*[-+]?(nan|inf)'
        and not lower(text) rlike r'[0-9]e[-+]?[0-9]{3}'
        and not text rlike r'[0-9]{300}'
        and not text rlike r'[\[:,]\s*-0(\.0*)?([eE][-+]?[0-9]+)?\s*[,}\]]' as plain,
        -- privacy.strip_secrets (only run when the line mentions token/secret: _json.may_hold_secret)
        regexp_count(lower(text), 'token|secret') as mentions,
        regexp_count(
            lower(text),
            r'[{,]\s*"(access_token|appsecret_proof|app_secret|token)"\s*:\s*("[^"\\]*"|-?[0-9]+|true|false|null)'
        ) as secrets,
        try_parse_json(concat('[', stripped, ',"\\u0000"]')) as wrapped
    from lines
),

records as (
    select
        line_no,
        skipped,
        short_enough,
        plain and mentions = secrets and try_variant_get(wrapped, '$[1]', 'string') = '\u0000'
            and try_variant_get(wrapped, '$[2]') is null as parsed_ok,
        secrets,
        try_variant_get(wrapped, '$[0]', 'map<string, variant>') as m
    from parsed
),

fields as (
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

times as (
    select
        *,
        -- canonical.parse_event_time of event_time and sent_at: (kind, time); kind null = Python decides
        transform(array(v_time, v_sent), x -> named_struct(
            'kind', case
                when x is null or schema_of_variant(x) = 'VOID' then 'missing'
                when schema_of_variant(x) = 'STRING' and variant_get(x, '$', 'string') = '' then 'missing'
                when schema_of_variant(x) = 'BOOLEAN' or schema_of_variant(x) like 'OBJECT%'
                     or schema_of_variant(x) like 'ARRAY%' then 'invalid'
                when schema_of_variant(x) = 'BIGINT' or (schema_of_variant(x) = 'STRING'
                     and variant_get(x, '$', 'string') rlike r'^[0-9]{1,15}\z') then case
                    when variant_get(x, '$', 'bigint') < 0 then 'invalid'
                    when variant_get(x, '$', 'bigint') < 100000000000 then 'seconds'
                    when variant_get(x, '$', 'bigint') < 253402300800000 then 'milliseconds'
                    else 'invalid'
                end
                when schema_of_variant(x) = 'STRING' and variant_get(x, '$', 'string') rlike
                    r'^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{3}|\.[0-9]{6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?\z'
                    and make_timestamp_ntz(
                        cast(substr(variant_get(x, '$', 'string'), 1, 4) as int),
                        cast(substr(variant_get(x, '$', 'string'), 6, 2) as int),
                        cast(substr(variant_get(x, '$', 'string'), 9, 2) as int), 0, 0, 0) is not null
                    then 'iso'
            end,
            'iso', if(schema_of_variant(x) = 'STRING', variant_get(x, '$', 'string'), null)
        )) as time_parts
    from fields
),

times_valued as (
    select
        *,
        transform(time_parts, (t, i) -> case t.kind
            when 'seconds' then timestampadd(SECOND, variant_get(array(v_time, v_sent)[i], '$', 'bigint'),
                                             timestamp_ntz'1970-01-01 00:00:00')
            when 'milliseconds' then timestampadd(MILLISECOND, variant_get(array(v_time, v_sent)[i], '$', 'bigint'),
                                                  timestamp_ntz'1970-01-01 00:00:00')
            when 'iso' then timestampadd(
                MINUTE,
                -- fromisoformat's offset, as minutes to subtract (none or Z: already UTC)
                if(t.iso rlike r'[+-][0-9]{2}:[0-9]{2}\z',
                   if(substr(t.iso, -6, 1) = '-', 1, -1)
                   * (cast(substr(t.iso, -5, 2) as int) * 60 + cast(substr(t.iso, -2, 2) as int)),
                   0),
                make_timestamp_ntz(
                    cast(substr(t.iso, 1, 4) as int), cast(substr(t.iso, 6, 2) as int),
                    cast(substr(t.iso, 9, 2) as int), cast(substr(t.iso, 12, 2) as int),
                    cast(substr(t.iso, 15, 2) as int),
                    cast(concat(substr(t.iso, 18, 2), '.',
                                rpad(coalesce(regexp_extract(t.iso, r'\.([0-9]+)', 1), ''), 6, '0')) as decimal(8, 6))))
        end) as time_values
    from times
),

custom as (
    select
        *,
        -- canonical.parse_value of value and predicted_ltv: (check, value, raw); check null = Python
        transform(array(cd_map['value'], cd_map['predicted_ltv']), x -> case
            when x is null or schema_of_variant(x) = 'VOID'
                then named_struct('check', 'missing', 'value', cast(null as double), 'raw', cast(null as string))
            when schema_of_variant(x) = 'BOOLEAN' then named_struct(
                'check', 'malformed', 'value', cast(null as double),
                'raw', if(variant_get(x, '$', 'boolean'), 'True', 'False'))
            when schema_of_variant(x) = 'BIGINT' then named_struct(
                'check', if(variant_get(x, '$', 'bigint') < 0, 'malformed', 'valid'),
                'value', if(variant_get(x, '$', 'bigint') < 0, null, cast(variant_get(x, '$', 'bigint') as double)),
                'raw', left(cast(variant_get(x, '$', 'bigint') as string), 64))
            -- a JSON decimal is a Python float: its repr is the plain digits (to_json drops trailing zeros)
            -- plus '.0' when integral, for at most 15 significant digits and 1e-4 <= |x| < 1e16
            when schema_of_variant(x) like 'DECIMAL%' then named_struct(
                'check', case
                    when not to_json(x) rlike r'^-?[0-9]+(\.[0-9]+)?\z'
                         or length(regexp_replace(regexp_replace(regexp_replace(to_json(x), r'[-.]', ''), '^0+', ''), '0+\z', '')) > 15
                         or abs(cast(to_json(x) as double)) >= 1e16
                         or (abs(cast(to_json(x) as double)) < 1e-4 and cast(to_json(x) as double) <> 0) then null
                    when cast(to_json(x) as double) < 0 then 'malformed'
                    else 'valid'
                end,
                'value', if(cast(to_json(x) as double) < 0, null, cast(to_json(x) as double)),
                'raw', if(to_json(x) like '%.%', to_json(x), concat(to_json(x), '.0')))
            when schema_of_variant(x) = 'STRING' then named_struct(
                'check', case
                    when variant_get(x, '$', 'string') = '' then 'missing'
                    -- (long texts: the regexes below backtrack quadratically; Python decides)
                    when length(variant_get(x, '$', 'string')) > 100 then null
                    when variant_get(x, '$', 'string') rlike r'^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\z'
                        then if(isnan(cast(variant_get(x, '$', 'string') as double))
                                or abs(cast(variant_get(x, '$', 'string') as double)) = double('Infinity')
                                or cast(variant_get(x, '$', 'string') as double) < 0, 'malformed', 'valid')
                    when variant_get(x, '$', 'string') rlike r'^[ -~]*\z'
                         and not variant_get(x, '$', 'string') rlike r'(?i)^\s*[+-]?(?:inf|infinity|nan|[0-9_.]*[0-9][0-9_.]*(?:e[+-]?[0-9_]+)?)\s*\z'
                        then 'malformed'
                end,
                'value', cast(variant_get(x, '$', 'string') as double),
                'raw', nullif(left(variant_get(x, '$', 'string'), 64), ''))
            else named_struct('check', cast(null as string), 'value', cast(null as double), 'raw', cast(null as string))
        end) as amounts,
        -- canonical._text of order_id, content_type, status (str(value)); ok = Python prints it the same
        transform(array(cd_map['order_id'], cd_map['content_type'], cd_map['status'], cd_map['currency']), x -> named_struct(
            'text', case schema_of_variant(x)
                when 'STRING' then variant_get(x, '$', 'string')
                when 'BIGINT' then cast(variant_get(x, '$', 'bigint') as string)
                when 'BOOLEAN' then if(variant_get(x, '$', 'boolean'), 'True', 'False')
            end,
            'ok', x is null or schema_of_variant(x) in ('STRING', 'BIGINT', 'BOOLEAN', 'VOID')
        )) as custom_texts,
        -- canonical._int_or_none of num_items, events_received, error code and subcode
        transform(
            array(cd_map['num_items'], resp['events_received'],
                  try_variant_get(resp['error'], '$.code'), try_variant_get(resp['error'], '$.error_subcode')),
            x -> case
                when x is null or schema_of_variant(x) in ('VOID', 'STRING') and variant_get(x, '$', 'string') = ''
                    then named_struct('value', cast(null as int), 'ok', true)
                when schema_of_variant(x) = 'BOOLEAN'
                    then named_struct('value', if(variant_get(x, '$', 'boolean'), 1, 0), 'ok', true)
                when schema_of_variant(x) like 'OBJECT%' or schema_of_variant(x) like 'ARRAY%'
                    then named_struct('value', cast(null as int), 'ok', true)
                when schema_of_variant(x) = 'STRING' and length(variant_get(x, '$', 'string')) > 100
                    then named_struct('value', cast(null as int), 'ok', false)
                when schema_of_variant(x) = 'BIGINT' or (schema_of_variant(x) = 'STRING'
                     and variant_get(x, '$', 'string') rlike r'^[+-]?[0-9]{1,18}\z') then named_struct(
                    'value', if(variant_get(x, '$', 'bigint') between -2147483648 and 2147483647,
                                cast(variant_get(x, '$', 'bigint') as int), null),
                    'ok', true)
                when schema_of_variant(x) = 'STRING' and variant_get(x, '$', 'string') rlike r'^[ -~]*\z'
                     and not variant_get(x, '$', 'string') rlike r'^\s*[+-]?[0-9_]+\s*\z'
                    then named_struct('value', cast(null as int), 'ok', true)
                else named_struct('value', cast(null as int), 'ok', false)
            end
        ) as ints
    from times_valued
),

ids as (
    select
        *,
        -- canonical._content_ids: content_ids (a list, or one value), else the ids of contents' objects
        case
            when cd_map['content_ids'] is not null and schema_of_variant(cd_map['content_ids']) <> 'VOID'
                then coalesce(try_variant_get(cd_map['content_ids'], '$', 'array<variant>'), array(cd_map['content_ids']))
            else transform(
                filter(try_variant_get(cd_map['contents'], '$', 'array<variant>'),
                       c -> try_variant_get(c, '$', 'map<string, variant>') is not null
                            and try_variant_get(c, '$.id') is not null
                            and schema_of_variant(try_variant_get(c, '$.id')) <> 'VOID'),
                c -> try_variant_get(c, '$.id'))
        end as id_items
    from custom
),

ids_text as (
    select
        *,
        -- str() of each id: strings, integer digits, True/False, None; other types go to Python
        transform(id_items, x -> case schema_of_variant(x)
            when 'STRING' then variant_get(x, '$', 'string')
            when 'BIGINT' then cast(variant_get(x, '$', 'bigint') as string)
            when 'BOOLEAN' then if(variant_get(x, '$', 'boolean'), 'True', 'False')
            when 'VOID' then 'None'
        end) as ids_str
    from ids
),

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

user_raws as (
    select
        *,
        transform(user_values, u -> named_struct(
            'key', u.key,
            'raw', case schema_of_variant(u.value)
                when 'STRING' then variant_get(u.value, '$', 'string')
                when 'BIGINT' then cast(variant_get(u.value, '$', 'bigint') as string)
                when 'BOOLEAN' then if(variant_get(u.value, '$', 'boolean'), 'True', 'False')
            end,
            'bad', u.value is not null and schema_of_variant(u.value) not in ('STRING', 'BIGINT', 'BOOLEAN', 'VOID')
        )) as user_raw
    from user_firsts
),

users as (
    select
        *,
        transform(user_raw, u -> named_struct(
            'key', u.key,
            'raw', u.raw,
            'bad', u.bad,
            -- normalize._text: leading whitespace/apostrophes and trailing whitespace dropped (Python \s)
            't', reverse(regexp_replace(reverse(regexp_replace(u.raw, r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x27]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')),
            -- str.strip() for the plain keys
            'p', reverse(regexp_replace(reverse(regexp_replace(u.raw, r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', ''))
        )) as user_text
    from user_raws
),

user_steps as (
    select
        *,
        -- per key: (stored, check) when decided here; else n = the normalized text to hash ('' when
        -- nothing usable remains: malformed) or null when only Python can normalize it
        transform(user_text, u -> case
            when u.bad then named_struct('stored', cast(null as string), 'check', cast(null as string), 'n', cast(null as string))
            when u.raw is null then named_struct('stored', cast(null as string), 'check', 'missing', 'n', cast(null as string))
            when u.key in ('fbp', 'fbc', 'client_ip_address', 'client_user_agent', 'lead_id') then case
                when u.p = '' then named_struct('stored', cast(null as string), 'check', 'missing', 'n', cast(null as string))
                when u.key in ('fbp', 'fbc', 'client_ip_address') and u.p rlike r'^[0-9a-fA-F]{64}\z'
                    then named_struct('stored', u.p, 'check', 'hashed_forbidden', 'n', cast(null as string))
                when u.key = 'client_user_agent' then named_struct('stored', u.p, 'check', 'valid', 'n', cast(null as string))
                when u.key = 'lead_id' then named_struct(
                    'stored', u.p, 'check', if(u.p rlike r'^[0-9]+\z', 'valid', 'malformed'), 'n', cast(null as string))
                when not u.p rlike r'^[ -~]+\z' then named_struct('stored', u.p, 'check', cast(null as string), 'n', cast(null as string))
                when u.key = 'fbp' then named_struct('stored', u.p, 'check', if(
                    u.p rlike r'^fb\.[0-9]\.[0-9]{13}\.[0-9]+(?:\.(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?\z',
                    'valid', 'malformed'), 'n', cast(null as string))
                when u.key = 'fbc' then named_struct('stored', u.p, 'check', if(
                    u.p rlike r'^fb\.[0-9]\.[0-9]{13}\.[^.\s]+(?:\.(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?\z',
                    'valid', 'malformed'), 'n', cast(null as string))
                -- client_ip_address: dotted-quad IPv4 here, anything else (IPv6, junk) by ipaddress in Python
                when u.p rlike r'^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\z'
                    then named_struct('stored', u.p, 'check', 'valid', 'n', cast(null as string))
                else named_struct('stored', u.p, 'check', cast(null as string), 'n', cast(null as string))
            end
            when u.raw rlike r'^[0-9a-fA-F]{64}\z'
                then named_struct('stored', lower(u.raw), 'check', 'valid', 'n', cast(null as string))
            when u.t = '' then named_struct('stored', cast(null as string), 'check', 'missing', 'n', cast(null as string))
            when u.t rlike r'^[0-9a-fA-F]{64}(?:\.(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?\z'
                then named_struct('stored', lower(left(u.t, 64)), 'check', 'valid', 'n', cast(null as string))
            when u.key <> 'external_id' and u.t rlike r'^[0-9a-fA-F]{32,}\z'
                then named_struct('stored', cast(null as string), 'check', 'malformed', 'n', cast(null as string))
            -- phone numbers and birth dates need phonenumbers / date rules; non-ASCII text Python's Unicode
            when u.key in ('ph', 'db') or not u.t rlike r'^[ -~]+\z'
                then named_struct('stored', cast(null as string), 'check', cast(null as string), 'n', cast(null as string))
            else named_struct('stored', cast(null as string), 'check', cast(null as string), 'n', case
                -- (Java repeats the local-part group recursively: past 254 characters it could overflow the
                -- stack, so longer texts go to Python)
                when u.key = 'em' and length(u.t) > 254 then null
                when u.key = 'em' then if(
                    lower(u.t) rlike r'^(?>"(?:[^"\\]|\\.)*"|\\.|[^\s@\\])+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_](?:[\w-]*[^\W_])?\z',
                    lower(u.t), '')
                -- ASCII letters (and digits for names) are the Unicode L/M(/N) characters of ASCII text
                when u.key in ('fn', 'ln') then regexp_replace(lower(u.t), '[^a-z0-9]', '')
                when u.key = 'ct' then regexp_replace(lower(u.t), '[^a-z]', '')
                -- a 2-letter state is itself (no US/CA subdivision name folds to 2 letters); names: Python
                when u.key = 'st' then if(u.t rlike r'^[A-Za-z]{2}\z', lower(u.t), null)
                -- zip: part before '-', letters and digits; 3-4 or 6+ digits depend on the US region: Python
                when u.key = 'zp' then case
                    when regexp_replace(lower(substring_index(u.t, '-', 1)), '[^a-z0-9]', '') rlike r'^(?:[0-9]{3,4}|[0-9]{6,})\z'
                        then null
                    when length(regexp_replace(lower(substring_index(u.t, '-', 1)), '[^a-z0-9]', '')) >= 2
                        then regexp_replace(lower(substring_index(u.t, '-', 1)), '[^a-z0-9]', '')
                    else ''
                end
                -- country: a 2-letter code pycountry knows (uk -> gb); any other text: Python
                when u.key = 'country' then case
                    when not u.t rlike r'^[A-Za-z]{2}\z' then null
                    when lower(u.t) = 'uk' then 'gb'
                    when lower(u.t) in (
                        'ad','ae','af','ag','ai','al','am','ao','aq','ar','as','at','au','aw','ax','az','ba',
                        'bb','bd','be','bf','bg','bh','bi','bj','bl','bm','bn','bo','bq','br','bs','bt','bv',
                        'bw','by','bz','ca','cc','cd','cf','cg','ch','ci','ck','cl','cm','cn','co','cr','cu',
                        'cv','cw','cx','cy','cz','de','dj','dk','dm','do','dz','ec','ee','eg','eh','er','es',
                        'et','fi','fj','fk','fm','fo','fr','ga','gb','gd','ge','gf','gg','gh','gi','gl','gm',
                        'gn','gp','gq','gr','gs','gt','gu','gw','gy','hk','hm','hn','hr','ht','hu','id','ie',
                        'il','im','in','io','iq','ir','is','it','je','jm','jo','jp','ke','kg','kh','ki','km',
                        'kn','kp','kr','kw','ky','kz','la','lb','lc','li','lk','lr','ls','lt','lu','lv','ly',
                        'ma','mc','md','me','mf','mg','mh','mk','ml','mm','mn','mo','mp','mq','mr','ms','mt',
                        'mu','mv','mw','mx','my','mz','na','nc','ne','nf','ng','ni','nl','no','np','nr','nu',
                        'nz','om','pa','pe','pf','pg','ph','pk','pl','pm','pn','pr','ps','pt','pw','py','qa',
                        're','ro','rs','ru','rw','sa','sb','sc','sd','se','sg','sh','si','sj','sk','sl','sm',
                        'sn','so','sr','ss','st','sv','sx','sy','sz','tc','td','tf','tg','th','tj','tk','tl',
                        'tm','tn','to','tr','tt','tv','tw','tz','ua','ug','um','us','uy','uz','va','vc','ve',
                        'vg','vi','vn','vu','wf','ws','ye','yt','za','zm','zw') then lower(u.t)
                    else ''
                end
                when u.key = 'ge' then case
                    when regexp_replace(lower(u.t), '[^a-z]', '') in ('f', 'female', 'woman', 'women', 'girl', 'mrs', 'ms', 'miss', 'lady') then 'f'
                    when regexp_replace(lower(u.t), '[^a-z]', '') in ('m', 'male', 'man', 'men', 'boy', 'mr', 'gentleman') then 'm'
                    else ''
                end
                when u.key = 'external_id' then lower(u.t)
            end)
        end) as user_step
    from users
),

user_final as (
    select
        *,
        transform(user_step, (u, i) -> case
            when user_text[i].bad then named_struct('stored', cast(null as string), 'check', cast(null as string), 'ok', false)
            when u.check is not null then named_struct('stored', u.stored, 'check', u.check, 'ok', true)
            when u.n = '' then named_struct('stored', cast(null as string), 'check', 'malformed', 'ok', true)
            when u.n is not null then named_struct('stored', sha2(u.n, 256), 'check', 'valid', 'ok', true)
            else named_struct('stored', cast(null as string), 'check', cast(null as string), 'ok', false)
        end) as ud
    from user_steps
),

judged as (
    select
        *,
        -- consent_text then normalize_consent: an object gives ad_storage (if present) else marketing
        case
            when v_consent is not null and try_variant_get(v_consent, '$', 'map<string, variant>') is not null
                then if(map_contains_key(try_variant_get(v_consent, '$', 'map<string, variant>'), 'ad_storage'),
                        try_variant_get(v_consent, '$', 'map<string, variant>')['ad_storage'],
                        try_variant_get(v_consent, '$', 'map<string, variant>')['marketing'])
            else v_consent
        end as consent_value,
        reverse(regexp_replace(reverse(regexp_replace(custom_texts[3].text, r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')) as currency_text,
        -- privacy.mask_url: only a URL with '@' or '%40' can change; printable ASCII keeps \s the same
        case
            when texts[3].text is null or not texts[3].text rlike '@|%40' then texts[3].text
            when texts[3].text rlike r'^[ -~]*\z' then regexp_replace(
                regexp_replace(texts[3].text, r'[^\s@\x22\x27,;:<>()\[\]{}]+@[^\s@\x22\x27,;:<>()\[\]{}]+\.[A-Za-z]{2,}', '***'),
                r'(?i)[^\s&=?/#]+%40[^\s&=?/#]+', '***')
        end as masked_url,
        -- readers/server.py::_dpo + canonical._dpo: list items joined with ','
        case
            when v_dpo is null or schema_of_variant(v_dpo) = 'VOID' then null
            when try_variant_get(v_dpo, '$', 'array<variant>') is not null then array_join(
                transform(try_variant_get(v_dpo, '$', 'array<variant>'), x -> case schema_of_variant(x)
                    when 'STRING' then variant_get(x, '$', 'string')
                    when 'BIGINT' then cast(variant_get(x, '$', 'bigint') as string)
                end), ',')
            when schema_of_variant(v_dpo) = 'STRING' and not startswith(variant_get(v_dpo, '$', 'string'), '[')
                then variant_get(v_dpo, '$', 'string')
            when schema_of_variant(v_dpo) = 'BIGINT' then cast(variant_get(v_dpo, '$', 'bigint') as string)
            when schema_of_variant(v_dpo) = 'BOOLEAN' then if(variant_get(v_dpo, '$', 'boolean'), 'True', 'False')
        end as dpo,
        v_dpo is null or schema_of_variant(v_dpo) in ('VOID', 'BIGINT', 'BOOLEAN')
        or (schema_of_variant(v_dpo) = 'STRING' and not startswith(variant_get(v_dpo, '$', 'string'), '['))
        or forall(try_variant_get(v_dpo, '$', 'array<variant>'), x -> schema_of_variant(x) in ('STRING', 'BIGINT')) as dpo_ok,
        -- response fbtrace_id: the response's, else (when falsy) the error's; strings only here
        transform(array(resp['fbtrace_id'], try_variant_get(resp['error'], '$.fbtrace_id')), x -> named_struct(
            'text', if(schema_of_variant(x) = 'STRING', nullif(variant_get(x, '$', 'string'), ''), null),
            'ok', x is null or schema_of_variant(x) in ('STRING', 'VOID')
        )) as traces
    from user_final
),

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
)

-- a blank line: one row with pos 0, line_ok (unless too long) and null content; a line left to Python:
-- one row with pos 0, line_ok false
select
    line_no,
    if(skipped or not line_ok, 0, 1) as pos,
    if(skipped, short_enough, line_ok) as line_ok,
    if(skipped or not line_ok, 0, secrets) as secrets,
    c.*
from (
    select
        r.line_no,
        r.skipped,
        r.short_enough,
        r.line_ok,
        r.secrets,
        if(r.line_ok and not r.skipped, named_struct(
            'channel', 'browser',
            'pixel_id', left(nullif(coalesce(r.texts[1].text, :pixel_id), ''), 64),
            'event_name', left(variant_get(r.v_name, '$', 'string'), 256),
            'event_id', left(r.texts[0].text, 256),
            'event_time', r.time_values[0],
            'event_time_format', r.time_parts[0].kind,
            'sent_at', r.time_values[1],
            'received_at', coalesce(r.time_values[1], r.time_values[0]),
            'action_source', left(coalesce(r.texts[2].text, 'website'), 64),
            'event_source_url', left(r.masked_url, 2048),
            'test_event_code', left(r.texts[4].text, 64),
            'consent', case
                when r.consent_value is null or schema_of_variant(r.consent_value) = 'VOID' then 'unknown'
                when schema_of_variant(r.consent_value) = 'BOOLEAN'
                    then if(variant_get(r.consent_value, '$', 'boolean'), 'granted', 'denied')
                -- stripped non-ASCII text cannot be one of the words (str.lower maps no non-ASCII letter into
                -- them), and Spark lowers non-ASCII text in the JVM's locale: 'unknown' without lowering it
                when schema_of_variant(r.consent_value) = 'STRING'
                     and not reverse(regexp_replace(reverse(regexp_replace(variant_get(r.consent_value, '$', 'string'), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')) rlike r'^[\x00-\x7F]*\z'
                    then 'unknown'
                when schema_of_variant(r.consent_value) in ('STRING', 'BIGINT') then case
                    lower(reverse(regexp_replace(reverse(regexp_replace(variant_get(r.consent_value, '$', 'string'), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')))
                    when 'granted' then 'granted' when 'true' then 'granted' when 'yes' then 'granted'
                    when '1' then 'granted' when 'opt_in' then 'granted'
                    when 'denied' then 'denied' when 'false' then 'denied' when 'no' then 'denied'
                    when '0' then 'denied' when 'revoked' then 'denied' when 'opt_out' then 'denied'
                    else 'unknown'
                end
                else 'unknown'
            end,
            'data_processing_options', r.dpo,
            'value', if(r.amounts[0].check = 'valid', r.amounts[0].value, null),
            'value_raw', r.amounts[0].raw,
            'value_check', r.amounts[0].check,
            'currency', left(nullif(r.currency_text, ''), 16),
            'currency_check', case
                when nullif(r.currency_text, '') is null then 'missing'
                when upper(r.currency_text) in (
                    'AED','AFN','ALL','AMD','AOA','ARS','AUD','AWG','AZN','BAM','BBD','BDT','BHD','BIF','BMD',
                    'BND','BOB','BOV','BRL','BSD','BTN','BWP','BYN','BZD','CAD','CDF','CHE','CHF','CHW','CLF',
                    'CLP','CNY','COP','COU','CRC','CUP','CVE','CZK','DJF','DKK','DOP','DZD','EGP','ERN','ETB',
                    'EUR','FJD','FKP','GBP','GEL','GHS','GIP','GMD','GNF','GTQ','GYD','HKD','HNL','HTG','HUF',
                    'IDR','ILS','INR','IQD','IRR','ISK','JMD','JOD','JPY','KES','KGS','KHR','KMF','KPW','KRW',
                    'KWD','KYD','KZT','LAK','LBP','LKR','LRD','LSL','LYD','MAD','MDL','MGA','MKD','MMK','MNT',
                    'MOP','MRU','MUR','MVR','MWK','MXN','MXV','MYR','MZN','NAD','NGN','NIO','NOK','NPR','NZD',
                    'OMR','PAB','PEN','PGK','PHP','PKR','PLN','PYG','QAR','RON','RSD','RUB','RWF','SAR','SBD',
                    'SCR','SDG','SEK','SGD','SHP','SLE','SOS','SRD','SSP','STN','SVC','SYP','SZL','THB','TJS',
                    'TMT','TND','TOP','TRY','TTD','TWD','TZS','UAH','UGX','USD','USN','UYI','UYU','UYW','UZS',
                    'VED','VES','VND','VUV','WST','XAD','XAF','XAG','XAU','XBA','XBB','XBC','XBD','XCD','XCG',
                    'XDR','XOF','XPD','XPF','XPT','XSU','XTS','XUA','XXX','YER','ZAR','ZMW','ZWG') then 'valid'
                else 'malformed'
            end,
            'order_id', left(nullif(r.custom_texts[0].text, ''), 256),
            -- orjson.dumps of the ids as strings: only '"' and '\' need escaping (no control characters here)
            'content_ids', if(r.id_items is null, null, concat('[', array_join(
                transform(r.ids_str, x -> concat('"', replace(replace(x, '\\', '\\\\'), '"', '\\"'), '"')), ','), ']')),
            'num_items', r.ints[0].value,
            'content_type', left(nullif(r.custom_texts[1].text, ''), 64),
            'status', left(nullif(r.custom_texts[2].text, ''), 64),
            'predicted_ltv', if(r.amounts[1].check = 'valid', r.amounts[1].value, null),
            'em', r.ud[0].stored, 'ph', r.ud[1].stored, 'fn', r.ud[2].stored, 'ln', r.ud[3].stored,
            'ct', r.ud[4].stored, 'st', r.ud[5].stored, 'zp', r.ud[6].stored, 'country', r.ud[7].stored,
            'db', r.ud[8].stored, 'ge', r.ud[9].stored, 'external_id', r.ud[10].stored, 'fbp', r.ud[11].stored,
            'fbc', r.ud[12].stored, 'client_ip_address', r.ud[13].stored, 'client_user_agent', r.ud[14].stored,
            'lead_id', r.ud[15].stored,
            'em_check', r.ud[0].check, 'ph_check', r.ud[1].check, 'fn_check', r.ud[2].check,
            'ln_check', r.ud[3].check, 'ct_check', r.ud[4].check, 'st_check', r.ud[5].check,
            'zp_check', r.ud[6].check, 'country_check', r.ud[7].check, 'db_check', r.ud[8].check,
            'ge_check', r.ud[9].check, 'external_id_check', r.ud[10].check, 'fbp_check', r.ud[11].check,
            'fbc_check', r.ud[12].check, 'client_ip_address_check', r.ud[13].check,
            'client_user_agent_check', r.ud[14].check, 'lead_id_check', r.ud[15].check,
            'response_events_received', r.ints[1].value,
            'response_error_code', r.ints[2].value,
            'response_error_subcode', r.ints[3].value,
            'fbtrace_id', left(coalesce(r.traces[0].text, r.traces[1].text), 128)
        ), null) as c
    from mapped r
)
