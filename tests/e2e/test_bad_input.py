"""SPEC §7 "Bad input" and the §2 store rules, end to end through ``python -m capi_core`` on real files.

Unreadable files (empty, blank, binary, truncated, wrong encoding, wrong shape, huge line, missing,
a directory) must exit 2 with one ``capi-desk: error:`` line and leave every table byte-for-byte as it
was. Readable files with bad rows must exit 0, quarantine each bad row with its line number and reason,
store hostile strings verbatim, and keep rows_read = stored + already stored + quarantined. Server JSONL
goes through the DuckDB fast path when its lines end in ``\\n``; the same content with ``\\r\\n`` endings
is refused by ``fast_ingest.fast_format`` and read by the Python reader, so every row-level test runs on
both paths.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from capi_core.store import Store

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
GOOD = {
    "server": FIXTURES / "server" / "log.jsonl",
    "browser": FIXTURES / "browser" / "beacons.txt",
    "orders": FIXTURES / "orders" / "shopify_orders.csv",
}
SOURCES = ("server", "browser", "orders")
MiB = 1024 * 1024


# --- helpers (duplicated in test_privacy.py / test_crash_safety.py: test modules do not import each other)


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


def ingest(db: Path, source: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """``capi-desk ingest --source SOURCE FILES``."""
    return run_cli(db, "ingest", "--source", source, *files)


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the store, rows sorted: equal dumps mean an unchanged store."""
    with Store(db, read_only=True) as store:
        tables = store.query(
            "tables",
            "select table_name from information_schema.tables where table_schema = 'main' order by 1",
        ).rows
        return {name: store.query(name, f'select * from "{name}" order by all').rows for (name,) in tables}


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one read query on the store file."""
    with Store(db, read_only=True) as store:
        return store.query("test", sql).rows


def assert_one_line_error(out: subprocess.CompletedProcess[str]) -> None:
    """Exit 2, exactly one stderr line starting ``capi-desk: error:``, no traceback."""
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr[-2000:])
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and out.stderr.endswith("\n"), out.stderr[-2000:]
    assert lines[0].startswith("capi-desk: error:"), lines[0]


def assert_counts_add_up(db: Path) -> None:
    """SPEC §7: for every batch, rows read = stored + already stored + quarantined (and the tables agree)."""
    rows = query(
        db,
        """select b.batch_id, b.rows_read, b.rows_stored, b.rows_already_stored, b.rows_quarantined,
          (select count(*) from events e where e.batch_id = b.batch_id)
            + (select count(*) from truth t where t.batch_id = b.batch_id),
          (select count(*) from quarantine q where q.batch_id = b.batch_id)
        from batches b""",
    )
    assert rows
    for batch_id, read, stored, already, quarantined, in_tables, in_quarantine in rows:
        assert read == stored + already + quarantined, batch_id
        assert stored == in_tables and quarantined == in_quarantine, batch_id


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one good batch of each source (built once: each CLI run costs seconds)."""
    db = tmp_path_factory.mktemp("seeded") / "store.duckdb"
    for source in SOURCES:
        out = ingest(db, source, GOOD[source])
        assert out.returncode == 0, out.stderr
    assert not db.with_name(db.name + ".wal").exists()
    return db


@pytest.fixture
def seeded(seeded_template: Path, tmp_path: Path) -> Path:
    """A private copy of the seeded store, so "unchanged" is checked on a non-empty store."""
    db = tmp_path / "store.duckdb"
    shutil.copyfile(seeded_template, db)
    return db


# --- hostile files ----------------------------------------------------------------------------------

_EVENT = {
    "event_name": "Purchase",
    "event_time": 1793620800,
    "event_id": "1001",
    "action_source": "website",
    "custom_data": {"value": 10, "currency": "USD"},
}
_SHOPIFY = (FIXTURES / "orders" / "shopify_orders.csv").read_text(encoding="utf-8")
_HAR = (FIXTURES / "browser" / "capture.har").read_text(encoding="utf-8")
_LOG = (FIXTURES / "server" / "log.jsonl").read_text(encoding="utf-8")


def _random_binary() -> bytes:
    rng = random.Random(7)
    return bytes(rng.randrange(256) for _ in range(4096)) + b"\x00\x00"


def _png() -> bytes:
    """The 8-byte PNG signature and a 1x1 IHDR chunk (length bytes hold NULs)."""
    ihdr = b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + ihdr + b"\x1f\x15\xc4\x89"


