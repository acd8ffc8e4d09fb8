"""The Spark engine: the canonical tables on Apache Spark behind the ``Store`` read interface.

Owns: opening a Spark session (local, or Spark Connect with ``sc://HOST:PORT``) with the settings the
metric SQL needs, exposing the canonical tables to it (Parquet folders in a user-given location, or
existing tables the user names), building the derived tables there from ``capi_core.derived``'s queries,
and running every metric query translated by ``engines/dialect.py``. Callers hold a ``SparkStore`` where
they hold a ``Store`` and cannot tell which engine answers; only aggregates come back to Python.

Must not: move event rows through Python (tables are read and derived inside Spark), or change the
meaning of a query (the translation is tested for parity with DuckDB in tests/core/test_spark_parity.py).
A ``SparkStore`` is read-only: files are appended to the location by ``engines/spark_ingest.py``
(Spark's own readers, a commit protocol instead of a transaction), and a store opened afterwards sees
them.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from capi_core import derived
from capi_core.config import DeskConfig, remote_host
from capi_core.engines import dialect
from capi_core.errors import InputError, StoreError
from capi_core.queries import load_query
from capi_core.store import Results, Store, Transaction

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: Settings the translated SQL relies on: naive timestamps as in DuckDB, UTC, and null (not an error)
#: for a failed cast or a division by zero, as DuckDB's try_cast / division give.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "false",
    # Inferring filters from constraints grows exponentially with the aliases and CASE columns of a
    # plan: the contract-violations query spent minutes in the optimizer. The inferred filters only
    # restate what the plan already guarantees, so the answers are the same without them.
    "spark.sql.constraintPropagation.enabled": "false",
}
#: Extra settings of a local session: two threads, few shuffle partitions, no web UI.
LOCAL_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "2g",
}
#: Retries of the first call to a Spark Connect endpoint: waits of 0.5, 1, 2, 4, 8 and 10 s (~26 s).
CONNECT_PROBE: dict[str, Any] = {
    "max_retries": 6,
    "initial_backoff": 500,
    "backoff_multiplier": 2.0,
    "max_backoff": 10_000,
}
#: Query results a store keeps for reuse (the least recently used goes first); a result of more rows
#: than ``MEMO_MAX_ROWS`` is not kept. Only aggregates come back, so this stays small.
MEMO_ENTRIES = 512
MEMO_MAX_ROWS = 10_000
#: What a null ``limit`` parameter means (DuckDB reads it as no limit; Spark needs an integer).
NO_LIMIT = 2**31 - 1
#: How a gRPC error (Spark Connect) prints its status: "status = StatusCode.X ... details = "...""
_GRPC_STATUS = re.compile(r'status = StatusCode\.(?P<code>\w+)\s+details = "(?P<details>[^"\n]*)"')
_TOKEN = re.compile(r"(token=)[^;\s/]+", re.IGNORECASE)
_NAMESPACE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")


def spark_session(
    remote: str | None = None, *, master: str = "local[2]", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """A Spark session: Spark Connect at ``remote`` (``sc://HOST:PORT``, else ``$SPARK_REMOTE``), else a
    local one on ``master``; ``conf`` overrides ``LOCAL_CONF`` for a local session (e.g. a benchmark's
    ``spark.driver.memory``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise InputError(
            "--engine spark needs pyspark",
            hint="pip install 'capi-signal-desk[spark]' (and Java 17 for local)",
        ) from err
    builder = SparkSession.builder
    # SPARK_REMOTE keeps a URL carrying a token off the command line (and out of `ps`)
    remote = remote or DeskConfig.load().remote()
    if remote and not remote.startswith("sc://"):  # the value is not echoed: it may carry a token
        raise InputError("--spark-remote is not a Spark Connect URL", hint="e.g. sc://host:15002")
    with warnings.catch_warnings():
        # pyspark warns that it does not certify the installed pandas; the engine does not use pandas
        warnings.simplefilter("ignore", FutureWarning)
        # and that its retries ran out, which the error below says on its one line
        warnings.filterwarnings("ignore", message=r"\[RETRIES_EXCEEDED\]", category=UserWarning)
        try:
            if remote:
                session = builder.remote(remote).getOrCreate()
                _reach(session)
            else:
                for key, value in {**LOCAL_CONF, **(conf or {}), **SESSION_CONF}.items():
                    builder = builder.config(key, value)
                session = builder.master(master).appName("capi-desk").getOrCreate()
                session.sparkContext.setLogLevel("ERROR")
        except Exception as err:  # py4j / gRPC errors; the URL is shown without its parameters
            if remote:
                raise InputError(
                    f"could not open the Spark Connect endpoint {remote_host(remote)}: {failure_reason(err)}",
                    hint="check the host and port of the sc:// URL, that the endpoint is up and reachable "
                    "from here, and its ;use_ssl / ;token parameters",
                ) from err
            raise InputError(
                f"could not open a local Spark session: {failure_reason(err)}",
                hint="a local session needs Java 17",
            ) from err
    for key, value in SESSION_CONF.items():
        session.conf.set(key, value)
    return session


def _reach(session: SparkSession) -> None:
    """Make the first call to a Spark Connect endpoint, giving up after about half a minute.

    pyspark retries an unreachable endpoint for at least 10 minutes (a cluster may be starting), so a
    mistyped host or port would look like a hang; only this first call is bounded (``CONNECT_PROBE``),
    the queries keep pyspark's own retries.
    """
    client = getattr(session, "client", None)
    if client is None or not hasattr(client, "set_retry_policies"):  # not a Connect client we know
        session.conf.set("spark.sql.session.timeZone", SESSION_CONF["spark.sql.session.timeZone"])
        return
    from pyspark.sql.connect.client.retries import DefaultPolicy

    policies = client.get_retry_policies()
    client.set_retry_policies([DefaultPolicy(**CONNECT_PROBE)])
    try:
        session.conf.set("spark.sql.session.timeZone", SESSION_CONF["spark.sql.session.timeZone"])
    except Exception:
        # close the channel now: pyspark's exit hook would otherwise retry its clean-up calls to the
        # endpoint that never answered for another 10 minutes before the process could end
        with contextlib.suppress(Exception):
            client.close()
            session.stop()  # forgets the session, so a later attempt in this process starts afresh
        raise
    client.set_retry_policies(policies)


def _literal(value: Any) -> Column:
    """A parameter value as a Spark literal (bound by Spark, never spliced into SQL text)."""
    from pyspark.sql import functions as F

    if isinstance(value, list | tuple):
        if not value:
            return F.array().cast("array<string>")
        return F.array(*[F.lit(item) for item in value])
    return F.lit(value)


def _cast_for(value: Any) -> str | None:
    """The Spark type a parameter is cast to in the SQL text (py4j would read a naive datetime as local)."""
    if isinstance(value, dt.datetime):
        return "timestamp_ntz"
    if isinstance(value, dt.date):
        return "date"
    return None


def _bound(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return value


def failure_reason(err: Exception) -> str:
    """The line of a Spark error that says what went wrong (py4j wraps it after a line of its own; a
    gRPC error from Spark Connect says it in its status code and details)."""
    grpc = _GRPC_STATUS.search(str(err))
    if grpc:
        return _TOKEN.sub(r"\1***", f"{grpc['code']}: {grpc['details']}")
    lines = [line.strip().removeprefix(": ") for line in str(err).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith("An error occurred while calling")]
    # a Spark Connect URL may carry a token (sc://host/;token=...): never repeat one
    return _TOKEN.sub(r"\1***", (useful or lines or [type(err).__name__])[0])


def _python(value: Any) -> Any:
    """A collected Spark value as DuckDB's Python client gives it (structs as dicts, lists as lists)."""
    from pyspark.sql import Row

    if isinstance(value, Row):
        return {key: _python(item) for key, item in value.asDict(recursive=False).items()}
    if isinstance(value, list):
        return [_python(item) for item in value]
    if isinstance(value, dict):
        return {key: _python(item) for key, item in value.items()}
    return value


def _frozen(value: Any) -> Hashable:
    """A parameter value as part of a memo key: its type and ``repr``, so values that compare equal but
    bind differently stay apart (``1``/``1.0``/``True``, ``0.0``/``-0.0``, one instant at two offsets,
    ``Decimal('1.0')``/``Decimal('1.00')``)."""
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_frozen(item) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(_frozen(key)), _frozen(item)) for key, item in value.items())))
    hash(value)  # raises TypeError for anything else unhashable: such a query is not memoized
    return (type(value).__name__, repr(value))


