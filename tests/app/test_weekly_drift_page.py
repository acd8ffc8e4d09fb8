"""The Weekly drift page on the demo store: the summary points at the checkout redeploy of 2026-11-04, the
tiles and the "what changed" table are ``drift_report``'s own figures, a note added on the page shows up,
and an empty store gets an empty state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app_helpers import metrics, problems
from conftest import AppFactory

from capi_core import annotations
from capi_core.metrics.drift import DriftReport, drift_report, format_value
from capi_core.models import Scope
from capi_core.store import Store

PAGE = "pages/weekly_drift.py"


def _expected(db: Path, week: str | None = None) -> DriftReport:
    with Store(db) as store:
        return drift_report(store, Scope(), week)


def _markdown(app: object) -> list[str]:
    return [m.value for m in app.markdown]  # type: ignore[attr-defined]


def test_renders_the_default_week_and_points_at_the_redeploy(open_app: AppFactory, demo_db: Path) -> None:
    app = open_app(PAGE)
    assert problems(app) == []
    assert [t.value for t in app.title] == ["Weekly drift"]
    assert app.selectbox(key="drift_week").value == "2026-W46"
    summary = next(text for text in _markdown(app) if "shift started" in text)
    assert summary.startswith("**Dedup health (all events) fell from")
    assert "the shift started on Wed 2026-11-04 (annotated: checkout redeploy)" in summary
    assert summary == f"**{_expected(demo_db).summary}**"  # no character needed escaping
    assert len(app.get("plotly_chart")) == 1


def test_tiles_and_what_changed_equal_drift_report(open_app: AppFactory, demo_db: Path) -> None:
    expected = _expected(demo_db)
    app = open_app(PAGE)
    shown = metrics(app)
    for metric in expected.metrics:
        assert shown[metric.label] == format_value(metric.unit, metric.this_week), metric.key
    table = next(df.value for df in app.dataframe if "what changed" in df.value.columns)
    assert table["metric"].tolist() == [c.label for c in expected.what_changed]
    assert table["what changed"].tolist() == [c.sentence for c in expected.what_changed]
    assert {str(day) for day in table["shift started"]} == {"2026-11-04"}
    assert len(app.get("download_button")) >= 4  # CSV + Parquet of both tables


def test_another_week_is_drift_report_of_that_week(open_app: AppFactory, demo_db: Path) -> None:
    """2026-W43 is before the redeploy: nothing flagged there."""
    expected = _expected(demo_db, "2026-W43")
    app = open_app(PAGE)
    app.selectbox(key="drift_week").set_value("2026-W43").run()
    assert problems(app) == []
    assert expected.summary.startswith("Nothing passed its threshold in 2026-W43")
    assert f"**{expected.summary}**" in _markdown(app)
    shown = metrics(app)
    assert all(shown[m.label] == format_value(m.unit, m.this_week) for m in expected.metrics)


def test_adding_an_annotation_shows_it(open_app: AppFactory, scratch_db: Path) -> None:
    """The note is stored as typed (HTML included) and shown as a plain table cell after the rerun."""
    app = open_app(PAGE, db=scratch_db)
    note = "theme deploy <b>v2</b>"
    app.date_input(key="drift_note_day").set_value(dt.date(2026, 11, 10))
    app.text_input(key="drift_note_text").set_value(note)
    next(b for b in app.button if b.label == "Add annotation").click().run()
    assert problems(app) == []
    assert [s.value for s in app.success] == ["Annotation added."]
    with Store(scratch_db) as store:
        assert [(a.day.isoformat(), a.note) for a in annotations.list_annotations(store)][-1] == (
            "2026-11-10",
            note,
        )
    table = next(df.value for df in app.dataframe if list(df.value.columns) == ["id", "day", "note"])
    assert table["note"].tolist() == ["checkout redeploy", note]


def test_an_empty_note_is_refused_on_the_page(open_app: AppFactory, scratch_db: Path) -> None:
    app = open_app(PAGE, db=scratch_db)
    next(b for b in app.button if b.label == "Add annotation").click().run()
    assert [e.value for e in app.error] == ['the note is empty — say what happened, e.g. "checkout redeploy"']
    with Store(scratch_db) as store:
        assert len(annotations.list_annotations(store)) == 1


def test_empty_store(open_app: AppFactory, tmp_path: Path) -> None:
    app = open_app(PAGE, db=tmp_path / "empty.duckdb")
    assert problems(app) == []
    assert app.info and "No weeks to compare yet" in app.info[0].value
