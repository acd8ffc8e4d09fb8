-- Event names in the store with their copies, most copies first: the choices for "which event marks a lead?".
-- params: $limit
select
  e.event_name,
  count(*) as copies
from events e
where e.event_name is not null
  and trim(e.event_name) <> ''
group by e.event_name
order by copies desc, e.event_name
limit $limit
