-- The values through which one copy's derived rows can depend on another's (derived table
-- `copy_match_keys`, one row per events row; DuckDB only, never exported or built on Spark).
-- params: none (derived.py wraps it to build the table, or to add the rows of one batch)
--
-- An ingest or undo recomputes the derived rows of the copies it adds or removes and of every copy
-- linked to them, transitively, through a shared key (capi_core/derived.py). Two copies are linked when
-- they share one of:
--   dedup   pixel_id, exact event_name and event_id (dedup_model.sql windows; the event_id evidence of
--           dedup_would_be_pairs.sql)
--   fbp     event name lowercased and trimmed, and fbp (the fbp fallback timelines of dedup_model.sql,
--           grouped by exact pixel and name, are finer; the fbp evidence and counts of would-be pairs)
--   ext     the same with external_id
--   em      the same with the hashed email (would-be pairs)
--   order   a Purchase copy's normalized order id or event id (would-be pairs' order evidence, where an
--           order id on one side meets an event id on the other)
-- Each is kept as a 64-bit hash: a collision only links more copies than needed (more work, the same
-- result). A null value links nothing; a null event name groups with the empty name, as in the model.
select
  e.fingerprint,
  e.occurrence,
  case
    when e.event_id is not null
      then hash('dedup', coalesce(e.pixel_id, ''), coalesce(e.event_name, ''), e.event_id)
  end as k_dedup,
  case
    when e.fbp is not null then hash('fbp', coalesce(lower(trim(e.event_name)), ''), e.fbp)
  end as k_fbp,
  case
    when e.external_id is not null
      then hash('ext', coalesce(lower(trim(e.event_name)), ''), e.external_id)
  end as k_ext,
  case
    when e.em is not null then hash('em', coalesce(lower(trim(e.event_name)), ''), e.em)
  end as k_em,
  case
    when lower(trim(e.event_name)) = 'purchase'
      and nullif(trim(ltrim(lower(trim(e.order_id)), '#')), '') is not null
      then hash('order', trim(ltrim(lower(trim(e.order_id)), '#')))
  end as k_order,
  case
    when lower(trim(e.event_name)) = 'purchase'
      and nullif(trim(ltrim(lower(trim(e.event_id)), '#')), '') is not null
      then hash('order', trim(ltrim(lower(trim(e.event_id)), '#')))
  end as k_order_event_id
from events as e
