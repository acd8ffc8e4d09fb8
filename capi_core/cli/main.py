"""The ``capi-desk`` command: ingest files, build the demo store, write the report, start the dashboard.

Exit codes: 0 ok; 1 a finding at or above ``--fail-on``; 2 bad usage or unreadable input (one line on
stderr, store unchanged). Errors of capi_core (``CapiDeskError``) are turned into that one line here and
nowhere else; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capi_core import __version__
from capi_core.cli.common import (
    DEFAULT_WAIT,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    SEVERITIES,
    check_report_out,
    open_store,
    parse_date,
    scope_from,
    write_out,
)
from capi_core.config import ENV_DB, ENV_ENGINE, ENV_SPARK_PATH, ENV_SPARK_REMOTE, DeskConfig
from capi_core.engines import engine_name
from capi_core.errors import CapiDeskError, InputError, MappingError, StoreBusyError
from capi_core.store import DEFAULT_DB, PROJECT_ROOT, Store, default_db_path

if TYPE_CHECKING:
    from capi_core.ingest import IngestResult
    from capi_core.readers import ReadOptions


_EPILOG = """\
examples:
  capi-desk demo                                   build the demo store (data/demo.duckdb)
  capi-desk --db /tmp/demo.duckdb demo --files demo-files   ... and keep its input files to practise on
  capi-desk --db shop.duckdb ingest --source orders orders_export.csv
  capi-desk --db shop.duckdb ingest --source server capi_log.jsonl
  capi-desk --db shop.duckdb ingest --source browser checkout.har pixel_beacons.txt
  capi-desk --db shop.duckdb report                 the Markdown summary (JSON when piped: report > r.json)
  capi-desk --db shop.duckdb report --format md --out report.md
  capi-desk --db shop.duckdb inspect 1042           every copy of order 1042 and its dedup verdicts
  capi-desk --db shop.duckdb pairs                  the pairs Meta counts twice and what differs
  capi-desk --db shop.duckdb report --fail-on high   (exit 1 when a high or critical finding exists)
  capi-desk --db shop.duckdb report --week 2026-W46 --format md   the weekly review an analyst forwards
  capi-desk --db shop.duckdb annotate add 2026-11-04 "checkout redeploy"
  capi-desk --db shop.duckdb ingest --source leads --stage-map 'SQL=qualified' leads.csv
  capi-desk --db shop.duckdb ingest --source meta ads_manager_daily.csv
  capi-desk --db shop.duckdb leads set-event CompleteRegistration   the event that marks a lead
  capi-desk --db shop.duckdb contracts validate
  capi-desk --db shop.duckdb contracts fix --pixel-id ID --out fixed.json   corrected copies to push
  capi-desk sandbox &                              a local stand-in for Meta on 127.0.0.1:8787
  capi-desk push --pixel-id ID --test-event-code TEST123 --events fixed.json --base-url http://127.0.0.1:8787

The store defaults to $CAPI_DESK_DB, else the embedded demo store. Tokens come from $META_ACCESS_TOKEN only.
"""


_INGEST_EPILOG = """\
examples:
  capi-desk --db shop.duckdb ingest --source orders orders_export.csv
  capi-desk --db shop.duckdb ingest --source server capi_log.jsonl lead_capi_log.jsonl
  capi-desk --db shop.duckdb ingest --source browser checkout.har
  capi-desk --db shop.duckdb ingest --source leads --map 'Mail=email' --stage-map SQL=qualified leads.csv

A file already ingested changes nothing; to read it again with other options, `capi-desk undo BATCH_ID`
(see `capi-desk batches`), then ingest it again.
"""
_REPORT_EPILOG = """\
examples:
  capi-desk --db shop.duckdb report                          the Markdown summary (on a terminal)
  capi-desk --db shop.duckdb report > report.json            the JSON (stdout is a file)
  capi-desk --db shop.duckdb report --format html --out report.html
  capi-desk --db shop.duckdb report --from 2026-11-01 --to 2026-11-30 --event Purchase --fail-on high

