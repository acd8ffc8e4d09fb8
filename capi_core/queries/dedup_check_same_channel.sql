-- Same-channel repeats that Meta counts again (one-channel windows), per pixel, event name and channel.
-- DuckDB-only: list() aggregates the examples (standard SQL has array_agg; Spark collect_list).
-- params: $date_from, $date_to, $pixel_id, $event_names
select
  e.pixel_id,
  e.event_name,
  e.channel,
  sum(case when v.same_channel_repeat then 1 else 0 end) as repeats,
  count(*) as copies,
  list(distinct e.event_id order by e.event_id) filter (where v.same_channel_repeat) as examples
from events as e
inner join copy_verdicts as v
  on v.fingerprint = e.fingerprint
  and v.occurrence = e.occurrence
where true
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
group by e.pixel_id, e.event_name, e.channel
having sum(case when v.same_channel_repeat then 1 else 0 end) > 0
order by e.pixel_id, e.event_name, e.channel
