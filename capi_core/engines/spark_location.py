"""A Parquet location that Spark ingest appends to: its layout, its creation, and its commit protocol.

Owns: creating a missing or empty location (every canonical table, empty, with exactly the schema
``capi-desk export-spark`` writes for a fresh DuckDB store, plus the export marker), the batch ids it
hands out, appending a batch's rows, committing a batch, hiding what was never committed
(``committed_only``, used by ``engines/spark.py`` when it opens a location) and undoing a batch.

The commit protocol (what makes a failed ingest leave the visible tables unchanged without transactions):

1. a batch's rows are written as new Parquet files into ``<location>/events`` (``truth``,
   ``meta_reported``) and ``<location>/quarantine``; files are only ever added, never rewritten;
2. its ``batches`` row is written last, as a file of its own in ``<location>/batches``;
3. readers see a row of a batched table only when ``batches`` holds its ``batch_id``.

A failure before step 2 leaves rows no reader sees (on a local folder they are also deleted; on a remote
URI they stay as invisible orphans, and new batch ids are chosen above them so they never become
visible). ``undo`` rewrites ``batches`` without the batch (new file first, then the old files removed;
duplicates from an interrupted undo are dropped on read), so the batch's rows become invisible.

One writer at a time: two ingests into one location at the same moment may pick the same batch id.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capi_core.engines.export import MARKER, canonical_tables, export_store
from capi_core.errors import InputError
from capi_core.store import Store

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Tables whose rows belong to a batch (hidden until the batch is committed, removed by undo).
BATCHED_TABLES: tuple[str, ...] = ("events", "truth", "meta_reported", "quarantine")


def is_local(location: str) -> bool:
    """A folder on this machine (a plain path or ``file://``) rather than a URI Spark resolves."""
    return "://" not in location or location.startswith("file://")


def _folder(location: str) -> Path:
    return Path(location.removeprefix("file://"))


def table_uri(location: str, table: str) -> str:
    """Where Spark reads and writes ``table`` (absolute for a local folder, so any session finds it)."""
    if is_local(location):
        return str(_folder(location).resolve() / table)
    return f"{location.rstrip('/')}/{table}"


@contextmanager
def _fresh_export() -> Iterator[Path]:
    """The canonical tables of a new, empty DuckDB store, exported as ``export-spark`` writes them."""
    with tempfile.TemporaryDirectory(prefix="capi-spark-init-") as tmp:
        with Store(Path(tmp) / "empty.duckdb") as store:
            export_store(store, Path(tmp) / "export")
        yield Path(tmp) / "export"


def check(location: str) -> None:
    """Refuse a local folder that cannot become a location (a file, or a folder of something else);
    writes nothing, so an ingest checks it before it reads the file."""
    if not is_local(location):
        return
    folder = _folder(location)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file", hint="--spark-path names a folder of Parquet tables")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise InputError(
            f"{folder} is not empty and holds no capi-desk tables",
            hint="name a new or empty folder, or one `capi-desk export-spark` wrote",
        )


def has_batches(session: SparkSession, location: str) -> bool:
    """Whether the location has a ``batches`` table yet (a new location has none: nothing ingested)."""
    if is_local(location):
        return (_folder(location) / "batches").is_dir()
    try:
        session.read.parquet(table_uri(location, "batches")).schema  # noqa: B018 (raises when missing)
    except Exception:  # AnalysisException: no such path
        return False
    return True


def prepare(session: SparkSession, location: str) -> None:
    """Make ``location`` ready for appends: create it (or the canonical tables it lacks) when needed.

    A local folder must be missing, empty, or an earlier export (it holds the export marker); each
    missing table is created on its own, so a setup interrupted half way is completed next time. A
    remote URI without a ``batches`` table gets every table written by Spark (empty, same schema),
    ``batches`` last: it is what marks the location ready.
    """
    check(location)
    if not is_local(location):
        _prepare_remote(session, location)
        return
    folder = _folder(location)
    missing = [name for name in canonical_tables() if not (folder / name).exists()]
    if not missing and (folder / MARKER).exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    with _fresh_export() as fresh:
        for name in missing:
            # copied under a temporary name and renamed: an interrupted copy leaves no half table
            partial = folder / f".{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(fresh / name, partial)
            partial.rename(folder / name)
        if not (folder / MARKER).exists():
            shutil.copy(fresh / MARKER, folder / MARKER)


def remote_setup_order() -> list[str]:
    """The tables a new remote location gets, in write order: ``batches`` last (it marks readiness, so a
    setup interrupted before it is redone; the empty files it appends again hold no rows)."""
    return [name for name in canonical_tables() if name != "batches"] + ["batches"]


def _prepare_remote(session: SparkSession, location: str) -> None:
    import pyarrow.parquet as pq

    if has_batches(session, location):
        return
    with _fresh_export() as fresh:
        for name in remote_setup_order():
            empty = pq.read_table(next((fresh / name).glob("*.parquet")))
            session.createDataFrame(empty).coalesce(1).write.mode("append").parquet(table_uri(location, name))


