"""The demo store is (re)built when missing or empty, so `make run` never opens on nothing."""

from __future__ import annotations

from pathlib import Path

from capi_core.demo_store import needs_build
from capi_core.store import Store


def test_missing_store_needs_build(tmp_path: Path) -> None:
    assert needs_build(tmp_path / "demo.duckdb")


def test_empty_store_needs_build(tmp_path: Path) -> None:
    Store(tmp_path / "demo.duckdb").close()  # what an interrupted run or a stray test leaves behind
    assert needs_build(tmp_path / "demo.duckdb")


def test_store_with_a_batch_does_not(tmp_path: Path) -> None:
    with Store(tmp_path / "demo.duckdb") as store, store.transaction() as tx:
        tx.execute(
            "fake batch",
            "insert into batches values (1, 'orders', 'x', 'x.csv', 'sha', 1, 1, 0, 0, 0, now(), '0')",
        )
    assert not needs_build(tmp_path / "demo.duckdb")
