-- Pixel beacon lines (temp table _fast_lines) -> one canonical row per beacon, as
-- readers/browser.py::PixelBeaconReader + canonical.canonical_event give it, plus whether SQL could
-- decide every value (line_ok; otherwise the Python reader reads that line). A blank or comment line
-- gives one row with pos 0 and line_ok true (no event: the caller stores pos > 0 only).
-- Parameters: $pixel_id (ReadOptions.pixel_id), $max_line (characters; longer lines go to Python, which
-- refuses them), $url_keys (page-URL keys whose values are kept: privacy.url_keys_kept). Needs
-- ingest_fast_macros (fx_ipv6) and _fast_currencies.
--
-- The SQL maps the shapes beacons are made of and leaves every other line to Python, so the Python
-- reader stays the one definition (tests/core/test_fast_ingest_beacons.py pins the two together):
-- * the line is tab + printable ASCII (then RE2's \s, \w and case folding agree with Python's re on
--   _TR_URL) and holds no access_token (privacy.strip_secrets would change it);
-- * every percent escape is of a printable ASCII byte (%20-%7E): no UTF-8 decoding, no control codes;
-- * cd[..]/ud[..]/udff[..] keys have nothing after ']';
-- * ts is digits (epoch seconds below 1e11, else milliseconds), value / predicted_ltv plain decimals,
--   num_items plain digits, content_ids one text or a JSON array of plain strings, no contents;
-- * user data: absent, empty, 64 hex characters (the hashed keys), or the plain keys' own shapes;
--   raw emails, names, phones ... are hashed by normalize.py in Python;
-- * the page URL (dl) has no '@' or '%40' (privacy.mask_url's email rules); its query and fragment
--   values are masked here as privacy.mask_url masks them.
create temp table _fast_events as
with lines as (
    select
        line_no,
        coalesce(text, '') as text,
        trim(coalesce(text, ''), ' ' || chr(9)) as stripped
    from _fast_lines
),

kinds as (
    select
        line_no,
        stripped,
        length(text) <= $max_line as short_enough,
        regexp_full_match(text, '[\t -~]*') as ascii,
        stripped = '' or starts_with(stripped, '#') or starts_with(stripped, '//') as skipped
    from lines
),

urls as (
    select
        *,
        -- readers/browser.py::_TR_URL; its lookahead becomes a consumed delimiter outside group 1. A line
        -- that starts with the usual endpoint holds the first match at its start, up to the first
        -- delimiter: an anchored scan finds it without the unanchored search, which costs far more.
        case
            when starts_with(stripped, 'https://www.facebook.com/tr/?')
                 or starts_with(stripped, 'https://www.facebook.com/tr?')
                then regexp_extract(stripped, '^[^\s"''<>`]*')
            else regexp_extract(
                stripped,
                '(?i)((?:https?:)?//(?:[A-Za-z0-9_-]+\.)*facebook\.com/tr/?(?:\?[^\s"''<>`]*)?)(?:[\s"''<>`]|$)',
                1
            )
        end as url
    from kinds
    where ascii and short_enough and not skipped and not contains(lower(stripped), 'access_token')
),

queries as (
    select
        line_no,
        -- urlsplit(url).query: after the first '?', up to the first '#'
        split_part(if(contains(url, '?'), substr(url, strpos(url, '?') + 1), ''), '#', 1) as query
    from urls
    where url <> ''
),

escapes as (
    select
        line_no,
        query,
        regexp_full_match(query, '([^%]|%[2-7][0-9A-Fa-f])*') and not contains(upper(query), '%7F') as escapes_ok
    from queries
),

pairs as (
    select
        line_no,
        escapes_ok,
        -- query_params' pairs: split at '&', empty ones dropped (none for a line left to Python, so
        -- url_decode never sees an escape it would refuse)
        if(escapes_ok, list_filter(string_split(query, '&'), lambda p: p <> ''), []) as raw_pairs
    from escapes
),

params as (
    select
        line_no,
        escapes_ok,
        list_transform(raw_pairs, lambda p: url_decode(replace(split_part(p, '=', 1), '+', ' '))) as names,
        list_transform(
            raw_pairs,
            lambda p: if(contains(p, '='), url_decode(replace(substr(p, strpos(p, '=') + 1), '+', ' ')), '')
        ) as vals
    from pairs
),

reversed as (
    select *, list_reverse(names) as rnames from params
),

