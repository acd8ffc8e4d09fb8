"""The "Fix and push a test event" part of the Event contracts page: pick a violating copy, see the
automatic corrections as a before/after diff, edit the payload, push it to Test Events, read Meta's answer
and the push history. The token is read from this session's password field, else the environment or
secrets (``graph_api.resolve_token``), and is never shown or stored."""

from __future__ import annotations

from typing import Any

import streamlit as st

import ui
from capi_core import DEFAULT_BASE_URL, CapiDeskError, Contract, Store, Violation, push, resolve_token
from capi_core import contract_editor as ce


def render(store: Store, pixel: str, contract: Contract, violations: list[Violation]) -> None:
    """The whole section, then the push history."""
    st.subheader("Fix and push a test event")
    candidates = ce.fixable(violations)
    if not candidates:
        st.caption("No violating copy to fix.")
    else:
        event = _fixed_event(store, contract, candidates)
        if event is not None:
            _push(store, pixel, event)
    st.caption("Push history (newest first; the token is never stored)")
    ui.table(ce.history_frame(push.push_history(store)), "push_history", empty="No push yet.")


def _fixed_event(store: Store, contract: Contract, candidates: list[Violation]) -> dict[str, Any] | None:
    """The picked copy, corrected, as edited by the user (None while the edit is not valid JSON)."""
    violation = st.selectbox(
        "Violation", candidates, key="contracts_fix_violation", format_func=ce.violation_label
    )
    refs = violation.examples
    example = st.selectbox(
        "Copy",
        range(len(refs)),
        key="contracts_fix_copy",
        format_func=lambda i: f"{refs[i].channel} copy, event_id {refs[i].event_id}",
    )
    ref = refs[example]
    fix = ce.prepare_fix(store, contract, violation, example)
    before, after = st.columns(2)
    before.caption("As stored (hashed keys as their SHA-256)")
    before.json(fix.correction.before)
    after.caption("After the automatic corrections")
    after.json(fix.correction.after)
    ui.table(
        ce.changes_frame(fix.correction.changes), "corrections", empty="Nothing to correct automatically."
    )
    text = st.text_area(
        "Payload to push (JSON; edit freely — raw emails or phones are hashed before sending)",
        ce.pretty(fix.correction.after),
        height=320,
        key=f"contracts_payload_{ref.fingerprint}_{ref.occurrence}",
    )
    try:
        final = ce.refix(
            text, contract, violation.event_name, ref.channel, linked=fix.linked, consent=fix.consent
        )
    except CapiDeskError as err:
        ui.show_error(err)
        return None
    if final.correction.changes:
        st.caption("Corrected again after your edits:")
        st.dataframe(ce.changes_frame(final.correction.changes), hide_index=True)
    for problem in final.problems:
        st.warning(ce.escape_markdown(str(problem)), icon=":material/warning:")
    for warning in final.contract_warnings:
        st.warning(ce.escape_markdown(f"Still breaks the contract: {warning}"), icon=":material/gavel:")
    return final.correction.after


def _push(store: Store, pixel: str, event: dict[str, Any]) -> None:
    left, right = st.columns(2)
    code = left.text_input(
        "test_event_code (required)", key="contracts_test_code", help="Events Manager > Test events."
    )
    base_url = right.text_input(
        "Base URL",
        DEFAULT_BASE_URL,
        key="contracts_base_url",
        help="Meta's Graph API, or a sandbox such as http://127.0.0.1:8787 (capi-desk sandbox).",
    )
    token_field = st.text_input(
        "Access token (kept in this session only; else META_ACCESS_TOKEN or secrets)",
        type="password",
        key="contracts_token",
    )
    if not st.button("Push to Test Events", key="contracts_push", type="primary"):
        return
    try:
        outcome = push.push_test_events(
            store,
            pixel_id=pixel,
            events=[event],
            test_event_code=code,
            token=resolve_token(token_field, ui.secret("META_ACCESS_TOKEN")),
            base_url=base_url,
        )
    except CapiDeskError as err:
        ui.show_error(err)
        return
    if outcome.ok:
        st.success(ce.escape_markdown(outcome.summary()), icon=":material/check:")
    else:
        st.error(ce.escape_markdown(outcome.summary()), icon=":material/error:")
    for problem in outcome.problems:
        st.text(str(problem))
    errors = [b.error.model_dump() for b in outcome.batches if b.error is not None]
    if errors:
        st.dataframe(errors, hide_index=True)
