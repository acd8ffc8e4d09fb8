"""The benchmark: ingest speed, full-report time and peak memory at several shop sizes, against pandas.

For each size (number of orders) the demo shop is generated once with ``capi_core.demo`` and cached in
``--out``; every measurement then runs in a fresh subprocess of this script (``--measure``), so its peak
RSS (``ru_maxrss`` of that process, which includes DuckDB's memory) is its own. Measurements:

* ``ingest``: each of the three files into a new store, in the order a user would load them (orders,
  server, browser); the server JSONL's rate in events/s is the SPEC §7 figure;
* ``report``: ``build_report`` over the whole store;
* ``pandas``: ``benchmarks/pandas_baseline.py`` on the same three files; its headline figures are compared
  with the report's and a warning is printed when they disagree.

``--events-only N`` builds a store with at least N events for the "full report over 10 M events" target by
replicating an ingested shop inside DuckDB (see README.md for the method) and times the report on it.

Usage: ``python benchmarks/run.py [--sizes 10000,100000,1000000] [--out benchmarks/out]
[--skip-pandas-above N] [--events-only N [--base-orders M]]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

FILES: tuple[tuple[str, str], ...] = (
    ("orders", "orders_export.csv"),
    ("server", "capi_log.jsonl"),
    ("browser", "pixel_beacons.txt"),
)
HEADLINE_EVENT = "Purchase"
SLOWEST = 8  # named queries listed per report measurement


class MeasureError(RuntimeError):
    """A measurement subprocess failed (its stderr has been shown)."""


# ------------------------------------------------------------------------------ measured (child side)


def _peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes; the benchmark targets Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure_ingest(args: argparse.Namespace) -> dict[str, Any]:
    from capi_core import derived
    from capi_core.ingest import ingest_file
    from capi_core.store import Store

    derived_s = 0.0
    update = derived.update

    def timed_update(*positional: Any, **named: Any) -> None:
        nonlocal derived_s
        begun = time.perf_counter()
        try:
            update(*positional, **named)
        finally:
            derived_s += time.perf_counter() - begun

    derived.update = timed_update  # type: ignore[assignment]
    with Store(args.db) as store:
        start = time.perf_counter()
        result = ingest_file(store, Path(args.file), args.source)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows_read": result.rows_read, "rows_stored": result.rows_stored,
            "rows_quarantined": result.rows_quarantined, "derived_s": derived_s}  # fmt: skip


def _measure_derive(args: argparse.Namespace) -> dict[str, Any]:
    """Recompute the derived tables (the dedup model) alone: the share of ingest time it takes."""
    from capi_core import derived
    from capi_core.store import Store

    with Store(args.db) as store:
        start = time.perf_counter()
        with store.transaction() as tx:
            derived.refresh(tx)
        return {"seconds": time.perf_counter() - start}


def _timed_queries() -> dict[str, float]:
    """Seconds spent per named store query from now on (wraps the store's one query chokepoint)."""
    from capi_core import store as store_module

    spent: dict[str, float] = {}
    run_query = store_module._run

    def timed(cursor: Any, name: str, sql: str, params: Any) -> Any:
        start = time.perf_counter()
        try:
            return run_query(cursor, name, sql, params)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

    store_module._run = timed  # type: ignore[assignment]
    return spent


def _measure_report(args: argparse.Namespace) -> dict[str, Any]:
    from capi_core.models import Scope
    from capi_core.report import build_report
    from capi_core.store import Store

    with Store(args.db, read_only=True) as store:
        events = int(store.query("count events", "select count(*) from events").scalar())
        truth = int(store.query("count truth", "select count(*) from truth").scalar())
        spent = _timed_queries()
        start = time.perf_counter()
        report = build_report(store, Scope())
        seconds = time.perf_counter() - start
    slowest = dict(sorted(spent.items(), key=lambda item: -item[1])[:SLOWEST])
    return {"seconds": seconds, "events": events, "truth": truth, "headline": engine_headline(report),
            "queries": len(spent), "slowest_queries": slowest}  # fmt: skip


def _measure_pandas(args: argparse.Namespace) -> dict[str, Any]:
    from dataclasses import asdict

    import pandas_baseline

    start = time.perf_counter()
    result = pandas_baseline.run(Path(args.folder))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "headline": baseline_headline(asdict(result))}


