-- Fragment (the final select, no CTEs): the output rows of the browser Spark ingest queries, as
-- engines/spark_formats.py's contract has them (line_no, pos, line_ok, secrets, then the content
-- columns); ingest_browser_events.sql, ingest_fbq_jsonl.sql and ingest_pixel_beacons.sql each end with it.
-- Expects a CTE contents with line_no, skipped, short_enough, line_ok, secrets and content: the canonical
-- event struct, null where the line stores no event (skipped, left to Python, or a call that is no
-- event). One row per line: an event is pos 1 and carries the line's credential count; any other line
-- is pos 0 without secrets or content, and a skipped line (blank, comment) is line_ok unless too long
-- for Python to read it.
select
    line_no,
    if(content is null, 0, 1) as pos,
    if(skipped, short_enough, line_ok) as line_ok,
    if(content is null, 0, secrets) as secrets,
    content.*
from contents