def _truncated_array() -> bytes:
    text = json.dumps([_EVENT, {**_EVENT, "event_id": "1002"}, {**_EVENT, "event_id": "1003"}], indent=2)
    return text[: len(text) * 2 // 3].encode()


def _latin1_jsonl() -> bytes:
    good = json.dumps(_EVENT).encode()
    bad = json.dumps({**_EVENT, "event_id": "1002", "status": "café"}, ensure_ascii=False)
    return good + b"\n" + bad.encode("latin-1") + b"\n" + good + b"\n"


def _huge_jsonl_line() -> bytes:
    """Three events; the second carries a 17 MiB string, so its line is longer than 16 MiB."""
    huge = json.dumps({**_EVENT, "event_id": "huge", "custom_data": {"content_name": "x" * (17 * MiB)}})
    good = json.dumps(_EVENT)
    return f"{good}\n{huge}\n{good}\n".encode()


def _huge_beacon_line() -> bytes:
    good = "https://www.facebook.com/tr/?id=111&ev=PageView&ts=1793620700000"
    return f"{good}\n{good}&cd[x]={'y' * (17 * MiB)}\n{good}\n".encode()


def _huge_csv_line() -> bytes:
    header, first, *rest = _SHOPIFY.split("\n", 2)
    huge = first.replace("Dog Bed", "Dog Bed " + "z" * (17 * MiB), 1)
    return "\n".join([header, huge, *rest]).encode()


HOSTILE_FILES: dict[str, Any] = {
    "empty.jsonl": lambda: b"",
    "blank.jsonl": lambda: b"  \n\n\t \n   \n",
    "random.bin": _random_binary,
    "image.png": _png,
    "truncated.json": _truncated_array,
    "utf16.jsonl": lambda: (json.dumps(_EVENT) + "\n").encode("utf-16"),
    "latin1.jsonl": _latin1_jsonl,
    "huge_line.jsonl": _huge_jsonl_line,
    # CRLF endings keep a server file off the DuckDB fast path: the Python reader's own limit
    "huge_line_crlf.jsonl": lambda: _huge_jsonl_line().replace(b"\n", b"\r\n"),
}
#: Files that are well formed but of the wrong kind for the source.
WRONG_SHAPE: dict[str, tuple[str, Any]] = {
    "server": ("orders.csv", lambda: _SHOPIFY.encode()),
    "orders": ("capi_log.jsonl", lambda: _LOG.encode()),
    "browser": ("orders.csv", lambda: _SHOPIFY.encode()),
}
#: A HAR given as server must fail too (brief: "a HAR given as --source server").
EXTRA_WRONG: list[tuple[str, str, Any]] = [
    ("server", "capture.har", lambda: _HAR.encode()),
    ("browser", "huge_beacon.txt", _huge_beacon_line),
    ("orders", "huge_row.csv", _huge_csv_line),
]


def _cases() -> list[Any]:
    cases = []
    for source in SOURCES:
        for name, build in HOSTILE_FILES.items():
            marks = [pytest.mark.slow] if "huge" in name else []
            cases.append(pytest.param(source, name, build, id=f"{source}-{name}", marks=marks))
        name, build = WRONG_SHAPE[source]
        cases.append(pytest.param(source, name, build, id=f"{source}-wrong-{name}"))
    for source, name, build in EXTRA_WRONG:
        marks = [pytest.mark.slow] if "huge" in name else []
        cases.append(pytest.param(source, name, build, id=f"{source}-wrong-{name}", marks=marks))
    return cases


@pytest.mark.parametrize(("source", "name", "build"), _cases())
def test_unreadable_file_is_one_line_exit_2_and_store_unchanged(
    seeded: Path, tmp_path: Path, source: str, name: str, build: Any
) -> None:
    path = tmp_path / name
    path.write_bytes(build())
    before = dump(seeded)
    out = ingest(seeded, source, path)
    assert_one_line_error(out)
    assert out.stdout == ""
    assert dump(seeded) == before


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_missing_file_or_directory_is_exit_2(seeded: Path, tmp_path: Path, source: str, kind: str) -> None:
    path = tmp_path / "nope.jsonl"
    if kind == "directory":
        path = tmp_path / "a_folder"
        path.mkdir()
    before = dump(seeded)
    out = ingest(seeded, source, path)
    assert_one_line_error(out)
    assert dump(seeded) == before


def test_failing_file_after_a_good_one_keeps_the_good_batch(seeded: Path, tmp_path: Path) -> None:
    """One file = one transaction: ``ingest good bad`` commits good, then fails on bad with exit 2."""
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({**_EVENT, "event_id": "only-here"}) + "\n", encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"")
    before = query(seeded, "select count(*) from batches")[0][0]
    out = ingest(seeded, "server", good, bad)
    assert_one_line_error(out)
    assert "good.jsonl" in out.stdout
    assert query(seeded, "select count(*) from batches")[0][0] == before + 1
    assert query(seeded, "select count(*) from events where event_id = 'only-here'") == [(1,)]


