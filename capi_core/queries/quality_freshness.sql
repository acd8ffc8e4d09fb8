-- Freshness of server copies: delay (sent_at - event_time) by bucket, median and p95, per event_name
-- plus one total row (is_total); copies without sent_at or event_time are 'unknown'.
-- Buckets follow Meta's data-freshness guidance: real time (< 1 h), 1-2 h, 2-24 h, 24 h or more.
-- params: $date_from, $date_to, $pixel_id, $event_names, $by_pixel (false: pixel_id is null)
with
-- @include fragments/copy_checks
,
delays as (
  select
    case when $by_pixel then c.pixel_id end as pixel_id,
    c.event_name,
    c.example_id,
    -- date_diff is DuckDB's spelling (Spark: unix_timestamp difference)
    case
      when c.sent_at is not null and c.event_time is not null
        then date_diff('second', c.event_time, c.sent_at)
    end as delay_s
  from copy_checks c
  where c.channel = 'server'
)
select
  d.pixel_id,
  d.event_name,
  grouping(d.event_name) = 1 as is_total,
  count(*) as copies,
  count(*) filter (where d.delay_s < 3600) as real_time,
  count(*) filter (where d.delay_s >= 3600 and d.delay_s < 7200) as within_2h,
  count(*) filter (where d.delay_s >= 7200 and d.delay_s < 86400) as within_24h,
  count(*) filter (where d.delay_s >= 86400) as later,
  count(*) filter (where d.delay_s is null) as unknown,
  percentile_cont(0.5) within group (order by d.delay_s) as median_delay_s,
  percentile_cont(0.95) within group (order by d.delay_s) as p95_delay_s,
  -- DuckDB: the 5 smallest values (no standard bounded form)
  min(d.example_id, 5) filter (where d.delay_s >= 7200 and d.delay_s < 86400) as examples_2h,
  min(d.example_id, 5) filter (where d.delay_s >= 86400) as examples_24h
from delays d
group by
  d.pixel_id,
  grouping sets ((d.event_name), ())
