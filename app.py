"""Streamlit frame: the login gate, the store handle, the shared sidebar, and navigation over ``pages/``.

Pages are thin: they read widgets, call ``capi_core`` through the cached wrappers in ``pages/_shared.py``,
and render. Nothing here computes a metric. Filters live in this frame so their state survives a page
change; a ``CapiDeskError`` raised by any page is shown through the one helper, ``_shared.show_error``.
"""

from __future__ import annotations

import streamlit as st

from capi_core.errors import CapiDeskError
from pages import _shared

st.set_page_config(page_title="CAPI Signal Desk", page_icon=":material/radar:", layout="wide")
_shared.mark_frame()

if _shared.login_required():
    st.navigation([st.Page(_shared.login_screen, title="Log in")], position="hidden").run()
    st.stop()

pages = [
    st.Page(file, title=title, icon=icon, default=key == "overview")
    for key in _shared.available_pages()
    for file, title, icon in [_shared.PAGES[key]]
]
navigation = st.navigation(pages)
try:
    _shared.ensure_demo_store()
    _shared.sidebar_filters()
    _shared.busy_note()
    _shared.logout_button()
    navigation.run()
except CapiDeskError as err:
    _shared.show_error(err)
