"""The "Meta's view" page: helpful empty states on the demo store, and with an Ads Manager export and a
Dataset Quality snapshot loaded, the figures of ``meta_view`` / ``meta_quality_trend`` themselves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from app_helpers import metrics, problems
from conftest import AppFactory

from capi_core import dashboard_api as api
from capi_core import dataset_quality
from capi_core.ingest import ingest_file
from capi_core.metrics.meta_quality import meta_quality_trend
from capi_core.metrics.meta_view import meta_view
from capi_core.models import Scope
from capi_core.store import Store

PAGE = "pages/meta_view.py"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
DEMO_PIXEL = "1234567890123456"


def test_empty_states_say_how_to_load_meta_data(open_app: AppFactory, demo_db: Path) -> None:
    with Store(demo_db, read_only=True) as store:
        assert meta_view(store, Scope()).totals is None and meta_quality_trend(store, Scope()) == []
    app = open_app(PAGE)
    assert problems(app) == []
    assert [t.value for t in app.title] == ["Meta's view"]
    infos = " ".join(i.value for i in app.info)
    assert "capi-desk ingest --source meta FILE" in infos
    assert "Breakdown → By time → Day" in infos
    assert "capi-desk meta-quality load FILE" in infos
    assert not app.get("plotly_chart")


def test_figures_equal_the_metric_functions(open_app: AppFactory, scratch_db: Path) -> None:
    """Export days 2026-11-02..04 of the demo shop; snapshot of the demo pixel on 2026-11-10."""
    with Store(scratch_db) as store:
        ingest_file(store, FIXTURES / "ads_manager_daily.csv", "meta")
        dataset_quality.load_file(
            store,
            FIXTURES / "dataset_quality.json",
            pixel_id=DEMO_PIXEL,
            fetched_at=dt.datetime(2026, 11, 10),
        )
        view = meta_view(store, Scope())
        trend = meta_quality_trend(store, Scope())
    totals = view.totals
    assert totals is not None and totals.backend_orders > 0 and trend
    app = open_app(PAGE, db=scratch_db)
    assert problems(app) == []
    shown = metrics(app)
    assert shown["Purchases Meta reported"] == "4"
    assert shown["Backend orders (eligible)"] == f"{totals.backend_orders:,}"
    assert shown["Meta count (our estimate)"] == f"{totals.estimated_meta_count:,}"
    assert shown["Reported / backend (goal 100 %)"] == api.fmt_pct(totals.reported_vs_backend)
    assert shown["Reported / our estimate (goal 100 %)"] == api.fmt_pct(totals.reported_vs_estimate)
    assert shown["Purchase value Meta reported"] == "1,190.00"
    days = next(df.value for df in app.dataframe if "reported_vs_estimate" in df.value.columns)
    assert days["backend_orders"].tolist() == [d.backend_orders for d in view.days]
    assert days["estimated_meta_count"].tolist() == [d.estimated_meta_count for d in view.days]
    latest = next(df.value for df in app.dataframe if "meta_emq" in df.value.columns)
    by_event = {r.event_name: r for r in trend}
    assert dict(zip(latest["event_name"], latest["meta_emq"].fillna(-1), strict=True)) == {
        name: (-1 if r.meta_emq is None else r.meta_emq) for name, r in by_event.items()
    }
    purchase = latest[latest["event_name"] == "Purchase"].iloc[0]
    ours = by_event["Purchase"]
    assert ours.our_emq is not None and ours.our_event_coverage is not None
    assert purchase["our_emq"] == pytest.approx(ours.our_emq)
    assert purchase["our_event_coverage"] == pytest.approx(ours.our_event_coverage)
    assert len(app.get("plotly_chart")) == 3  # per-day lines, EMQ trend, coverage trend


def test_renders_on_an_empty_store(open_app: AppFactory, tmp_path: Path) -> None:
    app = open_app(PAGE, db=tmp_path / "empty.duckdb")
    assert problems(app) == []
    assert len(app.info) == 2  # one empty state per tab with figures
