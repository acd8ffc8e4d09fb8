-- Fragment (one lambda body, not CTEs): canonical.parse_event_time of one typed JSON value, for
-- ingest_server.sql, which includes it twice: in envelope_times (the log line's sent_at and timestamp)
-- and in event_times (each event's event_time and sent_at). Expects the lambda variable y =
-- named_struct(t = schema_of_variant of the value, x = the value, s = its text, null for objects and
-- arrays). Gives named_struct(fmt, ts): fmt is missing, invalid, seconds, milliseconds or iso (null =
-- SQL cannot tell: the line goes to Python), ts the time as TIMESTAMP_NTZ built from the epoch or from
-- the ISO parts (the session time zone does not enter).
-- A boolean, object or list is 'invalid' for both callers: an event keeps it as its event_time_format
-- (as Python does), an envelope time that is not missing/seconds/milliseconds/iso routes the line.
            named_struct(
                'fmt', case
                    when y.t is null or y.t = 'VOID' or (y.t = 'STRING' and y.s = '') then 'missing'
                    when y.t = 'BOOLEAN' or y.t rlike '^(OBJECT|ARRAY)' then 'invalid'
                    when y.t = 'BIGINT' or (y.t = 'STRING' and y.s rlike r'^[0-9]{1,15}\z') then case
                        when cast(y.s as bigint) < 0 then 'invalid'
                        when cast(y.s as bigint) < 100000000000 then 'seconds'
                        -- below 8e12 ms, seconds / 1000 as a double rounds back to the exact millisecond
                        when cast(y.s as bigint) < 8000000000000 then 'milliseconds'
                    end
                    when y.t = 'STRING'
                        and y.s rlike r'^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{3}|\.[0-9]{6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?\z'
                        and make_timestamp_ntz(
                            cast(substr(y.s, 1, 4) as int), cast(substr(y.s, 6, 2) as int),
                            cast(substr(y.s, 9, 2) as int), 0, 0, 0
                        ) is not null then 'iso'
                end,
                'ts', case
                    when (y.t = 'BIGINT' or (y.t = 'STRING' and y.s rlike r'^[0-9]{1,15}\z'))
                        and cast(y.s as bigint) >= 0 then timestampadd(
                        MICROSECOND,
                        cast(y.s as bigint) * if(cast(y.s as bigint) < 100000000000, 1000000, 1000),
                        timestamp_ntz'1970-01-01 00:00:00'
                    )
                    when y.t = 'STRING' and y.s rlike r'^[0-9]{4}-[0-9]{2}-[0-9]{2}T' then timestampadd(
                        MINUTE,
                        if(y.s rlike r'[+-][0-9]{2}:[0-9]{2}\z',
                           if(substr(y.s, -6, 1) = '-', 1, -1)
                           * (cast(substr(y.s, -5, 2) as int) * 60 + cast(substr(y.s, -2, 2) as int)),
                           0),
                        make_timestamp_ntz(
                            cast(substr(y.s, 1, 4) as int), cast(substr(y.s, 6, 2) as int),
                            cast(substr(y.s, 9, 2) as int), cast(substr(y.s, 12, 2) as int),
                            cast(substr(y.s, 15, 2) as int),
                            cast(concat(substr(y.s, 18, 2), regexp_extract(y.s, r'^.{19}(\.[0-9]+)?', 1)) as decimal(8, 6))
                        )
                    )
                end
            )
