"""Weekly drift on hand-computed stores: week parsing, change points, flags, report equality, annotations.

The synthetic shop (``shop`` fixture): five ISO weeks, 2026-W41 to 2026-W45, two paid orders of 50 USD a
week (Wednesday and Friday noon). In W41-W44 each order sends a browser and a server Purchase copy with the
same event_id (Meta merges them). In W45 (from Wednesday 2026-11-04) the browser copy loses its event_id
(the order id stays in custom_data), so Meta counts both copies and each order is a would-be pair.
"""

from __future__ import annotations

import datetime as dt

import pytest

from capi_core import annotations, weekly_review
from capi_core.dashboard_api import overall_dedup_health
from capi_core.errors import InputError
from capi_core.metrics import drift
from capi_core.metrics.drift import (
    THRESHOLDS,
    change_point,
    drift_report,
    latest_complete_week,
    parse_week,
    week_label,
)
from capi_core.models import IncomingEvent, IncomingTruth, Scope
from capi_core.report import build_report
from capi_core.store import Store
from tests.factories import T0, copy, load, load_truth, order

MONDAY_W45 = T0.date()  # 2026-11-02
DEPLOY = dt.date(2026, 11, 4)


def _minute(day: dt.date) -> float:
    """Minutes from T0 (Monday 12:00 of W45) to noon of ``day``."""
    return (day - MONDAY_W45).days * 24 * 60.0


def _shop_rows() -> tuple[list[IncomingEvent], list[IncomingTruth]]:
    events: list[IncomingEvent] = []
    truth: list[IncomingTruth] = []
    number = 1001
    for week in range(-4, 1):  # W41 .. W45
        for weekday in (2, 4):  # Wednesday, Friday
            day = MONDAY_W45 + dt.timedelta(weeks=week, days=weekday)
            minute, oid = _minute(day), str(number)
            custom = {"value": 50.0, "currency": "USD", "order_id": oid}
            browser_id = oid if day < DEPLOY else None
            events.append(copy("browser", event_id=browser_id, minute=minute, custom_data=custom))
            events.append(copy("server", event_id=oid, minute=minute + 1, custom_data=custom))
            truth.append(order(f"#{oid}", minute, line_no=number - 1000))
            number += 1
    return events, truth


@pytest.fixture
def shop(store: Store) -> Store:
    events, truth = _shop_rows()
    load(store, events)
    load_truth(store, truth)
    return store


# --- weeks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("2026-W46", dt.date(2026, 11, 9)),
        ("2026w46", dt.date(2026, 11, 9)),
        (" 2026-W01 ", dt.date(2025, 12, 29)),  # ISO week 1 of 2026 starts in December 2025
        ("2026-W53", dt.date(2026, 12, 28)),  # 2026 has 53 ISO weeks (28 Dec 2026 is a Monday)
        ("2020-W53", dt.date(2020, 12, 28)),
        ("2027-W01", dt.date(2027, 1, 4)),
    ],
)
def test_parse_week(text: str, monday: dt.date) -> None:
    assert parse_week(text) == monday


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2025-W53", "2025 has weeks 1 to 52"),
        ("2026-W00", "no ISO week 0"),
        ("2026-W54", "no ISO week 54"),
        ("2026-46", "not an ISO week"),
        ("last week", "not an ISO week"),
        ("", "not an ISO week"),
    ],
)
def test_bad_weeks_are_input_errors_with_a_hint(text: str, says: str) -> None:
    with pytest.raises(InputError) as err:
        parse_week(text)
    assert says in str(err.value)
    assert err.value.hint and "2026-W46" in err.value.hint


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (dt.date(2026, 11, 4), "2026-W45"),
        (dt.date(2027, 1, 1), "2026-W53"),  # a Friday in the last ISO week of 2026
        (dt.date(2027, 1, 3), "2026-W53"),
        (dt.date(2027, 1, 4), "2027-W01"),
        (dt.date(2024, 12, 30), "2025-W01"),  # a Monday of December in ISO week 1 of the next year
    ],
)
def test_week_label_across_year_boundaries(day: dt.date, label: str) -> None:
    assert week_label(day) == label
    assert week_label(parse_week(label)) == label


