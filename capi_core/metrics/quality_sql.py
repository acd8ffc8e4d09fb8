"""Runs the signal-quality SQL: every ``queries/quality_*.sql`` reads the per-copy CTE ``copy_checks``.

``queries/fragments/copy_checks.sql`` (the derived table ``copy_signal_checks`` narrowed to the scope) is
included by each quality query; this module binds the scope and hands back the aggregated rows. It holds
no metric logic and never touches DuckDB directly.

Results are memoized per store and data version (``capi_core.metrics.memo``), so the report and the
checks that read the same aggregate over the same scope share one computation, and a page revisiting a
scope does not recompute it. Callers get fresh copies of the rows and may not rely on identity.
"""

from __future__ import annotations

from typing import Any

from capi_core.metrics.memo import data_version, hashable, memoized
from capi_core.models import Scope
from capi_core.store import Store

_Rows = list[dict[str, Any]]


def run_quality(store: Store, name: str, scope: Scope, **params: Any) -> _Rows:
    """Rows of the quality query ``name`` over ``scope`` (extra ``params`` bound as ``$name``).

    Memoized per store and data version; each call gets its own copy of the rows.
    """
    if not name.startswith("quality_"):
        raise ValueError(f"{name!r} is not a quality query")
    bound = {**scope.params(), **params}
    key = (name, *sorted((k, hashable(v)) for k, v in bound.items()))
    return memoized(store, key, lambda: store.query_file(name, bound).dicts())


def examples(value: Any) -> list[str]:
    """Example ids from a SQL list (null when the filter matched nothing)."""
    return [str(item) for item in value or [] if item is not None]


__all__ = ["data_version", "examples", "run_quality"]
