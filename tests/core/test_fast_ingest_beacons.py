"""The DuckDB fast path for Pixel beacon files stores exactly what the Python reader stores.

Parity is the acceptance test (as for server JSONL in test_fast_ingest.py): the same file ingested with
``fast=True`` and ``fast=False`` into two stores gives the same counts and identical ``events`` and
``quarantine`` tables, every column. The hand-written cases and the generated lines are the ones the
Spark twin is held to (tests/beacon_lines.py); beside parity, the shapes real beacons are made of must
be decided in SQL (a line left to Python is correct but slow).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from capi_core import fast_ingest
from capi_core.demo import BROWSER_FILE, DemoConfig, generate
from capi_core.ingest import IngestResult, ingest_file
from capi_core.readers import ReadOptions, get_reader
from capi_core.store import Store
from tests.beacon_lines import BEACON_CASES, HEX, TR, beacon_lines
from tests.conftest import FIXTURES

REAL = Path(__file__).resolve().parents[3] / "shared" / "samples" / "real" / "meta_pixel"
COUNTS = ("rows_read", "rows_stored", "rows_already_stored", "rows_quarantined", "secrets_stripped")


def _table(store: Store, table: str, order: str) -> list[tuple[Any, ...]]:
    return store.query("dump", f"select * exclude (batch_id) from {table} order by {order}").rows


def assert_parity(path: Path, **options: Any) -> IngestResult:
    """Both paths: the same counts, the same events and quarantine rows (all columns)."""
    opts = ReadOptions(**options)
    with Store() as fast_store, Store() as slow_store:
        fast = ingest_file(fast_store, path, "browser", fmt="pixel_beacons", options=opts)
        slow = ingest_file(slow_store, path, "browser", fmt="pixel_beacons", options=opts, fast=False)
        assert [getattr(fast, c) for c in COUNTS] == [getattr(slow, c) for c in COUNTS]
        order = "line_no, fingerprint, occurrence"
        assert _table(fast_store, "events", order) == _table(slow_store, "events", order)
        q_order = "line_no, reason, raw_masked"
        assert _table(fast_store, "quarantine", q_order) == _table(slow_store, "quarantine", q_order)
    return fast


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Line numbers the SQL left to the Python reader, in the order it read them."""
    lines: list[int] = []
    original = fast_ingest.line_items
    monkeypatch.setattr(
        fast_ingest, "line_items", lambda r, n, line, o: lines.append(n) or original(r, n, line, o)
    )
    return lines


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_beacon_files_take_the_fast_path(tmp_path: Path) -> None:
    path = _write(tmp_path / "b.txt", [TR])
    assert fast_ingest.fast_format(get_reader("browser", "pixel_beacons"), path)
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(TR.encode() + b"\r\n")
    assert not fast_ingest.fast_format(get_reader("browser", "pixel_beacons"), crlf)


@pytest.mark.parametrize(
    "options", [{}, {"pixel_id": "PX9", "default_country": "us"}, {"url_keys": ("ref",)}]
)
def test_hand_cases(tmp_path: Path, options: dict[str, Any]) -> None:
    """Every case of the Spark twin's table, in one file: the same store either way."""
    assert_parity(_write(tmp_path / "cases.txt", [line for line, _, _ in BEACON_CASES]), **options)


#: Beacons as browsers send them: decided in SQL, no line left to Python.
COMMON = [
    "# a capture's comment",
    "",
    TR + "&eid=e1&ts=1791161559370&fbp=fb.1.1789669028589.1916788089&fbc=fb.1.1790819399557.IwAR",
    TR + "&cd[value]=12.50&cd[currency]=usd&cd[content_ids]=%5B%22SKU-1%22%2C%22SKU-2%22%5D&cd[num_items]=2",
    TR + "&cd[content_ids]=SKU-1&cd[content_type]=product&cd[order_id]=%231001&cd[status]=paid",
    TR + f"&ud[em]={HEX}&ud[ph]={HEX.upper()}&udff[fn]={HEX}&ud[external_id]={HEX}",
    TR + "&ud[client_ip_address]=203.0.113.7&ud[client_user_agent]=Mozilla%2F5.0&ud[lead_id]=12",
    TR + "&ud[client_ip_address]=2001%3Adb8%3A%3A1",
    TR + "&dl=https%3A%2F%2Fshop.example%2Fp%3Futm_source%3Dfb%26fbclid%3DIwAR1%26_pos%3D1%23reviews",
    TR + "&dl=https%3A%2F%2Fshop.example%2Fthanks%3Fphone%3D4155550199%26first_name%3DBo",
    'GET "https://www.facebook.com/tr?id=1&ev=PageView&ts=1791161559" 200',
    "HTTPS://WWW.FACEBOOK.COM/TR/?id=1&ev=PageView",
    TR + "&ev=B&cd[value]=1&cd[value]=2&udff[em]=" + HEX + "&ud[em]=" + HEX.upper(),
]


