"""Reconciliation: the backend against what Meta would count — per day or week, the waterfall, per-record
verdicts, value deltas and phantoms."""

from __future__ import annotations

import streamlit as st

import ui
from capi_core import dashboard_api as api
from capi_core import dedup, recon_notes, reconcile, units
from ui import charts

ui.require_frame()

PERCENT = st.column_config.NumberColumn(format="percent")

st.title("Reconciliation")
ui.demo_banner()
scope = ui.scope()
summaries = {s.event_name: s for s in ui.recon_summaries(scope)}  # the report's section only
if not summaries:
    ui.empty_state("No backend records to reconcile against: load your shop orders on the Data page.")
    st.stop()

event = st.selectbox(
    "Conversion", list(summaries), key="recon_event", help="The event matched to the backend."
)
recon = summaries[event]
bounds = api.meta_count_range(recon, ui.dedup_stats(scope, key_usage=False))
st.caption(
    f"Joined on `{recon.join_key or 'nothing'}`: {units.share(recon.join_match_rate)} of {event} copies "
    f"link to {'an' if recon.kind[0] in 'aeiou' else 'a'} {recon.kind}. "
    f"Backend = eligible {recon.kind}s (paid, consent not denied, not a test)."
)
tiles = st.columns(5)
tiles[0].metric(
    "Backend records (eligible)", f"{recon.truth_count:,}", help="Meta should count exactly these."
)
tiles[1].metric(
    "Meta count (estimated)",
    api.count_text(bounds.meta_count_low, bounds.meta_count_high),
    help="What Meta counts after its dedup; a range where that depends on behaviour Meta does not document "
    "(Deduplication page).",
)
tiles[2].metric(
    "Count gap (goal 0 %)",
    units.signed_share(recon.gap_pct)
    if not bounds.is_range
    else units.share_range(bounds.gap_pct_low, bounds.gap_pct_high),
)
tiles[3].metric(
    "Value gap (goal 0 %)",
    units.signed_share(recon.value_gap_pct),
    help=f"Backend {recon.truth_value:,.2f} vs Meta {recon.meta_value:,.2f} {recon.currency or ''}.",
)
tiles[4].metric("Delivery accuracy (goal 100 %)", units.share(recon.accuracy), help="Records reaching Meta.")
for note in recon_notes(recon):  # currencies not added, orders per sales channel
    st.caption(note)
if bounds.is_range:
    st.caption(
        f"Meta's count is a range: {bounds.key_merges:,} server {event} copies may or may not be merged. "
        + dedup.KEY_MERGE_REASON
    )

trend, waterfall, records, phantoms = st.tabs(["Day and week", "Waterfall", "Per record", "Phantoms"])
with trend:
    grain = st.radio("Period", ["day", "week"], horizontal=True, key="recon_grain")
    measure = st.radio("Measure", ["count", "value"], horizontal=True, key="recon_measure")
    periods = api.frame(ui.periods(scope, grain, event, recon.kind))
    if periods.empty:
        st.caption("No backend records or Meta copies in this window.")
    else:
        st.plotly_chart(charts.meta_vs_backend(periods, event, measure, grain), key="recon_trend")
        config = {c: PERCENT for c in ("gap_pct", "value_gap_pct", "accuracy")}
        ui.table(periods, f"reconciliation_{grain}", empty="", column_config=config)

with waterfall:
    steps = api.frame(recon.waterfall)
    st.plotly_chart(charts.waterfall(steps), key="recon_waterfall")
    ui.table(
        steps, "waterfall", empty="", column_config={"share_of_previous": PERCENT, "share_of_truth": PERCENT}
    )

with records:
    left, right = st.columns(2)
    verdict = left.selectbox(
        "Verdict", [None, *reconcile.VERDICTS], key="recon_verdict", format_func=api.option_label
    )
    flag = right.selectbox(
        "Flag", [None, *reconcile.FLAGS, "missing"], key="recon_flag", format_func=api.option_label
    )
    listed = ui.verdicts(scope, event_name=event, kind=recon.kind, verdict=verdict, flag=flag, limit=500)
    st.caption(
        "Good: every record reached Meta on both channels, once, with its value. Up to 500, oldest first."
    )
    ui.table(api.frame(listed), "verdicts", empty="No record matches these filters.")
    deltas = ui.value_deltas(scope, event, recon.kind)  # binned in SQL: no record leaves the store
    if deltas.records:
        st.plotly_chart(charts.value_deltas(api.frame(deltas.bins)), key="recon_deltas")
        st.caption(
            f"{deltas.exact:,} of {deltas.records:,} records that reached Meta with a value are booked at "
            f"exactly the backend value ({units.share(deltas.exact / deltas.records)})."
        )

with phantoms:
    found = ui.phantoms(scope, event, recon.kind)
    st.metric(
        "Phantom conversions (goal 0)", f"{found.total:,}", help="Counted by Meta, unknown to the backend."
    )
    if found.total:
        reasons = api.frame_from_counts(found.by_reason, "reason", "copies")
        st.plotly_chart(charts.phantom_reasons(reasons), key="recon_phantoms")
    ui.table(api.frame(found.copies), "phantoms", empty="No phantom conversions in this window.")
