-- Server website copies per event and combination of valid keys, one boolean column per EMQ weight
-- (capi_core.metrics.match_keys.WEIGHT_KEYS; fn_ln: first and last name both valid), with the copies
-- carrying it: enough to score an event with any weights (metrics/emq_fit.py fits them to Meta's EMQ).
-- The copies are those quality_emq.sql scores.
-- params: $date_from, $date_to, $pixel_id, $event_names, $by_pixel (false: pixel_id is null)
with
-- @include fragments/copy_checks
select
  case when $by_pixel then c.pixel_id end as pixel_id,
  c.event_name,
  coalesce(c.em_ok, false) as em,
  coalesce(c.ph_ok, false) as ph,
  coalesce(c.external_id_ok, false) as external_id,
  coalesce(c.fbc_ok, false) as fbc,
  coalesce(c.fbp_ok, false) as fbp,
  coalesce(c.client_ip_address_ok, false) as client_ip_address,
  coalesce(c.client_user_agent_ok, false) as client_user_agent,
  coalesce(c.fn_ok and c.ln_ok, false) as fn_ln,
  coalesce(c.ct_ok, false) as ct,
  coalesce(c.st_ok, false) as st,
  coalesce(c.zp_ok, false) as zp,
  coalesce(c.country_ok, false) as country,
  coalesce(c.db_ok, false) as db,
  coalesce(c.ge_ok, false) as ge,
  count(*) as copies
from copy_checks c
where c.channel = 'server'
  and c.action_source = 'website'
group by
  case when $by_pixel then c.pixel_id end,
  c.event_name,
  coalesce(c.em_ok, false),
  coalesce(c.ph_ok, false),
  coalesce(c.external_id_ok, false),
  coalesce(c.fbc_ok, false),
  coalesce(c.fbp_ok, false),
  coalesce(c.client_ip_address_ok, false),
  coalesce(c.client_user_agent_ok, false),
  coalesce(c.fn_ok and c.ln_ok, false),
  coalesce(c.ct_ok, false),
  coalesce(c.st_ok, false),
  coalesce(c.zp_ok, false),
  coalesce(c.country_ok, false),
  coalesce(c.db_ok, false),
  coalesce(c.ge_ok, false)
