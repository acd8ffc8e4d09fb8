-- The per-copy signal checks (derived table copy_signal_checks, defined in derived_copy_checks.sql) of the
-- scoped events, as CTE `copy_checks`: every quality_*.sql query and contract_violations.sql include it
-- first in their WITH list (it ends without a comma), so the scope predicate is written once.
-- params: $date_from, $date_to, $pixel_id, $event_names
copy_checks as (
  select c.*
  from copy_signal_checks c
  where (cast($date_from as timestamp) is null or c.event_time >= $date_from)
    and (cast($date_to as timestamp) is null or c.event_time < $date_to)
    and (cast($pixel_id as varchar) is null or c.pixel_id = $pixel_id)
    and (cast($event_names as varchar[]) is null or list_contains($event_names, c.event_name))
)
