-- Reconciliation links and facts (continues recon_base.sql): each copy's truth record, each record's verdict and flags, each unlinked counted copy's phantom reason.
-- params: those of recon_base.sql, $value_policy ('total' | 'subtotal'), $tol_abs, $tol_rel, $reused_min_copies
,
direct_key_links as (
  -- one record per copy: the chosen key first, then the other keys in SPEC order
  select fingerprint, occurrence, truth_id, method, 1 as link_rank
  from (
    select
      k.fingerprint, k.occurrence, k.truth_id, k.method,
      row_number() over (
        partition by k.fingerprint, k.occurrence
        order by case when k.method = ck.method then 0 else k.key_rank end, k.truth_id
      ) as pick
    from key_links k
    left join chosen_key ck
      on 1 = 1
  ) ranked
  where pick = 1
),
keyless as (
  -- an order_id that names no record is the shop's claim of another order (a phantom), so only
  -- copies without one fall back on the browser id or the hashed email
  select c.fingerprint, c.occurrence, c.fbp, c.em, c.event_time
  from copies c
  left join direct_key_links d
    on d.fingerprint = c.fingerprint
    and d.occurrence = c.occurrence
  where d.fingerprint is null
    and c.order_key is null
),
fallback_candidates as (
  -- within 10 minutes of the record's created_at (the checkout moment the Pixel fires on; paid_at can
  -- lag by days for deferred payments); epoch() is DuckDB's unix_timestamp()
  select
    u.fingerprint, u.occurrence, r.truth_id, 'fbp' as method, 1 as key_pref,
    abs(epoch(u.event_time) - epoch(r.created_at)) as gap_seconds
  from keyless u
  join records r
    on r.fbp = u.fbp
  where u.event_time between r.created_at - interval '10' minute and r.created_at + interval '10' minute
  union all
  select
    u.fingerprint, u.occurrence, r.truth_id, 'em' as method, 2 as key_pref,
    abs(epoch(u.event_time) - epoch(r.created_at)) as gap_seconds
  from keyless u
  join records r
    on r.em = u.em
  where u.event_time between r.created_at - interval '10' minute and r.created_at + interval '10' minute
),
direct_fallback_links as (
  select fingerprint, occurrence, truth_id, method, 2 as link_rank
  from (
    select
      f.fingerprint, f.occurrence, f.truth_id, f.method,
      row_number() over (
        partition by f.fingerprint, f.occurrence
        order by f.gap_seconds, f.key_pref, f.truth_id
      ) as pick
    from fallback_candidates f
  ) ranked
  where pick = 1
),
direct_links as materialized (
  select fingerprint, occurrence, truth_id, method, link_rank
  from direct_key_links
  union all
  select fingerprint, occurrence, truth_id, method, link_rank
  from direct_fallback_links
),
group_members as (
  -- copies Meta treats as one conversion: the same kept copy (a merged window or an fbp/external_id
  -- match), or the same event_id window (same-channel repeats: retries, reloads)
  select
    c.fingerprint, c.occurrence, c.order_key,
    'k' || c.kept_fingerprint || ':' || cast(c.kept_occurrence as varchar) as group_key,
    case when c.fingerprint = c.kept_fingerprint and c.occurrence = c.kept_occurrence then 0 else 1 end
      as member_rank
  from copies c
  union all
  select
    c.fingerprint, c.occurrence, c.order_key,
    'w' || c.dedup_key || ':' || cast(c.window_no as varchar) as group_key,
    1 as member_rank
  from copies c
  where c.dedup_key is not null
    and c.window_no is not null
),
group_links as (
  -- the group's link: a key link first, then the kept copy's own link
  select group_key, truth_id, link_rank
  from (
    select
      m.group_key, d.truth_id, d.link_rank,
      row_number() over (
        partition by m.group_key
        order by d.link_rank, m.member_rank, d.truth_id
      ) as pick
    from group_members m
    join direct_links d
      on d.fingerprint = m.fingerprint
      and d.occurrence = m.occurrence
  ) ranked
  where pick = 1
),
link_options as (
  -- a copy inherits its group's link unless it names another order itself (then it stays its own)
  select fingerprint, occurrence, truth_id, method, link_rank, 0 as inherited
  from direct_links
  union all
  select m.fingerprint, m.occurrence, g.truth_id, 'dedup_group' as method, g.link_rank, 1 as inherited
  from group_members m
  join group_links g
    on g.group_key = m.group_key
  where m.order_key is null
),
copy_links as materialized (
  -- TODO(dedup_would_be_pairs.sql): also link the other half of a would-be pair whose partner is linked
  select fingerprint, occurrence, truth_id, method
  from (
    select
      o.fingerprint, o.occurrence, o.truth_id, o.method,
      row_number() over (
        partition by o.fingerprint, o.occurrence
        order by o.link_rank, o.inherited, o.truth_id
      ) as pick
    from link_options o
  ) ranked
  where pick = 1
),
linked_copies as materialized (
  select
    c.fingerprint, c.occurrence, c.channel, c.pixel_id, c.event_name, c.event_id, c.order_id, c.event_key,
    c.name_variant, c.event_time, c.received_at, c.value, c.currency, c.consent, c.test_event_code,
    c.counted, c.merged, l.truth_id, l.method as link_method
  from copies c
  left join copy_links l
    on l.fingerprint = c.fingerprint
    and l.occurrence = c.occurrence
),
record_copies as (
  select
    r.truth_id,
    count(l.fingerprint) as copies,
    sum(case when l.channel = 'browser' then 1 else 0 end) as browser_copies,
    sum(case when l.channel = 'server' then 1 else 0 end) as server_copies,
    sum(case when l.counted then 1 else 0 end) as counted_copies,
    sum(case when l.counted then l.value else 0 end) as meta_value,
    min(case when l.channel = 'server' then l.received_at end) as first_server_at,
    coalesce(bool_or(l.merged), false) as any_merged,
    coalesce(bool_or(l.name_variant), false) as name_variant,
    coalesce(bool_or(l.consent = 'denied'), false) as consent_denied,
    coalesce(bool_or(
      l.counted
      and l.value is not null
      and abs(l.value - (case when $value_policy = 'subtotal' then r.subtotal else r.value end))
        > greatest($tol_abs, $tol_rel * abs(case when $value_policy = 'subtotal' then r.subtotal else r.value end))
    ), false) as value_mismatch,
    coalesce(bool_or(l.counted and upper(l.currency) <> upper(r.currency)), false) as currency_mismatch,
    min(case when l.counted then l.value end) as sent_value_min,
    max(case when l.counted then l.value end) as sent_value_max
  from records r
  left join linked_copies l
    on l.truth_id = r.truth_id
  group by r.truth_id
),
record_facts as (
  select
    r.truth_id, r.raw_id, r.created_at, r.paid_at, r.status, r.currency,
    case when $value_policy = 'subtotal' then r.subtotal else r.value end as truth_value,
    -- truth rows carry no consent: a record counts as consent-denied when a copy logged it so
    r.status = 'paid' and not rc.consent_denied as eligible,
    rc.copies, rc.browser_copies, rc.server_copies, rc.counted_copies, rc.meta_value,
    rc.sent_value_min, rc.sent_value_max, rc.first_server_at,
    case
      when rc.browser_copies > 0 and rc.server_copies > 0 then 'both_channels'
      when rc.browser_copies > 0 then 'browser_only'
      when rc.server_copies > 0 then 'server_only'
      else 'none'
    end as verdict,
    rc.counted_copies > 1 as counted_more_than_once,
    rc.value_mismatch,
    rc.currency_mismatch,
    rc.copies > 0 and coalesce(r.status, '') in ('refunded', 'cancelled', 'pending', 'test') as not_paid_sent,
    coalesce(rc.first_server_at > r.created_at + interval '2' hour, false) as late_2h,
    coalesce(rc.first_server_at > r.created_at + interval '24' hour, false) as late_24h,
    rc.name_variant,
    rc.consent_denied,
    -- merged correctly: both channels folded into one conversion, or a server-only record counted once
    case
      when rc.browser_copies > 0 and rc.server_copies > 0 then rc.any_merged
      when rc.server_copies > 0 then rc.counted_copies = 1
      else false
    end as merged_ok
  from records r
  join record_copies rc
    on rc.truth_id = r.truth_id
),
id_usage as (
  -- how widely an event_id is used: copies carrying it, records its linked copies name
  select event_key, count(*) as copies, count(distinct truth_id) as records
  from linked_copies
  where event_key is not null
  group by event_key
),
phantom_copies as (
  select
    l.fingerprint, l.occurrence, l.channel, l.pixel_id, l.event_name, l.event_id, l.order_id, l.event_time,
    l.value, l.currency, l.test_event_code, l.name_variant,
    case
      when l.test_event_code is not null then 'test_code'
      when u.records > 0 or u.copies >= $reused_min_copies then 'reused_id'
      when l.event_time < tw.first_created - interval '1' day
        or l.event_time > tw.last_created + interval '1' day then 'outside_truth_window'
      else 'unknown_id'
    end as reason
  from linked_copies l
  cross join truth_window tw
  left join id_usage u
    on u.event_key = l.event_key
  where l.counted
    and l.truth_id is null
)