# --- row-level bad input ------------------------------------------------------------------------------

LONG = "L" * 10_000
#: Hostile but valid values; canonical.py keeps event_name/event_id to 256 characters and
#: event_source_url to 2,048, so a 10 KB value is stored as its first 256 / 2,048 characters.
HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "'); drop table events;--",
    "Purchase\u202e\u200b\u200d\u2066evil\u2069",
    "nul\u0000byte",
    LONG,
]


def _row_level_lines() -> tuple[list[str], dict[int, str]]:
    """JSONL lines of a capi_events file and the expected quarantine reason per (1-based) line."""
    lines: list[str] = []
    bad: dict[int, str] = {}

    def add(text: str, reason: str | None = None) -> None:
        lines.append(text)
        if reason is not None:
            bad[len(lines)] = reason

    add(json.dumps({**_EVENT, "event_id": "good-1"}))
    add('{"event_name": "Purchase", "event_time": 17936', "not valid JSON")
    add('"just a string"', "event is not a JSON object")
    add("[1, 2, 3]", "event is not a JSON object")
    add("42", "event is not a JSON object")
    add(json.dumps({"event_time": 1793620800, "event_id": "no-name"}), "event_name is missing")
    add(json.dumps({"event_name": "", "event_time": 1793620800}), "event_name is missing")
    add(json.dumps({"event_name": 7, "event_time": 1793620800}), "event_name is not text")
    add(json.dumps({"event_name": "Lead", "user_data": "a string"}), "user_data is not an object")
    add("")  # blank lines are skipped, never counted
    for index, name in enumerate(HOSTILE_NAMES):
        add(json.dumps({**_EVENT, "event_name": name, "event_id": f"hostile-{index}"}))
    add(json.dumps({**_EVENT, "event_id": LONG}))
    add(json.dumps({**_EVENT, "event_id": "url-js", "event_source_url": "javascript:alert(1)"}))
    add(json.dumps({**_EVENT, "event_id": "url-long", "event_source_url": "https://x.example/" + LONG}))
    add(json.dumps({**_EVENT, "event_id": "good-2"}))
    add("{not json at all", "not valid JSON")
    return lines, bad


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["fast-path", "python-path"])
def test_server_jsonl_bad_rows_are_quarantined_and_hostile_strings_kept(tmp_path: Path, newline: str) -> None:
    """Hand count: 20 non-blank lines, 10 of them bad (``bad``), so read 20, stored 10, quarantined 10."""
    lines, bad = _row_level_lines()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(newline.join(lines).encode("utf-8") + newline.encode())
    db = tmp_path / "store.duckdb"
    out = ingest(db, "server", path)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    non_blank = sum(1 for line in lines if line.strip())
    assert query(db, "select rows_read, rows_stored, rows_quarantined from batches") == [
        (non_blank, non_blank - len(bad), len(bad))
    ]
    quarantined = query(db, "select line_no, reason from quarantine order by line_no")
    assert [line for line, _ in quarantined] == sorted(bad)
    for line_no, reason in quarantined:
        assert bad[line_no] in reason, (line_no, reason)
    names = {row[0] for row in query(db, "select event_name from events")}
    for name in HOSTILE_NAMES:
        assert name[:256] in names, name[:60]
    assert query(db, "select max(length(event_name)) from events") == [(256,)]
    assert query(db, f"select count(*) from events where event_id = '{'L' * 256}'") == [(1,)]
    urls = dict(query(db, "select event_id, event_source_url from events where event_id like 'url-%'"))
    assert urls == {"url-js": "javascript:alert(1)", "url-long": ("https://x.example/" + LONG)[:2048]}
    assert query(db, "select count(*) from events where event_id = 'good-2'") == [(1,)]
    assert_counts_add_up(db)