def _measure_replicate(args: argparse.Namespace) -> dict[str, Any]:
    import replicate

    start = time.perf_counter()
    stats = replicate.replicate(Path(args.db), args.factor)
    return {"seconds": time.perf_counter() - start, **stats}


MEASURES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "ingest": _measure_ingest,
    "derive": _measure_derive,
    "report": _measure_report,
    "pandas": _measure_pandas,
    "replicate": _measure_replicate,
}


# ----------------------------------------------------------------------------------- headline figures


def engine_headline(report: Any) -> dict[str, Any]:
    """The compared figures of Purchase from a Report: dedup (exact name) and reconciliation (variants)."""
    dump = report.model_dump(mode="json")
    # The report's dedup block has one row per pixel and event name: Purchase is summed over pixels.
    dedup = [d for d in dump.get("dedup", []) if d.get("event_name") == HEADLINE_EVENT]
    recon = next((r for r in dump.get("reconciliation", []) if r.get("event_name") == HEADLINE_EVENT), {})
    return {
        "estimated_meta_count": sum(d["estimated_meta_count"] for d in dedup),
        "merged_pairs": sum(d["merged_pairs"] for d in dedup),
        "join_key": recon.get("join_key"),
        "meta_count": recon.get("meta_count"),
        "verdicts": recon.get("verdicts"),
    }


def baseline_headline(result: dict[str, Any]) -> dict[str, Any]:
    """The same figures from the pandas baseline's result."""
    return {
        "estimated_meta_count": result["estimated_meta_count"].get(HEADLINE_EVENT, 0),
        "merged_pairs": result["merged_pairs"].get(HEADLINE_EVENT, 0),
        "join_key": result["join_key"],
        "meta_count": result["meta_count"],
        "verdicts": result["verdicts"],
    }


# ------------------------------------------------------------------------------------- harness (parent)


