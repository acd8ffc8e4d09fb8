"""Consent and Limited Data Use per event_name x channel (SPEC §4, reference §7).

CAPI has no consent field: gating is the sender's job, so copies sent for denied users and identifiable
copies whose consent nobody logged are what this reports. SQL: ``queries/quality_consent.sql``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from capi_core.metrics.quality_sql import examples, run_quality
from capi_core.models import Scope
from capi_core.store import Store


class ConsentRow(BaseModel):
    """Consent figures of one event_name x channel (x pixel when asked)."""

    model_config = ConfigDict(frozen=True)

    pixel_id: str | None = None
    event_name: str | None
    channel: str
    copies: int
    denied: int  # sent although the user's consent is denied
    identifiable_unknown: int  # carrying em, ph or external_id with unknown consent
    ldu: int  # data_processing_options contains LDU
    denied_examples: list[str]


def consent(store: Store, scope: Scope, *, by_pixel: bool = False) -> list[ConsentRow]:
    """Denied, unknown-but-identifiable and LDU copies per event_name x channel."""
    rows = run_quality(store, "quality_consent", scope, by_pixel=by_pixel)
    result = [ConsentRow(**{**row, "denied_examples": examples(row["denied_examples"])}) for row in rows]
    return sorted(result, key=lambda r: (r.pixel_id or "", r.event_name or "", r.channel))
