"""Ingest onto Spark: a file read with Spark's own readers, appended to the Parquet tables at a location.

Owns: ``ingest_spark`` (one file -> one batch at a location, with the guarantees of ``ingest.py``, SPEC
§2/§7: read = stored + already stored + quarantined, quarantine with line numbers, a file already
ingested changes nothing, a row already stored under the same fingerprint and occurrence is not stored
twice, a failure leaves the visible tables unchanged, raw PII and tokens never stored), the Spark SQL
twin of ``canonical.fingerprint`` and the routing of lines Spark cannot map exactly to the Python reader.

Two paths, the same rows:

* formats in ``spark_formats.SPARK_SQL_FORMATS``: Spark reads the lines (``spark_lines``), the format's
  mapping query turns them into canonical rows and ``fingerprint_sql`` fingerprints them in Spark. Lines
  without a ``line_ok`` row, and lines whose ``value`` / ``predicted_ltv`` Spark would print differently
  from Python's ``repr`` (``double_text_is_python``), are read on the driver by the Python reader.
  Occurrences are numbered over both, by (line, position), as ``fast_ingest`` does;
* every other format (orders and CRM CSVs, HAR, Ads Manager exports, formats not mapped yet), and files
  whose bytes Spark could split or decode differently from Python (a byte-order mark, NUL, bytes that
  are not UTF-8, a JSON document rather than JSONL): ``ingest.ingest_file`` into a temporary DuckDB store
  on the driver, whose rows are then appended under the location's next batch id.

Batch identity: a local file is its SHA-256, as on DuckDB (a file ingested into DuckDB and exported is
recognised). A remote URI (``s3a://``, ``abfss://`` ...) is not downloaded to be hashed: its identity is
the SHA-256 of ``spark-file:<path>|<size>|<modification time>`` as Spark lists it, so the same object
ingested twice is a no-op, and a rewritten object is a new batch. A remote file of a format Spark does
not map is copied to the driver (Spark's ``binaryFile`` reader, up to ``MAX_REMOTE_COPY`` bytes) for the
Python reader and keeps that same identity (one identity per file, checked and stored alike). A local
path is handed to Spark as that path: a local session reads it, and so does a Spark Connect server
sharing the file system; for a cluster, give the file's lake URI. A local name Hadoop would read as a
glob or a URI (``[ ] { } * ? : \\`` ...) is handed over as a symlink with a plain name in a temporary
folder, so Spark reads exactly that file. ``expand_paths`` turns a folder or a glob into its files
(sorted), each ingested as a batch of its own; Spark's errors become ``spark_errors``' one-line errors.

Must not: write raw values (mapping queries select fields by path; the Python path hashes as ever),
collect mapped rows to the driver (only routed lines and aggregates come back), or make rows visible
before their batch row is written (``spark_location``'s commit protocol).
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow.parquet as pq

from capi_core import __version__, fast_ingest
from capi_core.canonical import FINGERPRINT_EXCLUDED, canonical_event
from capi_core.engines import spark_location
from capi_core.engines.export import export_store
from capi_core.engines.spark import SESSION_CONF, failure_reason
from capi_core.engines.spark_formats import SPARK_SQL_FORMATS
from capi_core.engines.spark_lines import numbered_lines
from capi_core.errors import CapiDeskError, InputError, StoreError, UnreadableFileError
from capi_core.ingest import IngestResult, content_table, file_sha256, ingest_file
from capi_core.models import EVENT_COLUMNS, IncomingEvent, RowError, SourceKind
from capi_core.privacy import url_keys_kept
from capi_core.queries import load_query
from capi_core.readers import (
    MAX_LINE_BYTES,
    Reader,
    ReadOptions,
    ads_manager,
    detect,
    get_reader,
    refuse_huge_line,
    require_regular_file,
)
from capi_core.readers.lead_stages import validate_overrides
from capi_core.store import Store

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: Largest remote file copied to the driver for a format Spark does not map (orders, HAR ...).
MAX_REMOTE_COPY = 512 * 1024 * 1024
#: Lines fetched to detect a remote file's format.
_HEAD_LINES = 200
_CONTENT = [name for name in EVENT_COLUMNS if name not in FINGERPRINT_EXCLUDED]
_SPARK_TYPES = {"integer": "int", "double": "double", "varchar": "string", "timestamp": "timestamp_ntz"}
_LINES_VIEW = "_spark_lines"
_JSON_FORMATS = frozenset({"capi_log", "capi_request", "capi_events", "browser_events", "fbq_jsonl"})
#: A local path Spark reads as written: anything else (glob characters, ':', '%', spaces ...) may be
#: read by Hadoop as a pattern or a URI, so such a file is given to Spark through a symlink.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._/-]+")
_GLOB_CHARS = frozenset("[]{}*?")


def mapping_query(fmt: str) -> str | None:
    """The Spark mapping query of ``fmt`` (``spark_formats``), or None when Python reads the format."""
    name = SPARK_SQL_FORMATS.get(fmt)
    return load_query(name) if name else None


def fingerprint_sql(columns: dict[str, str]) -> str:
    """Spark SQL computing ``canonical.fingerprint`` over a relation with these columns.

    Text is rendered as Python renders it: ``char_length`` counts code points like ``len``; timestamps
    as ``isoformat(timespec="microseconds")``; integers in decimal; doubles by Spark's cast, which equals
    ``repr`` only where ``double_text_is_python`` holds (the driver sends other rows to Python).
    Identifiers come from the column dict (code), never from a file.
    """
    parts = []
    for name, sql_type in columns.items():
        if name in FINGERPRINT_EXCLUDED:
            continue
        column = f"`{name}`"
        text = {
            "varchar": column,
            "timestamp": f"date_format({column}, \"yyyy-MM-dd'T'HH:mm:ss.SSSSSS\")",
        }.get(sql_type, f"cast({column} as string)")
        parts.append(f"coalesce(concat(cast(char_length({text}) as string), ':', {text}), '-')")
    return "sha2(cast(concat_ws('|', " + ", ".join(parts) + ") as binary), 256)"


def double_text_is_python(column: Column) -> Column:
    """True where Spark's text of the double equals Python's ``repr`` (or the value is null).

    Spark prints decimal notation only for 1e-3 <= |x| < 1e7 (Python for 1e-4 <= |x| < 1e16), and JDK 17
    does not always print the shortest digits. A decimal text with at most 15 significant digits that
    reads back as the same double has the digits of the shortest round trip (15-digit decimals are
    distinct doubles), which is what ``repr`` prints; zero must be +0.0 (``repr(-0.0)`` is '-0.0').
    """
    from pyspark.sql import functions as F

    text = column.cast("string")
    digits = F.regexp_replace(F.regexp_replace(F.regexp_replace(text, r"[-.]", ""), "^0+", ""), "0+$", "")
    return column.isNull() | (
        text.rlike(r"^-?[0-9]+\.[0-9]+$")
        & (F.length(digits) <= 15)
        & (text.cast("double") == column)
        & ((column != 0) | (F.atan2(column, F.lit(-1.0)) > 0))
    )


@dataclass(frozen=True)
class _File:
    """A file to ingest: where Spark reads it, where Python can (None: remote), and its batch identity."""

    uri: str
    name: str
    sha: str
    local: Path | None


@dataclass
class _Loaded:
    """What a path appended (rows) and what the batch row records."""

    read: int = 0
    stored: int = 0
    already: int = 0
    secrets: int = 0
    quarantine: list[dict[str, Any]] = field(default_factory=list)


def _is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _identify(session: SparkSession, path: str) -> _File:
    if not _is_remote(path):
        local = Path(path.removeprefix("file://"))
        if not local.is_file():
            raise UnreadableFileError(f"cannot open {local.name}: no such file", hint="check the path")
        return _File(str(local.resolve()), local.name, file_sha256(local), local)
    from pyspark.sql import functions as F

    name = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        listed = (
            session.read.format("binaryFile")
            .load(path)
            .select("path", "length", F.col("modificationTime").cast("string"))
            .limit(2)
            .collect()
        )
    except Exception as err:  # AnalysisException: the URI names nothing Spark can list
        raise UnreadableFileError(f"cannot open {name}", hint="check the URI and your access") from err
    if len(listed) != 1:
        raise InputError(
            f"{name} names {'more than one file' if listed else 'no file'}",
            hint="the CLI ingests each file of a folder or glob as its own batch; here give one file",
        )
    file_path, size, modified = listed[0]
    identity = f"spark-file:{file_path}|{size}|{modified}"
    return _File(path, name, hashlib.sha256(identity.encode()).hexdigest(), None)


def _remote_head(session: SparkSession, file: _File, folder: Path) -> Path:
    """The file's first lines as a local file of the same name (for format detection)."""
    from pyspark.sql import functions as F

    rows = (
        session.read.text(file.uri)
        .where(F.col("_metadata.file_block_start") == 0)
        .limit(_HEAD_LINES)
        .collect()
    )
    head = folder / "head" / file.name
    head.parent.mkdir()
    head.write_text("\n".join(row[0] for row in rows) + "\n", encoding="utf-8")
    return head


