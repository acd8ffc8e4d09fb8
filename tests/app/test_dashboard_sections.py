"""The report's sections one at a time (what pages ask for) equal the report's own fields on the demo store,
and the value-delta bins count the same records as the per-record verdicts."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_helpers import problems
from conftest import AppFactory

import ui
from capi_core import dashboard_api as api
from capi_core.metrics import recon_views, reconcile
from capi_core.models import Scope
from capi_core.report import Report, build_report
from capi_core.store import Store

WEEK = Scope(date_from=dt.date(2026, 10, 12), date_to=dt.date(2026, 10, 18))


@pytest.fixture
def demo_store(demo_db: Path) -> Iterator[Store]:
    with Store(demo_db) as store:
        yield store


@pytest.mark.parametrize("scope", [Scope(), WEEK], ids=["whole store", "one week"])
def test_sections_equal_the_report(demo_store: Store, scope: Scope) -> None:
    """Each section is built by the function build_report calls, so every field compares equal."""
    report = build_report(demo_store, scope)
    counts = api.counts_section(demo_store, scope)
    signal = api.quality_section(demo_store, scope)
    assert (counts.window, counts.counts) == (report.window, report.counts)
    assert api.dedup_section(demo_store, scope) == report.dedup
    assert api.recon_section(demo_store, scope) == report.reconciliation
    assert signal.completeness == report.completeness
    assert signal.match_keys == report.match_keys
    assert signal.freshness == report.freshness
    assert signal.consent == report.consent
    assert api.findings(demo_store, scope) == report.findings


def test_overview_figures_give_the_report_tiles(demo_store: Store, demo_report: Report) -> None:
    """The Overview reads its dedup rows without key usage: the tiles and findings are unchanged."""
    scope = Scope()
    dedup = api.dedup_section(demo_store, scope, key_usage=False)
    assert [d.model_copy(update={"key_usage": []}) for d in demo_report.dedup] == dedup
    figures = api.overview_figures(
        api.counts_section(demo_store, scope),
        dedup,
        api.recon_section(demo_store, scope),
        api.quality_section(demo_store, scope),
        api.findings(demo_store, scope),
    )
    assert api.headlines(figures) == api.headlines(demo_report)
    assert figures.findings == demo_report.findings
    assert api.overall_dedup_health(figures.dedup) == api.overall_dedup_health(demo_report)


@pytest.mark.parametrize("scope", [Scope(), WEEK], ids=["whole store", "one week"])
def test_value_delta_bins_count_the_verdicts(demo_store: Store, scope: Scope) -> None:
    """Records = the verdicts with both values and a counted copy (api.value_deltas over every record);
    exact = those whose delta is 0. Bin of a delta d: floor((d - min) / (max - min) x 10), the maximum in
    the last bin; bin i spans min + i x width to min + (i + 1) x width, width = (max - min) / 10."""
    deltas = api.value_deltas(reconcile.record_verdicts(demo_store, scope, limit=1_000_000))
    binned = recon_views.value_deltas(demo_store, scope, bins=10)
    assert binned.records == len(deltas) > 0
    assert binned.exact == sum(1 for d in deltas if d == 0)
    low, high = min(deltas), max(deltas)
    width = (high - low) / 10
    expected: dict[int, int] = {}
    for d in deltas:
        index = min(math.floor((d - low) / (high - low) * 10), 9)
        expected[index] = expected.get(index, 0) + 1
    assert [b.records for b in binned.bins] == [expected[i] for i in sorted(expected)]
    for b, index in zip(binned.bins, sorted(expected), strict=True):
        assert b.low == pytest.approx(low + index * width)
        assert b.high == pytest.approx(low + (index + 1) * width)


def test_value_deltas_of_an_empty_scope(demo_store: Store) -> None:
    """A pixel no copy carries: no record reached Meta, so no bins."""
    empty = recon_views.value_deltas(demo_store, Scope(date_from=dt.date(2030, 1, 1)))
    assert (empty.records, empty.exact, empty.bins) == (0, 0, [])


def test_a_filter_set_back_is_a_cache_hit(
    open_app: AppFactory, demo_db: Path, demo_report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overview on days 3..10 of the demo, then the whole range, then days 3..10 again: the findings of
    days 3..10 are computed once (the second visit is Streamlit's cache), and the page shows them."""
    calls: list[Scope] = []
    compute = ui.cached._CALLS["findings"]

    def counting(store: Store, scope: Scope) -> object:
        calls.append(scope)
        return compute(store, scope)

    monkeypatch.setitem(ui.cached._CALLS, "findings", counting)
    first = demo_report.window.first_event_time
    assert first is not None
    days = (first.date() + dt.timedelta(days=2), first.date() + dt.timedelta(days=9))
    narrowed = Scope(date_from=days[0], date_to=days[1])
    app = open_app()
    app.toggle(key="filter_all_dates").set_value(False).run()
    app.date_input(key="filter_dates").set_value(days).run()
    app.toggle(key="filter_all_dates").set_value(True).run()
    app.toggle(key="filter_all_dates").set_value(False).run()
    app.date_input(key="filter_dates").set_value(days).run()
    assert problems(app) == []
    assert calls.count(narrowed) == 1
    with Store(demo_db) as store:
        expected = api.findings(store, narrowed)
    assert list(app.dataframe[0].value["code"]) == [f.code for f in expected[:15]]