fields as (
    select
        line_no,
        escapes_ok
        and not list_bool_or(list_transform(names, lambda n: regexp_matches(n, '(?s)^(cd|ud|udff)\[[^\]]*\].')))
            as params_ok,
        -- plain fields: the first wins (_split_params' setdefault)
        fx_param_first(names, vals, 'ev') as ev,
        fx_param_first(names, vals, 'id') as id,
        fx_param_first(names, vals, 'eid') as eid,
        fx_param_first(names, vals, 'ts') as ts,
        fx_param_first(names, vals, 'dl') as dl,
        -- custom data: the last wins
        fx_param_last(names, rnames, vals, 'cd[value]') as cd_value,
        fx_param_last(names, rnames, vals, 'cd[currency]') as cd_currency,
        fx_param_last(names, rnames, vals, 'cd[order_id]') as cd_order_id,
        fx_param_last(names, rnames, vals, 'cd[content_ids]') as cd_content_ids,
        list_contains(names, 'cd[contents]') as has_contents,
        fx_param_last(names, rnames, vals, 'cd[num_items]') as cd_num_items,
        fx_param_last(names, rnames, vals, 'cd[content_type]') as cd_content_type,
        fx_param_last(names, rnames, vals, 'cd[status]') as cd_status,
        fx_param_last(names, rnames, vals, 'cd[predicted_ltv]') as cd_predicted_ltv,
        -- user data: the last ud[k], else the first udff[k]; fbp / fbc else the first plain one when not empty
        [
            fx_beacon_user('em', coalesce(fx_param_last(names, rnames, vals, 'ud[em]'), fx_param_first(names, vals, 'udff[em]'))),
            fx_beacon_user('ph', coalesce(fx_param_last(names, rnames, vals, 'ud[ph]'), fx_param_first(names, vals, 'udff[ph]'))),
            fx_beacon_user('fn', coalesce(fx_param_last(names, rnames, vals, 'ud[fn]'), fx_param_first(names, vals, 'udff[fn]'))),
            fx_beacon_user('ln', coalesce(fx_param_last(names, rnames, vals, 'ud[ln]'), fx_param_first(names, vals, 'udff[ln]'))),
            fx_beacon_user('ct', coalesce(fx_param_last(names, rnames, vals, 'ud[ct]'), fx_param_first(names, vals, 'udff[ct]'))),
            fx_beacon_user('st', coalesce(fx_param_last(names, rnames, vals, 'ud[st]'), fx_param_first(names, vals, 'udff[st]'))),
            fx_beacon_user('zp', coalesce(fx_param_last(names, rnames, vals, 'ud[zp]'), fx_param_first(names, vals, 'udff[zp]'))),
            fx_beacon_user('country', coalesce(fx_param_last(names, rnames, vals, 'ud[country]'), fx_param_first(names, vals, 'udff[country]'))),
            fx_beacon_user('db', coalesce(fx_param_last(names, rnames, vals, 'ud[db]'), fx_param_first(names, vals, 'udff[db]'))),
            fx_beacon_user('ge', coalesce(fx_param_last(names, rnames, vals, 'ud[ge]'), fx_param_first(names, vals, 'udff[ge]'))),
            fx_beacon_user('external_id', coalesce(fx_param_last(names, rnames, vals, 'ud[external_id]'), fx_param_first(names, vals, 'udff[external_id]'))),
            fx_beacon_user('fbp', coalesce(fx_param_last(names, rnames, vals, 'ud[fbp]'), fx_param_first(names, vals, 'udff[fbp]'), nullif(fx_param_first(names, vals, 'fbp'), ''))),
            fx_beacon_user('fbc', coalesce(fx_param_last(names, rnames, vals, 'ud[fbc]'), fx_param_first(names, vals, 'udff[fbc]'), nullif(fx_param_first(names, vals, 'fbc'), ''))),
            fx_beacon_user('client_ip_address', coalesce(fx_param_last(names, rnames, vals, 'ud[client_ip_address]'), fx_param_first(names, vals, 'udff[client_ip_address]'))),
            fx_beacon_user('client_user_agent', coalesce(fx_param_last(names, rnames, vals, 'ud[client_user_agent]'), fx_param_first(names, vals, 'udff[client_user_agent]'))),
            fx_beacon_user('lead_id', coalesce(fx_param_last(names, rnames, vals, 'ud[lead_id]'), fx_param_first(names, vals, 'udff[lead_id]')))
        ] as ud
    from reversed
),

judged as (
    select
        *,
        trim(cd_currency, ' ') as currency_text,
        -- privacy.mask_url's query and fragment masking (dl has no '@' here, see the header)
        fx_mask_url_items(left(nullif(dl, ''), 2048), $url_keys) as masked_dl,
        case
            when ts is null or ts = '' then null
            when regexp_full_match(ts, '[0-9]{1,15}') and try_cast(ts as bigint) < 253402300800000
                then if(try_cast(ts as bigint) < 100000000000,
                        make_timestamp(try_cast(ts as bigint) * 1000000),
                        make_timestamp(try_cast(ts as bigint) * 1000))
        end as fired,
        coalesce(
            params_ok
            and ev is not null and ev <> ''
            and (ts is null or ts = '' or (regexp_full_match(ts, '[0-9]{1,15}') and try_cast(ts as bigint) < 253402300800000))
            and (dl is null or not regexp_matches(dl, '@|%40'))
            and (cd_value is null or cd_value = '' or regexp_full_match(cd_value, '[0-9]{1,15}(\.[0-9]{1,15})?'))
            and (cd_predicted_ltv is null or cd_predicted_ltv = ''
                 or regexp_full_match(cd_predicted_ltv, '[0-9]{1,15}(\.[0-9]{1,15})?'))
            and (cd_num_items is null or cd_num_items = '' or regexp_full_match(cd_num_items, '[0-9]{1,9}'))
            and (cd_content_ids is null
                 or not regexp_matches(cd_content_ids, '^\s*[\[{]')
                 or regexp_full_match(cd_content_ids, '\[("[ !#-\[\]-~]*"(,"[ !#-\[\]-~]*")*)?\]'))
            and (cd_content_ids is not null or not has_contents)
            and list_bool_and(list_transform(ud, lambda u: u.ok)),
            false
        ) as line_ok
    from fields
),

mapped as (
    select
        k.line_no,
        k.skipped,
        k.short_enough,
        coalesce(j.line_ok, false) as line_ok,
        j.* exclude (line_no, line_ok)
    from kinds k
    left join judged j using (line_no)
)

select
    line_no,
    if(skipped or not line_ok, 0, 1) as pos,
    0 as secrets,
    if(skipped, short_enough, line_ok) as line_ok,
    'browser' as channel,
    left(coalesce(nullif(id, ''), $pixel_id), 64) as pixel_id,
    left(ev, 256) as event_name,
    left(nullif(eid, ''), 256) as event_id,
    fired as event_time,
    if(fired is null, 'missing', 'datetime') as event_time_format,
    fired as sent_at,
    fired as received_at,
    'website' as action_source,
    left(masked_dl, 2048) as event_source_url,
    null::varchar as test_event_code,
    'unknown' as consent,
    null::varchar as data_processing_options,
    if(nullif(cd_value, '') is null, null, try_cast(cd_value as double)) as value,
    left(nullif(cd_value, ''), 64) as value_raw,
    if(nullif(cd_value, '') is null, 'missing', 'valid') as value_check,
    left(nullif(currency_text, ''), 16) as currency,
    case
        when nullif(currency_text, '') is null then 'missing'
        when upper(currency_text) in (select code from _fast_currencies) then 'valid'
        else 'malformed'
    end as currency_check,
    left(nullif(cd_order_id, ''), 256) as order_id,
    -- canonical._content_ids: a JSON array text (orjson prints plain strings as sent); one text is one id
    case
        when cd_content_ids is null then null
        when regexp_matches(cd_content_ids, '^\s*\[') then cd_content_ids
        else '["' || replace(replace(cd_content_ids, '\', '\\'), '"', '\"') || '"]'
    end as content_ids,
    if(nullif(cd_num_items, '') is null, null, try_cast(cd_num_items as integer)) as num_items,
    left(nullif(cd_content_type, ''), 64) as content_type,
    left(nullif(cd_status, ''), 64) as status,
    if(nullif(cd_predicted_ltv, '') is null, null, try_cast(cd_predicted_ltv as double)) as predicted_ltv,
    ud[1].stored as em,
    ud[2].stored as ph,
    ud[3].stored as fn,
    ud[4].stored as ln,
    ud[5].stored as ct,
    ud[6].stored as st,
    ud[7].stored as zp,
    ud[8].stored as country,
    ud[9].stored as db,
    ud[10].stored as ge,
    ud[11].stored as external_id,
    ud[12].stored as fbp,
    ud[13].stored as fbc,
    ud[14].stored as client_ip_address,
    ud[15].stored as client_user_agent,
    ud[16].stored as lead_id,
    ud[1].check as em_check,
    ud[2].check as ph_check,
    ud[3].check as fn_check,
    ud[4].check as ln_check,
    ud[5].check as ct_check,
    ud[6].check as st_check,
    ud[7].check as zp_check,
    ud[8].check as country_check,
    ud[9].check as db_check,
    ud[10].check as ge_check,
    ud[11].check as external_id_check,
    ud[12].check as fbp_check,
    ud[13].check as fbc_check,
    ud[14].check as client_ip_address_check,
    ud[15].check as client_user_agent_check,
    ud[16].check as lead_id_check,
    null::integer as response_events_received,
    null::integer as response_error_code,
    null::integer as response_error_subcode,
    null::varchar as fbtrace_id
from mapped
