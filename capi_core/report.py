"""The report: one typed model gathering every metric and finding, rendered as JSON, Markdown or HTML.

JSON is ``Report.model_dump_json()`` with stable keys and a ``schema_version``; Markdown and HTML are
rendered from the same dump, so the three never disagree. The HTML file is self-contained (inline CSS,
no scripts, no external resources) and every value from a file or a browser is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from pydantic import BaseModel

from capi_core import __version__, weekly_review
from capi_core.diagnostics import Finding, run_checks
from capi_core.metrics import count_range, leads, quality, reconcile
from capi_core.metrics.dedup import KEY_MERGE_REASON, DedupEventStats, dedup_by_event
from capi_core.metrics.drift import DriftReport, drift_report
from capi_core.models import Scope
from capi_core.store import Store

#: 2: ``drift`` became the weekly drift object and ``leads`` the lead-quality object (both were placeholders).
#: 3: ``dedup[].event_coverage`` is Meta's definition (any dedup key, accepted server copies, unique browser
#: events), beside ``browser_events``, ``event_id_coverage``, ``event_coverage_7d`` and its end day;
#: ``key_usage[].overlap`` counts events, not distinct key values (docs/meta-definitions.md).
#: 4: Meta's count as a range (``dedup[].estimated_meta_count_range``, ``key_merges``, ``key_merge_examples``,
#: ``meta_count_ranges``); the EMQ estimate on Meta's scale, fitted per pixel to Meta's own EMQ when the
#: store holds Dataset Quality snapshots (``match_keys.emq_estimate[].weights``, ``match_keys.emq_fits``).
#: 4 (also, issue 13 cases 6-11): ``reconciliation[]`` never adds two currencies (``currency``,
#: ``values_by_currency``), counts orders per sales channel (``channels``) and the pair's disagreements,
#: phantoms gain the ``no_order_key`` reason; ``drift`` marks partial weeks (``weekly[].partial``, never a
#: baseline) and ``too_little_history``.
REPORT_SCHEMA_VERSION = 4
ASSUMPTIONS = (
    "Meta's documented rules do not merge two copies from the same channel: repeats on one channel are "
    "each counted (and flagged as DEDUP_SAME_CHANNEL_REPEAT).",
    "event_name matching for dedup is exact and case-sensitive (Meta does not document otherwise).",
    "Estimated EMQ is our transparent estimate, not Meta's Event Match Quality score: points per valid key "
    "calibrated to published reference points on Meta's 0-10 scale, fitted per pixel to Meta's own EMQ when "
    "Dataset Quality snapshots are loaded (docs/meta-definitions.md).",
    "Meta's count is a range where it depends on behaviour Meta does not document. " + KEY_MERGE_REASON,
    "Event coverage follows Meta's definition (a browser event is covered when an accepted server copy of "
    "the same pixel and event name shares event_id, external_id or fbp); Meta does not define a 'unique "
    "browser event': we count the copies of one event_id from one browser (fbp) within 48 h once, and look "
    "for the server copy anywhere in the store.",
)


class Window(BaseModel):
    """The slice the report covers."""

    date_from: dt.date | None
    date_to: dt.date | None
    pixel_id: str | None
    event_names: list[str]
    first_event_time: dt.datetime | None
    last_event_time: dt.datetime | None


class EventCount(BaseModel):
    """Copies of one event name on one channel."""

    event_name: str | None
    channel: str
    copies: int


class Counts(BaseModel):
    """How many copies the report looked at."""

    total: int
    per_channel: dict[str, int]
    per_event: list[EventCount]


class Report(BaseModel):
    """Everything the report says (SPEC §6 "Report JSON")."""

    schema_version: int = REPORT_SCHEMA_VERSION
    tool_version: str = __version__
    window: Window
    counts: Counts
    dedup: list[DedupEventStats]
    reconciliation: list[reconcile.ReconSummary]
    meta_count_ranges: list[count_range.MetaCountRange]
    completeness: list[quality.CompletenessRow]
    match_keys: quality.MatchKeyReport
    freshness: quality.FreshnessReport
    drift: DriftReport
    leads: leads.LeadReport | None  # None when the store holds no CRM lead
    consent: quality.ConsentReport
    findings: list[Finding]
    assumptions: list[str] = list(ASSUMPTIONS)


def window_and_counts(store: Store, scope: Scope) -> tuple[Window, Counts]:
    """``Report.window`` and ``Report.counts`` for ``scope`` (the dashboard asks for them alone)."""
    rows = store.query_file("report_counts", scope.params()).dicts()
    per_channel: dict[str, int] = {}
    for row in rows:
        per_channel[row["channel"]] = per_channel.get(row["channel"], 0) + int(row["copies"])
    firsts = [r["first_event_time"] for r in rows if r["first_event_time"] is not None]
    lasts = [r["last_event_time"] for r in rows if r["last_event_time"] is not None]
    counts = Counts(
        total=sum(per_channel.values()),
        per_channel=per_channel,
        per_event=[
            EventCount(event_name=r["event_name"], channel=r["channel"], copies=r["copies"]) for r in rows
        ],
    )
    window = Window(
        date_from=scope.date_from,
        date_to=scope.date_to,
        pixel_id=scope.pixel_id,
        event_names=list(scope.event_names),
        first_event_time=min(firsts, default=None),
        last_event_time=max(lasts, default=None),
    )
    return window, counts


def build_report(store: Store, scope: Scope | None = None) -> Report:
    """Compute every metric and finding for ``scope`` (the whole store by default)."""
    scope = scope or Scope()
    window, counts = window_and_counts(store, scope)
    dedup = dedup_by_event(store, scope)
    recon = reconcile.reconcile_all(store, scope)
    return Report(
        window=window,
        counts=counts,
        dedup=dedup,
        reconciliation=recon,
        meta_count_ranges=count_range.recon_ranges(recon, dedup),
        completeness=quality.completeness(store, scope),
        match_keys=quality.match_key_report(store, scope),
        freshness=quality.freshness(store, scope),
        drift=drift_report(store, scope),
        leads=leads.lead_report(store, scope),
        consent=quality.consent(store, scope),
        findings=run_checks(store, scope),
    )


# --- rendering -------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, list | dict):
        return ", ".join(_fmt(v) for v in value) if isinstance(value, list) else str(value)
    return str(value)


def _md_table(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    if not rows:
        return ["_none_", ""]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    # values come from files (event names...): the weekly review's escaping keeps them inert as Markdown
    # and on a terminal (no control codes, no line breaks, no live links or HTML)
    lines += [
        "| " + " | ".join(weekly_review.md_text(_fmt(row.get(c))) for c in columns) + " |" for row in rows
    ]
    return [*lines, ""]


_SECTIONS: tuple[tuple[str, str, list[str]], ...] = (
    ("Deduplication", "dedup", ["event_name", "pixel_id", "browser", "server", "merged_pairs",
                                "would_be_pairs", "dedup_health", "event_coverage", "event_id_coverage",
                                "event_coverage_7d", "estimated_meta_count"]),
    ("Reconciliation", "reconciliation", ["event_name", "join_key", "join_match_rate", "truth_count",
                                          "meta_count", "gap_pct", "truth_value", "meta_value", "accuracy"]),
)  # fmt: skip


def _bounds(low: Any, high: Any) -> str:
    """A range for display: one value when the bounds agree, else ``low–high``."""
    return _fmt(high) if low == high else f"{_fmt(low)}–{_fmt(high)}"


def _section_rows(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The rows of a section as shown: Meta's count (and its gap) as a range where it is one."""
    rows: list[dict[str, Any]] = [dict(row) for row in data[key]]
    if key == "dedup":
        for row in rows:
            row["estimated_meta_count"] = _bounds(*row["estimated_meta_count_range"])
    if key == "reconciliation":
        ranges = {r["event_name"]: r for r in data["meta_count_ranges"]}
        for row in rows:
            found = ranges.get(row["event_name"])
            if found is not None:
                row["meta_count"] = _bounds(found["meta_count_low"], found["meta_count_high"])
                row["gap_pct"] = _bounds(found["gap_pct_low"], found["gap_pct_high"])
    return rows


