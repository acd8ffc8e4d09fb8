-- PLACEHOLDER dedup model: every copy counted (replaced by the real model).
select fingerprint, occurrence, 'counted' as verdict, cast(null as varchar) as reason
from events
