-- Macros for the fast server-log ingest: JSON value -> canonical value, mirroring canonical.py and
-- readers/server.py for the common shapes. A macro named *_ok is false when its value needs Python to
-- decide (the whole line is then read by the Python reader). No parameters.

-- A JSON value j read once, as a leaf: t its json_type (null when absent), s json_extract_string(j, '$')
-- (a string's text; any other value's JSON text, which JSON functions read again). The macros below
-- take leaves, so a value is parsed once, not once per question asked of it; fx_leaves reads the leaves
-- of many values of one document at once.
create or replace temp macro fx_leaf(j) as
    {'t': json_type(j), 's': json_extract_string(j, '$')};

-- The leaves of many values of one JSON text j, in two parses of it (one for the types, one for the texts)
-- rather than one per value: fx_leaf_at(x, i) is what fx_leaf gives for the value at paths[i] (the same
-- yyjson value, typed and printed alike).
create or replace temp macro fx_leaves(j, paths) as
    {'t': json_type(j, paths), 's': json_extract_string(j, paths)};

create or replace temp macro fx_leaf_at(x, i) as
    {'t': x.t[i], 's': x.s[i]};

-- A container as a leaf whose type says only object, array, string or null ('SCALAR': a number or a
-- boolean). Its s is read only for an object or an array, where it is the container's JSON text.
create or replace temp macro fx_node_at(x, i) as
    {'t': case
              when x.t[i] is null then null
              when x.t[i] in ('OBJECT', 'ARRAY', 'VARCHAR', 'NULL') then x.t[i]
              else 'SCALAR'
          end,
     's': x.s[i]};

-- A leaf's items when it is an array, else null; its JSON text when it is an object, else null. (JSON
-- functions read a leaf's s only through these: a string's text need not be JSON, and a projection
-- evaluates both sides of an AND.)
create or replace temp macro fx_items(v) as
    json_extract(if(v.t = 'ARRAY', v.s, null), '$[*]');

create or replace temp macro fx_object(v) as
    if(v.t = 'OBJECT', v.s, null);

-- Whether no object of a json_keys list (one key list per object; null or [] when it is not one) repeats
-- a key: yyjson reads a repeated key's first value, orjson its last, so such a line goes to Python.
create or replace temp macro fx_unique_keys(key_lists) as
    coalesce(list_bool_and(list_transform(key_lists, lambda k: len(k) = len(list_distinct(k)))), true);

-- readers/server.py::_text: strings as sent ('' -> null), integers as digits, booleans as Python prints.
create or replace temp macro fx_text_ok(v) as
    v.t is null or v.t in ('NULL', 'VARCHAR', 'BIGINT', 'UBIGINT', 'BOOLEAN');

create or replace temp macro fx_text(v) as
    case v.t
        when 'VARCHAR' then nullif(v.s, '')
        when 'UBIGINT' then try_cast(v.s as ubigint)::varchar
        when 'BIGINT' then try_cast(v.s as bigint)::varchar
        when 'BOOLEAN' then if(v.s = 'true', 'True', 'False')
    end;

-- canonical.py::_text on a raw custom_data value: str(value) ('' -> null); doubles as Python's repr.
create or replace temp macro fx_str_ok(v) as
    fx_text_ok(v) or v.t = 'DOUBLE';

create or replace temp macro fx_str(v) as
    if(v.t = 'DOUBLE', try_cast(v.s as double)::varchar, fx_text(v));

-- Absent, JSON null and "" all mean "not sent" for times and values.
create or replace temp macro fx_blank(v) as
    v.t is null or v.t = 'NULL' or (v.t = 'VARCHAR' and v.s = '');

-- Printable ASCII only: Python's strip()/lower() and DuckDB's trim()/lower() agree on it.
create or replace temp macro fx_ascii(s) as
    regexp_full_match(s, '[ -~]*');