Without --format: Markdown when stdout is a terminal, JSON when it is a pipe or a file or with --out, so
scripts that read the JSON keep working. Exit 1 only with --fail-on and a finding at or above it.
"""
_DEMO_EPILOG = """\
where everything goes:
  the store     --db (default $CAPI_DESK_DB, else data/demo.duckdb), replaced by the new demo store
  the files     generated in a temporary folder and deleted after the ingest, unless --files DIR keeps
                them: orders_export.csv, crm_leads.csv, capi_log.jsonl, lead_capi_log.jsonl,
                pixel_beacons.txt, lead_beacons.txt, ads_manager_export.csv, dataset_quality_*.json and
                manifest.json (the ground truth of every injected defect)

examples:
  capi-desk demo                                    the demo store the dashboard opens
  capi-desk --db /tmp/demo.duckdb demo --files demo-files --orders 300
  capi-desk --db practice.duckdb ingest --source orders demo-files/orders_export.csv   then practise
"""


def _mapping(items: Sequence[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, target = item.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise MappingError(f"--map {item!r} is not COL=FIELD", hint="e.g. --map 'Order Number=raw_id'")
        mapping[column.strip()] = target.strip()
    return mapping


def _stage_map(items: Sequence[str]) -> dict[str, str]:
    stages: dict[str, str] = {}
    for item in items:
        stage, sep, status = item.rpartition("=")
        if not sep or not stage.strip() or not status.strip():
            raise MappingError(
                f"--stage-map {item!r} is not STAGE=STATUS", hint="e.g. --stage-map 'SQL=qualified'"
            )
        stages[stage.strip()] = status.strip().lower()
    return stages


def _progress_printer(name: str) -> Callable[[int], None] | None:
    """A rich progress line on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    console = Console(stderr=True)
    status = console.status(f"reading {name}")
    status.start()

    def update(rows: int) -> None:
        status.update(f"reading {name}: {rows:,} records")

    def stage(text: str) -> None:
        status.update(f"{name}: {text}")

    update.stop = status.stop  # type: ignore[attr-defined]
    update.stage = stage  # type: ignore[attr-defined]
    return update


@contextmanager
def _removed_if_unused(db: Path) -> Iterator[Callable[[], None]]:
    """Remove the store ``db`` and the folders made for it when the block fails before anything was
    stored (a failed first ingest leaves nothing behind). The block calls the yielded function once
    something is stored. A store that existed before is never touched."""
    new = [db, *(folder for folder in db.parents if not folder.exists())] if not db.exists() else []
    used = False

    def mark_used() -> None:
        nonlocal used
        used = True

    try:
        yield mark_used
    except StoreBusyError:  # never opened: the file is another ingest's
        raise
    except BaseException:
        if new and not used:
            for leftover in (db, Path(f"{db}.wal")):
                leftover.unlink(missing_ok=True)
            for folder in new[1:]:  # innermost first; a folder something else wrote into stays
                with suppress(OSError):
                    folder.rmdir()
        raise


#: The error when the Spark engine is chosen (by flag or environment) without the location of its tables.
SPARK_NEEDS_PATH = f"the Spark engine needs --spark-path (or ${ENV_SPARK_PATH})"


def _spark_location(args: argparse.Namespace, action: str) -> str:
    """The Parquet location ``--spark-path`` names, for a command that writes to it."""
    if not args.spark_path:
        raise InputError(SPARK_NEEDS_PATH, hint="a folder or URI for the Parquet tables")
    if args.spark_path.startswith("table:"):
        raise InputError(
            f"{action} on Spark writes Parquet folders, not catalog tables",
            hint="give --spark-path a folder or URI (e.g. s3a://bucket/capi)",
        )
    return str(args.spark_path)


def _ingest_spark(args: argparse.Namespace, options: ReadOptions) -> int:
    """``ingest`` with ``--engine spark``: each file appended as a batch to the Parquet tables; a folder
    or a glob is each of its files (sorted), one batch and one summary line per file."""
    from capi_core.engines.spark import spark_session
    from capi_core.engines.spark_ingest import expand_paths, ingest_spark, spark_errors

    location = _spark_location(args, "ingest")
    session = spark_session(args.spark_remote)
    hint = "check the file, --format and --spark-path, then ingest again"
    for given in args.files:
        with spark_errors("ingest", hint):
            files = expand_paths(session, given)
        for file_name in files:
            progress = _progress_printer(file_name.rstrip("/").rsplit("/", 1)[-1])
            try:
                with spark_errors(f"ingest of {file_name.rstrip('/').rsplit('/', 1)[-1]}", hint):
                    result = ingest_spark(
                        session, location, file_name, args.source, fmt=args.format, options=options,
                        progress=progress,
                    )  # fmt: skip
            finally:
                if progress is not None:
                    progress.stop()  # type: ignore[attr-defined]
            print(result.summary)
    return EXIT_OK


