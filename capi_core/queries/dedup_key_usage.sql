-- Dedup key usage and overlap per pixel, event name and key (event_id, external_id, fbp) in scope:
-- copies per channel, copies carrying the key, and copies received from both sources (both_sources).
-- Overlap, Meta (Events Manager, Event Deduplication tab): "the percentage of events with a given dedupe
-- key received from both sources (as a percentage of the source with the fewest events received)"
-- (https://developers.facebook.com/documentation/ads-commerce/conversions-api/verifying-setup). Events,
-- not values: a key value carried by b browser and s server copies stands for min(b, s) events received
-- from both sources (one-to-one), so one fbp on 10 browser and 1 server copy is 1 such event, not a
-- shared value; the caller divides both_sources by the fewer of browser_with_key and server_with_key.
-- params: $date_from, $date_to, $pixel_id, $event_names
with
scoped as (
  select
    e.pixel_id,
    e.event_name,
    e.channel,
    e.event_id,
    e.external_id,
    e.fbp
  from events as e
  where true
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
),
key_values as (
  select s.pixel_id, s.event_name, s.channel, 'event_id' as dedup_key_name, s.event_id as key_value
  from scoped as s
  union all
  select s.pixel_id, s.event_name, s.channel, 'external_id', s.external_id
  from scoped as s
  union all
  select s.pixel_id, s.event_name, s.channel, 'fbp', s.fbp
  from scoped as s
),
per_value as (
  select
    k.pixel_id,
    k.event_name,
    k.dedup_key_name,
    k.key_value,
    sum(case when k.channel = 'browser' then 1 else 0 end) as browser_copies,
    sum(case when k.channel = 'server' then 1 else 0 end) as server_copies
  from key_values as k
  where k.key_value is not null
  group by k.pixel_id, k.event_name, k.dedup_key_name, k.key_value
),
overlap as (
  select
    p.pixel_id,
    p.event_name,
    p.dedup_key_name,
    sum(least(p.browser_copies, p.server_copies)) as both_sources
  from per_value as p
  group by p.pixel_id, p.event_name, p.dedup_key_name
),
usage as (
  select
    k.pixel_id,
    k.event_name,
    k.dedup_key_name,
    sum(case when k.channel = 'browser' then 1 else 0 end) as browser_copies,
    sum(case when k.channel = 'server' then 1 else 0 end) as server_copies,
    sum(case when k.channel = 'browser' and k.key_value is not null then 1 else 0 end) as browser_with_key,
    sum(case when k.channel = 'server' and k.key_value is not null then 1 else 0 end) as server_with_key
  from key_values as k
  group by k.pixel_id, k.event_name, k.dedup_key_name
)
select
  u.pixel_id,
  u.event_name,
  u.dedup_key_name,
  u.browser_copies,
  u.server_copies,
  u.browser_with_key,
  u.server_with_key,
  coalesce(o.both_sources, 0) as both_sources
from usage as u
left join overlap as o
  on o.pixel_id is not distinct from u.pixel_id
  and o.event_name is not distinct from u.event_name
  and o.dedup_key_name = u.dedup_key_name
order by u.pixel_id, u.event_name, u.dedup_key_name
