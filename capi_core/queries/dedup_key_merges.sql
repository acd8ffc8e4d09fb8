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
-- received in the past 48 hours"). Pairs are one-to-one, with the dedup model's rule (dedup_model.sql):
-- on one timeline per pixel, name and key value, a run is consecutive browser copies followed by the
-- server copies received before the next browser copy; a run of m browser and k server copies pairs its
-- first min(m, k) server copies with its last min(m, k) browser copies, in order.
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
candidates as (
  select
    c.fingerprint,
    c.occurrence,
    c.channel,
    c.channel_rank,
    c.pixel_key,
    c.name_key,
    c.received_at,
    c.fbp,
    c.external_id
  from copies as c
  where c.channel = 'server'
),
partners as (
  select
    c.fingerprint,
    c.occurrence,
    c.channel,
    c.channel_rank,
    c.pixel_key,
    c.name_key,
    c.received_at,
    c.fbp,
    c.external_id
  from copies as c
  where c.channel = 'browser'
),
fbp_timeline as (
  select
    t.fingerprint,
    t.occurrence,
    t.channel,
    t.received_at,
    t.pixel_key || chr(31) || t.name_key || chr(31) || t.fbp as match_group,
    row_number() over (
      partition by t.pixel_key, t.name_key, t.fbp
      order by t.received_at, t.channel_rank, t.fingerprint, t.occurrence
    ) as pos
  from (
    select s.fingerprint, s.occurrence, s.channel, s.channel_rank, s.pixel_key, s.name_key, s.received_at, s.fbp
    from candidates as s
    where s.fbp is not null
    union all
    select b.fingerprint, b.occurrence, b.channel, b.channel_rank, b.pixel_key, b.name_key, b.received_at, b.fbp
    from partners as b
    where exists (
      select 1
      from candidates as s
      where s.pixel_key = b.pixel_key
        and s.name_key = b.name_key
        and s.fbp = b.fbp
    )
  ) as t
),
-- a run starts at a browser copy that follows a server copy (or opens the group)
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
fbp_pairs as (
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
-- candidates and partners left unpaired by fbp, on their external_id
ext_candidates as (
  select s.fingerprint, s.occurrence, s.channel, s.channel_rank, s.pixel_key, s.name_key, s.received_at,
    s.external_id
  from candidates as s
  where s.external_id is not null
    and not exists (
      select 1
      from fbp_pairs as p
      where p.server_fingerprint = s.fingerprint
        and p.server_occurrence = s.occurrence
    )
),
ext_timeline as (
  select
    t.fingerprint,
    t.occurrence,
    t.channel,
    t.received_at,
    t.pixel_key || chr(31) || t.name_key || chr(31) || t.external_id as match_group,
    row_number() over (
      partition by t.pixel_key, t.name_key, t.external_id
      order by t.received_at, t.channel_rank, t.fingerprint, t.occurrence
    ) as pos
  from (
    select s.fingerprint, s.occurrence, s.channel, s.channel_rank, s.pixel_key, s.name_key, s.received_at,
      s.external_id
    from ext_candidates as s
    union all
    select b.fingerprint, b.occurrence, b.channel, b.channel_rank, b.pixel_key, b.name_key, b.received_at,
      b.external_id
    from partners as b
    where exists (
        select 1
        from ext_candidates as s
        where s.pixel_key = b.pixel_key
          and s.name_key = b.name_key
          and s.external_id = b.external_id
      )
      and not exists (
        select 1
        from fbp_pairs as p
        where p.browser_fingerprint = b.fingerprint
          and p.browser_occurrence = b.occurrence
      )
  ) as t
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
ext_pairs as (
  select
    s.fingerprint as server_fingerprint,
    s.occurrence as server_occurrence
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
