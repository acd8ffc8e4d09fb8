-- Problem verdicts of user_data keys per pixel x event_name x channel x key: raw_pii, malformed and
-- hashed_forbidden copies with example ids, and the copies of the group (the share's denominator).
-- params: $date_from, $date_to, $pixel_id, $event_names
with grouped as (
  -- one grouping set per key: a single pass instead of an unpivot of every copy
  select
    c.pixel_id,
    c.event_name,
    c.channel,
    case
      when grouping(c.em_check) = 0 then 'em'
      when grouping(c.ph_check) = 0 then 'ph'
      when grouping(c.fn_check) = 0 then 'fn'
      when grouping(c.ln_check) = 0 then 'ln'
      when grouping(c.ct_check) = 0 then 'ct'
      when grouping(c.st_check) = 0 then 'st'
      when grouping(c.zp_check) = 0 then 'zp'
      when grouping(c.country_check) = 0 then 'country'
      when grouping(c.db_check) = 0 then 'db'
      when grouping(c.ge_check) = 0 then 'ge'
      when grouping(c.external_id_check) = 0 then 'external_id'
      when grouping(c.fbp_check) = 0 then 'fbp'
      when grouping(c.fbc_check) = 0 then 'fbc'
      when grouping(c.client_ip_address_check) = 0 then 'client_ip_address'
      when grouping(c.client_user_agent_check) = 0 then 'client_user_agent'
      else 'lead_id'
    end as key,
    coalesce(
      c.em_check, c.ph_check, c.fn_check, c.ln_check, c.ct_check, c.st_check, c.zp_check, c.country_check,
      c.db_check, c.ge_check, c.external_id_check, c.fbp_check, c.fbc_check, c.client_ip_address_check,
      c.client_user_agent_check, c.lead_id_check
    ) as verdict,
    count(*) as copies,
    min(c.example_id, 5) as examples  -- DuckDB: the 5 smallest values (no standard bounded form)
  from copy_checks c
  group by
    c.pixel_id,
    c.event_name,
    c.channel,
    grouping sets (
      (c.em_check), (c.ph_check), (c.fn_check), (c.ln_check), (c.ct_check), (c.st_check), (c.zp_check),
      (c.country_check), (c.db_check), (c.ge_check), (c.external_id_check), (c.fbp_check), (c.fbc_check),
      (c.client_ip_address_check), (c.client_user_agent_check), (c.lead_id_check)
    )
),
totalled as (
  select
    g.pixel_id,
    g.event_name,
    g.channel,
    g.key,
    g.verdict,
    g.copies,
    sum(g.copies) over (partition by g.pixel_id, g.event_name, g.channel, g.key) as group_copies,
    g.examples
  from grouped g
)
select
  t.pixel_id,
  t.event_name,
  t.channel,
  t.key,
  t.verdict,
  t.copies,
  t.group_copies,
  t.examples
from totalled t
where t.verdict in ('raw_pii', 'malformed', 'hashed_forbidden')
