-- CRM leads without a Lead event (over fragments/leads_base.sql): leads created in scope that no counted Lead event links to, oldest first, at most $limit.
-- params: those of fragments/leads_base.sql, $limit
with
-- @include fragments/leads_base
select
  truth_id, raw_id, created_at, status, qualified, utm_source, utm_campaign, form
from leads_without_event
order by created_at, truth_id
limit $limit
