-- Fragment: user_data values (VARIANT) -> texts as readers/server.py::_text prints them, shared by
-- ingest_browser_events.sql and ingest_fbq_jsonl.sql (server-event shaped JSON records).
-- Expects a CTE user_firsts with a column user_values: array of named_struct(key, value VARIANT) in
-- the key order of _browser_user_data.sql. Adds the CTE user_raws (user_raw: key, raw, bad).
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