def raw_tables(session: SparkSession, location: str, tables: tuple[str, ...]) -> dict[str, DataFrame]:
    """The Parquet tables as stored, committed or not (for batch ids and appends)."""
    return {name: session.read.parquet(table_uri(location, name)) for name in tables}


def committed_only(tables: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """``tables`` as readers must see them: rows of the batched tables only for batch ids ``batches``
    holds, and ``batches`` without the duplicate rows an interrupted undo may leave."""
    from pyspark.sql import functions as F

    visible = dict(tables)
    batches = visible.get("batches")
    if batches is None:
        return visible
    batches = batches.dropDuplicates()
    visible["batches"] = batches
    ids = F.broadcast(batches.select(F.col("batch_id").alias("_committed_batch_id")).distinct())
    for name in BATCHED_TABLES:
        frame = visible.get(name)
        if frame is not None and "batch_id" in frame.columns:
            # a semi join keeps exactly the left side's columns, in their order
            visible[name] = frame.join(ids, frame["batch_id"] == ids["_committed_batch_id"], "left_semi")
    return visible


def visible_tables(
    session: SparkSession, location: str, tables: tuple[str, ...] | None = None
) -> dict[str, DataFrame]:
    """The canonical tables at ``location`` (or just ``tables``) as readers see them: committed batches
    only."""
    names = tuple(canonical_tables()) if tables is None else tuple({"batches", *tables})
    return committed_only(raw_tables(session, location, names))


def find_batch(session: SparkSession, location: str, sha: str) -> int | None:
    """The committed batch holding the file with this identity, if any."""
    from pyspark.sql import functions as F

    batches = visible_tables(session, location, ("batches",))["batches"]
    rows = batches.where(F.col("file_sha256") == F.lit(sha)).select("batch_id").limit(1).collect()
    return int(rows[0][0]) if rows else None


def next_batch_id(session: SparkSession, location: str) -> int:
    """One above every batch id at the location, committed or not (orphans of a failed ingest included,
    so committing the new batch never makes them visible)."""
    from pyspark.sql import functions as F

    frames = raw_tables(session, location, ("batches", *BATCHED_TABLES))
    ids = None
    for frame in frames.values():
        part = frame.select(F.col("batch_id").cast("bigint").alias("batch_id"))
        ids = part if ids is None else ids.unionByName(part)
    assert ids is not None
    top = ids.agg(F.max("batch_id")).collect()[0][0]
    return int(top or 0) + 1


class Appender:
    """Writes one batch's new files; on a local folder removes them again when the batch fails."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._before: dict[str, set[str]] = {}

    def _snapshot(self, table: str) -> None:
        if is_local(self.location) and table not in self._before:
            folder = _folder(self.location) / table
            self._before[table] = {p.name for p in folder.iterdir()} if folder.is_dir() else set()

    def append(self, frame: DataFrame, table: str, *, files: int | None = None) -> None:
        """Append ``frame`` (already in the table's column order and types) as new Parquet files."""
        self._snapshot(table)
        out = frame.coalesce(files) if files else frame
        out.write.mode("append").parquet(table_uri(self.location, table))

    def discard(self) -> None:
        """Best effort: remove what this batch wrote (local folders only; elsewhere rows stay hidden)."""
        for table, before in self._before.items():
            folder = _folder(self.location) / table
            for path in folder.iterdir() if folder.is_dir() else []:
                if path.name not in before:
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        path.unlink(missing_ok=True)


def batch_frame(session: SparkSession, location: str, row: dict[str, Any]) -> DataFrame:
    """One ``batches`` row in the table's own column order and types."""
    from pyspark.sql import functions as F

    schema = session.read.parquet(table_uri(location, "batches")).schema
    frame = session.createDataFrame([tuple(row[field.name] for field in schema.fields)], schema)
    return frame.select(*[F.col(field.name).cast(field.dataType) for field in schema.fields])


def remove_batch(session: SparkSession, location: str, batch_id: int) -> bool:
    """Undo: rewrite ``batches`` without ``batch_id`` (its rows become invisible). False when the batch
    is not committed. Local folders only: removing files needs the file system."""
    from pyspark.sql import functions as F

    if not is_local(location):
        raise InputError(
            "undo on a remote Spark location is not supported",
            hint="remove the batch's row from <location>/batches with your lake's tools",
        )
    folder = _folder(location) / "batches"
    current = visible_tables(session, location, ("batches",))["batches"]
    if not current.where(F.col("batch_id") == batch_id).limit(1).collect():
        return False
    old = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(("_", "."))]
    kept = current.where(F.col("batch_id") != batch_id).localCheckpoint(eager=True)
    before = {p.name for p in folder.iterdir()}
    kept.coalesce(1).write.mode("append").parquet(table_uri(location, "batches"))
    if not any(p.name not in before and p.suffix == ".parquet" for p in folder.iterdir()):
        # no rows left: Spark wrote no data file, so keep one empty file carrying the schema
        with _fresh_export() as fresh:
            shutil.copy(fresh / "batches" / "part-0.parquet", folder / f"part-undo-{batch_id}.parquet")
    for path in old:
        path.unlink(missing_ok=True)
        (folder / f".{path.name}.crc").unlink(missing_ok=True)  # Hadoop's checksum of the file
    return True
