-- Copies carrying a test_event_code per pixel, against all copies of the pixel, with example ids.
-- params: $date_from, $date_to, $pixel_id, $event_names
with
-- @include fragments/copy_checks
select
  c.pixel_id,
  count(*) as copies,
  count(*) filter (where c.test_event_code is not null and trim(c.test_event_code) <> '') as with_test_code,
  -- DuckDB: the 5 smallest values (no standard bounded form)
  min(c.example_id, 5) filter (where c.test_event_code is not null and trim(c.test_event_code) <> '')
    as examples
from copy_checks c
group by
  c.pixel_id
