"""The weekly review: one ISO week's drift and findings, as Markdown or HTML an analyst would forward.

Owns the rendering of a ``DriftReport`` (``markdown_lines`` / ``html_parts`` for the drift section of any
report, ``render_review`` for the whole weekly review) and ``review_fails``, the ``--fail-on`` rule of
``capi-desk report --week``. It computes nothing: the figures come from ``capi_core.metrics.drift`` and
the findings from the diagnostics registry. Every text that came from a user or a file (annotation notes,
event names, finding messages) is escaped for Markdown / HTML here.

``--fail-on SEVERITY`` with ``--week`` fails (exit 1) when a finding of that week is at or above the
severity, or when a headline metric got worse past its drift threshold and the severity is ``high`` or
lower (a flagged deterioration weighs as a high finding: it is the signature of a broken release).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Sequence

from capi_core.diagnostics import Finding, run_checks
from capi_core.metrics.drift import DriftReport, MetricDrift, drift_report, format_change, format_value
from capi_core.models import Scope
from capi_core.store import Store

SEVERITIES = ("critical", "high", "medium", "low")
#: The severity a flagged deterioration weighs as for ``--fail-on``.
DRIFT_FLAG_SEVERITY = "high"
TOP_FINDINGS = 10
#: Characters that can start Markdown markup inside a line (a cell or a list item never starts a line).
#: An underscore between two letters or digits cannot start emphasis: left as is, so codes such as
#: DEDUP_NO_EVENT_ID read (and grep) the same in the Markdown.
_MD_SPECIAL = re.compile(r"[\\`*{}\[\]|<>~&]|(?<![^\W_])_|_(?![^\W_])")


def plain(text: str) -> str:
    """``text`` with control characters (terminal escapes, tabs, line breaks) shown as ``\\x1b``-style
    escapes, so a note or a name from a file cannot drive a terminal or break a line."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def event_label(name: str | None) -> str:
    """An event name as sent: quoted, with escapes, when it has surrounding spaces or characters one cannot
    see (``"AddToCart "``), so it never looks like the standard name; ``(no name)`` for none."""
    if name is None:
        return "(no name)"
    if name != name.strip() or not name.isprintable() or name == "":
        return json.dumps(name)
    return name


def md_text(text: str | None) -> str:
    """``text`` shown literally in Markdown: line breaks flattened, control characters and specials
    escaped."""
    if text is None:
        return "—"
    flat = plain(" ".join(str(text).split()))
    return _MD_SPECIAL.sub(lambda m: "\\" + m[0], flat)


def _html(text: str) -> str:
    return html.escape(plain(text))


def week_scope(drift: DriftReport, scope: Scope) -> Scope:
    """``scope`` narrowed to the review's week (pixel and event filters kept)."""
    return scope.model_copy(update={"date_from": drift.week_start, "date_to": drift.week_end})


def weekly_review(store: Store, scope: Scope, week: str | None = None) -> tuple[DriftReport, list[Finding]]:
    """The drift of ``week`` (default: the latest complete one) and the findings of that week, sorted."""
    drift = drift_report(store, scope, week)
    if drift.week is None:
        return drift, []
    return drift, run_checks(store, week_scope(drift, scope))


def _day(day: dt.date | None) -> str:
    return "—" if day is None else f"{day:%a} {day.isoformat()}"


def _flag(metric: MetricDrift) -> str:
    if not metric.flagged:
        return ""
    against = " and ".join(
        {"last_week": "last week", "trailing": "trailing 4 weeks"}[name] for name in metric.flagged_on
    )
    direction = "worse" if metric.worse else "better" if metric.worse is False else "changed"
    return f"{direction} vs {against}"


def metric_row(metric: MetricDrift) -> list[str]:
    """One metric as the drift table's cells (``METRIC_COLUMNS``), plain text."""
    point = metric.change_point
    started = ""
    if point is not None:
        started = _day(point.day) + (f" ({'; '.join(point.annotations)})" if point.annotations else "")
    return [
        metric.label,
        format_value(metric.unit, metric.this_week),
        format_value(metric.unit, metric.last_week),
        format_value(metric.unit, metric.trailing_mean),
        format_change(metric.unit, metric.change_vs_last_week),
        format_change(metric.unit, metric.change_vs_trailing),
        metric.threshold_text,
        _flag(metric),
        started,
    ]


METRIC_COLUMNS = (
    "metric", "this week", "last week", "trailing 4 weeks", "vs last week", "vs trailing", "threshold",
    "flag", "shift started",
)  # fmt: skip


