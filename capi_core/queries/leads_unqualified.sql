-- Matched CRM leads that did not qualify (continues leads_base.sql): their ids as the CRM writes them, oldest first, at most $limit.
-- params: those of leads_base.sql, $limit
select coalesce(raw_id, truth_id) as lead_id
from matched_leads
where not qualified
order by created_at, truth_id
limit $limit
