-- Consent per event_name x channel: copies sent for users whose consent is denied, identifiable copies
-- (carrying em, ph or external_id) with unknown consent, and copies with Limited Data Use on.
-- Always per pixel: capi_core.metrics.consent sums pixels away when asked.
-- params: $date_from, $date_to, $pixel_id, $event_names
with
-- @include fragments/copy_checks
select
  c.pixel_id,
  c.event_name,
  c.channel,
  count(*) as copies,
  count(*) filter (where c.consent = 'denied') as denied,
  count(*) filter (
    where c.consent = 'unknown'
      and (c.em_check <> 'missing' or c.ph_check <> 'missing' or c.external_id_check <> 'missing')
  ) as identifiable_unknown,
  -- data_processing_options is stored comma-joined ('LDU', '' or null)
  count(*) filter (
    where ',' || upper(replace(c.data_processing_options, ' ', '')) || ',' like '%,LDU,%'
  ) as ldu,
  min(c.example_id, 5) filter (where c.consent = 'denied') as denied_examples  -- DuckDB: 5 smallest
from copy_checks c
group by
  c.pixel_id,
  c.event_name,
  c.channel
