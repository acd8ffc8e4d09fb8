-- Fragment: JSONL lines -> one parsed JSON object per line, for ingest_browser_events.sql and
-- ingest_fbq_jsonl.sql (each starts its WITH list with it). Reads the view _spark_lines(line_no, text)
-- and the max_line parameter. Adds the CTEs lines, parsed and records (line_no, skipped, short_enough,
-- parsed_ok, secrets, m = the object as map<string, variant>); see ingest_browser_events.sql for what
-- the parse checks route to Python.
lines as (
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
