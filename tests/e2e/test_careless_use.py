"""Issue 12, cases 8-16: careless and hostile use, end to end through ``python -m capi_core``.

Each case is met the way a user meets it: the CLI in a subprocess (exit 2 and one ``capi-desk: error:``
line, never a traceback, the store unchanged or never created), the sandbox through a real socket. The
Event contracts page (case 13) is covered in tests/app/test_contracts_page.py; the fast path's handling
of NUL lines (case 16) in tests/core/test_fast_ingest.py.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capi_core.meta.sandbox import Sandbox
from capi_core.store import Store

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SERVER_LOG = FIXTURES / "server" / "log.jsonl"
ORDERS = FIXTURES / "orders" / "shopify_orders.csv"


# --- helpers (duplicated from test_bad_input.py: test modules do not import each other) ------------------


def run_cli(db: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m capi_core --db DB ARGS`` in a real subprocess, from the repo root."""
    return subprocess.run(
        [sys.executable, "-m", "capi_core", "--db", str(db), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=300,
    )


def assert_one_line_error(out: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 2, exactly one stderr line starting ``capi-desk: error:`` holding ``needles``, no traceback."""
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr[-2000:])
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("capi-desk: error:"), out.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the store, rows sorted: equal dumps mean an unchanged store."""
    with Store(db, read_only=True) as store:
        tables = store.query(
            "tables",
            "select table_name from information_schema.tables where table_schema = 'main' order by 1",
        ).rows
        return {name: store.query(name, f'select * from "{name}" order by all').rows for (name,) in tables}


@pytest.fixture(scope="module")
def shop_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the server log and the Shopify orders (built once)."""
    db = tmp_path_factory.mktemp("shop") / "shop.duckdb"
    for source, path in (("server", SERVER_LOG), ("orders", ORDERS)):
        out = run_cli(db, "ingest", "--source", source, path)
        assert out.returncode == 0, out.stderr
    return db


@pytest.fixture
def shop(shop_template: Path, tmp_path: Path) -> Path:
    """A private copy of the shop store."""
    db = tmp_path / "shop.duckdb"
    shutil.copyfile(shop_template, db)
    return db


# --- 8. owner-only store files ----------------------------------------------------------------------------


def test_new_store_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    out = run_cli(db, "ingest", "--source", "server", SERVER_LOG)
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    # the .wal exists between a commit and the next checkpoint: seen from a store kept open
    with Store(db) as store:
        with store.transaction() as tx:
            tx.execute("note", "insert into annotations values (1, date '2026-11-04', 'deploy', now())")
        wal = Path(f"{db}.wal")
        assert wal.exists()
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600


# --- 9. --out that is a store -----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["the store", "another store"])
def test_report_out_never_overwrites_a_store(shop: Path, tmp_path: Path, target: str) -> None:
    out_path = shop if target == "the store" else tmp_path / "other.duckdb"
    if target == "another store":
        shutil.copyfile(shop, out_path)
    before = out_path.read_bytes()
    out = run_cli(shop, "report", "--format", "md", "--out", out_path)
    assert_one_line_error(out, "is a DuckDB store")
    assert out_path.read_bytes() == before


# --- 10. a data file as the store -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders.csv", "events.json", "events.parquet"])
def test_data_file_as_store_is_refused(tmp_path: Path, name: str) -> None:
    db = tmp_path / name
    source = {"orders.csv": ORDERS, "events.json": FIXTURES / "server" / "events_array.json"}.get(name)
    if source is None:
        db.write_bytes(b"PAR1" + bytes(64) + b"PAR1")
    else:
        shutil.copyfile(source, db)
    before = db.read_bytes()
    out = run_cli(db, "ingest", "--source", "orders", ORDERS)
    assert_one_line_error(out, "is not a DuckDB store")
    assert "stored" not in out.stdout
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


# --- 11. a missing store ----------------------------------------------------------------------------------

READ_ONLY_COMMANDS = [
    ["report", "--fail-on", "high"],
    ["drift"],
    ["contracts", "validate"],
    ["batches"],
    ["export-spark", "--to", "spark_out"],
    ["leads", "show"],
    ["leads", "set-event", "Lead"],
    ["annotate", "list"],
    ["meta-quality", "list"],
    ["undo", "1"],
]


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS, ids=lambda c: " ".join(c))
def test_missing_store_is_an_error_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    out = run_cli(tmp_path / "sub" / "typo.duckdb", *command)
    assert_one_line_error(out, "no store at", "typo.duckdb")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["missing", "empty", "binary"])
def test_failed_first_ingest_leaves_no_store_and_no_folders(tmp_path: Path, bad: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "log.jsonl"
    if bad != "missing":
        path.write_bytes(b"" if bad == "empty" else b"\x00\x01\x02" * 100)
    out = run_cli(tmp_path / "new" / "deep" / "store.duckdb", "ingest", "--source", "server", path)
    assert_one_line_error(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_failed_second_file_keeps_the_new_store_with_the_first(tmp_path: Path) -> None:
    db = tmp_path / "new" / "store.duckdb"
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    out = run_cli(db, "ingest", "--source", "server", SERVER_LOG, empty)
    assert_one_line_error(out, "empty")
    assert len(dump(db)["batches"]) == 1


# --- 12. a scope naming what the store does not hold --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["report", "--event", "Purchse"], ["no event 'Purchse' in the store", "Purchase"]),
        (["report", "--from", "2026-11-05", "--to", "2026-11-01"], ["is after --to", "swap them"]),
        (["report", "--pixel-id", "999"], ["no pixel '999' in the store", "pixels: "]),
        (["report", "--week", "2026-W46", "--event", "Purchse"], ["no event 'Purchse'"]),
        (["drift", "--pixel-id", "999"], ["no pixel '999'"]),
        (["leads", "set-event", "Leadd"], ["no event 'Leadd' in the store", "Lead"]),
    ],
    ids=["event", "dates", "pixel", "week-event", "drift-pixel", "lead-event"],
)
def test_scope_typos_are_named_with_what_exists(shop: Path, args: list[str], needles: list[str]) -> None:
    before = dump(shop)
    out = run_cli(shop, *args)
    assert_one_line_error(out, *needles)
    assert out.stdout == ""
    assert dump(shop) == before


def test_an_existing_event_still_reports(shop: Path) -> None:
    out = run_cli(shop, "report", "--event", "Purchase", "--pixel-id", "111")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["counts"]["total"] > 0


# --- 13. a pixel id that is not a number --------------------------------------------------------------


def _dummy_pixel_log(tmp_path: Path) -> Path:
    """The server log with one line sent to the pixel ``dummyPixelId`` (as rudderlabs' real sample)."""
    lines = SERVER_LOG.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["pixel_id"] = "dummyPixelId"
    path = tmp_path / "dummy.jsonl"
    path.write_text(json.dumps(first) + "\n", encoding="utf-8")
    return path


def test_contracts_validate_skips_a_pixel_that_is_not_a_number(shop: Path, tmp_path: Path) -> None:
    assert run_cli(shop, "ingest", "--source", "server", _dummy_pixel_log(tmp_path)).returncode == 0
    out = run_cli(shop, "contracts", "validate")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert "'dummyPixelId' skipped: not a Meta pixel id" in out.stderr
    assert "contract of pixel 111" in out.stdout
    named = run_cli(shop, "contracts", "validate", "--pixel-id", "dummyPixelId")
    assert_one_line_error(named, "is not a Meta pixel id")


def test_contracts_validate_on_the_real_rudderlabs_sample(tmp_path: Path, samples: Path) -> None:
    sample = samples / "meta_capi" / "rudderlabs_facebook_pixel_output.json"
    db = tmp_path / "store.duckdb"
    assert run_cli(db, "ingest", "--source", "server", sample).returncode == 0
    out = run_cli(db, "contracts", "validate")
    assert_one_line_error(out, "'dummyPixelId' is not a Meta pixel id")


# --- 14. hostile shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["server", "browser"])
def test_first_line_nested_5000_deep(shop: Path, tmp_path: Path, source: str) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"a":' * 5000 + "1" + "}" * 5000 + "\n", encoding="utf-8")
    before = dump(shop)
    assert_one_line_error(run_cli(shop, "ingest", "--source", source, path))
    assert dump(shop) == before


@pytest.mark.parametrize("fix", ["fast-path", "python-path"])
def test_a_deep_line_with_a_token_is_quarantined(tmp_path: Path, fix: str) -> None:
    """orjson parses up to 1,024 levels; the recursive steps after it must not crash on them."""
    newline = "\n" if fix == "fast-path" else "\r\n"
    good = SERVER_LOG.read_text(encoding="utf-8").splitlines()[0]
    deep = '{"event_name":"Purchase","event_time":1793620800,"access_token":"EAAtoken0123456789",'
    deep += '"custom_data":' + '{"a":' * 1000 + "1" + "}" * 1001
    path = tmp_path / "log.jsonl"
    path.write_text(newline.join([good, deep]) + newline, encoding="utf-8")
    db = tmp_path / "store.duckdb"
    out = run_cli(db, "ingest", "--source", "server", path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert dump(db)["quarantine"][0][1:3] == (2, "nested deeper than 64 levels")


def test_ingest_of_a_device_is_refused_at_once(shop: Path) -> None:
    before = dump(shop)
    out = run_cli(shop, "ingest", "--source", "server", "/dev/zero")
    assert_one_line_error(out, "not a regular file")
    assert dump(shop) == before


def test_report_out_in_a_missing_folder(shop: Path, tmp_path: Path) -> None:
    out = run_cli(shop, "report", "--format", "md", "--out", tmp_path / "missing" / "x.md")
    assert_one_line_error(out, "cannot write", "check that the folder exists")


def test_sandbox_port_out_of_range(tmp_path: Path) -> None:
    out = run_cli(tmp_path / "unused.duckdb", "sandbox", "--port", "80000")
    assert_one_line_error(out, "--port 80000 is not a port")


@pytest.mark.parametrize("events", ["deep", "device"])
def test_push_events_nested_deep_or_a_device(tmp_path: Path, events: str) -> None:
    path = Path("/dev/zero") if events == "device" else tmp_path / "deep.json"
    if events == "deep":
        path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "capi_core", "--db", str(tmp_path / "s.duckdb"), "push", "--pixel-id", "1",
         "--test-event-code", "TEST1", "--events", str(path), "--base-url", "http://127.0.0.1:9"],
        capture_output=True, text=True, check=False, cwd=REPO, timeout=60,
        env={**os.environ, "META_ACCESS_TOKEN": "token"},
    )  # fmt: skip
    assert_one_line_error(out, "nests too deeply" if events == "deep" else "not a regular file")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(port=0) as sb:
        yield sb


def _exchange(port: int, request: bytes, *, read_all: bool = True) -> bytes:
    """Send raw bytes to the sandbox; every byte until it closes the connection, or its first answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        if not read_all:
            answer = http.client.HTTPResponse(conn)
            answer.begin()
            return f"HTTP/1.1 {answer.status}\r\n".encode() + answer.read()
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def _post(body: bytes, *, length: int | None = None) -> bytes:
    head = (
        "POST /v26.0/1234567890123456/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Authorization: Bearer token\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n\r\n"
    )
    return head.encode() + body


@pytest.mark.parametrize("depth", [40, 5000, 100_000])
def test_sandbox_answers_400_to_a_deeply_nested_body(sandbox: Sandbox, depth: int) -> None:
    body = b'{"data": ' + b"[" * depth + b"]" * depth + b"}"
    answer = _exchange(sandbox.port, _post(body), read_all=False)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"nested deeper than 32 levels" in answer or b"not valid JSON" in answer


def test_sandbox_refuses_an_unread_oversized_body_and_closes(sandbox: Sandbox) -> None:
    """A second request hidden in the unread body must never be answered."""
    smuggled = _post(b'{"data": []}')
    answer = _exchange(sandbox.port, _post(smuggled, length=33 * 1024 * 1024) + smuggled)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert answer.count(b"HTTP/1.1") == 1
    assert b"Connection: close" in answer
    assert sandbox.requests == []


# --- 15. control codes and links in the Markdown report -------------------------------------------------


def test_markdown_report_neutralises_terminal_codes_and_links(tmp_path: Path) -> None:
    hostile = "Buy\x1b]8;;https://evil.example\x07now\x1b[2J\r[x](javascript:alert(1))"
    line = json.loads(SERVER_LOG.read_text(encoding="utf-8").splitlines()[0])
    line["request"]["body"]["data"][0]["event_name"] = hostile
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    assert run_cli(db, "ingest", "--source", "server", path).returncode == 0
    out = run_cli(db, "report", "--format", "md")
    assert out.returncode == 0, out.stderr
    assert "Buy\\\\x1b\\]8;;https://evil.example\\\\x07now" in out.stdout
    for raw in ("\x1b", "\x07", "\r", "[x](javascript:"):
        assert raw not in out.stdout
    assert "\\[x\\](javascript:alert(1))" in out.stdout


# --- 16. a log whose tail a crash zero-filled -------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["fast-path", "python-path"])
@pytest.mark.parametrize("source", ["server", "browser-beacons"])
def test_zero_filled_tail_quarantines_the_nul_lines_and_stores_the_rest(
    tmp_path: Path, newline: str, source: str
) -> None:
    good = (FIXTURES / "browser" / "beacons.txt") if source == "browser-beacons" else SERVER_LOG
    lines = good.read_text(encoding="utf-8").splitlines()
    body = newline.join(lines).encode() + newline.encode()
    # a line cut short by the crash, then 8 KiB of zeros (no final newline, as a crash leaves it)
    path = tmp_path / "log.jsonl"
    record = next(line for line in lines if line.startswith(("{", "http")))
    path.write_bytes(body + record[:20].encode() + bytes(8192))
    db = tmp_path / "store.duckdb"
    out = run_cli(db, "ingest", "--source", source.split("-")[0], path)
    assert out.returncode == 0, out.stderr[-2000:]
    reference = tmp_path / "reference.duckdb"
    good_only = tmp_path / "good.jsonl"
    good_only.write_bytes(body)
    assert run_cli(reference, "ingest", "--source", source.split("-")[0], good_only).returncode == 0
    stored, expected = dump(db), dump(reference)
    assert len(stored["events"]) == len(expected["events"]) > 0
    nul_rows = [row for row in stored["quarantine"] if row[2].startswith("NUL bytes")]
    assert [row[1] for row in nul_rows] == [len(lines) + 1]
    assert "\x00" not in (nul_rows[0][3] or "")


def test_a_file_of_zeros_is_still_binary(shop: Path, tmp_path: Path) -> None:
    path = tmp_path / "zeros.jsonl"
    path.write_bytes(bytes(4096))
    assert_one_line_error(run_cli(shop, "ingest", "--source", "server", path), "looks binary")