def cmd_ingest(args: argparse.Namespace) -> int:
    from capi_core.cli.output import IngestProgress
    from capi_core.ingest import ingest_file
    from capi_core.readers import ReadOptions, require_regular_file

    options = ReadOptions(
        column_map=_mapping(args.map or []),
        pixel_id=args.pixel_id,
        default_country=args.country,
        stage_map=_stage_map(args.stage_map or []),
    )
    if getattr(args, "engine", "duckdb") == "spark":
        return _ingest_spark(args, options)
    paths = [Path(name) for name in args.files]
    results = []
    with (
        _removed_if_unused(Path(args.db)) as stored,
        open_store(args, create=True) as store,
        IngestProgress([p.name for p in paths], _sizes(paths)) as bar,
    ):
        if not store.created:  # another ingest made it while this one waited: never this one's to remove
            stored()
        for index, path in enumerate(paths):
            require_regular_file(path)
            for note in _mapping_notes(path, args, options):
                bar.say(f"capi-desk: note: {note}", err=True)
            bar.phases.start(index)
            result = ingest_file(
                store, path, args.source, fmt=args.format, options=options, progress=bar.phases.rows,
                stage=bar.phases.stage,
            )  # fmt: skip
            bar.phases.finish(index)
            stored()
            results.append(result)
            bar.say(_ingest_line(result, _db_flag(args)))
        sources = {batch.source for batch in _batch_history(store)}
    print(ingest_summary(results, sources, _db_flag(args)))
    return EXIT_OK


def _sizes(paths: Sequence[Path]) -> list[int]:
    """Each file's estimated records, to share out the progress bar (only drawn on a terminal)."""
    if not sys.stderr.isatty():
        return [1] * len(paths)
    from capi_core.dashboard_api import estimate_records

    sizes = []
    for path in paths:
        try:
            sizes.append(estimate_records(path))
        except OSError:  # missing or unreadable: its ingest says so in one line
            sizes.append(1)
    return sizes


def _batch_history(store: Store) -> list[Any]:
    from capi_core.dashboard_api import batch_history

    return batch_history(store)


def _db_flag(args: argparse.Namespace) -> str:
    """`` --db PATH`` for a suggested command, unless the store is the default one."""
    return "" if Path(args.db) == default_db_path() else f" --db {shlex.quote(str(args.db))}"


def _ingest_line(result: IngestResult, db_flag: str = "") -> str:
    """A file's summary line; an already-ingested file also says how to read it again differently."""
    line = result.summary
    if result.already_ingested and not result.stage_map_not_applied:
        line += (
            f". To read it again with other options (--format, --map, --country, --stage-map): "
            f"`capi-desk{db_flag} undo {result.batch_id}`, then ingest it again with them"
        )
    return line


def ingest_summary(results: Sequence[IngestResult], sources: set[str], db_flag: str = "") -> str:
    """The last line of ``ingest``: what the files did, and the command to run next.

    ``sources``: the sources of every batch in the store now. The next command is the missing half
    (backend truth, the other channel) while something is missing, else the report.
    """
    new = [r for r in results if not r.already_ingested]
    done = (
        f"{len(new)} of {len(results)} files ingested: {sum(r.rows_stored for r in new):,} records stored, "
        f"{sum(r.rows_quarantined for r in new):,} quarantined"
        if new
        else "nothing new ingested"
    )
    cli = f"capi-desk{db_flag}"
    if not sources & {"orders", "leads"}:
        step = f"add your backend truth: `{cli} ingest --source orders ORDERS.csv` (or --source leads)"
    elif not sources & {"server", "browser"}:
        step = f"add what was sent to Meta: `{cli} ingest --source server CAPI_LOG.jsonl` (and browser)"
    elif "browser" not in sources:
        step = f"add the Pixel side: `{cli} ingest --source browser BEACONS.txt` (or a HAR)"
    elif "server" not in sources:
        step = f"add the Conversions API side: `{cli} ingest --source server CAPI_LOG.jsonl`"
    else:
        step = f"`{cli} report` (Markdown on a terminal) or `{cli} app` for the dashboard"
    return f"{done}; next: {step}"