def _remote_copy(session: SparkSession, file: _File, folder: Path) -> _File:
    """A remote file of a format Spark does not map, copied to the driver for the Python reader."""
    from pyspark.sql import functions as F

    size = session.read.format("binaryFile").load(file.uri).select("length").collect()[0][0]
    if size > MAX_REMOTE_COPY:
        raise InputError(
            f"{file.name} is {size // (1024 * 1024)} MiB and its format is read by Python",
            hint=f"formats Spark maps: {', '.join(sorted(SPARK_SQL_FORMATS)) or 'none yet'}",
        )
    content = session.read.format("binaryFile").load(file.uri).select(F.col("content")).collect()[0][0]
    local = folder / "copy" / file.name
    local.parent.mkdir()
    local.write_bytes(bytes(content))
    # the identity stays the listed one: it is what the already-ingested check looks up next time
    return _File(file.uri, file.name, file.sha, local)


def _spark_readable(file: _File, folder: Path) -> _File:
    """A local file whose path Hadoop would misread (a glob, a URI), as a symlink with a plain name."""
    if file.local is None or _PLAIN_PATH.fullmatch(file.uri):
        return file
    suffix = "".join(ch for ch in file.local.suffix if ch.isalnum() or ch == ".")
    link = folder / "link" / f"input{suffix}"
    link.parent.mkdir()
    link.symlink_to(file.local.resolve())
    return replace(file, uri=str(link))