-- canonical.py::_int_or_none for integers that fit the integer column.
create or replace temp macro fx_int_ok(v) as
    fx_blank(v)
    or v.t in ('OBJECT', 'ARRAY', 'BOOLEAN')
    or (v.t in ('UBIGINT', 'BIGINT') and coalesce(try_cast(v.s as hugeint) between -2147483648 and 2147483647, false))
    or (v.t = 'VARCHAR' and regexp_full_match(v.s, '-?[0-9]{1,9}'));

create or replace temp macro fx_int(v) as
    case
        when fx_blank(v) then null
        when v.t = 'BOOLEAN' then if(v.s = 'true', 1, 0)
        when v.t in ('UBIGINT', 'BIGINT') then try_cast(try_cast(v.s as hugeint) as integer)
        when v.t = 'VARCHAR' then try_cast(v.s as integer)
    end;

-- canonical.py::parse_event_time: epoch seconds below 1e11, milliseconds above; ISO text.
create or replace temp macro fx_iso_ok(s) as
    regexp_full_match(
        s, '(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}|\.[0-9]{6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?'
    )
    and try_strptime(left(s, 19), '%Y-%m-%dT%H:%M:%S') is not null;

create or replace temp macro fx_iso(s) as
    try_strptime(left(s, 19), '%Y-%m-%dT%H:%M:%S')
    + to_microseconds(coalesce(try_cast(rpad(regexp_extract(s, '\.([0-9]+)', 1), 6, '0') as bigint), 0))
    - to_minutes(
        if(regexp_matches(s, '[+-][0-9]{2}:[0-9]{2}$'),
           if(substr(s, -6, 1) = '-', -1, 1)
           * (try_cast(substr(s, -5, 2) as integer) * 60 + try_cast(substr(s, -2, 2) as integer)),
           0)
    );

create or replace temp macro fx_epoch(v) as
    case
        when v.t = 'UBIGINT' then try_cast(v.s as ubigint)
        when v.t = 'VARCHAR' and regexp_full_match(v.s, '[0-9]{1,15}') then try_cast(v.s as ubigint)
    end;

create or replace temp macro fx_time_format(v) as
    case
        when fx_blank(v) then 'missing'
        when v.t in ('BIGINT', 'BOOLEAN', 'OBJECT', 'ARRAY') then 'invalid'
        when fx_epoch(v) < 100000000000 then 'seconds'
        when fx_epoch(v) < 253402300800000 then 'milliseconds'
        when v.t = 'VARCHAR' and fx_iso_ok(v.s) then 'iso'
    end;

-- The time of v whose fx_time_format is fmt (computed once by the caller).
create or replace temp macro fx_time(v, fmt) as
    case fmt
        when 'seconds' then make_timestamp((fx_epoch(v) * 1000000)::bigint)
        when 'milliseconds' then make_timestamp((fx_epoch(v) * 1000)::bigint)
        when 'iso' then fx_iso(v.s)
    end;

-- canonical.py::parse_value: a non-negative finite number is valid; raw text as Python's str().
create or replace temp macro fx_value_ok(v) as
    fx_blank(v)
    or v.t in ('UBIGINT', 'BIGINT', 'DOUBLE', 'BOOLEAN')
    or (v.t = 'VARCHAR' and regexp_full_match(v.s, '-?[0-9]{1,15}(\.[0-9]{1,15})?'));

create or replace temp macro fx_value_raw(v) as
    case
        when fx_blank(v) then null
        when v.t = 'VARCHAR' then left(v.s, 64)
        else left(fx_str(v), 64)
    end;

create or replace temp macro fx_value_check(v) as
    case
        when fx_blank(v) then 'missing'
        when v.t = 'BOOLEAN' then 'malformed'
        when v.t = 'VARCHAR' and try_cast(v.s as double) < 0 then 'malformed'
        when v.t <> 'VARCHAR' and try_cast(v.s as double) < 0 then 'malformed'
        else 'valid'
    end;

