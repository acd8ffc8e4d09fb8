-- Lead-quality scope, CTEs (`lead_events`, `crm_leads`, `matched_leads`, `leads_without_event` ...) that every other leads_*.sql query (but leads_event_names.sql) includes first in its WITH list: the lead event's counted copies (by the scope) with the CRM lead each links to, and every CRM lead with its stage facts, read from the derived tables copy_truth_links and truth_current.
-- params: $date_from, $date_to, $pixel_id (scope; event names are not filtered: the report is about one event), $event_name (the lead dataset's event: reconcile.datasets(store), Lead unless the store sets another)
--
-- A fragment (ends without a comma: an including query goes on with `,` or its select). Links come from
-- the reconciliation (derived_recon_links.sql), so a Lead event links to a CRM lead by the same rules as
-- a Purchase to an order. A Lead event is a copy Meta counts (the dedup model's verdict): a merged
-- browser + server pair is one event. Qualified: stage qualified or won, or a qualified_at date (a lead
-- qualified and later lost still qualified); won: stage won or a won_at date. Hours to qualify count
-- from created_at to qualified_at, and only when qualified_at is not before created_at.
lead_events as (
  select
    l.fingerprint, l.occurrence, l.channel, l.pixel_id, l.event_name, l.event_id, l.event_time,
    l.test_event_code, l.truth_id, l.phantom_reason
  from copy_truth_links l
  where l.dataset = $event_name
    and l.kind = 'lead'
    and l.counted
    and (cast($date_from as timestamp) is null or l.event_time >= $date_from)
    and (cast($date_to as timestamp) is null or l.event_time < $date_to)
    and (cast($pixel_id as varchar) is null or l.pixel_id = $pixel_id)
),
crm_leads as (
  select
    t.truth_id, t.raw_id, t.created_at, t.status, t.qualified_at, t.won_at, t.utm_source, t.utm_campaign,
    t.form,
    coalesce(t.status in ('qualified', 'won') or t.qualified_at is not null or t.won_at is not null, false)
      as qualified,
    coalesce(t.status = 'won' or t.won_at is not null, false) as won,
    -- epoch() is DuckDB's unix_timestamp()
    case
      when t.qualified_at >= t.created_at then (epoch(t.qualified_at) - epoch(t.created_at)) / 3600.0
    end as hours_to_qualify,
    (cast($date_from as timestamp) is null or t.created_at >= $date_from)
      and (cast($date_to as timestamp) is null or t.created_at < $date_to) as created_in_scope
  from truth_current t
  where t.kind = 'lead'
),
counted_anywhere as (
  -- CRM leads some counted copy of the event links to, whatever its date or pixel
  select distinct l.truth_id
  from copy_truth_links l
  where l.dataset = $event_name
    and l.kind = 'lead'
    and l.counted
    and l.truth_id is not null
),
matched as (
  -- CRM leads linked from the Lead events in scope, with how many events Meta counted for each
  select e.truth_id, count(*) as events
  from lead_events e
  where e.truth_id is not null
  group by e.truth_id
),
matched_leads as (
  select
    c.truth_id, c.raw_id, c.created_at, c.status, c.utm_source, c.utm_campaign, c.form, c.qualified, c.won,
    c.hours_to_qualify, m.events
  from matched m
  join crm_leads c
    on c.truth_id = m.truth_id
),
leads_without_event as (
  -- CRM leads created in scope that no counted Lead event links to (phone, referral, blocked tracking)
  select
    c.truth_id, c.raw_id, c.created_at, c.status, c.utm_source, c.utm_campaign, c.form, c.qualified, c.won,
    c.hours_to_qualify
  from crm_leads c
  left join counted_anywhere a
    on a.truth_id = c.truth_id
  where c.created_in_scope
    and a.truth_id is null
)
