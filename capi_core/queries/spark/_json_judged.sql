-- Fragment: per-record judgements of server-event shaped JSON records, shared by
-- ingest_browser_events.sql and ingest_fbq_jsonl.sql. Expects a CTE user_final (from
-- _browser_user_data.sql) carrying v_consent, custom_texts, texts, v_dpo and resp. Adds the CTE judged
-- with consent_value, currency_text, masked_url, dpo, dpo_ok and traces. Parameter :url_keys (the page-URL
-- keys whose values are kept: privacy.url_keys_kept).
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
        -- privacy.mask_url: a URL with a key=value item whose key is not on :url_keys (items end at ? & # ;
        -- and the whole URL is scanned, so this may route a URL Python keeps, never the reverse) is null
        -- here (Python reads the line); otherwise only a URL with '@' or '%40' can change, and printable
        -- ASCII keeps \s the same
        case
            when not (texts[3].text is null or instr(texts[3].text, '=') = 0 or forall(
                regexp_extract_all(texts[3].text, r'[?&#;]([^?&#;=]*)=[^?&#;]', 1),
                k -> k rlike r'^[A-Za-z0-9_.-]+\z' and exists(:url_keys, p -> if(
                    endswith(p, '*'), startswith(lower(k), substr(p, 1, length(p) - 1)), lower(k) = p)))) then null
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
