-- Per pixel x event_name x channel: copies with an invalid fbc (malformed / older than 90 days at send),
-- an invalid fbp, and only a baseline invalid key combination (reference §2.4), with example ids; of the
-- latter, those with no customer information key at all (no_key: e.g. only partner_id / partner_name,
-- which Meta's list does not name), whose finding quotes Meta's list.
-- params: $date_from, $date_to, $pixel_id, $event_names
with
-- @include fragments/copy_checks
select
  c.pixel_id,
  c.event_name,
  c.channel,
  count(*) as copies,
  count(*) filter (where c.fbc_issue = 'malformed') as fbc_malformed,
  count(*) filter (where c.fbc_issue = 'expired') as fbc_expired,
  count(*) filter (where c.fbp_issue = 'malformed') as fbp_malformed,
  count(*) filter (where c.insufficient_keys) as insufficient_keys,
  count(*) filter (where c.insufficient_keys and not c.any_key_present) as no_key,
  -- DuckDB: the 5 smallest values (no standard bounded form)
  min(c.example_id, 5) filter (where c.fbc_issue is not null) as fbc_examples,
  min(c.example_id, 5) filter (where c.fbp_issue is not null) as fbp_examples,
  min(c.example_id, 5) filter (where c.insufficient_keys and not c.any_key_present) as no_key_examples,
  min(c.example_id, 5) filter (where c.insufficient_keys and c.any_key_present) as broad_examples
from copy_checks c
group by
  c.pixel_id,
  c.event_name,
  c.channel
