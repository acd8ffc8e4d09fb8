"""Freshness of server copies (SPEC §4, reference §5): delay from event to send, by bucket.

Buckets follow Meta's data-freshness guidance (real time under 1 h; past 2 h performance drops; from
24 h attribution suffers). The SQL is ``queries/quality_freshness.sql``; this module only shapes rows.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from capi_core.metrics.quality_sql import examples, run_quality
from capi_core.models import Scope
from capi_core.store import Store


class FreshnessRow(BaseModel):
    """Server-copy delays (sent_at - event_time) of one event, or of all events when ``is_total``."""

    model_config = ConfigDict(frozen=True)

    pixel_id: str | None = None
    event_name: str | None
    is_total: bool
    copies: int
    real_time: int  # < 1 h
    within_2h: int  # 1 h to < 2 h
    within_24h: int  # 2 h to < 24 h
    later: int  # 24 h or more
    unknown: int  # no sent_at (or no event_time)
    median_delay_s: float | None
    p95_delay_s: float | None
    examples_2h: list[str]  # copies 2 h to < 24 h late
    examples_24h: list[str]  # copies 24 h or more late


def freshness(store: Store, scope: Scope, *, by_pixel: bool = False) -> list[FreshnessRow]:
    """Server-copy delay buckets, median and p95 per event_name, then one total row."""
    rows = run_quality(store, "quality_freshness", scope, by_pixel=by_pixel)
    result = [
        FreshnessRow(
            **{k: v for k, v in row.items() if not k.startswith("examples_")},
            examples_2h=examples(row["examples_2h"]),
            examples_24h=examples(row["examples_24h"]),
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: (r.pixel_id or "", r.is_total, r.event_name or ""))
