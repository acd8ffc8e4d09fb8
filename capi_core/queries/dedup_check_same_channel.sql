-- Same-channel repeats that Meta counts again (one-channel windows), per pixel, event name and channel.
-- DuckDB-only: list() aggregates the examples (standard SQL has array_agg; Spark collect_list).
-- params: $date_from, $date_to, $pixel_id, $event_names
-- The few flagged copies are joined to events first; the copies per group are then counted on events
-- alone, for the groups that have a repeat (no join of every copy to its verdict).
with
repeats as (
  select
    e.pixel_id,
    e.event_name,
    e.channel,
    count(*) as repeats,
    list(distinct e.event_id order by e.event_id) as examples
  from copy_verdicts as v
  inner join events as e
    on e.fingerprint = v.fingerprint
    and e.occurrence = v.occurrence
  where v.same_channel_repeat
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
  group by e.pixel_id, e.event_name, e.channel
),
copies as (
  select e.pixel_id, e.event_name, e.channel, count(*) as copies
  from events as e
  where true
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
  group by e.pixel_id, e.event_name, e.channel
)
select
  r.pixel_id,
  r.event_name,
  r.channel,
  r.repeats,
  c.copies,
  r.examples
from repeats as r
inner join copies as c
  on c.pixel_id is not distinct from r.pixel_id
  and c.event_name is not distinct from r.event_name
  and c.channel = r.channel
order by r.pixel_id, r.event_name, r.channel
