-- Event name + event_id pairs whose browser copies reach one pixel and whose server copies reach another
-- pixel that has no browser copy of it (and the reverse): per event name, event id, pixel and UTC day of
-- event_time, the browser and the server copies. No scope: a scope's copies fold the days and names it
-- covers (capi_core.metrics.by_day; all pixels, since a pair qualifies when either side is the scope's
-- pixel), and diagnostics.dedup_checks pairs a browser-only pixel with a server-only one.
-- params: none
-- Only candidates are listed: names + ids sent to two or more pixels (a missing pixel counts as one) over
-- the whole store; a pair in a scope has two pixels, so it is one of them. They are few.
with
candidates as (
  select e.event_name, e.event_id
  from events as e
  where e.event_id is not null
    and e.event_name is not null
  group by e.event_name, e.event_id
  having count(distinct e.pixel_id) + max(case when e.pixel_id is null then 1 else 0 end) >= 2
)
select
  e.event_name,
  e.event_id,
  e.pixel_id,
  cast(e.event_time as date) as day,
  count(case when e.channel = 'browser' then 1 end) as browser_copies,
  count(case when e.channel = 'server' then 1 end) as server_copies
from events as e
inner join candidates as c
  on c.event_name = e.event_name
  and c.event_id = e.event_id
group by e.event_name, e.event_id, e.pixel_id, cast(e.event_time as date)
