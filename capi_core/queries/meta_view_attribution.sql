-- Attribution settings, value bases and currencies of Meta's reporting in scope (continues meta_view_base.sql): one row per combination, with its ad rows and purchases.
-- params: those of meta_view_base.sql
select
  attribution_setting,
  purchase_value_basis,
  currency,
  count(*) as ad_rows,
  sum(purchases) as reported_purchases
from reported
group by attribution_setting, purchase_value_basis, currency
order by count(*) desc, attribution_setting
