"""Plotly figure builders shared by the pages: every chart gets a title that says what good looks like,
axis labels in words, and hover text. No data shaping beyond pivoting for display happens here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#546e7a"


def _finish(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    fig.update_layout(title={"text": title}, xaxis_title=x_title, yaxis_title=y_title, legend_title_text="")
    return fig


def lines(
    df: pd.DataFrame, x: str, series: dict[str, str], *, title: str, x_title: str, y_title: str
) -> go.Figure:
    """One line per column in ``series`` (column -> legend label) over ``x``."""
    long = df.melt(id_vars=[x], value_vars=list(series), var_name="series", value_name="value")
    long["series"] = long["series"].map(series)
    fig = px.line(
        long,
        x=x,
        y="value",
        color="series",
        markers=True,
        labels={x: x_title, "value": y_title, "series": ""},
    )
    return _finish(fig, title, x_title, y_title)


def bars(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str,
    x_title: str,
    y_title: str,
    goal: float | None = None,
    goal_label: str = "goal",
    color: str | None = None,
    hover: Sequence[str] = (),
    percent: bool = False,
) -> go.Figure:
    """A bar chart, with an optional dashed goal line."""
    fig = px.bar(
        df,
        x=x,
        y=y,
        color=color,
        hover_data=list(hover),
        barmode="group",
        labels={x: x_title, y: y_title},
        color_discrete_sequence=[NEUTRAL, GOOD, BAD],
    )
    if goal is not None:
        fig.add_hline(y=goal, line_dash="dash", line_color=GOOD, annotation_text=goal_label)
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return _finish(fig, title, x_title, y_title)


def stacked(df: pd.DataFrame, y: str, columns: dict[str, str], *, title: str, x_title: str) -> go.Figure:
    """Horizontal stacked bars: one bar per ``y`` value, one segment per column (column -> label)."""
    long = df.melt(id_vars=[y], value_vars=list(columns), var_name="bucket", value_name="n")
    long["bucket"] = long["bucket"].map(columns)
    fig = px.bar(
        long,
        y=y,
        x="n",
        color="bucket",
        orientation="h",
        color_discrete_sequence=[GOOD, "#f9a825", "#ef6c00", BAD, NEUTRAL],
        labels={y: "", "n": x_title, "bucket": ""},
    )
    return _finish(fig, title, x_title, "")


def heatmap(df: pd.DataFrame, x: str, y: str, z: str, *, title: str, x_title: str, y_title: str) -> go.Figure:
    """A 0..1 share heatmap (red = 0 %, green = 100 %) with the share printed in each cell."""
    # 'AddToCart ' must not look like 'AddToCart': names with outer spaces are shown quoted
    df = df.assign(**{y: df[y].map(lambda v: repr(v) if isinstance(v, str) and v != v.strip() else v)})
    grid = df.pivot_table(index=y, columns=x, values=z, aggfunc="mean", sort=False)
    fig = px.imshow(
        grid,
        zmin=0,
        zmax=1,
        color_continuous_scale="RdYlGn",
        text_auto=".0%",
        aspect="auto",
        labels={"x": x_title, "y": y_title, "color": "share"},
    )
    fig.update_traces(
        hovertemplate=f"{y_title}: %{{y}}<br>{x_title}: %{{x}}<br>share: %{{z:.1%}}<extra></extra>"
    )
    return _finish(fig, title, x_title, y_title)


def histogram(values: Sequence[float], *, title: str, x_title: str) -> go.Figure:
    """The distribution of ``values`` (count per bin)."""
    fig = px.histogram(
        pd.DataFrame({x_title: list(values)}), x=x_title, nbins=40, color_discrete_sequence=[NEUTRAL]
    )
    return _finish(fig, title, x_title, "records")


def binned(bins: pd.DataFrame, *, title: str, x_title: str) -> go.Figure:
    """A histogram drawn from bins already counted (columns ``low``, ``high``, ``records``)."""
    fig = go.Figure(
        go.Bar(
            x=(bins["low"] + bins["high"]) / 2,
            y=bins["records"],
            width=(bins["high"] - bins["low"]).where(lambda w: w > 0),
            customdata=bins[["low", "high"]],
            marker={"color": NEUTRAL},
            hovertemplate=f"{x_title}: %{{customdata[0]:,.2f}} to %{{customdata[1]:,.2f}}"
            "<br>records: %{y:,}<extra></extra>",
        )
    )
    fig.update_layout(bargap=0)
    return _finish(fig, title, x_title, "records")


def funnel(df: pd.DataFrame, step: str, count: str, *, title: str) -> go.Figure:
    """A funnel of counts, each step with its share of the first and of the previous step."""
    fig = go.Figure(
        go.Funnel(
            y=df[step],
            x=df[count],
            textinfo="value+percent initial+percent previous",
            marker={"color": NEUTRAL},
            hovertemplate="%{y}: %{x:,}<br>%{percentInitial:.1%} of the first step"
            "<br>%{percentPrevious:.1%} of the step before<extra></extra>",
        )
    )
    return _finish(fig, title, "records", "")


# --- the charts of the pages, each titled with what good looks like -------------------------------


def meta_vs_backend(
    periods: pd.DataFrame, event: str, measure: str = "count", grain: str = "day"
) -> go.Figure:
    """Backend vs Meta's estimated count (or value) per day or ISO week."""
    series = {f"truth_{measure}": "backend (eligible records)", f"meta_{measure}": "Meta (estimated)"}
    x = "period" if grain == "day" else "label"
    title = f"{event} {measure} per {grain}: backend vs Meta — good: the two lines overlap"
    return lines(periods, x, series, title=title, x_title=f"{grain} (UTC)", y_title=f"{event} {measure}")