@pytest.mark.parametrize(
    ("last_day", "monday"),
    [
        (dt.date(2026, 11, 15), dt.date(2026, 11, 9)),  # a Sunday: its own week is complete
        (dt.date(2026, 11, 14), dt.date(2026, 11, 2)),  # a Saturday: the week before
        (dt.date(2026, 11, 9), dt.date(2026, 11, 2)),  # a Monday
        (dt.date(2027, 1, 3), dt.date(2026, 12, 28)),  # Sunday of 2026-W53
    ],
)
def test_latest_complete_week(last_day: dt.date, monday: dt.date) -> None:
    assert latest_complete_week(last_day) == monday


# --- change point ----------------------------------------------------------------------------------


def _days(values: list[float], first: dt.date = dt.date(2026, 11, 1)) -> list[tuple[dt.date, float]]:
    return [(first + dt.timedelta(days=n), v) for n, v in enumerate(values)]


def test_change_point_of_a_clean_step() -> None:
    """[1, 1, 1, 1, 0.5, 0.5, 0.5]: the split before index 4 leaves no error; the shift starts on day 4."""
    found = change_point(_days([1, 1, 1, 1, 0.5, 0.5, 0.5]))
    assert found is not None
    assert (found.day, found.mean_before, found.mean_after) == (dt.date(2026, 11, 5), 1.0, 0.5)


def test_change_point_of_a_noisy_step() -> None:
    """[10, 12, 11, 20, 21, 19]: the split before index 3 costs 2 + 2 = 4 (means 11 and 20); before index
    2 it costs 2 + 62.75 ([11, 20, 21, 19] around 17.75), before 4 it costs 62.75 + 2: the fourth day."""
    found = change_point(_days([10, 12, 11, 20, 21, 19]))
    assert found is not None
    assert found.day == dt.date(2026, 11, 4)
    assert (found.mean_before, found.mean_after) == (11.0, 20.0)


def test_change_point_keeps_two_days_each_side() -> None:
    """[5, 5, 5, 5, 0]: a one-day tail is not a shift (min 2 days); the best allowed split is before
    index 3: cost 0 + 12.5 (mean 2.5 of [5, 0]) versus index 2: 0 + 16.67 (mean 3.33 of [5, 5, 0])."""
    found = change_point(_days([5, 5, 5, 5, 0]))
    assert found is not None
    assert found.day == dt.date(2026, 11, 4)


@pytest.mark.parametrize("values", [[1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0], []])
def test_no_change_point_when_flat_or_short(values: list[float]) -> None:
    assert change_point(_days(values)) is None


# --- drift on the synthetic shop -------------------------------------------------------------------


def test_default_week_is_the_latest_complete_one(shop: Store) -> None:
    """The last copy is on Friday 2026-11-06: W45 is incomplete, so the default is W44; the week list runs
    from W45 back to W41."""
    report = drift_report(shop)
    assert report.week == report.default_week == "2026-W44"
    assert report.weeks_available == ["2026-W45", "2026-W44", "2026-W43", "2026-W42", "2026-W41"]
    assert not any(m.flagged for m in report.metrics)  # W44 equals W41-W43 (W40 holds no data)
    assert report.summary.startswith("Nothing passed its threshold in 2026-W44")


def test_truth_only_history_does_not_add_weeks(shop: Store) -> None:
    """CRM-style history: records created years before the first copy (2013-01-09, 2020-06-03) and one
    after the last (Sunday 2026-11-08, which would make W45 complete). The drift is about what was sent to
    Meta: the week list stays W45..W41 and the default week stays W44, as without those records."""
    before, after = (dt.date(2013, 1, 9), dt.date(2020, 6, 3)), dt.date(2026, 11, 8)
    records = [order(f"#old{n}", _minute(day), line_no=n) for n, day in enumerate((*before, after), 1)]
    load_truth(shop, records, label="old crm")
    report = drift_report(shop)
    assert report.week == report.default_week == "2026-W44"
    assert report.weeks_available == ["2026-W45", "2026-W44", "2026-W43", "2026-W42", "2026-W41"]


