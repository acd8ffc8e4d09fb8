"""What every page shares: the store handle, the sidebar filters and the Scope they make, cached core calls,
table downloads, empty states, the demo banner, the login gate and the one way errors are shown.

Caching lives here, in the UI layer (STYLE: Streamlit guidance); capi_core knows nothing of it. Every
cached call is keyed by the store path, its data version, the scope and the call's arguments, so an ingest
or an undo is seen at once and a filter set back to an earlier value is a cache hit. Pages ask for the
report sections they show (``dedup``, ``recon``, ``quality``, ``findings``...), each cached on its own:
a filter change recomputes only those, and a section one page computed is reused by the next page.
The data version is read once per script run (``mark_frame`` forgets it when the next run starts).

The dashboard shares its store with scheduled ``capi-desk ingest`` runs, and DuckDB lets no process read a
file while another writes it. So the store is opened ``brief`` (each cached call reads through its own
short read-only connection, never holding the file between runs), and while an ingest holds the file the
pages keep the figures of the last data version read, under a note, until the ingest ends.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from capi_core import dashboard_api as api
from capi_core import demo_store, inspector
from capi_core.diagnostics import Finding
from capi_core.engines import EngineConfig, open_configured_store, resolve_engine
from capi_core.errors import CapiDeskError, StoreBusyError
from capi_core.metrics import quality, recon_views, reconcile
from capi_core.metrics.dedup import DedupEventStats
from capi_core.models import Scope
from capi_core.report import Report, build_report
from capi_core.store import DEFAULT_DB, Store, default_db_path

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
FILTER_KEYS = ("filter_all_dates", "filter_dates", "filter_pixel", "filter_events")


#: Set by app.py on every run: the frame (login gate, filters, navigation) has run in this session.
FRAME_KEY = "_frame_ran"


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
WATCH_UNTIL_KEY = "_watch_store_until"


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


# --- the store ------------------------------------------------------------------------------------


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
    _watch_store()


@st.fragment(run_every=BUSY_POLL)
def _watch_store() -> None:
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


# --- cached core calls ----------------------------------------------------------------------------

_CALLS: dict[str, Callable[..., Any]] = {
    "report": lambda s, scope: build_report(s, scope),
    "counts": lambda s, scope: api.counts_section(s, scope),
    "dedup": lambda s, scope, **kw: api.dedup_section(s, scope, **kw),
    "recon": lambda s, scope: api.recon_section(s, scope),
    "quality": lambda s, scope: api.quality_section(s, scope),
    "findings": lambda s, scope: api.findings(s, scope),
    "value_deltas": lambda s, scope, **kw: recon_views.value_deltas(s, scope, **kw),
    "daily": lambda s, scope, **kw: reconcile.daily(s, scope, **kw),
    "weekly": lambda s, scope, **kw: reconcile.weekly(s, scope, **kw),
    "verdicts": lambda s, scope, **kw: reconcile.record_verdicts(s, scope, **kw),
    "phantoms": lambda s, scope, **kw: reconcile.phantoms(s, scope, **kw),
    "what_if": lambda s, scope, **kw: quality.emq_what_if(s, scope, **kw),
    "pixels": lambda s, _: api.pixels(s),
    "event_names": lambda s, _: api.event_names(s),
    "date_bounds": lambda s, _: api.date_bounds(s),
    "search": lambda s, _, **kw: inspector.search(s, kw["text"], kind=kw["kind"]),
    "compare": lambda s, _, **kw: inspector.compare_copies(s, kw["a"], kw["b"]),
}


@st.cache_data(show_spinner="Computing…", max_entries=256)
def _cached(name: str, path: str, data_version: str, scope: Scope | None, kwargs: tuple[Any, ...]) -> Any:
    store = open_store(path)
    with store.kept_open():  # the call's queries share one short read-only connection
        return _CALLS[name](store, scope, **dict(kwargs))


def _call(name: str, scope: Scope | None = None, **kwargs: Any) -> Any:
    return _cached(name, store_path(), version(), scope, tuple(sorted(kwargs.items())))


def cached_call(fn: Callable[..., Any], scope: Scope | None = None, **kwargs: Any) -> Any:
    """``fn(store, scope, **kwargs)`` cached per store version, scope and arguments.

    For pages added after the wrappers below: pass a ``capi_core`` function taking ``(store, scope, ...)``
    (keyword arguments must be hashable); it is registered under its qualified name on first use.
    """
    name = f"{fn.__module__}.{fn.__qualname__}"
    _CALLS.setdefault(name, lambda s, sc, **kw: fn(s, sc, **kw))
    return _call(name, scope, **kwargs)


def search(text: str, kind: str) -> Any:
    """Inspector search, cached (``text`` is never a raw email: the page hashes it first)."""
    return _call("search", text=text, kind=kind)


def compare(a: tuple[str, int], b: tuple[str, int]) -> Any:
    """Two copies side by side, cached."""
    return _call("compare", a=a, b=b)


def report(scope: Scope) -> Report:
    """The full report for ``scope`` (every section and every check: prefer the sections below)."""
    result: Report = _call("report", scope)
    return result


def counts(scope: Scope) -> api.CountsSection:
    """The report's window and copy counts."""
    result: api.CountsSection = _call("counts", scope)
    return result


