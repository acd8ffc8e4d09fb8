-- Server copies carrying an event_id that Meta may still merge into an earlier browser copy by fbp or
-- external_id, per pixel, event name and UTC day of the server copy's event_time: the gap between the
-- lower and the upper bound of Meta's count (issue 13, case 3). Read over the stored derived table
-- copy_verdicts at report time, once per data version; the dedup model itself is not changed.
-- params: none
--
-- Why a range: Meta says "If you have configured the external_id and/or fbp parameters to be passed via
-- both browser and server, we take care to remove duplicate events automatically"
-- (https://developers.facebook.com/documentation/ads-commerce/conversions-api/guides/end-to-end-implementation)
-- and describes the fbp / external_id method for events without an event_id
-- (https://developers.facebook.com/documentation/ads-commerce/conversions-api/deduplicate-pixel-and-server-events),
-- but does not say whether it also merges a server copy that carries an event_id. The dedup model tries
-- that merge only for server copies without event_id (its point estimate, the upper bound); the lower
-- bound assumes Meta merges these too.
--
-- A candidate is a server copy the model counts on its own: counted, not merged, with an event_id and a
-- receipt time. Its partner is a browser copy the model also left alone (counted, not merged; with or
-- without an event_id, e.g. a beacon that lost it after a redeploy) of the same pixel and exact event
-- name, with the same fbp (then, for candidates left unpaired, the same external_id), received before it
-- and at most 48 h earlier (Meta: "Server events will not be discarded if a browser event has not been
-- received in the past 48 hours"). Pairs are one-to-one, with the dedup model's rule, the same text
-- dedup_model.sql pairs with (fragments/fallback_pairs.sql).
-- DuckDB-only: min(x, 5) aggregates the 5 smallest event_ids (as dedup_facts.sql).
with
copies as (
  select
    e.fingerprint,
    e.occurrence,
    e.channel,
    case when e.channel = 'browser' then 0 else 1 end as channel_rank,
    e.pixel_id,
    e.event_name,
    coalesce(e.pixel_id, '') as pixel_key,
    coalesce(e.event_name, '') as name_key,
    e.event_id,
    e.event_time,
    e.received_at,
    e.fbp,
    e.external_id
  from events as e
  inner join copy_verdicts as v
    on v.fingerprint = e.fingerprint
    and v.occurrence = e.occurrence
  where v.verdict = 'counted'
    and not v.merged
    and e.received_at is not null
    and (e.fbp is not null or e.external_id is not null)
    and (e.channel = 'browser' or (e.channel = 'server' and e.event_id is not null))
),
-- candidates (server copies) and partners (browser copies), paired by the dedup model's rule
pair_copies as (
  select
    c.fingerprint, c.occurrence, c.channel, c.channel_rank, c.pixel_key, c.name_key, c.received_at, c.fbp,
    c.external_id
  from copies as c
),
-- @include fragments/fallback_pairs
,
merges as (
  select p.server_fingerprint, p.server_occurrence, 'fbp' as key_name
  from fbp_pairs as p
  union all
  select p.server_fingerprint, p.server_occurrence, 'external_id' as key_name
  from ext_pairs as p
)
select
  c.pixel_id,
  c.event_name,
  cast(c.event_time as date) as day,
  count(*) as key_merges,
  sum(case when m.key_name = 'fbp' then 1 else 0 end) as fbp_merges,
  sum(case when m.key_name = 'external_id' then 1 else 0 end) as external_id_merges,
  min(distinct c.event_id, 5) as key_merge_examples
from merges as m
inner join copies as c
  on c.fingerprint = m.server_fingerprint
  and c.occurrence = m.server_occurrence
group by
  c.pixel_id,
  c.event_name,
  cast(c.event_time as date)
