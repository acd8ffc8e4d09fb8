-- Daily numerators and denominators of every headline metric of the weekly drift, one row per UTC day
-- that has any of them. Each metric is a ratio of sums, so a week's value (sum over its days) is exactly
-- the report's figure for a scope covering that week (tests/core/test_drift.py checks this).
-- params: $date_from, $date_to (the series' bounds, timestamps), $pixel_id, $event_names (scope),
--   $event (the headline event, 'Purchase'), $kind (its truth kind, 'order'), and the EMQ weights of
--   capi_core.metrics.match_keys.EmqWeights.params(): $w_total, $w_em, $w_ph, $w_external_id, $w_fbc,
--   $w_fbp, $w_client_ip_address, $w_client_user_agent, $w_fn_ln, $w_ct, $w_st, $w_zp, $w_country, $w_db,
--   $w_ge
--
-- Sources, read from the derived tables so that the dedup model and the links are never recomputed:
--   dedup health (all events): merged conversions (copy_verdicts: counted and merged) by the kept copy's
--     event_time, as dedup_facts.sql; would-be pairs (would_be_pairs) by the browser copy's event_time,
--     as dedup_pairs_by_event.sql;
--   event coverage ($event): unique browser events sharing event_id, external_id or fbp with an accepted
--     server copy of the same pixel and name anywhere in the store / unique browser events, and the same
--     by event_id alone, by the event's first event_time (fragments/browser_events.sql, as
--     dedup_facts.sql; tests/core/test_drift.py pins a week's figures to the report's);
--   truth and estimated Meta ($event <-> $kind): eligible records of truth_verdicts by created_at and
--     counted copies of copy_truth_links by event_time (value policy total), as recon_base.sql;
--   estimated EMQ ($event): server website copies of copy_signal_checks, scored as quality_emq.sql;
--   delayed > 2 h (all server events): copies sent 2 h or more after event_time / copies with both times,
--     as quality_freshness.sql (within_24h + later over copies - unknown).
with
-- @include fragments/browser_events
facts as (
  -- every source's rows, each dated by the time it counts on (`dated_at`) and carrying its part of each
  -- sum (0 in the others): the date window and the day are applied once, below, instead of once per
  -- source (DuckDB pushes the window down through the union into each source's scan)
  select
    e.event_time as dated_at,
    case when v.merged and v.verdict = 'counted' then 1 else 0 end as merged_pairs,
    0 as would_be_pairs, 0 as browser_events, 0 as browser_covered, 0 as browser_id_covered,
    0 as truth_count, 0.0 as truth_value, 0 as meta_count, 0.0 as meta_value,
    0 as emq_copies, 0.0 as emq_score_sum, 0 as server_timed, 0 as server_delayed
  from events as e
  inner join copy_verdicts as v
    on v.fingerprint = e.fingerprint
    and v.occurrence = e.occurrence
  where (cast($pixel_id as varchar) is null or e.pixel_id = $pixel_id)
    and (cast($event_names as varchar[]) is null or list_contains($event_names, e.event_name))
  union all
  select b.first_event_time, 0, 0, 1, b.covered, b.id_covered, 0, 0.0, 0, 0.0, 0, 0.0, 0, 0
  from browser_events as b
  where b.event_name = $event
    and (cast($pixel_id as varchar) is null or b.pixel_id = $pixel_id)
    and (cast($event_names as varchar[]) is null or list_contains($event_names, b.event_name))
  union all
  select p.browser_event_time, 0, 1, 0, 0, 0, 0, 0.0, 0, 0.0, 0, 0.0, 0, 0
  from would_be_pairs as p
  where (cast($pixel_id as varchar) is null or p.browser_pixel_id = $pixel_id)
    and (cast($event_names as varchar[]) is null or list_contains($event_names, p.browser_event_name))
  union all
  select t.created_at, 0, 0, 0, 0, 0, 1, coalesce(t.value_total, 0.0), 0, 0.0, 0, 0.0, 0, 0
  from truth_verdicts as t
  where t.kind = $kind
    and t.eligible
  union all
  select l.event_time, 0, 0, 0, 0, 0, 0, 0.0, 1, coalesce(l.value, 0.0), 0, 0.0, 0, 0
  from copy_truth_links as l
  where l.dataset = $event
    and l.counted
    and (cast($pixel_id as varchar) is null or l.pixel_id = $pixel_id)
    and (cast($event_names as varchar[]) is null or list_contains($event_names, l.event_name))
  union all
  select
    c.event_time, 0, 0, 0, 0, 0, 0, 0.0, 0, 0.0,
    case when c.event_name = $event and c.action_source = 'website' then 1 else 0 end,
    case
      when c.event_name = $event and c.action_source = 'website' then
        -- the weighted score of quality_emq.sql, 'current' variant
        least(10.0, 10.0 * (
          case when c.em_ok then cast($w_em as double) else 0.0 end
          + case when c.ph_ok then cast($w_ph as double) else 0.0 end
          + case when c.external_id_ok then cast($w_external_id as double) else 0.0 end
          + case when c.fbc_ok then cast($w_fbc as double) else 0.0 end
          + case when c.fbp_ok then cast($w_fbp as double) else 0.0 end
          + case when c.client_ip_address_ok then cast($w_client_ip_address as double) else 0.0 end
          + case when c.client_user_agent_ok then cast($w_client_user_agent as double) else 0.0 end
          + case when c.fn_ok and c.ln_ok then cast($w_fn_ln as double) else 0.0 end
          + case when c.ct_ok then cast($w_ct as double) else 0.0 end
          + case when c.st_ok then cast($w_st as double) else 0.0 end
          + case when c.zp_ok then cast($w_zp as double) else 0.0 end
          + case when c.country_ok then cast($w_country as double) else 0.0 end
          + case when c.db_ok then cast($w_db as double) else 0.0 end
          + case when c.ge_ok then cast($w_ge as double) else 0.0 end
        ) / cast($w_total as double))
      else 0.0
    end,
    case when c.sent_at is not null then 1 else 0 end,
    -- date_diff is DuckDB's spelling, as in quality_freshness.sql
    case when c.sent_at is not null and date_diff('second', c.event_time, c.sent_at) >= 7200 then 1 else 0 end
  from copy_signal_checks as c
  where c.channel = 'server'
    and (cast($pixel_id as varchar) is null or c.pixel_id = $pixel_id)
    and (cast($event_names as varchar[]) is null or list_contains($event_names, c.event_name))
)
select
  cast(f.dated_at as date) as day,
  sum(f.merged_pairs) as merged_pairs,
  sum(f.would_be_pairs) as would_be_pairs,
  sum(f.browser_events) as browser_events,
  sum(f.browser_covered) as browser_covered,
  sum(f.browser_id_covered) as browser_id_covered,
  sum(f.truth_count) as truth_count,
  sum(f.truth_value) as truth_value,
  sum(f.meta_count) as meta_count,
  sum(f.meta_value) as meta_value,
  sum(f.emq_copies) as emq_copies,
  sum(f.emq_score_sum) as emq_score_sum,
  sum(f.server_timed) as server_timed,
  sum(f.server_delayed) as server_delayed
from facts as f
where f.dated_at >= $date_from
  and f.dated_at < $date_to
group by cast(f.dated_at as date)
order by day