def test_flags_and_figures_of_the_broken_week(shop: Store) -> None:
    """W45 against W44 and the mean of W41-W44 (all identical):

    dedup health: 0 merged / (0 + 2 would-be pairs) = 0 %, before 2 / (2 + 0) = 100 %: -100 points;
    event coverage (Meta's, any dedup key): 2 of 2 browser events share their fbp with an accepted server
    copy = 100 %, as before (unflagged); event_id coverage: 0 of 2 share an event_id = 0 %, before 100 %;
    count gap: 4 counted copies vs 2 orders = +100 %, before 2 vs 2 = 0 %; value gap: 200 vs 100 USD = +100 %;
    Meta count: 4 vs 2 = +100 % relative (threshold 20 %); backend count 2 vs 2: unflagged.
    """
    report = drift_report(shop, Scope(), "2026-W45")
    metrics = {m.key: m for m in report.metrics}
    expected = {
        "dedup_health": (0.0, 1.0, 1.0),
        "event_coverage": (1.0, 1.0, 1.0),
        "event_id_coverage": (0.0, 1.0, 1.0),
        "gap_count": (1.0, 0.0, 0.0),
        "gap_value": (1.0, 0.0, 0.0),
        "meta_count": (4.0, 2.0, 2.0),
        "truth_count": (2.0, 2.0, 2.0),
        "delayed_2h": (0.0, 0.0, 0.0),
    }
    for key, (this, last, trailing) in expected.items():
        metric = metrics[key]
        assert (metric.this_week, metric.last_week, metric.trailing_mean) == (this, last, trailing), key
        assert metric.change_vs_last_week == this - last
    assert metrics["dedup_health"].flagged_on == ["last_week", "trailing"]
    assert metrics["dedup_health"].size == pytest.approx(1.0 / THRESHOLDS["dedup_health"].size)
    assert metrics["dedup_health"].worse is True
    assert metrics["gap_count"].worse is True  # further from 0
    assert metrics["meta_count"].relative_vs_trailing == 1.0
    assert metrics["meta_count"].size == pytest.approx(5.0)  # +100 % / 20 %
    assert not metrics["truth_count"].flagged
    assert not metrics["event_coverage"].flagged
    assert not metrics["delayed_2h"].flagged
    assert not metrics["emq"].flagged
    # what changed: largest first; the four 100-point moves (20 thresholds each) before the count (5)
    assert [c.key for c in report.what_changed][-1] == "meta_count"
    assert {c.key for c in report.what_changed} == {
        "dedup_health", "event_id_coverage", "gap_count", "gap_value", "meta_count",
    }  # fmt: skip
    assert report.what_changed == sorted(report.what_changed, key=lambda c: -c.size)


def test_change_point_lands_on_the_deploy_day_with_its_annotation(shop: Store) -> None:
    """Daily dedup health: 1.0 on the 8 order days of W41-W44, 0.0 on Wed 4 and Fri 6 Nov: the split with
    no error starts the shift on Wednesday 2026-11-04, where the annotation is."""
    annotations.add(shop, "2026-11-04", "checkout redeploy")
    annotations.add(shop, "2026-11-05", "unrelated note")
    report = drift_report(shop, Scope(), "2026-W45")
    health = next(m for m in report.metrics if m.key == "dedup_health")
    assert health.change_point is not None
    assert health.change_point.day == DEPLOY
    assert (health.change_point.mean_before, health.change_point.mean_after) == (1.0, 0.0)
    assert health.change_point.annotations == ["checkout redeploy"]
    assert report.summary == (
        "Dedup health (all events) fell from 100.0 % (the 4 weeks before) to 0.0 % this week; the shift "
        "started on Wed 2026-11-04 (annotated: checkout redeploy)."
    )
    assert [a.note for a in report.annotations] == ["checkout redeploy", "unrelated note"]
    assert len(health.daily) == 35 and len(health.weekly) == 5


@pytest.mark.parametrize("week", ["2026-W41", "2026-W44", "2026-W45"])
def test_weekly_value_equals_the_report_over_that_week(shop: Store, week: str) -> None:
    """The same definitions: each metric of a week equals the report's figure for a Scope of that week."""
    assert_week_equals_report(shop, week, Scope())


def assert_week_equals_report(store: Store, week: str, scope: Scope) -> None:
    monday = parse_week(week)
    metrics = {m.key: m.this_week for m in drift_report(store, scope, week).metrics}
    report = build_report(
        store, scope.model_copy(update={"date_from": monday, "date_to": monday + dt.timedelta(days=6)})
    )
    recon = report.reconciliation[0]
    purchase = [d for d in report.dedup if d.event_name == "Purchase" and d.browser]
    emq = [e for e in report.match_keys.emq_estimate if e.event_name == "Purchase"]
    total = next(f for f in report.freshness if f.is_total)
    expected = {
        "dedup_health": overall_dedup_health(report),
        "event_coverage": purchase[0].event_coverage if purchase else None,
        "event_id_coverage": purchase[0].event_id_coverage if purchase else None,
        "gap_count": recon.gap_pct,
        "gap_value": recon.value_gap_pct,
        "emq": emq[0].score if emq else None,
        "delayed_2h": (total.within_24h + total.later) / (total.copies - total.unknown),
        "meta_count": recon.meta_count,
        "truth_count": recon.truth_count,
    }
    assert set(metrics) == set(expected)
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, rel=1e-9), key


