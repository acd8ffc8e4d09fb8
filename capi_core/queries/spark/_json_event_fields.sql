-- Fragment (named_struct fields, not CTEs): the canonical event fields from action_source to
-- fbtrace_id of a server-event shaped JSON record, for the content struct (CTE contents) of
-- ingest_browser_events.sql and ingest_fbq_jsonl.sql (the last fields: the file closes the named_struct).
-- Expects the row alias r over the judged/mapped CTEs of _json_record_values.sql, _browser_user_data.sql
-- and _json_judged.sql.
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
            -- @include spark/_browser_currency_fields
            'order_id', left(nullif(r.custom_texts[0].text, ''), 256),
            -- orjson.dumps of the ids as strings: only '"' and '\' need escaping (no control characters here)
            'content_ids', if(r.id_items is null, null, concat('[', array_join(
                transform(r.ids_str, x -> concat('"', replace(replace(x, '\\', '\\\\'), '"', '\\"'), '"')), ','), ']')),
            'num_items', r.ints[0].value,
            'content_type', left(nullif(r.custom_texts[1].text, ''), 64),
            'status', left(nullif(r.custom_texts[2].text, ''), 64),
            'predicted_ltv', if(r.amounts[1].check = 'valid', r.amounts[1].value, null),
            -- @include spark/_browser_user_data_fields
            'response_events_received', r.ints[1].value,
            'response_error_code', r.ints[2].value,
            'response_error_subcode', r.ints[3].value,
            'fbtrace_id', left(coalesce(r.traces[0].text, r.traces[1].text), 128)
