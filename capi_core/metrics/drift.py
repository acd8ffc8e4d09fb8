"""Weekly drift (SPEC §4 "drift"): every headline metric this ISO week against last week and against the
trailing 4 weeks, flags past a threshold, the day the shift started and the annotation on that day.

The daily numerators and denominators come from one query (``queries/drift_daily.sql``) over the derived
tables, with the report's definitions, so a week's value is the report's figure for a scope covering that
week. This module adds weeks up, compares them and finds the change point; it must not recompute the
dedup model or the reconciliation links.

Decisions (where the spec is silent):

- Weeks are ISO weeks (Monday to Sunday, UTC). The default week is the latest complete week in the data:
  the week of the last day with data when that day is a Sunday, else the week before (a day counts as
  "with data" when it holds at least ``MIN_DAY_SHARE`` of the median day's event copies, so a few stray
  timestamps do not move it); the week of the last day when no week is complete. Only event copies make
  a week (the metrics are about what was sent to Meta): backend records alone, e.g. a CRM export
  reaching back years, add no week to the list and do not move the default.
- The scope's pixel and event filters apply; its dates only bound the search for the default week, the
  series always covers the chosen week and the ``TRAILING_WEEKS`` before it.
- A week's value is a ratio of sums over its days (never a mean of daily ratios); the trailing value is
  the mean of the weekly values of the 4 weeks before (weeks without a value are left out).
- Partial weeks are not a baseline: a week before the chosen one that the data does not cover from
  Monday to Sunday (the event copies' days as ``data_days`` finds them; for the reconciliation metrics
  also the backend records' first to last creation day, since an order export is a date slice) is left
  out of "last week" and of the trailing mean (``WeekValue.partial``). A metric with no complete week
  before the chosen one has nothing to compare with and raises no flag, and the summary says that there
  is too little history to judge. The chosen week itself is compared even when partial (``complete``
  says so): what it already shows is real.
- The reconciliation metrics (count and value gap, Meta and backend counts) are the reconciliation's own
  daily figures (``reconcile.daily``): the same pixel scope and the same currency rule as the report.
- Flag: the change against last week or against the trailing mean passes the metric's threshold
  (``THRESHOLDS``: points for shares and scores, relative for counts).
- Change point (flagged metrics only): over the daily series of the chosen week and the 4 weeks before
  (days with a value), the single split that minimises the squared error of a two-mean fit (least squares,
  at least ``MIN_SEGMENT_DAYS`` days on each side); the shift started on the first day after the split.
- What changed: the flagged metrics, largest change first, sized in multiples of their threshold (so a
  26-point fall in a share ranks above a 25 % rise in a count whose threshold is 20 %). The one-sentence
  summary speaks about the first flagged metric in headline order (``METRICS``: dedup health first),
  since a broken merge explains the gaps that follow from it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from capi_core import units
from capi_core.annotations import Annotation, list_annotations
from capi_core.errors import InputError
from capi_core.metrics import reconcile
from capi_core.metrics.emq_fit import pixel_weights
from capi_core.models import Scope, TruthKind
from capi_core.store import Store

#: The conversion the event-specific headlines speak about, and the truth it reconciles with.
HEADLINE_EVENT = "Purchase"
HEADLINE_KIND: TruthKind = "order"
TRAILING_WEEKS = 4
MIN_SEGMENT_DAYS = 2
MIN_DAY_SHARE = 0.1
WEEK_HINT = "give an ISO week as YYYY-Www, e.g. 2026-W46"

Unit = Literal["share", "gap", "score", "count"]
Better = Literal["up", "down", "zero"]
_WEEK = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")


@dataclass(frozen=True)
class Threshold:
    """How large a change must be to raise a flag: ``size`` points (absolute) or a relative share."""

    size: float
    relative: bool = False

    def describe(self, unit: Unit) -> str:
        if self.relative:
            return f"{units.goal(self.size)} relative"
        if unit == "score":
            return f"{self.size:g} points"
        return f"{self.size * 100:g} points"


#: Every threshold in one place. Shares and gaps move in percentage points (5 points; the delayed share
#: 2 points, as its healthy level is near 0 % and 5 points would hide a tripling); the EMQ estimate in
#: score points; counts relatively (20 %: a week-to-week swing of a shop's orders is often 10 %).
THRESHOLDS: dict[str, Threshold] = {
    "dedup_health": Threshold(0.05),
    "event_coverage": Threshold(0.05),
    "event_id_coverage": Threshold(0.05),
    "gap_count": Threshold(0.05),
    "gap_value": Threshold(0.05),
    "emq": Threshold(0.5),
    "delayed_2h": Threshold(0.02),
    "meta_count": Threshold(0.20, relative=True),
    "truth_count": Threshold(0.20, relative=True),
}


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _gap(meta: float, truth: float) -> float | None:
    return (meta - truth) / truth if truth else None


@dataclass(frozen=True)
class MetricSpec:
    """One headline metric: its label, unit, which direction is better, and how to compute it from sums."""

    key: str
    label: str
    unit: Unit
    better: Better
    value: Callable[[dict[str, float]], float | None]
    meaning: str
    recon: bool = False  # needs backend truth and the headline event in scope


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "dedup_health", "Dedup health (all events)", "share", "up",
        lambda s: _ratio(s["merged_pairs"], s["merged_pairs"] + s["would_be_pairs"]),
        "Merged browser+server pairs / (merged pairs + pairs Meta counts twice), over every event.",
    ),
    MetricSpec(
        "event_coverage", f"{HEADLINE_EVENT} event coverage", "share", "up",
        lambda s: _ratio(s["browser_covered"], s["browser_events"]),
        f"Meta's event coverage: unique browser {HEADLINE_EVENT} events sharing event_id, external_id or "
        "fbp with a server copy Meta accepted / unique browser events (goal 75 %).",
    ),
    MetricSpec(
        "event_id_coverage", f"{HEADLINE_EVENT} event_id coverage", "share", "up",
        lambda s: _ratio(s["browser_id_covered"], s["browser_events"]),
        f"The stricter share: unique browser {HEADLINE_EVENT} events with a server copy Meta accepted that "
        "carries the same event_id / unique browser events.",
    ),
    MetricSpec(
        "gap_count", f"{HEADLINE_EVENT} count gap", "gap", "zero",
        lambda s: _gap(s["meta_count"], s["truth_count"]),
        f"(Meta's estimated {HEADLINE_EVENT} count - eligible backend records) / eligible backend records.",
        recon=True,
    ),
    MetricSpec(
        "gap_value", f"{HEADLINE_EVENT} value gap", "gap", "zero",
        lambda s: _gap(s["meta_value"], s["truth_value"]),
        "The count gap in money: the value Meta would book against the backend's total.", recon=True,
    ),
    MetricSpec(
        "emq", f"{HEADLINE_EVENT} estimated EMQ", "score", "up",
        lambda s: _ratio(s["emq_score_sum"], s["emq_copies"]),
        "Our weighted score (0-10) of the match keys on server website copies; not Meta's own score.",
    ),
    MetricSpec(
        "delayed_2h", "Server copies sent 2 h+ late", "share", "down",
        lambda s: _ratio(s["server_delayed"], s["server_timed"]),
        "Server copies sent 2 hours or more after the event / server copies with a send time.",
    ),
    MetricSpec(
        "meta_count", f"Meta {HEADLINE_EVENT} count (est.)", "count", "zero",
        lambda s: s["meta_count"],
        f"{HEADLINE_EVENT} copies Meta counts after its dedup (our model), name variants included.",
        recon=True,
    ),
    MetricSpec(
        "truth_count", f"Backend {HEADLINE_EVENT} count", "count", "zero",
        lambda s: s["truth_count"],
        "Eligible backend records (paid, consent not denied, not a test), by creation day.", recon=True,
    ),
)  # fmt: skip
#: The metrics that count backend records: a week the order export does not cover whole is partial for them.
TRUTH_METRICS = frozenset({"gap_count", "gap_value", "truth_count"})
_SUMS = (
    "merged_pairs", "would_be_pairs", "browser_events", "browser_covered", "browser_id_covered",
    "truth_count", "truth_value", "meta_count", "meta_value", "emq_copies", "emq_score_sum", "server_timed",
    "server_delayed",
)  # fmt: skip


# --- weeks -----------------------------------------------------------------------------------------


def week_label(day: dt.date) -> str:
    """``2026-W46`` for any day of that ISO week."""
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def parse_week(text: str) -> dt.date:
    """The Monday of the ISO week ``YYYY-Www`` (``2026-W46``, ``2026w46``); InputError otherwise.

    Week 53 exists only in years whose 28 December falls in it (e.g. 2026); ``2025-W53`` is refused.
    """
    match = _WEEK.match(text or "")
    if not match:
        raise InputError(f"{str(text)[:40]!r} is not an ISO week", hint=WEEK_HINT)
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        weeks = dt.date(year, 12, 28).isocalendar().week
        raise InputError(
            f"{year} has no ISO week {week}", hint=f"{year} has weeks 1 to {weeks}; {WEEK_HINT}"
        ) from None


# --- change point ----------------------------------------------------------------------------------


class ChangePoint(BaseModel):
    """Where a daily series shifts: the first day of the new level, and the two levels."""

    model_config = ConfigDict(frozen=True)

    day: dt.date
    mean_before: float
    mean_after: float
    annotations: list[str] = []  # notes written for that day


def change_point(
    series: Sequence[tuple[dt.date, float]], min_segment: int = MIN_SEGMENT_DAYS
) -> ChangePoint | None:
    """The split of ``series`` (in day order) that best separates two means (least squares).

    Returns the first day after the split with the mean before and after, or None when the series is
    shorter than two segments or flat. Ties go to the earliest split.
    """
    values = [v for _, v in series]
    n = len(values)
    if n < 2 * min_segment:
        return None
    total, total_sq = sum(values), sum(v * v for v in values)
    best: tuple[float, int] | None = None
    left = left_sq = 0.0
    for index, value in enumerate(values[:-1], start=1):
        left += value
        left_sq += value * value
        if index < min_segment or n - index < min_segment:
            continue
        right, right_sq = total - left, total_sq - left_sq
        cost = (left_sq - left * left / index) + (right_sq - right * right / (n - index))
        if best is None or cost < best[0] - 1e-12:
            best = (cost, index)
    flat = total_sq - total * total / n
    if best is None or flat <= 1e-12:
        return None
    split = best[1]
    return ChangePoint(
        day=series[split][0],
        mean_before=sum(values[:split]) / split,
        mean_after=sum(values[split:]) / (n - split),
    )


# --- results ---------------------------------------------------------------------------------------


class WeekValue(BaseModel):
    """A metric's value over one ISO week."""

    model_config = ConfigDict(frozen=True)

    week: str
    start: dt.date
    value: float | None
    partial: bool = False  # the data does not cover the whole week: not a baseline


