"""The "Meta's view" page: on the demo store, the figures of the demo's Ads Manager export and Dataset
Quality snapshots exactly as the demo's manifest records them; after a user loads another export and
snapshot, the figures of ``meta_view`` / ``meta_quality_trend`` themselves; on an empty store, empty
states that say how to load Meta's data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from app_helpers import metrics, problems
from conftest import AppFactory

from capi_core import units
from capi_core.demo import DemoConfig, generate
from capi_core.demo.manifest import MetaReportingManifest
from capi_core.ingest import ingest_file
from capi_core.meta import dataset_quality
from capi_core.metrics.meta_quality import meta_quality_trend
from capi_core.metrics.meta_view import meta_view
from capi_core.models import Scope
from capi_core.store import Store

PAGE = "pages/meta_view.py"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
DEMO_PIXEL = "1234567890123456"


@pytest.fixture(scope="module")
def meta(tmp_path_factory: pytest.TempPathFactory) -> MetaReportingManifest:
    """The manifest of Meta's view of the demo shop the demo store is built from (same config, same bytes)."""
    manifest = generate(tmp_path_factory.mktemp("demo-files"), DemoConfig())
    assert manifest.meta is not None
    return manifest.meta


def test_demo_store_shows_meta_view(open_app: AppFactory, demo_db: Path, meta: MetaReportingManifest) -> None:
    """Tiles, per-day table and quality table equal the manifest: 42 export days, the reported purchases
    and value summed over the export, and the latest snapshot's (2026-11-16) Meta EMQ per event."""
    with Store(demo_db) as store:
        view = meta_view(store, Scope())
    totals = view.totals
    assert totals is not None
    app = open_app(PAGE)
    assert problems(app) == []
    assert not app.info, "no empty state: the demo holds an export and snapshots"
    shown = metrics(app)
    assert shown["Purchases Meta reported"] == f"{meta.reported_purchases:,}"
    assert shown["Purchase value Meta reported"] == f"{meta.reported_value:,.2f}"
    assert shown["Backend orders (eligible)"] == f"{totals.backend_orders:,}"
    assert shown["Meta count (our estimate)"] == f"{totals.estimated_meta_count:,}"
    assert shown["Reported / backend (goal 100 %)"] == units.share(totals.reported_vs_backend)
    assert shown["Reported / our estimate (goal 100 %)"] == units.share(totals.reported_vs_estimate)
    captions = " ".join(c.value for c in app.caption)
    assert f"over the {meta.days} days of the export ({meta.first_day} to {meta.last_day})" in captions
    days = next(df.value for df in app.dataframe if "reported_vs_estimate" in df.value.columns)
    assert len(days) == meta.days
    assert {
        d.isoformat(): int(n) for d, n in zip(days["day"], days["reported_purchases"], strict=True)
    } == meta.reported_per_day
    latest = next(df.value for df in app.dataframe if "meta_emq" in df.value.columns)
    last = meta.snapshots[-1]
    assert dict(zip(latest["event_name"], latest["meta_emq"], strict=True)) == pytest.approx(
        {name: figures.emq for name, figures in last.events.items()}
    )
    assert len(app.get("plotly_chart")) == 3  # per-day lines, EMQ trend, coverage trend


def test_loaded_export_and_snapshot_add_to_the_figures(
    open_app: AppFactory, scratch_db: Path, meta: MetaReportingManifest
) -> None:
    """A user loads another export (ads_manager_daily.csv: 2 + 1 + 1 = 4 purchases worth 100.00 + 40.00 +
    1,050.00 = 1,190.00, other ads than the demo's, so added to its figures) and a snapshot of the demo
    pixel fetched on 2026-11-10 (Purchase EMQ 7.4), shown beside the demo's three."""
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
    assert totals is not None
    app = open_app(PAGE, db=scratch_db)
    assert problems(app) == []
    shown = metrics(app)
    assert shown["Purchases Meta reported"] == f"{meta.reported_purchases + 4:,}"
    assert shown["Purchase value Meta reported"] == f"{meta.reported_value + 1190:,.2f}"
    assert shown["Meta count (our estimate)"] == f"{totals.estimated_meta_count:,}"
    days = next(df.value for df in app.dataframe if "reported_vs_estimate" in df.value.columns)
    assert days["backend_orders"].tolist() == [d.backend_orders for d in view.days]
    assert days["estimated_meta_count"].tolist() == [d.estimated_meta_count for d in view.days]
    loaded = [r for r in trend if r.fetched_at == dt.datetime(2026, 11, 10)]
    assert {r.event_name: r.meta_emq for r in loaded}["Purchase"] == 7.4
    assert len({r.snapshot_id for r in trend}) == len(meta.snapshots) + 1
    snapshots = next(df.value for df in app.dataframe if "source_name" in df.value.columns)
    assert len(snapshots) == len(meta.snapshots) + 1


def test_empty_store_says_how_to_load_meta_data(open_app: AppFactory, tmp_path: Path) -> None:
    app = open_app(PAGE, db=tmp_path / "empty.duckdb")
    assert problems(app) == []
    assert [t.value for t in app.title] == ["Meta's view"]
    assert len(app.info) == 2  # one empty state per tab with figures
    infos = " ".join(i.value for i in app.info)
    assert "capi-desk ingest --source meta FILE" in infos
    assert "Breakdown → By time → Day" in infos
    assert "capi-desk meta-quality load FILE" in infos
    assert not app.get("plotly_chart")
