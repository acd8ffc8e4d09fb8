"""The HTML report's charts as static inline SVG (matplotlib, no pyplot, no scripts, no fonts fetched).

Each function takes report figures and returns one ``<svg>`` element as text, or ``""`` when there is
nothing to draw. Output is deterministic (a fixed ``svg.hashsalt``, no date in the metadata, text kept as
text), so the golden files stay stable. Text from files (event names) goes through matplotlib's XML
escaping with math parsing off, so a name holding ``$`` or ``<`` is drawn as written. matplotlib is
imported on first use: the CLI's JSON and Markdown never pay for it.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from capi_core import units
from capi_core.metrics.dedup import COVERAGE_GOAL, DedupEventStats
from capi_core.metrics.match_keys import EMQ_GOAL
from capi_core.metrics.meta_quality import QualityTrendRow
from capi_core.metrics.meta_view import MetaView
from capi_core.metrics.reconcile import ReconSummary
from capi_core.report import text
from capi_core.report.model import DailySeries
from capi_core.weekly_review import plain

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BACKEND, META, REPORTED, GOAL, MUTED = "#1f77b4", "#d62728", "#7f7f7f", "#2ca02c", "#9aa5b1"
_RC: dict[str, Any] = {
    "svg.hashsalt": "capi-signal-desk",
    "svg.fonttype": "none",  # text stays text: small files, readable by screen readers
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e4e7eb",
}


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots()


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :].strip()


def _draw(width: float, height: float, paint: Any) -> str:
    import matplotlib

    with matplotlib.rc_context(cast(Any, _RC)), warnings.catch_warnings():
        # a name in a script the font lacks is drawn as a box; matplotlib's warning would print the
        # name on the user's terminal, once per chart
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        figure, axes = _figure(width, height)
        paint(axes)
        return _svg(figure)


def daily(series: DailySeries, view: MetaView | None) -> str:
    """Backend records vs Meta's count per day (our estimate), and Ads Manager's reported purchases on the
    export's days when ``view`` holds them for the same event."""
    if not series.days:
        return ""
    days = [d.period for d in series.days]
    reported = (
        [(d.day, d.reported_purchases) for d in view.days if d.reported_purchases is not None]
        if view is not None and view.event_name == series.event_name
        else []
    )

    def paint(axes: Any) -> None:  # matplotlib Axes (its stubs reject dates)
        axes.plot(days, [d.truth_count for d in series.days], color=BACKEND, label=f"backend {series.kind}s")
        axes.plot(days, [d.meta_count for d in series.days], color=META, label="Meta counts (our estimate)")
        if reported:
            axes.plot(
                [d for d, _ in reported], [v for _, v in reported], color=REPORTED, linestyle="--",
                label="Meta reported (Ads Manager)",
            )  # fmt: skip
        axes.set_ylabel(f"{text.name(series.event_name)} per day")
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=3, frameon=False)
        axes.tick_params(axis="x", labelrotation=30)

    return _draw(7.5, 3.3, paint)


def waterfall(recon: ReconSummary) -> str:
    """The waterfall's steps as horizontal bars, the first on top, each labelled with its count."""
    if not recon.waterfall:
        return ""
    steps = list(reversed(recon.waterfall))

    def paint(axes: Any) -> None:  # matplotlib Axes (its stubs reject dates)
        names = [text.step_name(s.step, recon.kind) for s in steps]
        bars = axes.barh(names, [s.count for s in steps], color=BACKEND)
        axes.bar_label(bars, labels=[units.count(s.count) for s in steps], padding=3)
        axes.set_xlabel(f"{recon.kind}s")
        axes.grid(axis="y", visible=False)
        axes.margins(x=0.12)

    return _draw(7.5, 2.8, paint)


def coverage(rows: Sequence[DedupEventStats]) -> str:
    """Event coverage per event (and pixel when there are several) against Meta's 75 % goal."""
    shown = [r for r in rows if r.event_coverage is not None]
    if not shown:
        return ""
    pixels = len({r.pixel_id for r in shown}) > 1
    shown.sort(key=lambda r: (r.event_coverage or 0.0, text.name(r.event_name)))

    def label(row: DedupEventStats) -> str:
        # a pixel id is read as sent (a file may hold any text): shown like a name, control codes escaped
        return (
            f"{text.name(row.event_name)} · {plain(str(row.pixel_id))}"
            if pixels
            else text.name(row.event_name)
        )

    def paint(axes: Any) -> None:  # matplotlib Axes (its stubs reject dates)
        values = [r.event_coverage or 0.0 for r in shown]
        colors = [GOAL if v >= COVERAGE_GOAL else META for v in values]
        bars = axes.barh([label(r) for r in shown], values, color=colors)
        axes.bar_label(bars, labels=[units.share(v) for v in values], padding=3)
        axes.axvline(COVERAGE_GOAL, color=MUTED, linestyle="--", label=f"goal {units.goal(COVERAGE_GOAL)}")
        axes.set_xlim(0, 1.15)
        axes.xaxis.set_major_formatter(lambda v, _: units.goal(v))
        axes.grid(axis="y", visible=False)
        axes.legend(loc="lower right", frameon=False)

    return _draw(7.5, 0.6 + 0.32 * len(shown), paint)


def emq_history(rows: Sequence[QualityTrendRow], event: str | None) -> str:
    """Meta's EMQ and our estimate per Dataset Quality snapshot of ``event`` (oldest first)."""
    chosen = sorted((r for r in rows if r.event_name == event), key=lambda r: (r.fetched_at, r.snapshot_id))
    if not chosen:
        return ""

    def paint(axes: Any) -> None:  # matplotlib Axes (its stubs reject dates)
        at = [r.fetched_at for r in chosen]
        axes.plot(at, [_nan(r.meta_emq) for r in chosen], color=META, marker="o", label="Meta's EMQ")
        axes.plot(at, [_nan(r.our_emq) for r in chosen], color=BACKEND, marker="o", label="our estimate")
        axes.axhline(EMQ_GOAL, color=MUTED, linestyle="--", label=f"Meta's advice: {EMQ_GOAL:.1f}")
        axes.set_ylim(0, 10.5)
        axes.set_ylabel("EMQ (0–10)")
        axes.legend(loc="lower right", frameon=False)
        axes.tick_params(axis="x", labelrotation=30)

    return _draw(7.5, 2.8, paint)