def _mapping_notes(path: Path, args: argparse.Namespace, options: ReadOptions) -> list[str]:
    """Before a generic CSV is stored: the columns no field reads and the ``--map`` that would read
    them (the fields they would fill are otherwise stored empty). Empty for every other format."""
    if args.source not in ("orders", "leads"):
        return []
    from capi_core.readers import detect, get_reader
    from capi_core.readers.generic_csv import file_mapping_notes
    from capi_core.weekly_review import plain

    reader = get_reader(args.source, args.format) if args.format else detect(path, args.source)
    if reader.format not in ("generic_orders", "generic_leads"):
        return []
    notes = file_mapping_notes(path, options.column_map, "order" if args.source == "orders" else "lead")
    if not notes.unread:
        return []
    unread = ", ".join(repr(plain(name)) for name in notes.unread[:20])
    more = f" and {len(notes.unread) - 20} more" if len(notes.unread) > 20 else ""
    empty = ", ".join(notes.empty) or "none"
    lines = [f"{path.name}: columns not read: {unread}{more}; fields stored empty: {empty}"]
    lines += [
        f"  --map {shlex.quote(f'{plain(column)}={field}')} would read {plain(column)!r} as {field}"
        for column, field in notes.suggestions
    ]
    if not notes.suggestions:
        lines.append("  to read one, --map 'COLUMN=FIELD' (fields: `capi-desk ingest --help`)")
    return lines


def report_format(*, to_terminal: bool) -> str:
    """``report``'s format when ``--format`` is not given: the Markdown summary for a person at a
    terminal, the JSON for a pipe or a file (so scripts that read the JSON keep working)."""
    return "md" if to_terminal else "json"


def cmd_report(args: argparse.Namespace) -> int:
    from capi_core.report import build_report, render
    from capi_core.scope_check import check_scope

    scope = scope_from(args)
    target = check_report_out(args.out, Path(args.db)) if args.out else None
    fmt = args.format or report_format(to_terminal=target is None and sys.stdout.isatty())
    if args.week is not None:
        # the weekly review (capi_core/weekly_review.py): md / html, or the drift JSON with --format json;
        # --fail-on also fails on a headline metric that got worse past its drift threshold
        from capi_core.metrics.drift import parse_week
        from capi_core.weekly_review import render_review, review_fails, weekly_review

        parse_week(args.week)  # a bad week is a usage error before the store is opened
        if args.date_from or args.date_to:
            raise InputError("--week cannot be combined with --from / --to", hint="give one or the other")
        with open_store(args) as store:
            check_scope(store, scope)
            drift, week_findings = weekly_review(store, scope, args.week)
        text = drift.model_dump_json(indent=2) if fmt == "json" else render_review(drift, week_findings, fmt)
        failed = bool(args.fail_on) and review_fails(drift, week_findings, args.fail_on)
    else:
        with open_store(args) as store:
            check_scope(store, scope)
            report = build_report(store, scope)
        text = render(report, fmt)
        threshold = SEVERITIES.index(args.fail_on) if args.fail_on else -1
        failed = any(SEVERITIES.index(f.severity) <= threshold for f in report.findings)
    if target is not None:
        write_out(target, text)
        print(f"report written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_FINDINGS if failed else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from capi_core.demo_store import build_demo_store

    summary = build_demo_store(Path(args.db), orders=args.orders, seed=args.seed, files=args.files)
    print(summary)
    return EXIT_OK


def cmd_app(args: argparse.Namespace) -> int:
    db = Path(args.db)
    env = {**os.environ, "CAPI_DESK_DB": str(db)}
    if args.engine == "spark":
        if not args.spark_path:  # fail here, not in the browser after the server started
            raise InputError(SPARK_NEEDS_PATH, hint="a folder of Parquet tables (see capi-desk export-spark)")
        # the dashboard reads its engine from these; a remote from --spark-remote reaches it through the
        # environment, never the streamlit command line
        env.update({ENV_ENGINE: "spark", ENV_SPARK_PATH: args.spark_path})
        if args.spark_remote:
            env[ENV_SPARK_REMOTE] = args.spark_remote
    else:  # the flag (or --db) chose DuckDB: an engine set in this shell must not reach the dashboard
        for name in (ENV_ENGINE, ENV_SPARK_PATH, ENV_SPARK_REMOTE):
            env.pop(name, None)
        if db == DEFAULT_DB:  # only DuckDB reads the demo store: build it here, not in the first tab
            from capi_core.demo_store import ensure_demo_store

            built = ensure_demo_store(db)  # once, even when another capi-desk app starts beside this one
            if built:
                print(built, file=sys.stderr)
    port = args.port or DeskConfig.load().streamlit_port or "8501"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "app.py"),
        "--server.port",
        str(port),
    ]
    return subprocess.call(command, env=env)


