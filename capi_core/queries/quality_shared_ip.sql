-- Client IP addresses shared by many users on server copies: per pixel and IP with at least $min_users
-- distinct users (external_id, else em, else fbp) and at least $min_share of the pixel's server copies.
-- The IP itself is not returned: findings count them and show example event ids.
-- params: $date_from, $date_to, $pixel_id, $event_names, $min_users, $min_share
with
-- @include fragments/copy_checks
,
server as (
  select
    c.pixel_id,
    c.client_ip_address,
    c.client_ip_address_ok,
    case
      when c.external_id_ok then 'x:' || c.external_id
      when c.em_ok then 'e:' || c.em
      when c.fbp_ok then 'b:' || c.fbp
    end as user_key,
    c.example_id
  from copy_checks c
  where c.channel = 'server'
),
pixels as (
  select
    s.pixel_id,
    count(*) as server_copies
  from server s
  group by
    s.pixel_id
),
per_ip as (
  select
    s.pixel_id,
    s.client_ip_address,
    count(distinct s.user_key) as users,
    count(*) as copies,
    min(s.example_id, 5) as examples  -- DuckDB: the 5 smallest values (no standard bounded form)
  from server s
  where s.client_ip_address_ok
  group by
    s.pixel_id,
    s.client_ip_address
)
select
  i.pixel_id,
  i.users,
  i.copies,
  p.server_copies,
  i.examples
from per_ip i
join pixels p
  on p.pixel_id is not distinct from i.pixel_id
where i.users >= $min_users
  and i.copies >= $min_share * p.server_copies
order by
  i.pixel_id,
  i.copies desc
