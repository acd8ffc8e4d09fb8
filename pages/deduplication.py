"""Deduplication: what Meta merges and what it counts twice per event, Meta's dedup-key feedback, why pairs
fail, and the problem pairs side by side with the differing fields highlighted."""

from __future__ import annotations

from typing import Any

import streamlit as st

import ui
from capi_core import Scope, dedup, inspector, units
from capi_core import dashboard_api as api
from ui import charts

ui.require_frame()

PERCENT = st.column_config.NumberColumn(format="percent")
COVERAGE_COLUMNS = {
    "browser_events": st.column_config.NumberColumn(
        "Unique browser events", help="Copies of one event_id from one browser (fbp) within 48 h count once."
    ),
    "event_coverage": st.column_config.NumberColumn(
        "Event coverage", format="percent",
        help="Meta's event coverage (goal 75 %): unique browser events sharing event_id, external_id or fbp "
        "with a server copy Meta accepted.",
    ),
    "event_id_coverage": st.column_config.NumberColumn(
        "Covered by event_id", format="percent", help="The same share by event_id alone."
    ),
    "event_coverage_7d": st.column_config.NumberColumn(
        "Event coverage, 7 days", format="percent",
        help="As Events Manager shows it: the 7 days ending on the day in the next column.",
    ),
    "event_coverage_7d_to": st.column_config.DateColumn("7 days to"),
}  # fmt: skip
RANGE_COLUMNS = {
    "estimated_meta_count": st.column_config.NumberColumn(
        "Meta count (point estimate)", help="Our dedup model's count: the upper bound of the range."
    ),
    "estimated_meta_count_range": st.column_config.TextColumn(
        "Meta count (range)",
        help="Lower bound: Meta also merges server copies with an event_id into an earlier browser copy "
        "sharing fbp or external_id; upper: it does not (Meta does not say).",
    ),
    "key_merges": st.column_config.NumberColumn(
        "Undocumented merges", help="Server copies with an event_id that Meta may merge by fbp / external_id."
    ),
}  # fmt: skip


@st.cache_data(show_spinner="Computing…", max_entries=64)
def _facts(path: str, version: str, scope: Scope) -> tuple[Any, ...]:
    store, stats = ui.open_store(path), ui.dedup_stats(scope)
    return (
        inspector.dedup_outcomes(store, scope, stats),
        dedup.failure_reasons(store, scope),
        dedup.would_be_pairs(store, scope, limit=200),
    )


def _label(name: str | None, pixel: str | None, pixels: int) -> str:
    text = "(no name)" if name is None else repr(name) if name != name.strip() else name
    return f"{text} · pixel {pixel or '(none)'}" if pixels > 1 else text


st.title("Deduplication")
ui.demo_banner()
scope = ui.scope()
stats = ui.dedup_stats(scope)  # the report's dedup section only
if not stats:
    ui.empty_state("No Pixel or CAPI copies in this window: load both on the Data page.")
    st.stop()

outcomes, reasons, pairs = _facts(ui.store_path(), ui.version(), scope)
health = api.overall_dedup_health(stats)
tiles = st.columns(4)
tiles[0].metric(
    "Dedup health (goal 100 %)", units.share(health), help="Merged pairs / (merged + counted twice)."
)
tiles[1].metric("Merged pairs (counted once)", f"{sum(d.merged_pairs for d in stats):,}")
tiles[2].metric("Pairs counted twice (goal 0)", f"{sum(d.would_be_pairs for d in stats):,}")
low, high = (sum(d.estimated_meta_count_range[i] for d in stats) for i in (0, 1))
tiles[3].metric(
    "Meta count (estimated)",
    api.count_text(low, high),
    help="A range where Meta's count depends on behaviour Meta does not document (see below the table).",
)

