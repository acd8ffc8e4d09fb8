"""Consent and Limited Data Use per event_name x channel (SPEC §4, reference §7).

CAPI has no consent field: gating is the sender's job, so copies sent for denied users and identifiable
copies whose consent nobody logged are what this reports. SQL: ``queries/quality_consent.sql``, always
per pixel (one memoized computation serves the report and CONSENT_DENIED_SENT); the all-pixel figures
are sums of the per-pixel ones and their examples the smallest of the per-pixel ones.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from capi_core.metrics.quality_sql import examples, run_quality
from capi_core.models import Scope
from capi_core.store import Store

_EXAMPLES = 5  # example ids per row, as the SQL keeps them


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
    rows = run_quality(store, "quality_consent", scope)
    result = [ConsentRow(**{**row, "denied_examples": examples(row["denied_examples"])}) for row in rows]
    if not by_pixel:
        result = _across_pixels(result)
    return sorted(result, key=lambda r: (r.pixel_id or "", r.event_name or "", r.channel))


def _across_pixels(rows: list[ConsentRow]) -> list[ConsentRow]:
    """Rows summed over pixels (pixel_id None), keeping the 5 smallest denied example ids.

    Python's string order is code point order, the same as DuckDB's byte order of UTF-8 text, so the
    examples are those SQL's ``min(example_id, 5)`` would pick over all pixels at once.
    """
    merged: dict[tuple[str | None, str], ConsentRow] = {}
    for row in rows:
        key = (row.event_name, row.channel)
        found = merged.get(key)
        if found is None:
            merged[key] = row.model_copy(update={"pixel_id": None})
            continue
        merged[key] = found.model_copy(
            update={
                "copies": found.copies + row.copies,
                "denied": found.denied + row.denied,
                "identifiable_unknown": found.identifiable_unknown + row.identifiable_unknown,
                "ldu": found.ldu + row.ldu,
                "denied_examples": sorted([*found.denied_examples, *row.denied_examples])[:_EXAMPLES],
            }
        )
    return list(merged.values())
