"""Streamlit frame: the login gate, the store handle, the shared sidebar, and navigation over ``pages/``.

Pages are thin: they read widgets, call ``capi_core`` through the face of ``ui/`` (its cached wrappers),
and render. Nothing here computes a metric. Filters live in this frame so their state survives a page
change; a ``CapiDeskError`` raised by any page is shown through the one helper, ``ui.show_error``.
"""

from __future__ import annotations

import streamlit as st

import ui
from capi_core import CapiDeskError

st.set_page_config(page_title="CAPI Signal Desk", page_icon=":material/radar:", layout="wide")
ui.mark_frame()

if ui.login_required():
    st.navigation([st.Page(ui.login_screen, title="Log in")], position="hidden").run()
    st.stop()

pages = [
    st.Page(file, title=title, icon=icon, default=key == "overview")
    for key in ui.available_pages()
    for file, title, icon in [ui.PAGES[key]]
]
navigation = st.navigation(pages)
try:
    ui.ensure_demo_store()
    ui.sidebar_filters()
    ui.busy_note()
    ui.logout_button()
    navigation.run()
except CapiDeskError as err:
    ui.show_error(err)
