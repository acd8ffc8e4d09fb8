-- Meta's dedup model (SPEC §4, reference §1): one verdict per events row, over the whole store.
-- params: none (derived.refresh wraps this select in `create table copy_verdicts as`)
--
-- Keyed copies (pixel_id, exact event_name, event_id) are ordered by received_at, then browser first,
-- then fingerprint, occurrence (deterministic). The first copy anchors a 48 h window (a copy with
-- received_at <= anchor + 48 h is inside); the first copy after it anchors the next window, and so on.
-- A window with both channels counts one copy: the first browser copy when the first browser and first
-- server copies arrived within 5 minutes of each other, otherwise the window's first copy. A one-channel
-- window counts every copy and flags the repeats (same_channel_repeat).
--
-- Why a recursive CTE: window k+1 is anchored on the first copy after anchor_k + 48 h, and anchor_k
-- itself depends on every earlier anchor, so the chain is not a function of a copy and its neighbours
-- (no lag/lead, gap or fixed time bucket reproduces it: 0 h, 40 h, 60 h, 100 h gives windows at 0 h and
-- 60 h, while gaps of 40/20/40 h never exceed 48 h). The recursion walks windows, not copies: a
-- non-recursive window function gives every copy a pointer to the first copy after its own 48 h
-- (`next_seq`), and the recursion follows the pointers from the first copy. It runs only over keys whose
-- copies span more than 48 h, so its depth is the number of windows of the longest-lived key (a reused
-- id like 'undefined' over a year: ~180), never its number of copies.
--
-- Copies without event_id: a server copy is discarded when it pairs one-to-one with an earlier browser
-- copy (received at most 48 h before it) with the same pixel_id, event_name and fbp; server copies left
-- unpaired then try the same with external_id. Browser copies that can absorb a server copy: counted
-- browser copies that are not the kept copy of a merged event_id window. Pairing rule (per pixel_id,
-- event_name, key value, on one timeline ordered like the keyed copies): the timeline is cut into runs,
-- each run being consecutive browser copies followed by the server copies received before the next
-- browser copy; in a run with m browser and k server copies, p = min(m, k) pairs are formed: the first p
-- server copies with the last p browser copies, in order (Meta compares a server event with "the
-- previously received browser event"). A pair more than 48 h apart is not formed. Browser copies left
-- over in one run are not offered to later runs (documented approximation of a greedy matching that
-- would need recursion over every copy).
--
-- Copies with null received_at cannot be placed in any window: counted, window_no null, never paired.
-- A null pixel_id or event_name is part of the key as an empty string (they still only match each other).
with recursive
base as (
  select
    e.fingerprint,
    e.occurrence,
    e.channel,
    coalesce(e.pixel_id, '') as pixel_key,
    coalesce(e.event_name, '') as name_key,
    e.event_id,
    e.received_at,
    e.fbp,
    e.external_id,
    case
      when e.event_id is not null
        then coalesce(e.pixel_id, '') || chr(31) || coalesce(e.event_name, '') || chr(31) || e.event_id
    end as dedup_key,
    case when e.channel = 'browser' then 0 else 1 end as channel_rank
  from events as e
),
-- keyed copies with a receipt time and the facts of their whole key, in one sort of the key's copies:
-- when the key spans at most 48 h (nearly every key) the key is one window and these facts decide
timed as materialized (
  select
    b.fingerprint,
    b.occurrence,
    b.channel,
    b.channel_rank,
    b.pixel_key,
    b.name_key,
    b.received_at,
    b.fbp,
    b.external_id,
    b.dedup_key,
    max(b.received_at) over k > min(b.received_at) over k + interval '48 hours' as multi_window,
    first_value(b.fingerprint) over k as first_fingerprint,
    first_value(b.occurrence) over k as first_occurrence,
    first_value(case when b.channel = 'browser' then b.fingerprint end ignore nulls) over k
      as browser_fingerprint,
    first_value(case when b.channel = 'browser' then b.occurrence end ignore nulls) over k
      as browser_occurrence,
    min(case when b.channel = 'browser' then b.received_at end) over k as browser_at,
    first_value(case when b.channel = 'server' then b.fingerprint end ignore nulls) over k
      as server_fingerprint,
    first_value(case when b.channel = 'server' then b.occurrence end ignore nulls) over k
      as server_occurrence,
    min(case when b.channel = 'server' then b.received_at end) over k as server_at
  from base as b
  where b.dedup_key is not null
    and b.received_at is not null
  window k as (
    partition by b.dedup_key
    order by b.received_at, b.channel_rank, b.fingerprint, b.occurrence
    rows between unbounded preceding and unbounded following
  )
),
-- keys spanning more than 48 h: number their copies and point each to the first copy after its 48 h
multi as (
  select
    t.fingerprint,
    t.occurrence,
    t.channel,
    t.channel_rank,
    t.pixel_key,
    t.name_key,
    t.received_at,
    t.fbp,
    t.external_id,
    t.dedup_key,
    row_number() over (
      partition by t.dedup_key
      order by t.received_at, t.channel_rank, t.fingerprint, t.occurrence
    ) as seq,
    count(*) over (partition by t.dedup_key) as copies,
    count(*) over (
      partition by t.dedup_key
      order by t.received_at
      range between unbounded preceding and interval '48 hours' following
    ) as inside
  from timed as t
  where t.multi_window
),
anchors (dedup_key, window_no, anchor_seq) as (
  select
    m.dedup_key,
    1,
    m.seq
  from multi as m
  where m.seq = 1
  union all
  select
    a.dedup_key,
    a.window_no + 1,
    m.inside + 1
  from anchors as a
  inner join multi as m
    on m.dedup_key = a.dedup_key
    and m.seq = a.anchor_seq
  where m.inside < m.copies
),
multi_windowed as (
  select
    m.fingerprint,
    m.occurrence,
    m.channel,
    m.channel_rank,
    m.pixel_key,
    m.name_key,
    m.received_at,
    m.fbp,
    m.external_id,
    m.dedup_key,
    sum(case when a.anchor_seq is not null then 1 else 0 end) over (
      partition by m.dedup_key
      order by m.seq
      rows between unbounded preceding and current row
    ) as window_no
  from multi as m
  left join anchors as a
    on a.dedup_key = m.dedup_key
    and a.anchor_seq = m.seq
),
-- every timed keyed copy with the first copy of its window and the first copy of each channel in it
firsts as (
  select
    t.fingerprint,
    t.occurrence,
    t.channel,
    t.pixel_key,
    t.name_key,
    t.received_at,
    t.fbp,
    t.external_id,
    t.dedup_key,
    1 as window_no,
    t.first_fingerprint,
    t.first_occurrence,
    t.browser_fingerprint,
    t.browser_occurrence,
    t.browser_at,
    t.server_fingerprint,
    t.server_occurrence,
    t.server_at
  from timed as t
  where not t.multi_window
  union all
  select
    w.fingerprint,
    w.occurrence,
    w.channel,
    w.pixel_key,
    w.name_key,
    w.received_at,
    w.fbp,
    w.external_id,
    w.dedup_key,
    w.window_no,
    first_value(w.fingerprint) over k,
    first_value(w.occurrence) over k,
    first_value(case when w.channel = 'browser' then w.fingerprint end ignore nulls) over k,
    first_value(case when w.channel = 'browser' then w.occurrence end ignore nulls) over k,
    min(case when w.channel = 'browser' then w.received_at end) over k,
    first_value(case when w.channel = 'server' then w.fingerprint end ignore nulls) over k,
    first_value(case when w.channel = 'server' then w.occurrence end ignore nulls) over k,
    min(case when w.channel = 'server' then w.received_at end) over k
  from multi_windowed as w
  window k as (
    partition by w.dedup_key, w.window_no
    order by w.received_at, w.channel_rank, w.fingerprint, w.occurrence
    rows between unbounded preceding and unbounded following
  )
),
kept as (
  select
    f.fingerprint,
    f.occurrence,
    f.channel,
    f.pixel_key,
    f.name_key,
    f.received_at,
    f.fbp,
    f.external_id,
    f.dedup_key,
    f.window_no,
    f.first_fingerprint,
    f.first_occurrence,
    case
      when f.browser_fingerprint is null or f.server_fingerprint is null then null
      when f.browser_at between f.server_at - interval '5 minutes' and f.server_at + interval '5 minutes'
        then 'browser'
      when f.browser_at < f.server_at then 'browser'
      else 'server'
    end as kept_channel,
    f.browser_fingerprint,
    f.browser_occurrence,
    f.server_fingerprint,
    f.server_occurrence
  from firsts as f
),
-- every copy with its event_id verdict (copies without event_id or receipt time: counted for now)
provisional as materialized (
  select
    v.fingerprint,
    v.occurrence,
    v.channel,
    v.pixel_key,
    v.name_key,
    v.received_at,
    v.fbp,
    v.external_id,
    v.dedup_key,
    v.window_no,
    case when v.kept_channel is null or v.is_kept then 'counted' else 'discarded' end as verdict,
    case
      when v.kept_channel is null or v.is_kept then null
      when v.channel = v.kept_channel then 'repeat_in_merged_window'
      else 'duplicate_of_' || v.kept_channel
    end as reason,
    v.kept_channel is not null as merged,
    case when v.kept_channel is null then v.fingerprint else v.kept_fingerprint end as kept_fingerprint,
    case when v.kept_channel is null then v.occurrence else v.kept_occurrence end as kept_occurrence,
    v.kept_channel is null
      and not (v.fingerprint = v.first_fingerprint and v.occurrence = v.first_occurrence)
      as same_channel_repeat
  from (
    select
      k.fingerprint,
      k.occurrence,
      k.channel,
      k.pixel_key,
      k.name_key,
      k.received_at,
      k.fbp,
      k.external_id,
      k.dedup_key,
      k.window_no,
      k.first_fingerprint,
      k.first_occurrence,
      k.kept_channel,
      case when k.kept_channel = 'browser' then k.browser_fingerprint else k.server_fingerprint end
        as kept_fingerprint,
      case when k.kept_channel = 'browser' then k.browser_occurrence else k.server_occurrence end
        as kept_occurrence,
      k.kept_channel = 'browser' and k.fingerprint = k.browser_fingerprint
        and k.occurrence = k.browser_occurrence
        or k.kept_channel = 'server' and k.fingerprint = k.server_fingerprint
        and k.occurrence = k.server_occurrence as is_kept
    from kept as k
  ) as v
  union all
  select
    b.fingerprint,
    b.occurrence,
    b.channel,
    b.pixel_key,
    b.name_key,
    b.received_at,
    b.fbp,
    b.external_id,
    b.dedup_key,
    cast(null as bigint) as window_no,
    'counted' as verdict,
    cast(null as varchar) as reason,
    false as merged,
    b.fingerprint as kept_fingerprint,
    b.occurrence as kept_occurrence,
    false as same_channel_repeat
  from base as b
  where b.dedup_key is null
    or b.received_at is null
),
-- candidates of the fbp / external_id fallback: server copies without event_id, and the browser copies
-- that can absorb one (counted, not the kept copy of a merged window)
fallback_servers as (
  select
    b.fingerprint,
    b.occurrence,
    b.channel,
    b.channel_rank,
    b.pixel_key,
    b.name_key,
    b.received_at,
    b.fbp,
    b.external_id
  from base as b
  where b.channel = 'server'
    and b.event_id is null
    and b.received_at is not null
),
fallback_browsers as (
  select
    b.fingerprint,
    b.occurrence,
    b.channel,
    0 as channel_rank,
    b.pixel_key,
    b.name_key,
    b.received_at,
    b.fbp,
    b.external_id
  from provisional as b
  where b.channel = 'browser'
    and b.received_at is not null
    and b.verdict = 'counted'
    and not b.merged
    and (
      exists (
        select 1
        from fallback_servers as s
        where s.pixel_key = b.pixel_key
          and s.name_key = b.name_key
          and s.fbp = b.fbp
      )
      or exists (
        select 1
        from fallback_servers as s
        where s.pixel_key = b.pixel_key
          and s.name_key = b.name_key
          and s.external_id = b.external_id
      )
    )
),
fbp_timeline as (
  select
    c.fingerprint,
    c.occurrence,
    c.channel,
    c.received_at,
    c.pixel_key || chr(31) || c.name_key || chr(31) || c.fbp as match_group,
    row_number() over (
      partition by c.pixel_key, c.name_key, c.fbp
      order by c.received_at, c.channel_rank, c.fingerprint, c.occurrence
    ) as pos
  from (
    select s.fingerprint, s.occurrence, s.channel, s.channel_rank, s.pixel_key, s.name_key, s.received_at, s.fbp
    from fallback_servers as s
    where s.fbp is not null
    union all
    select f.fingerprint, f.occurrence, f.channel, f.channel_rank, f.pixel_key, f.name_key, f.received_at, f.fbp
    from fallback_browsers as f
    where f.fbp is not null
  ) as c
),
-- runs of one timeline: a run starts at a browser copy that follows a server copy (or opens the group)
fbp_runs as (
  select
    t.fingerprint,
    t.occurrence,
    t.channel,
    t.received_at,
    t.match_group,
    sum(t.run_start) over (
      partition by t.match_group
      order by t.pos
      rows between unbounded preceding and current row
    ) as run_no,
    t.pos
  from (
    select
      l.fingerprint,
      l.occurrence,
      l.channel,
      l.received_at,
      l.match_group,
      l.pos,
      case
        when l.channel = 'browser' and coalesce(lag(l.channel) over (
          partition by l.match_group
          order by l.pos
        ), 'server') = 'server' then 1
        else 0
      end as run_start
    from fbp_timeline as l
  ) as t
),
fbp_ranked as (
  select
    r.fingerprint,
    r.occurrence,
    r.channel,
    r.received_at,
    r.match_group,
    r.run_no,
    row_number() over (partition by r.match_group, r.run_no, r.channel order by r.pos) as idx,
    sum(case when r.channel = 'browser' then 1 else 0 end) over run as browsers,
    sum(case when r.channel = 'server' then 1 else 0 end) over run as servers
  from fbp_runs as r
  window run as (partition by r.match_group, r.run_no)
),
fbp_matches as (
  select
    s.fingerprint as server_fingerprint,
    s.occurrence as server_occurrence,
    b.fingerprint as browser_fingerprint,
    b.occurrence as browser_occurrence
  from fbp_ranked as s
  inner join fbp_ranked as b
    on b.match_group = s.match_group
    and b.run_no = s.run_no
    and b.channel = 'browser'
    and b.idx = s.browsers - least(s.browsers, s.servers) + s.idx
  where s.channel = 'server'
    and s.run_no > 0
    and s.idx <= least(s.browsers, s.servers)
    and s.received_at <= b.received_at + interval '48 hours'
),
ext_timeline as (
  select
    c.fingerprint,
    c.occurrence,
    c.channel,
    c.received_at,
    c.pixel_key || chr(31) || c.name_key || chr(31) || c.external_id as match_group,
    row_number() over (
      partition by c.pixel_key, c.name_key, c.external_id
      order by c.received_at, c.channel_rank, c.fingerprint, c.occurrence
    ) as pos
  from (
    select
      s.fingerprint, s.occurrence, s.channel, s.channel_rank, s.pixel_key, s.name_key, s.received_at,
      s.external_id
    from fallback_servers as s
    where s.external_id is not null
      and not exists (
        select 1
        from fbp_matches as m
        where m.server_fingerprint = s.fingerprint
          and m.server_occurrence = s.occurrence
      )
    union all
    select
      f.fingerprint, f.occurrence, f.channel, f.channel_rank, f.pixel_key, f.name_key, f.received_at,
      f.external_id
    from fallback_browsers as f
    where f.external_id is not null
      and not exists (
        select 1
        from fbp_matches as m
        where m.browser_fingerprint = f.fingerprint
          and m.browser_occurrence = f.occurrence
      )
  ) as c
),
ext_runs as (
  select
    t.fingerprint,
    t.occurrence,
    t.channel,
    t.received_at,
    t.match_group,
    sum(t.run_start) over (
      partition by t.match_group
      order by t.pos
      rows between unbounded preceding and current row
    ) as run_no,
    t.pos
  from (
    select
      l.fingerprint,
      l.occurrence,
      l.channel,
      l.received_at,
      l.match_group,
      l.pos,
      case
        when l.channel = 'browser' and coalesce(lag(l.channel) over (
          partition by l.match_group
          order by l.pos
        ), 'server') = 'server' then 1
        else 0
      end as run_start
    from ext_timeline as l
  ) as t
),
ext_ranked as (
  select
    r.fingerprint,
    r.occurrence,
    r.channel,
    r.received_at,
    r.match_group,
    r.run_no,
    row_number() over (partition by r.match_group, r.run_no, r.channel order by r.pos) as idx,
    sum(case when r.channel = 'browser' then 1 else 0 end) over run as browsers,
    sum(case when r.channel = 'server' then 1 else 0 end) over run as servers
  from ext_runs as r
  window run as (partition by r.match_group, r.run_no)
),
ext_matches as (
  select
    s.fingerprint as server_fingerprint,
    s.occurrence as server_occurrence,
    b.fingerprint as browser_fingerprint,
    b.occurrence as browser_occurrence
  from ext_ranked as s
  inner join ext_ranked as b
    on b.match_group = s.match_group
    and b.run_no = s.run_no
    and b.channel = 'browser'
    and b.idx = s.browsers - least(s.browsers, s.servers) + s.idx
  where s.channel = 'server'
    and s.run_no > 0
    and s.idx <= least(s.browsers, s.servers)
    and s.received_at <= b.received_at + interval '48 hours'
),
-- one row per copy taking part in a fallback match (each copy is in at most one)
fallback as (
  select
    m.server_fingerprint as fingerprint,
    m.server_occurrence as occurrence,
    'fbp_match' as reason,
    m.browser_fingerprint as kept_fingerprint,
    m.browser_occurrence as kept_occurrence
  from fbp_matches as m
  union all
  select
    m.server_fingerprint,
    m.server_occurrence,
    'external_id_match',
    m.browser_fingerprint,
    m.browser_occurrence
  from ext_matches as m
  union all
  select
    m.browser_fingerprint,
    m.browser_occurrence,
    cast(null as varchar),
    m.browser_fingerprint,
    m.browser_occurrence
  from fbp_matches as m
  union all
  select
    m.browser_fingerprint,
    m.browser_occurrence,
    cast(null as varchar),
    m.browser_fingerprint,
    m.browser_occurrence
  from ext_matches as m
)
select
  p.fingerprint,
  p.occurrence,
  p.dedup_key,
  p.window_no,
  case when f.reason is not null then 'discarded' else p.verdict end as verdict,
  coalesce(f.reason, p.reason) as reason,
  p.merged or f.fingerprint is not null as merged,
  coalesce(f.kept_fingerprint, p.kept_fingerprint) as kept_fingerprint,
  coalesce(f.kept_occurrence, p.kept_occurrence) as kept_occurrence,
  p.same_channel_repeat
from provisional as p
left join fallback as f
  on f.fingerprint = p.fingerprint
  and f.occurrence = p.occurrence
