"""The report: one typed model gathering every metric and finding, rendered as JSON, Markdown or HTML.

The public face of the package (callers import from here, nothing deeper):
``model`` (the ``Report`` and its parts, ``REPORT_SCHEMA_VERSION``), ``building`` (``build_report``),
``verdicts`` (each section against its goal, the week's three things, findings by cost), ``text`` (one
formatter per kind of figure, plain names), ``layout`` (the sections both formats show), ``markdown``,
``html`` and ``charts`` (inline SVG). JSON is the model (floats to ``JSON_DIGITS``); Markdown and HTML are
laid out from the same model, so the three never disagree. The HTML file is self-contained (inline CSS and
SVG, no scripts, no external resources) and every value from a file or a browser is escaped.
"""

from __future__ import annotations

import math
from typing import Any

import pydantic_core

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

#: Significant digits a float of the JSON report keeps (at least cents): DuckDB adds floats in no fixed
#: order, so the same store gives 127449.90000000017 one run and 127449.89999999995 the next; cut to
#: this many digits both read 127449.9, and the same data gives the same JSON, byte for byte.
JSON_DIGITS = 10


def fixed_precision(value: Any) -> Any:
    """``value`` (a report's plain data) with every float cut to ``JSON_DIGITS`` significant digits, and
    to no fewer than 2 decimals (an amount above 100 million keeps its cents)."""
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return value
        return round(value, max(2, JSON_DIGITS - 1 - math.floor(math.log10(abs(value)))))
    if isinstance(value, dict):
        return {key: fixed_precision(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [fixed_precision(item) for item in value]
    return value


def render(report: Report, fmt: str) -> str:
    """``json`` | ``md`` | ``html``. The JSON is the model's (``Report.model_dump_json``) with floats at a
    fixed precision (``fixed_precision``)."""
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    data = fixed_precision(report.model_dump(mode="python"))
    return pydantic_core.to_json(data, indent=2).decode() + "\n"


__all__ = [
    "ASSUMPTIONS",
    "JSON_DIGITS",
    "REPORT_SCHEMA_VERSION",
    "Counts",
    "DailySeries",
    "EventCount",
    "Report",
    "Verdict",
    "Window",
    "build_report",
    "fixed_precision",
    "recon_notes",
    "render",
    "render_html",
    "render_markdown",
    "window_and_counts",
]
