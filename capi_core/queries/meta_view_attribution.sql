-- Attribution settings, value bases and currencies of Meta's reporting in scope (over fragments/meta_view_base.sql): one row per combination, with its ad rows and purchases.
-- params: those of fragments/meta_view_base.sql
with
-- @include fragments/meta_view_base
select
  attribution_setting,
  purchase_value_basis,
  currency,
  count(*) as ad_rows,
  sum(purchases) as reported_purchases
from reported
group by attribution_setting, purchase_value_basis, currency
order by count(*) desc, attribution_setting
