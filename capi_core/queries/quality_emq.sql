-- Estimated EMQ (0-10) per event: the mean over server website copies of 10 x (sum of the weights of the
-- copy's valid keys) / $w_total, capped at 10; with a what-if for one key ($key) at coverage $coverage.
-- The weights are points on Meta's scale and $w_total is 10 (EmqWeights.params): a copy scores its points.
-- What-if (assumes the key's presence is independent of the other keys): each copy is scored twice,
-- without and with the key; estimate = (1 - $coverage) x mean(without) + $coverage x mean(with).
-- params: $date_from, $date_to, $pixel_id, $event_names, $by_pixel, $key (null: no what-if),
--   $coverage, $w_total (the points worth 10) and one weight per key: $w_em, $w_ph, $w_external_id, $w_fbc, $w_fbp,
--   $w_client_ip_address, $w_client_user_agent, $w_fn_ln, $w_ct, $w_st, $w_zp, $w_country, $w_db, $w_ge
with
-- @include fragments/copy_checks
,
web_server as (
  select
    case when $by_pixel then c.pixel_id end as pixel_id,
    c.event_name,
    c.em_ok, c.ph_ok, c.external_id_ok, c.fbc_ok, c.fbp_ok, c.client_ip_address_ok,
    c.client_user_agent_ok, c.fn_ok, c.ln_ok, c.ct_ok, c.st_ok, c.zp_ok, c.country_ok, c.db_ok, c.ge_ok
  from copy_checks c
  where c.channel = 'server'
    and c.action_source = 'website'
),
variants (variant) as (
  values ('current'), ('without'), ('with')
),
flags as (
  -- the what-if key is forced off ('without') or on ('with'); every other key keeps its verdict
  select
    w.pixel_id,
    w.event_name,
    v.variant,
    case when $key = 'em' and v.variant <> 'current' then v.variant = 'with' else w.em_ok end as em,
    case when $key = 'ph' and v.variant <> 'current' then v.variant = 'with' else w.ph_ok end as ph,
    case when $key = 'external_id' and v.variant <> 'current' then v.variant = 'with'
      else w.external_id_ok end as external_id,
    case when $key = 'fbc' and v.variant <> 'current' then v.variant = 'with' else w.fbc_ok end as fbc,
    case when $key = 'fbp' and v.variant <> 'current' then v.variant = 'with' else w.fbp_ok end as fbp,
    case when $key = 'client_ip_address' and v.variant <> 'current' then v.variant = 'with'
      else w.client_ip_address_ok end as client_ip_address,
    case when $key = 'client_user_agent' and v.variant <> 'current' then v.variant = 'with'
      else w.client_user_agent_ok end as client_user_agent,
    case when $key = 'fn' and v.variant <> 'current' then v.variant = 'with' else w.fn_ok end as fn,
    case when $key = 'ln' and v.variant <> 'current' then v.variant = 'with' else w.ln_ok end as ln,
    case when $key = 'ct' and v.variant <> 'current' then v.variant = 'with' else w.ct_ok end as ct,
    case when $key = 'st' and v.variant <> 'current' then v.variant = 'with' else w.st_ok end as st,
    case when $key = 'zp' and v.variant <> 'current' then v.variant = 'with' else w.zp_ok end as zp,
    case when $key = 'country' and v.variant <> 'current' then v.variant = 'with'
      else w.country_ok end as country,
    case when $key = 'db' and v.variant <> 'current' then v.variant = 'with' else w.db_ok end as db,
    case when $key = 'ge' and v.variant <> 'current' then v.variant = 'with' else w.ge_ok end as ge
  from web_server w
  cross join variants v
  where v.variant = 'current'
    or cast($key as varchar) is not null
),
scored as (
  select
    f.pixel_id,
    f.event_name,
    f.variant,
    least(10.0, 10.0 * (
      case when f.em then cast($w_em as double) else 0.0 end
      + case when f.ph then cast($w_ph as double) else 0.0 end
      + case when f.external_id then cast($w_external_id as double) else 0.0 end
      + case when f.fbc then cast($w_fbc as double) else 0.0 end
      + case when f.fbp then cast($w_fbp as double) else 0.0 end
      + case when f.client_ip_address then cast($w_client_ip_address as double) else 0.0 end
      + case when f.client_user_agent then cast($w_client_user_agent as double) else 0.0 end
      + case when f.fn and f.ln then cast($w_fn_ln as double) else 0.0 end  -- first and last name count together
      + case when f.ct then cast($w_ct as double) else 0.0 end
      + case when f.st then cast($w_st as double) else 0.0 end
      + case when f.zp then cast($w_zp as double) else 0.0 end
      + case when f.country then cast($w_country as double) else 0.0 end
      + case when f.db then cast($w_db as double) else 0.0 end
      + case when f.ge then cast($w_ge as double) else 0.0 end
    ) / cast($w_total as double)) as score,
    case $key
      when 'em' then f.em when 'ph' then f.ph when 'external_id' then f.external_id when 'fbc' then f.fbc
      when 'fbp' then f.fbp when 'client_ip_address' then f.client_ip_address
      when 'client_user_agent' then f.client_user_agent when 'fn' then f.fn when 'ln' then f.ln
      when 'ct' then f.ct when 'st' then f.st when 'zp' then f.zp when 'country' then f.country
      when 'db' then f.db when 'ge' then f.ge
    end as key_valid
  from flags f
)
select
  s.pixel_id,
  s.event_name,
  count(*) filter (where s.variant = 'current') as copies,
  avg(s.score) filter (where s.variant = 'current') as score,
  avg(case when s.key_valid then 1.0 else 0.0 end) filter (where s.variant = 'current') as key_coverage,
  (1 - cast($coverage as double)) * avg(s.score) filter (where s.variant = 'without')
    + cast($coverage as double) * avg(s.score) filter (where s.variant = 'with') as what_if
from scored s
group by
  s.pixel_id,
  s.event_name