def test_fast_and_python_paths_store_the_same_rows(tmp_path: Path) -> None:
    """The same hostile content through both paths gives the same events and quarantine (line numbers
    included; only batch ids differ, so each path gets its own store)."""
    lines, _ = _row_level_lines()
    dumps = []
    for index, newline in enumerate(["\n", "\r\n"]):
        path = tmp_path / f"mixed{index}.jsonl"
        path.write_bytes(newline.join(lines).encode("utf-8") + newline.encode())
        db = tmp_path / f"store{index}.duckdb"
        assert ingest(db, "server", path).returncode == 0
        dumps.append(
            (
                query(db, "select * exclude (batch_id) from events order by all"),
                query(db, "select line_no, reason from quarantine order by all"),
            )
        )
    assert dumps[0] == dumps[1]


def _csv_line(fields: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def test_shopify_csv_bad_rows(tmp_path: Path) -> None:
    """Three bad rows appended to the Shopify fixture: a short row, a Total that is not a number, and a
    row of order #1001 after other orders (already read). Hand count: the clean fixture's batch counts
    (measured on a clean ingest) plus 3 quarantined; the appended rows are single physical lines, so
    they sit on the fixture's last line + 1, + 2, + 3."""
    clean = tmp_path / "clean.csv"
    clean.write_text(_SHOPIFY, encoding="utf-8")
    db0 = tmp_path / "clean.duckdb"
    assert ingest(db0, "orders", clean).returncode == 0
    ((orders, clean_quarantined),) = query(db0, "select rows_stored, rows_quarantined from batches")

    header, first = list(csv.reader(io.StringIO(_SHOPIFY)))[:2]
    first[header.index("Note Attributes")] = ""  # keep each appended row on one physical line
    bad_total = list(first)
    bad_total[header.index("Name")] = "#2002"
    bad_total[header.index("Total")] = "twelve"
    last_line = _SHOPIFY.rstrip("\n").count("\n") + 1
    appended = ["#2001,x@example.com,paid\n", _csv_line(bad_total), _csv_line(first)]
    path = tmp_path / "bad_rows.csv"
    path.write_text(_SHOPIFY.rstrip("\n") + "\n" + "".join(appended), encoding="utf-8")
    db = tmp_path / "store.duckdb"
    out = ingest(db, "orders", path)
    assert out.returncode == 0, out.stderr
    ((read, stored, quarantined),) = query(db, "select rows_read, rows_stored, rows_quarantined from batches")
    assert (read, stored, quarantined) == (orders + clean_quarantined + 3, orders, clean_quarantined + 3)
    rows = query(db, f"select line_no, reason from quarantine where line_no > {last_line} order by line_no")
    assert [line for line, _ in rows] == [last_line + 1, last_line + 2, last_line + 3]
    assert "3 fields" in rows[0][1]
    assert "Total" in rows[1][1]
    assert "already read" in rows[2][1]
    assert_counts_add_up(db)


def test_beacon_file_bad_lines(tmp_path: Path) -> None:
    """Hand count: 3 good beacons, 3 bad lines (no /tr URL, no ev, bad ts), 1 comment, 1 blank line."""
    lines = [
        "# comment",
        "https://www.facebook.com/tr/?id=111&ev=PageView&ts=1793620700000",
        "https://shop.example/cart",
        "",
        "https://www.facebook.com/tr/?id=111&ev=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&ts=1793620700000",
        "https://www.facebook.com/tr/?id=111&eid=1&ts=1793620700000",
        "https://www.facebook.com/tr/?id=111&ev=Lead&ts=not-a-time",
        "https://www.facebook.com/tr/?id=111&ev=Purchase&ts=1793620800000&dl=javascript%3Aalert(1)",
    ]
    path = tmp_path / "beacons.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    out = ingest(db, "browser", path)
    assert out.returncode == 0, out.stderr
    assert query(db, "select rows_read, rows_stored, rows_quarantined from batches") == [(6, 3, 3)]
    assert [line for (line,) in query(db, "select line_no from quarantine order by 1")] == [3, 6, 7]
    assert set(query(db, "select event_name, event_source_url from events")) == {
        ("PageView", None),
        ("<img src=x onerror=alert(1)>", None),
        ("Purchase", "javascript:alert(1)"),
    }
    assert_counts_add_up(db)


# --- idempotence and undo -----------------------------------------------------------------------------


def _events_jsonl(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


@pytest.mark.parametrize("source", SOURCES)
def test_reingest_same_file_changes_nothing(seeded: Path, source: str) -> None:
    before = dump(seeded)
    out = ingest(seeded, source, GOOD[source])
    assert out.returncode == 0, out.stderr
    assert "already ingested" in out.stdout
    assert dump(seeded) == before


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["fast-path", "python-path"])
def test_overlapping_export_stores_only_new_records(tmp_path: Path, newline: str) -> None:
    """First export: events 1-3; second export (other bytes: different order, extra blank line): 2, 3, 4,
    5. Hand count: the second batch reads 4, stores 2 (4 and 5), already stored 2."""
    events = [{**_EVENT, "event_id": f"e{i}", "event_time": 1793620800 + i} for i in range(1, 6)]
    first = tmp_path / "export1.jsonl"
    first.write_bytes(_events_jsonl(events[:3]).replace("\n", newline).encode())
    second = tmp_path / "export2.jsonl"
    second.write_bytes(
        ("\n" + _events_jsonl([events[4], events[2], events[1], events[3]])).replace("\n", newline).encode()
    )
    db = tmp_path / "store.duckdb"
    assert ingest(db, "server", first).returncode == 0
    out = ingest(db, "server", second)
    assert out.returncode == 0, out.stderr
    rows = query(
        db,
        "select rows_read, rows_stored, rows_already_stored, rows_quarantined from batches order by batch_id",
    )
    assert rows == [(3, 3, 0, 0), (4, 2, 2, 0)]
    assert query(db, "select event_id, count(*) from events group by 1 order by 1") == [
        (f"e{i}", 1) for i in range(1, 6)
    ]
    assert_counts_add_up(db)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["fast-path", "python-path"])
