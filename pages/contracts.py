"""Event contracts: edit a pixel's contract with validation as you type, see the violations the draft
implies on the store before saving, save versions; then fix one violating event and push it to Meta's
Test Events (with a test_event_code only; the token lives in this session or the environment)."""

from __future__ import annotations

import streamlit as st

import ui
from capi_core import CapiDeskError, contract_from_rows, event_rows, is_pixel_id
from capi_core import contract_editor as ce
from capi_core import contract_library as contracts
from ui import contract_fix

ui.require_frame()

PERCENT = st.column_config.NumberColumn(format="percent")
store = ui.store()

st.title("Event contracts")
ui.demo_banner()
scope = ui.scope()
pixels = ui.cached_call(ce.store_pixels)
if not pixels:
    ui.empty_state("No events yet: load Pixel or server logs on the Data page.")
    st.stop()
if skipped := [p for p in pixels if not is_pixel_id(p)]:  # e.g. a sender left "dummyPixelId" in place
    st.warning(
        f"Not Meta pixel ids (digits only), so no contract applies: {ce.escape_markdown(', '.join(skipped))}."
        " Meta refuses their events: fix the pixel id the sender uses.",
        icon=":material/warning:",
    )
    pixels = [p for p in pixels if is_pixel_id(p)]
    if not pixels:
        st.stop()

sidebar_pixel = st.session_state.get("filter_pixel")
pixel = st.selectbox(
    "Pixel",
    pixels,
    index=pixels.index(sidebar_pixel) if sidebar_pixel in pixels else 0,
    key="contracts_pixel",
)
try:
    current = contracts.current_contract(store, pixel)
except CapiDeskError as err:
    ui.show_error(err)
    st.stop()
origin = {
    "file": f"file `{current.path}`",
    "store": f"saved version {current.version}",
    "default": "the default contract",
}
st.caption(f"In force: {origin[current.origin]}. Meta's own requirements apply whatever the contract says.")

# --- the editor ------------------------------------------------------------------------------------
select = st.column_config.SelectboxColumn
edited = st.data_editor(
    event_rows(current.contract) or [dict.fromkeys(ce.EDITOR_COLUMNS, "")],
    num_rows="dynamic",
    hide_index=True,
    key=f"contracts_editor_{pixel}_{current.version}",
    column_order=ce.EDITOR_COLUMNS,
    column_config={
        "source": select(options=ce.SOURCES, required=True),
        "event_id_rule": select(options=ce.RULE_OPTIONS, help="How event_id is built (the dedup key)."),
        "value_policy": select(options=ce.VALUE_POLICIES),
        "consent": select(options=ce.CONSENTS),
        "truth": select(options=ce.TRUTHS),
        "required": st.column_config.TextColumn(help="Parameters, comma-separated (e.g. value, currency)."),
        "allowed_currencies": st.column_config.TextColumn(help="ISO 4217 codes, comma-separated."),
    },
)
draft, errors = contract_from_rows(
    pixel, list(edited), description=current.contract.description, header=current.contract.header
)
if errors:
    st.error(
        "The contract cannot be saved yet:\n\n" + "\n".join(f"- {ce.escape_markdown(e)}" for e in errors),
        icon=":material/error:",
    )

checked = draft or current.contract
violations = ui.cached_call(ce.preview, scope, body=contracts.dump_contract(checked))
st.subheader("Copies that break " + ("this draft" if draft and draft != current.contract else "the contract"))
counts = ce.severity_counts(violations)
for tile, (severity, n) in zip(st.columns(len(counts)), counts.items(), strict=True):
    tile.metric(f"{severity.capitalize()}-severity rules broken (goal 0)", n)
ui.table(
    ce.violations_frame(violations),
    "contract_violations",
    empty="No stored copy breaks it.",
    column_config={"share": PERCENT},
)

if st.button("Save as a new version", key="contracts_save", disabled=draft is None, type="primary"):
    try:
        saved = contracts.save_contract(store, draft)  # type: ignore[arg-type]
    except CapiDeskError as err:
        ui.show_error(err)
    else:
        st.session_state["contracts_saved"] = saved.version
        st.rerun()
if saved_version := st.session_state.pop("contracts_saved", None):
    st.success(f"Saved as version {saved_version}.", icon=":material/check:")

history = contracts.contract_history(store, pixel)
with st.expander(f"Saved versions ({len(history)})"):
    if history:
        st.dataframe([{"version": h.version, "saved_at": h.saved_at} for h in history], hide_index=True)
        chosen = st.selectbox(
            "Compare a version with the contract in force",
            history,
            key="contracts_diff",
            format_func=lambda h: f"version {h.version}",
        )
        diff = contracts.diff_bodies(
            chosen.body,
            contracts.dump_contract(current.contract),
            old_name=f"version {chosen.version}",
            new_name="in force",
        )
        st.code("\n".join(diff) or "(no difference)", language="diff")
    else:
        st.caption("Nothing saved yet for this pixel.")

# --- fix and push a test event ----------------------------------------------------------------------
contract_fix.render(store, pixel, checked, violations)