def dedup_stats(scope: Scope, *, key_usage: bool = True) -> list[DedupEventStats]:
    """The report's dedup section (outcomes per pixel and event name; ``key_usage=False``: without the
    dedup-key usage, which only the Deduplication page shows)."""
    rows: list[DedupEventStats] = _call("dedup", scope, key_usage=key_usage)
    return rows


def recon_summaries(scope: Scope) -> list[reconcile.ReconSummary]:
    """The report's reconciliation section (one summary per reconciled dataset)."""
    rows: list[reconcile.ReconSummary] = _call("recon", scope)
    return rows


def signal_quality(scope: Scope) -> api.QualitySection:
    """The report's completeness, match keys, freshness and consent sections."""
    result: api.QualitySection = _call("quality", scope)
    return result


def findings(scope: Scope) -> list[Finding]:
    """The report's findings (every check), most severe first."""
    rows: list[Finding] = _call("findings", scope)
    return rows


def overview(scope: Scope) -> api.OverviewFigures:
    """The Overview's figures, from the cached sections (shared with the other pages)."""
    return api.overview_figures(
        counts(scope),
        dedup_stats(scope, key_usage=False),
        recon_summaries(scope),
        signal_quality(scope),
        findings(scope),
    )


def value_deltas(scope: Scope, event_name: str, kind: str) -> recon_views.ValueDeltas:
    """The binned value-delta distribution of one reconciled dataset."""
    result: recon_views.ValueDeltas = _call("value_deltas", scope, event_name=event_name, kind=kind)
    return result


def periods(scope: Scope, grain: str, event_name: str, kind: str) -> list[reconcile.PeriodRow]:
    """Truth vs estimated Meta per day (``grain="day"``) or ISO week."""
    rows: list[reconcile.PeriodRow] = _call(
        "daily" if grain == "day" else "weekly", scope, event_name=event_name, kind=kind
    )
    return rows


def verdicts(scope: Scope, **filters: Any) -> list[reconcile.RecordVerdict]:
    """Per-record verdicts (``reconcile.record_verdicts`` keyword filters)."""
    rows: list[reconcile.RecordVerdict] = _call("verdicts", scope, **filters)
    return rows


def phantoms(scope: Scope, event_name: str, kind: str) -> reconcile.PhantomReport:
    """Counted copies with no backend record."""
    result: reconcile.PhantomReport = _call("phantoms", scope, event_name=event_name, kind=kind)
    return result


def emq_what_if(scope: Scope, key: str, coverage: float) -> list[quality.EmqWhatIf]:
    """The estimated EMQ per event if ``key``'s coverage were ``coverage``."""
    rows: list[quality.EmqWhatIf] = _call("what_if", scope, key=key, coverage=coverage)
    return rows


# --- sidebar filters -> Scope ---------------------------------------------------------------------


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
    first, last = _call("date_bounds")
    pixel_options = [None, *_call("pixels")]
    event_options: list[str] = _call("event_names")
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
    if dates and tuple(_call("date_bounds")) == dates:
        dates = ()  # the store's whole span is no filter: same figures, and the cached report is reused
    return Scope(
        date_from=dates[0] if dates else None,
        date_to=dates[1] if len(dates) > 1 else None,
        pixel_id=state.get("filter_pixel"),
        event_names=tuple(sorted(state.get("filter_events") or ())),
    )


