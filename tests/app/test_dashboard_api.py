"""capi_core.dashboard_api: download bytes, file names, the upload preview, store facts, finding links."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capi_core import dashboard_api as api
from capi_core.ingest import delete_batch, ingest_file
from capi_core.store import Store
from tests.conftest import FIXTURES


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 415", "'+1 415"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Purchase", "Purchase"),
        ("a=b", "a=b"),
    ],
)
def test_csv_escapes_formula_cells(cell: str, written: str) -> None:
    data = api.to_csv_bytes(pd.DataFrame({"text": [cell], "n": [-5]}))
    back = pd.read_csv(io.BytesIO(data), keep_default_na=False)
    assert back["text"].tolist() == [written]
    assert back["n"].tolist() == [-5], "numbers are numbers, not formulas: left as they are"


def test_csv_escapes_header_cells() -> None:
    data = api.to_csv_bytes(pd.DataFrame({"=cmd": ["x"]}))
    assert data.decode().splitlines()[0] == "'=cmd"


def test_parquet_round_trips_and_survives_mixed_cells() -> None:
    df = pd.DataFrame({"code": ["=A1", "B"], "count": [1, 2]})
    assert pd.read_parquet(io.BytesIO(api.to_parquet_bytes(df))).equals(df)
    mixed = pd.DataFrame({"outcomes": [{"valid": 1}, None, "text"]})
    assert len(pd.read_parquet(io.BytesIO(api.to_parquet_bytes(mixed)))) == 3


@given(st.text(max_size=300))
def test_safe_file_name_is_one_plain_name(name: str) -> None:
    safe = api.safe_file_name(name)
    assert safe and len(safe) <= 120
    assert "/" not in safe and "\\" not in safe and "<" not in safe
    assert not safe.startswith(".")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("orders.csv", "orders.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\<b>.csv", "_b_.csv"),
        ("", "upload"),
    ],
)
def test_safe_file_name_examples(name: str, safe: str) -> None:
    assert api.safe_file_name(name) == safe


def test_preview_shows_hashed_rows_and_the_column_mapping() -> None:
    """generic_orders.csv has 8 data rows: the first 20 records are all of them, 3 would be quarantined."""
    path = FIXTURES / "orders" / "generic_orders.csv"
    preview = api.preview_file(path, "orders")
    assert preview.format == "generic_orders"
    assert len(preview.rows) == 5 and len(preview.problems) == 3
    columns = {m.field: m.column for m in preview.mapping}
    assert columns["raw_id"] == "order_id" and columns["value"] == "total"
    text = repr(preview.rows)
    assert "example.com" not in text and "415" not in text  # emails and phones only as SHA-256
    assert all(len(r["em"]) == 64 for r in preview.rows if r.get("em"))


def test_preview_of_server_events_needs_no_mapping() -> None:
    preview = api.preview_file(FIXTURES / "server" / "events.jsonl", "server", limit=2)
    assert preview.format and len(preview.rows) + len(preview.problems) == 2
    assert all(m.column is None for m in preview.mapping)
    assert "jane.doe@example.com" not in repr(preview.rows)


def test_preview_of_an_ads_manager_export() -> None:
    """ads_manager_daily.csv: 5 per-ad-per-day rows, all readable; the first is Ad A on 2 Nov, 2 purchases."""
    preview = api.preview_file(FIXTURES / "meta" / "ads_manager_daily.csv", "meta")
    assert preview.format == "ads_manager" and preview.source == "meta"
    assert len(preview.rows) == 5 and preview.problems == []
    assert preview.rows[0]["ad"] == "Ad A" and preview.rows[0]["purchases"] == 2.0
    assert api.source_formats("meta") == ["ads_manager"]


def test_preview_of_a_bad_ads_manager_export_lists_the_rows_ingest_would_quarantine() -> None:
    """ads_manager_bad.csv: of 5 data rows only line 2 reads; lines 3-6 fail (a week, 'lots', 3 fields,
    'soon')."""
    preview = api.preview_file(FIXTURES / "meta" / "ads_manager_bad.csv", "meta")
    assert len(preview.rows) == 1 and [line for line, _ in preview.problems] == [3, 4, 5, 6]


def test_store_facts_follow_ingest_and_undo(store: Store) -> None:
    empty = api.data_version(store)
    assert (api.pixels(store), api.event_names(store), api.date_bounds(store)) == ([], [], (None, None))
    result = ingest_file(store, FIXTURES / "server" / "events.jsonl", "server")
    assert result.batch_id is not None
    loaded = api.data_version(store)
    assert loaded != empty
    assert "<script>alert(1)</script>" in api.event_names(store)
    assert [b.batch_id for b in api.batch_history(store)] == [result.batch_id]
    assert all(q.batch_id == result.batch_id for q in api.quarantine(store))
    delete_batch(store, result.batch_id)
    assert api.data_version(store) == empty  # the same content: cached figures of the empty store hold
    assert api.batch_history(store) == [] and api.quarantine(store) == []


@pytest.mark.parametrize(
    ("code", "page"),
    [
        ("DEDUP_MISSING_EVENT_ID", "deduplication"),
        ("COVERAGE_BELOW_GOAL", "deduplication"),
        ("RECON_PHANTOM", "reconciliation"),
        ("LEAD_LOW_QUALIFICATION", "lead_quality"),
        ("LEAD_UNMATCHED", "lead_quality"),
        ("EMQ_LOW", "signal_quality"),
        ("MATCH_SHARED_IP", "signal_quality"),
        ("SECRET_IN_LOGS", "data"),
    ],
)
def test_finding_page(code: str, page: str) -> None:
    assert api.finding_page(code) == page


def test_estimate_records_counts_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n{}\n{}\n")
    assert api.estimate_records(path) == 3
