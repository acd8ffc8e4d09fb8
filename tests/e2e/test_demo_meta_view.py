"""Meta's view on the demo store against the demo's ground truth: the Ads Manager export and the Dataset
Quality snapshots, ingested the way the product builds the store (``build_demo_store``), must give the
page's figures (``meta_view``, ``meta_quality_trend``) exactly as the manifest records them.

The manifest's ``meta`` block is computed by the generator while writing (``demo.meta_tally`` /
``demo.meta_reporting``); the store's figures come from the reader and the metric modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from capi_core.demo import DemoConfig, DemoManifest, generate
from capi_core.demo.manifest import MetaReportingManifest
from capi_core.demo_store import build_demo_store
from capi_core.metrics.meta_quality import QualityTrendRow, meta_quality_trend
from capi_core.metrics.meta_view import MetaView, meta_view
from capi_core.models import Scope
from capi_core.store import Store


@dataclass(frozen=True)
class Demo:
    """The manifest and what the store says of Meta's view."""

    manifest: DemoManifest
    view: MetaView
    trend: list[QualityTrendRow]
    batches: list[dict[str, object]]

    @property
    def meta(self) -> MetaReportingManifest:
        assert self.manifest.meta is not None
        return self.manifest.meta


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The default demo shop's manifest, and the demo store built from the same config."""
    manifest = generate(tmp_path_factory.mktemp("demo-files"), DemoConfig())
    db = tmp_path_factory.mktemp("demo-store") / "demo.duckdb"
    build_demo_store(db)
    with Store(db, read_only=True) as store:
        view = meta_view(store, Scope())
        trend = meta_quality_trend(store, Scope())
        batches = store.query(
            "batches", "select batch_id, source, file_name, rows_stored, rows_quarantined from batches"
        ).dicts()
    return Demo(manifest, view, trend, batches)


def test_export_is_the_last_batch_and_fully_stored(demo: Demo) -> None:
    """The shop's and lead forms' files keep batches 1-6; the export is batch 7, every row stored."""
    last = max(demo.batches, key=lambda b: int(str(b["batch_id"])))
    assert (last["batch_id"], last["source"], last["file_name"]) == (7, "meta", demo.meta.export_file)
    assert (last["rows_stored"], last["rows_quarantined"]) == (demo.meta.export_rows, 0)


def test_reported_totals_and_days_equal_the_manifest(demo: Demo) -> None:
    """Totals over the export's 42 days, and each day's reported purchases, as the generator wrote them."""
    totals = demo.view.totals
    assert totals is not None
    assert (totals.days, totals.first_day, totals.last_day) == (
        demo.meta.days, demo.meta.first_day, demo.meta.last_day,
    )  # fmt: skip
    assert totals.reported_purchases == demo.meta.reported_purchases
    assert totals.reported_value == pytest.approx(demo.meta.reported_value)
    assert totals.spend == pytest.approx(demo.meta.spend)
    assert {d.day.isoformat(): d.reported_purchases for d in demo.view.days} == demo.meta.reported_per_day
    (basis,) = demo.view.bases
    assert (basis.attribution_setting, basis.purchase_value_basis, basis.currency, basis.ad_rows) == (
        demo.meta.attribution_setting, "reported", demo.meta.currency, demo.meta.export_rows,
    )  # fmt: skip


def test_reported_follows_our_estimate_and_jumps_with_the_redeploy(demo: Demo) -> None:
    """Meta reports about 60 % of what it counts. Our estimate of what Meta counts differs from the
    generator's count of the main pixel's Purchases by the copies Ads Manager does not report (the second
    pixel, 'purchase', phantoms): a few a day. Before the redeploy Meta reports fewer purchases than the
    backend has; after it, more than the backend (each order counted twice): the page's story."""
    totals = demo.view.totals
    assert totals is not None and totals.reported_vs_estimate is not None
    assert 0.5 <= totals.reported_vs_estimate <= 0.7
    for day in demo.view.days:
        counted = demo.meta.counted_per_day[day.day.isoformat()]
        assert 0 <= day.estimated_meta_count - counted <= 4
    deploy = demo.manifest.config.deploy_day
    for after in (False, True):
        days = [d for d in demo.view.days if (d.day >= deploy) == after]
        reported = sum(d.reported_purchases or 0 for d in days)
        backend = sum(d.backend_orders for d in days)
        assert (reported / backend > 1.0) == after, (after, reported, backend)


def test_quality_snapshots_equal_the_manifest_and_sit_close_to_ours(demo: Demo) -> None:
    """Meta's figures on the page are the snapshot files' (manifest); ours cover the same 7 days. Meta's
    are its own computation, so they are close to ours (EMQ within 0.6, coverage within 4 points) but not
    equal."""
    snapshots = {s.fetched_at: s for s in demo.meta.snapshots}
    assert sorted({r.fetched_at for r in demo.trend}) == sorted(snapshots)
    assert len(demo.trend) == sum(len(s.events) for s in demo.meta.snapshots) == 15
    for row in demo.trend:
        snapshot = snapshots[row.fetched_at]
        figures = snapshot.events[row.event_name]
        assert (row.our_from, row.our_to) == snapshot.window
        assert row.meta_emq == pytest.approx(figures.emq)
        assert row.meta_event_coverage == pytest.approx(figures.event_coverage)
        assert row.meta_upload_frequency == figures.upload_frequency
        assert row.our_emq is not None and row.our_event_coverage is not None
        assert 0 < abs(figures.emq - row.our_emq) <= 0.6, row
        assert 0 < abs(figures.event_coverage - row.our_event_coverage) <= 0.04, row
        (eid,) = [k for k in row.dedupe_keys if k.key == "event_id"]
        assert eid.meta_browser_share == pytest.approx(figures.browser_event_id_share)
        assert eid.our_browser_share == pytest.approx(figures.browser_event_id_share, abs=0.0005)


def test_purchase_event_id_coverage_drops_after_the_redeploy(demo: Demo) -> None:
    """The beacons lose their event_id on the deploy day: Meta's event_id dedup-key feedback (share of
    browser events covered by event_id) falls below the 75 % goal, then to almost nothing in the last
    snapshot (whose 7 days are all after the redeploy). Meta's event coverage counts any dedup key, and the
    beacons still share their fbp with the server copies: it stays above the goal, as ours does."""
    purchase = sorted((r for r in demo.trend if r.event_name == "Purchase"), key=lambda r: r.fetched_at)
    by_event_id = [
        next(k for k in r.dedupe_keys if k.key == "event_id").meta_browser_coverage for r in purchase
    ]
    assert by_event_id[0] is not None and by_event_id[0] > 0.75
    assert by_event_id[1] is not None and by_event_id[1] < 0.75
    assert by_event_id[2] is not None and by_event_id[2] < 0.1
    for row in purchase:
        assert row.meta_event_coverage is not None and row.meta_event_coverage > 0.75
        assert row.our_event_coverage is not None and row.our_event_coverage > 0.75