def _range_note(data: dict[str, Any]) -> str | None:
    """Why Meta's count is a range (None when no figure is one)."""
    merges = sum(int(row["key_merges"]) for row in data["dedup"])
    if not merges:
        return None
    return (
        f"Meta's count is shown as lower–upper where it depends on behaviour Meta does not document: "
        f"{merges:,} server copies carry an event_id but share fbp or external_id with an earlier browser "
        f"copy left unmerged. {KEY_MERGE_REASON}"
    )


_FIT_COLUMNS = ["fetched", "event_name", "our_from", "our_to", "copies", "meta_emq", "calibrated", "fitted"]


def _fit_rows(fit: quality.EmqFit) -> list[dict[str, Any]]:
    return [
        {**point.model_dump(mode="json"), "fetched": f"{point.fetched_at:%Y-%m-%d}"} for point in fit.points
    ]


def _fit_lines(report: Report) -> list[str]:
    if not report.match_keys.emq_fits:
        return []
    lines = ["## Estimated EMQ against Meta's EMQ", ""]
    for fit in report.match_keys.emq_fits:
        lines += [weekly_review.md_text(fit.summary()), "", *_md_table(_fit_rows(fit), _FIT_COLUMNS)]
    return lines


def _fit_html(report: Report) -> list[str]:
    if not report.match_keys.emq_fits:
        return []
    parts = ["<h2>Estimated EMQ against Meta's EMQ</h2>"]
    for fit in report.match_keys.emq_fits:
        parts += [f"<p>{html.escape(fit.summary())}</p>", _html_table(_fit_rows(fit), _FIT_COLUMNS)]
    return parts


