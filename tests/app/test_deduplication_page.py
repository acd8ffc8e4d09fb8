"""The Deduplication page on the demo store: the report's figures, every tab, and opening a problem pair."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from app_helpers import metrics, problems, texts
from conftest import AppFactory

from capi_core import dashboard_api as api
from capi_core import inspector, units
from capi_core.metrics import dedup
from capi_core.models import Scope
from capi_core.report import Report
from capi_core.store import Store

PAGE = "pages/deduplication.py"


def test_renders_the_report_figures(open_app: AppFactory, demo_report: Report) -> None:
    """Tiles: health = sum(merged) / sum(merged + would-be) over the report's dedup rows (as the Overview);
    merged, counted twice and Meta's estimated count are the sums of the report's per-event fields."""
    app = open_app(PAGE)
    assert problems(app) == []
    assert [t.value for t in app.title] == ["Deduplication"]
    shown = metrics(app)
    rows = demo_report.dedup
    assert shown["Dedup health (goal 100 %)"] == units.share(api.overall_dedup_health(demo_report))
    assert shown["Merged pairs (counted once)"] == f"{sum(d.merged_pairs for d in rows):,}"
    assert shown["Pairs counted twice (goal 0)"] == f"{sum(d.would_be_pairs for d in rows):,}"
    low = sum(d.estimated_meta_count_range[0] for d in rows)
    assert low < sum(d.estimated_meta_count for d in rows)  # the demo's redeploy: a range (issue 13, case 3)
    assert shown["Meta count (estimated)"] == f"{low:,}–{sum(d.estimated_meta_count for d in rows):,}"
    per_event = next(df.value for df in app.dataframe if "would_be_pairs" in df.value.columns)
    assert per_event["would_be_pairs"].tolist() == [d.would_be_pairs for d in rows]
    assert len(app.get("plotly_chart")) == 2
    assert len(app.get("download_button")) >= 8  # CSV + Parquet of every table


def test_key_usage_in_meta_layout(open_app: AppFactory, demo_report: Report) -> None:
    """The first event's dedup rates and its key table (event_id, external_id, fbp), as in the report."""
    app = open_app(PAGE)
    first = demo_report.dedup[0]
    usage = next(df.value for df in app.dataframe if "Deduplication key" in df.value.columns)
    assert usage["Deduplication key"].tolist() == [u.key for u in first.key_usage]
    assert [None if pd.isna(v) else v for v in usage["overlap"]] == [u.overlap for u in first.key_usage]
    assert metrics(app)["Rate of server events deduplicated"] == units.share(first.dedup_rate_server)


def test_failure_reasons_with_counts(open_app: AppFactory, demo_db: Path) -> None:
    app = open_app(PAGE)
    with Store(demo_db) as store:
        expected = dedup.failure_reasons(store, Scope())
    table = next(df.value for df in app.dataframe if list(df.value.columns) == ["reason", "pairs"])
    assert dict(zip(table["reason"], table["pairs"], strict=True)) == expected
    assert sum(expected.values()) == int(metrics(app)["Pairs counted twice (goal 0)"].replace(",", ""))


def test_open_a_problem_pair(open_app: AppFactory, demo_db: Path) -> None:
    """Pick the first id_mismatch pair: the sentence and the highlighted fields are compare_copies' own.

    The window ends before the demo's checkout redeploy (2026-11-04, never rolled back): from then on its
    missing_id pairs fill the page's 200 most recent pairs.
    """
    start, end = dt.date(2026, 10, 5), dt.date(2026, 11, 3)
    with Store(demo_db) as store:
        pairs = dedup.would_be_pairs(store, Scope(date_from=start, date_to=end), limit=200)
        index = next(i for i, p in enumerate(pairs) if p.reason == "id_mismatch")
        pair = pairs[index]
        diffs = inspector.compare_copies(
            store,
            (pair.browser_fingerprint, pair.browser_occurrence),
            (pair.server_fingerprint, pair.server_occurrence),
        )
    app = open_app(PAGE)
    app.toggle(key="filter_all_dates").set_value(False).run()
    app.date_input(key="filter_dates").set_value((start, end)).run()
    app.selectbox(key="dedup_pair").set_value(index).run()
    assert problems(app) == []
    assert inspector.pair_verdict(pair) in texts(app)
    assert "Meta merges only identical event_ids" in inspector.pair_verdict(pair)
    fields = next(df.value for df in app.dataframe if "differs" in df.value.columns)
    assert fields["field"].tolist() == [d.field for d in diffs]
    assert fields["differs"].tolist() == ["≠" if d.differs else "" for d in diffs]
    row = fields.set_index("field").loc["event_id"]
    assert (row["browser copy"], row["server copy"], row["differs"]) == (
        pair.browser_event_id,
        pair.server_event_id,
        "≠",
    )

    app.button(key="dedup_inspect").click().run()  # on to the inspector, searching this conversion
    assert problems(app) == []
    assert [t.value for t in app.title] == ["Event inspector"]
    assert app.session_state["inspector_search"] == ("auto", pair.server_order_id)
    timeline = next(df.value for df in app.dataframe if "explanation" in df.value.columns)
    assert {pair.browser_event_id, pair.server_event_id} <= set(timeline["event_id"])


def test_empty_store(open_app: AppFactory, tmp_path: Path) -> None:
    app = open_app(PAGE, db=tmp_path / "empty.duckdb")
    assert problems(app) == []
    assert app.info, "an empty page says what to do next"
