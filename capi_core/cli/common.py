"""What the `capi-desk` subcommand modules share: the exit codes, the severities, opening the store the
global options name (with progress while it is busy) and the ``--from`` / ``--out`` helpers.

Owns: nothing a command decides. Must not import the parser (capi_core.cli.main) nor any subcommand
module: they import from here, so the package has no import cycle.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from capi_core.errors import InputError
from capi_core.store import Store, is_duckdb_file

if TYPE_CHECKING:
    from capi_core.models import Scope

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
#: Seconds a command waits for a store another capi-desk holds (``--wait``); waits shorter than
#: WAIT_QUIET (a dashboard read) print nothing, longer ones a progress line every WAIT_REPORT_EVERY.
DEFAULT_WAIT, WAIT_QUIET, WAIT_REPORT_EVERY = 60.0, 1.0, 10.0
SEVERITIES = ("critical", "high", "medium", "low")


def parse_date(text: str) -> dt.date:
    """An argparse ``type=`` for a day given as 2026-11-02."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-02") from err


def scope_from(args: argparse.Namespace, *, dates_only: bool = False) -> Scope:
    """The scope the command's filter options name (``--from``/``--to``, and ``--pixel-id``/``--event``
    where the command has them; only the dates with ``dates_only``, for a command whose ``--pixel-id``
    picks something else), its dates checked before any store is opened."""
    from capi_core.models import Scope
    from capi_core.scope_check import check_dates

    scope = Scope(
        date_from=args.date_from,
        date_to=args.date_to,
        pixel_id=None if dates_only else getattr(args, "pixel_id", None),
        event_names=() if dates_only else tuple(getattr(args, "event", None) or ()),
    )
    check_dates(scope)
    return scope


def busy_progress(limit: float) -> Callable[[float], None]:
    """Progress on stderr while the store is busy: a line after WAIT_QUIET s, then each WAIT_REPORT_EVERY."""
    shown: list[float] = []

    def show(waited: float) -> None:
        if waited < WAIT_QUIET or (shown and waited - shown[-1] < WAIT_REPORT_EVERY):
            return
        so_far = f"{waited:.0f} s" if shown else f"up to {limit:.0f} s"
        shown.append(waited)
        print(f"store busy (another capi-desk is writing); waiting… {so_far}", file=sys.stderr)

    return show


def rebuild_progress(text: str) -> None:
    """One line on stderr per derived table rebuilt on opening a store after an upgrade (minutes at 10 M
    events: a silent command would look hung)."""
    print(f"this store was built by another capi-desk version; rebuilding {text} (once)…", file=sys.stderr)


def open_store(args: argparse.Namespace, *, read_only: bool = False, create: bool = False) -> Store:
    """The store the global options name: the DuckDB file ``--db`` (default) or, with ``--engine spark``,
    the Spark tables (see capi_core.engines).

    Only commands that store what they are given pass ``create=True``: any other command on a missing
    ``--db`` (a typo) is an error, never a new empty store that a scheduled check would pass on. A store
    another capi-desk holds (an ingest, the dashboard reading) is waited for, up to ``--wait`` seconds.
    """
    from capi_core.engines import EngineConfig, open_configured_store

    if getattr(args, "engine", "duckdb") == "spark":
        config = EngineConfig("spark", args.spark_path, args.spark_remote)
        return open_configured_store(config)
    wait = getattr(args, "wait", DEFAULT_WAIT)
    return open_configured_store(
        EngineConfig(), args.db, read_only=read_only, create=create, wait=wait, on_wait=busy_progress(wait),
        on_rebuild=rebuild_progress,
    )  # fmt: skip


def check_report_out(out: str, db: Path) -> Path:
    """``--out``: never the store or its .wal, nor any other DuckDB file (the output would replace it)."""
    target = Path(out)
    store_files = {db.resolve(), Path(f"{db}.wal").resolve()}
    if target.resolve() in store_files or is_duckdb_file(target):
        raise InputError(
            f"--out {out} is a DuckDB store; writing there would destroy it",
            hint="give a new file name, e.g. --out report.md",
        )
    if target.is_dir():
        raise InputError(f"--out {out} is a folder", hint="give a file name, e.g. --out report.md")
    return target


def write_out(target: Path, text: str) -> None:
    """Write ``--out``; a folder that is missing or read-only is one line, not a traceback."""
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise InputError(
            f"cannot write {target}: {err.strerror}", hint="check that the folder exists and is writable"
        ) from None
