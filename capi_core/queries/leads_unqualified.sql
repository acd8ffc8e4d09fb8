-- Matched CRM leads that did not qualify (over fragments/leads_base.sql): their ids as the CRM writes them, oldest first, at most $limit.
-- params: those of fragments/leads_base.sql, $limit
with
-- @include fragments/leads_base
select coalesce(raw_id, truth_id) as lead_id
from matched_leads
where not qualified
order by created_at, truth_id
limit $limit