def _memo_key(sql: str, params: Mapping[str, Any] | None) -> Hashable | None:
    """The key of one query's result: its text and every parameter value (None: not memoizable)."""
    try:
        return (sql, tuple(sorted((key, _frozen(value)) for key, value in (params or {}).items())))
    except TypeError:
        return None


def _fresh(results: Results) -> Results:
    """A copy of a memoized result the caller may change (rows can hold lists and dicts)."""
    return Results(list(results.columns), copy.deepcopy(results.rows))


def _naive_times(frame: DataFrame) -> DataFrame:
    """Top-level TIMESTAMP (with local time zone) columns as TIMESTAMP_NTZ in UTC: pyspark would turn them
    into the Python process's local time, DuckDB gives naive UTC datetimes."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    fields = frame.schema.fields
    if not any(isinstance(field.dataType, TimestampType) for field in fields):
        return frame
    return frame.select(
        *[
            F.col(f"`{field.name}`").cast("timestamp_ntz").alias(field.name)
            if isinstance(field.dataType, TimestampType)
            else F.col(f"`{field.name}`")
            for field in fields
        ]
    )


class SparkStore(Store):
    """The canonical tables on Spark, read through the same ``query`` / ``query_file`` as ``Store``.

    ``tables`` maps each canonical table name to a Spark table or view name; ``open_spark_store`` fills it
    from a Parquet location or a namespace. The derived tables are built once on open, in Spark.
    """

    def __init__(  # the base __init__ (a DuckDB file) is not called on purpose
        self,
        session: SparkSession,
        tables: Mapping[str, DataFrame],
        *,
        label: str,
        build_derived: bool = True,
    ) -> None:
        self.path = label
        self.session = session
        self._cached: list[DataFrame] = []
        # the store is read-only for its lifetime, so a query's result never changes: the report and the
        # pages repeat the same metadata queries (data version, settings, "has truth") dozens of times
        self._memo: OrderedDict[Hashable, Results] = OrderedDict()
        self._memo_lock = threading.Lock()
        missing = [name for name in ("batches", "events", "truth") if name not in tables]
        if missing:
            raise InputError(
                f"Spark tables missing: {', '.join(missing)}",
                hint="export a store with `capi-desk export-spark --to DIR` (or name tables like it)",
            )
        self._frames: dict[str, DataFrame] = {}
        for name, frame in tables.items():
            self._register(name, frame)
        if build_derived:
            self.build_derived()
        self._register_information_schema()

    def _register(self, name: str, frame: DataFrame) -> None:
        frame.createOrReplaceTempView(name)
        self._frames[name] = frame

    def _register_information_schema(self) -> None:
        """Views standing in for DuckDB's information_schema.tables / .columns (see dialect.py)."""
        tables = [(name, "main") for name in self._frames]
        columns = [
            (name, field.name, field.dataType.simpleString())
            for name, frame in self._frames.items()
            for field in frame.schema.fields
        ]
        views = dialect.INFORMATION_SCHEMA
        self.session.createDataFrame(
            tables, "table_name string, table_schema string"
        ).createOrReplaceTempView(views["tables"])
        self.session.createDataFrame(
            columns, "table_name string, column_name string, data_type string"
        ).createOrReplaceTempView(views["columns"])

    def build_derived(self) -> None:
        """Compute every derived table in Spark (``derived.DERIVED_TABLES`` order), checkpointed in memory."""
        for table, query in derived.DERIVED_TABLES.items():
            name = f"derive {table}"
            with self._staged(name, load_query(query), None, prefix=f"capi_{table}__") as frame:
                done = self._checkpoint(name, frame)
            self._cached.append(done)
            self._register(table, done)

    def _checkpoint(self, name: str, frame: DataFrame) -> DataFrame:
        """Compute ``frame`` now and cut its lineage, so plans reading it stay small."""
        try:
            return frame.localCheckpoint(eager=True)
        except Exception as err:
            raise StoreError(name, failure_reason(err)) from err

    @contextmanager
    def _staged(
        self, name: str, sql: str, params: dict[str, Any] | None, *, prefix: str
    ) -> Iterator[DataFrame]:
        """The final select of ``sql`` with each CTE read more than once computed first as a view (see
        ``dialect.stages``); the step views are dropped when the block ends."""
        steps = dialect.stages(sql, prefix)
        # the checkpointed frames are held until the block ends: Spark Connect releases a checkpoint
        # on the server as soon as its Python DataFrame is garbage-collected, views reading it included
        views: dict[str, DataFrame] = {}
        try:
            for step in steps[:-1]:
                assert step.view is not None  # only the last stage has no view
                done = self._checkpoint(f"{name} ({step.view})", self._frame(name, step.sql, params))
                done.createOrReplaceTempView(step.view)
                views[step.view] = done
            yield self._frame(name, steps[-1].sql, params)
        finally:
            for view in views:
                self.session.catalog.dropTempView(view)
            views.clear()

    def close(self) -> None:
        """Drop the cached derived tables and results; the session stays (it may serve other stores)."""
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()
        with self._memo_lock:
            self._memo.clear()

    def __enter__(self) -> SparkStore:
        return self

    def _version(self) -> int:
        return int(self.query("schema version", "select max(version) from schema_info").scalar() or 0)

    def _frame(self, name: str, sql: str, params: dict[str, Any] | None) -> DataFrame:
        params = params or {}
        casts = tuple(sorted((key, cast) for key, value in params.items() if (cast := _cast_for(value))))
        try:
            translated = dialect.to_spark(sql, casts)
        except Exception as err:  # sqlglot's errors: a construct this translation does not know
            raise StoreError(name, f"cannot translate to Spark SQL: {str(err).splitlines()[0]}") from err
        given = {key: params[key] for key in translated.params if key in params}
        for key in translated.limit_params & given.keys():
            if given[key] is None:  # DuckDB: limit null = every row
                given[key] = NO_LIMIT
        args = {key: _literal(_bound(value)) for key, value in given.items()}
        unbound = translated.params - args.keys()
        if unbound:
            raise StoreError(name, f"parameters not given: {', '.join(sorted(unbound))}")
        try:
            return self.session.sql(translated.text, args=args or None)
        except Exception as err:  # AnalysisException & co.: name the query, keep the first line
            raise StoreError(name, failure_reason(err)) from err

    def query(self, name: str, sql: str, params: dict[str, Any] | None = None) -> Results:
        """Run one read query on Spark and collect its (aggregated) rows, or give the rows an earlier
        run of the same SQL with the same parameters collected (the tables never change under a store)."""
        key = _memo_key(sql, params)
        if key is None:
            return self._collect(name, sql, params)
        with self._memo_lock:
            known = self._memo.get(key)
            if known is not None:
                self._memo.move_to_end(key)
        if known is None:
            known = self._collect(name, sql, params)
            if len(known.rows) <= MEMO_MAX_ROWS:
                with self._memo_lock:
                    self._memo[key] = known
                    while len(self._memo) > MEMO_ENTRIES:
                        self._memo.popitem(last=False)
        return _fresh(known)

    def _collect(self, name: str, sql: str, params: dict[str, Any] | None) -> Results:
        frame = _naive_times(self._frame(name, sql, params))
        try:
            rows = frame.collect()
        except Exception as err:
            raise StoreError(name, failure_reason(err)) from err
        return Results(list(frame.columns), [tuple(_python(v) for v in row) for row in rows])

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Refused: a Spark store is read-only; files reach its location through ``spark_ingest``."""
        raise InputError(
            "this Spark store reads tables; it does not ingest or undo in place",
            hint="run `capi-desk --engine spark --spark-path DIR ingest FILE` (or `undo N`), then reopen it",
        )
        yield Transaction(None)  # never reached: the yield makes this a generator for contextmanager


def is_connect(session: SparkSession) -> bool:
    """Whether ``session`` is a Spark Connect client (``sc://``) rather than a JVM session in-process."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def _own_session(session: SparkSession) -> SparkSession:
    """A session of its own for one store: temp views are per session, and two stores (say, two
    folders) opened on one Spark session would otherwise read each other's tables.

    Spark Connect keeps the session it was given (one store per connection, as the CLI and the
    dashboard open): pyspark 4.x binds the result of ``localCheckpoint`` to the *active* session, so
    on a second Connect session the checkpointed tables would be looked up in the wrong server session
    (``CONNECT_INVALID_PLAN.DATAFRAME_NOT_FOUND``).
    """
    if is_connect(session):
        return session
    try:
        own = session.newSession()
    except Exception:  # a session type without newSession: one store per session
        return session
    for key, value in SESSION_CONF.items():
        own.conf.set(key, value)
    return own


def _parquet_tables(session: SparkSession, location: str) -> dict[str, DataFrame]:
    """Every ``<location>/<table>`` Parquet folder or file ``export-spark`` (or Spark ingest) wrote, by
    table name; rows of batches not committed (a failed Spark ingest, an undone batch) are hidden
    (``spark_location.committed_only``)."""
    from capi_core.engines.export import exported_tables
    from capi_core.engines.spark_location import committed_only

    tables: dict[str, DataFrame] = {}
    for table in exported_tables(location):
        tables[table] = session.read.parquet(f"{location.rstrip('/')}/{table}")
    return committed_only(tables)


def _namespace_tables(session: SparkSession, namespace: str) -> dict[str, DataFrame]:
    """The tables of an existing Spark namespace (``catalog.db`` or ``db``) named like the canonical ones,
    read as they are: a user's own pipeline writes them and need not register its rows in ``batches``
    (only locations this tool writes follow its commit protocol)."""
    names = {row.tableName for row in session.sql(f"show tables in {namespace}").collect()}  # validated name
    return {name: session.table(f"{namespace}.{name}") for name in names}


def open_spark_store(
    *, remote: str | None, location: str | None, session: SparkSession | None = None
) -> Store:
    """A store whose queries run on Spark over the tables at ``location``.

    ``location`` is a folder or URI of Parquet tables (``DIR/events``, ``DIR/truth``, ... as
    ``capi-desk export-spark`` writes them), or ``table:NAMESPACE`` for existing Spark tables with the
    canonical names and columns.
    """
    if not location:
        raise InputError(
            "--engine spark needs --spark-path",
            hint="a folder of Parquet tables (see capi-desk export-spark)",
        )
    spark = _own_session(session or spark_session(remote))
    if location.startswith("table:"):
        namespace = location.removeprefix("table:")
        if not _NAMESPACE.fullmatch(namespace):
            raise InputError(
                f"{namespace!r} is not a Spark namespace", hint="e.g. --spark-path table:lake.capi"
            )
        tables = _namespace_tables(spark, namespace)
    else:
        tables = _parquet_tables(spark, location)
    return SparkStore(spark, tables, label=location)
