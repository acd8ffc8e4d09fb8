"""Meta's view: what Meta itself says — purchases Ads Manager reported, and the Dataset Quality API's EMQ,
event coverage, dedup keys and freshness — next to the backend and this tool's estimates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

import ui
from capi_core import (
    CapiDeskError,
    dataset_quality,
    ingest_file,
    meta_quality,
    meta_view,
    resolve_token,
    units,
)
from capi_core import dashboard_api as api
from ui import charts

ui.require_frame()

PERCENT = st.column_config.NumberColumn(format="percent")
SCORE = st.column_config.NumberColumn(format="%.1f")
DAY_MS = 24 * 3600 * 1000
NO_EXPORT = (
    "No Ads Manager export loaded yet. In Ads Manager: Reports → Export table data → CSV, with "
    "Breakdown → By time → Day (keep Purchases, Purchases conversion value, Amount spent and Attribution "
    "setting). Load it in the last tab, or run `capi-desk ingest --source meta FILE`."
)
NO_SNAPSHOT = (
    "No Dataset Quality snapshot yet. Save the answer of `GET /v26.0/dataset_quality?dataset_id=PIXEL_ID"
    "&fields=web{event_name,event_match_quality,event_coverage,dedupe_key_feedback,data_freshness}` "
    "(Graph API Explorer) and load it in the last tab, or run `capi-desk meta-quality load FILE` / "
    "`capi-desk meta-quality fetch --pixel-id ID` with META_ACCESS_TOKEN set."
)


def _number(value: float | None, money: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}" if money else f"{value:,.0f}"


st.title("Meta's view")
ui.demo_banner()
scope = ui.scope()
st.caption(
    "Meta's own figures next to the backend and this tool's estimates. Good: Meta's reported purchases "
    "close to the backend and to our estimate of what Meta counted; Meta's EMQ and coverage close to ours."
)
reported_tab, quality_tab, load_tab = st.tabs(
    ["Reported vs backend", "Meta's EMQ and coverage", "Load Meta's data"]
)

with reported_tab:
    view: meta_view.MetaView = ui.cached_call(meta_view.meta_view, scope)
    totals = view.totals
    if totals is None:
        ui.empty_state(NO_EXPORT, page=None)
    else:
        st.caption(
            f"{view.event_name} over the {totals.days} days of the export ({totals.first_day} to "
            f"{totals.last_day}). {view.caveat}"
        )
        tiles = st.columns(4)
        tiles[0].metric(
            "Purchases Meta reported",
            _number(totals.reported_purchases),
            help="Ads Manager Purchases (or purchase Results), summed over ads.",
        )
        tiles[1].metric("Backend orders (eligible)", f"{totals.backend_orders:,}", help="Paid orders.")
        tiles[2].metric(
            "Meta count (our estimate)",
            f"{totals.estimated_meta_count:,}",
            help="Purchase copies Meta counts after its dedup, by this tool's model.",
        )
        tiles[3].metric("Reported / backend (goal 100 %)", units.share(totals.reported_vs_backend))
        tiles = st.columns(4)
        tiles[0].metric("Purchase value Meta reported", _number(totals.reported_value, money=True))
        tiles[1].metric("Backend value", _number(totals.backend_value, money=True))
        tiles[2].metric("Meta value (our estimate)", _number(totals.estimated_meta_value, money=True))
        tiles[3].metric("Reported / our estimate (goal 100 %)", units.share(totals.reported_vs_estimate))
        days = api.frame(view.days)
        measure = st.radio("Measure", ["count", "value"], horizontal=True, key="meta_view_measure")
        series = (
            {"reported_purchases": "Meta reported", "backend_orders": "backend (eligible orders)",
             "estimated_meta_count": "Meta (our estimate)"}
            if measure == "count"
            else {"reported_value": "Meta reported", "backend_value": "backend",
                  "estimated_meta_value": "Meta (our estimate)"}
        )  # fmt: skip
        per_day = charts.lines(
            days,
            "day",
            series,
            title=f"{view.event_name} {measure} per day: Meta reported vs backend vs our estimate",
            x_title="day",
            y_title=f"{view.event_name} {measure}",
        )
        per_day.update_xaxes(dtick=DAY_MS, tickformat="%b %d")
        st.plotly_chart(per_day, key="meta_view_days")
        st.caption(
            "What good looks like: the three lines close together. Reported above the backend: Meta "
            "attributes more than happened (duplicates, view-through); below our estimate: Meta could not "
            "attribute some conversions it received (no ad interaction in the attribution window)."
        )
        ratios = ("reported_vs_backend", "reported_vs_estimate", "value_reported_vs_backend")
        ratio_config = {c: PERCENT for c in (*ratios, "value_reported_vs_estimate")}
        ui.table(days, "meta_reported_vs_backend", empty="", column_config=ratio_config)
        st.caption("How Meta's figures were reported (attribution setting, value basis, currency):")
        bases = api.frame(view.bases)
        if any(b.purchase_value_basis == "roas_x_spend" for b in view.bases):
            st.caption(
                "Value basis roas_x_spend: the export has no Purchases conversion value column, so the "
                "value is Purchase ROAS × Amount spent."
            )
        ui.table(bases, "meta_reporting_bases", empty="")

with quality_tab:
    version = dataset_quality.snapshot_version(ui.store())
    trend: list[meta_quality.QualityTrendRow] = ui.cached_call(
        meta_quality.meta_quality_trend, scope, snapshot_version=version
    )
    if not trend:
        ui.empty_state(NO_SNAPSHOT, page=None)
    else:
        frame = api.frame(trend, exclude={"dedupe_keys"})
        latest = frame[frame["snapshot_id"] == frame.groupby("pixel_id")["snapshot_id"].transform("max")]
        st.caption(
            "Latest snapshot per pixel. Meta's EMQ is Meta's score; ours is an estimate from the match keys "
            "(never Meta's). Ours cover the 7 days up to the snapshot (our_from–our_to). Good: Meta's EMQ "
            "≥ 6, event coverage ≥ the 75 % goal, freshness real_time, and our figures close to Meta's."
        )
        columns = [
            "fetched_at", "pixel_id", "event_name", "meta_emq", "our_emq", "meta_event_coverage",
            "our_event_coverage", "coverage_goal", "meta_upload_frequency", "our_real_time_share",
            "meta_acr", "meta_diagnostics", "our_from", "our_to",
        ]  # fmt: skip
        config: dict[str, Any] = {"meta_emq": SCORE, "our_emq": SCORE} | {
            c: PERCENT
            for c in ("meta_event_coverage", "our_event_coverage", "coverage_goal", "our_real_time_share",
                      "meta_acr")
        }  # fmt: skip
        ui.table(latest[columns], "meta_quality_latest", empty="", column_config=config)
        events = sorted(frame["event_name"].unique())
        event = st.selectbox(
            "Event", events, index=events.index("Purchase") if "Purchase" in events else 0, key="meta_q_event"
        )
        chosen = frame[frame["event_name"] == event].sort_values("fetched_at")
        emq = charts.lines(
            chosen,
            "fetched_at",
            {"meta_emq": "Meta's EMQ", "our_emq": "our estimate"},
            title=f"{event} EMQ per snapshot: Meta's vs our estimate — good: both at or above 6",
            x_title="snapshot (UTC)",
            y_title="EMQ (0–10)",
        )
        emq.update_xaxes(tickformat="%b %d, %H:%M")
        emq.add_hline(y=6.0, line_dash="dash", line_color=charts.GOOD, annotation_text="Meta's advice: 6")
        st.plotly_chart(emq, key="meta_q_emq")
        coverage = charts.lines(
            chosen,
            "fetched_at",
            {"meta_event_coverage": "Meta's event coverage", "our_event_coverage": "our event coverage"},
            title=f"{event} event coverage per snapshot — good: both at or above the 75 % goal",
            x_title="snapshot (UTC)",
            y_title="event coverage",
        )
        coverage.add_hline(y=0.75, line_dash="dash", line_color=charts.GOOD, annotation_text="goal 75 %")
        coverage.update_yaxes(tickformat=".0%")
        coverage.update_xaxes(tickformat="%b %d, %H:%M")
        st.plotly_chart(coverage, key="meta_q_coverage")
        last = max((r for r in trend if r.event_name == event), key=lambda r: (r.fetched_at, r.snapshot_id))
        st.caption(
            f"Dedup-key feedback of the latest {event} snapshot ({last.fetched_at:%Y-%m-%d %H:%M} UTC), "
            "Meta's next to our key usage. Good: event_id on (almost) every browser and server event."
        )
        keys = pd.DataFrame([k.model_dump() for k in last.dedupe_keys])
        key_config = {c: PERCENT for c in keys.columns if c != "key"}
        ui.table(
            keys, "meta_dedupe_keys", empty="No dedup-key feedback for this event.", column_config=key_config
        )

with load_tab:
    for line in st.session_state.pop("meta_view_messages", []):
        st.success(line, icon=":material/check_circle:")
    round_no = st.session_state.setdefault("meta_upload_round", 0)
    st.subheader("Ads Manager export (what Meta reported)")
    exports = st.file_uploader(
        "Ads Manager CSV, broken down by day", type=["csv"], key=f"meta_export_{round_no}"
    )
    if exports is not None and st.button("Load the export", type="primary", key="meta_load_export"):
        try:
            with ui.upload_on_disk(exports) as path:
                result = ingest_file(ui.store(), path, "meta")
        except CapiDeskError as err:
            ui.show_error(err)
        else:
            st.session_state["meta_view_messages"] = [result.summary]
            st.session_state["meta_upload_round"] = round_no + 1
            st.rerun()

    st.subheader("Dataset Quality (Meta's EMQ and coverage)")
    pixels = api.pixels(ui.store())
    pixel = st.selectbox("Dataset (pixel)", pixels, key="meta_q_pixel", accept_new_options=True)
    saved = st.file_uploader("A saved dataset_quality answer (JSON)", type=["json"], key=f"meta_q_{round_no}")
    when = st.date_input("Fetched on (UTC)", value=dt.datetime.now(dt.UTC).date(), key="meta_q_day")
    if saved is not None and st.button("Load the snapshot", key="meta_load_snapshot"):
        try:
            at = dt.datetime.combine(when, dt.time(12, 0), tzinfo=dt.UTC)
            with ui.upload_on_disk(saved) as path:
                snapshot = dataset_quality.load_file(
                    ui.store(), path, pixel_id=str(pixel or ""), fetched_at=at
                )
        except CapiDeskError as err:
            ui.show_error(err)
        else:
            st.session_state["meta_view_messages"] = [snapshot.summary]
            st.session_state["meta_upload_round"] = round_no + 1
            st.rerun()
    with st.form("meta_fetch", border=False):
        st.caption(
            "Or ask Meta now. The token is sent in the Authorization header only and never stored; empty: "
            "META_ACCESS_TOKEN or the dashboard's secrets."
        )
        token = st.text_input("Access token", type="password", key="meta_q_token")
        base_url = st.text_input("Graph API base URL", value="https://graph.facebook.com", key="meta_q_base")
        if st.form_submit_button("Fetch now"):
            chosen_token = resolve_token(token, ui.secret("META_ACCESS_TOKEN"))
            if not chosen_token:
                st.warning("No access token: enter one, or set META_ACCESS_TOKEN.", icon=":material/key:")
            else:
                try:
                    snapshot = dataset_quality.fetch(
                        ui.store(), pixel_id=str(pixel or ""), token=chosen_token, base_url=base_url
                    )
                except CapiDeskError as err:
                    ui.show_error(err)
                else:
                    st.session_state["meta_view_messages"] = [snapshot.summary]
                    st.rerun()
    known = dataset_quality.snapshots(ui.store())
    ui.table(
        api.frame(known, exclude={"already_stored"}),
        "meta_quality_snapshots",
        empty="No snapshot stored yet.",
    )