def expand_paths(session: SparkSession | None, path: str) -> list[str]:
    """The files ``path`` names, sorted: itself, a folder's files (not hidden, not recursive), or a
    glob's matches; a remote folder or glob is listed by Spark. Nothing found: one clear error."""
    name = path.rstrip("/").rsplit("/", 1)[-1] or path
    if not _is_remote(path):
        local = Path(path.removeprefix("file://"))
        if local.is_dir():
            files = [p for p in local.iterdir() if p.is_file() and not p.name.startswith((".", "_"))]
        elif local.exists() or not _GLOB_CHARS & set(path):
            require_regular_file(local)  # missing, a device (/dev/zero would be read forever), a pipe
            return [path]
        else:
            files = [Path(match) for match in glob.glob(str(local)) if Path(match).is_file()]
        if not files:
            raise UnreadableFileError(f"{name} holds no files", hint="check the path")
        return [str(p) for p in sorted(files)]
    if session is None:  # only the CLI's Spark session lists remote paths
        return [path]
    try:
        listed = session.read.format("binaryFile").load(path).select("path").collect()
    except Exception as err:  # AnalysisException: the URI names nothing Spark can list
        raise UnreadableFileError(f"cannot open {name}", hint="check the URI and your access") from err
    if not listed:
        raise UnreadableFileError(f"{name} holds no files", hint="check the URI")
    return sorted(str(row[0]) for row in listed)


@contextmanager
def spark_errors(action: str, hint: str) -> Iterator[None]:
    """Spark's exceptions during ``action`` as one-line errors (exit 2 in the CLI, no traceback).

    Only an analysis error (a path, table or column that does not resolve: about the plan, never the
    rows) keeps Spark's first line; any other failure may quote data (a value in a cast or parse
    error), so it is reported by its type only.
    """
    try:
        yield
    except CapiDeskError:
        raise
    except Exception as err:
        from py4j.protocol import Py4JError
        from pyspark.errors import AnalysisException, PySparkException

        if isinstance(err, AnalysisException):
            raise InputError(f"{action} failed: {failure_reason(err)[:300]}", hint=hint) from err
        if isinstance(err, PySparkException | Py4JError):
            detail = f"Spark failed ({type(err).__name__}); the visible tables are unchanged — {hint}"
            raise StoreError(action, detail) from err
        raise


