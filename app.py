"""Streamlit frame: the store handle, the shared sidebar, and navigation over the pages in ``pages/``.

Pages are thin: they read widgets, call one ``capi_core`` function through the cached wrappers in
``pages/_shared.py``, and render. Nothing here computes a metric.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="CAPI Signal Desk", page_icon=":material/radar:", layout="wide")

navigation = st.navigation(
    [st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True)]
)
navigation.run()
