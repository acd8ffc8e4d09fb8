-- Event ids carried by several distinct conversions in scope: 2+ order ids, 3+ users (fbp, external_id
-- or em values) or 3+ days of receipt. A single conversion has one order, at most two fbp values (a
-- browser/server fbp mismatch) and at most two days (a late retry).
-- params: $date_from, $date_to, $pixel_id, $event_names
select
  e.pixel_id,
  e.event_name,
  e.event_id,
  count(*) as copies,
  count(distinct trim(ltrim(lower(trim(e.order_id)), '#'))) as orders,
  greatest(count(distinct e.fbp), count(distinct e.external_id), count(distinct e.em)) as users,
  count(distinct cast(e.received_at as date)) as days
from events as e
where e.event_id is not null
  and (cast($date_from as timestamp) is null or e.event_time >= $date_from)
  and (cast($date_to as timestamp) is null or e.event_time < $date_to)
  and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
  and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
group by e.pixel_id, e.event_name, e.event_id
having count(distinct trim(ltrim(lower(trim(e.order_id)), '#'))) >= 2
  or greatest(count(distinct e.fbp), count(distinct e.external_id), count(distinct e.em)) >= 3
  or count(distinct cast(e.received_at as date)) >= 3
order by copies desc, e.pixel_id, e.event_name, e.event_id
