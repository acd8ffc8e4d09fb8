-- One dataset's truth records as a scope without a pixel filter sees them, as CTE `scoped_records` (included
-- by recon_base.sql; the including WITH clause goes on after it with a comma): the derived table
-- truth_verdicts, where a record's facts count every copy linked to it, whatever its pixel. With a pixel
-- filter reconcile.py puts fragments/scoped_records_pixel.sql in its place (the same columns, both from
-- fragments/record_verdict_columns.sql): two fragments, not one with a test of $pixel_id, because a
-- union of both sources costs every report planning time for the branch it does not use, and a pixel's
-- report loses DuckDB's pruning of the copy facts a query does not read (recon_channels: 7x slower).
-- params: $kind
scoped_records as (
  select
-- @include fragments/record_verdict_columns
  from truth_verdicts t
  where t.kind = $kind
)
