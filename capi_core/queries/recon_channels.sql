-- Orders per sales channel (over fragments/recon_base.sql): the records in scope from each channel, those whose status alone would make them eligible, and whether the channel is one no pixel sees (truth_current.channel_excluded).
-- params: those of fragments/recon_base.sql
with
-- @include fragments/recon_base
select
  sales_channel,
  count(*) as records,
  sum(case when status_eligible then 1 else 0 end) as status_eligible,
  coalesce(bool_or(channel_excluded), false) as excluded
from records
where sales_channel is not null
group by sales_channel
order by sales_channel
