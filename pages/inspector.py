"""Event inspector: everything about one conversion — found by event_id, order id, fbp or email — as a
timeline of every copy and the backend record, the stored payloads, and each dedup verdict in a sentence.

An email is hashed on the spot (``inspector.safe_query``) and cleared from the box in the submit callback:
the session state keeps only its hash, and nothing is written to the store. (Streamlit's own buffer of the
last browser message still holds the typed text until the next interaction; no page code reads it.)
"""

from __future__ import annotations

import streamlit as st

import ui
from capi_core import dashboard_api as api
from capi_core import inspector
from ui import charts

ui.require_frame()

KINDS = {"auto": "anything", "event_id": "event_id", "order_id": "order id", "fbp": "fbp", "email": "email"}


def _submit() -> None:
    state = st.session_state
    kind, text = inspector.safe_query(state.get("inspector_text", ""), state.get("inspector_kind", "auto"))
    state["inspector_search"] = (kind, text)
    state.pop("inspector_copy", None)  # a new search starts on its first copy
    if kind == "email":
        state["inspector_text"] = ""


st.title("Event inspector")
ui.demo_banner()
with st.form("inspector_form"):
    left, right = st.columns([3, 1])
    left.text_input(
        "Search",
        key="inspector_text",
        placeholder="event_id, order id (#1042 or 1042), fbp (fb.1.…) or an email",
        help="An email is normalized and hashed (SHA-256) on the spot, then cleared; it is never stored.",
    )
    right.selectbox("Look for", list(KINDS), format_func=KINDS.__getitem__, key="inspector_kind")
    st.form_submit_button("Search", on_click=_submit, icon=":material/search:", key="inspector_go")

kind, text = st.session_state.get("inspector_search", ("auto", ""))
if not text:
    st.info("Type an event_id, an order id, an fbp or an email above, or open a pair from Deduplication.")
    ui.page_link("deduplication", label="Go to the Deduplication page")
    st.stop()

result = ui.search(text, kind)
st.text(f"Searched {KINDS[result.kind]}: {result.query}")
if not result.copies and not result.records:
    st.info("Nothing found: no copy or backend record carries this value.", icon=":material/search_off:")
    st.stop()
more = f" (the first {len(result.copies)} listed)" if result.truncated else ""
st.caption(f"{result.total_copies:,} copies{more} and {len(result.records)} backend records found.")

st.subheader("Backend record")
records = api.frame(result.records)
if records.empty:
    st.caption("No backend record: no order or lead carries this value, and no copy found links to one.")
else:
    records["flags"] = records["flags"].map(", ".join)
    ui.table(records, "inspector_records", empty="")

st.subheader("Timeline")
copies = api.frame(result.copies, exclude={"payload", "key_checks", "fingerprint", "occurrence"})
if not copies.empty:
    moments = [r.created_at for r in result.records if r.created_at is not None]
    st.plotly_chart(charts.copy_timeline(copies, moments), key="inspector_timeline")
    ui.table(copies, "inspector_copies", empty="")

    st.subheader("One copy: its dedup verdict and payload")
    pick = st.selectbox(
        "Copy",
        range(len(result.copies)),
        key="inspector_copy",
        format_func=lambda i: (
            f"{result.copies[i].received_at} · {result.copies[i].channel} · "
            f"{result.copies[i].event_name!r} · event_id {result.copies[i].event_id!r}"
        ),
    )
    chosen = result.copies[min(pick, len(result.copies) - 1)]
    with st.container(border=True):
        st.text(chosen.explanation)
        if chosen.counted_twice:
            st.text(chosen.counted_twice)
    st.caption("Match keys carried, with their format check (hashed keys are shown as stored, hashed):")
    st.json(chosen.key_checks, expanded=True)
    st.caption("Stored payload:")
    st.json(chosen.payload, expanded=True)