def _money(value: float) -> str:
    return f"{value:,.2f}"


def recon_notes(summary: reconcile.ReconSummary) -> list[str]:
    """What the reconciliation table's figures leave out, one sentence each: the currencies not added to
    the headline (never EUR + USD) or converted into it, and the orders each sales channel keeps out of
    eligibility or lets in without our knowing it."""
    notes: list[str] = []
    apart = [v for v in summary.values_by_currency if v.rate is None]
    if apart:
        listed = "; ".join(
            f"{v.currency}: backend {_money(v.truth_value)} ({v.truth_count} records), "
            f"Meta {_money(v.meta_value)} ({v.meta_count} copies)"
            for v in apart
        )
        notes.append(f"{summary.event_name} values are in {summary.currency}; not added: {listed}.")
    converted = [
        v for v in summary.values_by_currency if v.currency not in (None, summary.currency) and v.rate
    ]
    if converted:
        rates = ", ".join(f"1 {v.currency} = {v.rate:g} {summary.currency}" for v in converted)
        notes.append(f"{summary.event_name} values include other currencies at the store's rates: {rates}.")
    excluded = [c for c in summary.channels if not c.eligible and c.orders]
    if excluded:
        listed = ", ".join(f"{c.channel} {c.orders}" for c in excluded)
        notes.append(f"Orders not eligible, from sales channels no pixel sees: {listed}.")
    unplaced = [c for c in summary.channels if c.rule == "unplaced" and c.orders]
    if unplaced:
        listed = ", ".join(f"{c.channel} {c.orders}" for c in unplaced)
        notes.append(
            f"Orders counted as eligible from sales channels we cannot place: {listed} "
            "(run capi-desk channels exclude CHANNEL for one no pixel sees)."
        )
    return notes


def _recon_note_lines(report: Report) -> list[str]:
    return [note for summary in report.reconciliation for note in recon_notes(summary)]


