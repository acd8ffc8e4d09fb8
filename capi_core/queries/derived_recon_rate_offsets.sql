-- Key-flag counts to add to a dataset's join-key rates (derived table `recon_rate_offsets`): always empty
-- in the store. derived_recon_links.sql chooses each dataset's join key from the counts of every copy;
-- when an ingest recomputes the links of a few copies only, capi_core/derived.py shadows this table with
-- the counts of the copies it leaves as stored, so the choice is still made over the whole store.
-- params: none
select
  cast(null as varchar) as dataset,
  cast(null as varchar) as kind,
  cast(0 as bigint) as copies,
  cast(0 as bigint) as lead_linked,
  cast(0 as bigint) as order_linked,
  cast(0 as bigint) as event_linked,
  cast(0 as bigint) as token_linked
where false
