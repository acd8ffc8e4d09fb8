-- The dedup model's one-to-one pairing of server copies with earlier browser copies on one key, as CTEs
-- ending in `pairs` (server_fingerprint, server_occurrence, browser_fingerprint, browser_occurrence).
-- Included twice by fragments/fallback_pairs.sql (fbp, then external_id), each time in a nested WITH of
-- its own CTE (so the names below do not collide), after a CTE `pair_keys` (fingerprint, occurrence,
-- channel, channel_rank: 0 browser / 1 server, pixel_key, name_key, received_at, match_key: the key's
-- value); ends without a comma.
--
-- Rule (dedup_model.sql's header): per pixel_id, event_name and key value, one timeline ordered like the
-- keyed copies (received_at, browser first, fingerprint, occurrence) is cut into runs, a run being
-- consecutive browser copies followed by the server copies received before the next browser copy; a run
-- of m browser and k server copies pairs its first min(m, k) server copies with its last min(m, k)
-- browser copies, in order. A pair more than 48 h apart is not formed. Browser copies are on the timeline
-- only where a server copy shares their key value.
pair_timeline as (
  select
    t.fingerprint,
    t.occurrence,
    t.channel,
    t.received_at,
    t.pixel_key || chr(31) || t.name_key || chr(31) || t.match_key as match_group,
    row_number() over (
      partition by t.pixel_key, t.name_key, t.match_key
      order by t.received_at, t.channel_rank, t.fingerprint, t.occurrence
    ) as pos
  from (
    select
      s.fingerprint, s.occurrence, s.channel, s.channel_rank, s.pixel_key, s.name_key, s.received_at,
      s.match_key
    from pair_keys as s
    where s.channel = 'server'
      and s.match_key is not null
    union all
    select
      b.fingerprint, b.occurrence, b.channel, b.channel_rank, b.pixel_key, b.name_key, b.received_at,
      b.match_key
    from pair_keys as b
    where b.channel = 'browser'
      and exists (
        select 1
        from pair_keys as s
        where s.channel = 'server'
          and s.pixel_key = b.pixel_key
          and s.name_key = b.name_key
          and s.match_key = b.match_key
      )
  ) as t
),
-- runs of one timeline: a run starts at a browser copy that follows a server copy (or opens the group)
pair_runs as (
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
    from pair_timeline as l
  ) as t
),
pair_ranked as (
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
  from pair_runs as r
  window run as (partition by r.match_group, r.run_no)
),
pairs as (
  select
    s.fingerprint as server_fingerprint,
    s.occurrence as server_occurrence,
    b.fingerprint as browser_fingerprint,
    b.occurrence as browser_occurrence
  from pair_ranked as s
  inner join pair_ranked as b
    on b.match_group = s.match_group
    and b.run_no = s.run_no
    and b.channel = 'browser'
    and b.idx = s.browsers - least(s.browsers, s.servers) + s.idx
  where s.channel = 'server'
    and s.run_no > 0
    and s.idx <= least(s.browsers, s.servers)
    and s.received_at <= b.received_at + interval '48 hours'
)