class DayValue(BaseModel):
    """A metric's value on one day (None: nothing to measure that day)."""

    model_config = ConfigDict(frozen=True)

    day: dt.date
    value: float | None


class MetricDrift(BaseModel):
    """One headline metric this week against last week and the trailing 4 weeks."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    meaning: str
    unit: Unit
    better: Better
    this_week: float | None
    last_week: float | None
    trailing_mean: float | None
    change_vs_last_week: float | None  # this - last (points for shares, gaps and scores)
    relative_vs_last_week: float | None  # (this - last) / |last|
    change_vs_trailing: float | None
    relative_vs_trailing: float | None
    threshold: float
    threshold_relative: bool
    threshold_text: str
    flagged: bool
    flagged_on: list[str]  # "last_week" and/or "trailing"
    size: float  # the larger change in multiples of the threshold (0 without a comparison)
    worse: bool | None  # the change moves away from what is better; None when unflagged or neutral
    change_point: ChangePoint | None
    weekly: list[WeekValue]  # the trailing weeks, last week and this week, oldest first
    daily: list[DayValue]  # every day of those weeks
    baseline_weeks: int = 0  # complete weeks with a value before this one (0: too little history)


class Change(BaseModel):
    """One line of "what changed", largest first."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    sentence: str
    this_week: float | None
    last_week: float | None
    trailing_mean: float | None
    change_vs_last_week: float | None
    change_vs_trailing: float | None
    size: float
    started_on: dt.date | None
    annotation: str | None


