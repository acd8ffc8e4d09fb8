"""Meta's view, quality side: Meta's own EMQ, event coverage, dedup-key feedback and freshness per
Dataset Quality snapshot, next to our estimates of the same figures.

Meta's figures come from the snapshots ``dataset_quality.py`` stores (``queries/meta_quality_*.sql``);
ours from the modules that own them, reused as they are: the estimated EMQ (``quality.emq_estimates``),
event coverage and dedup-key usage (``dedup.dedup_by_event``) and freshness (``quality.freshness``).

Which of our events a snapshot is compared with: Meta's event coverage is a 7-day average and its EMQ is
computed "in real time", so ours are computed over the 7 UTC days ending on the snapshot's day, for the
snapshot's pixel. When our logs end before the snapshot (a snapshot fetched today, logs exported last
week), the window ends on our last event day of that pixel instead, and the row says which days it
covers (``our_from`` / ``our_to``); with no events of that pixel, our figures are None. The window is
``emq_fit.comparison_window``: the EMQ fit sets our estimate against Meta's on the same days, and our EMQ
here uses the pixel's own points (fitted to these snapshots when there are enough of them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from capi_core.metrics import dedup, quality
from capi_core.metrics.emq_fit import comparison_window
from capi_core.models import Scope
from capi_core.store import Store


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class DedupeKeyComparison(_Frozen):
    """One dedup key: Meta's feedback next to our key usage over the same event."""

    key: str
    meta_browser_share: float | None
    meta_server_share: float | None
    meta_browser_coverage: float | None  # browser events Meta deduplicated by this key
    our_browser_share: float | None
    our_server_share: float | None
    our_overlap: float | None  # events received from both channels / on the channel with fewer (KeyUsage)


class QualityTrendRow(_Frozen):
    """One web event of one snapshot: Meta's figures and ours over the window before it."""

    snapshot_id: int
    fetched_at: dt.datetime
    pixel_id: str
    source: str | None
    event_name: str
    meta_emq: float | None  # 0..10
    our_emq: float | None  # our estimate, 0..10 (never Meta's score)
    meta_event_coverage: float | None
    our_event_coverage: float | None
    coverage_goal: float | None
    meta_upload_frequency: str | None
    our_real_time_share: float | None  # server copies sent within 1 h of the event
    our_median_delay_s: float | None
    meta_acr: float | None
    meta_diagnostics: int | None
    our_from: dt.date | None
    our_to: dt.date | None
    dedupe_keys: list[DedupeKeyComparison]


class _Ours(_Frozen):
    window: tuple[dt.date, dt.date] | None
    emq: dict[str, float]
    coverage: dict[str, float | None]
    usage: dict[str, list[dedup.KeyUsage]]
    freshness: dict[str, quality.FreshnessRow]


def _ours(store: Store, pixel_id: str, day: dt.date, event_names: tuple[str, ...]) -> _Ours:
    window = comparison_window(store, pixel_id, day)
    if window is None:
        return _Ours(window=None, emq={}, coverage={}, usage={}, freshness={})
    start, end = window
    scope = Scope(date_from=start, date_to=end, pixel_id=pixel_id, event_names=event_names)
    stats = [s for s in dedup.dedup_by_event(store, scope) if s.event_name is not None]
    return _Ours(
        window=(start, end),
        emq={e.event_name: e.score for e in quality.emq_estimates(store, scope) if e.event_name},
        coverage={s.event_name: s.event_coverage for s in stats if s.event_name},
        usage={s.event_name: s.key_usage for s in stats if s.event_name},
        freshness={
            f.event_name: f for f in quality.freshness(store, scope) if f.event_name and not f.is_total
        },
    )


def _real_time_share(row: quality.FreshnessRow | None) -> float | None:
    if row is None:
        return None
    known = row.copies - row.unknown
    return row.real_time / known if known else None


def _dedupe_keys(meta: list[dict[str, Any]], ours: list[dedup.KeyUsage]) -> list[DedupeKeyComparison]:
    mine = {u.key: u for u in ours}
    keys = [m["dedupe_key"] for m in meta] + [k for k in mine if k not in {m["dedupe_key"] for m in meta}]
    by_key = {m["dedupe_key"]: m for m in meta}
    result = []
    for key in keys:
        m, u = by_key.get(key, {}), mine.get(key)
        result.append(
            DedupeKeyComparison(
                key=key,
                meta_browser_share=m.get("browser_share"),
                meta_server_share=m.get("server_share"),
                meta_browser_coverage=m.get("browser_coverage"),
                our_browser_share=u.browser_share if u else None,
                our_server_share=u.server_share if u else None,
                our_overlap=u.overlap if u else None,
            )
        )
    return result


def meta_quality_trend(
    store: Store, scope: Scope, *, snapshot_version: str | None = None
) -> list[QualityTrendRow]:
    """Per snapshot (oldest first) and web event: Meta's figures next to ours (see the module docstring).

    The scope's dates pick snapshots by the day they were fetched; its pixel and event names filter both.
    ``snapshot_version`` is not used here: pages pass ``dataset_quality.snapshot_version`` so that their
    cache sees a new snapshot at once.
    """
    del snapshot_version
    params = scope.params()
    meta_rows = store.query_file("meta_quality_trend", params).dicts()
    keys: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in store.query_file("meta_quality_dedupe", params).dicts():
        keys.setdefault((row["snapshot_id"], row["event_name"]), []).append(row)
    windows: dict[tuple[str, dt.date], _Ours] = {}
    result: list[QualityTrendRow] = []
    for row in meta_rows:
        pixel, day = row["pixel_id"], row["fetched_at"].date()
        if (pixel, day) not in windows:
            windows[(pixel, day)] = _ours(store, pixel, day, scope.event_names)
        ours, event = windows[(pixel, day)], row["event_name"]
        meta_keys = keys.get((row["snapshot_id"], event), [])
        result.append(
            QualityTrendRow(
                snapshot_id=row["snapshot_id"],
                fetched_at=row["fetched_at"],
                pixel_id=pixel,
                source=row["source"],
                event_name=event,
                meta_emq=row["emq"],
                our_emq=ours.emq.get(event),
                meta_event_coverage=row["event_coverage"],
                our_event_coverage=ours.coverage.get(event),
                coverage_goal=row["coverage_goal"],
                meta_upload_frequency=row["upload_frequency"],
                our_real_time_share=_real_time_share(ours.freshness.get(event)),
                our_median_delay_s=(f.median_delay_s if (f := ours.freshness.get(event)) else None),
                meta_acr=row["acr"],
                meta_diagnostics=row["diagnostics"],
                our_from=ours.window[0] if ours.window else None,
                our_to=ours.window[1] if ours.window else None,
                dedupe_keys=_dedupe_keys(meta_keys, ours.usage.get(event, [])),
            )
        )
    return result


def has_snapshots(store: Store) -> bool:
    """Whether any Dataset Quality snapshot is stored."""
    return bool(
        store.query("has quality snapshots", "select exists (select 1 from meta_quality_snapshots)").scalar()
    )
