-- Phantom copies (continues recon_base.sql + recon_links.sql): counted copies of the event linked to no truth record, with their sub-reason, at most $limit rows.
-- params: those of recon_links.sql, $reason, $limit
select
  fingerprint, occurrence, channel, pixel_id, event_name, event_id, order_id, event_time, value, currency,
  test_event_code, name_variant, reason
from phantom_copies
where cast($reason as varchar) is null
  or reason = $reason
order by event_time, fingerprint, occurrence
limit $limit
