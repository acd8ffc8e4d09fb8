"""Figures and tables of the Weekly drift page: a metric's daily series with the change point and the
annotations marked, and the "what changed" table. Notes are user text: they reach plotly HTML-escaped
(plotly renders a subset of HTML in labels and hover text) and tables as plain cells.
"""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
import plotly.graph_objects as go

from capi_core import Annotation, DriftReport, MetricDrift, format_change, format_value
from ui.charts import BAD, GOOD, NEUTRAL


def _scale(metric: MetricDrift, value: float | None) -> float | None:
    """Shares and gaps are drawn in percent, scores and counts as they are."""
    if value is None:
        return None
    return value * 100 if metric.unit in ("share", "gap") else value


def _axis(metric: MetricDrift) -> str:
    return {"share": "% of the day", "gap": "gap, % of backend", "score": "score (0-10)"}.get(
        metric.unit, "count per day"
    )


def daily_series(metric: MetricDrift, notes: list[Annotation]) -> go.Figure:
    """The daily values of the 5 weeks, the means before / after the change point, and the notes."""
    days = [d.day for d in metric.daily]
    values = [_scale(metric, d.value) for d in metric.daily]
    fig = go.Figure(
        go.Scatter(
            x=days, y=values, mode="lines+markers", name="daily value", line={"color": NEUTRAL},
            hovertemplate="%{x|%a %Y-%m-%d}: %{y:.1f}<extra></extra>", connectgaps=False,
        )
    )  # fmt: skip
    point = metric.change_point
    if point is not None:
        first, last = days[0], days[-1]
        for start, end, mean, label in (
            (first, point.day - dt.timedelta(days=1), point.mean_before, "level before"),
            (point.day, last, point.mean_after, "level after"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=[start, end], y=[_scale(metric, mean)] * 2, mode="lines", name=label,
                    line={"dash": "dash", "color": GOOD if label == "level before" else BAD},
                )
            )  # fmt: skip
        fig.add_vline(x=point.day, line_color=BAD, line_width=2)
        fig.add_annotation(
            x=point.day, y=1.06, yref="paper", showarrow=False, text=f"shift started {point.day:%a %d %b}"
        )
    for note in notes:
        fig.add_vline(x=note.day, line_dash="dot", line_color=NEUTRAL)
        fig.add_annotation(
            x=note.day, y=0.02, yref="paper", xanchor="left", yanchor="bottom", showarrow=False,
            text=html.escape(note.note[:40]), hovertext=html.escape(f"{note.day}: {note.note}"),
            bgcolor="rgba(255,255,255,0.85)", font={"size": 11},
        )  # fmt: skip
    half_day = dt.timedelta(hours=12)
    this_week = [days[-7] - half_day, days[-1] + half_day]
    fig.add_vrect(x0=this_week[0], x1=this_week[1], fillcolor=NEUTRAL, opacity=0.08, line_width=0)
    fig.update_layout(
        title={"text": f"{metric.label}, day by day (shaded: this week; good: {_good(metric)})"},
        xaxis_title="day (UTC)",
        yaxis_title=_axis(metric),
        legend_title_text="",
    )
    return fig


def _good(metric: MetricDrift) -> str:
    return (
        {"up": "higher", "down": "lower", "zero": "close to 0"}[metric.better]
        if metric.unit != "count"
        else ("steady, close to the backend")
    )


def tile_help(metric: MetricDrift) -> str:
    """The tooltip of a metric's tile: what it measures, the two references and the threshold."""
    last, trailing = (format_value(metric.unit, v) for v in (metric.last_week, metric.trailing_mean))
    flag = " Flagged." if metric.flagged else ""
    return (
        f"{metric.meaning} Last week {last}; trailing 4 weeks {trailing}; "
        f"threshold {metric.threshold_text}.{flag}"
    )


def what_changed_frame(drift: DriftReport) -> pd.DataFrame:
    """One row per flagged metric, largest change first, values as people read them."""
    units = {m.key: m.unit for m in drift.metrics}
    rows = [
        {
            "metric": c.label,
            "this week": format_value(units[c.key], c.this_week),
            "last week": format_value(units[c.key], c.last_week),
            "trailing 4 weeks": format_value(units[c.key], c.trailing_mean),
            "vs last week": format_change(units[c.key], c.change_vs_last_week),
            "vs trailing": format_change(units[c.key], c.change_vs_trailing),
            "times the threshold": round(c.size, 1),
            "shift started": c.started_on,
            "annotation": c.annotation or "",
            "what changed": c.sentence,
        }
        for c in drift.what_changed
    ]
    return pd.DataFrame(rows)


def annotations_frame(notes: list[Annotation]) -> pd.DataFrame:
    """The notes of the 5 weeks as a plain table."""
    return pd.DataFrame([{"id": n.annotation_id, "day": n.day, "note": n.note} for n in notes])
