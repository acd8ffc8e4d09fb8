-- Meta's reporting in scope, CTEs `latest` and `reported` that meta_view_daily.sql and meta_view_attribution.sql include first in their WITH list: Ads Manager rows (source meta) by reporting day, each ad-day read from the latest batch that exported it.
-- params: $date_from, $date_to (scope; on the reporting day), $pixel_id (rows ingested without --pixel-id match every pixel)
--
-- A fragment (ends without a comma: an including query goes on with `,` or its select). Ads Manager
-- revises past days as attribution windows close, so a later export of the same ad-day replaces the
-- earlier one instead of adding to it (overlapping exports do not double count).
latest as (
  select
    r.day, r.pixel_id, r.campaign, r.adset, r.ad, r.ad_id,
    max(r.batch_id) as batch_id
  from meta_reported r
  group by r.day, r.pixel_id, r.campaign, r.adset, r.ad, r.ad_id
),
reported as (
  select
    r.day, r.result_indicator, r.results, r.attribution_setting, r.purchase_value, r.purchase_value_basis,
    r.leads, r.spend, r.currency,
    -- Purchases when exported, else Results whose indicator is a purchase
    coalesce(
      r.purchases,
      case when lower(r.result_indicator) like '%purchase%' then r.results end
    ) as purchases
  from meta_reported r
  join latest l
    on l.batch_id = r.batch_id
    and l.day = r.day
    and l.pixel_id is not distinct from r.pixel_id
    and l.campaign is not distinct from r.campaign
    and l.adset is not distinct from r.adset
    and l.ad is not distinct from r.ad
    and l.ad_id is not distinct from r.ad_id
  where (cast($date_from as timestamp) is null or r.day >= $date_from)
    and (cast($date_to as timestamp) is null or r.day < $date_to)
    and (cast($pixel_id as varchar) is null or r.pixel_id is null or r.pixel_id = $pixel_id)
)
