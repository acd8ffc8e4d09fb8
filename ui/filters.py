"""The sidebar's global filters (dates, pixel, event names) and the Scope they describe.

Their widget state survives page changes: the frame (app.py) draws them on every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from capi_core import Scope
from ui.cached import date_bounds, event_names, pixels
from ui.store_handle import engine, store_path


def _keep_valid(key: str, options: list[Any], *, many: bool) -> None:
    # a filter value may vanish with an undo; an option that no longer exists would make the widget fail
    if key in st.session_state:
        value = st.session_state[key]
        if many:
            st.session_state[key] = [v for v in value if v in options]
        elif value not in options:
            st.session_state[key] = None


def _event_label(name: str) -> str:
    return repr(name) if name != name.strip() else name


def sidebar_filters() -> None:
    """The global filters (date range, pixel, event names); their widget state survives page changes."""
    first, last = date_bounds()
    pixel_options = [None, *pixels()]
    event_options = event_names()
    _keep_valid("filter_pixel", pixel_options, many=False)
    _keep_valid("filter_events", event_options, many=True)
    with st.sidebar:
        st.header("Filters")
        st.toggle("All dates", value=True, key="filter_all_dates", help="Turn off to pick a date range.")
        if first is not None and not st.session_state["filter_all_dates"]:
            st.date_input(
                "Date range (UTC days)", value=(first, last), key="filter_dates", format="YYYY-MM-DD"
            )
        st.selectbox(
            "Pixel", pixel_options, key="filter_pixel", format_func=lambda p: "All pixels" if p is None else p
        )
        st.multiselect(
            "Event names",
            event_options,
            key="filter_events",
            format_func=_event_label,
            placeholder="All events",
        )
        config = engine()
        if config.is_spark:  # the remote is shown as host and port: its parameters may hold a token
            st.caption(f"Engine: {_escape(config.description())}")
        else:
            st.caption(f"Store: `{Path(store_path()).name}`")


def _escape(text: str) -> str:
    """``text`` shown literally in markdown (a location is user-given: no links, no formatting)."""
    return "".join(f"\\{char}" if char in "\\`*_{}[]()<>#+-.!|~$:" else char for char in text)


def scope() -> Scope:
    """The Scope the sidebar filters describe."""
    state = st.session_state
    dates = () if state.get("filter_all_dates", True) else tuple(state.get("filter_dates") or ())
    if dates and date_bounds() == dates:
        dates = ()  # the store's whole span is no filter: same figures, and the cached report is reused
    return Scope(
        date_from=dates[0] if dates else None,
        date_to=dates[1] if len(dates) > 1 else None,
        pixel_id=state.get("filter_pixel"),
        event_names=tuple(sorted(state.get("filter_events") or ())),
    )
