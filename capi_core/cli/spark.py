"""`capi-desk export-spark`: put a DuckDB store's canonical tables on Spark as Parquet folders.

The report itself needs no command of its own: `capi-desk --engine spark --spark-path DIR report` runs
the usual `report` on Spark (capi_core.cli.common.open_store picks the engine).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from capi_core.cli.common import busy_progress

_EPILOG = """\
examples:
  capi-desk --db shop.duckdb export-spark --to /data/capi
  capi-desk --engine spark --spark-path /data/capi report --format md

Each canonical table becomes DIR/<table>/part-0.parquet, written by DuckDB (no row passes through
Python). Derived tables are not copied: Spark rebuilds them from the same SQL when it opens the folder.
Copy DIR to your lake (e.g. `aws s3 sync DIR s3://bucket/capi`) and point --spark-path at it.
"""


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add `export-spark` to the `capi-desk` parser."""
    export = sub.add_parser(
        "export-spark",
        help="write the store's canonical tables as Parquet for --engine spark",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument(
        "--to", dest="target", type=Path, required=True, metavar="DIR", help="a new or empty folder"
    )
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Export the DuckDB store named by --db (an export always reads DuckDB)."""
    from capi_core.engines.export import export_store
    from capi_core.store import Store

    with Store(args.db, read_only=True, wait=args.wait, on_wait=busy_progress(args.wait)) as store:
        written = export_store(store, args.target)
    for table, rows in written.items():
        print(f"{table}: {rows} rows -> {args.target / table}")
    print(f"open it with: capi-desk --engine spark --spark-path {args.target} report")
    return 0
