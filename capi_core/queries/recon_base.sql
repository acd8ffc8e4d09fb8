-- Reconciliation base, a CTE chain continued by recon_join_key.sql or recon_links.sql: the latest truth row per record, the copies of the reconciled event, their key links and the chosen join key.
-- params: $date_from, $date_to, $pixel_id, $event_names (scope), $event_name, $kind, $min_key_rate
--
-- Not a statement on its own: Python prepends it to the query that continues the chain, so every
-- reconciliation metric shares one definition of "record", "copy" and "link" (for Spark, the same
-- chain becomes temporary views).
with truth_versions as (
  -- overlapping exports repeat a record with an updated status: the latest batch wins, then the
  -- highest line of that batch
  select
    t.truth_id, t.raw_id, t.created_at, t.paid_at, t.status, t.value, t.subtotal, t.currency, t.em, t.fbp,
    row_number() over (
      partition by t.kind, t.truth_id
      order by t.batch_id desc, t.line_no desc, t.fingerprint desc
    ) as version_rank
  from truth t
  where t.kind = $kind
    and t.truth_id is not null
),
truth_latest as (
  select truth_id, raw_id, created_at, paid_at, status, value, subtotal, currency, em, fbp
  from truth_versions
  where version_rank = 1
),
truth_window as (
  -- the period the truth export covers (unscoped): phantoms far outside it are an export gap
  select min(created_at) as first_created, max(created_at) as last_created
  from truth_latest
),
records as (
  select truth_id, raw_id, created_at, paid_at, status, value, subtotal, currency, em, fbp
  from truth_latest t
  where (cast($date_from as timestamp) is null or t.created_at >= $date_from)
    and (cast($date_to as timestamp) is null or t.created_at < $date_to)
),
copies as materialized (
  -- copies under a case or spacing variant of the name reached Meta too: they belong here, flagged
  select
    e.fingerprint, e.occurrence, e.channel, e.pixel_id, e.event_name, e.event_id, e.order_id,
    e.event_name <> $event_name as name_variant,
    -- the truth_id normalization of canonical.normalize_truth_id (trim, lowercase, leading '#');
    -- ltrim(text, chars) is DuckDB's form
    nullif(trim(ltrim(lower(trim(e.order_id)), '#')), '') as order_key,
    nullif(trim(ltrim(lower(trim(e.event_id)), '#')), '') as event_key,
    e.fbp, e.em, e.event_time, e.received_at, e.value, e.currency, e.consent, e.test_event_code,
    v.verdict = 'counted' as counted,
    coalesce(v.merged, false) as merged,
    coalesce(v.kept_fingerprint, e.fingerprint) as kept_fingerprint,
    coalesce(v.kept_occurrence, e.occurrence) as kept_occurrence,
    v.dedup_key,
    v.window_no
  from events e
  join copy_verdicts v
    on v.fingerprint = e.fingerprint
    and v.occurrence = e.occurrence
  where (cast($date_from as timestamp) is null or e.event_time >= $date_from)
    and (cast($date_to as timestamp) is null or e.event_time < $date_to)
    and (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
    and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
    and lower(replace(trim(e.event_name), ' ', '')) = lower(replace(trim($event_name), ' ', ''))
),
copy_total as (
  select count(*) as copies
  from copies
),
event_tokens as (
  -- a token is a maximal run of letters and digits (split on anything else), or a maximal run of
  -- letters, digits and dashes (so ids containing dashes still match); regexp_split_to_array and
  -- unnest are DuckDB's forms of Spark's split / explode
  select distinct fingerprint, occurrence, token
  from (
    select c.fingerprint, c.occurrence, unnest(regexp_split_to_array(c.event_key, '[^a-z0-9]+')) as token
    from copies c
    where c.event_key is not null
    union all
    select c.fingerprint, c.occurrence, unnest(regexp_split_to_array(c.event_key, '[^a-z0-9-]+')) as token
    from copies c
    where c.event_key is not null
  ) split_ids
  where token <> ''
),
key_links as materialized (
  select c.fingerprint, c.occurrence, r.truth_id, 'order_id' as method, 1 as key_rank
  from copies c
  join records r
    on r.truth_id = c.order_key
  union all
  select c.fingerprint, c.occurrence, r.truth_id, 'event_id' as method, 2 as key_rank
  from copies c
  join records r
    on r.truth_id = c.event_key
  union all
  select t.fingerprint, t.occurrence, r.truth_id, 'event_id_token' as method, 3 as key_rank
  from event_tokens t
  join records r
    on r.truth_id = t.token
),
key_methods as (
  select method, key_rank
  from (values ('order_id', 1), ('event_id', 2), ('event_id_token', 3)) as m (method, key_rank)
),
key_linked_copies as (
  select method, fingerprint, occurrence
  from key_links
  group by method, fingerprint, occurrence
),
key_rates as (
  select m.method, m.key_rank, count(k.fingerprint) as linked, max(ct.copies) as copies
  from key_methods m
  cross join copy_total ct
  left join key_linked_copies k
    on k.method = m.method
  group by m.method, m.key_rank
),
chosen_key as (
  -- the first key in SPEC order that links at least $min_key_rate of the copies, else the key that
  -- links the most; none when no copy links at all
  select method, key_rank, linked, copies
  from key_rates
  where linked > 0
  order by
    case when linked >= $min_key_rate * copies then 0 else 1 end,
    case when linked >= $min_key_rate * copies then key_rank else 0 end,
    linked desc,
    key_rank
  limit 1
)
