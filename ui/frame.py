"""The dashboard's frame: the page list, navigation links, and the check that app.py ran first.

Owns: ``PAGES`` (key -> file, title, icon; a page is listed only when its file exists), ``mark_frame`` /
``require_frame`` (a page run on its own is sent through app.py, so through the login gate and the
filters) and ``page_link``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.store_handle import BUSY_KEY, VERSION_KEY

APP_DIR = Path(__file__).resolve().parent.parent
#: page key -> (file relative to app.py, title, icon); a page is listed only when its file exists.
PAGES: dict[str, tuple[str, str, str]] = {
    "overview": ("pages/overview.py", "Overview", ":material/dashboard:"),
    "deduplication": ("pages/deduplication.py", "Deduplication", ":material/join:"),
    "reconciliation": ("pages/reconciliation.py", "Reconciliation", ":material/balance:"),
    "signal_quality": ("pages/signal_quality.py", "Signal quality", ":material/signal_cellular_alt:"),
    "weekly_drift": ("pages/weekly_drift.py", "Weekly drift", ":material/trending_down:"),
    "lead_quality": ("pages/lead_quality.py", "Lead quality", ":material/filter_alt:"),
    "meta_view": ("pages/meta_view.py", "Meta's view", ":material/compare_arrows:"),
    "inspector": ("pages/inspector.py", "Event inspector", ":material/search:"),
    "contracts": ("pages/contracts.py", "Event contracts", ":material/contract_edit:"),
    "data": ("pages/data.py", "Data", ":material/upload_file:"),
}


#: Set by app.py on every run: the frame (login gate, filters, navigation) has run in this session.
FRAME_KEY = "_frame_ran"


def mark_frame() -> None:
    """Called by app.py before anything else: pages check it with ``require_frame``."""
    st.session_state[FRAME_KEY] = True
    st.session_state.pop(VERSION_KEY, None)  # an ingest or undo since the last run is seen by this one
    st.session_state.pop(BUSY_KEY, None)


def require_frame() -> None:
    """Run app.py first when Streamlit runs a page file on its own.

    A folder named ``pages/`` beside app.py puts a fresh Streamlit server in its legacy multipage mode
    until ``st.navigation`` has run once in the process: a first request to ``/data`` would run the page
    without the frame, so without the login gate and the filters. Switching to the main script runs the
    frame, whose ``st.navigation`` call ends that mode for the whole process.
    """
    if not st.session_state.get(FRAME_KEY):
        st.switch_page("app.py")


def available_pages() -> list[str]:
    """Keys of the pages whose file exists, in menu order."""
    return [key for key, (file, _, _) in PAGES.items() if (APP_DIR / file).is_file()]


def page_link(key: str, label: str | None = None) -> None:
    """A link to another page (nothing when that page does not exist yet)."""
    if key in available_pages():
        file, title, icon = PAGES[key]
        st.page_link(file, label=label or title, icon=icon)
