"""Meta's view, reported side: Ads Manager reported vs backend vs our estimate, on hand-computed fixtures.

Fixture ``tests/fixtures/meta/ads_manager_daily.csv`` reports (summed over ads):
2026-11-02: 2 + 1 = 3 purchases, value 100 + 40 = 140, spend 20.50 + 10.00 = 30.50;
2026-11-03: 0 + 1 = 1 purchase, value 0 + 1,050 = 1,050, spend 5.00 + 12.25 = 17.25;
2026-11-04: 0 purchases, value 0, spend 0.

Backend and copies (``_shop``): on 11-02 orders #1001 (50, browser + server same event_id: merged, counted
once) and #1002 (60, server only: counted once); on 11-03 order #1003 (70, browser with id + server without
id and another fbp: counted twice) and #1004 (refunded: not eligible, no copy). So backend 2 / 110 and
estimate 2 / 110 on 11-02; backend 1 / 70 and estimate 2 / 140 on 11-03; nothing on 11-04.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from factories import UA, copy, load, load_truth, order

from capi_core.ingest import delete_batch, ingest_file
from capi_core.metrics.meta_view import has_reported, meta_view
from capi_core.models import Scope
from capi_core.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
DAY = 24 * 60
D2, D3, D4 = dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 4)


def _ud(n: int) -> dict[str, Any]:
    return {"fbp": f"fb.1.1762000000000.{n}", "client_user_agent": UA}


def _cd(value: float) -> dict[str, Any]:
    return {"value": value, "currency": "EUR"}


def _shop(store: Store) -> None:
    load_truth(
        store,
        [
            order("#1001", 0, value=50.0, currency="EUR"),
            order("#1002", 60, value=60.0, currency="EUR", line_no=2),
            order("#1003", DAY, value=70.0, currency="EUR", line_no=3),
            order("#1004", DAY + 60, value=80.0, currency="EUR", status="refunded", line_no=4),
        ],
    )
    load(
        store,
        [
            copy("browser", event_id="1001", minute=0, user_data=_ud(1), custom_data=_cd(50)),
            copy("server", event_id="1001", minute=0, sent_minute=1, user_data=_ud(1), custom_data=_cd(50)),
            copy("server", event_id="1002", minute=60, user_data=_ud(2), custom_data=_cd(60)),
            copy("browser", event_id="1003", minute=DAY, user_data=_ud(3), custom_data=_cd(70)),
            copy("server", event_id=None, minute=DAY, user_data=_ud(33), custom_data=_cd(70)),
        ],
    )


@pytest.fixture
def shop(store: Store) -> Store:
    _shop(store)
    ingest_file(store, FIXTURES / "ads_manager_daily.csv", "meta")
    return store


def test_per_day_reported_backend_and_estimate(shop: Store) -> None:
    view = meta_view(shop, Scope())
    rows = {d.day: d for d in view.days}
    assert list(rows) == [D2, D3, D4]  # the export's days only
    d2, d3, d4 = rows[D2], rows[D3], rows[D4]
    assert (d2.reported_purchases, d2.reported_value, d2.spend) == (3, 140, 30.5)
    assert (d2.backend_orders, d2.backend_value, d2.estimated_meta_count, d2.estimated_meta_value) == (
        2, 110, 2, 110,
    )  # fmt: skip
    assert d2.reported_vs_backend == pytest.approx(1.5) and d2.reported_vs_estimate == pytest.approx(1.5)
    assert d2.value_reported_vs_backend == pytest.approx(140 / 110)
    assert (d3.reported_purchases, d3.reported_value, d3.spend) == (1, 1050, 17.25)
    assert (d3.backend_orders, d3.estimated_meta_count, d3.estimated_meta_value) == (1, 2, 140)
    assert d3.reported_vs_backend == pytest.approx(1.0) and d3.reported_vs_estimate == pytest.approx(0.5)
    assert d3.value_reported_vs_estimate == pytest.approx(1050 / 140)
    assert (d4.reported_purchases, d4.backend_orders, d4.estimated_meta_count) == (0, 0, 0)
    assert d4.reported_vs_backend is None and d4.reported_vs_estimate is None


def test_totals_over_the_export_days(shop: Store) -> None:
    """Reported 3+1+0 = 4 / 1,190; backend 2+1 = 3 / 180; estimate 2+2 = 4 / 250."""
    totals = meta_view(shop, Scope()).totals
    assert totals is not None
    assert (totals.days, totals.first_day, totals.last_day) == (3, D2, D4)
    assert (totals.reported_purchases, totals.reported_value, totals.spend) == (4, 1190, 47.75)
    assert (totals.backend_orders, totals.backend_value) == (3, 180)
    assert (totals.estimated_meta_count, totals.estimated_meta_value) == (4, 250)
    assert totals.reported_vs_backend == pytest.approx(4 / 3)
    assert totals.reported_vs_estimate == pytest.approx(1.0)
    assert totals.value_reported_vs_backend == pytest.approx(1190 / 180)
    assert totals.value_reported_vs_estimate == pytest.approx(1190 / 250)


def test_bases_name_attribution_settings_and_currency(shop: Store) -> None:
    bases = {(b.attribution_setting, b.currency): b for b in meta_view(shop, Scope()).bases}
    assert bases[("7-day click or 1-day view", "EUR")].ad_rows == 4
    assert bases[("7-day click or 1-day view", "EUR")].reported_purchases == 4
    assert bases[(None, "EUR")].ad_rows == 1


def test_scope_dates_and_event_filter(shop: Store) -> None:
    one_day = meta_view(shop, Scope(date_from=D3, date_to=D3))
    assert [d.day for d in one_day.days] == [D3]
    assert one_day.totals is not None and one_day.totals.reported_purchases == 1
    assert meta_view(shop, Scope(event_names=("Lead",))).days == []
    assert meta_view(shop, Scope(event_names=("Purchase",))).totals is not None


def test_rows_with_a_pixel_follow_the_pixel_filter(store: Store) -> None:
    from capi_core.readers import ReadOptions

    ingest_file(store, FIXTURES / "ads_manager_localized.csv", "meta", options=ReadOptions(pixel_id="999"))
    assert meta_view(store, Scope(pixel_id="111")).days == []
    days = meta_view(store, Scope(pixel_id="999")).days
    assert [(d.day, d.reported_purchases, d.reported_value) for d in days] == [(D2, 3, 3086.25)]


def test_a_later_export_of_the_same_ad_day_replaces_it(shop: Store, tmp_path: Path) -> None:
    """Revised export: Ad B on 11-03 now 2 purchases / 1,100 -> day 11-03 reports 0 + 2 = 2 / 1,100."""
    revised = tmp_path / "revised.csv"
    lines = (FIXTURES / "ads_manager_daily.csv").read_text().splitlines()
    header, ad_b_d3 = lines[0], lines[4]
    revised.write_text(
        header + "\n" + ad_b_d3.replace(",1,actions", ",2,actions").replace(',1,"1,050.00"', ',2,"1,100.00"'),
        encoding="utf-8",
    )
    result = ingest_file(shop, revised, "meta")
    d3 = next(d for d in meta_view(shop, Scope()).days if d.day == D3)
    assert (d3.reported_purchases, d3.reported_value) == (2, 1100)
    assert result.batch_id is not None and delete_batch(shop, result.batch_id)
    d3 = next(d for d in meta_view(shop, Scope()).days if d.day == D3)
    assert (d3.reported_purchases, d3.reported_value) == (1, 1050)


def test_empty_store(store: Store) -> None:
    assert not has_reported(store)
    view = meta_view(store, Scope())
    assert view.days == [] and view.totals is None and view.bases == []
