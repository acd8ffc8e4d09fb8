-- The per-copy signal checks (derived table copy_signal_checks, defined in derived_copy_checks.sql) of the
-- scoped events. Never run alone: capi_core.metrics.quality_sql prepends it as the CTE `copy_checks` to
-- every other quality_*.sql query.
-- params: $date_from, $date_to, $pixel_id, $event_names
select c.*
from copy_signal_checks c
where (cast($date_from as timestamp) is null or c.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or c.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or c.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, c.event_name))
