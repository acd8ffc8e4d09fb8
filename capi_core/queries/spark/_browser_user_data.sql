-- Fragment: raw user_data -> normalized, hashed user_data (normalize.assess_key on the browser
-- channel), shared by the browser Spark ingest queries ingest_browser_events.sql, ingest_fbq_jsonl.sql
-- and ingest_pixel_beacons.sql (each pulls it in with an include line in its WITH list).
-- Expects a CTE named user_raws with a column user_raw: array of named_struct(key, raw, bad) in the
-- order em, ph, fn, ln, ct, st, zp, country, db, ge, external_id, fbp, fbc, client_ip_address,
-- client_user_agent, lead_id (raw = the text Python would see, bad = a value Python leaves to itself).
-- Adds CTEs users (user_text), user_steps (user_step) and user_final, whose ud column is one
-- named_struct(stored, check, ok) per key; ok false = only Python can judge the line.
users as (
    select
        *,
        transform(user_raw, u -> named_struct(
            'key', u.key,
            'raw', u.raw,
            'bad', u.bad,
            -- normalize._text: leading whitespace/apostrophes and trailing whitespace dropped (Python \s)
            't', reverse(regexp_replace(reverse(regexp_replace(u.raw, r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x27]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')),
            -- str.strip() for the plain keys
            'p', reverse(regexp_replace(reverse(regexp_replace(u.raw, r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', '')), r'^[\t\n\x0B\f\r\x1C-\x1F \x{85}\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', ''))
        )) as user_text
    from user_raws
),

user_steps as (
    select
        *,
        -- per key: (stored, check) when decided here; else n = the normalized text to hash ('' when
        -- nothing usable remains: malformed) or null when only Python can normalize it
        transform(user_text, u -> case
            when u.bad then named_struct('stored', cast(null as string), 'check', cast(null as string), 'n', cast(null as string))
            when u.raw is null then named_struct('stored', cast(null as string), 'check', 'missing', 'n', cast(null as string))
            when u.key in ('fbp', 'fbc', 'client_ip_address', 'client_user_agent', 'lead_id') then case
                when u.p = '' then named_struct('stored', cast(null as string), 'check', 'missing', 'n', cast(null as string))
                when u.key in ('fbp', 'fbc', 'client_ip_address') and u.p rlike r'^[0-9a-fA-F]{64}\z'
                    then named_struct('stored', u.p, 'check', 'hashed_forbidden', 'n', cast(null as string))
                when u.key = 'client_user_agent' then named_struct('stored', u.p, 'check', 'valid', 'n', cast(null as string))
                when u.key = 'lead_id' then named_struct(
                    'stored', u.p, 'check', if(u.p rlike r'^[0-9]+\z', 'valid', 'malformed'), 'n', cast(null as string))
                when not u.p rlike r'^[ -~]+\z' then named_struct('stored', u.p, 'check', cast(null as string), 'n', cast(null as string))
                when u.key = 'fbp' then named_struct('stored', u.p, 'check', if(
                    u.p rlike r'^fb\.[0-9]\.[0-9]{13}\.[0-9]+(?:\.(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?\z',
                    'valid', 'malformed'), 'n', cast(null as string))
                when u.key = 'fbc' then named_struct('stored', u.p, 'check', if(
                    u.p rlike r'^fb\.[0-9]\.[0-9]{13}\.[^.\s]+(?:\.(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?\z',
                    'valid', 'malformed'), 'n', cast(null as string))
                -- client_ip_address: dotted-quad IPv4 here, anything else (IPv6, junk) by ipaddress in Python
                when u.p rlike r'^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\z'
                    then named_struct('stored', u.p, 'check', 'valid', 'n', cast(null as string))
                else named_struct('stored', u.p, 'check', cast(null as string), 'n', cast(null as string))
            end
            when u.raw rlike r'^[0-9a-fA-F]{64}\z'
                then named_struct('stored', lower(u.raw), 'check', 'valid', 'n', cast(null as string))
            when u.t = '' then named_struct('stored', cast(null as string), 'check', 'missing', 'n', cast(null as string))
            when u.t rlike r'^[0-9a-fA-F]{64}(?:\.(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?\z'
                then named_struct('stored', lower(left(u.t, 64)), 'check', 'valid', 'n', cast(null as string))
            when u.key <> 'external_id' and u.t rlike r'^[0-9a-fA-F]{32,}\z'
                then named_struct('stored', cast(null as string), 'check', 'malformed', 'n', cast(null as string))
            -- phone numbers and birth dates need phonenumbers / date rules; non-ASCII text Python's Unicode
            when u.key in ('ph', 'db') or not u.t rlike r'^[ -~]+\z'
                then named_struct('stored', cast(null as string), 'check', cast(null as string), 'n', cast(null as string))
            else named_struct('stored', cast(null as string), 'check', cast(null as string), 'n', case
                -- (Java repeats the local-part group recursively: past 254 characters it could overflow the
                -- stack, so longer texts go to Python)
                when u.key = 'em' and length(u.t) > 254 then null
                when u.key = 'em' then if(
                    lower(u.t) rlike r'^(?>"(?:[^"\\]|\\.)*"|\\.|[^\s@\\])+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_](?:[\w-]*[^\W_])?\z',
                    lower(u.t), '')
                -- ASCII letters (and digits for names) are the Unicode L/M(/N) characters of ASCII text
                when u.key in ('fn', 'ln') then regexp_replace(lower(u.t), '[^a-z0-9]', '')
                when u.key = 'ct' then regexp_replace(lower(u.t), '[^a-z]', '')
                -- a 2-letter state is itself (no US/CA subdivision name folds to 2 letters); names: Python
                when u.key = 'st' then if(u.t rlike r'^[A-Za-z]{2}\z', lower(u.t), null)
                -- zip: part before '-', letters and digits; 3-4 or 6+ digits depend on the US region: Python
                when u.key = 'zp' then case
                    when regexp_replace(lower(substring_index(u.t, '-', 1)), '[^a-z0-9]', '') rlike r'^(?:[0-9]{3,4}|[0-9]{6,})\z'
                        then null
                    when length(regexp_replace(lower(substring_index(u.t, '-', 1)), '[^a-z0-9]', '')) >= 2
                        then regexp_replace(lower(substring_index(u.t, '-', 1)), '[^a-z0-9]', '')
                    else ''
                end
                -- country: a 2-letter code pycountry knows (uk -> gb); any other text: Python
                when u.key = 'country' then case
                    when not u.t rlike r'^[A-Za-z]{2}\z' then null
                    when lower(u.t) = 'uk' then 'gb'
                    when lower(u.t) in (
                        'ad','ae','af','ag','ai','al','am','ao','aq','ar','as','at','au','aw','ax','az','ba',
                        'bb','bd','be','bf','bg','bh','bi','bj','bl','bm','bn','bo','bq','br','bs','bt','bv',
                        'bw','by','bz','ca','cc','cd','cf','cg','ch','ci','ck','cl','cm','cn','co','cr','cu',
                        'cv','cw','cx','cy','cz','de','dj','dk','dm','do','dz','ec','ee','eg','eh','er','es',
                        'et','fi','fj','fk','fm','fo','fr','ga','gb','gd','ge','gf','gg','gh','gi','gl','gm',
                        'gn','gp','gq','gr','gs','gt','gu','gw','gy','hk','hm','hn','hr','ht','hu','id','ie',
                        'il','im','in','io','iq','ir','is','it','je','jm','jo','jp','ke','kg','kh','ki','km',
                        'kn','kp','kr','kw','ky','kz','la','lb','lc','li','lk','lr','ls','lt','lu','lv','ly',
                        'ma','mc','md','me','mf','mg','mh','mk','ml','mm','mn','mo','mp','mq','mr','ms','mt',
                        'mu','mv','mw','mx','my','mz','na','nc','ne','nf','ng','ni','nl','no','np','nr','nu',
                        'nz','om','pa','pe','pf','pg','ph','pk','pl','pm','pn','pr','ps','pt','pw','py','qa',
                        're','ro','rs','ru','rw','sa','sb','sc','sd','se','sg','sh','si','sj','sk','sl','sm',
                        'sn','so','sr','ss','st','sv','sx','sy','sz','tc','td','tf','tg','th','tj','tk','tl',
                        'tm','tn','to','tr','tt','tv','tw','tz','ua','ug','um','us','uy','uz','va','vc','ve',
                        'vg','vi','vn','vu','wf','ws','ye','yt','za','zm','zw') then lower(u.t)
                    else ''
                end
                when u.key = 'ge' then case
                    when regexp_replace(lower(u.t), '[^a-z]', '') in ('f', 'female', 'woman', 'women', 'girl', 'mrs', 'ms', 'miss', 'lady') then 'f'
                    when regexp_replace(lower(u.t), '[^a-z]', '') in ('m', 'male', 'man', 'men', 'boy', 'mr', 'gentleman') then 'm'
                    else ''
                end
                -- as sent, trimmed, case kept (normalize._external_id)
                when u.key = 'external_id' then u.t
            end)
        end) as user_step
    from users
),

user_final as (
    select
        *,
        transform(user_step, (u, i) -> case
            when user_text[i].bad then named_struct('stored', cast(null as string), 'check', cast(null as string), 'ok', false)
            when u.check is not null then named_struct('stored', u.stored, 'check', u.check, 'ok', true)
            when u.n = '' then named_struct('stored', cast(null as string), 'check', 'malformed', 'ok', true)
            when u.n is not null then named_struct('stored', sha2(u.n, 256), 'check', 'valid', 'ok', true)
            else named_struct('stored', cast(null as string), 'check', cast(null as string), 'ok', false)
        end) as ud
    from user_steps
),
