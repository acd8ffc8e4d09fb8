"""What every page shares: the store handle, cached core calls, the demo banner and error display.

Caching lives here, in the UI layer (STYLE: Streamlit guidance); capi_core knows nothing of it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from capi_core.errors import CapiDeskError
from capi_core.models import Scope
from capi_core.report import Report, build_report
from capi_core.store import DEFAULT_DB, Store, default_db_path


@st.cache_resource
def open_store(path: str) -> Store:
    """One store handle per process (DuckDB connections are shared; each query gets its own cursor)."""
    return Store(path)


def store() -> Store:
    """The store this dashboard looks at."""
    return open_store(str(default_db_path()))


def is_demo() -> bool:
    """True when the embedded demo store is in use."""
    return Path(default_db_path()).resolve() == DEFAULT_DB.resolve()


@st.cache_data(show_spinner="Computing the report…")
def report(_store_key: str, scope: Scope) -> Report:
    """The report for a scope (cached per store file and scope)."""
    return build_report(store(), scope)


def demo_banner() -> None:
    """The banner that says the numbers are demo numbers."""
    if is_demo():
        st.info("You are looking at demo data — load your own on the Data page.", icon=":material/science:")


def show_error(err: CapiDeskError) -> None:
    """The one way pages show an error: the message and what to do next."""
    st.error(str(err), icon=":material/error:")
