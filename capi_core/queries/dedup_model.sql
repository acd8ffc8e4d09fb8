-- Meta's dedup model (SPEC §4, reference §1): one verdict per events row, over the whole store.
-- params: none (derived.refresh wraps this select in `create table copy_verdicts as`)
--
-- Keyed copies (pixel_id, exact event_name, event_id) are ordered by received_at, then browser first,
-- then fingerprint, occurrence (deterministic). The first copy anchors a 48 h window (a copy with
-- received_at <= anchor + 48 h is inside); the first copy after it anchors the next window, and so on.
-- A window with both channels counts one copy: the first browser copy when the first browser and first
-- server copies arrived within 5 minutes of each other, otherwise the window's first copy; the other
-- copies are discarded. A one-channel window counts every copy and flags the repeats.
--
-- Speed (runs after every ingest over the whole store): one hash aggregate gives every key its facts.
-- Keys with at most one copy per channel (nearly all: a lone copy or a browser + server pair) are decided
-- from those facts alone; only keys repeating a channel are sorted; only keys spanning more than 48 h
-- enter the recursion.
--
-- Why a recursive CTE: window k+1 is anchored on the first copy after anchor_k + 48 h, and anchor_k
-- depends on every earlier anchor, so the chain is not a function of a copy and its neighbours (no
-- lag/lead, gap or fixed time bucket reproduces it: copies at 0 h, 40 h, 60 h, 100 h form windows at 0 h
-- and 60 h, while no gap between them exceeds 48 h). The recursion walks windows, not copies: a window
-- function tells every copy how many copies of its key lie within its own 48 h (`inside`), so the next
-- anchor of a window anchored on copy n is copy inside(n) + 1. Its depth is the number of windows of the
-- longest-lived key (a reused id like 'undefined' over a year: ~180), never its number of copies.
--
-- Copies without event_id: a server copy is discarded when it pairs one-to-one with an earlier browser
-- copy (received at most 48 h before it) with the same pixel_id, event_name and fbp; server copies left
-- unpaired then try the same with external_id. Browser copies that can absorb a server copy: counted
-- browser copies that are not the kept copy of a merged event_id window (with or without event_id).
-- Pairing rule (fragments/fallback_pairs.sql, shared with dedup_key_merges.sql), per pixel_id, event_name
-- and key value, on one timeline ordered like the keyed copies:
-- the timeline is cut into runs, a run being consecutive browser copies followed by the server copies
-- received before the next browser copy; in a run of m browser and k server copies, p = min(m, k) pairs
-- are formed: the first p server copies with the last p browser copies, in order (Meta compares a server
-- event with "the previously received browser event"). A pair more than 48 h apart is not formed.
-- Browser copies left over in a run are not offered to later runs: an approximation of greedy matching,
-- which would need a recursion over every copy of a timeline.
--
-- Copies whose logged response is a Graph error (response_error_code set, e.g. 100/2804003 for a stale
-- event) were rejected: Meta never received them (reference §3.2: an invalid event fails its whole
-- request), so they open no window, pair with nothing and are discarded with reason rejected_by_meta.
-- Copies with null received_at cannot be placed in any window: counted, window_no null, never paired.
-- A null pixel_id or event_name takes part in the key as an empty string.
with recursive
base as (
  select
    e.fingerprint,
    e.occurrence,
    e.channel,
    coalesce(e.pixel_id, '') as pixel_key,
    coalesce(e.event_name, '') as name_key,
    e.received_at,
    e.fbp,
    e.external_id,
    case
      when e.event_id is not null
        then coalesce(e.pixel_id, '') || chr(31) || coalesce(e.event_name, '') || chr(31) || e.event_id
    end as dedup_key,
    e.event_id is null as no_event_id
  from events as e
  where e.response_error_code is null
),
-- per key: copies per channel, first receipt per channel, and the copy when a channel has only one
key_facts as (
  select
    b.dedup_key,
    min(b.received_at) as first_at,
    max(b.received_at) as last_at,
    sum(case when b.channel = 'browser' then 1 else 0 end) as browser_copies,
    sum(case when b.channel = 'server' then 1 else 0 end) as server_copies,
    min(case when b.channel = 'browser' then b.received_at end) as browser_at,
    min(case when b.channel = 'server' then b.received_at end) as server_at,
    min(case when b.channel = 'browser' then b.fingerprint end) as browser_fingerprint,
    min(case when b.channel = 'browser' then b.occurrence end) as browser_occurrence,
    min(case when b.channel = 'server' then b.fingerprint end) as server_fingerprint,
    min(case when b.channel = 'server' then b.occurrence end) as server_occurrence
  from base as b
  where b.dedup_key is not null
    and b.received_at is not null
  group by b.dedup_key
),
keyed as materialized (
  select
    b.fingerprint,
    b.occurrence,
    b.channel,
    b.received_at,
    b.dedup_key,
    k.first_at,
    k.last_at,
    k.browser_copies,
    k.server_copies,
    k.browser_fingerprint,
    k.browser_occurrence,
    k.server_fingerprint,
    k.server_occurrence,
    -- the channel kept when the key's (first) window has both channels: the browser copy when it
    -- arrived first or at most 5 minutes after the server copy, else the first (server) copy
    case
      when k.browser_at is null or k.server_at is null then null
      when k.browser_at <= k.server_at + interval '5 minutes' then 'browser'
      else 'server'
    end as kept_channel
  from base as b
  inner join key_facts as k
    on k.dedup_key = b.dedup_key
  where b.received_at is not null
),
-- keys with at most one copy per channel: one copy, or a browser + server pair (one window when at
-- most 48 h apart, else one window each, both counted)
simple_verdicts as (
  select
    s.fingerprint,
    s.occurrence,
    s.dedup_key,
    case when s.one_window or s.received_at = s.first_at then 1 else 2 end as window_no,
    case when s.merged and s.channel <> s.kept_channel then 'discarded' else 'counted' end as verdict,
    case when s.merged and s.channel <> s.kept_channel then 'duplicate_of_' || s.kept_channel end as reason,
    s.merged,
    case
      when s.merged and s.kept_channel = 'browser' then s.browser_fingerprint
      when s.merged then s.server_fingerprint
      else s.fingerprint
    end as kept_fingerprint,
    case
      when s.merged and s.kept_channel = 'browser' then s.browser_occurrence
      when s.merged then s.server_occurrence
      else s.occurrence
    end as kept_occurrence,
    false as same_channel_repeat
  from (
    select
      k.fingerprint,
      k.occurrence,
      k.channel,
      k.received_at,
      k.dedup_key,
      k.first_at,
      k.kept_channel,
      k.browser_fingerprint,
      k.browser_occurrence,
      k.server_fingerprint,
      k.server_occurrence,
      k.last_at <= k.first_at + interval '48 hours' as one_window,
      k.kept_channel is not null and k.last_at <= k.first_at + interval '48 hours' as merged
    from keyed as k
    where k.browser_copies <= 1
      and k.server_copies <= 1
  ) as s
),
-- keys repeating a channel: numbered in dedup order (the only sort of the model)
timed as materialized (
  select
    k.fingerprint,
    k.occurrence,
    k.channel,
    k.received_at,
    k.dedup_key,
    k.last_at > k.first_at + interval '48 hours' as multi_window,
    k.kept_channel,
    row_number() over (
      partition by k.dedup_key
      order by k.received_at, k.channel_rank, k.fingerprint, k.occurrence
    ) as seq,
    -- copies of the same channel before this one (0: the first copy of its channel)
    case
      when k.channel = 'browser' then count(case when k.channel_rank = 0 then 1 end) over (
        partition by k.dedup_key
        order by k.received_at, k.channel_rank, k.fingerprint, k.occurrence
        rows between unbounded preceding and 1 preceding
      )
      else count(case when k.channel_rank = 1 then 1 end) over (
        partition by k.dedup_key
        order by k.received_at, k.channel_rank, k.fingerprint, k.occurrence
        rows between unbounded preceding and 1 preceding
      )
    end as channel_before
  from (
    select
      r.fingerprint,
      r.occurrence,
      r.channel,
      case when r.channel = 'browser' then 0 else 1 end as channel_rank,
      r.received_at,
      r.dedup_key,
      r.first_at,
      r.last_at,
      r.kept_channel
    from keyed as r
    where r.browser_copies > 1
      or r.server_copies > 1
  ) as k
),
-- keys spanning more than 48 h: each copy learns how many copies of its key lie within its own 48 h
multi as (
  select
    t.fingerprint,
    t.occurrence,
    t.channel,
    t.received_at,
    t.dedup_key,
    t.seq,
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
    m.received_at,
    m.dedup_key,
    m.seq,
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
-- copies of repeating keys with their window: first copy of the window, kept channel, copies before
window_facts as (
  select
    t.fingerprint,
    t.occurrence,
    t.channel,
    t.dedup_key,
    1 as window_no,
    t.seq = 1 as window_first,
    t.kept_channel,
    t.channel_before
  from timed as t
  where not t.multi_window
  union all
  select
    w.fingerprint,
    w.occurrence,
    w.channel,
    w.dedup_key,
    w.window_no,
    w.seq = w.first_seq,
    case
      when w.browser_at is null or w.server_at is null then null
      when w.browser_at <= w.server_at + interval '5 minutes' then 'browser'
      else 'server'
    end,
    w.channel_before
  from (
    select
      x.fingerprint,
      x.occurrence,
      x.channel,
      x.received_at,
      x.dedup_key,
      x.window_no,
      x.seq,
      min(x.seq) over (partition by x.dedup_key, x.window_no) as first_seq,
      min(case when x.channel = 'browser' then x.received_at end) over (
        partition by x.dedup_key, x.window_no
      ) as browser_at,
      min(case when x.channel = 'server' then x.received_at end) over (
        partition by x.dedup_key, x.window_no
      ) as server_at,
      count(*) over (
        partition by x.dedup_key, x.window_no, x.channel
        order by x.seq
        rows between unbounded preceding and 1 preceding
      ) as channel_before
    from multi_windowed as x
  ) as w
),
window_verdicts as materialized (
  select
    f.fingerprint,
    f.occurrence,
    f.channel,
    f.dedup_key,
    f.window_no,
    f.window_first,
    f.kept_channel,
    f.kept_channel = f.channel and f.channel_before = 0 as is_kept
  from window_facts as f
),
-- every copy with its event_id verdict (copies without event_id or receipt time: counted for now)
provisional as materialized (
  select
    s.fingerprint,
    s.occurrence,
    s.dedup_key,
    s.window_no,
    s.verdict,
    s.reason,
    s.merged,
    s.kept_fingerprint,
    s.kept_occurrence,
    s.same_channel_repeat
  from simple_verdicts as s
  union all
  -- a window with both channels counts its kept copy (k) and discards the others for it; a one-channel
  -- window (kept_channel null, no k) counts every copy and flags the repeats
  select
    v.fingerprint,
    v.occurrence,
    v.dedup_key,
    v.window_no,
    case when v.kept_channel is null or v.is_kept then 'counted' else 'discarded' end,
    case
      when v.kept_channel is null or v.is_kept then null
      when v.channel = v.kept_channel then 'repeat_in_merged_window'
      else 'duplicate_of_' || v.kept_channel
    end,
    v.kept_channel is not null,
    coalesce(k.fingerprint, v.fingerprint),
    coalesce(k.occurrence, v.occurrence),
    v.kept_channel is null and not v.window_first
  from window_verdicts as v
  left join window_verdicts as k
    on k.dedup_key = v.dedup_key
    and k.window_no = v.window_no
    and k.is_kept
  union all
  select
    b.fingerprint,
    b.occurrence,
    b.dedup_key,
    cast(null as bigint),
    'counted',
    cast(null as varchar),
    false,
    b.fingerprint,
    b.occurrence,
    false
  from base as b
  where b.dedup_key is null
    or b.received_at is null
),
-- the copies fragments/fallback_pairs.sql may pair: server copies without event_id, and browser copies
-- that can absorb one (counted, not the kept copy of a merged event_id window). The verdict steps above
-- carry only the columns they decide on; the pairing columns are read from base here.
pair_copies as (
  select
    b.fingerprint,
    b.occurrence,
    b.channel,
    case when b.channel = 'browser' then 0 else 1 end as channel_rank,
    b.pixel_key,
    b.name_key,
    b.received_at,
    b.fbp,
    b.external_id
  from base as b
  inner join provisional as p
    on p.fingerprint = b.fingerprint
    and p.occurrence = b.occurrence
  where b.received_at is not null
    and (
      (b.channel = 'server' and b.no_event_id)
      or (b.channel = 'browser' and p.verdict = 'counted' and not p.merged)
    )
),
-- @include fragments/fallback_pairs
,
-- one row per copy taking part in a fallback match (each copy is in at most one)
fallback as (
  select
    m.server_fingerprint as fingerprint,
    m.server_occurrence as occurrence,
    'fbp_match' as reason,
    m.browser_fingerprint as kept_fingerprint,
    m.browser_occurrence as kept_occurrence
  from fbp_pairs as m
  union all
  select
    m.server_fingerprint,
    m.server_occurrence,
    'external_id_match',
    m.browser_fingerprint,
    m.browser_occurrence
  from ext_pairs as m
  union all
  select
    m.browser_fingerprint,
    m.browser_occurrence,
    cast(null as varchar),
    m.browser_fingerprint,
    m.browser_occurrence
  from fbp_pairs as m
  union all
  select
    m.browser_fingerprint,
    m.browser_occurrence,
    cast(null as varchar),
    m.browser_fingerprint,
    m.browser_occurrence
  from ext_pairs as m
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
union all
select
  e.fingerprint,
  e.occurrence,
  case
    when e.event_id is not null
      then coalesce(e.pixel_id, '') || chr(31) || coalesce(e.event_name, '') || chr(31) || e.event_id
  end as dedup_key,
  cast(null as integer) as window_no,
  'discarded' as verdict,
  'rejected_by_meta' as reason,
  false as merged,
  cast(null as varchar) as kept_fingerprint,
  cast(null as integer) as kept_occurrence,
  false as same_channel_repeat
from events as e
where e.response_error_code is not null
