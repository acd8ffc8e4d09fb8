-- Time to qualify (over fragments/leads_base.sql): matched CRM leads that qualified, per bucket of hours from created_at to qualified_at (buckets without leads are absent).
-- params: those of fragments/leads_base.sql
with
-- @include fragments/leads_base
,
timed as (
  select
    case
      when hours_to_qualify < 24 then 1
      when hours_to_qualify < 72 then 2
      when hours_to_qualify < 168 then 3
      when hours_to_qualify < 336 then 4
      when hours_to_qualify < 720 then 5
      else 6
    end as bucket
  from matched_leads
  where hours_to_qualify is not null
)
select bucket, count(*) as leads
from timed
group by bucket
order by bucket
