"""The report: one typed model gathering every metric and finding, rendered as JSON, Markdown or HTML.

The public face of the package (callers import from here, nothing deeper):
``model`` (the ``Report`` and its parts, ``REPORT_SCHEMA_VERSION``), ``building`` (``build_report``),
``verdicts`` (each section against its goal, the week's three things, findings by cost), ``text`` (one
formatter per kind of figure, plain names), ``layout`` (the sections both formats show), ``markdown``,
``html`` and ``charts`` (inline SVG). JSON is ``Report.model_dump_json()``; Markdown and HTML are laid
out from the same model, so the three never disagree. The HTML file is self-contained (inline CSS and
SVG, no scripts, no external resources) and every value from a file or a browser is escaped.
"""

from __future__ import annotations

from capi_core.report.model import (
    ASSUMPTIONS,
    REPORT_SCHEMA_VERSION,
    Counts,
    DailySeries,
    EventCount,
    Report,
    Verdict,
    Window,
)
from capi_core.report.text import recon_notes  # isort: split

from capi_core.report.building import build_report, window_and_counts
from capi_core.report.html import render_html
from capi_core.report.markdown import render_markdown


def render(report: Report, fmt: str) -> str:
    """``json`` | ``md`` | ``html``."""
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    return report.model_dump_json(indent=2) + "\n"


__all__ = [
    "ASSUMPTIONS",
    "REPORT_SCHEMA_VERSION",
    "Counts",
    "DailySeries",
    "EventCount",
    "Report",
    "Verdict",
    "Window",
    "build_report",
    "recon_notes",
    "render",
    "render_html",
    "render_markdown",
    "window_and_counts",
]
