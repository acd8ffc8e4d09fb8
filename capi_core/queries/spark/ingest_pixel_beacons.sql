-- pixel_beacons on Spark: every line of a beacon file (view _spark_lines(line_no, text)) -> one canonical
-- events row per line, as readers/browser.py::PixelBeaconReader + canonical.canonical_event give it.
-- Parameters: :pixel_id (ReadOptions.pixel_id, may be null), :default_country (ReadOptions.default_country,
-- may be null; only the phone and US-zip rules use it, and those values go to Python), :max_line
-- (characters; a longer line is not line_ok), :url_keys (page-URL keys whose values are kept:
-- privacy.url_keys_kept). Contract: engines/spark_formats.py.
--
-- Spark SQL of its own, not a sqlglot translation: the DuckDB fast path has no beacon twin, and the
-- parsing here leans on Java regexes and URLDecoder, whose differences from Python's re and unquote are
-- what this file is about. Where they could differ the line is not line_ok (Python reads it):
-- * A line Python reads (not blank, not a # or // comment) must be tab + printable ASCII: then Java's
--   \s, \w, (?i) and $ agree with Python's Unicode re on _TR_URL, _TOKEN_PARAM, the email rules.
--   Blank/comment detection uses Python's exact whitespace set (str.strip), so it needs no ASCII.
-- * Parameters are split as query_params does ('&', first '=', empty pairs dropped) and decoded with
--   try_url_decode (java URLDecoder: '+' is a space, like unquote_plus). A '%' not followed by two hex
--   digits (Python keeps it, Java fails or reads '%+1' as a byte) and U+FFFD after decoding (bytes that
--   are not UTF-8: the two decoders replace them differently) route the line.
-- * cd[..]/ud[..]/udff[..] as _split_params: plain fields first one wins, cd last one wins, ud last one
--   wins over udff's first; a bracket key with text after ']' (cd[a]b) routes the line.
-- * ts: digits only (epoch seconds below 1e11, else milliseconds); any other ts goes to Python.
-- * dl: a page URL with a key=value item whose key is not on :url_keys goes to Python (privacy.mask_url
--   masks its value); else privacy.mask_url's two email regexes when the URL is printable ASCII;
--   otherwise a URL with '@' or '%40' goes to Python.
-- * user data: 64 hex lowercased; raw em/fn/ln/ct/ge/external_id, 2-letter st and country codes and zp
--   normalized and hashed with sha2(.., 256) as normalize.assess_key does on the browser channel (printable
--   ASCII only); ph, db, other st/country text, US-style zips whose region matters, non-IPv4 IPs: Python.
-- * content_ids/contents JSON: try_parse_json wrapped as '[' || text || ',"\u0000"]', so text after the
--   value (which parse_json ignores and orjson refuses) fails the size/sentinel check; NaN, huge
--   exponents, \u escapes of surrogates or NUL and control characters route the line.
-- Shared with ingest_browser_events.sql / ingest_fbq_jsonl.sql: the spark/_browser_*.sql fragments that the
-- include lines below pull in (queries.load_query expands them).
with lines as (
    select
        line_no,
        coalesce(text, '') as text,
        -- str.strip(): exactly the characters Python's str.isspace() accepts
        reverse(regexp_replace(reverse(regexp_replace(coalesce(text, ''), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')) as stripped
    from _spark_lines
),

kinds as (
    select
        line_no,
        text,
        stripped,
        stripped = '' or startswith(stripped, '#') or startswith(stripped, '//') as skipped,
        length(text) <= :max_line and text rlike r'^[\t -~]*\z' as readable,
        -- privacy.strip_secrets on the line: one credential when privacy._TOKEN_PARAM matches (any case)
        if(stripped rlike r'(?i)access_token(?:[\x22\x27]?\s*[=:]\s*[\x22\x27]?|%3D)[^&\x22\x27\s,}]', 1, 0) as secrets
    from lines
),

urls as (
    select
        *,
        -- Java repeats the host group recursively: a long run of host characters after '//' could overflow
        -- the stack, so such a line is not searched (and goes to Python)
        if(skipped or stripped rlike r'//[\w.-]{200}', '', regexp_extract(
            if(secrets = 1,
               regexp_replace(stripped, r'(?i)(access_token(?:[\x22\x27]?\s*[=:]\s*[\x22\x27]?|%3D))[^&\x22\x27\s,}]+', '$1***'),
               stripped),
            r'(?i)(?:https?:)?//(?:[\w-]+\.)*facebook\.com/tr/?(?:\?[^\s\x22\x27<>`]*)?(?=[\s\x22\x27<>`]|$)',
            0
        )) as url
    from kinds
),

pairs as (
    select
        *,
        -- urlsplit(..).query: after the first '?', up to the first '#'
        transform(
            filter(
                split(if(instr(url, '?') > 0, substring_index(substr(url, instr(url, '?') + 1), '#', 1), ''), '&'),
                p -> p <> ''
            ),
            p -> named_struct(
                'raw', p,
                'name', try_url_decode(substring_index(p, '=', 1)),
                'value', if(instr(p, '=') > 0, try_url_decode(substr(p, instr(p, '=') + 1)), '')
            )
        ) as decoded
    from urls
),

params as (
    select
        *,
        exists(
            decoded,
            d -> d.raw rlike '%(?![0-9A-Fa-f]{2})'
                 or d.name is null or d.value is null
                 or instr(d.name, '\uFFFD') > 0 or instr(d.value, '\uFFFD') > 0
                 or ((startswith(d.name, 'cd[') or startswith(d.name, 'ud[') or startswith(d.name, 'udff['))
                     and d.name rlike r'(?s)^(cd|ud|udff)\[[^\]]*\].')
        ) as bad_params,
        -- (kind, key, value) per parameter: kind cd / ud / udff for a bracket key (key = inside the
        -- brackets), else f (key = the name); the regexes only run on names that start like one
        transform(
            decoded,
            d -> if(
                (startswith(d.name, 'cd[') or startswith(d.name, 'ud[') or startswith(d.name, 'udff['))
                and d.name rlike r'(?s)^(cd|ud|udff)\[[^\]]*\]\z',
                named_struct(
                    'kind', regexp_extract(d.name, r'^(cd|ud|udff)\[', 1),
                    'key', regexp_extract(d.name, r'(?s)^(?:cd|ud|udff)\[([^\]]*)\]\z', 1),
                    'value', d.value),
                named_struct('kind', 'f', 'key', d.name, 'value', d.value))
        ) as ps
    from pairs
),

split as (
    -- the parameters by kind, once: the lookups below filter small arrays (lambdas are interpreted)
    select
        *,
        filter(ps, x -> x.kind = 'f') as fps,
        filter(ps, x -> x.kind = 'cd') as cps,
        filter(ps, x -> x.kind in ('ud', 'udff')) as ups
    from params
),

picked as (
    select
        line_no,
        skipped,
        length(text) <= :max_line as short_enough,
        readable,
        secrets,
        url <> '' as found,
        bad_params,
        try_element_at(filter(fps, x -> x.key = 'ev'), 1).value as ev,
        try_element_at(filter(fps, x -> x.key = 'ts'), 1).value as ts,
        try_element_at(filter(fps, x -> x.key = 'eid'), 1).value as eid,
        try_element_at(filter(fps, x -> x.key = 'id'), 1).value as id,
        nullif(try_element_at(filter(fps, x -> x.key = 'dl'), 1).value, '') as dl,
        try_element_at(filter(cps, x -> x.key = 'value'), -1).value as cd_value,
        try_element_at(filter(cps, x -> x.key = 'currency'), -1).value as cd_currency,
        try_element_at(filter(cps, x -> x.key = 'order_id'), -1).value as cd_order_id,
        try_element_at(filter(cps, x -> x.key = 'content_ids'), -1).value as cd_content_ids,
        try_element_at(filter(cps, x -> x.key = 'contents'), -1).value as cd_contents,
        try_element_at(filter(cps, x -> x.key = 'num_items'), -1).value as cd_num_items,
        try_element_at(filter(cps, x -> x.key = 'content_type'), -1).value as cd_content_type,
        try_element_at(filter(cps, x -> x.key = 'status'), -1).value as cd_status,
        try_element_at(filter(cps, x -> x.key = 'predicted_ltv'), -1).value as cd_predicted_ltv,
        -- user_data as _split_params + beacon_event build it: the last ud[k], else the first udff[k],
        -- else (fbp/fbc only) the first non-empty plain parameter
        transform(
            array('em', 'ph', 'fn', 'ln', 'ct', 'st', 'zp', 'country', 'db', 'ge', 'external_id',
                  'fbp', 'fbc', 'client_ip_address', 'client_user_agent', 'lead_id'),
            k -> named_struct(
                'key', k,
                'raw', coalesce(
                    try_element_at(filter(ups, x -> x.kind = 'ud' and x.key = k), -1).value,
                    try_element_at(filter(ups, x -> x.kind = 'udff' and x.key = k), 1).value,
                    if(k in ('fbp', 'fbc'),
                       nullif(try_element_at(filter(fps, x -> x.key = k), 1).value, ''),
                       null)
                ),
                -- never bad: a beacon's values are text (the shared user_data chain asks)
                'bad', false
            )
        ) as user_raw
    from split
),

-- canonical.py::parse_value and ::_content_ids inputs, and content JSON parsed with its sentinel
values_parsed as (
    select
        *,
        case
            when cd_content_ids is not null
                then if(cd_content_ids rlike r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]*[\[{]',
                        cd_content_ids, null)
            else if(cd_contents rlike r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]*[\[{]',
                    cd_contents, null)
        end as ids_json_text
    from picked
),

ids_checked as (
    select
        *,
        ids_json_text is null
        or (ids_json_text rlike r'^ *[\[{]'
            and not ids_json_text rlike r'[\x00-\x1F]'
            and not ids_json_text rlike r'(?i)\\u(d[89a-f]|0000)'
            and not lower(ids_json_text) rlike r'[\[:,]\s*[-+]?(nan|inf)'
            and not lower(ids_json_text) rlike r'[0-9]e[-+]?[0-9]{3}'
            and not ids_json_text rlike r'[0-9]{300}') as ids_json_plain,
        try_parse_json(concat('[', ids_json_text, ',"\\u0000"]')) as ids_wrapped
    from values_parsed
),

ids_values as (
    select
        *,
        -- the parsed value when the wrapped array is [value, "\u0000"] (parse_json ignores trailing text)
        if(ids_wrapped is not null
           and schema_of_variant(ids_wrapped) like 'ARRAY<%'
           and array_size(cast(ids_wrapped as array<variant>)) = 2
           and try_variant_get(ids_wrapped, '$[1]', 'string') = '\u0000',
           cast(ids_wrapped as array<variant>)[0], null) as ids_json
    from ids_checked
),

ids_listed as (
    select
        *,
        -- the ids as parsed JSON items (null: no ids, or the ids are one plain text, ids_plain_text)
        case
            when cd_content_ids is not null and ids_json_text is null then null
            when cd_content_ids is not null and schema_of_variant(ids_json) like 'ARRAY<%'
                then cast(ids_json as array<variant>)
            when cd_content_ids is not null then array(ids_json)
            when schema_of_variant(ids_json) like 'ARRAY<%'
                then transform(
                    filter(cast(ids_json as array<variant>),
                           c -> schema_of_variant(c) like 'OBJECT<%'
                                and try_variant_get(c, '$.id') is not null
                                and not is_variant_null(try_variant_get(c, '$.id'))),
                    c -> try_variant_get(c, '$.id'))
        end as ids_items
    from ids_values
),

ids_text as (
    select
        *,
        -- ids as text: plain text is one id; a string item is itself, an integer its digits; anything
        -- else (floats, booleans, null, objects) is printed by Python's str() and goes to Python
        case
            when cd_content_ids is not null and ids_json_text is null then array(cd_content_ids)
            else transform(ids_items, x -> case
                when schema_of_variant(x) = 'STRING' then variant_get(x, '$', 'string')
                when schema_of_variant(x) = 'BIGINT' then cast(variant_get(x, '$', 'bigint') as string)
            end)
        end as ids_str,
        case
            when ids_json_text is null then true
            else ids_json_plain and ids_json is not null
        end as ids_parsed_ok
    from ids_listed
),

-- the user_data chain reads user_raws: here the user_raw built in picked
user_raws as (select * from ids_text),

-- @include spark/_browser_user_data

judged as (
    select
        *,
        -- beacon_event's ts: epoch seconds below 1e11, else milliseconds (a datetime, so format 'datetime')
        case
            when ts is null or ts = '' then 'none'
            when ts rlike r'^[0-9]{1,15}\z' and cast(ts as bigint) < 253402300800000 then 'ok'
        end as ts_state,
        -- canonical.parse_value of cd[value] and cd[predicted_ltv] (mapped names them value_check and
        -- ltv_check): missing, valid or malformed; null = Python decides (underscores, inf/nan, non-ASCII
        -- digits ...)
        transform(array(cd_value, cd_predicted_ltv), amount -> case
            when amount is null or amount = '' then 'missing'
            when length(amount) > 100 then null
            when amount rlike r'^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\z'
                then if(isnan(cast(amount as double)) or abs(cast(amount as double)) = double('Infinity')
                        or cast(amount as double) < 0, 'malformed', 'valid')
            when amount rlike r'^[ -~]*\z'
                 and not amount rlike r'(?i)^\s*[+-]?(?:inf|infinity|nan|[0-9_.]*[0-9][0-9_.]*(?:e[+-]?[0-9_]+)?)\s*\z'
                then 'malformed'
        end) as amount_checks,
        reverse(regexp_replace(reverse(regexp_replace(cd_currency, r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')) as currency_text,
        -- canonical._int_or_none: int(text) in the int32 range
        case
            when cd_num_items is null or cd_num_items = '' then 'none'
            when length(cd_num_items) > 100 then null
            when cd_num_items rlike r'^[+-]?[0-9]{1,18}\z' then 'int'
            when cd_num_items rlike r'^[ -~]*\z' and not cd_num_items rlike r'^\s*[+-]?[0-9_]+\s*\z' then 'none'
        end as num_items_state,
        -- privacy.mask_url: a URL whose parameter values it would mask is null here (Python reads the
        -- line; see the header); otherwise only a URL with '@' or '%40' can change
        case
            when not (dl is null or instr(dl, '=') = 0 or forall(
                regexp_extract_all(dl, r'[?&#;]([^?&#;=]*)=[^?&#;]', 1),
                k -> k rlike r'^[A-Za-z0-9_.-]+\z' and exists(:url_keys, p -> if(
                    endswith(p, '*'), startswith(lower(k), substr(p, 1, length(p) - 1)), lower(k) = p)))) then null
            when dl is null or not dl rlike '@|%40' then dl
            when dl rlike r'^[ -~]*\z' then regexp_replace(
                regexp_replace(dl, r'[^\s@\x22\x27,;:<>()\[\]{}]+@[^\s@\x22\x27,;:<>()\[\]{}]+\.[A-Za-z]{2,}', '***'),
                r'(?i)[^\s&=?/#]+%40[^\s&=?/#]+', '***')
        end as masked_dl
    from user_final
),

mapped as (
    select
        *,
        coalesce(
            readable and found and not bad_params
            and ev is not null and ev <> ''
            and ts_state is not null
            and (dl is null or masked_dl is not null)
            and forall(amount_checks, x -> x is not null)
            and (currency_text is null or currency_text = '' or currency_text rlike r'^[\x00-\x7F]*\z')
            and num_items_state is not null
            and ids_parsed_ok
            and (ids_str is null or forall(ids_str, x -> x is not null and not x rlike r'[\x00-\x1F]'))
            and forall(ud, u -> u.ok),
            false
        ) as line_ok,
        amount_checks[0] as value_check,
        amount_checks[1] as ltv_check,
        case when ts_state = 'ok' then if(
            cast(ts as bigint) < 100000000000,
            timestampadd(SECOND, cast(ts as bigint), timestamp_ntz'1970-01-01 00:00:00'),
            timestampadd(MILLISECOND, cast(ts as bigint), timestamp_ntz'1970-01-01 00:00:00'))
        end as fired
    from judged
),

-- the event a line stores: null for a blank or comment line or one left to Python (see
-- spark/_browser_rows.sql)
contents as (
    select
        r.*,
        if(r.line_ok and not r.skipped, named_struct(
            'channel', 'browser',
            'pixel_id', left(nullif(coalesce(nullif(r.id, ''), :pixel_id), ''), 64),
            'event_name', left(r.ev, 256),
            'event_id', left(nullif(r.eid, ''), 256),
            'event_time', r.fired,
            'event_time_format', if(r.fired is null, 'missing', 'datetime'),
            'sent_at', r.fired,
            'received_at', r.fired,
            'action_source', 'website',
            'event_source_url', left(r.masked_dl, 2048),
            'test_event_code', cast(null as string),
            'consent', 'unknown',
            'data_processing_options', cast(null as string),
            'value', if(r.value_check = 'valid', cast(r.cd_value as double), null),
            'value_raw', if(r.value_check = 'missing', null, left(r.cd_value, 64)),
            'value_check', r.value_check,
            -- @include spark/_browser_currency_fields
            'order_id', left(nullif(r.cd_order_id, ''), 256),
            -- orjson.dumps of the ids as strings: only '"' and '\' need escaping (no control characters here)
            'content_ids', if(r.ids_str is null, null, concat('[', array_join(
                transform(r.ids_str, x -> concat('"', replace(replace(x, '\\', '\\\\'), '"', '\\"'), '"')), ','), ']')),
            'num_items', if(r.num_items_state = 'int' and cast(r.cd_num_items as bigint) between -2147483648 and 2147483647,
                            cast(r.cd_num_items as int), cast(null as int)),
            'content_type', left(nullif(r.cd_content_type, ''), 64),
            'status', left(nullif(r.cd_status, ''), 64),
            'predicted_ltv', if(r.ltv_check = 'valid', cast(r.cd_predicted_ltv as double), null),
            -- @include spark/_browser_user_data_fields
            'response_events_received', cast(null as int),
            'response_error_code', cast(null as int),
            'response_error_subcode', cast(null as int),
            'fbtrace_id', cast(null as string)
        ), null) as content
    from mapped r
)

-- @include spark/_browser_rows