def waterfall(steps: pd.DataFrame) -> go.Figure:
    """The reconciliation waterfall."""
    title = "From backend records to conversions Meta counts exactly once — good: no drop after 'eligible'"
    return funnel(steps, "step", "count", title=title)


def value_deltas(bins: pd.DataFrame) -> go.Figure:
    """Meta value minus backend value per record, as bins computed in SQL (``low``, ``high``, ``records``)."""
    title = "Value Meta books minus backend value, per record — good: every record at 0"
    return binned(bins, title=title, x_title="Meta value − backend value")


def phantom_reasons(reasons: pd.DataFrame) -> go.Figure:
    """Phantom conversions per sub-reason."""
    title = "Why Meta counts conversions the backend never had — good: no bars"
    return bars(reasons, "reason", "copies", title=title, x_title="reason", y_title="copies")


def completeness(rows: pd.DataFrame, channel: str) -> go.Figure:
    """Share of valid values per event and parameter."""
    title = f"Share of {channel} copies with a valid value — good: green (100 %) everywhere"
    return heatmap(
        rows, "parameter", "event_name", "share_valid", title=title, x_title="parameter", y_title="event"
    )


def match_keys(coverage: pd.DataFrame, channel: str) -> go.Figure:
    """Share of copies carrying each valid match key."""
    title = (
        f"{channel.capitalize()} copies carrying a valid match key — good: em, ph, external_id, fbp, fbc high"
    )
    return heatmap(
        coverage, "key", "event_name", "coverage", title=title, x_title="match key", y_title="event"
    )


def emq(scores: pd.DataFrame, goal: float) -> go.Figure:
    """Estimated EMQ per event against Meta's goal."""
    title = f"Estimated EMQ per event (not Meta's score) — good: at or above the {goal:.1f} line"
    return bars(
        scores,
        "event_name",
        "score",
        title=title,
        x_title="event",
        y_title="estimated EMQ (0–10)",
        goal=goal,
        goal_label="Meta's goal",
        hover=["copies"],
    )


def what_if(rows: pd.DataFrame, key: str, level: int, goal: float) -> go.Figure:
    """Estimated EMQ today vs with ``key`` on ``level`` % of copies."""
    long = rows.melt(
        id_vars=["event_name"], value_vars=["current", "estimate"], var_name="case", value_name="score"
    )
    long["case"] = long["case"].map({"current": "today", "estimate": f"with {key} on {level} %"})
    title = f"Estimated EMQ today vs with {key} on {level} % of copies — good: above the {goal:.1f} line"
    return bars(
        long,
        "event_name",
        "score",
        color="case",
        goal=goal,
        title=title,
        x_title="event",
        y_title="estimated EMQ (0–10)",
    )


FRESHNESS_BUCKETS = {
    "real_time": "< 1 h",
    "within_2h": "1–2 h",
    "within_24h": "2–24 h",
    "later": "≥ 24 h",
    "unknown": "unknown",
}


def freshness(delays: pd.DataFrame) -> go.Figure:
    """Server-copy delay buckets per event."""
    title = "Delay from event to send — good: all green (< 1 h); Meta warns past 2 h and 24 h"
    return stacked(delays, "event_name", FRESHNESS_BUCKETS, title=title, x_title="server copies")


# --- deduplication and the event inspector ---------------------------------------------------------

DEDUP_OUTCOMES = {
    "merged": "merged (counted once)",
    "browser_only": "browser only",
    "server_only": "server only",
    "counted_twice": "counted twice",
}


def dedup_outcomes(outcomes: pd.DataFrame) -> go.Figure:
    """Per event: conversions merged, seen on one channel only, and counted twice."""
    title = "What Meta does with each event's conversions — good: all green, no red"
    return stacked(outcomes, "event", DEDUP_OUTCOMES, title=title, x_title="conversions")


def failure_reasons(reasons: pd.DataFrame) -> go.Figure:
    """Would-be pairs (conversions Meta counts twice) per reason."""
    title = "Why conversions sent on both channels are counted twice — good: no bars"
    fig = bars(reasons, "reason", "pairs", title=title, x_title="reason", y_title="pairs counted twice")
    return fig.update_traces(marker_color=BAD)


def copy_timeline(copies: pd.DataFrame, record_times: Sequence[object] = ()) -> go.Figure:
    """Every copy of one search on a time axis, one row per channel, coloured by dedup verdict."""
    fig = px.scatter(
        copies,
        x="received_at",
        y="channel",
        color="verdict",
        symbol="channel",
        hover_data=["event_id", "order_id", "value", "matched_on"],
        color_discrete_map={"counted": GOOD, "discarded": NEUTRAL},
        category_orders={"channel": ["browser", "server"]},
        labels={"received_at": "received by Meta (UTC)", "channel": ""},
    )
    fig.update_traces(marker={"size": 14})
    for moment in record_times:
        fig.add_vline(x=moment, line_dash="dash", line_color=BAD)
    title = "Copies as Meta received them (dashed: the backend record) — good: one green dot per conversion"
    return _finish(fig, title, "received by Meta (UTC)", "")