_BATCH_COLUMNS = (
    "batch_id", "source", "format", "file_name", "rows_read", "rows_stored", "rows_quarantined",
    "ingested_at",
)  # fmt: skip


def _spark_batches(args: argparse.Namespace) -> list[tuple[object, ...]]:
    """The committed batches of a Spark Parquet location (read directly: no derived tables needed)."""
    from capi_core.engines.spark import spark_session
    from capi_core.engines.spark_ingest import spark_errors
    from capi_core.engines.spark_location import visible_tables

    location = _spark_location(args, "batches")
    session = spark_session(args.spark_remote)
    with spark_errors("batches", "check --spark-path: a folder or URI that ingest or export-spark wrote"):
        frame = visible_tables(session, location, ("batches",))["batches"]
        return [tuple(row) for row in frame.select(*_BATCH_COLUMNS).orderBy("batch_id").collect()]


def cmd_batches(args: argparse.Namespace) -> int:
    on_spark = getattr(args, "engine", "duckdb") == "spark"
    if on_spark and not str(args.spark_path or "").startswith("table:"):  # a folder: read its batches
        rows = _spark_batches(args)
    else:
        with open_store(args) as store:
            rows = store.query(
                "list batches",
                """select batch_id, source, format, file_name, rows_read, rows_stored, rows_quarantined,
                  ingested_at
                from batches
                order by batch_id""",
            ).rows
    if not rows:
        print("no batches yet: run `capi-desk ingest --source ... FILE`")
        return EXIT_OK
    from capi_core.cli.output import print_table

    print_table(_BATCH_COLUMNS, rows)
    return EXIT_OK


def cmd_undo(args: argparse.Namespace) -> int:
    from capi_core.ingest import delete_batch

    if getattr(args, "engine", "duckdb") == "spark":
        from capi_core.engines.spark import spark_session
        from capi_core.engines.spark_ingest import spark_errors
        from capi_core.engines.spark_location import remove_batch

        location = _spark_location(args, "undo")
        session = spark_session(args.spark_remote)
        with spark_errors("undo", "check --spark-path: a folder that ingest or export-spark wrote"):
            removed = remove_batch(session, location, args.batch_id)
        if not removed:
            raise InputError(f"no batch {args.batch_id}", hint="list them with `capi-desk batches`")
        print(f"batch {args.batch_id} removed")
        return EXIT_OK
    progress = _progress_printer(f"batch {args.batch_id}")
    try:
        with open_store(args) as store:
            if not delete_batch(store, args.batch_id, stage=getattr(progress, "stage", None)):
                raise InputError(f"no batch {args.batch_id}", hint="list them with `capi-desk batches`")
    finally:
        if progress is not None:
            progress.stop()  # type: ignore[attr-defined]
    print(f"batch {args.batch_id} removed")
    return EXIT_OK