def heading(drift: DriftReport) -> str:
    """The drift section's title: the week and its days (and whether the data covers all of them)."""
    if drift.week is None:
        return "Weekly drift"
    partial = "" if drift.complete else " (incomplete: the data stops before Sunday)"
    return f"Weekly drift {drift.week}: {_day(drift.week_start)} to {_day(drift.week_end)}{partial}"


def markdown_lines(drift: DriftReport, level: int = 2) -> list[str]:
    """The drift section as Markdown lines (headings at ``level``): summary, metrics, what changed."""
    hashes = "#" * level
    lines = [f"{hashes} {md_text(heading(drift))}", "", md_text(drift.summary), ""]
    if not drift.metrics:
        return lines
    lines += ["| " + " | ".join(METRIC_COLUMNS) + " |", "|" + "---|" * len(METRIC_COLUMNS)]
    lines += ["| " + " | ".join(md_text(cell) for cell in metric_row(m)) + " |" for m in drift.metrics]
    lines += ["", f"{hashes}# What changed (largest first)", ""]
    lines += [f"{n}. {md_text(c.sentence)}" for n, c in enumerate(drift.what_changed, 1)] or [
        "Nothing passed its threshold."
    ]
    lines.append("")
    if drift.annotations:
        lines += [f"{hashes}# Annotations", ""]
        lines += [f"- {_day(a.day)}: {md_text(a.note)}" for a in drift.annotations]
        lines.append("")
    return lines


def _html_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_html(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_parts(drift: DriftReport, level: int = 2) -> list[str]:
    """The drift section as HTML fragments (every value escaped), headings at ``level``."""
    h, sub = f"h{level}", f"h{level + 1}"
    parts = [f"<{h}>{html.escape(heading(drift))}</{h}>", f"<p>{_html(drift.summary)}</p>"]
    if not drift.metrics:
        return parts
    parts.append(_html_table(METRIC_COLUMNS, [metric_row(m) for m in drift.metrics]))
    parts.append(f"<{sub}>What changed (largest first)</{sub}>")
    if drift.what_changed:
        parts.append("<ol>" + "".join(f"<li>{_html(c.sentence)}</li>" for c in drift.what_changed) + "</ol>")
    else:
        parts.append("<p>Nothing passed its threshold.</p>")
    if drift.annotations:
        items = "".join(f"<li>{_html(_day(a.day))}: {_html(a.note)}</li>" for a in drift.annotations)
        parts += [f"<{sub}>Annotations</{sub}>", f"<ul>{items}</ul>"]
    return parts


#: No count column: a finding's sentence carries its numbers (its count may be another figure of them).
_FINDING_COLUMNS = ("severity", "code", "event", "finding")


def _finding_row(finding: Finding) -> list[str]:
    event = "all events" if finding.event_name is None else event_label(finding.event_name)
    return [finding.severity, finding.code, event, finding.message]


def render_review(drift: DriftReport, findings: Sequence[Finding], fmt: str) -> str:
    """The weekly review (``md`` or ``html``): the drift section, then the week's top findings."""
    top = list(findings)[:TOP_FINDINGS]
    title = f"CAPI Signal Desk weekly review {drift.week or ''}".strip()
    if fmt == "html":
        parts = [
            "<!doctype html><html lang=en><head><meta charset=utf-8>",
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            *html_parts(drift),
            f"<h2>Top findings of the week ({len(top)} of {len(findings)})</h2>",
            _html_table(_FINDING_COLUMNS, [_finding_row(f) for f in top]) if top else "<p>No findings.</p>",
            "</body></html>\n",
        ]
        return "\n".join(parts)
    lines = [f"# {md_text(title)}", "", *markdown_lines(drift)]
    lines += [f"## Top findings of the week ({len(top)} of {len(findings)})", ""]
    if top:
        lines += ["| " + " | ".join(_FINDING_COLUMNS) + " |", "|" + "---|" * len(_FINDING_COLUMNS)]
        lines += ["| " + " | ".join(md_text(v) for v in _finding_row(f)) + " |" for f in top]
    else:
        lines.append("No findings.")
    return "\n".join(lines) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933}table{border-collapse:collapse;
margin:0 0 1.5rem}th,td{border:1px solid #cbd2d9;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}"""


def review_fails(drift: DriftReport, findings: Sequence[Finding], fail_on: str) -> bool:
    """Whether ``--fail-on fail_on`` fails the week (see the module docstring)."""
    threshold = SEVERITIES.index(fail_on)
    if any(SEVERITIES.index(f.severity) <= threshold for f in findings):
        return True
    worse = any(m.flagged and m.worse for m in drift.metrics)
    return worse and SEVERITIES.index(DRIFT_FLAG_SEVERITY) <= threshold
