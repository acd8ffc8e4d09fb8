-- Latest version of every truth record (derived table `truth_current`, rebuilt by derived.refresh after every ingest / undo).
-- params: none (reads truth, settings)
--
-- Overlapping exports repeat a record with an updated status: the latest batch wins, then the highest
-- line of that batch, then the highest fingerprint (deterministic). `status_eligible` is the status half
-- of eligibility (orders: paid; leads: any stage but test, since a lead is a conversion whatever its
-- later stage); the consent half comes from the linked copies (truth rows carry no consent), so the full
-- `eligible` lives in `truth_verdicts`. The lead columns (qualified_at, won_at, utm_*, form) feed the
-- lead-quality queries (leads_*.sql).
--
-- `sales_channel` (Shopify Source, WooCommerce created_via, a generic CSV's mapped column) is lowercased
-- and trimmed. `channel_excluded`: an order from a channel no pixel sees (in-person, staff-created,
-- marketplace, subscription renewal) cannot reach Meta and is not eligible: the built-in channels below
-- (reconcile.NON_PIXEL_CHANNELS) and the store's own (setting order_channels_excluded), except those the
-- store puts back (order_channels_included). An order without a channel, or from any other channel (a web
-- checkout, an app id we cannot place), stays eligible. Leads have no channel rule.
with
channel_settings as (
  select
    max(case when s.key = 'order_channels_excluded' then s.value end) as excluded,
    max(case when s.key = 'order_channels_included' then s.value end) as included
  from settings s
),
latest as (
  select
    t.kind, t.truth_id, t.raw_id, t.created_at, t.paid_at, t.status, t.value, t.subtotal, t.currency, t.em,
    t.fbp, t.qualified_at, t.won_at, t.utm_source, t.utm_campaign, t.form,
    nullif(lower(trim(t.sales_channel)), '') as sales_channel,
    row_number() over (
      partition by t.kind, t.truth_id
      order by t.batch_id desc, t.line_no desc, t.fingerprint desc
    ) as version_rank,
    count(*) over (partition by t.kind, t.truth_id) as versions
  from truth t
  where t.truth_id is not null
),
channeled as (
  -- regexp_split_to_array and list_contains are DuckDB's forms of Spark's split / array_contains
  select
    l.*,
    l.kind = 'order' and l.sales_channel is not null and (
      coalesce(list_contains(regexp_split_to_array(cs.excluded, ','), l.sales_channel), false)
      or (
        l.sales_channel in ('pos', 'shopify_draft_order', 'subscription_contract', 'tiktok', 'admin', 'subscription')
        and not coalesce(list_contains(regexp_split_to_array(cs.included, ','), l.sales_channel), false)
      )
    ) as channel_excluded
  from latest l
  cross join channel_settings cs
  where l.version_rank = 1
)
select
  kind,
  truth_id,
  raw_id,
  created_at,
  paid_at,
  status,
  value,
  subtotal,
  currency,
  em,
  fbp,
  coalesce(case when kind = 'lead' then coalesce(status, '') <> 'test' else status = 'paid' end, false)
    as status_eligible,
  sales_channel,
  channel_excluded,
  qualified_at,
  won_at,
  utm_source,
  utm_campaign,
  form,
  versions
from channeled
