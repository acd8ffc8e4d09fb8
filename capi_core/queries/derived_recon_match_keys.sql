-- The values through which one reconciled copy's link can depend on another copy or on a truth record
-- (derived table `recon_match_keys`, rows per copy of a dataset; DuckDB only, never exported or built
-- on Spark). Read by capi_core/derived.py to recompute only the links an ingest or undo can change.
-- params: none
--
-- rel 'copy' (a copy's link depends on these copies, derived_recon_links.sql): its group (the same kept
-- copy; the same event_id window), its would-be pair partner, and the copies carrying its event_id in the
-- same dataset (reused-id phantoms).
-- rel 'record' (the truth records it can link to): each id it may carry (lead_id, order_id, event_id and
-- each event_id token), its fbp and its hashed email, per truth kind; derived.py hashes a changed
-- record's truth_id, fbp and em the same way to find them.
-- `copies` (ids normalized as for the links) is fragments/recon_copies.sql, shared with
-- derived_recon_links.sql, so both read the same copies.
-- 64-bit hashes: a collision only recomputes more links than needed, never different ones.
with
-- @include fragments/recon_copies
ids as (
  select c.fingerprint, c.occurrence, c.kind, c.order_key as id from copies c
  union all
  select c.fingerprint, c.occurrence, c.kind, c.lead_key from copies c
  union all
  select c.fingerprint, c.occurrence, c.kind, unnest(regexp_split_to_array(c.event_key, '[^a-z0-9]+'))
  from copies c
  where c.event_key is not null
  union all
  select c.fingerprint, c.occurrence, c.kind, unnest(regexp_split_to_array(c.event_key, '[^a-z0-9-]+'))
  from copies c
  where c.event_key is not null
  union all
  select c.fingerprint, c.occurrence, c.kind, c.event_key from copies c
),
pair_sides as (
  select
    p.browser_fingerprint as fingerprint,
    p.browser_occurrence as occurrence,
    hash('pair', p.browser_fingerprint, p.browser_occurrence, p.server_fingerprint, p.server_occurrence) as h
  from would_be_pairs p
  union all
  select
    p.server_fingerprint,
    p.server_occurrence,
    hash('pair', p.browser_fingerprint, p.browser_occurrence, p.server_fingerprint, p.server_occurrence)
  from would_be_pairs p
)
select distinct fingerprint, occurrence, h, rel
from (
  select c.fingerprint, c.occurrence, hash('kept', c.kept_fingerprint, c.kept_occurrence) as h, 'copy' as rel
  from copies c
  union all
  select c.fingerprint, c.occurrence, hash('window', c.dedup_key, c.window_no), 'copy'
  from copies c
  where c.dedup_key is not null
    and c.window_no is not null
  union all
  select c.fingerprint, c.occurrence, hash('event_key', c.dataset, c.event_key), 'copy'
  from copies c
  where c.event_key is not null
  union all
  select s.fingerprint, s.occurrence, s.h, 'copy'
  from pair_sides s
  semi join copies c
    on c.fingerprint = s.fingerprint
    and c.occurrence = s.occurrence
  union all
  select i.fingerprint, i.occurrence, hash('id', i.kind, i.id), 'record'
  from ids i
  where i.id is not null
    and i.id <> ''
  union all
  select c.fingerprint, c.occurrence, hash('fbp', c.kind, c.fbp), 'record'
  from copies c
  where c.fbp is not null
  union all
  select c.fingerprint, c.occurrence, hash('em', c.kind, c.em), 'record'
  from copies c
  where c.em is not null
) keyed
