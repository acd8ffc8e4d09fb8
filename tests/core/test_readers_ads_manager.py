"""Ads Manager export reader (``--source meta``) and its storage through the batch machinery."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from capi_core.errors import UnreadableFileError
from capi_core.ingest import delete_batch, ingest_file
from capi_core.metrics.meta_view import meta_view
from capi_core.models import RowError, Scope
from capi_core.readers import ReadOptions
from capi_core.readers.ads_manager import READER, ReportedRow, detect
from capi_core.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
REAL_FILE = "meta_ads_reporting/Steproac_Meta_Daily_MONFRERE-Ads_2026-03-01_to_2026-03-15.csv"


def _read(name: str, **options: str) -> list[ReportedRow | RowError]:
    return list(READER.read(FIXTURES / name, ReadOptions(**options)))  # type: ignore[arg-type]


def _count(store: Store, sql: str) -> object:
    return store.query("t", sql).scalar()


def test_daily_export_rows() -> None:
    """Five ad-days; empty cells in exported columns are 0, '-' attribution is no setting."""
    rows = _read("ads_manager_daily.csv")
    assert all(isinstance(r, ReportedRow) for r in rows)
    first, third, last = rows[0], rows[2], rows[4]
    assert isinstance(first, ReportedRow) and isinstance(third, ReportedRow) and isinstance(last, ReportedRow)
    assert first.day == dt.datetime(2026, 11, 2)
    assert (first.campaign, first.adset, first.ad) == ("Sales", "Retargeting", "Ad A")
    assert first.result_indicator == "actions:offsite_conversion.fb_pixel_purchase"
    assert (first.results, first.purchases, first.purchase_value, first.spend) == (2, 2, 100.0, 20.5)
    assert first.purchase_value_basis == "reported"
    assert first.currency == "EUR"
    assert first.attribution_setting == "7-day click or 1-day view"
    assert (third.purchases, third.purchase_value, third.results) == (0.0, 0.0, 0.0)
    assert last.attribution_setting is None
    fourth = rows[3]
    assert isinstance(fourth, ReportedRow) and fourth.purchase_value == 1050.0  # "1,050.00"


def test_localized_export_decimal_comma_and_roas_value() -> None:
    """Semicolons mean a decimal comma: spend '1.234,50' = 1234.5; value = ROAS 2.5 x 1234.5 = 3086.25."""
    rows = _read("ads_manager_localized.csv", pixel_id="111")
    first, second = rows
    assert isinstance(first, ReportedRow) and isinstance(second, ReportedRow)
    assert first.spend == 1234.5
    assert first.purchase_value == 3086.25 and first.purchase_value_basis == "roas_x_spend"
    assert first.purchases is None  # no Purchases column: unknown, the purchase Result counts instead
    assert first.results == 3
    assert first.pixel_id == "111"
    assert second.day == dt.datetime(2026, 11, 2)  # 02.11.2026 is day-first
    assert second.spend == 0.29 and second.purchase_value == 0.0
    assert second.attribution_setting is None


def test_bad_rows_are_quarantined_with_line_numbers() -> None:
    rows = _read("ads_manager_bad.csv")
    errors = {r.line_no: r.reason for r in rows if isinstance(r, RowError)}
    assert [r.line_no for r in rows if isinstance(r, ReportedRow)] == [2]
    assert "not one day" in errors[3] and "By time -> Day" in errors[3]
    assert "purchases 'lots': not a number" in errors[4]
    assert "fields where the header has" in errors[5]
    assert "reporting_starts 'soon'" in errors[6]


def test_ingest_undo_and_reingest(store: Store) -> None:
    path = FIXTURES / "ads_manager_bad.csv"
    result = ingest_file(store, path, "meta")
    assert (result.format, result.rows_read, result.rows_stored, result.rows_quarantined) == (
        "ads_manager", 5, 1, 4,
    )  # fmt: skip
    assert _count(store, "select count(*) from quarantine") == 4
    again = ingest_file(store, path, "meta")
    assert again.already_ingested and _count(store, "select count(*) from meta_reported") == 1
    assert result.batch_id is not None and delete_batch(store, result.batch_id)
    assert _count(store, "select count(*) from meta_reported") == 0
    assert _count(store, "select count(*) from quarantine") == 0


def test_overlapping_export_stores_identical_rows_once(store: Store, tmp_path: Path) -> None:
    """The same rows in a second file (another sha) are 'already stored', not stored twice."""
    copy = tmp_path / "again.csv"
    copy.write_text((FIXTURES / "ads_manager_daily.csv").read_text() + "\n", encoding="utf-8")
    ingest_file(store, FIXTURES / "ads_manager_daily.csv", "meta")
    second = ingest_file(store, copy, "meta")
    assert (second.rows_stored, second.rows_already_stored) == (0, 5)


def test_weekly_export_is_refused_with_what_to_do(store: Store) -> None:
    with pytest.raises(UnreadableFileError, match="By time -> Day"):
        ingest_file(store, FIXTURES / "ads_manager_weekly.csv", "meta")
    assert _count(store, "select count(*) from batches") == 0


def test_other_files_are_not_ads_manager_exports(store: Store, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("Name,Created at,Total\n#1001,2026-11-02,10\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="not a recognised meta format"):
        ingest_file(store, orders, "meta")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="empty"):
        ingest_file(store, empty, "meta")
    with pytest.raises(UnreadableFileError, match="unknown format"):
        ingest_file(store, FIXTURES / "ads_manager_daily.csv", "meta", fmt="shopify_orders")
    assert _count(store, "select count(*) from batches") == 0


def test_detects_the_format() -> None:
    assert detect(FIXTURES / "ads_manager_daily.csv").format == "ads_manager"
    assert detect(FIXTURES / "ads_manager_localized.csv").format == "ads_manager"


def test_real_export(store: Store, samples: Path) -> None:
    """The real 15-day export: 2,940 ad-day rows, 48 Purchases (README of the samples), spend in USD."""
    result = ingest_file(store, samples / REAL_FILE, "meta")
    assert (result.rows_read, result.rows_stored, result.rows_quarantined) == (2940, 2940, 0)
    total, days, currency = store.query(
        "t", "select sum(purchases), count(distinct day), min(currency) from meta_reported"
    ).rows[0]
    assert (total, days, currency) == (48, 15, "USD")
    settings = {r[0] for r in store.query("t", "select distinct attribution_setting from meta_reported").rows}
    assert settings == {None, "7-day click, 1-day view, or 1-day engaged-view", "7-day click or 1-day view"}
    totals = meta_view(store, Scope()).totals  # no backend in this store: only Meta's side
    assert totals is not None and (totals.days, totals.reported_purchases, totals.backend_orders) == (
        15,
        48,
        0,
    )


def test_cli_ingest_and_undo(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    from capi_core.cli import main

    store.close()
    db = store.path
    assert main(["--db", db, "ingest", "--source", "meta", str(FIXTURES / "ads_manager_daily.csv")]) == 0
    assert "(ads_manager) -> batch 1: read 5, stored 5, quarantined 0" in capsys.readouterr().out
    assert main(["--db", db, "batches"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[1:3] == ["meta", "ads_manager"]
    assert main(["--db", db, "undo", "1"]) == 0
    with Store(db) as reopened:
        assert _count(reopened, "select count(*) from meta_reported") == 0
    assert main(["--db", db, "ingest", "--source", "meta", str(FIXTURES / "ads_manager_weekly.csv")]) == 2
    assert "By time -> Day" in capsys.readouterr().err
