"""The Spark engine: the canonical tables on Apache Spark behind the ``Store`` read interface.

Owns: opening a Spark session (local, or Spark Connect with ``sc://HOST:PORT``) with the settings the
metric SQL needs, exposing the canonical tables to it (Parquet folders in a user-given location, or
existing tables the user names), building the derived tables there from ``capi_core.derived``'s queries,
and running every metric query translated by ``engines/dialect.py``. Callers hold a ``SparkStore`` where
they hold a ``Store`` and cannot tell which engine answers; only aggregates come back to Python.

Must not: move event rows through Python (tables are read and derived inside Spark), or change the
meaning of a query (the translation is tested for parity with DuckDB in tests/core/test_spark_parity.py).
The store is read-only: ingest and undo need DuckDB transactions, so files are ingested into a DuckDB
store and its tables put on Spark with ``capi-desk export-spark`` (ingest with Spark's own readers is
not built yet).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from capi_core import derived
from capi_core.engines import dialect
from capi_core.errors import InputError, StoreError
from capi_core.store import Results, Store, Transaction, load_query

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: Settings the translated SQL relies on: naive timestamps as in DuckDB, UTC, and null (not an error)
#: for a failed cast or a division by zero, as DuckDB's try_cast / division give.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "false",
}
#: Extra settings of a local session: two threads, few shuffle partitions, no web UI.
LOCAL_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "2g",
}
#: What a null ``limit`` parameter means (DuckDB reads it as no limit; Spark needs an integer).
NO_LIMIT = 2**31 - 1
_TOKEN = re.compile(r"(token=)[^;\s/]+", re.IGNORECASE)
_NAMESPACE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")


def spark_session(remote: str | None = None, *, master: str = "local[2]") -> SparkSession:
    """A Spark session: Spark Connect at ``remote`` (``sc://HOST:PORT``, else ``$SPARK_REMOTE``), else a
    local one on ``master``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise InputError(
            "--engine spark needs pyspark",
            hint="pip install 'capi-signal-desk[spark]' (and Java 17 for local)",
        ) from err
    builder = SparkSession.builder
    # SPARK_REMOTE keeps a URL carrying a token off the command line (and out of `ps`)
    remote = remote or os.environ.get("SPARK_REMOTE")
    if remote and not remote.startswith("sc://"):  # the value is not echoed: it may carry a token
        raise InputError("--spark-remote is not a Spark Connect URL", hint="e.g. sc://host:15002")
    with warnings.catch_warnings():
        # pyspark warns that it does not certify the installed pandas; the engine does not use pandas
        warnings.simplefilter("ignore", FutureWarning)
        try:
            if remote:
                session = builder.remote(remote).getOrCreate()
            else:
                for key, value in {**LOCAL_CONF, **SESSION_CONF}.items():
                    builder = builder.config(key, value)
                session = builder.master(master).appName("capi-desk").getOrCreate()
                session.sparkContext.setLogLevel("ERROR")
        except Exception as err:  # py4j / gRPC errors; the URL is not repeated
            where = "the Spark Connect endpoint" if remote else "a local Spark session"
            raise InputError(
                f"could not open {where}: {_reason(err)}",
                hint="check the sc:// URL and your access" if remote else "a local session needs Java 17",
            ) from err
    for key, value in SESSION_CONF.items():
        session.conf.set(key, value)
    return session


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


def _reason(err: Exception) -> str:
    """The line of a Spark error that says what went wrong (py4j wraps it after a line of its own)."""
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
            raise StoreError(name, _reason(err)) from err

    @contextmanager
    def _staged(
        self, name: str, sql: str, params: dict[str, Any] | None, *, prefix: str
    ) -> Iterator[DataFrame]:
        """The final select of ``sql`` with each CTE read more than once computed first as a view (see
        ``dialect.stages``); the step views are dropped when the block ends."""
        steps = dialect.stages(sql, prefix)
        views: list[str] = []
        try:
            for step in steps[:-1]:
                assert step.view is not None  # only the last stage has no view
                self._checkpoint(
                    f"{name} ({step.view})", self._frame(name, step.sql, params)
                ).createOrReplaceTempView(step.view)
                views.append(step.view)
            yield self._frame(name, steps[-1].sql, params)
        finally:
            for view in views:
                self.session.catalog.dropTempView(view)

    def close(self) -> None:
        """Drop the cached derived tables; the session stays (it may serve other stores)."""
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()

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
            raise StoreError(name, _reason(err)) from err

    def query(self, name: str, sql: str, params: dict[str, Any] | None = None) -> Results:
        """Run one read query on Spark and collect its (aggregated) rows."""
        frame = _naive_times(self._frame(name, sql, params))
        try:
            rows = frame.collect()
        except Exception as err:
            raise StoreError(name, _reason(err)) from err
        return Results(list(frame.columns), [tuple(_python(v) for v in row) for row in rows])

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Refused: Spark cannot roll back a failed ingest, so writes go to a DuckDB store."""
        raise InputError(
            "the Spark engine reads tables; it does not ingest or undo",
            hint="ingest into a DuckDB store (--db), then `capi-desk export-spark --to DIR`",
        )
        yield Transaction(None)  # never reached: the yield makes this a generator for contextmanager


def _own_session(session: SparkSession) -> SparkSession:
    """A session of its own for one store: temp views are per session, and two stores (say, two
    folders) opened on one Spark session would otherwise read each other's tables."""
    try:
        own = session.newSession()
    except Exception:  # Spark Connect without newSession: one store per connection
        return session
    for key, value in SESSION_CONF.items():
        own.conf.set(key, value)
    return own


def _parquet_tables(session: SparkSession, location: str) -> dict[str, DataFrame]:
    """Every ``<location>/<table>`` Parquet folder or file ``export-spark`` wrote, by table name."""
    from capi_core.engines.export import exported_tables

    tables: dict[str, DataFrame] = {}
    for table in exported_tables(location):
        tables[table] = session.read.parquet(f"{location.rstrip('/')}/{table}")
    return tables


def _namespace_tables(session: SparkSession, namespace: str) -> dict[str, DataFrame]:
    """The tables of an existing Spark namespace (``catalog.db`` or ``db``) named like the canonical ones."""
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