def _child(kind: str, **options: Any) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its JSON answer plus its own peak RSS."""
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", kind]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise MeasureError(f"measurement {kind} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _optional_child(kind: str, **options: Any) -> dict[str, Any] | None:
    """A measurement whose failure is reported and leaves a gap in the table instead of ending the run."""
    try:
        return _child(kind, **options)
    except MeasureError as err:
        print(f"WARNING: {err}", file=sys.stderr)
        return None


def demo_version() -> str:
    """A short hash of the demo generator's source: cached shops from other generator code are not reused."""
    import capi_core.demo

    digest = hashlib.sha256()
    for source in sorted(Path(capi_core.demo.__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:10]


def shop_folder(out: Path, orders: int, seed: int, *, later_week: bool = False) -> Path:
    """The cached demo files for ``orders`` (generated on first use).

    ``later_week``: a one-week shop in the week after the demo period (new events for a grown store).
    """
    from capi_core.demo import DemoConfig, generate, scaled_config

    config = scaled_config(orders, seed)
    prefix = "orders"
    if later_week:
        start = config.start + dt.timedelta(weeks=config.weeks)
        config = DemoConfig(
            seed=seed, orders=orders, start=start, weeks=1, deploy_day=start + dt.timedelta(days=2)
        )
        prefix = f"week-{start.isoformat()}"
    folder = out / "data" / f"{prefix}-{orders}-seed-{seed}-demo-{demo_version()}"
    if (folder / ".complete").exists():
        return folder

    building = folder.with_name(folder.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    start = time.perf_counter()
    generate(building, config)
    print(f"  generated {orders:,} orders in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    (building / ".complete").write_text("ok\n")
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    return folder


def build_store(out: Path, folder: Path, name: str) -> tuple[Path, dict[str, dict[str, Any]]]:
    """A fresh store with the three files ingested, one subprocess per file; the per-file measurements."""
    db = out / "stores" / f"{name}.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in (db, Path(f"{db}.wal"), Path(f"{db}.complete")):
        stale.unlink(missing_ok=True)
    ingests = {}
    for source, file_name in FILES:
        ingests[source] = _child("ingest", db=db, file=folder / file_name, source=source)
        took = ingests[source]
        print(f"  ingest {source}: {took['rows_read']:,} rows in {took['seconds']:.2f} s", file=sys.stderr)
    Path(f"{db}.complete").write_text(json.dumps(ingests), encoding="utf-8")
    return db, ingests


def _store_name(orders: int, seed: int) -> str:
    return f"orders-{orders}-seed-{seed}-demo-{demo_version()}"


def compare(engine: dict[str, Any], baseline: dict[str, Any], label: str) -> bool:
    """True when the headline figures agree; prints a warning naming each difference otherwise."""
    diffs = [
        f"{key}: engine {engine.get(key)!r} != pandas {baseline.get(key)!r}"
        for key in engine
        if engine.get(key) != baseline.get(key)
    ]
    for diff in diffs:
        print(f"WARNING [{label}] pandas baseline disagrees with the engine: {diff}", file=sys.stderr)
    return not diffs


def bench_size(args: argparse.Namespace, orders: int) -> dict[str, Any]:
    """Every measurement at one size; one row of the results table."""
    print(f"size {orders:,} orders", file=sys.stderr)
    folder = shop_folder(args.out, orders, args.seed)
    db, ingests = build_store(args.out, folder, _store_name(orders, args.seed))
    derive = _child("derive", db=db)
    report = _optional_child("report", db=db)
    if report:
        print(f"  report: {report['seconds']:.2f} s, peak {report['peak_rss_mb']:.0f} MB", file=sys.stderr)
    row: dict[str, Any] = {
        "orders": orders,
        "events": ingests["server"]["rows_stored"] + ingests["browser"]["rows_stored"],
        "ingest": ingests, "derive_s": derive["seconds"], "report": report, "pandas": None, "agree": None,
    }  # fmt: skip
    if args.skip_pandas_above is None or orders <= args.skip_pandas_above:
        pandas = _child("pandas", folder=folder)
        print(f"  pandas: {pandas['seconds']:.2f} s, peak {pandas['peak_rss_mb']:.0f} MB", file=sys.stderr)
        row["pandas"] = pandas
        if report:
            row["agree"] = compare(report["headline"], pandas["headline"], f"{orders:,} orders")
    return row


def bench_events_only(args: argparse.Namespace) -> dict[str, Any]:
    """A store of at least ``--events-only`` events built by replication, and the report over it."""
    import replicate

    folder = shop_folder(args.out, args.base_orders, args.seed)
    base_db = args.out / "stores" / f"{_store_name(args.base_orders, args.seed)}.duckdb"
    if not Path(f"{base_db}.complete").exists():
        base_db, _ = build_store(args.out, folder, _store_name(args.base_orders, args.seed))
    # The size run's store is reused (copied) when present: replication starts from the ingested shop.
    db = args.out / "stores" / f"replicated-{args.events_only}.duckdb"
    Path(f"{db}.wal").unlink(missing_ok=True)
    shutil.copyfile(base_db, db)
    base = replicate.count_events(db)
    factor = max(1, math.ceil(args.events_only / base))
    print(f"  replicating {base:,} events x{factor}", file=sys.stderr)
    grown = _child("replicate", db=db, factor=factor)
    print(
        f"  replicated in {grown['seconds']:.1f} s (dedup model {grown['derive_s']:.1f} s)", file=sys.stderr
    )
    report = _child("report", db=db)
    print(f"  report: {report['seconds']:.2f} s, peak {report['peak_rss_mb']:.0f} MB", file=sys.stderr)
    added = _add_week(args, db) if args.add_orders else None
    return {"base_orders": args.base_orders, "factor": factor, "replicate": grown, "report": report,
            "added": added}  # fmt: skip


def _add_week(args: argparse.Namespace, db: Path) -> dict[str, Any]:
    """Ingest the next week of another shop (``--add-orders`` orders) into a copy of the grown store.

    What a daily cron job pays: its new files read and stored, and the derived tables brought up to date
    over the whole store (incrementally: derived.update).
    """
    folder = shop_folder(args.out, args.add_orders, args.seed + 1, later_week=True)
    grown = db.with_name(db.stem + "-plus-week.duckdb")
    Path(f"{grown}.wal").unlink(missing_ok=True)
    shutil.copyfile(db, grown)
    ingests = {}
    for source, file_name in FILES:
        took = _child("ingest", db=grown, file=folder / file_name, source=source)
        ingests[source] = took
        print(
            f"  add {source}: {took['rows_stored']:,} rows in {took['seconds']:.2f} s "
            f"(derived tables {took['derived_s']:.2f} s)",
            file=sys.stderr,
        )
    grown.unlink()
    Path(f"{grown}.wal").unlink(missing_ok=True)
    return ingests


def _events_only_text(result: dict[str, Any]) -> str:
    return events_only_table(result) + slowest_queries([{"orders": result["base_orders"] * result["factor"],
                                                         "report": result["report"]}])  # fmt: skip


# ------------------------------------------------------------------------------------------- rendering


def _fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def results_table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of one run."""
    lines = [
        "| orders | events | ingest s (orders / server / browser) | server events/s | dedup model s "
        "| report s | report peak RSS MB | ingest peak RSS MB | pandas s | pandas peak RSS MB "
        "| speedup x (pandas / report) | speedup x (pandas / ingest+report) | figures agree |",
        "|" + "---|" * 13,
    ]
    for row in rows:
        ingest, report, pandas = row["ingest"], row["report"], row["pandas"]
        ingest_s = sum(step["seconds"] for step in ingest.values())
        report_s = report["seconds"] if report else None
        pandas_s = pandas["seconds"] if pandas else None
        both = pandas_s is not None and report_s is not None
        cells = [
            f"{row['orders']:,}",
            f"{row['events']:,}",
            " / ".join(_fmt_s(ingest[s]["seconds"]) for s, _ in FILES),
            f"{ingest['server']['rows_read'] / ingest['server']['seconds']:,.0f}",
            _fmt_s(row["derive_s"]),
            _fmt_s(report_s),
            f"{report['peak_rss_mb']:,.0f}" if report else "-",
            f"{max(step['peak_rss_mb'] for step in ingest.values()):,.0f}",
            _fmt_s(pandas_s),
            f"{pandas['peak_rss_mb']:,.0f}" if pandas else "-",
            f"{pandas_s / report_s:.1f}" if both else "-",
            f"{pandas_s / (ingest_s + report_s):.2f}" if both else "-",
            {None: "-", True: "yes", False: "NO"}[row["agree"]],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def slowest_queries(rows: list[dict[str, Any]]) -> str:
    """The report's slowest named queries at the largest size measured (where to look first)."""
    measured = [row for row in rows if row["report"]]
    if not measured:
        return ""
    row = measured[-1]
    lines = [
        "",
        "",
        f"Slowest report queries at {row['orders']:,} orders (seconds, summed per query name):",
        "",
    ]
    lines += [f"- `{name}`: {seconds:.2f}" for name, seconds in row["report"]["slowest_queries"].items()]
    return "\n".join(lines)


def events_only_table(result: dict[str, Any]) -> str:
    """The Markdown table of an ``--events-only`` run."""
    report = result["report"]
    return "\n".join(
        [
            "| events | truth records | base orders x factor | replicate + dedup model s "
            "| report s | report peak RSS MB |",
            "|---|---|---|---|---|---|",
            f"| {report['events']:,} | {report['truth']:,} | {result['base_orders']:,} x {result['factor']} "
            f"| {result['replicate']['seconds']:.1f} | {report['seconds']:.2f} "
            f"| {report['peak_rss_mb']:,.0f} |",
            *_added_lines(result.get("added")),
        ]
    )


def _added_lines(added: dict[str, Any] | None) -> list[str]:
    if not added:
        return []
    events = sum(added[source]["rows_stored"] for source in ("server", "browser"))
    seconds = sum(took["seconds"] for took in added.values())
    derived_s = sum(took["derived_s"] for took in added.values())
    per_file = " / ".join(f"{added[source]['seconds']:.2f}" for source, _ in FILES)
    peak = max(took["peak_rss_mb"] for took in added.values())
    return [
        "",
        "| added | events added | ingest s (orders / server / browser) | of which derived tables s "
        "| total s | highest ingest peak RSS MB |",
        "|---|---|---|---|---|---|",
        f"| next week of another shop | {events:,} | {per_file} | {derived_s:.2f} | {seconds:.2f} "
        f"| {peak:,.0f} |",
    ]


def _machine() -> str:
    import os
    import platform

    return f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def write_results(out: Path, title: str, table: str, name: str = "results.md") -> None:
    """Print the table and write it (with the machine it ran on) to ``out/<name>``."""
    text = f"# {title}\n\n{_machine()}, {time.strftime('%Y-%m-%d %H:%M')}\n\n{table}\n"
    print(text)
    (out / name).write_text(text, encoding="utf-8")


# ------------------------------------------------------------------------------------------------- cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="orders per shop, comma separated")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="cache, stores and results.md")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-pandas-above", type=int, default=None, help="no pandas run above N orders")
    parser.add_argument("--events-only", type=int, default=None, help="time the report over N events")
    parser.add_argument("--base-orders", type=int, default=100_000, help="shop replicated by --events-only")
    parser.add_argument(
        "--add-orders",
        type=int,
        default=11_600,
        help="with --events-only: then add the next week of a shop this size (~100k events; 0: skip)",
    )
    parser.add_argument(
        "--add-only",
        action="store_true",
        help="with --events-only: only add the next week, to the store an earlier run grew",
    )
    child = parser.add_argument_group("internal (one measurement in this process)")
    child.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    for name in ("db", "file", "source", "folder"):
        child.add_argument(f"--{name}", help=argparse.SUPPRESS)
    child.add_argument("--factor", type=int, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point (see the module docstring)."""
    args = _parser().parse_args(argv)
    if args.measure:
        answer = MEASURES[args.measure](args)
        answer["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(answer, default=str))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    if args.events_only and args.add_only:
        grown = args.out / "stores" / f"replicated-{args.events_only}.duckdb"
        if not grown.exists():
            raise SystemExit(f"{grown} is missing: run the same command without --add-only first")
        print("\n".join(_added_lines(_add_week(args, grown))))
        return
    if args.events_only:
        result = bench_events_only(args)
        (args.out / "results_events_only.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        write_results(
            args.out,
            f"Report over {args.events_only:,}+ events",
            _events_only_text(result),
            "results_events_only.md",
        )
        return
    rows = [bench_size(args, int(size)) for size in args.sizes.split(",") if size.strip()]
    (args.out / "results.json").write_text(json.dumps(rows, indent=2, default=str), encoding="utf-8")
    write_results(args.out, "CAPI Signal Desk benchmark", results_table(rows) + slowest_queries(rows))
    if any(row["agree"] is False for row in rows):
        print("WARNING: the pandas baseline and the engine disagree (see above)", file=sys.stderr)


if __name__ == "__main__":
    main()