def test_empty_store(store: Store) -> None:
    report = drift_report(store)
    assert report.week is None and report.metrics == [] and report.weeks_available == []
    assert "No data yet" in report.summary
    assert drift_report(store, Scope(), "2026-W45").summary.startswith("No data in 2026-W45")


def test_without_truth_the_reconciliation_metrics_are_left_out(store: Store) -> None:
    events, _ = _shop_rows()
    load(store, events)
    keys = [m.key for m in drift_report(store, Scope(), "2026-W45").metrics]
    assert keys == ["dedup_health", "event_coverage", "event_id_coverage", "emq", "delayed_2h"]


def test_thresholds_are_stated_for_every_metric() -> None:
    assert set(THRESHOLDS) == {spec.key for spec in drift.METRICS}
    assert THRESHOLDS["dedup_health"].describe("share") == "5 points"
    assert THRESHOLDS["meta_count"].describe("count") == "20 % relative"


# --- annotations ------------------------------------------------------------------------------------


def test_annotation_crud(store: Store) -> None:
    first = annotations.add(store, "2026-11-04", "checkout redeploy")
    second = annotations.add(store, dt.date(2026, 11, 1), "<b>theme</b> | deploy")
    assert (first.annotation_id, second.annotation_id) == (1, 2)
    listed = annotations.list_annotations(store)
    assert [(a.annotation_id, a.day.isoformat(), a.note) for a in listed] == [
        (2, "2026-11-01", "<b>theme</b> | deploy"),  # stored as given, by day
        (1, "2026-11-04", "checkout redeploy"),
    ]
    assert [a.annotation_id for a in annotations.list_annotations(store, dt.date(2026, 11, 2))] == [1]
    assert annotations.delete(store, 2) is True
    assert annotations.delete(store, 2) is False
    assert [a.annotation_id for a in annotations.list_annotations(store)] == [1]
    assert annotations.add(store, "2026-11-05", "again").annotation_id == 2  # max id + 1


@pytest.mark.parametrize(
    ("day", "note", "says"),
    [
        ("2026-13-01", "x", "is not a day"),
        ("04/11/2026", "x", "is not a day"),
        ("2026-11-4", "x", "is not a day"),
        ("2026-11-04", "   ", "the note is empty"),
        ("2026-11-04", "x" * 501, "501 characters"),
    ],
)
def test_bad_annotations_are_refused_and_nothing_is_stored(
    store: Store, day: str, note: str, says: str
) -> None:
    with pytest.raises(InputError) as err:
        annotations.add(store, day, note)
    assert says in str(err.value)
    assert annotations.list_annotations(store) == []


def test_a_store_without_a_complete_week_defaults_to_its_partial_week(store: Store) -> None:
    """Copies on Wednesday and Friday of W45 only: no week is complete, so W45 itself, marked incomplete."""
    events, _ = _shop_rows()
    load(
        store,
        [e for e in events if e.event_time_raw >= int(dt.datetime(2026, 11, 2, tzinfo=dt.UTC).timestamp())],
    )
    report = drift_report(store)
    assert (report.week, report.complete, report.weeks_available) == ("2026-W45", False, ["2026-W45"])
    assert all(m.last_week is None and m.trailing_mean is None for m in report.metrics)
    assert not any(m.flagged for m in report.metrics)


def test_rendered_sections_show_notes_as_text(shop: Store) -> None:
    """The note is stored as typed; Markdown escapes its markup, HTML escapes it, control bytes are shown
    as escapes."""
    annotations.add(shop, "2026-11-04", "<img src=x onerror=alert(1)> | *deploy*\x1b[2J")
    report = drift_report(shop, Scope(), "2026-W45")
    markdown = "\n".join(weekly_review.markdown_lines(report))
    assert "\\<img src=x onerror=alert(1)\\> \\| \\*deploy\\*\\\\x1b\\[2J" in markdown
    assert "<img" not in markdown.replace("\\<img", "")
    page = "\n".join(weekly_review.html_parts(report))
    assert "&lt;img src=x onerror=alert(1)&gt; | *deploy*\\x1b[2J" in page
    assert "<img" not in page and "\x1b" not in page
