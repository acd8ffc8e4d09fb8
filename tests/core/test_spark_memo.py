"""A SparkStore answers a repeated query from memory: the store is read-only, so the same SQL with the
same parameters always has the same rows. No JVM: ``_collect`` (the one call that reaches Spark) is
replaced by a counter, and the store is built without a session."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

import pytest

from capi_core.engines import spark
from capi_core.engines.spark import SparkStore, _memo_key
from capi_core.store import Results


class _CountingStore(SparkStore):
    """A SparkStore whose queries return their own parameters and count the trips to "Spark"."""

    def __init__(self) -> None:  # no session, no tables: only the memo is under test
        self._memo = OrderedDict()
        self._memo_lock = threading.Lock()
        self._cached = []
        self.trips = 0

    def _collect(self, name: str, sql: str, params: dict[str, Any] | None) -> Results:
        self.trips += 1
        return Results(["sql", "params", "list"], [(sql, repr(sorted((params or {}).items())), [1, 2])])


def test_same_sql_and_params_runs_once() -> None:
    """Two calls, one trip; a different name for the same SQL is the same query."""
    store = _CountingStore()
    first = store.query("a", "select 1", {"x": 1})
    again = store.query("b", "select 1", {"x": 1})
    assert store.trips == 1 and first == again


def test_other_params_or_types_run_again() -> None:
    """Each distinct value, and each type of an equal value (1, 1.0, True), is its own query."""
    store = _CountingStore()
    for value in (1, 1.0, True, "1", None, [1], (1,), dt.date(2026, 1, 1), dt.datetime(2026, 1, 1)):
        store.query("q", "select :x", {"x": value})
    assert store.trips == 9
    store.query("q", "select :x", {"x": [1]})
    assert store.trips == 9


def test_callers_get_copies() -> None:
    """Changing a returned list does not change what the next caller gets."""
    store = _CountingStore()
    store.query("q", "select 1").rows[0][2].append(3)
    assert store.query("q", "select 1").rows[0][2] == [1, 2]


def test_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The least recently used result goes first once MEMO_ENTRIES are kept; big results are not kept."""
    monkeypatch.setattr(spark, "MEMO_ENTRIES", 2)
    store = _CountingStore()
    store.query("q", "select 1")
    store.query("q", "select 2")
    store.query("q", "select 1")  # 1 is now the most recent
    store.query("q", "select 3")  # 2 goes
    assert store.trips == 3
    store.query("q", "select 1")
    assert store.trips == 3
    store.query("q", "select 2")
    assert store.trips == 4

    monkeypatch.setattr(spark, "MEMO_MAX_ROWS", 0)
    store.query("q", "select 4")
    store.query("q", "select 4")
    assert store.trips == 6


def test_unhashable_params_are_not_memoized() -> None:
    """A parameter that cannot be part of a key (a set inside a list) is run every time."""
    assert _memo_key("select 1", {"x": [{1}]}) is None
    store = _CountingStore()
    store.query("q", "select 1", {"x": [{1}]})
    store.query("q", "select 1", {"x": [{1}]})
    assert store.trips == 2


def test_close_forgets_results() -> None:
    store = _CountingStore()
    store.query("q", "select 1")
    store.close()
    store.query("q", "select 1")
    assert store.trips == 2


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (0.0, -0.0),
        (1, 1.0),
        (
            dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 2, 13, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        ({1: "a"}, {"1": "a"}),
    ],
)
def test_equal_values_that_bind_differently_are_different_keys(one: Any, other: Any) -> None:
    """Values Python calls equal can still reach Spark as different text (-0.0, an offset, a key's type):
    each is its own memo entry."""
    assert _memo_key("select 1", {"x": one}) != _memo_key("select 1", {"x": other})
