-- Problem verdicts of user_data keys per pixel x event_name x channel x key: raw_pii, malformed and
-- hashed_forbidden copies with example ids, and the copies of the group (the share's denominator).
-- params: $date_from, $date_to, $pixel_id, $event_names
with
-- @include fragments/copy_checks
,
combos as (
  -- aggregate first: copies and example ids per distinct combination of key verdicts (a few hundred
  -- rows), then unpivot that small result; one pass over the copies instead of one per key
  select
    c.pixel_id,
    c.event_name,
    c.channel,
    c.em_check, c.ph_check, c.fn_check, c.ln_check, c.ct_check, c.st_check, c.zp_check, c.country_check,
    c.db_check, c.ge_check, c.external_id_check, c.fbp_check, c.fbc_check, c.client_ip_address_check,
    c.client_user_agent_check, c.lead_id_check,
    count(*) as copies,
    min(c.example_id, 5) as examples  -- DuckDB: the 5 smallest values (no standard bounded form)
  from copy_checks c
  group by all
),
totalled as (
  -- every copy has a verdict for every key, so a key's group is all copies of pixel x event x channel
  select
    c.*,
    sum(c.copies) over (partition by c.pixel_id, c.event_name, c.channel) as group_copies
  from combos c
),
keys (key) as (
  values
    ('em'), ('ph'), ('fn'), ('ln'), ('ct'), ('st'), ('zp'), ('country'), ('db'), ('ge'), ('external_id'),
    ('fbp'), ('fbc'), ('client_ip_address'), ('client_user_agent'), ('lead_id')
),
unpivoted as (
  select
    c.pixel_id,
    c.event_name,
    c.channel,
    k.key,
    case k.key
      when 'em' then c.em_check
      when 'ph' then c.ph_check
      when 'fn' then c.fn_check
      when 'ln' then c.ln_check
      when 'ct' then c.ct_check
      when 'st' then c.st_check
      when 'zp' then c.zp_check
      when 'country' then c.country_check
      when 'db' then c.db_check
      when 'ge' then c.ge_check
      when 'external_id' then c.external_id_check
      when 'fbp' then c.fbp_check
      when 'fbc' then c.fbc_check
      when 'client_ip_address' then c.client_ip_address_check
      when 'client_user_agent' then c.client_user_agent_check
      when 'lead_id' then c.lead_id_check
    end as verdict,
    c.copies,
    c.group_copies,
    c.examples
  from totalled c
  cross join keys k
)
select
  u.pixel_id,
  u.event_name,
  u.channel,
  u.key,
  u.verdict,
  sum(u.copies) as copies,
  any_value(u.group_copies) as group_copies,
  -- the 5 smallest of the union are among the 5 smallest of each combination (DuckDB list functions)
  list_slice(list_sort(flatten(list(u.examples))), 1, 5) as examples
from unpivoted u
where u.verdict in ('raw_pii', 'malformed', 'hashed_forbidden')
group by
  u.pixel_id,
  u.event_name,
  u.channel,
  u.key,
  u.verdict