class DriftReport(BaseModel):
    """The weekly drift of one ISO week (SPEC §4), for the report, the CLI and the Weekly drift page."""

    model_config = ConfigDict(frozen=True)

    week: str | None  # None: no data in scope
    week_start: dt.date | None
    week_end: dt.date | None  # the Sunday, inclusive
    complete: bool  # the data reaches the week's Sunday
    default_week: str | None  # the latest complete week in the data
    weeks_available: list[str]  # every week with data, newest first (for a week picker)
    event_name: str = HEADLINE_EVENT
    metrics: list[MetricDrift]
    what_changed: list[Change]
    annotations: list[Annotation]  # notes from the first trailing week to this week's Sunday
    summary: str
    too_little_history: bool = False  # no metric has a complete week before this one to compare with


# --- computation -----------------------------------------------------------------------------------


def data_days(store: Store, scope: Scope) -> tuple[dt.date, dt.date] | None:
    """The first and last day of the data in scope the drift stands on (see ``drift_days.sql``)."""
    rows = store.query_file("drift_days", {**scope.params(), "min_share": MIN_DAY_SHARE}).rows
    if not rows or rows[0][0] is None:
        return None
    first, last = rows[0]
    return _as_date(first), _as_date(last)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def latest_complete_week(last_day: dt.date) -> dt.date:
    """The Monday of the latest ISO week that ends on or before ``last_day``."""
    monday = week_start(last_day)
    return monday if last_day.weekday() == 6 else monday - dt.timedelta(weeks=1)