create or replace temp macro fx_value(v) as
    case
        when fx_value_check(v) <> 'valid' then null
        when v.t = 'VARCHAR' then try_cast(v.s as double)
        else try_cast(v.s as double)
    end;

-- canonical.py::check_currency (ISO 4217 codes in _fast_currencies).
create or replace temp macro fx_currency_ok(v) as
    v.t is null or v.t in ('NULL', 'UBIGINT', 'BIGINT')
    or (v.t = 'VARCHAR' and fx_ascii(v.s));

create or replace temp macro fx_currency(v) as
    nullif(left(trim(fx_text(v)), 16), '');

create or replace temp macro fx_currency_check(v) as
    case
        when fx_currency(v) is null then 'missing'
        when upper(trim(fx_text(v))) in (select code from _fast_currencies) then 'valid'
        else 'malformed'
    end;

-- readers/server.py::consent_text then canonical.py::normalize_consent.
create or replace temp macro fx_consent_value(v) as
    if(v.t = 'OBJECT',
       fx_leaf(if(json_exists(fx_object(v), '$.ad_storage'), json_extract(fx_object(v), '$.ad_storage'),
                   json_extract(fx_object(v), '$.marketing'))),
       v);

create or replace temp macro fx_consent_ok(v) as
    fx_consent_value(v).t is null
    or fx_consent_value(v).t in ('NULL', 'UBIGINT', 'BIGINT', 'BOOLEAN')
    or (fx_consent_value(v).t = 'VARCHAR' and fx_ascii(fx_consent_value(v).s));

create or replace temp macro fx_consent_text(v) as
    if(fx_consent_value(v).t = 'BOOLEAN',
       fx_consent_value(v).s,
       fx_text(fx_consent_value(v)));

create or replace temp macro fx_consent(t) as
    case lower(trim(t))
        when 'granted' then 'granted' when 'true' then 'granted' when 'yes' then 'granted'
        when '1' then 'granted' when 'opt_in' then 'granted'
        when 'denied' then 'denied' when 'false' then 'denied' when 'no' then 'denied'
        when '0' then 'denied' when 'revoked' then 'denied' when 'opt_out' then 'denied'
        else 'unknown'
    end;

-- canonical.py::_first: Meta accepts lists for user_data keys; the first non-empty element counts.
create or replace temp macro fx_first(v) as
    if(v.t = 'ARRAY',
       fx_leaf(list_filter(fx_items(v), lambda x: json_type(x) <> 'NULL' and x::varchar <> '""')[1]),
       v);

-- normalize.py::assess_key for a hashed key sent as 64 hex characters (anything else: Python).
create or replace temp macro fx_hashed_ok(f) as
    fx_blank(f)
    or (f.t = 'VARCHAR' and regexp_full_match(f.s, '[0-9a-fA-F]{64}'));

create or replace temp macro fx_hashed(f) as
    if(fx_blank(f), null, lower(f.s));

create or replace temp macro fx_hashed_check(f) as
    if(fx_blank(f), 'missing', 'valid');

