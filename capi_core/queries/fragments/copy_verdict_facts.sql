-- Fragment (select-list items, not CTEs): the dedup facts of one copy that dedup.copy_verdict's
-- explanation reads, from its copy_verdicts row (alias v) and the kept copy's events row (alias k, the
-- row of v.kept_fingerprint, v.kept_occurrence); shared by dedup_copy_verdict.sql (one copy) and
-- inspector_copies.sql (the copies a search found), whose select it fills. It ends with a comma: the
-- includer's own items follow.
  v.dedup_key,
  v.window_no,
  v.verdict,
  v.reason,
  v.merged,
  v.kept_fingerprint,
  v.kept_occurrence,
  v.same_channel_repeat,
  k.channel as kept_channel,
  k.received_at as kept_received_at,
