"""The demo store is (re)built when missing or empty, so `make run` never opens on nothing; it holds Meta's
own view after the shop's files."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from capi_core import demo_store
from capi_core.demo_store import DEMO_FILES, build_demo_store, needs_build
from capi_core.meta import dataset_quality
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


def test_small_demo_store_holds_meta_view(tmp_path: Path) -> None:
    """The Ads Manager export comes after the shop's and lead forms' six files (batch 7, source meta);
    the three Dataset Quality answers are snapshots of the main pixel at their fetch times."""
    summary = build_demo_store(tmp_path / "demo.duckdb", orders=200)
    assert "ads_manager_export.csv (ads_manager) -> batch 7" in summary
    with Store(tmp_path / "demo.duckdb", read_only=True) as store:
        assert store.query("last batch", "select source from batches where batch_id = 7").scalar() == "meta"
        assert store.query("batches", "select count(*) from batches").scalar() == len(DEMO_FILES) == 7
        found = dataset_quality.snapshots(store)
    assert [(s.fetched_at, s.pixel_id, s.events) for s in reversed(found)] == [
        (dt.datetime(2026, 10, 26, 9, 30), "1234567890123456", 5),
        (dt.datetime(2026, 11, 9, 9, 30), "1234567890123456", 5),
        (dt.datetime(2026, 11, 16, 9, 30), "1234567890123456", 5),
    ]


def test_tabs_asking_at_once_build_it_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dashboard sessions are threads: three asking together get one build, the other two wait for it."""
    target = tmp_path / "demo.duckdb"
    builds: list[str] = []
    real_build = demo_store._build

    def counted(target: Path, orders: int | None, seed: int) -> str:
        builds.append(threading.current_thread().name)
        time.sleep(0.5)  # long enough for the others to arrive while it runs
        return real_build(target, 200, seed)

    monkeypatch.setattr(demo_store, "_build", counted)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: demo_store.ensure_demo_store(target), range(3)))
    assert len(builds) == 1
    assert sum(result is not None for result in results) == 1
    assert not needs_build(target)