def test_repeat_sends_stay_visible(tmp_path: Path, newline: str) -> None:
    """The same event logged twice with different sent_at is two copies; the identical line twice in one
    file is two occurrences (two copies); re-exporting that file adds nothing."""
    request = {"data": [{**_EVENT, "event_id": "retry-1"}]}
    log = [
        {"sent_at": "2026-11-02T12:00:00Z", "pixel_id": "111", "request": request},
        {"sent_at": "2026-11-02T12:05:00Z", "pixel_id": "111", "request": request},
        {"sent_at": "2026-11-02T12:05:00Z", "pixel_id": "111", "request": request},
    ]
    path = tmp_path / "retries.jsonl"
    path.write_bytes(_events_jsonl(log).replace("\n", newline).encode())
    db = tmp_path / "store.duckdb"
    assert ingest(db, "server", path).returncode == 0
    assert query(db, "select count(*), count(distinct sent_at), max(occurrence) from events") == [(3, 2, 2)]
    again = tmp_path / "retries_reexport.jsonl"
    again.write_bytes(("\n" + _events_jsonl(log)).replace("\n", newline).encode())
    assert ingest(db, "server", again).returncode == 0
    assert query(db, "select count(*) from events") == [(3,)]
    assert query(db, "select rows_already_stored from batches order by batch_id") == [(0,), (3,)]


def test_undo_removes_exactly_that_batch(seeded: Path, tmp_path: Path) -> None:
    before = dump(seeded)
    extra = tmp_path / "extra.jsonl"
    extra.write_text(_events_jsonl([{**_EVENT, "event_id": "undo-me"}, "oops"]), encoding="utf-8")  # type: ignore[list-item]
    out = ingest(seeded, "server", extra)
    assert out.returncode == 0, out.stderr
    ((batch_id,),) = query(seeded, "select max(batch_id) from batches")
    assert query(seeded, f"select count(*) from quarantine where batch_id = {batch_id}") == [(1,)]
    undo = run_cli(seeded, "undo", str(batch_id))
    assert undo.returncode == 0, undo.stderr
    assert f"batch {batch_id} removed" in undo.stdout
    assert dump(seeded) == before
    again = run_cli(seeded, "undo", str(batch_id))
    assert_one_line_error(again)
    # after undo the same file can be ingested again (its sha256 is no longer known)
    assert "already ingested" not in ingest(seeded, "server", extra).stdout


def test_minified_har_reads_every_beacon(tmp_path: Path) -> None:
    """The fixture HAR re-saved on one line must give the same batch counts as the pretty-printed one."""
    pretty = FIXTURES / "browser" / "capture.har"
    minified = tmp_path / "capture_min.har"
    minified.write_text(json.dumps(json.loads(pretty.read_text(encoding="utf-8"))), encoding="utf-8")
    counts = []
    for index, path in enumerate([pretty, minified]):
        db = tmp_path / f"store{index}.duckdb"
        out = ingest(db, "browser", path)
        assert out.returncode == 0, out.stderr
        counts.append(query(db, "select format, rows_read, rows_stored, rows_quarantined from batches"))
    assert counts[0] == counts[1]