def daily_sums(
    store: Store, scope: Scope, date_from: dt.date, date_to: dt.date
) -> dict[dt.date, dict[str, float]]:
    """Per day from ``date_from`` to ``date_to`` (exclusive), the sums every metric is computed from.

    The EMQ score sum scores each pixel's copies with that pixel's points, as the report's estimate does
    (``emq_fit.pixel_weights``: fitted to Meta's EMQ where its snapshots allow, else the calibration): a
    fitted pixel's calibrated sum is swapped for its fitted one.
    """
    weights = pixel_weights(store)
    params = {
        "date_from": dt.datetime.combine(date_from, dt.time()),
        "date_to": dt.datetime.combine(date_to, dt.time()),
        "pixel_id": scope.pixel_id,
        "event_names": list(scope.event_names) or None,
        "event": HEADLINE_EVENT,
        "kind": HEADLINE_KIND,
        **weights.default.params(),
    }
    out = _day_sums(store, params)
    for pixel, points in sorted(weights.per_pixel.items()):
        if scope.pixel_id not in (None, pixel):
            continue
        calibrated = _day_sums(store, {**params, "pixel_id": pixel})
        fitted = _day_sums(store, {**params, "pixel_id": pixel, **points.params()})
        for day, sums in fitted.items():
            out[day]["emq_score_sum"] += sums["emq_score_sum"] - calibrated[day]["emq_score_sum"]
    return out


def _day_sums(store: Store, params: dict[str, Any]) -> dict[dt.date, dict[str, float]]:
    rows = store.query_file("drift_daily", params).dicts()
    return {_as_date(row["day"]): {name: float(row[name] or 0) for name in _SUMS} for row in rows}


