"""Results memoized per store and data version, so the report, the checks and the pages that read the
same aggregate over the same scope share one computation.

The data version is the batches table's (count, max id, sum of ids): every ingest and undo adds or removes
a batch and rebuilds the derived tables in the same transaction, so a cached result is never served for
data it was not computed from. It also covers what people change without a batch (``SIDE_TABLES``: the
store's settings, annotations, saved contracts and Dataset Quality snapshots), so a changed lead event,
currency, note or contract is seen by the next read without anyone clearing a cache.

Owns only the memo; callers decide what to compute and get fresh copies of the rows (they may not rely
on identity).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from capi_core.store import Store

#: Memoized results kept per store; the least recently used goes first (the scope-free per-day results,
#: read on every filter change, stay while scoped results of old filters make room).
MEMO_SIZE = 256

Rows = list[dict[str, Any]]


class _Memo:
    """The results of one store at one data version."""

    def __init__(self, version: tuple[Any, ...]) -> None:
        self.version = version
        self.results: dict[Hashable, Rows] = {}


_memos: weakref.WeakKeyDictionary[Store, _Memo] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
#: Versions pinned by ``pinned`` in this thread (store id -> version).
_pins = threading.local()


@contextlib.contextmanager
def pinned(store: Store) -> Iterator[None]:
    """Read the data version once for a block of memoized calls (a report, the checks of a page).

    Every call inside the block is keyed by the version read on entry instead of querying it again; a
    change of the store during the block is seen by the next block, as it is by the next call outside.
    """
    pins: dict[int, tuple[Any, ...]] = _pins.__dict__.setdefault("versions", {})
    if id(store) in pins:  # nested: the outer block's version holds
        yield
        return
    pins[id(store)] = _read_version(store)
    try:
        yield
    finally:
        del pins[id(store)]


def data_version(store: Store) -> tuple[Any, ...]:
    """A value that changes whenever a batch is ingested or undone (and so the derived tables rebuilt), or
    a side table (``SIDE_TABLES``) changes."""
    pins: dict[int, tuple[Any, ...]] = _pins.__dict__.get("versions", {})
    return pins[id(store)] if id(store) in pins else _read_version(store)


#: The tables people change without a batch, each with an expression that changes with any change of
#: its rows (they are small: a few settings, notes, contract versions and snapshots). A store may lack
#: some (tables on Spark hold the canonical tables only, snapshot tables come with the first snapshot).
SIDE_TABLES: dict[str, str] = {
    "settings": "string_agg(key || '=' || coalesce(value, ''), chr(10) order by key)",
    "annotations": "string_agg(annotation_id || ' ' || day || ' ' || note, chr(10) order by annotation_id)",
    "contracts": "count(*) || '-' || coalesce(max(version), 0) || '-' || coalesce(sum(version), 0)",
    "meta_quality_snapshots": "count(*) || '-' || coalesce(max(snapshot_id), 0)",
}


def _read_version(store: Store) -> tuple[Any, ...]:
    present = {
        name
        for (name,) in store.query(
            "side tables present",
            "select table_name from information_schema.tables where list_contains($names, table_name)",
            {"names": list(SIDE_TABLES)},
        ).rows
    }
    # one round trip: the batches' version and each present side table's, as scalar subqueries (the SQL
    # is built from this module's constants only)
    sides = "".join(
        f", (select md5(coalesce({SIDE_TABLES[name]}, '')) from {name})"  # noqa: S608
        for name in SIDE_TABLES
        if name in present
    )
    sql = f"select count(*), coalesce(max(batch_id), 0), coalesce(sum(batch_id), 0){sides} from batches"  # noqa: S608
    row = store.query("data version", sql).rows[0]
    return tuple(row)


def hashable(value: Any) -> Any:
    """A parameter value usable in a memo key (lists become tuples)."""
    return tuple(value) if isinstance(value, list) else value


def memoized(store: Store, key: Hashable, compute: Callable[[], Rows]) -> Rows:
    """``compute()``'s rows for ``key`` at the store's current data version, computed once per version."""
    version = data_version(store)
    with _lock:
        memo = _memos.get(store)
        if memo is None or memo.version != version:
            memo = _memos[store] = _Memo(version)
        rows = memo.results.pop(key, None)
        if rows is not None:
            memo.results[key] = rows  # most recently used: last to go
    if rows is None:
        rows = compute()
        with _lock:
            if memo.version == version:
                memo.results[key] = rows
                while len(memo.results) > MEMO_SIZE:
                    del memo.results[next(iter(memo.results))]
    return [dict(row) for row in rows]


def clear() -> None:
    """Forget every memoized result (benchmarks timing a cold computation)."""
    with _lock:
        _memos.clear()
