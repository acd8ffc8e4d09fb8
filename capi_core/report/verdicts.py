"""Each section's one line against its goal, the three things that matter this week, and what each finding
costs: the judgements the report prints, made from the report's own figures.

Pure functions over the model (no store, no SQL), so the Markdown, the HTML and the JSON say the same. The
goals are the ones the dashboard's tiles use (``COVERAGE_GOAL``, ``EMQ_GOAL``, ``QUALIFICATION_GOAL``,
``GAP_TOLERANCE`` equal to ``dashboard_api.GAP_TOLERANCE``, pinned by a test); a section with nothing to
judge says what to load instead.

A finding's cost (``cost``) is what the report orders findings by: when it names a reconciled event (or a
spelling of one), its count is conversions at stake, and for orders their value at the average eligible
order value; findings about other events cost nothing countable and follow, by severity then size. The
cost is shown only when the count is a number the finding's sentence says (``73 of 394 leads`` is never
shown beside ``321``).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from capi_core import units
from capi_core.diagnostics import Finding
from capi_core.diagnostics.registry import SEVERITY_RANK
from capi_core.metrics.count_range import MetaCountRange
from capi_core.metrics.dedup import COVERAGE_GOAL, DedupEventStats
from capi_core.metrics.match_keys import EMQ_GOAL
from capi_core.metrics.reconcile import ReconSummary
from capi_core.report import text
from capi_core.report.model import Report, Status, Verdict

#: A Meta-vs-backend gap within ±5 % is on track (the Overview tile's tolerance).
GAP_TOLERANCE = 0.05
#: Server copies sent within the hour: the freshness tile's bar.
FRESH_GOAL = 0.99
#: Codes whose count is not a number of conversions (days, ids over every event).
_NOT_CONVERSIONS = frozenset({"RECON_SPIKE"})
HOW_TO_LOAD = {
    "reconciliation": "load your shop orders or CRM leads (capi-desk ingest --source orders FILE)",
    "meta_view": "load an Ads Manager export broken down by day (capi-desk ingest --source meta FILE)",
    "meta_quality": "load a Dataset Quality answer (capi-desk meta-quality load FILE, or fetch)",
    "events": "load the Pixel and server events (capi-desk ingest --source browser|server FILE)",
}


def _canonical(name: str | None) -> str:
    return (name or "").strip().replace(" ", "").lower()


def main_event(report: Report) -> str | None:
    """The conversion the verdicts speak about: the first reconciled event, else Purchase, else the
    most-copied server event (``dashboard_api.headline_event``'s rule, reconciled events first)."""
    if report.reconciliation:
        return report.reconciliation[0].event_name
    if any(d.event_name == "Purchase" for d in report.dedup):
        return "Purchase"
    server = [c for c in report.counts.per_event if c.channel == "server" and c.event_name]
    return max(server, key=lambda c: c.copies).event_name if server else None


def _on(ok: bool | None) -> Status:
    return "no data" if ok is None else "on track" if ok else "needs work"


def _line(section: str, status: Status, body: str) -> Verdict:
    return Verdict(section=section, status=status, text=f"{body} — {status}")


def _within(gap: float | None) -> bool:
    return gap is not None and abs(gap) <= GAP_TOLERANCE


def _recon(report: Report) -> Verdict:
    if not report.reconciliation:
        return _line(
            "reconciliation",
            "no data",
            f"Meta vs backend: nothing to compare — {HOW_TO_LOAD['reconciliation']}",
        )
    recon = report.reconciliation[0]
    bounds = _bounds(report, recon)
    counted = units.count_range(bounds.meta_count_low, bounds.meta_count_high)
    gap = units.share_range(bounds.gap_pct_low, bounds.gap_pct_high)
    ok = _within(bounds.gap_pct_low) and _within(bounds.gap_pct_high)
    body = (
        f"Meta vs backend: Meta counts {counted} {text.name(recon.event_name)} conversions for "
        f"{units.count(recon.truth_count)} eligible backend {recon.kind}s ({gap}; goal within "
        f"±{units.goal(GAP_TOLERANCE)})"
    )
    return _line("reconciliation", _on(ok if recon.truth_count else None), body)


def _bounds(report: Report, recon: ReconSummary) -> MetaCountRange:
    return next(r for r in report.meta_count_ranges if r.event_name == recon.event_name)


def _waterfall(report: Report) -> Verdict:
    if not report.reconciliation:
        return _line("waterfall", "no data", "Delivery: no backend records to follow")
    recon = report.reconciliation[0]
    steps = {s.step: s.count for s in recon.waterfall}
    eligible, once = steps.get("eligible", 0), steps.get("counted_exactly_once", 0)
    counted_once = once / eligible if eligible else None
    body = (
        f"Delivery: {units.share(recon.accuracy)} of eligible {recon.kind}s reached Meta and "
        f"{units.share(counted_once)} were counted exactly once (goal 100 %, 95 % is fine)"
    )
    return _line("waterfall", _on(None if counted_once is None else counted_once >= 1 - GAP_TOLERANCE), body)


def _meta_view(report: Report) -> Verdict:
    totals = report.meta_view.totals if report.meta_view else None
    if totals is None:
        return _line("meta_view", "no data", f"Ads Manager: no export loaded — {HOW_TO_LOAD['meta_view']}")
    ratio = totals.reported_vs_backend
    body = (
        f"Ads Manager: Meta reported {units.count(totals.reported_purchases)} purchases over "
        f"{totals.days} days ({totals.first_day} to {totals.last_day}) for "
        f"{units.count(totals.backend_orders)} backend orders "
        f"({units.share(ratio)} of the backend; goal 100 %, ±{units.goal(GAP_TOLERANCE)} is fine)"
    )
    return _line("meta_view", _on(None if ratio is None else abs(ratio - 1) <= GAP_TOLERANCE), body)


def _meta_quality(report: Report, event: str | None) -> Verdict:
    rows = [r for r in report.meta_quality if r.event_name == event] or report.meta_quality
    if not rows:
        return _line(
            "meta_quality",
            "no data",
            f"Dataset Quality: no snapshot of Meta's EMQ — {HOW_TO_LOAD['meta_quality']}",
        )
    last = max(rows, key=lambda r: (r.fetched_at, r.snapshot_id))
    goal = last.coverage_goal or COVERAGE_GOAL
    ok = None
    if last.meta_emq is not None:
        ok = last.meta_emq >= EMQ_GOAL and (
            last.meta_event_coverage is None or last.meta_event_coverage >= goal
        )
    body = (
        f"Dataset Quality ({last.fetched_at:%Y-%m-%d}): Meta's EMQ for {text.name(last.event_name)} "
        f"{units.score(last.meta_emq)} (goal {EMQ_GOAL:.1f}; our estimate {units.score(last.our_emq)}), "
        "Meta's "
        f"event coverage {units.share(last.meta_event_coverage)} (goal {units.goal(goal)}; ours "
        f"{units.share(last.our_event_coverage)})"
    )
    return _line("meta_quality", _on(ok), body)


def _main_dedup(rows: Sequence[DedupEventStats], event: str | None) -> DedupEventStats | None:
    named = [d for d in rows if d.event_name == event and d.event_coverage is not None]
    return max(named, key=lambda d: d.browser_events, default=None)


def _dedup(report: Report, event: str | None) -> Verdict:
    row = _main_dedup(report.dedup, event)
    twice = sum(d.would_be_pairs for d in report.dedup)
    if row is None:
        return _line(
            "dedup", "no data", f"Deduplication: no browser events to judge — {HOW_TO_LOAD['events']}"
        )
    body = (
        f"Deduplication: {units.share(row.event_coverage)} of {text.name(event)} browser events have a "
        f"server copy (Meta: event coverage; goal {units.goal(COVERAGE_GOAL)}); {units.count(twice)} pairs "
        "over all events will be counted twice"
    )
    return _line("dedup", _on(row.event_coverage is not None and row.event_coverage >= COVERAGE_GOAL), body)


def _emq(report: Report, event: str | None) -> Verdict:
    rows = [e for e in report.match_keys.emq_estimate if e.event_name == event]
    row = max(rows, key=lambda e: e.copies, default=None)
    if row is None or row.score is None:
        return _line("emq", "no data", f"Match quality: no server copies to score — {HOW_TO_LOAD['events']}")
    body = (
        f"Match quality: estimated EMQ of {text.name(event)} server events {units.score(row.score)} "
        f"(Meta: Event Match Quality; goal {EMQ_GOAL:.1f})"
    )
    return _line("emq", _on(row.score >= EMQ_GOAL), body)


def _completeness(report: Report) -> Verdict:
    short = [
        r for r in report.completeness if r.requirement == "required" and r.copies and r.valid < r.copies
    ]
    if not report.completeness:
        return _line("completeness", "no data", f"Parameters: no copies to check — {HOW_TO_LOAD['events']}")
    if not short:
        return _line(
            "completeness",
            "on track",
            "Parameters: every required parameter is present and valid (goal 100 %)",
        )
    worst = max(short, key=lambda r: (r.copies - r.valid, r.parameter))
    body = (
        f"Parameters: {len(short)} required parameters are missing or malformed on some copies; the most: "
        f"{worst.parameter} on {units.count(worst.copies - worst.valid)} of {units.count(worst.copies)} "
        f"{text.name(worst.event_name)} {worst.channel} copies (goal 100 % valid)"
    )
    return _line("completeness", "needs work", body)


def real_time_share(report: Report) -> float | None:
    """Server copies sent within an hour / server copies with both times known (the freshness tile)."""
    total = next((f for f in report.freshness if f.is_total), None)
    timed = total.copies - total.unknown if total else 0
    return total.real_time / timed if total and timed else None


def _freshness(report: Report) -> Verdict:
    fresh = real_time_share(report)
    total = next((f for f in report.freshness if f.is_total), None)
    if fresh is None or total is None:
        return _line("freshness", "no data", "Freshness: no server copies with a send time")
    body = (
        f"Freshness: {units.share(fresh)} of server copies were sent within an hour (Meta: data freshness; "
        f"goal 100 %, Meta warns past 2 h); {units.count(total.later)} were sent 24 h or more late"
    )
    return _line("freshness", _on(fresh >= FRESH_GOAL), body)


def _consent(report: Report) -> Verdict:
    if not report.consent:
        return _line("consent", "no data", f"Consent: no copies to check — {HOW_TO_LOAD['events']}")
    denied = sum(r.denied for r in report.consent)
    unknown = sum(r.identifiable_unknown for r in report.consent)
    body = (
        f"Consent: {units.count(denied)} copies were sent for users who denied consent (goal 0); "
        f"{units.count(unknown)} copies carry an email, phone or external_id with no consent logged"
    )
    return _line("consent", _on(denied == 0), body)


def _leads(report: Report) -> Verdict | None:
    if report.leads is None:
        return None
    f, goal = report.leads.funnel, report.leads.qualification_goal
    share = f.qualified_event_share
    body = (
        f"Lead quality: {units.count(f.qualified_events)} of {units.count(f.lead_events)} "
        f"{text.name(report.leads.event_name)} events Meta counted became qualified leads "
        f"({units.share(share)}; goal {units.goal(goal)})"
    )
    return _line("leads", _on(None if share is None else share >= goal), body)


def _drift(report: Report) -> Verdict:
    drift = report.drift
    if drift.week is None or not drift.metrics:
        return _line("drift", "no data", "Weekly drift: not enough days to compare weeks")
    worse = [m for m in drift.metrics if m.flagged and m.worse]
    body = (
        f"Weekly drift {drift.week}: {len(worse)} of {len(drift.metrics)} headline figures got worse past "
        "their threshold (goal 0)"
    )
    return _line("drift", _on(not worse), body)


def verdicts(report: Report) -> list[Verdict]:
    """One verdict per section, in the report's order (lead quality only when the store holds leads)."""
    event = main_event(report)
    lines = [
        _recon(report), _waterfall(report), _meta_view(report), _meta_quality(report, event),
        _dedup(report, event), _emq(report, event), _completeness(report), _freshness(report),
        _consent(report), _leads(report), _drift(report),
    ]  # fmt: skip
    return [line for line in lines if line is not None]


# --- what findings cost --------------------------------------------------------------------------


class Cost(BaseModel):
    """What one finding puts at stake: conversions of a reconciled event, and their value for orders."""

    model_config = ConfigDict(frozen=True)

    conversions: int
    value: float | None
    currency: str | None
    average: float | None
    shown: bool  # the count is a number the finding's sentence says

    def sentence(self, kind: str) -> str:
        """``affects orders worth about USD 1,190 (14 × the average order, USD 84.97)``; "" when the count
        is not one the finding's sentence says, or the conversions carry no value."""
        if not self.shown or self.value is None or self.average is None:
            return ""
        return (
            f"affects {kind}s worth about {units.money(self.value, self.currency, whole=True)} "
            f"({units.count(self.conversions)} × the average {kind}, "
            f"{units.money(self.average, self.currency)})"
        )


def _says(finding: Finding) -> bool:
    message = finding.message
    return f"{finding.count:,}" in message or str(finding.count) in message.replace(",", "")


def cost(finding: Finding, report: Report) -> Cost:
    """What ``finding`` puts at stake (see the module docstring)."""
    recon = next(
        (r for r in report.reconciliation if _canonical(r.event_name) == _canonical(finding.event_name)), None
    )
    if recon is None or finding.event_name is None or finding.code in _NOT_CONVERSIONS:
        return Cost(conversions=0, value=None, currency=None, average=None, shown=False)
    average = recon.truth_value / recon.truth_count if recon.truth_count and recon.truth_value else None
    return Cost(
        conversions=finding.count,
        value=None if average is None else finding.count * average,
        currency=recon.currency,
        average=average,
        shown=_says(finding),
    )


def by_cost(report: Report) -> list[tuple[Finding, Cost]]:
    """The findings, costliest first: money, then conversions, then severity and size."""
    costed = [(f, cost(f, report)) for f in report.findings]
    return sorted(
        costed,
        key=lambda fc: (
            -(fc[1].value or 0.0),
            -fc[1].conversions,
            SEVERITY_RANK[fc[0].severity],
            -fc[0].count,
        ),
    )


def recon_kind(report: Report, event_name: str | None) -> str:
    """``order`` or ``lead``: what a finding on ``event_name`` counts."""
    recon = next(
        (r for r in report.reconciliation if _canonical(r.event_name) == _canonical(event_name)), None
    )
    return recon.kind if recon else "conversion"


def highlights(report: Report, found: Sequence[Verdict]) -> list[str]:
    """The three things that matter this week: the Meta-vs-backend line, the largest drift of the week
    when a figure got worse, then the costliest findings."""
    out: list[str] = []
    recon = next((v for v in found if v.section == "reconciliation" and v.status != "no data"), None)
    if recon is not None:
        out.append(recon.text.removeprefix("Meta vs backend: ").rsplit(" — ", 1)[0] + ".")
    worse = [c for c in report.drift.what_changed if _worse(report, c.key)]
    if worse:
        out.append(worse[0].sentence)
    for finding, price in by_cost(report):
        if len(out) >= 3:
            break
        stake = price.sentence(recon_kind(report, finding.event_name))
        out.append(finding.message + (f" — {stake}" if stake else "") + ".")
    return out[:3]


def _worse(report: Report, key: str) -> bool:
    return any(m.key == key and m.flagged and m.worse for m in report.drift.metrics)
