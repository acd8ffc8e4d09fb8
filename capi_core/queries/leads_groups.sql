-- Lead funnel per group (over fragments/leads_base.sql): per utm_source + utm_campaign, and per form, of the CRM lead: Lead events, those whose lead qualified, matched leads, qualified, won, median hours to qualify, and CRM leads without a Lead event.
-- params: those of fragments/leads_base.sql
--
-- Groups come from the CRM lead (a Lead event carries no utm of its own), so Lead events with no CRM
-- lead belong to no group: the funnel headline counts them.
with
-- @include fragments/leads_base
,
population as (
  select
    truth_id, utm_source, utm_campaign, form, qualified, won, hours_to_qualify, events, 1 as matched,
    0 as without_event
  from matched_leads
  union all
  select
    truth_id, utm_source, utm_campaign, form, qualified, won, hours_to_qualify, 0 as events, 0 as matched,
    1 as without_event
  from leads_without_event
),
grouped as (
  select
    'source' as dimension, utm_source, utm_campaign, cast(null as varchar) as form,
    sum(events) as lead_events,
    sum(case when qualified then events else 0 end) as qualified_events,
    sum(matched) as matched_leads,
    sum(case when matched = 1 and qualified then 1 else 0 end) as qualified_leads,
    sum(case when matched = 1 and won then 1 else 0 end) as won_leads,
    percentile_cont(0.5) within group (order by case when matched = 1 then hours_to_qualify end)
      as median_hours_to_qualify,
    sum(without_event) as crm_leads_without_event
  from population
  group by utm_source, utm_campaign
  union all
  select
    'form' as dimension, cast(null as varchar) as utm_source, cast(null as varchar) as utm_campaign, form,
    sum(events) as lead_events,
    sum(case when qualified then events else 0 end) as qualified_events,
    sum(matched) as matched_leads,
    sum(case when matched = 1 and qualified then 1 else 0 end) as qualified_leads,
    sum(case when matched = 1 and won then 1 else 0 end) as won_leads,
    percentile_cont(0.5) within group (order by case when matched = 1 then hours_to_qualify end)
      as median_hours_to_qualify,
    sum(without_event) as crm_leads_without_event
  from population
  group by form
)
select
  dimension, utm_source, utm_campaign, form, lead_events, qualified_events, matched_leads, qualified_leads,
  won_leads,
  median_hours_to_qualify, crm_leads_without_event
from grouped
order by dimension desc, matched_leads desc, lead_events desc, utm_source, utm_campaign, form
