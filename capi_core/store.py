"""The DuckDB store: schema and migrations, and the one place that runs queries.

Every query goes through ``Store.query`` / ``Transaction.execute``: a cursor per call (Streamlit runs
sessions on threads), values always bound as ``$name`` parameters, identifiers only through
``quote_ident`` with an allow-list, and ``duckdb.Error`` translated to ``StoreError`` naming the query.
Metric SQL lives in ``capi_core/queries/*.sql`` and is loaded by name with ``load_query``.

A store file holds customer data: files it creates (the store, its ``.wal``) are readable by their owner
only, and a path that exists but is not a DuckDB file is refused rather than opened (DuckDB would treat
a CSV given as ``--db`` as an empty database and lose every write).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from capi_core.errors import InputError, SchemaVersionError, StoreError
from capi_core.models import EVENT_COLUMNS, TRUTH_COLUMNS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SCHEMA_VERSION = 3
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_ROOT / "data" / "demo.duckdb"
#: Bytes 8 to 12 of every DuckDB database file.
DUCKDB_MAGIC = b"DUCK"


def _columns_ddl(columns: dict[str, str]) -> str:
    return ",\n  ".join(f"{name} {sql_type}" for name, sql_type in columns.items())


_SCHEMA_V1: tuple[str, ...] = (
    """create table schema_info (version integer not null, created_at timestamp not null)""",
    """create sequence batch_ids start 1""",
    """create table batches (
  batch_id integer primary key,
  source varchar not null,
  format varchar not null,
  file_name varchar not null,
  file_sha256 varchar not null unique,
  rows_read integer not null,
  rows_stored integer not null,
  rows_already_stored integer not null,
  rows_quarantined integer not null,
  secrets_stripped integer not null,
  ingested_at timestamp not null,
  tool_version varchar not null
)""",
    f"""create table events (
  {_columns_ddl(EVENT_COLUMNS)},
  primary key (fingerprint, occurrence)
)""",
    f"""create table truth (
  {_columns_ddl(TRUTH_COLUMNS)},
  primary key (fingerprint, occurrence)
)""",
    """create table quarantine (
  batch_id integer not null,
  line_no integer not null,
  reason varchar not null,
  raw_masked varchar
)""",
    """create table annotations (
  annotation_id integer primary key,
  day date not null,
  note varchar not null,
  created_at timestamp not null
)""",
    """create table contracts (
  pixel_id varchar not null,
  version integer not null,
  body varchar not null,
  saved_at timestamp not null,
  primary key (pixel_id, version)
)""",
    """create table push_log (
  pushed_at timestamp not null,
  pixel_id varchar not null,
  test_event_code varchar,
  base_url varchar not null,
  events integer not null,
  http_status integer,
  response varchar
)""",
    """create table derived_state (sql_sha256 varchar not null)""",
    """create table meta_quality_snapshots (
  fetched_at timestamp not null,
  pixel_id varchar not null,
  body varchar not null
)""",
)

#: Meta's own reporting (``ingest --source meta``: Ads Manager export rows, one per ad per day), in table
#: order. ``day`` is the reporting day at midnight (the ad account's time zone, as exported).
META_REPORTED_COLUMNS: dict[str, str] = {
    "batch_id": "integer",
    "fingerprint": "varchar",
    "occurrence": "integer",
    "line_no": "integer",
    "day": "timestamp",
    "pixel_id": "varchar",  # only when given at ingest (--pixel-id): exports do not name the pixel
    "campaign": "varchar",
    "adset": "varchar",
    "ad": "varchar",
    "ad_id": "varchar",
    "result_indicator": "varchar",  # e.g. actions:offsite_conversion.fb_pixel_purchase
    "results": "double",
    "attribution_setting": "varchar",  # e.g. 7-day click, 1-day view, or 1-day engaged-view
    "purchases": "double",
    "purchase_value": "double",
    "purchase_value_basis": "varchar",  # reported | roas_x_spend (derived from Purchase ROAS)
    "leads": "double",
    "spend": "double",
    "impressions": "double",
    "currency": "varchar",
}

# Version 2: Meta's view. Ads Manager rows are stored per batch like events (undo, re-ingest no-op);
# Dataset Quality API snapshots keep their (token-free) body and are unpacked per event and per key so
# Meta's EMQ, coverage, dedup-key feedback and freshness can be trended in SQL.
_SCHEMA_V2: tuple[str, ...] = (
    f"""create table meta_reported (
  {_columns_ddl(META_REPORTED_COLUMNS)},
  primary key (fingerprint, occurrence)
)""",
    """create sequence meta_snapshot_ids start 1""",
    """alter table meta_quality_snapshots add column snapshot_id integer""",
    """alter table meta_quality_snapshots add column source varchar""",
    """alter table meta_quality_snapshots add column source_name varchar""",
    """alter table meta_quality_snapshots add column body_sha256 varchar""",
    """update meta_quality_snapshots set snapshot_id = nextval('meta_snapshot_ids'), source = 'unknown'""",
    """create table meta_quality_events (
  snapshot_id integer not null,
  event_name varchar not null,
  emq double,
  event_coverage double,
  coverage_goal double,
  upload_frequency varchar,
  acr double,
  diagnostics integer
)""",
    """create table meta_quality_dedupe_keys (
  snapshot_id integer not null,
  event_name varchar not null,
  dedupe_key varchar not null,
  browser_share double,
  server_share double,
  browser_coverage double
)""",
    """create table meta_quality_match_keys (
  snapshot_id integer not null,
  event_name varchar not null,
  identifier varchar not null,
  coverage double
)""",
)

# Version 3: per-store settings (key -> value), e.g. which event marks a lead (metrics/reconcile.py). A
# store without a row behaves as before the setting existed.
_SCHEMA_V3: tuple[str, ...] = ("""create table settings (key varchar primary key, value varchar)""",)

#: version -> statements that bring a store from version-1 to version.
MIGRATIONS: dict[int, tuple[str, ...]] = {1: _SCHEMA_V1, 2: _SCHEMA_V2, 3: _SCHEMA_V3}


@dataclass(frozen=True, slots=True)
class Results:
    """Rows of one query with their column names. Only aggregates should come back this way."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def scalar(self) -> Any:
        """The first column of the first row, or None when there are no rows."""
        return self.rows[0][0] if self.rows else None

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def df(self) -> pd.DataFrame:
        """Rows as a pandas DataFrame (for charts and downloads of aggregates)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=self.columns)


@cache
def load_query(name: str) -> str:
    """The text of ``capi_core/queries/<name>.sql``, its ``-- @include NAME`` lines expanded.

    A line that is only ``-- @include spark/_fragment`` is replaced by the (expanded) text of
    ``capi_core/queries/spark/_fragment.sql``, so queries can share CTE chains without copies. Includes
    nest; a cycle, or a NAME other than lowercase ``a-z0-9_`` path parts joined by ``/``, is a ValueError.
    """
    return _expand_query(name, ())


_INCLUDE_LINE = re.compile(r"^[ \t]*-- @include[ \t]+(?P<name>\S*)[ \t]*$", re.MULTILINE)
_INCLUDE_NAME = re.compile(r"[a-z0-9_]+(?:/[a-z0-9_]+)*")


def _query_text(name: str) -> str:
    """The raw text of one query file (no includes expanded)."""
    return resources.files("capi_core.queries").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def _expand_query(name: str, chain: tuple[str, ...]) -> str:
    """``name``'s text with includes expanded; ``chain`` = the files including it (cycle guard)."""

    def include(match: re.Match[str]) -> str:
        child = match["name"]
        if not _INCLUDE_NAME.fullmatch(child):
            raise ValueError(f"bad include name {child!r} in query {name!r}")
        if child in (*chain, name):
            raise ValueError(f"include cycle: {' -> '.join((*chain, name, child))}")
        return _expand_query(child, (*chain, name)).rstrip("\n")

    return _INCLUDE_LINE.sub(include, _query_text(name))


