-- Non-blank lines the fast ingest SQL could not decide, in file order: the Python reader reads them.
-- No parameters; needs _fast_lines and _fast_events.
select
    l.line_no,
    l.text
from _fast_lines l
where l.text is not null
  and not regexp_full_match(l.text, '[ \t]*')
  and l.line_no not in (
      select e.line_no
      from _fast_events e
      where e.line_ok
  )
order by l.line_no
