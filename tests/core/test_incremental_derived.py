"""Incremental derived tables equal a rebuild from scratch, row for row (capi_core/derived.py).

The demo shop (every injected defect: reused ids over weeks, fallback matches, would-be pairs, name
variants, leads) is cut into batches that are ingested in random orders, with undos and re-ingests in
between; after every step the derived tables must be what ``derived.refresh`` computes from the same
stored rows. Hand-built cases pin the links that cross batches: an undo that removes the browser copy a
server copy was merged into, and a reused id whose windows shift when an early copy arrives late.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capi_core import derived
from capi_core.demo import DemoConfig, generate
from capi_core.ingest import delete_batch, ingest_file
from capi_core.store import Store
from tests.factories import copy, load, load_truth, order

#: demo files cut into batches: (file, --source, pieces)
_FILES = (
    ("orders_export.csv", "orders", 1),
    ("crm_leads.csv", "leads", 1),
    ("capi_log.jsonl", "server", 3),
    ("lead_capi_log.jsonl", "server", 1),
    ("pixel_beacons.txt", "browser", 3),
    ("lead_beacons.txt", "browser", 1),
)


def _stable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # a sum of doubles depends on the order DuckDB adds them in (a record's sent value over its copies),
    # in a rebuild as much as in an update: compared to 9 decimals, every other value exactly
    return tuple(round(value, 9) if isinstance(value, float) else value for value in row)


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every derived table's rows, in a stable order."""
    return {
        table: sorted((_stable(row) for row in store.query(table, f"select * from {table}").rows), key=repr)
        for table in derived.ALL_TABLES
    }


def assert_incremental_equals_rebuild(store: Store) -> None:
    """The tables as ingest / undo left them equal the tables ``derived.refresh`` computes (which stay)."""
    incremental = snapshot(store)
    with store.transaction() as tx:
        derived.refresh(tx)
    full = snapshot(store)
    for table in full:
        assert incremental[table] == full[table], f"{table} differs from a rebuild"