tabs = st.tabs(["Outcomes per event", "Key usage and overlap", "Why pairs fail", "Problem pairs"])
pixels = len({d.pixel_id for d in stats})
with tabs[0]:
    frame = api.frame(outcomes)
    frame.insert(0, "event", [_label(o.event_name, o.pixel_id, pixels) for o in outcomes])
    shown = frame[frame[list(charts.DEDUP_OUTCOMES)].sum(axis=1) > 0]
    st.plotly_chart(charts.dedup_outcomes(shown), key="dedup_outcomes")
    st.caption("A pair counted twice is shown on its browser copy's event and pixel.")
    per_event = api.frame(stats, exclude={"key_usage", "key_merge_examples"})
    per_event["event_name"] = [_label(d.event_name, None, 1) for d in stats]
    per_event["estimated_meta_count_range"] = [api.count_text(*d.estimated_meta_count_range) for d in stats]
    rates = ("dedup_health", "dedup_rate_browser", "dedup_rate_server")
    config = {**dict.fromkeys(rates, PERCENT), **COVERAGE_COLUMNS, **RANGE_COLUMNS}
    ui.table(per_event, "dedup_by_event", empty="", column_config=config)
    if high > low:
        st.caption(f"Meta's count is a range for {high - low:,} server copies. {dedup.KEY_MERGE_REASON}")

with tabs[1]:
    labels = {_label(d.event_name, d.pixel_id, pixels): d for d in stats}
    chosen = labels[st.selectbox("Event", list(labels), key="dedup_key_event")]
    st.caption("As Events Manager shows it (Event Deduplication tab). Good: high overlap on event_id.")
    left, right = st.columns(2)
    left.metric("Rate of browser events deduplicated", units.share(chosen.dedup_rate_browser))
    right.metric("Rate of server events deduplicated", units.share(chosen.dedup_rate_server))
    usage = api.frame(chosen.key_usage).rename(
        columns={"key": "Deduplication key", "browser_share": "Browser", "server_share": "Server"}
    )
    overlap = (
        "Events with this key received from both sources (one browser and one server copy per key value) "
        "/ events with the key on the source with fewer (Meta's overlap)."
    )
    config = {"Browser": PERCENT, "Server": PERCENT}
    config["overlap"] = st.column_config.NumberColumn("Overlap", format="percent", help=overlap)
    ui.table(usage, "dedup_key_usage", empty="No copies for this event.", column_config=config)

with tabs[2]:
    counts = api.frame_from_counts(reasons, "reason", "pairs")
    st.plotly_chart(charts.failure_reasons(counts), key="dedup_reasons")
    ui.table(counts, "dedup_failure_reasons", empty="")

with tabs[3]:
    if not pairs:
        st.caption("No pair is counted twice in this window: every conversion sent twice is merged.")
        st.stop()
    st.caption(f"{len(pairs):,} pairs Meta counts twice, latest first (up to 200).")
    refs = {f"{side}_{part}" for side in ("browser", "server") for part in ("fingerprint", "occurrence")}
    ui.table(api.frame(pairs, exclude=refs), "dedup_problem_pairs", empty="")
    pick = st.selectbox(
        "Open a pair", range(len(pairs)), key="dedup_pair",
        format_func=lambda i: f"{pairs[i].browser_received_at:%Y-%m-%d %H:%M} · {pairs[i].reason} · "
        f"browser {pairs[i].browser_event_id!r} / server {pairs[i].server_event_id!r}",
    )  # fmt: skip
    pair = pairs[pick]
    st.text(inspector.pair_verdict(pair))
    diffs = api.frame(ui.compare(
        (pair.browser_fingerprint, pair.browser_occurrence), (pair.server_fingerprint, pair.server_occurrence)
    ))  # fmt: skip
    shown = diffs.rename(columns={"a": "browser copy", "b": "server copy"}).assign(
        differs=diffs["differs"].map({True: "≠", False: ""})
    )
    st.dataframe(
        shown.style.apply(lambda r: ["background-color: #fde0dc" if r["differs"] else ""] * len(r), axis=1),
        hide_index=True,
        key="dedup_pair_fields",
    )
    ids = (pair.browser_order_id, pair.server_order_id, pair.browser_event_id, pair.server_event_id)
    found_by = next((i for i in ids if i), None)
    if found_by and st.button("Inspect every copy of this conversion", key="dedup_inspect"):
        st.session_state["inspector_search"] = ("auto", found_by)
        st.session_state.pop("inspector_copy", None)
        st.switch_page("pages/inspector.py")