-- normalize.py::_assess_plain for printable-ASCII text; IPs other than plain IPv4 and plain IPv6 go to
-- Python. fx_ipv6 accepts what ipaddress.IPv6Address accepts without an IPv4 tail or a %scope: eight
-- groups of 1-4 hex digits, or at most seven around one '::' (IPv6Address: "At most 7 other parts with
-- '::'"); any other text with a colon is left to Python, which may still accept it.
create or replace temp macro fx_plain_text(f) as
    trim(fx_text(f));

create or replace temp macro fx_ipv6(t) as
    regexp_full_match(t, '([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}')
    or (regexp_full_match(t, '(([0-9a-fA-F]{1,4}:){0,6}[0-9a-fA-F]{1,4})?::(([0-9a-fA-F]{1,4}:){0,6}[0-9a-fA-F]{1,4})?')
        and len(regexp_extract_all(t, '[0-9a-fA-F]{1,4}')) <= 7);

-- A client_ip_address SQL accepts: dotted-quad IPv4 without leading zeros (what ipaddress accepts for
-- IPv4) or fx_ipv6.
create or replace temp macro fx_ip_ok(t) as
    regexp_full_match(
        t, '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}')
    or fx_ipv6(t);

-- normalize.py::_assess_plain's verdict on a plain key's stripped, non-empty text t (an IP that is not
-- 64 hex characters must have passed fx_ip_ok); shared by the server and the beacon SQL.
create or replace temp macro fx_plain_text_check(key, t) as
    case
        when key in ('fbp', 'fbc', 'client_ip_address') and regexp_full_match(t, '[0-9a-fA-F]{64}')
            then 'hashed_forbidden'
        when key = 'fbp' and not regexp_full_match(
            t, 'fb\.[0-9]\.[0-9]{13}\.[0-9]+(\.(AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?') then 'malformed'
        when key = 'fbc' and not regexp_full_match(
            t, 'fb\.[0-9]\.[0-9]{13}\.[^.\s]+(\.(AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?') then 'malformed'
        when key = 'lead_id' and not regexp_full_match(t, '[0-9]+') then 'malformed'
        else 'valid'
    end;

create or replace temp macro fx_plain_ok(key, f) as
    f.t is null or f.t = 'NULL'
    or (f.t in ('UBIGINT', 'BIGINT', 'VARCHAR')
        and fx_ascii(coalesce(fx_text(f), ''))
        and (key <> 'client_ip_address'
             or coalesce(fx_plain_text(f), '') = ''
             or regexp_full_match(fx_plain_text(f), '[0-9a-fA-F]{64}')
             or fx_ip_ok(fx_plain_text(f))));

create or replace temp macro fx_plain(f) as
    nullif(fx_plain_text(f), '');

create or replace temp macro fx_plain_check(key, f) as
    if(fx_plain(f) is null, 'missing', fx_plain_text_check(key, fx_plain(f)));

-- content_ids: a JSON array text of the ids as strings (canonical.py::_content_ids); ids must be plain.
-- (x: a JSON list element; ids and contents: leaves.)
create or replace temp macro fx_id_ok(x) as
    json_type(x) in ('UBIGINT', 'BIGINT')
    or (json_type(x) = 'VARCHAR' and not regexp_matches(json_extract_string(x, '$'), '[\x00-\x1f]'));

create or replace temp macro fx_ids(ids, contents) as
    case
        when ids.t is not null and ids.t <> 'NULL'
            then if(ids.t = 'ARRAY', fx_items(ids), [if(ids.t = 'VARCHAR', to_json(ids.s), ids.s::json)])
        when contents.t = 'ARRAY'
            then list_transform(
                list_filter(
                    fx_items(contents),
                    lambda c: json_type(c) = 'OBJECT' and coalesce(json_type(c, '$.id'), 'NULL') <> 'NULL'
                ),
                lambda c: json_extract(c, '$.id')
            )
    end;

-- The two below take items = fx_ids(ids, contents), which the caller computes once for both.
create or replace temp macro fx_content_ids_ok(items, contents) as
    (items is null or list_bool_and(list_transform(items, lambda x: fx_id_ok(x))))
    and fx_unique_keys(json_keys(if(contents.t = 'ARRAY', contents.s, null), '$[*]'));

create or replace temp macro fx_content_ids(items) as
    to_json(list_transform(items, lambda x: coalesce(fx_text(fx_leaf(x)), '')))::varchar;

-- data_processing_options: list items joined with ',' (readers/server.py::_dpo, canonical.py::_dpo).
create or replace temp macro fx_dpo_ok(v) as
    v.t is null or v.t in ('NULL', 'UBIGINT', 'BIGINT')
    or (v.t = 'VARCHAR' and not starts_with(v.s, '['))
    or (v.t = 'ARRAY'
        and list_bool_and(list_transform(fx_items(v), lambda x: json_type(x) in ('VARCHAR', 'UBIGINT', 'BIGINT'))));

create or replace temp macro fx_dpo(v) as
    case
        when v.t is null or v.t = 'NULL' then null
        when v.t = 'ARRAY' then array_to_string(
            list_transform(fx_items(v), lambda x: coalesce(fx_text(fx_leaf(x)), '')), ',')
        else coalesce(fx_text(v), '')
    end;

-- privacy.key_kept: a URL query key whose value is stored (ASCII; an allow-list entry equal to it
-- lowercased or, ending in '*', a prefix of it). `keys` is privacy.url_keys_kept.
create or replace temp macro fx_url_key_kept(k, keys) as
    regexp_full_match(k, '[\x00-\x7F]*')
    and coalesce(list_bool_or(list_transform(
        keys,
        lambda p: if(ends_with(p, '*'), starts_with(lower(k), left(p, length(p) - 1)), lower(k) = p)
    )), false);

-- privacy.mask_url's item masking: after the first '?' or '#', every key=value item (items end at
-- ? & # ;) whose value is not empty keeps its value only when fx_url_key_kept; the tail is exactly its
-- items, each a separator and the text up to the next one. (Its email rules are not here: the SQL
-- paths leave a URL with '@' or '%40' to Python.)
create or replace temp macro fx_url_tail_start(u) as
    least(nullif(strpos(u, '?'), 0), nullif(strpos(u, '#'), 0));

create or replace temp macro fx_mask_url_items(u, keys) as
    case
        when u is null or fx_url_tail_start(u) is null then u
        else left(u, fx_url_tail_start(u) - 1) || array_to_string(list_transform(
            regexp_extract_all(substr(u, fx_url_tail_start(u)), '[?&#;][^?&#;]*'),
            lambda s: if(
                regexp_full_match(s, '(?s).[^=]*=.+')
                and not fx_url_key_kept(regexp_extract(s, '(?s)^.([^=]*)=', 1), keys),
                left(s, 1) || regexp_extract(s, '(?s)^.([^=]*)=', 1) || '=***',
                s
            )
        ), '')
    end;

-- A Pixel beacon's user_data value (text, or null when absent) -> {stored, check, ok} as
-- canonical._user_data_columns / normalize.assess_key give it on the browser channel, for the shapes
-- decided here: absent, empty, 64 hex characters (the hashed keys), and the plain keys' own rules.
-- ok false: only Python can judge it (raw emails, names, phones ... are normalized and hashed there).
create or replace temp macro fx_beacon_user(key, raw) as
    case
        when raw is null then {'stored': null::varchar, 'check': 'missing', 'ok': true}
        when key not in ('fbp', 'fbc', 'client_ip_address', 'client_user_agent', 'lead_id') then case
            when raw = '' then {'stored': null::varchar, 'check': 'missing', 'ok': true}
            when regexp_full_match(raw, '[0-9a-fA-F]{64}') then {'stored': lower(raw), 'check': 'valid', 'ok': true}
            else {'stored': null::varchar, 'check': null::varchar, 'ok': false}
        end
        when trim(raw, ' ') = '' then {'stored': null::varchar, 'check': 'missing', 'ok': true}
        when key = 'client_ip_address'
             and not (regexp_full_match(trim(raw, ' '), '[0-9a-fA-F]{64}') or fx_ip_ok(trim(raw, ' ')))
            then {'stored': null::varchar, 'check': null::varchar, 'ok': false}
        else {'stored': trim(raw, ' '), 'check': fx_plain_text_check(key, trim(raw, ' ')), 'ok': true}
    end;

-- A beacon's parameters as parallel lists (names, vals; rnames = the names reversed): the value of the
-- first / the last parameter named k (null when there is none).
create or replace temp macro fx_param_first(names, vals, k) as
    vals[list_position(names, k)];

create or replace temp macro fx_param_last(names, rnames, vals, k) as
    vals[len(names) + 1 - list_position(rnames, k)];
