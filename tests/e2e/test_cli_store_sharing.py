"""Issue 12, cases 2 and 3: scheduled ingests beside each other and beside the dashboard, through the CLI in
real subprocesses. A busy store is waited for (``--wait``, a progress line on stderr), never a failure
with DuckDB's lock text; a wait that runs out is exit 2 and one line, the store unchanged.

The dashboard's side (the note over the last figures) is in tests/app/test_store_busy.py and, in a real
browser, tests/e2e/test_browser_concurrency.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from capi_core.store import Store
from tests.holder import held_by_another_process, release

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SERVER_LOG = FIXTURES / "server" / "log.jsonl"
ORDERS = FIXTURES / "orders" / "shopify_orders.csv"
LOCK_TEXT = ("Could not set lock", "Conflicting lock", "IO Error", "different configuration")


def _command(db: Path, *args: str | Path) -> list[str]:
    return [sys.executable, "-m", "capi_core", "--db", str(db), *map(str, args)]


def run_cli(db: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m capi_core --db DB ARGS`` in a real subprocess, from the repo root."""
    return subprocess.run(_command(db, *args), capture_output=True, text=True, cwd=REPO, timeout=300)


def start_cli(db: Path, *args: str | Path) -> subprocess.Popen[str]:
    """The same, started in the background."""
    return subprocess.Popen(
        _command(db, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def batches(db: Path) -> list[str]:
    with Store(db, read_only=True) as store:
        return [row[0] for row in store.query("files", "select file_name from batches order by 1").rows]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding one ingested file."""
    target = tmp_path / "shop.duckdb"
    done = run_cli(target, "ingest", "--source", "server", SERVER_LOG)
    assert done.returncode == 0, done.stderr
    return target


@pytest.mark.parametrize("holder", ["an ingest (read-write)", "a reader (read-only)"])
def test_ingest_waits_for_the_store_and_lands_when_released(db: Path, holder: str) -> None:
    with held_by_another_process(db, read_only="read-only" in holder) as held:
        ingest = start_cli(db, "ingest", "--source", "orders", ORDERS)
        time.sleep(3)
        assert ingest.poll() is None, "the ingest waits while the store is held"
        release(held)
        code, out, err = finish(ingest)
    assert code == 0, err
    assert "shopify_orders.csv" in out
    assert "store busy (another capi-desk is writing); waiting… up to 60 s" in err
    assert not any(text in err for text in LOCK_TEXT), err
    assert batches(db) == ["log.jsonl", "shopify_orders.csv"]


def test_two_overlapping_ingests_both_land(db: Path) -> None:
    """Two cron jobs start while a third still writes: each waits its turn, both exit 0, both files land."""
    with held_by_another_process(db) as held:
        first = start_cli(db, "ingest", "--source", "orders", ORDERS)
        second = start_cli(db, "ingest", "--source", "server", FIXTURES / "server" / "events.jsonl")
        time.sleep(1.5)
        assert first.poll() is None and second.poll() is None
        release(held)
        results = [finish(first), finish(second)]
    for code, _, err in results:
        assert code == 0, err
        assert not any(text in err for text in LOCK_TEXT), err
    assert batches(db) == ["events.jsonl", "log.jsonl", "shopify_orders.csv"]


def test_two_ingests_started_together_both_land(db: Path) -> None:
    """No third party: whichever opens the store first writes, the other waits for it."""
    first = start_cli(db, "ingest", "--source", "orders", ORDERS)
    second = start_cli(db, "ingest", "--source", "server", FIXTURES / "server" / "events.jsonl")
    for code, _, err in (finish(first), finish(second)):
        assert code == 0, err
    assert batches(db) == ["events.jsonl", "log.jsonl", "shopify_orders.csv"]


@pytest.mark.parametrize(
    "command",
    [("ingest", "--source", "orders", str(ORDERS)), ("report",), ("batches",), ("undo", "1")],
    ids=lambda command: command[0],
)
def test_wait_runs_out_with_one_line_and_the_store_unchanged(db: Path, command: tuple[str, ...]) -> None:
    with held_by_another_process(db):
        started = time.monotonic()
        done = run_cli(db, "--wait", "1", *command)
        took = time.monotonic() - started
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert took < 30
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0] == (
        "capi-desk: error: the store is busy: another capi-desk is writing to it (waited 1 s) — try again "
        "when it has finished, or wait longer with --wait SECONDS"
    )
    assert done.stdout == ""
    assert batches(db) == ["log.jsonl"]


def test_processes_asking_for_the_demo_store_at_once_build_it_once(tmp_path: Path) -> None:
    """Three processes (two `capi-desk app`, a dashboard) find no demo store at once: one builds it, the
    others wait for that build and use it."""
    target = tmp_path / "data" / "demo.duckdb"
    ask = (
        "import sys; from pathlib import Path; from capi_core.demo_store import ensure_demo_store; "
        "print('built' if ensure_demo_store(Path(sys.argv[1])) else 'found')"
    )
    askers = [
        subprocess.Popen(
            [sys.executable, "-c", ask, str(target)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for _ in range(3)
    ]
    answers = [finish(asker) for asker in askers]
    assert [code for code, _, _ in answers] == [0, 0, 0], [err for _, _, err in answers]
    assert sorted(out.strip() for _, out, _ in answers) == ["built", "found", "found"]
    assert len(batches(target)) == 7