@pytest.fixture(scope="module")
def demo_pieces(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    """The demo files, event logs cut into line ranges (one file per batch)."""
    folder = tmp_path_factory.mktemp("demo")
    generate(folder, DemoConfig())
    pieces: list[tuple[Path, str]] = []
    for name, source, parts in _FILES:
        lines = (folder / name).read_text(encoding="utf-8").splitlines(keepends=True)
        if parts == 1:
            pieces.append((folder / name, source))
            continue
        size = -(-len(lines) // parts)
        for index in range(parts):
            piece = folder / f"part{index}_{name}"
            piece.write_text("".join(lines[index * size : (index + 1) * size]), encoding="utf-8")
            pieces.append((piece, source))
    return pieces


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_batches_in_any_order_with_undos_equal_a_rebuild(
    demo_pieces: list[tuple[Path, str]], tmp_path: Path, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(len(demo_pieces))), label="ingest order")
    undo_after = data.draw(
        st.lists(st.integers(0, len(order) - 1), max_size=3, unique=True), label="undo after step"
    )
    store_path = tmp_path / f"incremental-{len(list(tmp_path.iterdir()))}.duckdb"
    with Store(store_path) as store:
        batches: list[int] = []
        for step, index in enumerate(order):
            path, source = demo_pieces[index]
            result = ingest_file(store, path, source)
            assert result.batch_id is not None
            batches.append(result.batch_id)
            if step in undo_after:
                victim = data.draw(st.sampled_from(batches), label="undone batch")
                assert delete_batch(store, victim)
                batches.remove(victim)
                assert_incremental_equals_rebuild(store)
        assert_incremental_equals_rebuild(store)


def _server_line(event: dict[str, Any], sent_at: int) -> str:
    body = {
        "sent_at": sent_at,
        "pixel_id": "111",
        "request": {"data": [event]},
        "response": {"events_received": 1},
    }
    return json.dumps(body) + "\n"


def _event(name: str, at: int, **fields: Any) -> dict[str, Any]:
    user = {key: fields.pop(key) for key in ("fbp", "external_id") if key in fields}
    user.setdefault("client_user_agent", "Mozilla/5.0")
    return {"event_name": name, "event_time": at, "action_source": "website", "user_data": user, **fields}


def _browser_line(event_name: str, at_ms: int, *, eid: str | None = None, fbp: str | None = None) -> str:
    query = f"id=111&ev={event_name}&ts={at_ms}"
    if eid:
        query += f"&eid={eid}"
    if fbp:
        query += f"&fbp={fbp}"
    return f"https://www.facebook.com/tr/?{query}\n"


T0 = 1_762_000_000  # 2025-11-01 12:26:40 UTC
FBP = "fb.1.1762000000000.1234567890"


def test_undo_of_the_browser_copy_a_server_copy_merged_into(tmp_path: Path) -> None:
    """The fbp fallback crosses batches: removing the browser copy makes the server copy counted again."""
    browser = tmp_path / "beacons.txt"
    browser.write_text(_browser_line("ViewContent", T0 * 1000, fbp=FBP), encoding="utf-8")
    server = tmp_path / "capi.jsonl"
    server.write_text(_server_line(_event("ViewContent", T0 + 30, fbp=FBP), T0 + 30), encoding="utf-8")
    with Store(tmp_path / "s.duckdb") as store:
        browser_batch = ingest_file(store, browser, "browser").batch_id
        ingest_file(store, server, "server")
        verdicts = store.query("v", "select reason from copy_verdicts order by reason").rows
        assert verdicts == [("fbp_match",), (None,)]
        assert_incremental_equals_rebuild(store)
        assert browser_batch is not None and delete_batch(store, browser_batch)
        assert store.query("v", "select verdict, reason from copy_verdicts").rows == [("counted", None)]
        assert_incremental_equals_rebuild(store)


def test_a_late_early_copy_shifts_the_windows_of_a_reused_id(tmp_path: Path) -> None:
    """Copies at 40 h and 60 h of one id: a copy at 0 h ingested later re-anchors both windows."""
    hour = 3600
    later = tmp_path / "later.jsonl"
    later.write_text(
        "".join(
            _server_line(_event("Lead", T0 + h * hour, event_id="undefined"), T0 + h * hour)
            for h in (40, 60, 100)
        ),
        encoding="utf-8",
    )
    early = tmp_path / "early.txt"
    early.write_text(_browser_line("Lead", T0 * 1000, eid="undefined"), encoding="utf-8")
    with Store(tmp_path / "s.duckdb") as store:
        ingest_file(store, later, "server")
        before = store.query("w", "select window_no from copy_verdicts order by window_no").rows
        assert before == [(1,), (1,), (2,)]
        early_batch = ingest_file(store, early, "browser").batch_id
        after = store.query("w", "select window_no from copy_verdicts order by window_no").rows
        assert after == [(1,), (1,), (2,), (2,)]  # windows anchored at 0 h and 60 h
        assert_incremental_equals_rebuild(store)
        assert early_batch is not None and delete_batch(store, early_batch)
        assert store.query("w", "select window_no from copy_verdicts order by window_no").rows == before
        assert_incremental_equals_rebuild(store)


def test_rebuild_command_recomputes_every_table(tmp_path: Path) -> None:
    server = tmp_path / "capi.jsonl"
    server.write_text(_server_line(_event("Purchase", T0, event_id="o1"), T0), encoding="utf-8")
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        ingest_file(store, server, "server")
        before = snapshot(store)
    done = subprocess.run(
        [sys.executable, "-m", "capi_core", "--db", str(db), "rebuild"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "derived tables rebuilt over 1 events" in done.stdout
    with Store(db) as store:
        assert snapshot(store) == before


def test_a_later_order_export_moves_the_truth_period_and_relinks(tmp_path: Path) -> None:
    """An overlapping export updates an order's status and extends the period: an unlinked copy three days
    after the first order stops being outside the export's period; undoing the export restores both."""
    three_days = 3 * 24 * 60
    with Store(tmp_path / "s.duckdb") as store:
        load_truth(store, [order("#1001", 0)], label="first export")
        load(
            store,
            [copy("server", event_id="1001", minute=1), copy("server", event_id="zzz", minute=three_days)],
        )
        reasons = "select event_id, truth_id, phantom_reason from copy_truth_links order by event_id"
        assert store.query("links", reasons).rows == [
            ("1001", "1001", None),
            ("zzz", None, "outside_truth_window"),
        ]
        later = load_truth(
            store,
            [order("#1001", 0, status="refunded"), order("#1002", three_days - 5, line_no=2)],
            label="second export",
        )
        assert store.query("links", reasons).rows == [("1001", "1001", None), ("zzz", None, "unknown_id")]
        assert store.query("status", "select status from truth_verdicts where truth_id = '1001'").rows == [
            ("refunded",)
        ]
        assert_incremental_equals_rebuild(store)
        assert later.batch_id is not None and delete_batch(store, later.batch_id)
        assert store.query("links", reasons).rows == [
            ("1001", "1001", None),
            ("zzz", None, "outside_truth_window"),
        ]
        assert_incremental_equals_rebuild(store)


def test_a_store_of_the_previous_version_is_rebuilt_on_open_then_updated_incrementally(
    tmp_path: Path,
) -> None:
    """A store whose derived tables came from other SQL (no bookkeeping tables, another hash) is rebuilt
    when opened, with no command to run, and the opener hears each table rebuilt (the CLI prints a line
    per table: minutes at 10 M events); the next ingest is then incremental and equals a rebuild."""
    db = tmp_path / "old.duckdb"
    heard: list[str] = []
    with Store(db, on_rebuild=heard.append) as store:
        load_truth(store, [order("#1001", 0)])
        load(store, [copy("server", event_id="1001", minute=1)], label="first")
        with store.transaction() as tx:  # what the previous version left: no bookkeeping, its own hash
            for table in ("copy_match_keys", "recon_match_keys", "recon_rate_offsets"):
                tx.execute("drop", f"drop table {table}")
            tx.execute("old hash", "update derived_state set sql_sha256 = 'built-by-an-earlier-version'")
    assert heard == [], "a new store is built, not rebuilt: nothing to announce"
    with Store(db, on_rebuild=heard.append) as store:
        assert {"copy_match_keys", "copy_verdicts", "copy_truth_links"} <= set(heard)
        assert (
            store.query("hash", "select sql_sha256 from derived_state").scalar()
            == derived.definition_sha256()
        )
        load(store, [copy("browser", event_id="1001", minute=1)], label="second")
        assert store.query("v", "select count(*) from copy_verdicts where merged").scalar() == 2
        assert_incremental_equals_rebuild(store)
