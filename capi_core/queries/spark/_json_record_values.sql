-- Fragment: event times, custom_data values, response counts and content ids of server-event shaped
-- JSON records, as readers/server.py + canonical.canonical_event read them; shared by
-- ingest_browser_events.sql and ingest_fbq_jsonl.sql. Expects a CTE record_fields with v_time, v_sent
-- (VARIANT), cd_map and resp (map<string, variant>). Adds the CTEs times, times_valued, custom, ids and
-- ids_text (time_parts, time_values, amounts, custom_texts, ints, id_items, ids_str ...).
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
    from record_fields
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
