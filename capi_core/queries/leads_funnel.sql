-- Lead funnel headline (over fragments/leads_base.sql): one row: Lead events Meta counted -> matched CRM leads -> qualified -> won, event-level shares, time to qualify and the two gaps.
-- params: those of fragments/leads_base.sql
with
-- @include fragments/leads_base
,
event_totals as (
  select
    count(*) as lead_events,
    coalesce(sum(case when e.truth_id is not null then 1 else 0 end), 0) as matched_events,
    coalesce(sum(case when e.truth_id is null then 1 else 0 end), 0) as unmatched_events,
    coalesce(sum(case when c.qualified then 1 else 0 end), 0) as qualified_events,
    coalesce(sum(case when c.won then 1 else 0 end), 0) as won_events
  from lead_events e
  left join crm_leads c
    on c.truth_id = e.truth_id
),
lead_totals as (
  select
    count(*) as matched_leads,
    coalesce(sum(case when qualified then 1 else 0 end), 0) as qualified_leads,
    coalesce(sum(case when won then 1 else 0 end), 0) as won_leads,
    count(hours_to_qualify) as timed_leads,
    percentile_cont(0.5) within group (order by hours_to_qualify) as median_hours_to_qualify,
    percentile_cont(0.9) within group (order by hours_to_qualify) as p90_hours_to_qualify
  from matched_leads
),
crm_totals as (
  select
    coalesce(sum(case when created_in_scope then 1 else 0 end), 0) as crm_leads,
    (select count(*) from leads_without_event) as crm_leads_without_event
  from crm_leads
)
select
  et.*,
  lt.*,
  ct.*
from event_totals et
cross join lead_totals lt
cross join crm_totals ct
