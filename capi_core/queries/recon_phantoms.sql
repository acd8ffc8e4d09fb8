-- Phantom copies (over fragments/recon_base.sql): counted copies in scope linked to no truth record of the whole store, with their sub-reason, at most $limit rows.
-- params: those of fragments/recon_base.sql, $reason, $limit
with
-- @include fragments/recon_base
select
  fingerprint, occurrence, channel, pixel_id, event_name, event_id, order_id, event_time, value, currency,
  test_event_code, name_variant, phantom_reason as reason
from copies
where counted
  and truth_id is null
  and (cast($reason as varchar) is null or phantom_reason = $reason)
order by event_time, fingerprint, occurrence
limit $limit
