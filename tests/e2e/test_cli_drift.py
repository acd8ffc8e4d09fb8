"""`capi-desk drift`, `annotate` and `report --week` through ``capi_core.cli.main`` on the demo store.

The demo's checkout redeploy on Wednesday 2026-11-04 (annotated "checkout redeploy") is never rolled back:
the default week (2026-W46, the latest complete one) flags dedup health and the count gap, and the shift
starts on 2026-11-04.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from capi_core import annotations
from capi_core.cli import main
from capi_core.demo_store import build_demo_store
from capi_core.metrics.drift import DriftReport, MetricDrift, drift_report
from capi_core.models import Scope
from capi_core.store import Store
from capi_core.weekly_review import review_fails
from tests.core.test_drift import assert_week_equals_report


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("drift-demo") / "demo.duckdb"
    build_demo_store(target)
    return target


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy (annotate writes)."""
    target = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, target)
    return target


def run(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_drift_json_flags_the_redeploy(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, _ = run(capsys, db, "drift")
    assert code == 0
    report = DriftReport.model_validate_json(out)
    assert report.week == report.default_week == "2026-W46"
    metrics = {m.key: m for m in report.metrics}
    # the beacons lose their event_id but keep sharing fbp: event_id coverage falls, Meta's coverage holds
    assert not metrics["event_coverage"].flagged
    for key in ("dedup_health", "gap_count", "event_id_coverage"):
        metric = metrics[key]
        assert metric.flagged and metric.worse, key
        assert metric.change_point is not None
        assert metric.change_point.day.isoformat() == "2026-11-04", key
        assert metric.change_point.annotations == ["checkout redeploy"]
    assert report.summary.startswith("Dedup health (all events) fell from")
    assert report.summary.endswith("the shift started on Wed 2026-11-04 (annotated: checkout redeploy).")
    assert not metrics["truth_count"].flagged  # the shop sold as usual: only what Meta counts moved


@pytest.mark.parametrize("week", ["2026-W46", "2026-W43"])
def test_demo_weeks_equal_the_report(demo_db: Path, week: str) -> None:
    with Store(demo_db) as store:
        assert_week_equals_report(store, week, Scope())
        assert_week_equals_report(store, week, Scope(pixel_id="1234567890123456"))


def test_drift_markdown(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, _ = run(capsys, db, "drift", "--week", "2026-W46", "--format", "md")
    assert code == 0
    assert out.startswith("# Weekly drift 2026-W46: Mon 2026-11-09 to Sun 2026-11-15")
    assert "| Dedup health (all events) |" in out
    assert "Wed 2026-11-04 (checkout redeploy)" in out


def test_report_week_markdown_html_and_json(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, md, _ = run(capsys, db, "report", "--week", "2026-W46", "--format", "md")
    assert code == 0
    assert md.startswith("# CAPI Signal Desk weekly review 2026-W46")
    for part in (
        "## Weekly drift 2026-W46",
        "### What changed (largest first)",
        "## Top findings of the week",
    ):
        assert part in md
    code, page, _ = run(capsys, db, "report", "--week", "2026-W46", "--format", "html")
    assert code == 0 and page.startswith("<!doctype html>") and "<script" not in page
    code, raw, _ = run(capsys, db, "report", "--week", "2026-W46")
    with Store(db) as store:
        expected = drift_report(store, Scope(), "2026-W46")
    assert json.loads(raw) == json.loads(expected.model_dump_json())


def test_report_week_to_a_file(capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    target = tmp_path / "review.md"
    code, out, err = run(capsys, db, "report", "--week", "2026-W46", "--format", "md", "--out", str(target))
    assert code == 0 and out == "" and "written" in err
    assert "checkout redeploy" in target.read_text(encoding="utf-8")


def test_fail_on_for_the_week(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    """W46 holds a critical finding (RECON_DOUBLE_COUNTED: the eid-less beacons are counted twice)."""
    assert run(capsys, db, "report", "--week", "2026-W46", "--format", "md", "--fail-on", "critical")[0] == 1
    assert run(capsys, db, "report", "--week", "2026-W46", "--format", "md")[0] == 0


def _metric(flagged: bool, worse: bool | None) -> MetricDrift:
    return MetricDrift(
        key="dedup_health", label="Dedup health", meaning="", unit="share", better="up", this_week=0.5,
        last_week=1.0, trailing_mean=1.0, change_vs_last_week=-0.5, relative_vs_last_week=-0.5,
        change_vs_trailing=-0.5, relative_vs_trailing=-0.5, threshold=0.05, threshold_relative=False,
        threshold_text="5 points",
        flagged=flagged, flagged_on=["last_week"] if flagged else [], size=10.0, worse=worse,
        change_point=None, weekly=[], daily=[],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("flagged", "worse", "fail_on", "fails"),
    [
        (True, True, "high", True),  # a flagged deterioration weighs as a high finding
        (True, True, "low", True),
        (True, True, "critical", False),
        (True, False, "low", False),  # a flagged improvement never fails
        (False, None, "low", False),
    ],
)
def test_review_fails_on_a_worse_drift_flag(
    flagged: bool, worse: bool | None, fail_on: str, fails: bool
) -> None:
    drift = DriftReport(
        week="2026-W46", week_start=None, week_end=None, complete=True, default_week="2026-W46",
        weeks_available=[], metrics=[_metric(flagged, worse)], what_changed=[], annotations=[], summary="",
    )  # fmt: skip
    assert review_fails(drift, [], fail_on) is fails


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["report", "--week", "2026-46"], "not an ISO week"),
        (["report", "--week", "2025-W53", "--format", "md"], "2025 has no ISO week 53"),
        (["report", "--week", "2026-W46", "--from", "2026-11-01"], "cannot be combined"),
        (["drift", "--week", "W46"], "not an ISO week"),
        (["annotate", "add", "4 Nov", "deploy"], "is not a day"),
        (["annotate", "add", "2026-11-04", ""], "the note is empty"),
        (["annotate", "delete", "99"], "no annotation 99"),
    ],
)
def test_bad_usage_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], db: Path, args: list[str], says: str
) -> None:
    before = db.read_bytes()
    code, out, err = run(capsys, db, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and says in err and err.startswith("capi-desk: error:")
    assert db.read_bytes() == before


def test_annotate_add_list_delete(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, _ = run(capsys, db, "annotate", "add", "2026-11-10", "theme deploy \x1b[31m<b>|")
    assert (code, out) == (0, "annotation 2 added for 2026-11-10\n")
    code, out, _ = run(capsys, db, "annotate", "list")
    assert code == 0
    assert out.splitlines() == [  # a header row, then aligned columns
        "id  day         note",
        " 1  2026-11-04  checkout redeploy",
        " 2  2026-11-10  theme deploy \\x1b[31m<b>|",  # stored as given, printed without its escape byte
    ]
    with Store(db) as store:
        assert annotations.list_annotations(store)[1].note == "theme deploy \x1b[31m<b>|"
    code, md, _ = run(capsys, db, "drift", "--format", "md")
    assert "- Tue 2026-11-10: theme deploy \\\\x1b\\[31m\\<b\\>\\|" in md  # Markdown shows the note as text
    code, page, _ = run(capsys, db, "report", "--week", "2026-W46", "--format", "html")
    assert "theme deploy \\x1b[31m&lt;b&gt;|" in page and "<b>|" not in page
    assert run(capsys, db, "annotate", "delete", "2")[:2] == (0, "annotation 2 deleted\n")
    assert run(capsys, db, "annotate", "list")[1].splitlines()[1:] == [" 1  2026-11-04  checkout redeploy"]


def test_annotate_list_on_an_empty_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    Store(tmp_path / "empty.duckdb").close()  # a missing store is its own error (no store at)
    code, out, _ = run(capsys, tmp_path / "empty.duckdb", "annotate", "list")
    assert code == 0 and "no annotations yet" in out
