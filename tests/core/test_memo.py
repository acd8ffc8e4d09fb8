"""capi_core.metrics.memo: one computation per key and data version, least recently used evicted first,
and a pinned block reads the data version once."""

from __future__ import annotations

import pytest

from capi_core.metrics import memo
from capi_core.store import Store
from tests.factories import copy, load


def test_computes_once_per_version_and_evicts_least_recently_used(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Size 2: a, b stored; reading a again makes b the least recently used, so storing c evicts b."""
    monkeypatch.setattr(memo, "MEMO_SIZE", 2)
    memo.clear()
    calls: list[str] = []

    def compute(name: str) -> memo.Rows:
        calls.append(name)
        return [{"name": name}]

    for key in ("a", "b", "a", "c", "a", "b"):
        assert memo.memoized(store, key, lambda key=key: compute(key)) == [{"name": key}]
    assert calls == ["a", "b", "c", "b"]
    load(store, [copy("server", event_id="1")])  # a new batch: a new data version, nothing reused
    memo.memoized(store, "a", lambda: compute("a"))
    assert calls[-1] == "a" and len(calls) == 5


def test_pinned_reads_the_version_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    read = memo._read_version

    def counting(s: Store) -> tuple[object, ...]:
        reads.append(1)
        return read(s)

    monkeypatch.setattr(memo, "_read_version", counting)
    with memo.pinned(store), memo.pinned(store):  # nested: the outer read holds
        for key in ("a", "b", "c"):
            memo.memoized(store, key, list)
    assert len(reads) == 1
    memo.memoized(store, "a", list)  # outside the block: read again
    assert len(reads) == 2
