-- What Meta reported per reporting day (over fragments/meta_view_base.sql): purchases, purchase value, spend and leads summed over ads.
-- params: those of fragments/meta_view_base.sql
with
-- @include fragments/meta_view_base
select
  day,
  sum(purchases) as reported_purchases,
  sum(purchase_value) as reported_value,
  sum(spend) as spend,
  sum(leads) as reported_leads,
  count(*) as ad_rows
from reported
group by day
order by day
