"""A store file shared by processes and threads: a busy file is waited for and then refused with
``StoreBusyError`` (never DuckDB's lock text); a brief store (the dashboard's) holds no connection between
its queries, and its threads never trip over one another."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from capi_core import store as store_module
from capi_core.errors import StoreBusyError
from capi_core.store import BRIEF_READ_WAIT, Store
from tests.holder import held_by_another_process

LOCK_TEXT = ("Could not set lock", "Conflicting lock", "IO Error", "different configuration")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    target = tmp_path / "shop.duckdb"
    Store(target).close()
    return target


def _annotations(store: Store) -> int:
    return int(store.query("count", "select count(*) from annotations").scalar())


def _annotate(store: Store, annotation_id: int) -> None:
    with store.transaction() as tx:
        tx.execute(
            "annotate",
            "insert into annotations values ($id, date '2026-11-02', 'note', now())",
            {"id": annotation_id},
        )


@pytest.mark.parametrize("read_only", [False, True], ids=["writer", "reader"])
def test_a_held_store_is_waited_for_then_refused(db: Path, read_only: bool) -> None:
    waits: list[float] = []
    with held_by_another_process(db, read_only=read_only):
        started = time.monotonic()
        with pytest.raises(StoreBusyError) as raised:
            Store(db, wait=0.6, on_wait=waits.append)
    assert 0.6 <= time.monotonic() - started < 5
    assert waits and waits == sorted(waits) and waits[-1] < 0.6
    assert str(raised.value).startswith("the store is busy: another capi-desk is writing to it (waited 1 s)")
    assert not any(text in str(raised.value) for text in LOCK_TEXT)


def test_a_store_released_during_the_wait_opens(db: Path) -> None:
    with held_by_another_process(db) as holder:
        threading.Timer(0.5, holder.stdin.close).start()  # type: ignore[union-attr]
        with Store(db, wait=30) as opened:
            assert _annotations(opened) == 0


def test_a_brief_store_holds_nothing_between_queries(db: Path) -> None:
    brief = Store(db, brief=True, wait=5)
    assert _annotations(brief) == 0
    _annotate(brief, 1)
    with Store(db, wait=0) as other:  # would fail at once if the brief store kept the file
        assert _annotations(other) == 1
        _annotate(other, 2)
    assert _annotations(brief) == 2


def test_brief_reads_of_a_busy_store_give_up_after_a_short_wait(db: Path) -> None:
    brief = Store(db, brief=True, wait=60)
    with held_by_another_process(db):
        assert not brief.available()
        started = time.monotonic()
        with pytest.raises(StoreBusyError):
            _annotations(brief)
        assert time.monotonic() - started < BRIEF_READ_WAIT + 2
    assert brief.available()
    assert _annotations(brief) == 0


def test_kept_open_shares_one_connection(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    brief = Store(db, brief=True)
    opened: list[bool] = []
    real_connect = duckdb.connect

    def counting(*args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        opened.append(bool(kwargs.get("read_only")))
        return real_connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module.duckdb, "connect", counting)
    with brief.kept_open():
        for _ in range(5):
            _annotations(brief)
    assert opened == [True]
    _annotations(brief)
    _annotate(brief, 1)
    assert opened == [True, True, False]


def test_threads_of_a_brief_store_read_and_write_without_conflicts(db: Path) -> None:
    """Streamlit sessions are threads: readers and a writer of one brief store take turns."""
    brief = Store(db, brief=True, wait=30)

    def read(_: int) -> int:
        with brief.kept_open():
            return _annotations(brief)

    def write() -> None:
        for annotation_id in range(1, 6):
            _annotate(brief, annotation_id)

    writer = threading.Thread(target=write)
    with ThreadPoolExecutor(4) as pool:
        writer.start()
        counts = list(pool.map(read, range(40)))
        writer.join()
    assert all(0 <= count <= 5 for count in counts)
    assert _annotations(brief) == 5


def test_a_brief_store_creates_and_migrates_a_new_file(tmp_path: Path) -> None:
    brief = Store(tmp_path / "new.duckdb", brief=True)
    assert brief.created
    assert brief.schema_version == store_module.SCHEMA_VERSION
