-- Each copy of a reconciled event and the truth record it links to (derived table `copy_truth_links`, rebuilt by derived.refresh after every ingest / undo), over the whole store.
-- params: none (reads events, copy_verdicts, truth_current, would_be_pairs, recon_rate_offsets)
--
-- Links are global, never per scope: a copy whose order was created just outside a date filter still
-- belongs to that order (it is not a phantom), and the join key is chosen once per dataset over every
-- copy. Scoped queries (recon_*.sql) filter this table by event_time / pixel / name and truth_verdicts by
-- created_at.
--
-- One row per copy of a dataset's event, its case or spacing variants included (`purchase`: they reached
-- Meta; flagged as name_variant): the CTE `copies` of fragments/recon_copies.sql. The datasets of
-- fragments/recon_datasets.sql must name the pairs of reconcile.DATASETS (one event per truth kind); the
-- lead event can be replaced per store (settings: lead_event_name).
--
-- Link, first that applies:
--   1 a key: for a lead dataset user_data.lead_id equal to a truth_id after normalization (trim,
--     lowercase, leading '#': canonical.normalize_truth_id), then custom_data.order_id equal to one, else
--     event_id equal to one, else event_id containing one as a token (a maximal run of letters and
--     digits, or of letters, digits and dashes); the dataset's chosen key first (the first key in that
--     order linking at least 50 % of the dataset's copies, else the key linking the most), then the
--     others in that order. Order datasets have no lead_id key: their keys and links are exactly SPEC's;
--   2 a copy with no key link and no order_id / lead_id (an id naming no record is the sender's claim of
--     another record: a phantom, never relinked): the partner's link when the copy is one half of a
--     would-be pair (dedup_would_be_pairs.sql) whose other half has a key or fbp/em link;
--   3 such a copy without a linked partner: the record whose fbp, then hashed email, matches, within 10
--     minutes of the record's created_at (the checkout moment; paid_at can lag by days), nearest first;
--   then copies Meta folds into one conversion (the same kept copy, or the same event_id window: merged
--   pairs, same-channel repeats) share the group's best link, unless a copy names an order_id / lead_id itself.
-- A copy left unlinked gets its phantom reason (the caller keeps the counted ones): test_code, reused_id
-- (its event_id is carried by a linked copy too, or by at least 4 copies), outside_truth_window (more
-- than a day outside the kind's first..last created_at), no_order_key (it carries no order_id, lead_id
-- nor event_id: nothing names a record, and no fbp / hashed email of a record matched within 10
-- minutes), unknown_id (it names an id the truth does not hold).
with
-- @include fragments/recon_copies
event_tokens as (
  -- regexp_split_to_array and unnest are DuckDB's forms of Spark's split / explode
  select distinct fingerprint, occurrence, dataset, kind, token
  from (
    select
      c.fingerprint, c.occurrence, c.dataset, c.kind,
      unnest(regexp_split_to_array(c.event_key, '[^a-z0-9]+')) as token
    from copies c
    where c.event_key is not null
    union all
    select
      c.fingerprint, c.occurrence, c.dataset, c.kind,
      unnest(regexp_split_to_array(c.event_key, '[^a-z0-9-]+')) as token
    from copies c
    where c.event_key is not null
  ) split_ids
  where token <> ''
),
key_ids as (
  -- every id a copy carries, with its key: one join to truth_current below serves them all
  select c.fingerprint, c.occurrence, c.dataset, c.kind, c.lead_key as id, 'lead_id' as method, 0 as key_rank
  from copies c
  where c.lead_key is not null
  union all
  select c.fingerprint, c.occurrence, c.dataset, c.kind, c.order_key, 'order_id', 1
  from copies c
  where c.order_key is not null
  union all
  select c.fingerprint, c.occurrence, c.dataset, c.kind, c.event_key, 'event_id', 2
  from copies c
  where c.event_key is not null
  union all
  select t.fingerprint, t.occurrence, t.dataset, t.kind, t.token, 'event_id_token', 3
  from event_tokens t
),
key_links as materialized (
  select k.fingerprint, k.occurrence, k.dataset, r.truth_id, k.method, k.key_rank
  from key_ids k
  join truth_current r
    on r.kind = k.kind
    and r.truth_id = k.id
),
key_flags as (
  -- which keys could link the copy (the join-key match rates count these)
  select
    fingerprint, occurrence,
    max(case when method = 'lead_id' then 1 else 0 end) = 1 as lead_linked,
    max(case when method = 'order_id' then 1 else 0 end) = 1 as order_linked,
    max(case when method = 'event_id' then 1 else 0 end) = 1 as event_linked,
    max(case when method = 'event_id_token' then 1 else 0 end) = 1 as token_linked
  from key_links
  group by fingerprint, occurrence
),
key_rates as (
  -- every copy's key flags counted per dataset; recon_rate_offsets adds the counts of copies not in
  -- `events` here (empty on a full build; an incremental update puts the stored copies' counts there)
  select
    counted.dataset,
    counted.kind,
    sum(counted.copies) as copies,
    sum(counted.lead_linked) as lead_linked,
    sum(counted.order_linked) as order_linked,
    sum(counted.event_linked) as event_linked,
    sum(counted.token_linked) as token_linked
  from (
    select
      c.dataset,
      c.kind,
      count(*) as copies,
      sum(case when f.lead_linked then 1 else 0 end) as lead_linked,
      sum(case when f.order_linked then 1 else 0 end) as order_linked,
      sum(case when f.event_linked then 1 else 0 end) as event_linked,
      sum(case when f.token_linked then 1 else 0 end) as token_linked
    from copies c
    left join key_flags f
      on f.fingerprint = c.fingerprint
      and f.occurrence = c.occurrence
    group by c.dataset, c.kind
    union all
    select o.dataset, o.kind, o.copies, o.lead_linked, o.order_linked, o.event_linked, o.token_linked
    from recon_rate_offsets o
  ) counted
  group by counted.dataset, counted.kind
),
key_candidates as (
  select dataset, copies, 'lead_id' as method, 0 as key_rank, lead_linked as linked
  from key_rates
  where kind = 'lead'
  union all
  select dataset, copies, 'order_id' as method, 1 as key_rank, order_linked as linked
  from key_rates
  union all
  select dataset, copies, 'event_id' as method, 2 as key_rank, event_linked as linked
  from key_rates
  union all
  select dataset, copies, 'event_id_token' as method, 3 as key_rank, token_linked as linked
  from key_rates
),
chosen_key as (
  -- the first key in order (lead_id, order_id, event_id, token) that links at least half of the copies, else the key that links the
  -- most; none when no copy links at all
  select dataset, method
  from (
    select
      dataset, method,
      row_number() over (
        partition by dataset
        order by
          case when linked >= 0.5 * copies then 0 else 1 end,
          case when linked >= 0.5 * copies then key_rank else 0 end,
          linked desc,
          key_rank
      ) as pick
    from key_candidates
    where linked > 0
  ) ranked
  where pick = 1
),
direct_key_links as (
  -- one record per copy: the chosen key first, then the other keys in SPEC order, then the smallest id.
  -- Picks are the minimum of a struct (compared field by field) per group, not row_number() = 1: one
  -- hash aggregate instead of a sort per copy, several times faster here; struct_pack is DuckDB's
  -- named_struct, and min over a struct works the same in Spark.
  select fingerprint, occurrence, best.truth_id as truth_id, best.method as method, 1 as link_rank
  from (
    select
      k.fingerprint, k.occurrence,
      min(struct_pack(
        pref := case when k.method = ck.method then 0 else k.key_rank end,
        truth_id := k.truth_id,
        method := k.method
      )) as best
    from key_links k
    left join chosen_key ck
      on ck.dataset = k.dataset
    group by k.fingerprint, k.occurrence
  ) picked
),
keyless as materialized (
  select c.fingerprint, c.occurrence, c.kind, c.fbp, c.em, c.event_time
  from copies c
  left join direct_key_links d
    on d.fingerprint = c.fingerprint
    and d.occurrence = c.occurrence
  where d.fingerprint is null
    and c.order_key is null
    and c.lead_key is null
),
fallback_candidates as (
  -- epoch() is DuckDB's unix_timestamp()
  select
    u.fingerprint, u.occurrence, r.truth_id, 'fbp' as method, 1 as key_pref,
    abs(epoch(u.event_time) - epoch(r.created_at)) as gap_seconds
  from keyless u
  join truth_current r
    on r.kind = u.kind
    and r.fbp = u.fbp
  where u.event_time between r.created_at - interval '10' minute and r.created_at + interval '10' minute
  union all
  select
    u.fingerprint, u.occurrence, r.truth_id, 'em' as method, 2 as key_pref,
    abs(epoch(u.event_time) - epoch(r.created_at)) as gap_seconds
  from keyless u
  join truth_current r
    on r.kind = u.kind
    and r.em = u.em
  where u.event_time between r.created_at - interval '10' minute and r.created_at + interval '10' minute
),
fallback_links as (
  -- nearest first, then fbp before em, then the smallest id
  select fingerprint, occurrence, best.truth_id as truth_id, best.method as method
  from (
    select
      f.fingerprint, f.occurrence,
      min(struct_pack(gap := f.gap_seconds, pref := f.key_pref, truth_id := f.truth_id, method := f.method))
        as best
    from fallback_candidates f
    group by f.fingerprint, f.occurrence
  ) picked
),
own_links as (
  -- what a partner can pass on: its key link or its fbp/em link
  select fingerprint, occurrence, truth_id
  from direct_key_links
  union all
  select fingerprint, occurrence, truth_id
  from fallback_links
),
pair_sides as (
  select
    p.browser_fingerprint as fingerprint, p.browser_occurrence as occurrence,
    p.server_fingerprint as partner_fingerprint, p.server_occurrence as partner_occurrence
  from would_be_pairs p
  union all
  select
    p.server_fingerprint as fingerprint, p.server_occurrence as occurrence,
    p.browser_fingerprint as partner_fingerprint, p.browser_occurrence as partner_occurrence
  from would_be_pairs p
),
pair_links as (
  -- the partner must be a copy of the same dataset (a would-be pair can join 'Purchase' and 'purchase')
  select u.fingerprint, u.occurrence, min(o.truth_id) as truth_id
  from keyless u
  join pair_sides s
    on s.fingerprint = u.fingerprint
    and s.occurrence = u.occurrence
  join copies pc
    on pc.fingerprint = s.partner_fingerprint
    and pc.occurrence = s.partner_occurrence
    and pc.kind = u.kind
  join own_links o
    on o.fingerprint = s.partner_fingerprint
    and o.occurrence = s.partner_occurrence
  group by u.fingerprint, u.occurrence
),
direct_links as materialized (
  select fingerprint, occurrence, truth_id, method, link_rank
  from direct_key_links
  union all
  select fingerprint, occurrence, truth_id, 'would_be_pair' as method, 2 as link_rank
  from pair_links
  union all
  select f.fingerprint, f.occurrence, f.truth_id, f.method, 3 as link_rank
  from fallback_links f
  left join pair_links p
    on p.fingerprint = f.fingerprint
    and p.occurrence = f.occurrence
  where p.fingerprint is null
),
group_members as (
  -- copies Meta treats as one conversion: the same kept copy (a merged window or an fbp/external_id
  -- match), or the same event_id window (same-channel repeats: retries, reloads)
  select
    c.fingerprint, c.occurrence, coalesce(c.order_key, c.lead_key) as own_key,
    'k' || c.kept_fingerprint || ':' || cast(c.kept_occurrence as varchar) as group_key,
    case when c.fingerprint = c.kept_fingerprint and c.occurrence = c.kept_occurrence then 0 else 1 end
      as member_rank
  from copies c
  union all
  select
    c.fingerprint, c.occurrence, coalesce(c.order_key, c.lead_key) as own_key,
    'w' || c.dedup_key || ':' || cast(c.window_no as varchar) as group_key,
    1 as member_rank
  from copies c
  where c.dedup_key is not null
    and c.window_no is not null
),
group_links as (
  -- the group's link: the best-ranked link of its members, the kept copy's first
  select group_key, best.truth_id as truth_id, best.link_rank as link_rank
  from (
    select
      m.group_key,
      min(struct_pack(link_rank := d.link_rank, member_rank := m.member_rank, truth_id := d.truth_id)) as best
    from group_members m
    join direct_links d
      on d.fingerprint = m.fingerprint
      and d.occurrence = m.occurrence
    group by m.group_key
  ) picked
),
link_options as (
  -- a copy inherits its group's link unless it names another record itself (then it stays its own)
  select fingerprint, occurrence, truth_id, method, link_rank, 0 as inherited
  from direct_links
  union all
  select m.fingerprint, m.occurrence, g.truth_id, 'dedup_group' as method, g.link_rank, 1 as inherited
  from group_members m
  join group_links g
    on g.group_key = m.group_key
  where m.own_key is null
),
copy_links as materialized (
  select fingerprint, occurrence, best.truth_id as truth_id, best.method as method
  from (
    select
      o.fingerprint, o.occurrence,
      min(struct_pack(link_rank := o.link_rank, inherited := o.inherited, truth_id := o.truth_id, method := o.method))
        as best
    from link_options o
    group by o.fingerprint, o.occurrence
  ) picked
),
linked as materialized (
  select c.dataset, c.kind, c.fingerprint, c.occurrence, c.event_key, c.test_event_code, c.event_time,
    l.truth_id, l.method
  from copies c
  left join copy_links l
    on l.fingerprint = c.fingerprint
    and l.occurrence = c.occurrence
),
id_usage as (
  -- how widely an event_id is used: copies carrying it, records its linked copies name
  select dataset, event_key, count(*) as copies, count(distinct truth_id) as records
  from linked
  where event_key is not null
  group by dataset, event_key
),
truth_window as (
  -- the period the truth export covers: phantoms far outside it are an export gap
  select kind, min(created_at) as first_created, max(created_at) as last_created
  from truth_current
  group by kind
)
select
  c.dataset,
  c.kind,
  c.fingerprint,
  c.occurrence,
  c.channel,
  c.pixel_id,
  c.event_name,
  c.event_id,
  c.order_id,
  c.event_key,
  c.name_variant,
  c.event_time,
  c.received_at,
  c.value,
  c.currency,
  c.consent,
  c.test_event_code,
  c.counted,
  c.merged,
  c.rejected,
  l.truth_id,
  l.method as link_method,
  coalesce(f.lead_linked, false) as lead_linked,
  coalesce(f.order_linked, false) as order_linked,
  coalesce(f.event_linked, false) as event_linked,
  coalesce(f.token_linked, false) as token_linked,
  ck.method as join_key,
  case
    when l.truth_id is not null then null
    when c.test_event_code is not null then 'test_code'
    when u.records > 0 or u.copies >= 4 then 'reused_id'
    when c.event_time < tw.first_created - interval '1' day
      or c.event_time > tw.last_created + interval '1' day then 'outside_truth_window'
    when c.order_key is null and c.event_key is null and c.lead_key is null then 'no_order_key'
    else 'unknown_id'
  end as phantom_reason
from copies c
join linked l
  on l.fingerprint = c.fingerprint
  and l.occurrence = c.occurrence
left join key_flags f
  on f.fingerprint = c.fingerprint
  and f.occurrence = c.occurrence
left join chosen_key ck
  on ck.dataset = c.dataset
left join id_usage u
  on u.dataset = c.dataset
  and u.event_key = c.event_key
left join truth_window tw
  on tw.kind = c.kind
