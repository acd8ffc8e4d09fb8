-- The dedup model's fallback pairs (SPEC §4; rule: fragments/one_to_one_pairs.sql), as CTEs `fbp_pairs`
-- and `ext_pairs` (server_fingerprint, server_occurrence, browser_fingerprint, browser_occurrence): first
-- on fbp, then on external_id among the copies fbp left unpaired. Included by dedup_model.sql (copies
-- without event_id: its verdicts) and dedup_key_merges.sql (copies with one: the lower bound of Meta's
-- count), so both apply one rule. The including query first defines `pair_copies` (fingerprint,
-- occurrence, channel, channel_rank: 0 browser / 1 server, pixel_key, name_key, received_at, fbp,
-- external_id): the copies that may pair. Ends without a comma.
fbp_pairs as (
  with
  pair_keys as (
    select
      c.fingerprint, c.occurrence, c.channel, c.channel_rank, c.pixel_key, c.name_key, c.received_at,
      c.fbp as match_key
    from pair_copies as c
  ),
  -- @include fragments/one_to_one_pairs
  select p.server_fingerprint, p.server_occurrence, p.browser_fingerprint, p.browser_occurrence
  from pairs as p
),
fbp_paired as (
  select p.server_fingerprint as fingerprint, p.server_occurrence as occurrence
  from fbp_pairs as p
  union all
  select p.browser_fingerprint, p.browser_occurrence
  from fbp_pairs as p
),
ext_pairs as (
  with
  pair_keys as (
    select
      c.fingerprint, c.occurrence, c.channel, c.channel_rank, c.pixel_key, c.name_key, c.received_at,
      c.external_id as match_key
    from pair_copies as c
    where not exists (
      select 1
      from fbp_paired as m
      where m.fingerprint = c.fingerprint
        and m.occurrence = c.occurrence
    )
  ),
  -- @include fragments/one_to_one_pairs
  select p.server_fingerprint, p.server_occurrence, p.browser_fingerprint, p.browser_occurrence
  from pairs as p
)
