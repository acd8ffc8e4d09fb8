"""Dashboard page timings on a ~1 M-event store: the "every page and filter change under 1 s" goal.

Owns: getting a private copy of a cached benchmark store, driving every page through Streamlit's
``AppTest`` (first load with cold caches, a rerun, the page's own typical widget, the sidebar filters),
timing each ``AppTest.run()`` (wall time, and the process's CPU time, steadier on a shared machine),
attributing the time to the core calls and named store queries it made, and printing a Markdown table;
with ``--repeat N`` every page is measured N times and each step's median run is reported. "Cold
caches" empties Streamlit's data caches and the core's memoized results at each page's first load.
Must not: write into ``benchmarks/out/`` (it only reads and copies a store from there; another run may
be writing it), change any page, or compute a metric itself.

    .venv/bin/python benchmarks/pages.py                       # newest finished 100k-order store
    .venv/bin/python benchmarks/pages.py --store some.duckdb --pages overview,data
    .venv/bin/python benchmarks/pages.py --repeat 3                 # medians of 3 runs (the README's)
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import io
import os
import platform
import pstats
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `ui` is imported from the repo, as app.py imports it

from streamlit.runtime.scriptrunner import script_runner  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from capi_core import dashboard_api, inspector  # noqa: E402
from capi_core import store as store_module  # noqa: E402
from capi_core.metrics import dedup, memo  # noqa: E402
from capi_core.store import Store  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
APP = ROOT / "app.py"
TIMEOUT = 900  # one AppTest run may compute several reports over the whole store
GOAL = 1.0  # seconds: the dashboard issue's target for every page and filter change
#: page key -> page file (as st.navigation names it)
PAGES = {
    "overview": "pages/overview.py",
    "deduplication": "pages/deduplication.py",
    "reconciliation": "pages/reconciliation.py",
    "signal_quality": "pages/signal_quality.py",
    "weekly_drift": "pages/weekly_drift.py",
    "lead_quality": "pages/lead_quality.py",
    "meta_view": "pages/meta_view.py",
    "inspector": "pages/inspector.py",
    "contracts": "pages/contracts.py",
    "data": "pages/data.py",
}
#: Core functions the pages call directly (outside the cached wrappers), timed by attribute patching.
DIRECT_CALLS: list[tuple[Any, str]] = [
    (dashboard_api, "data_version"),
    (dashboard_api, "batch_history"),
    (dashboard_api, "quarantine"),
    (dashboard_api, "to_csv_bytes"),
    (dashboard_api, "to_parquet_bytes"),
    (dashboard_api, "value_deltas"),
    (inspector, "search"),
    (inspector, "dedup_outcomes"),
    (inspector, "compare_copies"),
    (dedup, "failure_reasons"),
    (dedup, "would_be_pairs"),
]


# ----------------------------------------------------------------------------------------- the store


@dataclass(frozen=True)
class Sample:
    """What the interactions need from the store: its size and values to filter or search by."""

    events: int
    orders: int
    first_day: dt.date
    last_day: dt.date
    pixel: str | None
    event_name: str | None
    order_id: str | None


def finished_stores() -> list[Path]:
    """Cached 100k-order stores whose run marked them finished, newest first."""
    found = [p for p in (OUT / "stores").glob("orders-100000-*.duckdb") if Path(f"{p}.complete").exists()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def wait_for_store(minutes: float) -> Path | None:
    """Poll for a finished 100k store (a running benchmark may be building one)."""
    deadline = time.monotonic() + minutes * 60
    while True:
        found = finished_stores()
        if found or time.monotonic() >= deadline:
            return found[0] if found else None
        print("waiting for a finished 100k store under benchmarks/out/stores/ …", flush=True)
        time.sleep(30)


def build_from_files(target: Path) -> None:
    """Fallback: ingest a cached 100k shop (several minutes) into ``target``."""
    from capi_core.demo_store import ingest_demo_files

    folders = sorted((OUT / "data").glob("orders-100000-*"), key=lambda p: p.stat().st_mtime)
    folders = [f for f in folders if (f / ".complete").exists()]
    if not folders:
        raise SystemExit("no finished 100k store or shop under benchmarks/out/; run benchmarks/run.py first")
    target.unlink(missing_ok=True)
    with Store(target) as store:
        for line in ingest_demo_files(store, folders[-1]):
            print(line, flush=True)


def private_copy(source: Path, work: Path) -> Path:
    """Copy ``source`` (and its WAL) into ``work`` unless an identical copy is there; return the copy."""
    work.mkdir(parents=True, exist_ok=True)
    target = work / "store.duckdb"
    stamp = work / "store.source"
    wanted = f"{source.resolve()} {source.stat().st_mtime_ns} {source.stat().st_size}"
    if target.exists() and stamp.exists() and stamp.read_text() == wanted:
        return target
    target.unlink(missing_ok=True)
    Path(f"{target}.wal").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    if Path(f"{source}.wal").exists():
        shutil.copyfile(f"{source}.wal", f"{target}.wal")
    stamp.write_text(wanted)
    return target


def prepare(path: Path) -> Sample:
    """Open the copy once (migrations and a derived-table rebuild happen here, not in a timed run)."""
    start = time.perf_counter()
    with Store(path) as store:
        opened = time.perf_counter() - start
        events = int(store.query("count events", "select count(*) from events").scalar())
        orders = int(store.query("count truth", "select count(*) from truth").scalar())
        first, last = dashboard_api.date_bounds(store)  # what the sidebar's date input starts from
        if first is None or last is None:
            raise SystemExit(f"{path} holds no events")
        pixel = store.query(
            "busiest pixel",
            "select pixel_id from events where pixel_id is not null "
            "group by 1 order by count(*) desc limit 1",
        ).scalar()
        name = store.query(
            "event name",
            "select coalesce(max(event_name) filter (where event_name = 'Purchase'), max(event_name)) "
            "from events",
        ).scalar()
        # an order in the middle of the store that has copies: what a user pastes into the inspector
        order = store.query(
            "order id",
            "select order_id from events where order_id is not null and channel = 'server' "
            "order by fingerprint limit 1 offset 1000",
        ).scalar()
    print(f"store opened and prepared in {opened:.1f} s: {events:,} events, {orders:,} backend records")
    return Sample(events, orders, first, last, pixel, name, order)


# ------------------------------------------------------------------------------------ attribution


@dataclass
class Spent:
    """Seconds spent during one run: outermost core calls, and named store queries."""

    calls: dict[str, float] = field(default_factory=dict)
    queries: dict[str, float] = field(default_factory=dict)
    depth: int = 0

    def add(self, table: dict[str, float], name: str, seconds: float) -> None:
        table[name] = table.get(name, 0.0) + seconds


SPENT = Spent()
PROFILE: dict[str, cProfile.Profile | None] = {"current": None}


def profile_scripts() -> None:
    """Profile each script run in its own thread (AppTest runs the page outside the caller's thread)."""
    execute = script_runner.exec_func_with_error_handling  # type: ignore[attr-defined]

    def profiled(*args: Any, **kwargs: Any) -> Any:
        profile = PROFILE["current"]
        return execute(*args, **kwargs) if profile is None else profile.runcall(execute, *args, **kwargs)

    script_runner.exec_func_with_error_handling = profiled  # type: ignore[attr-defined]


def profile_summary(profile: cProfile.Profile, lines: int = 12) -> str:
    """The functions where the run spent its own time (tottime), most first."""
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(lines)
    body = out.getvalue()
    return body[body.find("   ncalls") :].rstrip()


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        SPENT.depth += 1
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT.depth -= 1
            if SPENT.depth == 0:  # only outermost calls, so the figures add up
                SPENT.add(SPENT.calls, name, time.perf_counter() - start)

    return wrapper


def instrument() -> None:
    """Time the cached wrappers' core calls (on a cache miss), the direct core calls and every query."""
    from ui import cached

    for name, fn in list(cached._CALLS.items()):
        cached._CALLS[name] = _timed(f"cached.{name}", fn)
    for module, attr in DIRECT_CALLS:
        short = module.__name__.rsplit(".", 1)[-1]
        setattr(module, attr, _timed(f"{short}.{attr}", getattr(module, attr)))
    run = store_module._run

    def timed_run(cursor: Any, name: str, sql: str, params: dict[str, Any] | None) -> Any:
        start = time.perf_counter()
        try:
            return run(cursor, name, sql, params)
        finally:
            SPENT.add(SPENT.queries, name, time.perf_counter() - start)

    store_module._run = timed_run


# ------------------------------------------------------------------------------------- interactions


@dataclass
class Step:
    """One timed ``AppTest.run()``."""

    page: str
    kind: str  # first | rerun | widget | filter
    label: str
    seconds: float
    cpu: float  # process CPU seconds (every thread, DuckDB's too): steadier than wall time on a busy machine
    calls: dict[str, float]
    queries: dict[str, float]
    error: str | None = None
    profile: str | None = None

    def top(self, table: dict[str, float], count: int = 1) -> str:
        """The ``count`` entries of ``table`` with the most seconds, most first."""
        ranked = sorted(table.items(), key=lambda item: -item[1])[:count]
        return ", ".join(f"`{name}` {seconds:.2f}" for name, seconds in ranked) or "—"


def clear_caches() -> None:
    """Empty Streamlit's data caches and the core's memoized results (the store handle stays open, as in
    a running server), so each page's first load and filter changes compute what they show themselves."""
    import streamlit as st

    st.cache_data.clear()
    memo.clear()


def timed_run(app: AppTest, page: str, kind: str, label: str, act: Callable[[AppTest], Any]) -> Step:
    """Apply ``act`` (which must end in ``.run()``) and record its wall time and attribution."""
    SPENT.calls, SPENT.queries, SPENT.depth = {}, {}, 0
    if PROFILE["current"] is not None:
        PROFILE["current"] = cProfile.Profile()
    start, cpu_start = time.perf_counter(), time.process_time()
    error = None
    try:
        act(app)
    except Exception as err:  # a missing widget or a timeout: report it and go on
        error = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if error is None and len(app.exception):
        error = str(app.exception[0].message).splitlines()[0]
    step = Step(page, kind, label, seconds, cpu, dict(SPENT.calls), dict(SPENT.queries), error)
    if PROFILE["current"] is not None and seconds >= GOAL:
        step.profile = profile_summary(PROFILE["current"])
    flag = f"  ERROR {error}" if error else ""
    print(f"{page:15} {label:32} {seconds:7.2f} s {cpu:6.2f} cpu s  {step.top(step.calls)}{flag}", flush=True)
    return step


def page_widgets(sample: Sample) -> dict[str, list[tuple[str, Callable[[AppTest], Any]]]]:
    """Each page's own typical interaction(s), run on the whole store before any filter."""

    def search(app: AppTest) -> AppTest:
        app.text_input(key="inspector_text").input(sample.order_id or "")
        app.selectbox(key="inspector_kind").set_value("order_id")
        return app.button(key="inspector_go").click().run()

    return {
        "deduplication": [("open another pair", lambda a: a.selectbox(key="dedup_pair").set_value(1).run())],
        "reconciliation": [
            ("period day -> week", lambda a: a.radio(key="recon_grain").set_value("week").run()),
            ("verdict filter", lambda a: a.selectbox(key="recon_verdict").select_index(2).run()),
        ],
        "signal_quality": [
            ("what-if slider 100 -> 50", lambda a: a.slider(key="whatif_level").set_value(50).run())
        ],
        "inspector": [("search an order id", search)],
    }


def filters(sample: Sample) -> list[tuple[str, Callable[[AppTest], Any]]]:
    """The sidebar filter changes, applied one after another (a user narrowing down)."""
    week = (max(sample.first_day, sample.last_day - dt.timedelta(days=6)), sample.last_day)
    return [
        ("date toggle off (full range)", lambda a: a.toggle(key="filter_all_dates").set_value(False).run()),
        ("one week", lambda a: a.date_input(key="filter_dates").set_value(week).run()),
        (f"pixel {sample.pixel}", lambda a: a.selectbox(key="filter_pixel").set_value(sample.pixel).run()),
        (f"event {sample.event_name}", lambda a: a.multiselect(key="filter_events")
         .set_value([sample.event_name]).run()),
    ]  # fmt: skip


def measure_page(key: str, sample: Sample) -> Iterator[Step]:
    """First load (cold data caches), rerun, the page's own widgets, then the sidebar filters."""
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if key == "overview":  # the default page: the app's first run is its first load
        clear_caches()
        yield timed_run(app, key, "first", "first load (cold caches)", lambda a: a.run())
    else:
        app.run()  # lands on Overview (its report may still be cached from the previous page)
        clear_caches()
        yield timed_run(
            app, key, "first", "first load (cold caches)", lambda a: a.switch_page(PAGES[key]).run()
        )
    yield timed_run(app, key, "rerun", "rerun", lambda a: a.run())
    for label, act in page_widgets(sample).get(key, []):
        yield timed_run(app, key, "widget", label, act)
    for label, act in filters(sample):
        yield timed_run(app, key, "filter", label, act)


# ------------------------------------------------------------------------------------------- report


def medians(runs: list[list[Step]]) -> list[Step]:
    """One step per (page, step label): the run with the median wall time (the busy machine is noisy)."""
    grouped: dict[tuple[str, str], list[Step]] = {}
    for run in runs:
        for step in run:
            grouped.setdefault((step.page, step.label), []).append(step)
    return [sorted(same, key=lambda s: s.seconds)[(len(same) - 1) // 2] for same in grouped.values()]


def _slowest(steps: list[Step], kind: str) -> tuple[str, str]:
    chosen = [s for s in steps if s.kind == kind]
    if not chosen:
        return "—", "—"
    step = max(chosen, key=lambda s: s.seconds)
    return f"{step.seconds:.2f}", step.label


def _mark(seconds: float) -> str:
    return f"{seconds:.2f}" + (" ⚠" if seconds >= GOAL else "")


def markdown(
    steps: list[Step], sample: Sample, store_name: str, loads: tuple[str, str], repeat: int = 1
) -> str:
    """The summary table per page, then every step with the core call and query that dominate it."""
    lines = [
        "# Dashboard page timings",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · {platform.platform()} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()} · store `{store_name}`: {sample.events:,} events, "
        f"{sample.orders:,} backend records ({sample.first_day} to {sample.last_day}).",
        f"Load average (1/5/15 min) before: {loads[0]}; after: {loads[1]}. Goal: under {GOAL:.0f} s "
        "after the first load (⚠ marks a miss). "
        + (f"Each step: the median of {repeat} runs." if repeat > 1 else "One run per step."),
        "",
        "| page | first load s | rerun s | own widget s | which | slowest filter change s | which |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for key in dict.fromkeys(s.page for s in steps):
        mine = [s for s in steps if s.page == key]
        first = next((s for s in mine if s.kind == "first"), None)
        rerun = next((s for s in mine if s.kind == "rerun"), None)
        widget, widget_label = _slowest(mine, "widget")
        worst, worst_label = _slowest(mine, "filter")
        loaded = f"{first.seconds:.2f}" if first else "—"
        again = _mark(rerun.seconds) if rerun else "—"
        lines.append(f"| {key} | {loaded} | {again} | {widget} | {widget_label} | {worst} | {worst_label} |")
    lines += [
        "",
        "Every step (filters are cumulative; time in outermost core calls / named store queries, "
        "the rest is Streamlit, pandas and plotly rendering):",
        "",
        "| page | step | s | cpu s | in core calls s | top core calls s | top query s | error |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for s in steps:
        lines.append(
            f"| {s.page} | {s.label} | {_mark(s.seconds)} | {s.cpu:.2f} | {sum(s.calls.values()):.2f} | "
            f"{s.top(s.calls, 3)} | {s.top(s.queries)} | {s.error or ''} |"
        )
    for s in steps:
        if s.profile:
            lines += ["", f"## Profile: {s.page}, {s.label} ({s.seconds:.2f} s, profiled)", "", "```"]
            lines += [s.profile, "```"]
    return "\n".join(lines) + "\n"


def _load() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a .duckdb to copy (default: newest finished 100k store)")
    parser.add_argument(
        "--work", type=Path, default=Path("/tmp/capi-pages-bench"), help="where the copy goes"
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/pages.md"), help="the Markdown result")
    parser.add_argument("--wait-minutes", type=float, default=15.0, help="poll this long for a store")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page keys")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile every run over the goal (slows Python code)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure every page this many times and keep each step's median"
    )
    args = parser.parse_args(argv)

    source = args.store or wait_for_store(args.wait_minutes)
    if source is None:
        path = args.work / "store.duckdb"
        args.work.mkdir(parents=True, exist_ok=True)
        build_from_files(path)
        source_name = "ingested from benchmarks/out/data (100k orders)"
    else:
        path = private_copy(source, args.work)
        source_name = source.name
    sample = prepare(path)

    os.environ["CAPI_DESK_DB"] = str(path)
    # As tests/app/conftest.py: a folder named pages/ beside app.py puts AppTest in legacy multipage mode
    # on every run; a live server leaves it after its first st.navigation call.
    script_runner.PagesManager = SimpleNamespace(uses_pages_directory=False)  # type: ignore[attr-defined,assignment]
    instrument()
    if args.profile:
        profile_scripts()
        PROFILE["current"] = cProfile.Profile()

    before = _load()
    start = time.perf_counter()
    AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()  # imports, store handle: not per page
    print(f"process warm-up (imports, store open, Overview): {time.perf_counter() - start:.2f} s")
    runs: list[list[Step]] = []
    for _ in range(max(args.repeat, 1)):
        for key in args.pages.split(","):
            runs.append(list(measure_page(key.strip(), sample)))
    steps = medians(runs)
    text = markdown(steps, sample, source_name, (before, _load()), max(args.repeat, 1))
    args.out.write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
