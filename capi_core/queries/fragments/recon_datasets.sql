-- The datasets reconciled against truth, as a CTE `datasets (dataset, kind, name_key)`; included by
-- fragments/recon_copies.sql (for derived_recon_links.sql and derived_recon_match_keys.sql). The lead
-- dataset's event is a per-store setting (reconcile.LEAD_EVENT_SETTING), 'Lead' when unset.
datasets as (
  select dataset, kind, lower(replace(trim(dataset), ' ', '')) as name_key
  from (
    select coalesce(nullif(trim(s.value), ''), d.default_dataset) as dataset, d.kind
    from (values ('Purchase', 'order'), ('Lead', 'lead')) as d (default_dataset, kind)
    left join settings s
      on d.kind = 'lead'
      and s.key = 'lead_event_name'
  ) configured
),
