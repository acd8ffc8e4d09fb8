-- Copies per pixel x channel x event_name as sent, with example ids (for near-miss standard names).
-- params: $date_from, $date_to, $pixel_id, $event_names
with
-- @include fragments/copy_checks
select
  c.pixel_id,
  c.channel,
  c.event_name,
  count(*) as copies,
  min(c.example_id, 5) as examples  -- DuckDB: the 5 smallest values (no standard bounded form)
from copy_checks c
where c.event_name is not null
group by
  c.pixel_id,
  c.channel,
  c.event_name
