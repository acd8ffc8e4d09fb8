"""The dashboard's shared parts, beside ``pages/``: pages keep only pages.

Pages ``import ui`` and call what this face lists; chart builders are modules of their own
(``from ui import charts``). Each module owns one job:

- ``frame``: the page list, navigation links, the check that app.py ran first;
- ``store_handle``: the store and engine the dashboard reads, its data version, the watch over an ingest;
- ``cached``: the cached core calls (report sections, inspector searches) keyed by store version and scope;
- ``filters``: the sidebar filters and the Scope they describe;
- ``widgets``: the demo banner, errors, empty states, tables with downloads, uploads;
- ``login``: the login gate and the dashboard's secrets;
- ``charts``, ``drift_charts``, ``lead_charts``: plotly figures; ``contract_fix``: the fix-and-push panel.
"""

from __future__ import annotations

from ui.cached import (
    cached_call,
    compare,
    counts,
    dedup_stats,
    emq_what_if,
    findings,
    overview,
    periods,
    phantoms,
    recon_summaries,
    search,
    signal_quality,
    value_deltas,
    verdicts,
)
from ui.filters import scope, sidebar_filters
from ui.frame import PAGES, available_pages, mark_frame, page_link, require_frame
from ui.login import login_required, login_screen, logout_button, secret
from ui.store_handle import (
    busy_note,
    engine,
    ensure_demo_store,
    is_demo,
    open_store,
    store,
    store_path,
    version,
)
from ui.widgets import demo_banner, downloads, empty_state, show_error, table, upload_on_disk

__all__ = [
    "PAGES",
    "available_pages",
    "busy_note",
    "cached_call",
    "compare",
    "counts",
    "dedup_stats",
    "demo_banner",
    "downloads",
    "empty_state",
    "emq_what_if",
    "engine",
    "ensure_demo_store",
    "findings",
    "is_demo",
    "login_required",
    "login_screen",
    "logout_button",
    "mark_frame",
    "open_store",
    "overview",
    "page_link",
    "periods",
    "phantoms",
    "recon_summaries",
    "require_frame",
    "scope",
    "search",
    "secret",
    "show_error",
    "sidebar_filters",
    "signal_quality",
    "store",
    "store_path",
    "table",
    "upload_on_disk",
    "value_deltas",
    "verdicts",
    "version",
]
