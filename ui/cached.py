"""Cached core calls: every figure a page shows, computed once per store version, scope and arguments.

Caching lives here, in the UI layer (STYLE: Streamlit guidance); capi_core knows nothing of it. Every
cached call is keyed by the store path, its data version, the scope and the call's arguments, so an ingest
or an undo is seen at once and a filter set back to an earlier value is a cache hit. Pages ask for the
report sections they show (``dedup_stats``, ``recon_summaries``, ``signal_quality``, ``findings``...),
each cached on its own: a filter change recomputes only those, and a section one page computed is reused
by the next page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from capi_core import (
    DedupEventStats,
    Finding,
    Scope,
    inspector,
    quality,
    recon_views,
    reconcile,
)
from capi_core import dashboard_api as api
from ui.store_handle import open_store, store_path, version

_CALLS: dict[str, Callable[..., Any]] = {
    "counts": lambda s, scope: api.counts_section(s, scope),
    "dedup": lambda s, scope, **kw: api.dedup_section(s, scope, **kw),
    "recon": lambda s, scope: api.recon_section(s, scope),
    "quality": lambda s, scope: api.quality_section(s, scope),
    "findings": lambda s, scope: api.findings(s, scope),
    "value_deltas": lambda s, scope, **kw: recon_views.value_deltas(s, scope, **kw),
    "daily": lambda s, scope, **kw: reconcile.daily(s, scope, **kw),
    "weekly": lambda s, scope, **kw: reconcile.weekly(s, scope, **kw),
    "verdicts": lambda s, scope, **kw: reconcile.record_verdicts(s, scope, **kw),
    "phantoms": lambda s, scope, **kw: reconcile.phantoms(s, scope, **kw),
    "what_if": lambda s, scope, **kw: quality.emq_what_if(s, scope, **kw),
    "pixels": lambda s, _: api.pixels(s),
    "event_names": lambda s, _: api.event_names(s),
    "date_bounds": lambda s, _: api.date_bounds(s),
    "search": lambda s, _, **kw: inspector.search(s, kw["text"], kind=kw["kind"]),
    "compare": lambda s, _, **kw: inspector.compare_copies(s, kw["a"], kw["b"]),
}


@st.cache_data(show_spinner="Computing…", max_entries=256)
def _cached(name: str, path: str, data_version: str, scope: Scope | None, kwargs: tuple[Any, ...]) -> Any:
    store = open_store(path)
    with store.kept_open():  # the call's queries share one short read-only connection
        return _CALLS[name](store, scope, **dict(kwargs))


def _call(name: str, scope: Scope | None = None, **kwargs: Any) -> Any:
    return _cached(name, store_path(), version(), scope, tuple(sorted(kwargs.items())))


def cached_call(fn: Callable[..., Any], scope: Scope | None = None, **kwargs: Any) -> Any:
    """``fn(store, scope, **kwargs)`` cached per store version, scope and arguments.

    For pages added after the wrappers below: pass a ``capi_core`` function taking ``(store, scope, ...)``
    (keyword arguments must be hashable); it is registered under its qualified name on first use.
    """
    name = f"{fn.__module__}.{fn.__qualname__}"
    _CALLS.setdefault(name, lambda s, sc, **kw: fn(s, sc, **kw))
    return _call(name, scope, **kwargs)


def search(text: str, kind: str) -> Any:
    """Inspector search, cached (``text`` is never a raw email: the page hashes it first)."""
    return _call("search", text=text, kind=kind)


def compare(a: tuple[str, int], b: tuple[str, int]) -> Any:
    """Two copies side by side, cached."""
    return _call("compare", a=a, b=b)


def counts(scope: Scope) -> api.CountsSection:
    """The report's window and copy counts."""
    result: api.CountsSection = _call("counts", scope)
    return result


def dedup_stats(scope: Scope, *, key_usage: bool = True) -> list[DedupEventStats]:
    """The report's dedup section (outcomes per pixel and event name; ``key_usage=False``: without the
    dedup-key usage, which only the Deduplication page shows)."""
    rows: list[DedupEventStats] = _call("dedup", scope, key_usage=key_usage)
    return rows


def recon_summaries(scope: Scope) -> list[reconcile.ReconSummary]:
    """The report's reconciliation section (one summary per reconciled dataset)."""
    rows: list[reconcile.ReconSummary] = _call("recon", scope)
    return rows


def signal_quality(scope: Scope) -> api.QualitySection:
    """The report's completeness, match keys, freshness and consent sections."""
    result: api.QualitySection = _call("quality", scope)
    return result


def findings(scope: Scope) -> list[Finding]:
    """The report's findings (every check), most severe first."""
    rows: list[Finding] = _call("findings", scope)
    return rows


def overview(scope: Scope) -> api.OverviewFigures:
    """The Overview's figures, from the cached sections (shared with the other pages)."""
    return api.overview_figures(
        counts(scope),
        dedup_stats(scope, key_usage=False),
        recon_summaries(scope),
        signal_quality(scope),
        findings(scope),
    )


def value_deltas(scope: Scope, event_name: str, kind: str) -> recon_views.ValueDeltas:
    """The binned value-delta distribution of one reconciled dataset."""
    result: recon_views.ValueDeltas = _call("value_deltas", scope, event_name=event_name, kind=kind)
    return result


def periods(scope: Scope, grain: str, event_name: str, kind: str) -> list[reconcile.PeriodRow]:
    """Truth vs estimated Meta per day (``grain="day"``) or ISO week."""
    rows: list[reconcile.PeriodRow] = _call(
        "daily" if grain == "day" else "weekly", scope, event_name=event_name, kind=kind
    )
    return rows


def verdicts(scope: Scope, **filters: Any) -> list[reconcile.RecordVerdict]:
    """Per-record verdicts (``reconcile.record_verdicts`` keyword filters)."""
    rows: list[reconcile.RecordVerdict] = _call("verdicts", scope, **filters)
    return rows


def phantoms(scope: Scope, event_name: str, kind: str) -> reconcile.PhantomReport:
    """Counted copies with no backend record."""
    result: reconcile.PhantomReport = _call("phantoms", scope, event_name=event_name, kind=kind)
    return result


def emq_what_if(scope: Scope, key: str, coverage: float) -> list[quality.EmqWhatIf]:
    """The estimated EMQ per event if ``key``'s coverage were ``coverage``."""
    rows: list[quality.EmqWhatIf] = _call("what_if", scope, key=key, coverage=coverage)
    return rows


def date_bounds() -> tuple[Any, Any]:
    """The first and last UTC day of the store's events (None, None when it has none)."""
    first, last = _call("date_bounds")
    return first, last


def pixels() -> list[str]:
    """The store's pixel ids."""
    rows: list[str] = _call("pixels")
    return rows


def event_names() -> list[str]:
    """The store's event names, as sent."""
    rows: list[str] = _call("event_names")
    return rows
