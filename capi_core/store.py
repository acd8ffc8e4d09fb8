"""The DuckDB store: schema and migrations, and the one place that runs queries.

Every query goes through ``Store.query`` / ``Transaction.execute``: a cursor per call (Streamlit runs
sessions on threads), values always bound as ``$name`` parameters, identifiers only through
``quote_ident`` with an allow-list, and ``duckdb.Error`` translated to ``StoreError`` naming the query.
Metric SQL lives in ``capi_core/queries/*.sql`` and is loaded by name with ``queries.load_query``.

A store file holds customer data: files it creates (the store, its ``.wal``) are readable by their owner
only, and a path that exists but is not a DuckDB file is refused rather than opened (DuckDB would treat
a CSV given as ``--db`` as an empty database and lose every write).

Sharing a file: DuckDB lets one process open it read-write and then no other process may open it at all,
while read-only opens shut writers out. A store therefore waits for a busy file (``wait`` seconds,
retrying) and then raises ``StoreBusyError``, never DuckDB's lock text. The CLI holds one connection for a
command; the dashboard opens its store ``brief``: every query, transaction or ``kept_open`` block opens its
own connection (read-only for reads) and closes it, so it never keeps a scheduled ingest out.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from capi_core import derived
from capi_core.config import DeskConfig
from capi_core.errors import InputError, SchemaVersionError, StoreBusyError, StoreError
from capi_core.models import EVENT_COLUMNS, TRUTH_COLUMNS
from capi_core.queries import load_query, quote_ident

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SCHEMA_VERSION = 3
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The embedded demo store: ``$CAPI_DESK_DEMO_DB`` (e.g. when the package folder is not writable), else
#: ``data/demo.duckdb`` beside the code.
DEFAULT_DB = DeskConfig.load().demo_db or PROJECT_ROOT / "data" / "demo.duckdb"
#: Bytes 8 to 12 of every DuckDB database file.
DUCKDB_MAGIC = b"DUCK"
#: Longest wait of a brief store's read for a busy file (the dashboard then shows its last figures).
BRIEF_READ_WAIT = 2.0
#: DuckDB's words for "another connection holds this file" (another process's file lock; in this process,
#: a connection opened with the other read-only setting).
_LOCK_MESSAGES = ("Could not set lock on file", "Conflicting lock", "different configuration")


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


def default_db_path() -> Path:
    """The store the CLI and dashboard open: ``$CAPI_DESK_DB``, else the embedded demo store."""
    return DeskConfig.load().db or DEFAULT_DB


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


def _is_lock_error(err: duckdb.Error) -> bool:
    return any(marker in str(err) for marker in _LOCK_MESSAGES)


def _connect(
    path: str, *, read_only: bool, wait: float, on_wait: Callable[[float], None] | None, started: float
) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """A connection to ``path`` and whether this call created the file, retried while another process
    holds the file until ``wait`` seconds after ``started`` (``time.monotonic()``).

    Raises:
        StoreBusyError: still held when the wait ends (``on_wait(seconds waited)`` ran between tries).
        StoreError: any other failure to open.
    """
    pause = 0.05
    while True:
        existed = path == ":memory:" or os.path.exists(path)
        try:
            if read_only:
                return duckdb.connect(path, read_only=True), False
            with _owner_only_files():
                return duckdb.connect(path), not existed
        except duckdb.Error as err:
            if not _is_lock_error(err):
                raise StoreError("open store", str(err).splitlines()[0]) from err
            waited = time.monotonic() - started
            if waited >= wait:
                raise StoreBusyError(waited) from err
            if on_wait is not None:
                on_wait(waited)
            time.sleep(min(pause, wait - waited))
            pause = min(pause * 2, 0.5)


class _TakingTurns:
    """In this process, any number of readers of a file or one writer; a waiting writer goes first.

    DuckDB refuses a read-only and a read-write connection to one file in one process, so the threads of
    a brief store (Streamlit sessions) take turns here before asking for the file itself.
    """

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    def acquire(self, *, write: bool, timeout: float) -> bool:
        """Take a turn (False when none came within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._turn:
            self._writers_waiting += write
            try:
                while self._writing or (self._readers if write else self._writers_waiting):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._turn.wait(remaining)
                if write:
                    self._writing = True
                else:
                    self._readers += 1
                return True
            finally:
                self._writers_waiting -= write

    def release(self, *, write: bool) -> None:
        """End a turn taken with ``acquire``."""
        with self._turn:
            if write:
                self._writing = False
            else:
                self._readers -= 1
            self._turn.notify_all()


_turns: dict[str, _TakingTurns] = {}
_turns_lock = threading.Lock()


def _turns_for(path: str) -> _TakingTurns:
    key = os.path.realpath(path)
    with _turns_lock:
        return _turns.setdefault(key, _TakingTurns())


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

    #: True when every query, transaction or ``kept_open`` block opens its own connection (see ``__init__``).
    brief = False
    #: True when opening this store created its file.
    created = False

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        read_only: bool = False,
        create: bool = True,
        wait: float = 0.0,
        on_wait: Callable[[float], None] | None = None,
        brief: bool = False,
        on_rebuild: Callable[[str], None] | None = None,
    ) -> None:
        """Open (or, unless ``create`` is False or ``read_only``, create) the store at ``path``.

        Args:
            path: the store file, or ``:memory:``.
            read_only: never write (no migration either).
            create: a missing file may be created.
            wait: seconds to wait while another process holds the file; ``on_wait(seconds waited)`` is
                called between tries (a progress line).
            brief: hold no connection: each query (read-only), transaction (read-write) or ``kept_open``
                block opens one and closes it when done. Reads wait at most ``BRIEF_READ_WAIT``; writes
                wait ``wait``. For a long-lived reader beside scheduled ingests (the dashboard).
            on_rebuild: hears the name of each derived table while they are rebuilt on opening (a store
                built by a version whose derived SQL differs: once after an upgrade, minutes at 10 M
                events), so a command can say why it is slow.

        Raises:
            InputError: the store is missing and may not be created, or ``path`` is not a DuckDB file.
            StoreBusyError: another process held the file for the whole wait.
            StoreError: DuckDB cannot open it (newer format...).
        """
        self.path = str(path)
        if self.path != ":memory:":
            _check_store_path(Path(self.path), create=create and not read_only)
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        elif brief:
            raise ValueError("an in-memory store cannot be opened brief")
        self._wait = wait
        self._on_wait = on_wait
        self._on_rebuild = on_rebuild
        self._write_lock = threading.Lock()
        if brief:
            self.brief = True
            self._local = threading.local()
            self._prepare_brief()
            return
        self._con, self.created = _connect(
            self.path, read_only=read_only, wait=wait, on_wait=on_wait, started=time.monotonic()
        )
        if not read_only:
            self._migrate()
            self._ensure_derived()

    def _prepare_brief(self) -> None:
        """Migrate and build the derived tables of a brief store, writing only when they are out of date."""
        if Path(self.path).exists():
            with self.kept_open():
                if self._up_to_date():
                    return
        with self.kept_open(write=True):
            self._migrate()
            self._ensure_derived()

    def _up_to_date(self) -> bool:
        if self._version() != SCHEMA_VERSION:
            return False
        built = self.query("derived state", "select max(sql_sha256) from derived_state").scalar()
        return bool(built == derived.definition_sha256())

    def close(self) -> None:
        """Close the connection (the file stays; a brief store holds none)."""
        if not self.brief:
            self._con.close()

    @contextmanager
    def kept_open(self, *, write: bool = False) -> Iterator[None]:
        """Keep one connection for the block (a brief store; otherwise nothing changes).

        Every query of a report section or a page run then shares one open instead of paying one each
        (tens of milliseconds); the file is held only while the block runs. ``write=True`` opens it
        read-write, for a block of writes and the reads between them.
        """
        if not self.brief:
            yield
            return
        with self._connection(write=write):
            yield

    def available(self) -> bool:
        """False while another process holds the file so that a read cannot open it (asked without
        waiting; a store that holds its connection is always available)."""
        if not self.brief:
            return True
        try:
            with self._connection(write=False, wait=0.0):
                return True
        except StoreBusyError:
            return False

    @contextmanager
    def _connection(self, *, write: bool, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self.brief:
            yield self._con
            return
        held: tuple[duckdb.DuckDBPyConnection, bool] | None = getattr(self._local, "held", None)
        if held is not None:
            if write and not held[1]:
                raise RuntimeError("a write inside a read-only kept_open block of a brief store")
            yield held[0]
            return
        started = time.monotonic()
        if wait is None:
            wait = self._wait if write else min(self._wait, BRIEF_READ_WAIT)
        turns = _turns_for(self.path)
        if not turns.acquire(write=write, timeout=wait):
            raise StoreBusyError(time.monotonic() - started)
        try:
            con, created = _connect(
                self.path, read_only=not write, wait=wait, on_wait=self._on_wait, started=started
            )
            self.created = self.created or created
            self._local.held = (con, write)
            try:
                yield con
            finally:
                self._local.held = None
                con.close()
        finally:
            turns.release(write=write)

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
        wanted = derived.definition_sha256()
        built = self.query("derived state", "select max(sql_sha256) from derived_state").scalar()
        if built != wanted:
            with self.transaction() as tx:
                derived.refresh(tx, None if built is None else self._on_rebuild)

    @property
    def schema_version(self) -> int:
        """The schema version of the open store."""
        return self._version()

    def query(self, name: str, sql: str, params: dict[str, Any] | None = None) -> Results:
        """Run one read query on its own cursor."""
        with self._connection(write=False) as con, con.cursor() as cursor:
            return _run(cursor, name, sql, params)

    def query_file(self, name: str, params: dict[str, Any] | None = None) -> Results:
        """Run ``capi_core/queries/<name>.sql``."""
        return self.query(name, load_query(name), params)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        # the first write after a checkpoint creates the .wal: owner-only like the store. A brief store
        # takes its turn for the file before this handle's lock (a thread in a kept_open block holds the
        # file and may be waiting for that lock)
        with (
            self._connection(write=True) as con,
            self._write_lock,
            _owner_only_files(),
            con.cursor() as cursor,
        ):
            cursor.execute("begin transaction")
            try:
                yield Transaction(cursor)
            except BaseException:
                cursor.execute("rollback")
                raise
            cursor.execute("commit")