def test_common_beacons_are_decided_in_sql(tmp_path: Path, routed: list[int]) -> None:
    path = _write(tmp_path / "common.txt", COMMON)
    result = assert_parity(path)
    routed.clear()
    assert_parity(path)
    assert routed == []
    assert (result.rows_read, result.rows_stored) == (len(COMMON) - 2, len(COMMON) - 2)


#: What the SQL leaves to Python, and the Python reader decides: raw PII, credentials, odd encodings.
LEFT_TO_PYTHON = [
    TR + "&ud[em]=Jo.Doe%40Example.com",
    TR + "&ud[ph]=%2B14155550100",
    TR + "&access_token=EAAB1234567890abcdefghij",
    TR + "&ev=Caf%C3%A9",
    "caf\u00e9 " + TR,
    TR + "&dl=https%3A%2F%2Fs.example%2Fu%2Fjo%40ex.com",
    TR + "&cd[value]=1e3",
    TR + "&cd[contents]=%5B%7B%22id%22%3A%22p1%22%7D%5D",
    "https://www.facebook.com/tr/?id=1",
]


def test_other_lines_go_to_python(tmp_path: Path, routed: list[int]) -> None:
    path = _write(tmp_path / "other.txt", [TR, *LEFT_TO_PYTHON])
    assert_parity(path)
    routed.clear()
    assert_parity(path)
    assert routed == list(range(2, len(LEFT_TO_PYTHON) + 2))


def test_nul_lines_and_comments(tmp_path: Path) -> None:
    """A NUL inside a beacon is quarantined by both paths; a comment or blank line with a NUL is skipped
    by both (the reader skips such lines before it looks)."""
    path = tmp_path / "nul.txt"
    beacon = TR.encode()
    path.write_bytes(b"\n".join([beacon, beacon + b"\x00x", b"# c\x00", b"\x00\x00", beacon]) + b"\n")
    result = assert_parity(path)
    assert result.rows_quarantined == 2


def test_re_ingest_and_overlap_dedup_across_paths(tmp_path: Path) -> None:
    """A file read by the Python path and an overlapping one read by the fast path store each beacon
    once: the fingerprints agree."""
    first = _write(tmp_path / "a.txt", COMMON[:8])
    second = _write(tmp_path / "b.txt", COMMON[4:])
    with Store() as store:
        ingest_file(store, first, "browser", fast=False)
        result = ingest_file(store, second, "browser")
        assert result.rows_already_stored == 4
        assert ingest_file(store, second, "browser").already_ingested


def test_fixture_and_demo_files(tmp_path: Path, routed: list[int]) -> None:
    """The repo's beacon fixture and the demo's beacon file: the same store, every demo line in SQL."""
    assert_parity(FIXTURES / "browser" / "beacons.txt")
    demo = tmp_path / "demo"
    generate(demo, DemoConfig(orders=300))
    routed.clear()
    assert_parity(demo / BROWSER_FILE)
    assert routed == []


def test_real_beacon_sample() -> None:
    path = REAL / "MisterPhilip_omnibug_facebook_pixel_beacons.txt"
    if not path.exists():
        pytest.skip("real samples not present")
    assert_parity(path)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(lines=st.lists(beacon_lines(), min_size=1, max_size=40))
def test_generated_lines(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    path = _write(tmp_path_factory.mktemp("beacons") / "gen.txt", [TR, *lines])  # readable: one event
    assert_parity(path, pixel_id="P", default_country="de", url_keys=("a*",))
