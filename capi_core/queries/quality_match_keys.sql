-- Match-key coverage: per event_name x channel, the share of copies carrying a valid value of each key
-- (the shape of Meta's match_key_feedback coverage.percentage).
-- params: $date_from, $date_to, $pixel_id, $event_names, $by_pixel (false: pixel_id is null)
with
-- @include fragments/copy_checks
select
  case when $by_pixel then c.pixel_id end as pixel_id,
  c.event_name,
  c.channel,
  count(*) as copies,
  avg(case when c.em_ok then 1.0 else 0.0 end) as em,
  avg(case when c.ph_ok then 1.0 else 0.0 end) as ph,
  avg(case when c.external_id_ok then 1.0 else 0.0 end) as external_id,
  avg(case when c.fbp_ok then 1.0 else 0.0 end) as fbp,
  avg(case when c.fbc_ok then 1.0 else 0.0 end) as fbc,
  avg(case when c.client_ip_address_ok then 1.0 else 0.0 end) as client_ip_address,
  avg(case when c.client_user_agent_ok then 1.0 else 0.0 end) as client_user_agent,
  avg(case when c.fn_ok then 1.0 else 0.0 end) as fn,
  avg(case when c.ln_ok then 1.0 else 0.0 end) as ln,
  avg(case when c.ct_ok then 1.0 else 0.0 end) as ct,
  avg(case when c.st_ok then 1.0 else 0.0 end) as st,
  avg(case when c.zp_ok then 1.0 else 0.0 end) as zp,
  avg(case when c.country_ok then 1.0 else 0.0 end) as country,
  avg(case when c.db_ok then 1.0 else 0.0 end) as db,
  avg(case when c.ge_ok then 1.0 else 0.0 end) as ge
from copy_checks c
group by
  case when $by_pixel then c.pixel_id end,
  c.event_name,
  c.channel
