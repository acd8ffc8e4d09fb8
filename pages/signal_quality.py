"""Signal quality: parameter completeness and match-key coverage per event, the estimated EMQ with its
weights and a what-if, freshness of server copies, and format errors."""

from __future__ import annotations

import streamlit as st

import ui
from capi_core import dashboard_api as api
from capi_core import quality
from ui import charts

ui.require_frame()

st.title("Signal quality")
ui.demo_banner()
scope = ui.scope()
if ui.counts(scope).counts.total == 0:
    ui.empty_state(
        "No Pixel or CAPI copies in this window: load a CAPI log or a Pixel export on the Data page."
    )
    st.stop()
report = ui.signal_quality(scope)  # the report's signal-quality sections only

channel = st.radio(
    "Channel",
    ["server", "browser"],
    horizontal=True,
    key="quality_channel",
    help="Server = Conversions API copies; browser = Pixel copies.",
)
tabs = st.tabs(["Parameters", "Match keys", "Estimated EMQ", "Freshness", "Format errors"])

with tabs[0]:
    rows = api.frame([r for r in report.completeness if r.channel == channel])
    if rows.empty:
        st.caption(f"No {channel} copies in this window.")
    else:
        st.plotly_chart(charts.completeness(rows, channel), key="completeness")
        ui.table(rows.drop(columns=["examples"]), f"completeness_{channel}", empty="")

with tabs[1]:
    coverage = api.coverage_frame(r for r in report.match_keys.coverage if r.channel == channel)
    if coverage.empty:
        st.caption(f"No {channel} copies in this window.")
    else:
        st.plotly_chart(charts.match_keys(coverage, channel), key="match_keys")
        ui.table(coverage, f"match_keys_{channel}", empty="")

with tabs[2]:
    st.caption(
        f"{quality.EMQ_LABEL}: each valid key of a server copy is worth points on Meta's 0–10 scale (a copy "
        "scores their sum, at most 10), averaged per event. The points are calibrated to published "
        "measurements of Meta's score and, for a pixel with Dataset Quality snapshots, fitted to Meta's own "
        f"EMQ. Meta asks for {quality.EMQ_GOAL:.1f} or more."
    )
    scores = api.frame(report.match_keys.emq_estimate)
    if scores.empty:
        st.caption("No server copies to score in this window.")
    else:
        st.plotly_chart(charts.emq(scores, quality.EMQ_GOAL), key="emq")
        left, right = st.columns(2)
        key = left.selectbox("What if this key's coverage were…", quality.COVERAGE_KEYS, key="whatif_key")
        level = right.slider("…this share of server copies (%)", 0, 100, 100, step=5, key="whatif_level")
        what_if = api.frame(ui.emq_what_if(scope, key, level / 100))
        st.plotly_chart(charts.what_if(what_if, key, level, quality.EMQ_GOAL), key="whatif")
    for fit in report.match_keys.emq_fits:
        st.caption(fit.summary())
        ui.table(api.emq_fit_frame(fit), f"emq_fit_{fit.pixel_id}", empty="")
    st.caption("Points per valid key (calibrated: a copy with every key valid scores 10):")
    ui.table(api.emq_weights_frame(report.match_keys), "emq_weights", empty="")

with tabs[3]:
    delays = api.frame([r for r in report.freshness if not r.is_total])
    if delays.empty:
        st.caption("No server copies in this window.")
    else:
        st.plotly_chart(charts.freshness(delays), key="freshness")
        ui.table(delays, "freshness", empty="")

with tabs[4]:
    found = api.format_errors(r for r in report.completeness if r.channel == channel)
    st.caption("Values present but malformed (milliseconds, unhashed PII, bad currency…). Good: no rows.")
    ui.table(
        found,
        f"format_errors_{channel}",
        empty=f"No format errors on {channel} copies in this window.",
        column_config={"share": st.column_config.NumberColumn(format="percent")},
    )
