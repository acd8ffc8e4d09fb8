"""Runs the signal-quality SQL: every ``queries/quality_*.sql`` reads the per-copy CTE ``copy_checks``.

``queries/quality_copy_checks.sql`` is the one definition of a valid match key, an invalid fbc / fbp and
an insufficient key combination; this module prepends it to each quality query, binds the scope, and
hands back the aggregated rows. It holds no metric logic and never touches DuckDB directly.

Results are memoized per store and data version (the batches table: every ingest and undo adds or
removes a batch and rebuilds the derived tables in the same transaction), so the report and the checks
that read the same aggregate over the same scope share one computation, and a page revisiting a scope
does not recompute it. Callers get fresh copies of the rows and may not rely on identity.
"""

from __future__ import annotations

import threading
import weakref
from functools import cache
from typing import Any

from capi_core.models import Scope
from capi_core.store import Store, load_query

_BASE = "quality_copy_checks"
#: Memoized results kept per store (query x scope x parameters); the oldest goes first.
MEMO_SIZE = 64

_Rows = list[dict[str, Any]]


class _Memo:
    """The results of one store at one data version."""

    def __init__(self, version: tuple[Any, ...]) -> None:
        self.version = version
        self.results: dict[tuple[Any, ...], _Rows] = {}


_memos: weakref.WeakKeyDictionary[Store, _Memo] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@cache
def quality_sql(name: str) -> str:
    """``queries/<name>.sql`` with the ``copy_checks`` CTE in front (only files, never values)."""
    if not name.startswith("quality_") or name == _BASE:
        raise ValueError(f"{name!r} is not a quality query")
    return "\n".join(
        ("with copy_checks as (", load_query(_BASE), ")", "select * from (", load_query(name), ") as result")
    )


def data_version(store: Store) -> tuple[Any, ...]:
    """A value that changes whenever a batch is ingested or undone (and so the derived tables rebuilt)."""
    row = store.query(
        "quality data version",
        "select count(*), coalesce(max(batch_id), 0), coalesce(sum(batch_id), 0) from batches",
    ).rows[0]
    return tuple(row)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def run_quality(store: Store, name: str, scope: Scope, **params: Any) -> _Rows:
    """Rows of the quality query ``name`` over ``scope`` (extra ``params`` bound as ``$name``).

    Memoized per store and data version; each call gets its own copy of the rows.
    """
    bound = {**scope.params(), **params}
    key = (name, *sorted((k, _hashable(v)) for k, v in bound.items()))
    version = data_version(store)
    with _lock:
        memo = _memos.get(store)
        if memo is None or memo.version != version:
            memo = _memos[store] = _Memo(version)
        rows = memo.results.get(key)
    if rows is None:
        rows = store.query(name, quality_sql(name), bound).dicts()
        with _lock:
            if memo.version == version:
                memo.results[key] = rows
                while len(memo.results) > MEMO_SIZE:
                    del memo.results[next(iter(memo.results))]
    return [dict(row) for row in rows]


def examples(value: Any) -> list[str]:
    """Example ids from a SQL list (null when the filter matched nothing)."""
    return [str(item) for item in value or [] if item is not None]