def _add(days: Sequence[dict[str, float]]) -> dict[str, float]:
    return {name: sum(day.get(name, 0.0) for day in days) for name in _SUMS}


def _recon_applies(store: Store, scope: Scope) -> bool:
    return reconcile.has_truth(store, HEADLINE_KIND) and reconcile.canonical_name_in_scope(
        scope, HEADLINE_EVENT
    )


def _relative(change: float | None, base: float | None) -> float | None:
    return None if change is None or not base else change / abs(base)


def _size(change: float | None, relative: float | None, threshold: Threshold) -> float:
    measured = relative if threshold.relative else change
    return 0.0 if measured is None else abs(measured) / threshold.size


def _worse(spec: MetricSpec, this: float | None, before: float | None) -> bool | None:
    if this is None or before is None or this == before:
        return None
    if spec.better == "up":
        return this < before
    if spec.better == "down":
        return this > before
    if spec.unit == "gap":
        return abs(this) > abs(before)
    return None


def _metric(
    spec: MetricSpec,
    weekly: list[WeekValue],
    daily: list[DayValue],
    notes: dict[dt.date, list[str]],
) -> MetricDrift:
    this = weekly[-1].value
    last = None if weekly[-2].partial else weekly[-2].value
    trailing = [w.value for w in weekly[:-1] if w.value is not None and not w.partial]
    mean = sum(trailing) / len(trailing) if trailing else None
    threshold = THRESHOLDS[spec.key]
    d_last = None if this is None or last is None else this - last
    d_trail = None if this is None or mean is None else this - mean
    r_last, r_trail = _relative(d_last, last), _relative(d_trail, mean)
    size_last, size_trail = _size(d_last, r_last, threshold), _size(d_trail, r_trail, threshold)
    flagged_on = [name for name, size in (("last_week", size_last), ("trailing", size_trail)) if size >= 1]
    point = None
    if flagged_on:
        found = change_point([(d.day, d.value) for d in daily if d.value is not None])
        if found is not None:
            point = found.model_copy(update={"annotations": notes.get(found.day, [])})
    reference = mean if "trailing" in flagged_on or not flagged_on else last
    return MetricDrift(
        key=spec.key,
        label=spec.label,
        meaning=spec.meaning,
        unit=spec.unit,
        better=spec.better,
        this_week=this,
        last_week=last,
        trailing_mean=mean,
        change_vs_last_week=d_last,
        relative_vs_last_week=r_last,
        change_vs_trailing=d_trail,
        relative_vs_trailing=r_trail,
        threshold=threshold.size,
        threshold_relative=threshold.relative,
        threshold_text=threshold.describe(spec.unit),
        flagged=bool(flagged_on),
        flagged_on=flagged_on,
        size=max(size_last, size_trail),
        worse=_worse(spec, this, reference) if flagged_on else None,
        change_point=point,
        weekly=weekly,
        daily=daily,
        baseline_weeks=len(trailing),
    )


def format_value(unit: str, value: float | None, *, signed: bool = False) -> str:
    """A metric value as people read it: ``97 %``, ``+12 %`` (gaps), ``7.4`` (EMQ), ``1,204`` (counts)."""
    if value is None:
        return "—"
    if unit == "score":
        return f"{value:+.1f}" if signed else f"{value:.1f}"
    if unit == "count":
        return f"{value:+,.0f}" if signed else f"{value:,.0f}"
    if unit == "gap" or signed:
        return units.signed_share(value)
    return units.share(value)


def format_change(unit: str, change: float | None) -> str:
    """A change in the metric's own terms: ``-26.0 pts`` for shares and gaps, ``+0.4`` for the EMQ."""
    if change is None:
        return "—"
    if unit in ("share", "gap"):
        return units.points(change)
    return format_value(unit, change, signed=True)


def _day_text(day: dt.date) -> str:
    return f"{day:%a} {day.isoformat()}"