# --- rendering helpers ----------------------------------------------------------------------------


def demo_banner() -> None:
    """The banner that says the numbers are demo numbers."""
    if is_demo():
        st.info("You are looking at demo data — load your own on the Data page.", icon=":material/science:")


def show_error(err: CapiDeskError) -> None:
    """The one way pages show an error: the message and what to do next."""
    if isinstance(err, StoreBusyError):  # not a failure: a scheduled ingest is writing
        st.warning(
            "An ingest is running on this store (another capi-desk is writing to it); this page shows its "
            "figures when it ends.",
            icon=":material/hourglass_top:",
        )
        st.session_state[BUSY_KEY] = dt.datetime.now()  # the watch reruns the page once the store is free
        st.session_state[WATCH_UNTIL_KEY] = time.monotonic() + WATCH_AFTER_BUSY
        _watch_store()
        return
    st.error(str(err), icon=":material/error:")


def empty_state(message: str, page: str | None = "data") -> None:
    """A helpful empty state: what is missing and where to go next."""
    st.info(message, icon=":material/info:")
    if page is not None:
        page_link(page, label=f"Go to the {PAGES[page][1]} page")


def downloads(df: pd.DataFrame, name: str, key: str) -> None:
    """CSV (formula-escaped) and Parquet download buttons for one table."""
    left, right = st.columns(2, width=360)
    left.download_button(
        "CSV",
        api.to_csv_bytes(df),
        f"{name}.csv",
        "text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    right.download_button(
        "Parquet",
        api.to_parquet_bytes(df),
        f"{name}.parquet",
        "application/octet-stream",
        key=f"{key}_parquet",
        on_click="ignore",
        icon=":material/download:",
    )


def table(df: pd.DataFrame, name: str, *, empty: str, **config: Any) -> None:
    """A table (cells are text, never HTML) with its downloads, or ``empty`` when it has no rows."""
    if df.empty:
        st.caption(empty)
        return
    st.dataframe(df, hide_index=True, **config)
    downloads(df, name, key=f"dl_{name}")


# --- login ----------------------------------------------------------------------------------------


def _auth_settings() -> dict[str, Any] | None:
    try:
        auth = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets.toml: login is off
        return None
    return dict(auth) if auth else None


def secret(name: str) -> str | None:
    """A top-level string in ``.streamlit/secrets.toml`` (None without the file or the key)."""
    try:
        value = st.secrets.get(name)
    except FileNotFoundError:  # no secrets.toml
        return None
    return value if isinstance(value, str) else None


def login_required() -> bool:
    """True when ``[auth]`` is configured in the secrets and nobody is logged in yet."""
    return _auth_settings() is not None and not st.user.get("is_logged_in", False)


def login_screen() -> None:
    """The only page shown until the user logs in through the configured provider."""
    auth = _auth_settings() or {}
    providers = [name for name, value in auth.items() if hasattr(value, "keys")]
    provider = None if "client_id" in auth or not providers else providers[0]
    st.title("CAPI Signal Desk")
    st.write("This dashboard needs a login.")
    st.button("Log in", on_click=st.login, args=(provider,), type="primary", key="login")


def logout_button() -> None:
    """A logout button in the sidebar when someone is logged in."""
    if _auth_settings() is not None and st.user.get("is_logged_in", False):
        st.sidebar.button("Log out", on_click=st.logout, key="logout")


# --- uploads --------------------------------------------------------------------------------------


@contextmanager
def upload_on_disk(file: Any) -> Iterator[Path]:
    """An uploaded file's bytes as a file (readers take paths) in a private temporary folder, for the
    ``with`` block only: the folder is deleted when the block ends, whatever the outcome (success, a
    CapiDeskError, any exception, ``st.stop``). Uploads hold raw exports (raw emails): nothing of them
    stays on disk between runs, after an ingest or after the dashboard exits."""
    with tempfile.TemporaryDirectory(prefix="capi-upload-") as folder:
        target = Path(folder) / api.safe_file_name(file.name)
        target.write_bytes(file.getvalue())
        yield target
