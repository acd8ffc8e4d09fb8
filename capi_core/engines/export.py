"""Put a DuckDB store on Spark: its canonical tables written as Parquet folders Spark reads.

Owns: which tables are canonical (every table the store's migrations create; the derived tables are
rebuilt on Spark from their SQL, not copied), writing each as ``<DIR>/<table>/part-0.parquet`` with
DuckDB's own ``COPY`` (no row passes through Python), and finding those folders again.

Must not: write anything but the store's own tables, or overwrite a folder that is not an earlier export.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from capi_core import derived
from capi_core.errors import InputError
from capi_core.queries import quote_ident
from capi_core.store import MIGRATIONS, Store

#: Written into every export folder; a folder holding anything else is never overwritten.
MARKER = "_capi_desk_export"
_CREATE_TABLE = re.compile(r"^\s*create table (\w+)", re.IGNORECASE)
#: Bookkeeping of the DuckDB store that has no meaning on Spark.
_LOCAL_ONLY = frozenset({"derived_state"})


def canonical_tables() -> list[str]:
    """Tables the store's migrations create, minus DuckDB-only bookkeeping, in creation order."""
    names: list[str] = []
    for version in sorted(MIGRATIONS):
        for statement in MIGRATIONS[version]:
            found = _CREATE_TABLE.match(statement)
            if found and found.group(1) not in names and found.group(1) not in _LOCAL_ONLY:
                names.append(found.group(1))
    return [name for name in names if name not in derived.DERIVED_TABLES]


def _is_local(location: str) -> bool:
    return "://" not in location or location.startswith("file://")


def exported_tables(location: str) -> list[str]:
    """The canonical tables present at ``location`` (a remote URI is trusted to hold all of them)."""
    if not _is_local(location):
        return canonical_tables()
    folder = Path(location.removeprefix("file://"))
    if not folder.is_dir():
        raise InputError(
            f"{location} is not a folder", hint="export a store with `capi-desk export-spark --to DIR`"
        )
    return [name for name in canonical_tables() if (folder / name).exists()]


def _prepare(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} is a file", hint="name a folder for the Parquet tables")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).exists():
        raise InputError(
            f"{target} is not empty and holds no earlier export", hint="name a new or empty folder"
        )
    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).write_text("Parquet tables written by capi-desk export-spark\n", encoding="utf-8")


def export_store(store: Store, target: str | Path) -> dict[str, int]:
    """Write the store's canonical tables under ``target`` as Parquet; returns rows per table."""
    target = Path(target)
    _prepare(target)
    present = {
        row[0]
        for row in store.query(
            "export tables", "select table_name from information_schema.tables where table_schema = 'main'"
        ).rows
    }
    tables = [name for name in canonical_tables() if name in present]
    written: dict[str, int] = {}
    for table in tables:
        folder = target / table
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        name = quote_ident(table, tables)
        # the identifier is allow-listed; the path travels as a bound parameter
        store.query(
            f"export {table}",
            f"copy {name} to $path (format parquet)",
            {"path": str(folder / "part-0.parquet")},
        )
        written[table] = int(store.query(f"count {table}", f"select count(*) from {name}").scalar())  # noqa: S608
    return written