def render_markdown(report: Report) -> str:
    """The report as Markdown, the way an analyst would forward it."""
    data = report.model_dump(mode="json")
    window = data["window"]
    lines = [
        "# CAPI Signal Desk report",
        "",
        f"Window: {window['date_from'] or window['first_event_time'] or '—'} to "
        f"{window['date_to'] or window['last_event_time'] or '—'}; copies: {data['counts']['total']:,} "
        f"({', '.join(f'{k} {v:,}' for k, v in data['counts']['per_channel'].items()) or 'none'}).",
        "",
        "## Findings",
        "",
        *_md_table(
            data["findings"], ["severity", "code", "event_name", "count", "message", "fix", "examples"]
        ),
    ]
    note = _range_note(data)
    for title, key, columns in _SECTIONS:
        lines += [f"## {title}", "", *_md_table(_section_rows(data, key), columns)]
        if key == "dedup" and note is not None:
            lines += [note, ""]
        if key == "reconciliation" and _recon_note_lines(report):
            lines += [*(f"- {weekly_review.md_text(n)}" for n in _recon_note_lines(report)), ""]
    lines += _fit_lines(report)
    lines += weekly_review.markdown_lines(report.drift)
    if report.leads is not None:
        lines += leads.markdown_lines(report.leads)
    lines += ["## Assumptions", "", *[f"- {a}" for a in data["assumptions"]], ""]
    return "\n".join(lines)


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933}table{border-collapse:collapse;
margin:0 0 1.5rem}th,td{border:1px solid #cbd2d9;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}.critical{color:#b00020;font-weight:bold}.high{color:#c05621}"""


def _html_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{html.escape(str(row.get("severity", "")))}">{html.escape(_fmt(row.get(c)))}</td>'
            for c in columns
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _lead_html(report: leads.LeadReport) -> list[str]:
    steps = [{"step": s.label, "count": s.count, "share_of_previous": s.share_of_previous}
             for s in report.funnel.steps]  # fmt: skip
    groups = [{**g.model_dump(mode="json"), "label": g.label} for g in report.by_source]
    return [
        "<h2>Lead quality</h2>",
        f"<p>{html.escape(report.headline)}</p>",
        _html_table(steps, ["step", "count", "share_of_previous"]),
        _html_table(groups, ["label", "lead_events", "matched_leads", "qualified_leads", "won_leads",
                             "qualified_event_share", "qualification_rate", "crm_leads_without_event"]),
    ]  # fmt: skip


def render_html(report: Report) -> str:
    """The report as one self-contained HTML file (no scripts, every value escaped)."""
    data = report.model_dump(mode="json")
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>CAPI Signal Desk report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>CAPI Signal Desk report</h1>",
        f"<p>Copies: {data['counts']['total']:,}</p>",
        "<h2>Findings</h2>",
        _html_table(
            data["findings"], ["severity", "code", "event_name", "count", "message", "fix", "examples"]
        ),
    ]
    note = _range_note(data)
    for title, key, columns in _SECTIONS:
        parts += [f"<h2>{html.escape(title)}</h2>", _html_table(_section_rows(data, key), columns)]
        if key == "dedup" and note is not None:
            parts.append(f"<p>{html.escape(note)}</p>")
        if key == "reconciliation":
            parts += [f"<p>{html.escape(n)}</p>" for n in _recon_note_lines(report)]
    parts += _fit_html(report)
    parts += weekly_review.html_parts(report.drift)
    if report.leads is not None:
        parts += _lead_html(report.leads)
    parts += [
        "<h2>Assumptions</h2><ul>",
        *[f"<li>{html.escape(a)}</li>" for a in data["assumptions"]],
        "</ul>",
    ]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def render(report: Report, fmt: str) -> str:
    """``json`` | ``md`` | ``html``."""
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    return report.model_dump_json(indent=2) + "\n"
