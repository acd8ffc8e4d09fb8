"""The store the dashboard reads, and the watch over a scheduled ingest that holds it.

Owns: which store and engine the dashboard looks at (``engine``, ``store_path``, ``store``, the demo store
built on first use), its data version read once per script run (``version``), and what a page does while a
``capi-desk ingest`` holds the file (``busy_note``, ``watch_store``).

The dashboard shares its store with scheduled ``capi-desk ingest`` runs, and DuckDB lets no process read a
file while another writes it. So the store is opened ``brief`` (each cached call reads through its own
short read-only connection, never holding the file between runs), and while an ingest holds the file the
pages keep the figures of the last data version read, under a note, until the ingest ends.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import streamlit as st

from capi_core import (
    DEFAULT_DB,
    EngineConfig,
    Store,
    StoreBusyError,
    default_db_path,
    demo_store,
    open_configured_store,
    resolve_engine,
)
from capi_core import dashboard_api as api

#: The data version read during the current script run (forgotten when the next run starts).
VERSION_KEY = "_data_version"
#: Set during a run whose store was busy: when the figures shown were read (forgotten on the next run).
BUSY_KEY = "_store_busy_since"
#: How long a change made on a page (upload, undo, a setting) waits for a scheduled ingest to finish.
WRITE_WAIT = 60.0
#: While an ingest holds the store, a page checks this often (seconds) whether it has finished.
BUSY_POLL = 3.0
#: After a page has seen an ingest running it keeps watching the store this long (seconds): a scheduled
#: job often ingests several files one after another, each in its own process, and a page that read the
#: store between two of them would otherwise keep showing figures without the later files.
WATCH_AFTER_BUSY = 180.0
#: ``time.monotonic()`` until which this session's pages watch the store (set while it is busy).
WATCH_UNTIL_KEY = "watch_store_until"


def engine() -> EngineConfig:
    """The engine the dashboard reads through: the environment (``CAPI_DESK_ENGINE``,
    ``CAPI_DESK_SPARK_PATH``, ``SPARK_REMOTE``; ``capi-desk app --engine spark`` sets them), else the
    secrets' ``[engine]`` table, else DuckDB. Pages never ask: they hold a store either way."""
    try:
        settings = st.secrets.get("engine")
    except FileNotFoundError:  # no secrets.toml: the environment alone decides
        settings = None
    return resolve_engine(secrets=dict(settings) if settings else None)


@st.cache_resource(show_spinner="Opening the store…")
def open_store(path: str) -> Store:
    """One store handle per process and ``store_path()``; a DuckDB store is opened brief: it holds no
    connection (and so no lock on the file) between queries."""
    config = engine()
    if config.is_spark:  # ``path`` is then the label store_path() gives the Spark tables
        return open_configured_store(config)
    return Store(path, brief=True, wait=WRITE_WAIT)


def store_path() -> str:
    """The store this dashboard looks at: the DuckDB file ($CAPI_DESK_DB, else the embedded demo store),
    or with the Spark engine a label of its tables (a cache key: a changed setting opens a new store)."""
    config = engine()
    if config.is_spark:
        return f"spark: {config.description()}"
    return str(default_db_path())


def store() -> Store:
    """The open store."""
    return open_store(store_path())


def is_demo() -> bool:
    """True when the embedded demo store is in use (never with the Spark engine)."""
    return not engine().is_spark and Path(store_path()).resolve() == DEFAULT_DB.resolve()


def ensure_demo_store() -> None:
    """Build the demo store on first use, so a fresh clone opens on data without another step.

    Tabs opened at once (and ``capi-desk demo``) build it once: the others wait here for that build.
    """
    if is_demo() and demo_store.needs_build(DEFAULT_DB):
        with st.spinner("Building the demo store (first start only, about 15 seconds)…"):
            demo_store.ensure_demo_store(DEFAULT_DB)
        open_store.clear()  # a handle opened before the build would have created an empty store
        st.session_state.pop(VERSION_KEY, None)


@st.cache_resource
def _versions_seen() -> dict[str, tuple[str, dt.datetime]]:
    """Store path -> the last data version read and when (for every session: the cached figures are)."""
    return {}


def version() -> str:
    """The store's data version (changes with every ingest and undo), read once per script run.

    A page that changes the store (ingest, undo) calls ``st.rerun()`` right after, so the next run reads
    the new version; within one run every cached call shares a single cheap query. While an ingest holds
    the store, the last version read stands (its figures are cached) and ``busy_note`` says so.
    """
    path = store_path()
    known = st.session_state.get(VERSION_KEY)
    if isinstance(known, tuple) and known[0] == path:
        return str(known[1])
    seen = _versions_seen()
    try:
        current = api.data_version(store())
    except StoreBusyError:
        if path not in seen:
            raise
        current, read_at = seen[path]
        st.session_state[BUSY_KEY] = read_at
    else:
        seen[path] = (current, dt.datetime.now())
    st.session_state[VERSION_KEY] = (path, current)
    return current


def busy_note() -> None:
    """The note over a page whose store an ingest holds: the figures are from the last data version
    read; the page reruns by itself when the ingest ends, and for ``WATCH_AFTER_BUSY`` seconds after
    it reruns again when the next ingest starts or lands."""
    read_at = st.session_state.get(BUSY_KEY)
    if read_at is not None:
        st.session_state[WATCH_UNTIL_KEY] = time.monotonic() + WATCH_AFTER_BUSY
        st.warning(
            f"An ingest is running on this store; these figures are from {read_at:%H:%M:%S} and refresh "
            "when it ends.",
            icon=":material/hourglass_top:",
        )
    elif time.monotonic() >= st.session_state.get(WATCH_UNTIL_KEY, 0.0):
        return
    watch_store()


@st.fragment(run_every=BUSY_POLL)
def watch_store() -> None:
    """Rerun the page when the store's state differs from what it shows (busy or free, the version its
    figures are from); a fragment, so it polls every ``BUSY_POLL`` seconds on its own."""
    # a rerun of this fragment alone; the whole page reruns (reading the data version anew) when the
    # store's state differs from what the page shows: busy or free, and the version the figures are from
    showing_busy = BUSY_KEY in st.session_state
    if not showing_busy and time.monotonic() >= st.session_state.get(WATCH_UNTIL_KEY, 0.0):
        return
    try:
        current = api.data_version(store()) if store().available() else None
    except StoreBusyError:  # taken between the two questions
        current = None
    if current is None:
        if not showing_busy:
            st.rerun()
        return
    shown = st.session_state.get(VERSION_KEY)
    if showing_busy or not isinstance(shown, tuple) or shown[1] != current:
        st.rerun()