def _sentence(metric: MetricDrift) -> str:
    reference, what = (
        (metric.trailing_mean, "the 4 weeks before")
        if "trailing" in metric.flagged_on
        else (metric.last_week, "last week")
    )
    if metric.this_week is None or reference is None:
        return f"{metric.label} changed this week."
    verb = "rose" if metric.this_week > reference else "fell"
    if metric.unit == "gap":
        verb = "widened" if abs(metric.this_week) > abs(reference) else "narrowed"
    text = (
        f"{metric.label} {verb} from {format_value(metric.unit, reference)} ({what}) to "
        f"{format_value(metric.unit, metric.this_week)} this week"
    )
    point = metric.change_point
    if point is not None:
        text += f"; the shift started on {_day_text(point.day)}"
        if point.annotations:
            text += f" (annotated: {'; '.join(point.annotations)})"
    return text + "."


def _change(metric: MetricDrift) -> Change:
    point = metric.change_point
    return Change(
        key=metric.key,
        label=metric.label,
        sentence=_sentence(metric),
        this_week=metric.this_week,
        last_week=metric.last_week,
        trailing_mean=metric.trailing_mean,
        change_vs_last_week=metric.change_vs_last_week,
        change_vs_trailing=metric.change_vs_trailing,
        size=metric.size,
        started_on=point.day if point else None,
        annotation="; ".join(point.annotations) if point and point.annotations else None,
    )


def _summary(week: str, metrics: list[MetricDrift], has_data: bool, first_day: dt.date | None) -> str:
    """One sentence: the first flagged metric in headline order (dedup health before the gaps it causes),
    or why nothing can be judged."""
    if not has_data:
        return f"No data in {week} or the 4 weeks before it for these filters."
    if metrics and not any(m.baseline_weeks for m in metrics):
        start = f" (the data starts on {_day_text(first_day)})" if first_day else ""
        return (
            f"Too little history to judge {week}: no complete week before it{start}, and a partial week "
            "is not a baseline."
        )
    # metrics whose only earlier weeks are partial (an order export starting mid-week) are not judged
    unjudged = [m.label for m in metrics if m.this_week is not None and not m.baseline_weeks and _history(m)]
    flagged = [m for m in metrics if m.flagged]
    if flagged:
        text = _sentence(flagged[0])
    elif unjudged:
        text = f"Nothing passed its threshold in {week}: the metrics it could judge held steady."
    else:
        text = f"Nothing passed its threshold in {week}: every headline metric held steady."
    if unjudged:
        text += f" Too little history to judge {', '.join(unjudged)}: the weeks before are partial."
    return text


def _history(metric: MetricDrift) -> bool:
    """Whether any week before the chosen one has a value (partial or not)."""
    return any(w.value is not None for w in metric.weekly[:-1])


def _covered(monday: dt.date, period: tuple[dt.date, dt.date] | None) -> bool:
    """Whether ``period`` (first and last day with data) covers the ISO week of ``monday`` whole."""
    return period is not None and period[0] <= monday and period[1] >= monday + dt.timedelta(days=6)


def _truth_days(store: Store) -> tuple[dt.date, dt.date] | None:
    """The first and last creation day of the headline truth (a backend export is a date slice)."""
    row = store.query(
        "truth period",
        "select min(created_at), max(created_at) from truth_current where kind = $kind",
        {"kind": HEADLINE_KIND},
    ).rows
    if not row or row[0][0] is None:
        return None
    return _as_date(row[0][0]), _as_date(row[0][1])


def _with_reconciliation(
    store: Store, scope: Scope, sums: dict[dt.date, dict[str, float]], first: dt.date, end: dt.date
) -> None:
    """Replace the reconciliation sums of every day with ``reconcile.daily``'s figures (same pixel scope,
    same currency rule as the report)."""
    recon_scope = scope.model_copy(update={"date_from": first, "date_to": end - dt.timedelta(days=1)})
    for day in sums.values():
        for name in ("truth_count", "truth_value", "meta_count", "meta_value"):
            day[name] = 0.0
    for row in reconcile.daily(store, recon_scope, HEADLINE_EVENT, HEADLINE_KIND):
        day = sums.setdefault(row.period, dict.fromkeys(_SUMS, 0.0))
        day.update(
            truth_count=float(row.truth_count),
            truth_value=row.truth_value,
            meta_count=float(row.meta_count),
            meta_value=row.meta_value,
        )