def cmd_rebuild(args: argparse.Namespace) -> int:
    import time

    from capi_core import derived

    if getattr(args, "engine", "duckdb") == "spark":
        raise InputError(
            "rebuild works on a DuckDB store", hint="on Spark the derived tables are built per session"
        )
    with open_store(args) as store:
        started = time.perf_counter()
        with store.transaction() as tx:
            derived.refresh(tx, lambda table: print(f"  rebuilding {table}", file=sys.stderr))
        events = store.query("count events", "select count(*) from events").scalar()
    print(f"derived tables rebuilt over {events:,} events in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def _shown_path(path: Path) -> Path:
    """``path`` relative to the project when it lies inside it (``data/demo.duckdb``), else as it is."""
    return path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs test)."""
    parser = argparse.ArgumentParser(
        prog="capi-desk",
        description="Is the conversion signal you send to Meta true? Reconcile Pixel, Conversions API and "
        "backend truth in a local DuckDB store.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"capi-desk {__version__}")
    parser.add_argument(
        "--db",
        type=Path,
        help=f"store file (default: ${ENV_DB}, else {_shown_path(DEFAULT_DB)})",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help="how long to wait for a store another capi-desk (an ingest, the dashboard) is using before "
        "giving up with exit 2 (default: %(default).0f)",
    )
    parser.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        help=f"where the metrics run: the local DuckDB file (default; or ${ENV_ENGINE}) or Apache Spark",
    )
    parser.add_argument(
        "--spark-remote", metavar="sc://HOST:PORT", help="Spark Connect endpoint (else a local session)"
    )
    parser.add_argument(
        "--spark-path", metavar="DIR", help="where the canonical tables live as Parquet for --engine spark"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser(
        "ingest",
        help="read files into the store (one batch per file)",
        epilog=_INGEST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read files into the store, one batch per file: a line per file, then one line with "
        "what to run next (a progress bar on stderr when it is a terminal). A file of another source "
        "(a CAPI log given as --source browser, a HAR as --source server) is refused, naming the right "
        "one. A generic CSV first lists, on stderr, the columns no field reads and the --map that would "
        "read them. With --engine spark --spark-path "
        "DIR_OR_URI the batch is appended to the Parquet tables there (created when missing): server "
        "and browser logs in a format Spark maps are read by Spark's own readers and normalized and "
        "hashed in Spark SQL; other formats (orders, CRM exports, HAR) and the rare lines Spark cannot "
        "map exactly are read by the Python reader; there a folder or glob is read file by file, in name "
        "order, one batch each. A file already ingested changes nothing; a failed ingest leaves the "
        "tables as they were.",
    )
    ingest.add_argument(
        "--source",
        required=True,
        choices=["server", "browser", "orders", "leads", "meta"],
        help="server = CAPI logs, browser = Pixel beacons/HAR/fbq logs, orders/leads = backend truth, "
        "meta = Ads Manager export (what Meta reported per ad per day)",
    )
    ingest.add_argument("--format", help="force a format instead of detecting it")
    ingest.add_argument(
        "--map",
        action="append",
        metavar="COL=FIELD",
        help="map a CSV column to a field (repeatable), e.g. 'Order No=raw_id'; fields: raw_id, "
        "created_at, paid_at, qualified_at, won_at, status_raw, status, value, subtotal, currency, email, "
        "phone, external_id, fbp, fbc, fbclid (stored as the fbc Meta builds from it), country, "
        "utm_source, utm_campaign, form, sales_channel",
    )
    ingest.add_argument("--pixel-id", help="pixel id for files that do not carry one")
    ingest.add_argument("--country", help="ISO country for phones without a calling code, e.g. US")
    ingest.add_argument(
        "--stage-map",
        action="append",
        metavar="STAGE=STATUS",
        help="leads: map a CRM stage to new|qualified|disqualified|won|lost (repeatable), "
        "e.g. 'SQL=qualified'",
    )
    ingest.add_argument("files", nargs="+", metavar="FILE")
    ingest.set_defaults(run=cmd_ingest)

    report = sub.add_parser(
        "report",
        help="the report: dedup, reconciliation, signal quality, findings",
        epilog=_REPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--from", dest="date_from", type=parse_date, help="first day (event time, UTC)")
    report.add_argument("--to", dest="date_to", type=parse_date, help="last day, inclusive")
    report.add_argument("--pixel-id", help="only this pixel")
    report.add_argument("--event", action="append", help="only these event names (repeatable)")
    report.add_argument(
        "--week", metavar="YYYY-Www", help="the weekly review for one ISO week, e.g. 2026-W46 (md or html)"
    )
    report.add_argument(
        "--format",
        choices=["json", "md", "html"],
        help="default: md (the Markdown summary) when stdout is a terminal; json when stdout is a pipe or "
        "a file, or with --out, so scripts keep getting the JSON",
    )
    report.add_argument("--out", help="write to this file instead of stdout")
    report.add_argument(
        "--fail-on", choices=SEVERITIES, help="exit 1 when a finding is at or above this severity"
    )
    report.set_defaults(run=cmd_report)

    demo = sub.add_parser(
        "demo",
        help="build the demo store: a shop with known, injected defects",
        description="Generate a demo shop (orders, CRM leads, CAPI logs, Pixel beacons, an Ads Manager "
        "export, Dataset Quality answers) with known defects, and ingest it into the store.",
        epilog=_DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--orders",
        "--events",
        dest="orders",
        type=int,
        default=None,
        help="shop size in orders (default 1500)",
    )
    demo.add_argument("--seed", type=int, default=42, help="the same seed gives the same shop (default 42)")
    demo.add_argument(
        "--files",
        type=Path,
        metavar="DIR",
        help="also keep the demo's input files in DIR (created if missing; an existing file of the same "
        "name is never replaced), with the commands to ingest them yourself",
    )
    demo.set_defaults(run=cmd_demo)

    app = sub.add_parser("app", help="start the dashboard (builds the demo store on first use)")
    app.add_argument("--port", help="port (default $STREAMLIT_SERVER_PORT or 8501)")
    app.set_defaults(run=cmd_app)

    batches = sub.add_parser(
        "batches", help="list ingested files: one row per batch under a header (undo BATCH_ID removes one)"
    )
    batches.set_defaults(run=cmd_batches)
    undo = sub.add_parser(
        "undo",
        help="remove one ingested batch and everything it stored "
        "(on a Spark folder: its rows become invisible)",
    )
    undo.add_argument("batch_id", type=int)
    undo.set_defaults(run=cmd_undo)
    rebuild = sub.add_parser(
        "rebuild",
        help="recompute every derived table from the stored rows (ingest and undo update only what "
        "they change; this gives the same tables, the slow way)",
    )
    rebuild.set_defaults(run=cmd_rebuild)
    # the other subcommands, each module's register(sub): imported here, as the parser is built, so that
    # importing capi_core.cli stays light; a command sets ``run=`` to a function ``(args) -> exit code``
    # and opens the store with common.open_store
    from capi_core.cli import contracts, drift, inspect, leads, meta, push, spark, truth, url_keys

    drift.register(sub)
    contracts.register(sub)
    push.register(sub)
    meta.register(sub)
    leads.register(sub)
    url_keys.register(sub)
    truth.register(sub)
    inspect.register(sub)
    spark.register(sub)
    return parser


def _settle_global_options(args: argparse.Namespace) -> None:
    """The global options resolved by the one settings object: a flag, else the environment
    (``CAPI_DESK_DB``, ``CAPI_DESK_ENGINE``, ``CAPI_DESK_SPARK_PATH``, ``SPARK_REMOTE``), else the default.
    An explicit ``--db`` alone means DuckDB. Commands read the settled values from ``args``."""
    # ``--db`` names a DuckDB file: without ``--engine`` it means DuckDB, whatever the environment says
    engine = args.engine or ("duckdb" if args.db is not None else None)
    config = DeskConfig.load(
        db=args.db, engine=engine, spark_path=args.spark_path, spark_remote=args.spark_remote
    )
    args.db = config.db or DEFAULT_DB
    args.engine = engine_name(config)
    args.spark_path = config.spark_path
    args.spark_remote = config.remote()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _settle_global_options(args)
        code: int = args.run(args)
    except CapiDeskError as err:
        print(f"capi-desk: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader of stdout stopped early (`capi-desk report | head`): end quietly, as other tools do;
        # stdout goes to /dev/null so the interpreter's final flush does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return code