def quote_ident(name: str, allowed: Sequence[str]) -> str:
    """Quote an identifier that must be one of ``allowed`` (never a value from a user or a file)."""
    if name not in allowed:
        raise ValueError(f"identifier {name!r} is not allowed here")
    return '"' + name.replace('"', '""') + '"'


def default_db_path() -> Path:
    """The store the CLI and dashboard open: ``$CAPI_DESK_DB``, else the embedded demo store."""
    env = os.environ.get("CAPI_DESK_DB")
    return Path(env) if env else DEFAULT_DB


def is_duckdb_file(path: str | Path) -> bool:
    """True when ``path`` is a regular file that starts like a DuckDB database (``DUCK`` at byte 8)."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(12)[8:] == DUCKDB_MAGIC
    except OSError:
        return False


def _check_store_path(path: Path, *, create: bool) -> None:
    """Refuse a missing store (unless it may be created) and a path that is not a DuckDB file."""
    if not path.exists():
        if create:
            return
        raise InputError(
            f"no store at {path}",
            hint="check --db (or $CAPI_DESK_DB); `capi-desk ingest` creates a store, `capi-desk demo` the "
            "demo store",
        )
    if not is_duckdb_file(path):
        raise InputError(
            f"{path} is not a DuckDB store",
            hint="--db names the store file (e.g. shop.duckdb); give data files to `capi-desk ingest` "
            "after --source",
        )


class _OwnerOnlyFiles:
    """While any block is open, files this process creates are readable by their owner only.

    DuckDB creates the store file on connect and its ``.wal`` on the first write after a checkpoint, with
    the process umask; it has no setting for the mode. The umask is process-wide (Streamlit sessions are
    threads), so it is narrowed while at least one block is open and restored when the last one ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._saved = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._open == 0:
                self._saved = os.umask(0o077)
                os.umask(self._saved | 0o077)
            self._open += 1
        try:
            yield
        finally:
            with self._lock:
                self._open -= 1
                if self._open == 0:
                    os.umask(self._saved)


_owner_only_files = _OwnerOnlyFiles()