def _weeks_available(days: tuple[dt.date, dt.date] | None) -> list[str]:
    if days is None:
        return []
    first, last = week_start(days[0]), week_start(days[1])
    count = (last - first).days // 7
    return [week_label(last - dt.timedelta(weeks=n)) for n in range(count + 1)]


def _empty(scope: Scope) -> DriftReport:
    return DriftReport(
        week=None, week_start=None, week_end=None, complete=False, default_week=None, weeks_available=[],
        metrics=[], what_changed=[], annotations=[],
        summary="No data yet for these filters: load events and backend records to see weekly drift.",
    )  # fmt: skip


def drift_report(store: Store, scope: Scope | None = None, week: str | None = None) -> DriftReport:
    """The weekly drift of ``week`` (``2026-W46``; default: the latest complete ISO week in the data).

    Raises:
        InputError: ``week`` is not an ISO week.
    """
    scope = scope or Scope()
    monday = parse_week(week) if week is not None else None
    days = data_days(store, scope)
    default = latest_complete_week(days[1]) if days else None
    if days is not None and default is not None and default < week_start(days[0]):
        default = week_start(days[1])  # no complete week yet: the partial one
    if monday is None:
        if default is None:
            return _empty(scope)
        monday = default
    first = monday - dt.timedelta(weeks=TRAILING_WEEKS)
    end = monday + dt.timedelta(weeks=1)
    sums = daily_sums(store, scope, first, end)
    calendar = [first + dt.timedelta(days=n) for n in range((end - first).days)]
    recon = _recon_applies(store, scope)
    if recon:
        _with_reconciliation(store, scope, sums, first, end)
    truth_days = _truth_days(store) if recon else None
    # what the data covers, whatever the scope's dates (they only bound the search for the default week)
    undated = scope.model_copy(update={"date_from": None, "date_to": None})
    coverage = days if undated == scope else data_days(store, undated)
    notes_in_range = list_annotations(store, first, end - dt.timedelta(days=1))
    notes: dict[dt.date, list[str]] = {}
    for note in notes_in_range:
        notes.setdefault(note.day, []).append(note.note)
    metrics = []
    for spec in METRICS:
        if spec.recon and not recon:
            continue
        weekly = []
        for index in range(TRAILING_WEEKS + 1):
            start = first + dt.timedelta(weeks=index)
            week_days = [sums[d] for d in calendar[index * 7 : index * 7 + 7] if d in sums]
            covered = _covered(start, coverage) and (
                spec.key not in TRUTH_METRICS or _covered(start, truth_days)
            )
            weekly.append(
                WeekValue(
                    week=week_label(start),
                    start=start,
                    value=spec.value(_add(week_days)) if week_days else None,
                    partial=not covered,
                )
            )
        daily = [DayValue(day=d, value=spec.value(sums[d]) if d in sums else None) for d in calendar]
        metrics.append(_metric(spec, weekly, daily, notes))
    changes = [_change(m) for m in sorted((m for m in metrics if m.flagged), key=lambda m: -m.size)]
    label = week_label(monday)
    return DriftReport(
        week=label,
        week_start=monday,
        week_end=monday + dt.timedelta(days=6),
        complete=days is not None and days[1] >= monday + dt.timedelta(days=6),
        default_week=week_label(default) if default else None,
        weeks_available=_weeks_available(days),
        metrics=metrics,
        what_changed=changes,
        annotations=notes_in_range,
        summary=_summary(label, metrics, bool(sums), coverage[0] if coverage else None),
        too_little_history=bool(metrics) and not any(m.baseline_weeks for m in metrics),
    )