def _first_content_line(path: Path) -> str | None:
    with path.open("rb") as handle:
        for raw in handle:
            text = raw.decode("utf-8", errors="replace").strip()
            if text:
                return text
    return None


def _is_jsonl(path: Path) -> bool:
    """JSONL as ``_json.json_records`` decides it: the first non-blank line is a JSON object."""
    text = _first_content_line(path)
    if text is None or text.startswith("["):
        return False
    try:
        return isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError:
        return False


def _quarantine_rows(errors: list[RowError]) -> list[dict[str, Any]]:
    return [
        {"line_no": error.line_no, "reason": error.reason[:500], "raw_masked": error.raw[:2000]}
        for error in errors
    ]


def _append_new(
    session: SparkSession,
    location: str,
    appender: spark_location.Appender,
    table: str,
    ranked: DataFrame,
) -> tuple[int, int]:
    """Append the ranked rows not already stored (same fingerprint and occurrence in a committed batch);
    returns (rows staged, rows stored), both counted while the rows are written."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    schema = spark_location.raw_tables(session, location, (table,))[table].schema
    visible = spark_location.visible_tables(session, location, (table,))[table]
    existing = visible.select("fingerprint", "occurrence")
    staged, stored = Observation(f"staged_{table}"), Observation(f"stored_{table}")
    rows = ranked.observe(staged, F.count(F.lit(1)).alias("n"))
    new = rows.join(existing, ["fingerprint", "occurrence"], "left_anti").observe(
        stored, F.count(F.lit(1)).alias("n")
    )
    appender.append(new.select(*[F.col(f.name).cast(f.dataType) for f in schema.fields]), table)
    return int(staged.get["n"]), int(stored.get["n"])


def _python_load(
    session: SparkSession,
    location: str,
    appender: spark_location.Appender,
    file: _File,
    source: SourceKind,
    fmt: str | None,
    options: ReadOptions,
    batch_id: int,
    progress: Callable[[int], None] | None,
) -> _Loaded:
    """The Python reader into a temporary DuckDB store, whose rows are then appended at the location."""
    from pyspark.sql import functions as F

    assert file.local is not None
    with tempfile.TemporaryDirectory(prefix="capi-spark-ingest-") as tmp:
        with Store(Path(tmp) / "ingest.duckdb") as store:
            result = ingest_file(store, file.local, source, fmt=fmt, options=options, progress=progress)
            export_store(store, Path(tmp) / "export")
        loaded = _Loaded(read=result.rows_read, secrets=result.secrets_stripped)
        for table in ("events", "truth", "meta_reported"):
            rows = pq.read_table(Path(tmp) / "export" / table / "part-0.parquet")
            if rows.num_rows:
                frame = session.createDataFrame(rows).withColumn("batch_id", F.lit(batch_id))
                staged, stored = _append_new(session, location, appender, table, frame)
                loaded.stored += stored
                loaded.already += staged - stored
        quarantine = pq.read_table(Path(tmp) / "export" / "quarantine" / "part-0.parquet")
        loaded.quarantine = [
            {key: row[key] for key in ("line_no", "reason", "raw_masked")} for row in quarantine.to_pylist()
        ]
    return loaded


def _spark_safe(probe: Path, reader: Reader) -> bool:
    """Whether the file whose head is ``probe`` (the local file, or a remote file's first lines) can
    take the Spark path: no byte-order mark (Python drops it, Spark keeps it), and for JSON formats
    JSONL rather than one JSON document (which only the Python reader reads as a whole)."""
    with probe.open("rb") as handle:
        head = handle.read(3)
    if head.startswith(b"\xef\xbb\xbf"):
        return False
    return reader.format not in _JSON_FORMATS or _is_jsonl(probe)


def _python_rows(
    session: SparkSession,
    routed: DataFrame,
    reader: Reader,
    options: ReadOptions,
    name: str,
    loaded: _Loaded,
) -> DataFrame | None:
    """Routed lines read by the Python reader on the driver; their rows as a frame (line_no, pos,
    fingerprint, content), quarantined items and counts added to ``loaded``."""
    rows: list[dict[str, Any]] = []
    positions: list[int] = []
    errors: list[RowError] = []
    for line_no, text in routed.orderBy("line_no").toLocalIterator():
        if len(text) > MAX_LINE_BYTES:  # the Python reader refuses such files; so must this path
            refuse_huge_line(name, int(line_no))
        for pos, item in enumerate(fast_ingest.line_items(reader, int(line_no), text, options), start=1):
            loaded.read += 1
            if isinstance(item, RowError):
                errors.append(item)
                loaded.secrets += item.secrets
            elif isinstance(item, IncomingEvent):
                loaded.secrets += item.secrets_stripped
                rows.append(
                    canonical_event(item, default_country=options.default_country, url_keys=options.url_keys)
                )
                positions.append(pos)
    loaded.quarantine = _quarantine_rows(errors)
    if not rows:
        return None
    import pyarrow as pa

    table = content_table(rows, EVENT_COLUMNS).append_column("pos", pa.array(positions, pa.int64()))
    return session.createDataFrame(table)


def _spark_load(
    session: SparkSession,
    location: str,
    appender: spark_location.Appender,
    file: _File,
    reader: Reader,
    sql: str,
    options: ReadOptions,
    batch_id: int,
) -> _Loaded | None:
    """The mapping query's rows plus the routed lines' Python rows, ranked and appended. None when Spark
    reads the file's bytes differently from Python (the caller takes the Python path)."""
    from pyspark.sql import Observation, Window
    from pyspark.sql import functions as F

    lines, clean = numbered_lines(session, file.uri, file.name)
    if not clean:
        return None
    lines.createOrReplaceTempView(_LINES_VIEW)
    try:
        params = {
            # literals only (Spark refuses expressions as arguments): a null is an untyped NULL
            "pixel_id": F.lit(options.pixel_id),
            "default_country": F.lit(options.default_country),
            "max_line": F.lit(MAX_LINE_BYTES),
            "format": F.lit(reader.format),  # one query may serve several formats (spark_formats)
            "url_keys": F.array(*[F.lit(key) for key in url_keys_kept(options.url_keys)]),
        }
        # computed once and cut from its lineage: every step below reads it (the mapping plans are big,
        # and re-planning them inside joins costs more driver memory than the rows cost on executors)
        ok = session.sql(sql, args=params).where(F.col("line_ok")).localCheckpoint(eager=True)
        inexact = ok.where(
            ~(double_text_is_python(F.col("value")) & double_text_is_python(F.col("predicted_ltv")))
        ).select("line_no")
        taken = ok.join(inexact, "line_no", "left_anti")
        routed = lines.join(taken.select("line_no").distinct(), "line_no", "left_anti")
        loaded = _Loaded()
        python_rows = _python_rows(session, routed, reader, options, file.name, loaded)
        counted = Observation("spark_rows")
        sql_rows = taken.where(F.col("pos") > 0).observe(
            counted,
            F.count(F.lit(1)).alias("n"),
            F.coalesce(F.sum(F.when(F.col("pos") == 1, F.col("secrets"))), F.lit(0)).alias("secrets"),
        )
        typed = sql_rows.select(
            F.col("line_no").cast("bigint").alias("line_no"),
            F.col("pos").cast("bigint").alias("pos"),
            *[F.col(name).cast(_SPARK_TYPES[EVENT_COLUMNS[name]]).alias(name) for name in _CONTENT],
        ).withColumn("fingerprint", F.expr(fingerprint_sql(EVENT_COLUMNS)))
        staged = typed if python_rows is None else typed.unionByName(python_rows.select(*typed.columns))
        order = Window.partitionBy("fingerprint").orderBy("line_no", "pos")
        ranked = staged.withColumn("occurrence", F.row_number().over(order)).withColumn(
            "batch_id", F.lit(batch_id)
        )
        _staged, loaded.stored = _append_new(session, location, appender, "events", ranked)
        metrics = counted.get
        loaded.read += int(metrics["n"])
        loaded.secrets += int(metrics["secrets"])
        loaded.already = _staged - loaded.stored
        return loaded
    finally:
        session.catalog.dropTempView(_LINES_VIEW)


def _reader_for(source: SourceKind, fmt: str | None, path: Path) -> str:
    """The format name the file is read as (detection errors are raised here, before anything else)."""
    if source == "meta":
        return (ads_manager.get_reader(fmt) if fmt else ads_manager.detect(path)).format
    return (get_reader(source, fmt) if fmt else detect(path, source)).format


def ingest_spark(
    session: SparkSession,
    location: str,
    path: str,
    source: SourceKind,
    *,
    fmt: str | None = None,
    options: ReadOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Read one file (a local path or a URI Spark reads) into the tables at ``location`` as one batch.

    See the module docstring for the two paths and the batch identity; ``spark_location`` for how a
    failure leaves the visible tables unchanged.
    """
    for key, value in SESSION_CONF.items():  # the mapping queries and fingerprints rely on them
        session.conf.set(key, value)
    options = options or ReadOptions()
    if options.stage_map:
        validate_overrides(options.stage_map)
    # the file and its format are checked before the location is created or changed
    spark_location.check(location)
    file = _identify(session, path)
    with tempfile.TemporaryDirectory(prefix="capi-spark-file-") as tmp:
        probe = file.local or _remote_head(session, file, Path(tmp))
        fmt_name = _reader_for(source, fmt, probe)
        if spark_location.has_batches(session, location):
            existing = spark_location.find_batch(session, location, file.sha)
            if existing is not None:
                done = IngestResult(
                    existing, source, fmt_name, file.name, 0, 0, 0, 0, 0, already_ingested=True
                )
                return replace(done, stage_map_not_applied=bool(options.stage_map))
        sql = mapping_query(fmt_name) if source in ("server", "browser") else None
        if sql is not None and not _spark_safe(probe, get_reader(source, fmt_name)):
            sql = None
        if sql is None and file.local is None:
            file = _remote_copy(session, file, Path(tmp))
        file = _spark_readable(file, Path(tmp))
        spark_location.prepare(session, location)
        batch_id = spark_location.next_batch_id(session, location)
        appender = spark_location.Appender(location)
        try:
            loaded = None
            if sql is not None:
                reader = get_reader(source, fmt_name)
                loaded = _spark_load(session, location, appender, file, reader, sql, options, batch_id)
                if loaded is None and file.local is None:
                    raise UnreadableFileError(
                        f"{file.name} has bytes that are not UTF-8 text (or a byte-order mark)",
                        hint="re-export it as UTF-8 without a BOM; nothing was stored",
                    )
            if loaded is None:
                loaded = _python_load(
                    session, location, appender, file, source, fmt_name, options, batch_id, progress
                )
            result = _commit(session, location, appender, file, source, fmt_name, batch_id, loaded)
        except BaseException:
            appender.discard()
            raise
    if progress is not None:
        progress(result.rows_read)
    return result


def _commit(
    session: SparkSession,
    location: str,
    appender: spark_location.Appender,
    file: _File,
    source: SourceKind,
    fmt: str,
    batch_id: int,
    loaded: _Loaded,
) -> IngestResult:
    """Checks as ``ingest._ingest`` makes them, then the quarantine and, last, the batch row."""
    if loaded.read == 0:
        raise UnreadableFileError(f"{file.name}: no records found as {fmt}")
    if loaded.stored + loaded.already == 0:
        first = min(loaded.quarantine, key=lambda row: int(row["line_no"]))
        raise UnreadableFileError(
            f"{file.name}: no record could be read as {fmt} (line {first['line_no']}: {first['reason']})",
            hint="check --source/--format; nothing was stored",
        )
    if loaded.quarantine:
        schema = spark_location.raw_tables(session, location, ("quarantine",))["quarantine"].schema
        rows = [{**row, "batch_id": batch_id} for row in loaded.quarantine]
        frame = session.createDataFrame([tuple(row[f.name] for f in schema.fields) for row in rows], schema)
        appender.append(frame, "quarantine", files=1)
    row = {
        "batch_id": batch_id, "source": source, "format": fmt, "file_name": file.name,
        "file_sha256": file.sha, "rows_read": loaded.read, "rows_stored": loaded.stored,
        "rows_already_stored": loaded.already, "rows_quarantined": len(loaded.quarantine),
        "secrets_stripped": loaded.secrets,
        "ingested_at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "tool_version": __version__,
    }  # fmt: skip
    appender.append(spark_location.batch_frame(session, location, row), "batches", files=1)
    return IngestResult(
        batch_id, source, fmt, file.name, loaded.read, loaded.stored, loaded.already,
        len(loaded.quarantine), loaded.secrets,
    )  # fmt: skip