def _run(cursor: duckdb.DuckDBPyConnection, name: str, sql: str, params: dict[str, Any] | None) -> Results:
    try:
        cursor.execute(sql, params or {})
        description = cursor.description or []
        rows = cursor.fetchall() if description else []
    except duckdb.Error as err:
        raise StoreError(name, str(err).splitlines()[0]) from err
    return Results([col[0] for col in description], rows)


class Transaction:
    """Statements inside one store transaction (see ``Store.transaction``)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self._cursor = cursor

    def execute(self, name: str, sql: str, params: dict[str, Any] | None = None) -> Results:
        """Run one named statement with bound parameters."""
        return _run(self._cursor, name, sql, params)

    def insert_arrow(self, table: str, data: pa.Table) -> int:
        """Append an Arrow table whose columns are a subset of ``table``'s columns; returns rows added."""
        return self._insert(table, data, only_new=False)

    def insert_new(self, table: str, data: pa.Table) -> int:
        """Append the rows whose (fingerprint, occurrence) is not stored yet; returns rows added."""
        return self._insert(table, data, only_new=True)

    def _insert(self, table: str, data: pa.Table, *, only_new: bool) -> int:
        target = quote_ident(table, ["events", "truth", "quarantine", "meta_reported"])
        cols = ", ".join(quote_ident(c, data.column_names) for c in data.column_names)
        guard = (
            f" where not exists (select 1 from {target} t"  # noqa: S608 (allow-listed identifier)
            " where t.fingerprint = i.fingerprint and t.occurrence = i.occurrence)"
            if only_new
            else ""
        )
        try:
            self._cursor.register("_incoming", data)
            try:
                # identifiers come from allow-lists via quote_ident; values travel in the Arrow table
                self._cursor.execute(f"insert into {target} ({cols}) select {cols} from _incoming i{guard}")  # noqa: S608
                inserted = self._cursor.fetchone()
            finally:
                self._cursor.unregister("_incoming")
        except duckdb.Error as err:
            raise StoreError(f"insert into {table}", str(err).splitlines()[0]) from err
        return int(inserted[0]) if inserted else 0


class Store:
    """A DuckDB store file (or ``:memory:``) with the canonical schema, migrated on open."""

    def __init__(
        self, path: str | Path = ":memory:", *, read_only: bool = False, create: bool = True
    ) -> None:
        """Open (or, unless ``create`` is False or ``read_only``, create) the store at ``path``.

        Raises:
            InputError: the store is missing and may not be created, or ``path`` is not a DuckDB file.
            StoreError: DuckDB cannot open it (locked, newer format...).
        """
        self.path = str(path)
        if self.path != ":memory:":
            _check_store_path(Path(self.path), create=create and not read_only)
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            with _owner_only_files():
                self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as err:
            raise StoreError("open store", str(err).splitlines()[0]) from err
        self._write_lock = threading.Lock()
        if not read_only:
            self._migrate()
            self._ensure_derived()

    def close(self) -> None:
        """Close the connection (the file stays)."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _version(self) -> int:
        exists = self.query(
            "schema exists",
            "select count(*) from information_schema.tables where table_name = 'schema_info'",
        ).scalar()
        if not exists:
            return 0
        return int(self.query("schema version", "select max(version) from schema_info").scalar() or 0)

    def _migrate(self) -> None:
        current = self._version()
        if current > SCHEMA_VERSION:
            raise SchemaVersionError(
                "open store", f"store schema {current} is newer than this tool ({SCHEMA_VERSION}); upgrade"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.transaction() as tx:
                for index, statement in enumerate(MIGRATIONS[version]):
                    tx.execute(f"migration {version}.{index}", statement)
                tx.execute(
                    "record schema version",
                    "insert into schema_info values ($v, $at)",
                    {"v": version, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None)},
                )

    def _ensure_derived(self) -> None:
        """Rebuild the derived tables when their SQL differs from the SQL that built them (or never ran)."""
        from capi_core import derived  # derived runs through this module; imported late to avoid a cycle

        wanted = derived.definition_sha256()
        built = self.query("derived state", "select max(sql_sha256) from derived_state").scalar()
        if built != wanted:
            with self.transaction() as tx:
                derived.refresh(tx)

    @property
    def schema_version(self) -> int:
        """The schema version of the open store."""
        return self._version()

    def query(self, name: str, sql: str, params: dict[str, Any] | None = None) -> Results:
        """Run one read query on its own cursor."""
        with self._con.cursor() as cursor:
            return _run(cursor, name, sql, params)

    def query_file(self, name: str, params: dict[str, Any] | None = None) -> Results:
        """Run ``capi_core/queries/<name>.sql``."""
        return self.query(name, load_query(name), params)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        # the first write after a checkpoint creates the .wal: owner-only like the store
        with self._write_lock, _owner_only_files(), self._con.cursor() as cursor:
            cursor.execute("begin transaction")
            try:
                yield Transaction(cursor)
            except BaseException:
                cursor.execute("rollback")
                raise
            cursor.execute("commit")
