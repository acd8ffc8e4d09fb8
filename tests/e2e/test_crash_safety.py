"""SPEC §2 "one file = one transaction": an ingest killed with SIGKILL mid-file leaves the store exactly as it
was, and the same file ingests cleanly afterwards.

The kill lands inside the transaction: DuckDB writes large appends into the store file before commit
(optimistic writes), so the file growing past its pre-ingest size means rows are being written; when a
run gives no such sign before it ends, the retry kills at a fraction of the measured duration. A kill
that came too late shows as the whole batch committed (not a partial one) and is retried, then skipped.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from capi_core.store import Store

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SEED = FIXTURES / "server" / "log.jsonl"
#: Growth of the store file that shows the ingest is writing rows inside its transaction.
GROWTH = 1 << 20
DEADLINE = 50.0  # seconds for the whole test, kills and reruns included


# --- helpers (duplicated from test_bad_input.py: test modules do not import each other)


def cli(db: Path, *args: str | Path) -> list[str]:
    """The argv of ``python -m capi_core --db DB ARGS``."""
    return [sys.executable, "-m", "capi_core", "--db", str(db), *map(str, args)]


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the store, rows sorted: equal dumps mean an unchanged store."""
    with Store(db, read_only=True) as store:
        tables = store.query(
            "tables",
            "select table_name from information_schema.tables where table_schema = 'main' order by 1",
        ).rows
        return {name: store.query(name, f'select * from "{name}" order by all').rows for (name,) in tables}


def recovered_dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Open the store read-write once (DuckDB replays or discards what the killed process left), then dump."""
    with Store(db) as store:
        store.query("checkpoint", "checkpoint")
    return dump(db)


# --- big files ----------------------------------------------------------------------------------------


def write_server_log(path: Path, events: int) -> None:
    """A capi_log JSONL file of ``events`` distinct Purchase events (fast-path shapes only)."""
    line = (
        '{"sent_at": "2026-11-02T12:00:%02dZ", "pixel_id": "111", "request": {"data": [{"event_name": '
        '"Purchase", "event_time": %d, "event_id": "e%d", "action_source": "website", "user_data": '
        '{"em": "%064x", "fbp": "fb.1.1793620000000.%d"}, "custom_data": {"value": %d.5, "currency": '
        '"USD"}}]}}\n'
    )
    with path.open("w", encoding="utf-8") as handle:
        handle.writelines(line % (i % 60, 1793620800 + i, i, i * 7919, i, i % 500) for i in range(events))


def write_shopify(path: Path, orders: int) -> None:
    """A Shopify orders export of ``orders`` one-line orders, built from the fixture's first row."""
    header, first, *_ = list(
        csv.reader(io.StringIO((FIXTURES / "orders" / "shopify_orders.csv").read_text()))
    )
    columns = {name: index for index, name in enumerate(header)}
    first[columns["Note Attributes"]] = ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i in range(orders):
        row = list(first)
        row[columns["Name"]] = f"#{100000 + i}"
        row[columns["Email"]] = f"buyer{i}@example.com"
        row[columns["Total"]] = f"{i % 400}.50"
        writer.writerow(row)
    path.write_text(out.getvalue(), encoding="utf-8")


# --- the kill -----------------------------------------------------------------------------------------


def kill_mid_ingest(db: Path, source: str, path: Path, kill_after: float | None) -> tuple[bool, float]:
    """Run the ingest and SIGKILL it once the store file grows by ``GROWTH`` bytes or ``kill_after``
    seconds pass. Returns (killed before it exited, seconds it ran)."""
    size = db.stat().st_size
    started = time.monotonic()
    process = subprocess.Popen(
        cli(db, "ingest", "--source", source, path),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while process.poll() is None:
            elapsed = time.monotonic() - started
            grown = db.stat().st_size - size >= GROWTH
            if grown or (kill_after is not None and elapsed >= kill_after) or elapsed > DEADLINE:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return True, elapsed
            time.sleep(0.01)
        return False, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def crash_and_recover(tmp_path: Path, source: str, path: Path) -> None:
    """Seed a store, kill an ingest of ``path`` mid-transaction, check the store, then ingest again."""
    db = tmp_path / "store.duckdb"
    seed = subprocess.run(
        cli(db, "ingest", "--source", "server", SEED), cwd=REPO, capture_output=True, check=False
    )
    assert seed.returncode == 0, seed.stderr
    before = recovered_dump(db)
    pristine = tmp_path / "pristine.duckdb"
    pristine.write_bytes(db.read_bytes())

    kill_after: float | None = None
    for _attempt in range(2):
        killed, ran = kill_mid_ingest(db, source, path, kill_after)
        after = recovered_dump(db)
        if killed and len(after["batches"]) == len(before["batches"]):
            assert after == before  # nothing of the killed batch survived, and nothing else changed
            break
        # too late: the batch committed before the kill; it must then be whole, not partial
        assert len(after["batches"]) == len(before["batches"]) + 1
        new = next(row for row in after["batches"] if row not in before["batches"])
        assert new[6] + new[7] + new[8] == new[5]  # rows_read = stored + already + quarantined
        db.write_bytes(pristine.read_bytes())
        for leftover in tmp_path.glob("store.duckdb.wal"):
            leftover.unlink()
        kill_after = ran * 0.5
    else:
        pytest.skip(f"ingest of {path.name} always finished before the kill; machine too fast for the file")

    out = subprocess.run(
        cli(db, "ingest", "--source", source, path), cwd=REPO, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "already ingested" not in out.stdout
    assert len(dump(db)["batches"]) == len(before["batches"]) + 1


@pytest.mark.slow
def test_killed_server_jsonl_ingest_leaves_store_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "big_capi_log.jsonl"
    write_server_log(path, 30_000)
    crash_and_recover(tmp_path, "server", path)


@pytest.mark.slow
def test_killed_shopify_ingest_leaves_store_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "big_orders_export.csv"
    write_shopify(path, 10_000)
    crash_and_recover(tmp_path, "orders", path)
