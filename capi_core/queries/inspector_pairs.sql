-- Would-be pairs (derived table would_be_pairs) with either copy among the given copies.
-- params: $refs (varchar[] of 'fingerprint:occurrence')
select
-- @include fragments/would_be_pair_columns
from would_be_pairs as p
where list_contains(cast($refs as varchar[]), p.browser_fingerprint || ':' || cast(p.browser_occurrence as varchar))
  or list_contains(cast($refs as varchar[]), p.server_fingerprint || ':' || cast(p.server_occurrence as varchar))
