-- Join-key resolution (over fragments/recon_base.sql): per candidate key, the copies in scope it links to a truth record (of the whole store), and whether it is the dataset's chosen key.
-- params: those of fragments/recon_base.sql
--
-- lead_id (Meta's Lead Ads lead id in user_data) is a candidate for lead datasets only.
with
-- @include fragments/recon_base
,
key_rates as (
  select
    count(*) as copies,
    coalesce(sum(case when lead_linked then 1 else 0 end), 0) as lead_linked,
    coalesce(sum(case when order_linked then 1 else 0 end), 0) as order_linked,
    coalesce(sum(case when event_linked then 1 else 0 end), 0) as event_linked,
    coalesce(sum(case when token_linked then 1 else 0 end), 0) as token_linked,
    max(join_key) as join_key
  from copies
)
select 'lead_id' as method, 0 as key_rank, lead_linked as linked, copies, coalesce(join_key = 'lead_id', false) as chosen
from key_rates
where $kind = 'lead'
union all
select 'order_id', 1, order_linked, copies, coalesce(join_key = 'order_id', false)
from key_rates
union all
select 'event_id', 2, event_linked, copies, coalesce(join_key = 'event_id', false)
from key_rates
union all
select 'event_id_token', 3, token_linked, copies, coalesce(join_key = 'event_id_token', false)
from key_rates
order by key_rank
