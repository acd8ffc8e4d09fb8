-- The lines of a JSONL file as rows (line_no 1-based, text without its newline; an empty line is null).
-- No delimiter, quote or escape: each line is one value. parallel = false keeps file order, so
-- row_number() is the line number (the caller checks the count against the file's newlines).
-- A line holding NUL bytes splits into several values; $strict = false keeps the first (the caller
-- quarantines such lines by their number, from the bytes, not from this text).
-- Parameters: $path, $max (longest line in bytes DuckDB accepts), $strict.
create temp table _fast_lines as
select
    (row_number() over ())::integer as line_no,
    text
from read_csv(
    $path,
    columns = {'text': 'VARCHAR'},
    delim = chr(0),
    quote = '',
    escape = '',
    header = false,
    auto_detect = false,
    new_line = '\n',
    max_line_size = $max,
    parallel = false,
    strict_mode = $strict
)
