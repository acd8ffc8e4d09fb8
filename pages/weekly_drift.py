"""Weekly drift: one ISO week against last week and the 4 weeks before, the day a shift started, what
changed, and dated notes (annotations) to explain it."""

from __future__ import annotations

import datetime as dt

import streamlit as st

import ui
from capi_core import (
    CapiDeskError,
    DriftReport,
    annotations,
    drift_report,
    format_change,
    format_value,
    md_text,
)
from ui import drift_charts

ui.require_frame()

st.title("Weekly drift")
ui.demo_banner()
scope = ui.scope()
latest: DriftReport = ui.cached_call(drift_report, scope)
if latest.week is None:
    ui.empty_state(
        "No weeks to compare yet: load events and backend records on the Data page (or widen the filters)."
    )
    st.stop()

week = st.selectbox(
    "ISO week",
    latest.weeks_available,
    index=latest.weeks_available.index(latest.week),
    key="drift_week",
    format_func=lambda w: f"{w} (latest complete)" if w == latest.default_week else w,
)
drift: DriftReport = latest if week == latest.week else ui.cached_call(drift_report, scope, week=week)
st.markdown(f"**{md_text(drift.summary)}**")
st.caption(
    f"{drift.week_start:%a %Y-%m-%d} to {drift.week_end:%a %Y-%m-%d} (UTC)"
    f"{'' if drift.complete else ', incomplete: the data stops before Sunday'}. Compared with last week and "
    "with the mean of the 4 weeks before; a metric is flagged when either change passes its threshold."
)


for start in range(0, len(drift.metrics), 4):
    for column, metric in zip(st.columns(4), drift.metrics[start : start + 4], strict=False):
        column.metric(
            metric.label,
            format_value(metric.unit, metric.this_week),
            delta=format_change(metric.unit, metric.change_vs_last_week) + " vs last week",
            delta_color={"up": "normal", "down": "inverse"}.get(metric.better, "off")
            if metric.change_vs_last_week
            else "off",
            help=drift_charts.tile_help(metric),
            border=True,
        )

st.subheader("Day by day")
flagged = [m for m in drift.metrics if m.flagged] or drift.metrics
chosen = st.selectbox(
    "Metric", [m.key for m in flagged + [m for m in drift.metrics if m not in flagged]], key="drift_metric",
    format_func=lambda key: next(m.label for m in drift.metrics if m.key == key),
)  # fmt: skip
metric = next(m for m in drift.metrics if m.key == chosen)
st.plotly_chart(drift_charts.daily_series(metric, drift.annotations), key="drift_series")
if metric.change_point is not None:
    point = metric.change_point
    before, after = (format_value(metric.unit, v) for v in (point.mean_before, point.mean_after))
    st.caption(
        f"Shift started on {point.day:%a %Y-%m-%d}: the split of the 5 weeks that best separates two levels "
        f"({before} before, {after} after). Dotted lines: annotations."
    )

st.subheader("What changed")
st.caption("Flagged metrics, largest change first (in multiples of each metric's threshold).")
ui.table(
    drift_charts.what_changed_frame(drift),
    "weekly_drift_what_changed",
    empty="Nothing passed its threshold.",
)

st.subheader("Annotations")
ui.table(
    drift_charts.annotations_frame(drift.annotations), "weekly_drift_annotations",
    empty="No annotations in these 5 weeks. Note deploys, campaigns and tag changes to explain shifts.",
)  # fmt: skip
if st.session_state.pop("drift_added", None):
    st.success("Annotation added.", icon=":material/check:")
starts = [m.change_point.day for m in drift.metrics if m.change_point is not None]
with st.form("drift_annotate", clear_on_submit=True):
    day = st.date_input("Day (UTC)", value=starts[0] if starts else drift.week_start, key="drift_note_day")
    note = st.text_input("Note", max_chars=annotations.MAX_NOTE_CHARS, key="drift_note_text")
    if st.form_submit_button("Add annotation"):
        try:
            annotations.add(ui.store(), day if isinstance(day, dt.date) else str(day), note)
        except CapiDeskError as err:
            ui.show_error(err)
        else:
            st.session_state["drift_added"] = True
            st.rerun()
