-- Server JSONL lines (view _spark_lines) -> canonical event rows on Spark: formats capi_log, capi_request
-- and capi_events, mirroring readers/server.py + canonical.canonical_event (the contract is in
-- capi_core/engines/spark_formats.py). Rows: line_no, pos, line_ok, secrets, then every content column
-- of models.EVENT_COLUMNS. A line SQL cannot map exactly gets ONE row (pos 0, line_ok false, null
-- content): the driver reads it with the Python reader. Blank lines: one row, pos 0, line_ok true.
--
-- Parameters (named markers, always bound as literals, never spliced): :format (capi_log |
-- capi_request | capi_events: this one file serves the three; the driver binds the reader's format),
-- :pixel_id and :default_country (ReadOptions, may be an untyped null: the query casts them to string),
-- :max_line (longest line in characters the Python reader accepts), :url_keys (page-URL keys whose values
-- are kept: privacy.url_keys_kept). Needs spark.sql.ansi.enabled=false
-- (an out-of-range array index gives null); times are built as TIMESTAMP_NTZ from the epoch or from
-- their parts, so the session time zone does not enter. canonical.parse_event_time, which the envelope's
-- and each event's times both need, is written once: the fragment spark/_server_event_time.sql, pulled
-- in by two include lines (queries.load_query expands them).
--
-- Why Spark SQL of its own rather than a sqlglot translation of ingest_fast_events.sql: that query is
-- built on DuckDB temp macros (ingest_fast_macros.sql), lambdas over json_extract path lists, json_type,
-- json_valid and generate_subscripts, none of which sqlglot maps to Spark. Here try_parse_json,
-- schema_of_variant (a value's JSON type: BIGINT, STRING, DECIMAL(p,s), BOOLEAN, VOID, OBJECT<..>,
-- ARRAY<..>) and variant_get play those parts, and higher-order functions (transform / filter / forall)
-- over arrays of typed values stand in for the macros. tests/core/test_spark_ingest_server.py compares
-- every decided line with the Python reader.
--
-- What goes to Python (line_ok false): JSON Spark reads but orjson refuses (text after the object,
-- overflowing exponents, duplicate keys are refused by both) or reads differently (-0.0, integers
-- beyond int64, floats of more than 15 digits or with exponents); credentials this query cannot count
-- exactly as privacy.strip_secrets does (nested values, access_token= in text, a value that mentions
-- token/secret, keys spelt with \u escapes); raw ph (phonenumbers) and db (today's year); state names;
-- raw values that are not printable ASCII; IP forms other than dotted IPv4 and plain hex IPv6; emails in
-- event_source_url and parameters whose key is not on :url_keys (Python masks them); envelopes with URLs or bodies to unwrap, Stape records; numeric
-- text float()/int() might read; anything Python would quarantine.
with constants as (
    -- ISO 4217 codes (canonical._CURRENCIES) and ISO 3166 alpha-2 codes (pycountry), lowercase;
    -- tests/core/test_spark_ingest_server.py checks both lists against pycountry
    select
        array(
            'AED', 'AFN', 'ALL', 'AMD', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM', 'BBD', 'BDT',
            'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BOV', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BZD',
            'CAD', 'CDF', 'CHE', 'CHF', 'CHW', 'CLF', 'CLP', 'CNY', 'COP', 'COU', 'CRC', 'CUP',
            'CVE', 'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD', 'FKP',
            'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HTG', 'HUF',
            'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR',
            'KMF', 'KPW', 'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LYD',
            'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN',
            'MXV', 'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN',
            'PGK', 'PHP', 'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB', 'RWF', 'SAR', 'SBD',
            'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS', 'SRD', 'SSP', 'STN', 'SVC', 'SYP',
            'SZL', 'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX',
            'USD', 'USN', 'UYI', 'UYU', 'UYW', 'UZS', 'VED', 'VES', 'VND', 'VUV', 'WST', 'XAD',
            'XAF', 'XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XCD', 'XCG', 'XDR', 'XOF', 'XPD',
            'XPF', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX', 'YER', 'ZAR', 'ZMW', 'ZWG'
        ) as currencies,
        array(
            'ad', 'ae', 'af', 'ag', 'ai', 'al', 'am', 'ao', 'aq', 'ar', 'as', 'at', 'au', 'aw',
            'ax', 'az', 'ba', 'bb', 'bd', 'be', 'bf', 'bg', 'bh', 'bi', 'bj', 'bl', 'bm', 'bn',
            'bo', 'bq', 'br', 'bs', 'bt', 'bv', 'bw', 'by', 'bz', 'ca', 'cc', 'cd', 'cf', 'cg',
            'ch', 'ci', 'ck', 'cl', 'cm', 'cn', 'co', 'cr', 'cu', 'cv', 'cw', 'cx', 'cy', 'cz',
            'de', 'dj', 'dk', 'dm', 'do', 'dz', 'ec', 'ee', 'eg', 'eh', 'er', 'es', 'et', 'fi',
            'fj', 'fk', 'fm', 'fo', 'fr', 'ga', 'gb', 'gd', 'ge', 'gf', 'gg', 'gh', 'gi', 'gl',
            'gm', 'gn', 'gp', 'gq', 'gr', 'gs', 'gt', 'gu', 'gw', 'gy', 'hk', 'hm', 'hn', 'hr',
            'ht', 'hu', 'id', 'ie', 'il', 'im', 'in', 'io', 'iq', 'ir', 'is', 'it', 'je', 'jm',
            'jo', 'jp', 'ke', 'kg', 'kh', 'ki', 'km', 'kn', 'kp', 'kr', 'kw', 'ky', 'kz', 'la',
            'lb', 'lc', 'li', 'lk', 'lr', 'ls', 'lt', 'lu', 'lv', 'ly', 'ma', 'mc', 'md', 'me',
            'mf', 'mg', 'mh', 'mk', 'ml', 'mm', 'mn', 'mo', 'mp', 'mq', 'mr', 'ms', 'mt', 'mu',
            'mv', 'mw', 'mx', 'my', 'mz', 'na', 'nc', 'ne', 'nf', 'ng', 'ni', 'nl', 'no', 'np',
            'nr', 'nu', 'nz', 'om', 'pa', 'pe', 'pf', 'pg', 'ph', 'pk', 'pl', 'pm', 'pn', 'pr',
            'ps', 'pt', 'pw', 'py', 'qa', 're', 'ro', 'rs', 'ru', 'rw', 'sa', 'sb', 'sc', 'sd',
            'se', 'sg', 'sh', 'si', 'sj', 'sk', 'sl', 'sm', 'sn', 'so', 'sr', 'ss', 'st', 'sv',
            'sx', 'sy', 'sz', 'tc', 'td', 'tf', 'tg', 'th', 'tj', 'tk', 'tl', 'tm', 'tn', 'to',
            'tr', 'tt', 'tv', 'tw', 'tz', 'ua', 'ug', 'um', 'us', 'uy', 'uz', 'va', 'vc', 've',
            'vg', 'vi', 'vn', 'vu', 'wf', 'ws', 'ye', 'yt', 'za', 'zm', 'zw'
        ) as countries
),

lines as (
    select
        line_no,
        text,
        coalesce(text rlike r'^[ \t]*\z', true) as blank,
        currencies,
        countries
    from _spark_lines
    cross join constants
),

wrapped as (
    select
        line_no,
        text,
        blank,
        -- '[' text ',0]' has exactly two items only when nothing follows the object: Spark's parser
        -- stops after one value and would ignore trailing text orjson refuses
        case
            when not blank
                and length(text) <= :max_line
                and text rlike r'^[ \t]*\{'
                -- exponents that overflow a double (orjson refuses them, Spark reads Infinity)
                and not text rlike r'[\[:,]\s*-?[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]{3}'
                -- negative zero: Spark's variant drops the sign Python keeps
                and not text rlike r'[\[:,]\s*-0(?![.][0-9]*[1-9])'
                and not text rlike r'[\[:,]\s*-?[0-9]{300}'
                -- escaped letters (or the Kelvin sign, lowercased to k) could spell a credential key
                and not (instr(text, r'\u') > 0 and text rlike r'\\u(00[4-7][0-9a-fA-F]|212[aA])')
                and instr(text, '\u212a') = 0
                then try_parse_json(concat('[', text, ',0]'))
        end as w,
        currencies,
        countries
    from lines
),

records as (
    select
        line_no,
        blank,
        w is not null
        and variant_get(w, '$[1]') is not null
        and variant_get(w, '$[2]') is null as parsable,
        variant_get(w, '$[0]') as v,
        -- privacy.strip_secrets: each credential key with a scalar value counts once; any other mention
        -- of token/secret (nested values, access_token= in text) sends the line to Python
        case when text rlike r'(?i)token|secret' then regexp_count(lower(text), 'token|secret') else 0 end
            as mentions,
        case
            when text rlike r'(?i)token|secret' then regexp_count(
                lower(text),
                r'[{,]\s*"(access_token|appsecret_proof|app_secret|token)"\s*:\s*("[^"\\]*"|-?[0-9]+|true|false|null)'
            )
            else 0
        end as secrets,
        currencies,
        countries
    from wrapped
),

requests as (
    select
        line_no,
        blank,
        parsable and mentions = secrets as parsable,
        secrets,
        v,
        case :format when 'capi_log' then variant_get(v, '$.request') when 'capi_request' then v end as req,
        currencies,
        countries
    from records
),

envelope_fields as (
    select
        *,
        -- typed envelope values: 0 pixel_id, 1 sent_at, 2 timestamp, 3 consent, 4 response,
        -- 5 test_event_code (of the request)
        transform(
            array(
                variant_get(v, '$.pixel_id'), variant_get(v, '$.sent_at'), variant_get(v, '$.timestamp'),
                variant_get(v, '$.consent'), variant_get(v, '$.response'), variant_get(req, '$.test_event_code')
            ),
            x -> named_struct('t', schema_of_variant(x), 'x', x)
        ) as nv,
        try_variant_get(req, '$.data', 'array<variant>') as req_data
    from requests
),

envelope_typed as (
    select
        *,
        transform(nv, y -> named_struct(
            't', y.t, 'x', y.x,
            's', if(y.t rlike '^(OBJECT|ARRAY)', null, try_variant_get(y.x, '$', 'string'))
        )) as n
    from envelope_fields
),

envelope_times as (
    select
        *,
        -- canonical.parse_event_time for the envelope's sent_at and timestamp
        transform(array(n[1], n[2]), y ->
            -- @include spark/_server_event_time
        ) as nt
    from envelope_typed
),

envelopes as (
    select
        line_no,
        blank,
        secrets,
        parsable
        and case :format
            when 'capi_events' then true
            else req_data is not null
                -- an URL (pixel from its path) or a body to unwrap: Python decides
                and variant_get(req, '$.url') is null and variant_get(req, '$.endpoint') is null
                and variant_get(req, '$.RequestUrl') is null and variant_get(req, '$.request_url') is null
                and coalesce(n[0].t, 'VOID') in ('VOID', 'STRING', 'BIGINT', 'BOOLEAN')
                and coalesce(n[5].t, 'VOID') in ('VOID', 'STRING', 'BIGINT', 'BOOLEAN')
        end
        and (:format <> 'capi_log'
             or (if(nt[0].fmt = 'missing', nt[1].fmt, nt[0].fmt) in ('missing', 'seconds', 'milliseconds', 'iso')
                 -- readers/server.py::_response: text is parsed as JSON, an HTTP record unwrapped
                 and coalesce(n[4].t, 'VOID') <> 'STRING'
                 and not (n[4].t like 'OBJECT%'
                          and variant_get(n[4].x, '$.events_received') is null
                          and variant_get(n[4].x, '$.error') is null
                          and variant_get(n[4].x, '$.body') is not null))) as envelope_ok,
        if(parsable, if(:format = 'capi_events', array(v), req_data), null) as data,
        case
            when :format = 'capi_events' then cast(:pixel_id as string)
            else coalesce(
                case n[0].t when 'STRING' then nullif(n[0].s, '') when 'BIGINT' then n[0].s
                    when 'BOOLEAN' then initcap(n[0].s) end,
                cast(:pixel_id as string))
        end as env_pixel_id,
        if(:format = 'capi_log', if(nt[0].fmt = 'missing', nt[1].ts, nt[0].ts), null) as env_sent_at,
        if(:format = 'capi_events', null,
           case n[5].t when 'STRING' then nullif(n[5].s, '') when 'BIGINT' then n[5].s
               when 'BOOLEAN' then initcap(n[5].s) end) as env_test_event_code,
        if(:format = 'capi_log', n[3].x, null) as env_consent,
        if(:format = 'capi_log' and n[4].t like 'OBJECT%', n[4].x, null) as env_response,
        currencies,
        countries
    from envelope_times
),

events as (
    select
        r.line_no,
        r.blank,
        r.secrets,
        r.envelope_ok,
        r.env_pixel_id,
        r.env_sent_at,
        r.env_test_event_code,
        r.env_consent,
        r.env_response,
        r.currencies,
        r.countries,
        d.pos0,
        d.e
    from envelopes r
    lateral view posexplode_outer(if(r.envelope_ok, r.data, null)) d as pos0, e
),

event_fields as (
    select
        *,
        -- typed event values: 0 event_name, 1 event_time, 2 event_id, 3 pixel_id, 4 sent_at,
        -- 5 action_source, 6 event_source_url, 7 test_event_code, 8 consent, 9 data_processing_options,
        -- 10 user_data, 11 custom_data, 12 response
        transform(
            array(
                variant_get(e, '$.event_name'), variant_get(e, '$.event_time'), variant_get(e, '$.event_id'),
                variant_get(e, '$.pixel_id'), variant_get(e, '$.sent_at'), variant_get(e, '$.action_source'),
                variant_get(e, '$.event_source_url'), variant_get(e, '$.test_event_code'),
                variant_get(e, '$.consent'), variant_get(e, '$.data_processing_options'),
                variant_get(e, '$.user_data'), variant_get(e, '$.custom_data'), variant_get(e, '$.response')
            ),
            x -> named_struct('t', schema_of_variant(x), 'x', x)
        ) as fv
    from events
),

event_typed as (
    select
        *,
        transform(fv, y -> named_struct(
            't', y.t, 'x', y.x,
            's', if(y.t rlike '^(OBJECT|ARRAY)', null, try_variant_get(y.x, '$', 'string'))
        )) as f,
        coalesce(if(fv[12].t like 'OBJECT%', fv[12].x, null), env_response) as response
    from event_fields
),

event_times as (
    select
        *,
        -- canonical.parse_event_time for event_time and the event's own sent_at (as for the envelope)
        transform(array(f[1], f[4]), y ->
            -- @include spark/_server_event_time
        ) as et,
        -- readers/server.py::_text for 2 event_id, 3 pixel_id, 5 action_source, 6 event_source_url,
        -- 7 test_event_code: strings as sent ('' absent), integers as digits, booleans as Python prints
        transform(array(f[2], f[3], f[5], f[6], f[7]), y -> named_struct(
            'ok', coalesce(y.t, 'VOID') in ('VOID', 'STRING', 'BIGINT', 'BOOLEAN'),
            'v', case y.t when 'STRING' then nullif(y.s, '') when 'BIGINT' then y.s when 'BOOLEAN' then initcap(y.s) end
        )) as tx,
        -- readers/server.py::consent_text then canonical.normalize_consent, for the event's consent
        -- (when the key is there, even as null) or the log line's
        transform(array(if(f[8].x is not null, f[8].x, env_consent)), c -> named_struct(
            'c', if(schema_of_variant(c) like 'OBJECT%',
                    coalesce(variant_get(c, '$.ad_storage'), variant_get(c, '$.marketing')), c)
        ))[0].c as consent_raw,
        -- custom_data values: 0 value, 1 currency, 2 order_id, 3 content_ids, 4 contents, 5 num_items,
        -- 6 content_type, 7 status, 8 predicted_ltv
        transform(
            array(
                variant_get(f[11].x, '$.value'), variant_get(f[11].x, '$.currency'),
                variant_get(f[11].x, '$.order_id'), variant_get(f[11].x, '$.content_ids'),
                variant_get(f[11].x, '$.contents'), variant_get(f[11].x, '$.num_items'),
                variant_get(f[11].x, '$.content_type'), variant_get(f[11].x, '$.status'),
                variant_get(f[11].x, '$.predicted_ltv')
            ),
            x -> named_struct('t', schema_of_variant(x), 'x', x)
        ) as cv,
        -- user_data values in models.MATCH_KEYS order, lists read as their first non-empty item
        -- (canonical._first)
        transform(
            array(
                'em', 'ph', 'fn', 'ln', 'ct', 'st', 'zp', 'country', 'db', 'ge', 'external_id',
                'fbp', 'fbc', 'client_ip_address', 'client_user_agent', 'lead_id'
            ),
            k -> named_struct('k', k, 'x', variant_get(f[10].x, concat('$.', k)))
        ) as uraw,
        transform(array(response), r -> named_struct(
            'er', variant_get(r, '$.events_received'),
            'err', if(schema_of_variant(variant_get(r, '$.error')) like 'OBJECT%', variant_get(r, '$.error'), null),
            'fb', variant_get(r, '$.fbtrace_id')
        ))[0] as resp
    from event_typed
),

custom_typed as (
    select
        *,
        transform(cv, y -> named_struct(
            't', y.t, 'x', y.x,
            's', if(y.t rlike '^(OBJECT|ARRAY)', null, try_variant_get(y.x, '$', 'string')),
            -- Python's str() of a float read from a decimal literal of at most 15 digits: the digits
            -- without trailing zeros, '.0' when whole (repr switches to exponents below 1e-4)
            -- (zero: Spark prints a zero decimal as 0E-18, Python '0.0'; a negative zero goes to Python)
            'repr', case
                when y.t = 'BIGINT' then try_variant_get(y.x, '$', 'string')
                when y.t rlike r'^DECIMAL\(([1-9]|1[0-5]),'
                    and try_variant_get(y.x, '$', 'decimal(38,18)') = 0
                    then if(to_json(y.x) like '-%', null, '0.0')
                when y.t rlike r'^DECIMAL\(([1-9]|1[0-5]),'
                    and abs(try_variant_get(y.x, '$', 'decimal(38,18)')) >= 0.0001
                    then regexp_replace(
                        regexp_replace(cast(try_variant_get(y.x, '$', 'decimal(38,18)') as string), r'0+\z', ''),
                        r'\.\z', '.0')
            end
        )) as c,
        transform(uraw, u -> named_struct(
            'k', u.k,
            'x', if(schema_of_variant(u.x) like 'ARRAY%',
                    filter(try_variant_get(u.x, '$', 'array<variant>'),
                           z -> not is_variant_null(z)
                                and not (schema_of_variant(z) = 'STRING' and variant_get(z, '$', 'string') = ''))[0],
                    u.x)
        )) as ufirst,
        transform(array(resp.er, variant_get(resp.err, '$.code'), variant_get(resp.err, '$.error_subcode')),
                  x -> named_struct('t', schema_of_variant(x), 'x', x)) as rv
    from event_times
),

user_typed as (
    select
        *,
        transform(ufirst, u -> named_struct(
            'k', u.k,
            't', schema_of_variant(u.x),
            'kind', case
                when u.x is null or is_variant_null(u.x) then 'missing'
                when schema_of_variant(u.x) in ('STRING', 'BIGINT')
                    and try_variant_get(u.x, '$', 'string') rlike r'^[ -~]*\z' then 'text'
                else 'odd'
            end,
            's', try_variant_get(u.x, '$', 'string')
        )) as ut,
        -- the record's country decides the zip rules (canonical._plain_country, normalize._region):
        -- 'US', 'OTHER', or null when SQL cannot tell
        case
            when coalesce(schema_of_variant(ufirst[7].x), 'VOID') <> 'STRING'
                or trim(variant_get(ufirst[7].x, '$', 'string')) = ''
                or trim(variant_get(ufirst[7].x, '$', 'string')) rlike r'^[0-9a-fA-F]{64}\z'
                or regexp_replace(variant_get(ufirst[7].x, '$', 'string'), r"^[ ']+| +\z", '') = ''
                or (regexp_replace(variant_get(ufirst[7].x, '$', 'string'), r"^[ ']+| +\z", '') rlike r'^[A-Za-z]{2}\z'
                    -- a two-letter value that is no code (nor 'uk', read as gb): normalize gives None
                    and not array_contains(array_append(countries, 'uk'), lower(regexp_replace(
                        variant_get(ufirst[7].x, '$', 'string'), r"^[ ']+| +\z", ''))))
                then case
                    when cast(:default_country as string) is null or cast(:default_country as string) = '' then 'OTHER'
                    when cast(:default_country as string) rlike r'^[A-Za-z]{2}\z' then if(lower(cast(:default_country as string)) = 'us', 'US', 'OTHER')
                end
            when not variant_get(ufirst[7].x, '$', 'string') rlike r'^[ -~]*\z' then null
            when regexp_replace(variant_get(ufirst[7].x, '$', 'string'), r"^[ ']+| +\z", '') rlike r'^[A-Za-z]{2}\z'
                then if(lower(regexp_replace(variant_get(ufirst[7].x, '$', 'string'), r"^[ ']+| +\z", '')) = 'us', 'US', 'OTHER')
        end as region
    from custom_typed
),

user_trimmed as (
    select
        *,
        -- normalize._text: leading blanks/apostrophes (Excel) and trailing blanks dropped
        transform(ut, u -> named_struct(
            'k', u.k, 'kind', u.kind, 's', u.s, 'p', regexp_replace(u.s, r"^[ ']+| +\z", '')
        )) as up
    from user_typed
),

user_zip as (
    select
        *,
        -- normalize._zip: the part before the first '-', letters and digits; US zips cut or padded to 5
        if(region = 'US' and zp_code rlike r'^[0-9]+\z',
           if(length(zp_code) in (3, 4), lpad(zp_code, 5, '0'), left(zp_code, 5)),
           zp_code) as zp_fixed
    from (select *, regexp_replace(lower(substring_index(up[6].p, '-', 1)), '[^a-z0-9]', '') as zp_code from user_trimmed)
),

user_normalized as (
    select
        *,
        -- normalize.py's per-key normalizers on printable ASCII: (ok = SQL is exact, n = normalized).
        -- Phones (phonenumbers), birth dates (today's year), long state names, 'US-CA' codes, emails
        -- over 320 characters and non-2-letter countries go to Python.
        transform(up, u -> case u.k
            when 'em' then named_struct(
                'ok', length(u.p) <= 320,
                'n', if(lower(u.p) rlike r'^(?>"(?:[^"\\]|\\.)*"|\\.|[^ @\\])+@(?:[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?\.)+[a-z](?:[a-z0-9_-]*[a-z0-9])?\z',
                        lower(u.p), null))
            when 'fn' then named_struct('ok', true, 'n', nullif(regexp_replace(lower(u.p), '[^a-z0-9]', ''), ''))
            when 'ln' then named_struct('ok', true, 'n', nullif(regexp_replace(lower(u.p), '[^a-z0-9]', ''), ''))
            when 'ct' then named_struct('ok', true, 'n', nullif(regexp_replace(lower(u.p), '[^a-z]', ''), ''))
            -- no US state or Canadian province name folds to 3 letters or fewer
            when 'st' then named_struct(
                'ok', length(regexp_replace(lower(u.p), '[^a-z]', '')) <= 3
                      and not u.p rlike r'(?i)^ *(us|ca) *- *[a-z]{2} *\z',
                'n', nullif(regexp_replace(lower(u.p), '[^a-z]', ''), ''))
            when 'zp' then named_struct(
                'ok', not zp_code rlike r'^[0-9]+\z' or region is not null,
                'n', if(length(zp_fixed) >= 2, zp_fixed, null))
            when 'country' then named_struct(
                'ok', u.p rlike r'^[A-Za-z]{2}\z',
                'n', case when lower(u.p) = 'uk' then 'gb' when array_contains(countries, lower(u.p)) then lower(u.p) end)
            when 'ge' then named_struct('ok', true, 'n', case
                when regexp_replace(lower(u.p), '[^a-z]', '')
                    in ('f', 'female', 'woman', 'women', 'girl', 'mrs', 'ms', 'miss', 'lady') then 'f'
                when regexp_replace(lower(u.p), '[^a-z]', '')
                    in ('m', 'male', 'man', 'men', 'boy', 'mr', 'gentleman') then 'm'
            end)
            -- external_id as sent (trimmed, case kept: normalize._external_id, as Meta's SDK sends it)
            when 'external_id' then named_struct('ok', true, 'n', u.p)
            else named_struct('ok', false, 'n', cast(null as string))
        end) as un
    from user_zip
),

user_mapped as (
    select
        *,
        -- canonical._user_data_columns / normalize.assess_key on the server channel: (ok, stored, check)
        transform(arrays_zip(up, un), z -> case
            when z.up.kind = 'odd' then named_struct('ok', false, 'v', cast(null as string), 'c', cast(null as string))
            when z.up.kind = 'missing' then named_struct('ok', true, 'v', cast(null as string), 'c', 'missing')
            -- plain keys (normalize._assess_plain): stored as sent, stripped
            when z.up.k in ('fbp', 'fbc', 'client_ip_address', 'client_user_agent', 'lead_id') then case
                when trim(z.up.s) = '' then named_struct('ok', true, 'v', cast(null as string), 'c', 'missing')
                when z.up.k in ('fbp', 'fbc', 'client_ip_address') and trim(z.up.s) rlike r'^[0-9a-fA-F]{64}\z'
                    then named_struct('ok', true, 'v', trim(z.up.s), 'c', 'hashed_forbidden')
                when z.up.k = 'fbp' then named_struct('ok', true, 'v', trim(z.up.s), 'c', if(
                    trim(z.up.s) rlike r'^fb\.[0-9]\.[0-9]{13}\.[0-9]+(\.(AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?\z',
                    'valid', 'malformed'))
                when z.up.k = 'fbc' then named_struct('ok', true, 'v', trim(z.up.s), 'c', if(
                    trim(z.up.s) rlike r'^fb\.[0-9]\.[0-9]{13}\.[^. ]+(\.(AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?\z',
                    'valid', 'malformed'))
                -- dotted-quad IPv4 and plain hex IPv6 (at most one '::'); ipaddress decides anything else
                when z.up.k = 'client_ip_address' then named_struct(
                    'ok', trim(z.up.s) rlike r'^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\z'
                          or trim(z.up.s) rlike r'^([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\z'
                          or (trim(z.up.s) rlike r'^(([0-9a-fA-F]{1,4}:)*[0-9a-fA-F]{1,4})?::(([0-9a-fA-F]{1,4}:)*[0-9a-fA-F]{1,4})?\z'
                              and regexp_count(trim(z.up.s), '[0-9a-fA-F]{1,4}') <= 7),
                    'v', trim(z.up.s), 'c', 'valid')
                when z.up.k = 'lead_id' then named_struct(
                    'ok', true, 'v', trim(z.up.s), 'c', if(trim(z.up.s) rlike r'^[0-9]+\z', 'valid', 'malformed'))
                else named_struct('ok', true, 'v', trim(z.up.s), 'c', 'valid')
            end
            when z.up.p = '' then named_struct('ok', true, 'v', cast(null as string), 'c', 'missing')
            -- already hashed (64 hex, optionally a Parameter Builder appendix): lowercased
            when z.up.p rlike r'^[0-9a-fA-F]{64}(\.(AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?\z'
                then named_struct('ok', true, 'v', lower(left(z.up.p, 64)), 'c', 'valid')
            when z.up.k <> 'external_id' and z.up.p rlike r'^[0-9a-fA-F]{32,}\z'
                then named_struct('ok', true, 'v', cast(null as string), 'c', 'malformed')
            when z.un.n is null then named_struct('ok', z.un.ok, 'v', cast(null as string), 'c', 'malformed')
            else named_struct(
                'ok', z.un.ok, 'v', sha2(z.un.n, 256), 'c', if(z.up.k = 'external_id', 'valid', 'raw_pii'))
        end) as um
    from user_normalized
),

custom_mapped as (
    select
        *,
        -- canonical.parse_value for 0 value and 8 predicted_ltv: (ok, value, raw, check)
        transform(array(c[0], c[8]), y -> case
            when y.t is null or y.t = 'VOID' or (y.t = 'STRING' and y.s = '')
                then named_struct('ok', true, 'v', cast(null as double), 'raw', cast(null as string), 'c', 'missing')
            when y.t = 'BOOLEAN'
                then named_struct('ok', true, 'v', cast(null as double), 'raw', initcap(y.s), 'c', 'malformed')
            when y.t = 'STRING' and y.s rlike r'^-?[0-9]{1,15}(\.[0-9]{1,15})?\z' then named_struct(
                'ok', true, 'v', if(cast(y.s as double) < 0, null, cast(y.s as double)), 'raw', left(y.s, 64),
                'c', if(cast(y.s as double) < 0, 'malformed', 'valid'))
            -- text float() cannot read for sure: a printable character no number is spelt with
            when y.t = 'STRING' and y.s rlike r'^[ -~]*\z' and y.s rlike r'[^0-9A-Za-z+._ -]'
                then named_struct('ok', true, 'v', cast(null as double), 'raw', left(y.s, 64), 'c', 'malformed')
            when y.repr is not null then named_struct(
                'ok', true, 'v', if(cast(y.repr as double) < 0, null, cast(y.repr as double)),
                'raw', left(y.repr, 64), 'c', if(cast(y.repr as double) < 0, 'malformed', 'valid'))
            else named_struct('ok', false, 'v', cast(null as double), 'raw', cast(null as string), 'c', cast(null as string))
        end) as pv,
        -- canonical._text (str() of the raw value) for 2 order_id, 6 content_type, 7 status
        transform(array(c[2], c[6], c[7]), y -> named_struct(
            'ok', coalesce(y.t, 'VOID') in ('VOID', 'STRING', 'BOOLEAN') or y.repr is not null,
            'v', case when y.t = 'STRING' then nullif(y.s, '') when y.t = 'BOOLEAN' then initcap(y.s) else y.repr end
        )) as ct,
        -- canonical._int_or_none for num_items, events_received, error code and subcode
        transform(array(named_struct('t', c[5].t, 'x', c[5].x), rv[0], rv[1], rv[2]), y -> transform(
            array(named_struct(
                'n', case
                    when y.t = 'BOOLEAN' then if(variant_get(y.x, '$', 'boolean'), 1L, 0L)
                    when y.t = 'BIGINT' then variant_get(y.x, '$', 'bigint')
                    when y.t = 'STRING' and variant_get(y.x, '$', 'string') rlike r'^-?[0-9]{1,18}\z'
                        then cast(variant_get(y.x, '$', 'string') as bigint)
                    -- int() of a float read from a short decimal literal truncates toward zero
                    when y.t rlike r'^DECIMAL\(([1-9]|1[0-5]),' then cast(try_variant_get(y.x, '$', 'decimal(38,18)') as bigint)
                end,
                'ok', coalesce(y.t, 'VOID') in ('VOID', 'BOOLEAN', 'BIGINT')
                    or y.t rlike r'^(OBJECT|ARRAY|DECIMAL\(([1-9]|1[0-5]),)'
                    -- text int() cannot read: no digit at all
                    or (y.t = 'STRING' and variant_get(y.x, '$', 'string') rlike r'^(-?[0-9]{1,18}|[ -/:-~]*)\z')
            )),
            i -> named_struct('ok', i.ok, 'v', if(i.n between -2147483648 and 2147483647, cast(i.n as int), null))
        )[0]) as iv,
        -- canonical.check_currency: ISO 4217 in any case, stripped
        case
            when c[1].t is null or c[1].t = 'VOID' then named_struct('ok', true, 'v', cast(null as string), 'c', 'missing')
            when c[1].t in ('STRING', 'BIGINT', 'BOOLEAN') and c[1].s rlike r'^[ -~]*\z' then named_struct(
                'ok', true,
                'v', nullif(left(trim(if(c[1].t = 'BOOLEAN', initcap(c[1].s), c[1].s)), 16), ''),
                'c', case
                    when trim(c[1].s) = '' then 'missing'
                    when c[1].t = 'STRING' and array_contains(currencies, upper(trim(c[1].s))) then 'valid'
                    else 'malformed'
                end)
            else named_struct('ok', false, 'v', cast(null as string), 'c', cast(null as string))
        end as cur,
        -- canonical._content_ids: content_ids (a list or one id), else the ids of contents
        case
            when coalesce(c[3].t, 'VOID') <> 'VOID'
                then if(c[3].t like 'ARRAY%', try_variant_get(c[3].x, '$', 'array<variant>'), array(c[3].x))
            when c[4].t like 'ARRAY%' then transform(
                filter(try_variant_get(c[4].x, '$', 'array<variant>'),
                       i -> schema_of_variant(i) like 'OBJECT%' and variant_get(i, '$.id') is not null
                            and not is_variant_null(variant_get(i, '$.id'))),
                i -> variant_get(i, '$.id'))
        end as ids
    from user_mapped
),

judged as (
    select
        *,
        coalesce(
            envelope_ok
            and f[0].t = 'STRING' and f[0].s <> ''
            and et[0].fmt is not null
            and et[1].fmt in ('missing', 'seconds', 'milliseconds', 'iso')
            and forall(tx, t -> t.ok)
            -- a URL that may carry an email goes to Python, which masks it (privacy.mask_url); so does a
            -- URL with a key=value item whose key is not on :url_keys (the whole URL is scanned: this may
            -- route a URL Python keeps, never the reverse)
            and not coalesce(tx[3].v rlike '@|%40', false)
            and (tx[3].v is null or instr(tx[3].v, '=') = 0 or forall(
                regexp_extract_all(tx[3].v, r'[?&#;]([^?&#;=]*)=[^?&#;]', 1),
                k -> k rlike r'^[A-Za-z0-9_.-]+\z' and exists(:url_keys, p -> if(
                    endswith(p, '*'), startswith(lower(k), substr(p, 1, length(p) - 1)), lower(k) = p))))
            -- consent: text as sent (printable ASCII), integers, booleans, null; objects/lists read as unknown
            and (consent_raw is null
                 or schema_of_variant(consent_raw) in ('VOID', 'BIGINT', 'BOOLEAN')
                 or schema_of_variant(consent_raw) rlike '^(OBJECT|ARRAY)'
                 or (schema_of_variant(consent_raw) = 'STRING'
                     and variant_get(consent_raw, '$', 'string') rlike r'^[ -~]*\z'))
            -- data_processing_options: strings (not JSON text) and integers, or a list of them
            and (coalesce(f[9].t, 'VOID') in ('VOID', 'BIGINT')
                 or (f[9].t = 'STRING' and not startswith(f[9].s, '['))
                 or (f[9].t like 'ARRAY%' and forall(try_variant_get(f[9].x, '$', 'array<variant>'),
                                                     i -> schema_of_variant(i) in ('STRING', 'BIGINT'))))
            and (coalesce(f[10].t, 'VOID') = 'VOID' or f[10].t like 'OBJECT%')
            and (coalesce(f[11].t, 'VOID') = 'VOID' or f[11].t like 'OBJECT%')
            and forall(pv, p -> p.ok) and forall(ct, t -> t.ok) and forall(iv, i -> i.ok) and cur.ok
            and (ids is null or forall(ids, i -> schema_of_variant(i) in ('STRING', 'BIGINT')
                                                 and not variant_get(i, '$', 'string') rlike r'[\x00-\x1f\x7f-\x9f\x{2028}\x{2029}]'))
            and forall(um, u -> u.ok)
            and coalesce(schema_of_variant(resp.fb), 'VOID') in ('VOID', 'STRING')
            and coalesce(schema_of_variant(variant_get(resp.err, '$.fbtrace_id')), 'VOID') in ('VOID', 'STRING'),
            false
        ) as event_ok
    from custom_mapped
),

mapped as (
    select
        line_no,
        coalesce(pos0 + 1, 0) as pos,
        if(pos0 = 0, secrets, 0) as secrets,
        -- a request with an empty data array holds no event (pos0 is null); a null item is one
        bool_and(blank or (envelope_ok and pos0 is null) or event_ok) over (partition by line_no) as line_ok,
        named_struct(
            'channel', 'server',
            'pixel_id', nullif(left(coalesce(tx[1].v, env_pixel_id), 64), ''),
            'event_name', left(f[0].s, 256),
            'event_id', left(tx[0].v, 256),
            'event_time', et[0].ts,
            -- canonical.event_time_format: epoch digits sent as a JSON string are marked as text
            'event_time_format', if(f[1].t = 'STRING' and et[0].fmt in ('seconds', 'milliseconds'),
                                    concat(et[0].fmt, '_text'), et[0].fmt),
            'sent_at', if(et[1].fmt = 'missing', env_sent_at, et[1].ts),
            'received_at', coalesce(if(et[1].fmt = 'missing', env_sent_at, et[1].ts), et[0].ts),
            'action_source', left(tx[2].v, 64),
            'event_source_url', left(tx[3].v, 2048),
            'test_event_code', left(coalesce(tx[4].v, env_test_event_code), 64),
            'consent', case lower(trim(case
                    when consent_raw is null or is_variant_null(consent_raw) then null
                    when schema_of_variant(consent_raw) in ('STRING', 'BIGINT', 'BOOLEAN')
                        then variant_get(consent_raw, '$', 'string')
                end))
                when 'granted' then 'granted' when 'true' then 'granted' when 'yes' then 'granted'
                when '1' then 'granted' when 'opt_in' then 'granted'
                when 'denied' then 'denied' when 'false' then 'denied' when 'no' then 'denied'
                when '0' then 'denied' when 'revoked' then 'denied' when 'opt_out' then 'denied'
                else 'unknown'
            end,
            'data_processing_options', case
                when f[9].t like 'ARRAY%' then concat_ws(',', transform(
                    try_variant_get(f[9].x, '$', 'array<variant>'), i -> variant_get(i, '$', 'string')))
                when f[9].t in ('STRING', 'BIGINT') then f[9].s
            end,
            'value', pv[0].v,
            'value_raw', pv[0].raw,
            'value_check', pv[0].c,
            'currency', cur.v,
            'currency_check', cur.c,
            'order_id', left(ct[0].v, 256),
            'content_ids', if(ids is null, null, to_json(transform(ids, i -> variant_get(i, '$', 'string')))),
            'num_items', iv[0].v,
            'content_type', left(ct[1].v, 64),
            'status', left(ct[2].v, 64),
            'predicted_ltv', pv[1].v,
            'em', um[0].v, 'ph', um[1].v, 'fn', um[2].v, 'ln', um[3].v, 'ct', um[4].v, 'st', um[5].v,
            'zp', um[6].v, 'country', um[7].v, 'db', um[8].v, 'ge', um[9].v, 'external_id', um[10].v,
            'fbp', um[11].v, 'fbc', um[12].v, 'client_ip_address', um[13].v, 'client_user_agent', um[14].v,
            'lead_id', um[15].v,
            'em_check', um[0].c, 'ph_check', um[1].c, 'fn_check', um[2].c, 'ln_check', um[3].c,
            'ct_check', um[4].c, 'st_check', um[5].c, 'zp_check', um[6].c, 'country_check', um[7].c,
            'db_check', um[8].c, 'ge_check', um[9].c, 'external_id_check', um[10].c,
            'fbp_check', um[11].c, 'fbc_check', um[12].c, 'client_ip_address_check', um[13].c,
            'client_user_agent_check', um[14].c, 'lead_id_check', um[15].c,
            'response_events_received', iv[1].v,
            'response_error_code', iv[2].v,
            'response_error_subcode', iv[3].v,
            'fbtrace_id', left(coalesce(
                nullif(if(schema_of_variant(resp.fb) = 'STRING', variant_get(resp.fb, '$', 'string'), null), ''),
                nullif(if(schema_of_variant(variant_get(resp.err, '$.fbtrace_id')) = 'STRING',
                          variant_get(resp.err, '$.fbtrace_id', 'string'), null), '')
            ), 128)
        ) as content
    from judged
),

shown as (
    select
        line_no,
        if(line_ok, pos, 0) as pos,
        line_ok,
        if(line_ok, secrets, 0) as secrets,
        if(line_ok and pos > 0, content, null) as content,
        row_number() over (partition by line_no order by pos) as nth
    from mapped
)

-- one row per event of a decided line; one row (pos 0) for a blank, event-less or routed line
select
    cast(line_no as bigint) as line_no,
    cast(pos as int) as pos,
    line_ok,
    cast(secrets as int) as secrets,
    content.*
from shown
where line_ok or nth = 1
