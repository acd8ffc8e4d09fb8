-- Join-key resolution (continues recon_base.sql): per candidate key, copies linked to a truth record, and the chosen key.
-- params: those of recon_base.sql
select
  kr.method,
  kr.key_rank,
  kr.linked,
  kr.copies,
  coalesce(kr.method = ck.method, false) as chosen
from key_rates kr
left join chosen_key ck
  on ck.method = kr.method
order by kr.key_rank
