-- Lead events with no CRM lead (over fragments/leads_base.sql): counted copies in scope that link to no CRM lead, oldest first, at most $limit.
-- params: those of fragments/leads_base.sql, $limit
with
-- @include fragments/leads_base
select
  fingerprint, occurrence, channel, pixel_id, event_name, event_id, event_time, test_event_code,
  phantom_reason as reason
from lead_events
where truth_id is null
order by event_time, fingerprint, occurrence
limit $limit
