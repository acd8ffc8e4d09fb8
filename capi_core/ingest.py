"""File -> reader -> canonical rows -> quarantine bad rows -> one transaction.

Guarantees (SPEC §2, §7): a file already ingested (same sha256) changes nothing; a record already stored
(same fingerprint and occurrence in its file) is not stored twice; rows that cannot be read go to
quarantine with their line number; rows read = stored + already stored + quarantined; any error leaves the
store exactly as it was, because the whole file is one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from capi_core import __version__, derived, fast_ingest, settings
from capi_core.canonical import canonical_event, canonical_truth, fingerprints
from capi_core.errors import UnreadableFileError
from capi_core.models import (
    EVENT_COLUMNS,
    TRUTH_COLUMNS,
    IncomingEvent,
    IncomingTruth,
    RowError,
    SourceKind,
)
from capi_core.queries import quote_ident
from capi_core.readers import Item, Reader, ReadOptions, ads_manager, detect, get_reader
from capi_core.readers.lead_stages import validate_overrides
from capi_core.store import META_REPORTED_COLUMNS, Store, Transaction

CHUNK_ROWS = 50_000
_ARROW_TYPES = {
    "integer": pa.int32(),
    "double": pa.float64(),
    "varchar": pa.string(),
    "timestamp": pa.timestamp("us"),
}
_BOOKKEEPING = frozenset({"batch_id", "fingerprint", "occurrence"})


@dataclass(frozen=True)
class IngestResult:
    """What one file did to the store."""

    batch_id: int | None
    source: SourceKind
    format: str
    file_name: str
    rows_read: int
    rows_stored: int
    rows_already_stored: int
    rows_quarantined: int
    secrets_stripped: int
    already_ingested: bool = False
    stage_map_not_applied: bool = False  # already ingested while a --stage-map was given

    @property
    def summary(self) -> str:
        """One line for the CLI and the Data page."""
        if self.already_ingested:
            line = f"{self.file_name}: already ingested as batch {self.batch_id}; nothing changed"
            if self.stage_map_not_applied:
                # stages are mapped when rows are read: a new mapping needs the rows read again
                line += (
                    f". The --stage-map was not applied: to apply a new mapping, run "
                    f"`capi-desk undo {self.batch_id}`, then ingest the file again with it"
                )
            return line
        parts = [
            f"{self.file_name} ({self.format}) -> batch {self.batch_id}: read {self.rows_read}",
            f"stored {self.rows_stored}",
        ]
        if self.rows_already_stored:
            parts.append(f"already stored {self.rows_already_stored}")
        parts.append(f"quarantined {self.rows_quarantined}")
        if self.secrets_stripped:
            parts.append(f"access tokens stripped {self.secrets_stripped}")
        return ", ".join(parts)


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes (the batch identity)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as err:
        raise UnreadableFileError(f"cannot open {path.name}: {err.strerror}") from err
    return digest.hexdigest()


class _Batch:
    """Accumulates canonical rows of one file and flushes them in chunks into the open transaction."""

    def __init__(self, tx: Transaction, batch_id: int, table: str, columns: dict[str, str]) -> None:
        self.tx, self.batch_id, self.table, self.columns = tx, batch_id, table, columns
        self.pending: list[dict[str, Any]] = []
        self.occurrences: Counter[str] = Counter()
        self.stored = self.already = 0

    def add(self, row: dict[str, Any]) -> None:
        self.pending.append(row)
        if len(self.pending) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        data = content_table(self.pending, self.columns)
        occurrences = []
        for key in data.column("fingerprint").to_pylist():
            self.occurrences[key] += 1
            occurrences.append(self.occurrences[key])
        data = data.append_column("batch_id", pa.array([self.batch_id] * len(occurrences), pa.int32()))
        data = data.append_column("occurrence", pa.array(occurrences, pa.int32()))
        inserted = self.tx.insert_new(self.table, data)
        self.stored += inserted
        self.already += len(self.pending) - inserted
        self.pending.clear()


def content_table(rows: list[dict[str, Any]], columns: dict[str, str]) -> pa.Table:
    """Canonical rows as an Arrow table of their ``columns`` plus ``fingerprint`` (no batch/occurrence).

    Rows are converted once, and fingerprints computed over the Arrow columns (``canonical.fingerprints``).
    """
    schema = pa.schema([(name, _ARROW_TYPES[t]) for name, t in columns.items() if name not in _BOOKKEEPING])
    table = pa.Table.from_pylist(rows, schema=schema)
    arrays = {name: table.column(name).combine_chunks() for name in table.column_names}
    keys = fingerprints(arrays, columns) if rows else []
    return table.append_column("fingerprint", pa.array(keys, pa.string()))


def _read_all(reader: Reader, path: Path, options: ReadOptions) -> Iterable[Item]:
    try:
        yield from reader.read(path, options)
    except UnicodeDecodeError as err:
        raise UnreadableFileError(
            f"{path.name} has bytes that are not valid text", hint="re-export as UTF-8"
        ) from err


def ingest_file(
    store: Store,
    path: Path,
    source: SourceKind,
    *,
    fmt: str | None = None,
    options: ReadOptions | None = None,
    progress: Callable[[int], None] | None = None,
    fast: bool = True,
    stage: Callable[[str], None] | None = None,
) -> IngestResult:
    """Read one file into the store as one batch (see the module docstring for the guarantees).

    ``fast=False`` forces the Python reader where the DuckDB fast path would apply (server JSONL,
    Pixel beacons); both store the same rows. ``progress`` hears the records read so far, ``stage``
    each later step (storing, then every derived table brought up to date).
    """
    options = options or ReadOptions()
    options = replace(options, url_keys=(*options.url_keys, *settings.url_keys(store)))
    if options.stage_map:
        # before the already-ingested check: a bad mapping is an error whether or not the file is new
        validate_overrides(options.stage_map)
    path = Path(path)
    sha = file_sha256(path)
    if source == "meta":  # Meta's own reporting: its own reader and table, the same batch guarantees
        meta_reader = ads_manager.get_reader(fmt) if fmt else ads_manager.detect(path)
        meta_loader = _MetaReportedLoader(meta_reader.read(path, options))
        return _ingest(store, meta_loader, source, meta_reader.format, path.name, sha, progress, stage)
    reader = get_reader(source, fmt) if fmt else detect(path, source)
    if fast and fast_ingest.fast_format(reader, path):
        try:
            return _ingest(
                store, _FastLoader(path, reader, options), source, reader.format, path.name, sha, progress,
                stage,
            )  # fmt: skip
        except fast_ingest.FastPathUnavailable:
            pass  # rolled back; the Python reader reads the file (and explains what is wrong with it)
    loader = _PythonLoader(_read_all(reader, path, options), options)
    result = _ingest(store, loader, source, reader.format, path.name, sha, progress, stage)
    if result.already_ingested and options.stage_map:
        return replace(result, stage_map_not_applied=True)
    return result


def ingest_records(
    store: Store, records: Iterable[Item], source: SourceKind, *, label: str, fmt: str = "records"
) -> IngestResult:
    """Ingest records built in code (tests, demo) as one batch identified by ``label``."""
    sha = hashlib.sha256(f"records:{label}".encode()).hexdigest()
    return _ingest(store, _PythonLoader(records, ReadOptions()), source, fmt, label, sha, None)


@dataclass
class _Loaded:
    """What a loader did inside the transaction; the batch record and checks are shared."""

    read: int
    stored: int
    already: int
    secrets: int
    quarantined: list[RowError]


class _PythonLoader:
    """Reader items -> canonical rows in Python (the reference path, every format)."""

    def __init__(self, items: Iterable[Item], options: ReadOptions) -> None:
        self.items, self.options = items, options

    def __call__(
        self, tx: Transaction, batch_id: int, truth_kind: bool, progress: Callable[[int], None] | None
    ) -> _Loaded:
        table, columns = ("truth", TRUTH_COLUMNS) if truth_kind else ("events", EVENT_COLUMNS)
        batch = _Batch(tx, batch_id, table, columns)
        quarantined: list[RowError] = []
        read = secrets = 0
        country = self.options.default_country
        for item in self.items:
            read += 1
            if isinstance(item, RowError):
                quarantined.append(item)
                secrets += item.secrets
            elif isinstance(item, IncomingEvent) and not truth_kind:
                secrets += item.secrets_stripped
                batch.add(canonical_event(item, default_country=country, url_keys=self.options.url_keys))
            elif isinstance(item, IncomingTruth) and truth_kind:
                batch.add(canonical_truth(item, default_country=country))
            if progress is not None and read % 1000 == 0:
                progress(read)
        batch.flush()
        return _Loaded(read, batch.stored, batch.already, secrets, quarantined)


class _MetaReportedLoader:
    """Ads Manager rows (``source meta``) into ``meta_reported``: what Meta reported, not event copies."""

    def __init__(self, items: Iterable[ads_manager.ReportedRow | RowError]) -> None:
        self.items = items

    def __call__(
        self, tx: Transaction, batch_id: int, truth_kind: bool, progress: Callable[[int], None] | None
    ) -> _Loaded:
        batch = _Batch(tx, batch_id, "meta_reported", META_REPORTED_COLUMNS)
        quarantined: list[RowError] = []
        read = 0
        for item in self.items:
            read += 1
            if isinstance(item, RowError):
                quarantined.append(item)
            else:
                batch.add(item.as_row())
            if progress is not None and read % 1000 == 0:
                progress(read)
        batch.flush()
        return _Loaded(read, batch.stored, batch.already, 0, quarantined)


class _FastLoader:
    """Server JSONL and Pixel beacons through DuckDB (``fast_ingest``)."""

    def __init__(self, path: Path, reader: Reader, options: ReadOptions) -> None:
        self.path, self.reader, self.options = path, reader, options

    def __call__(
        self, tx: Transaction, batch_id: int, truth_kind: bool, progress: Callable[[int], None] | None
    ) -> _Loaded:
        counts = fast_ingest.load(tx, self.path, self.reader, self.options, batch_id, progress)
        return _Loaded(counts.read, counts.stored, counts.already, counts.secrets, counts.quarantined)


Loader = Callable[[Transaction, int, bool, Callable[[int], None] | None], _Loaded]


def _ingest(
    store: Store,
    loader: Loader,
    source: SourceKind,
    fmt: str,
    name: str,
    sha: str,
    progress: Callable[[int], None] | None,
    stage: Callable[[str], None] | None = None,
) -> IngestResult:
    existing = store.query(
        "find batch", "select batch_id from batches where file_sha256 = $sha", {"sha": sha}
    ).scalar()
    if existing is not None:
        return IngestResult(existing, source, fmt, name, 0, 0, 0, 0, 0, already_ingested=True)

    with store.transaction() as tx:
        batch_id = int(tx.execute("next batch id", "select nextval('batch_ids')").scalar())
        loaded = loader(tx, batch_id, source in ("orders", "leads"), progress)
        if stage is not None:
            stage(f"stored {loaded.stored:,} of {loaded.read:,} records")
        if loaded.read == 0:
            raise UnreadableFileError(f"{name}: no records found as {fmt}")
        if loaded.stored + loaded.already == 0:
            first_error = min(loaded.quarantined, key=lambda error: error.line_no)
            raise UnreadableFileError(
                f"{name}: no record could be read as {fmt} "
                f"(line {first_error.line_no}: {first_error.reason})",
                hint="check --source/--format; nothing was stored",
            )
        if loaded.quarantined:
            rows = [
                {"batch_id": batch_id, "line_no": error.line_no, "reason": error.reason[:500],
                 "raw_masked": error.raw[:2000]}
                for error in loaded.quarantined
            ]  # fmt: skip
            tx.insert_arrow("quarantine", pa.Table.from_pylist(rows))
        tx.execute(
            "record batch",
            """insert into batches values ($id, $source, $format, $name, $sha, $read, $stored, $already,
            $quarantined, $secrets, $at, $version)""",
            {"id": batch_id, "source": source, "format": fmt, "name": name, "sha": sha,
             "read": loaded.read, "stored": loaded.stored, "already": loaded.already,
             "quarantined": len(loaded.quarantined), "secrets": loaded.secrets,
             "at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "version": __version__},
        )  # fmt: skip
        if loaded.stored:
            derived.update(
                tx, batch_id, events_changed=source in ("server", "browser"),
                truth_changed=source in ("orders", "leads"), progress=_derived_stage(stage),
            )  # fmt: skip
    if progress is not None:
        progress(loaded.read)
    return IngestResult(
        batch_id, source, fmt, name, loaded.read, loaded.stored, loaded.already,
        len(loaded.quarantined), loaded.secrets,
    )  # fmt: skip


def _derived_stage(stage: Callable[[str], None] | None) -> Callable[[str], None] | None:
    if stage is None:
        return None
    return lambda table: stage(f"updating {table}")


def delete_batch(store: Store, batch_id: int, *, stage: Callable[[str], None] | None = None) -> bool:
    """Remove one batch and everything it stored (undo). False when there is no such batch."""
    with store.transaction() as tx:
        found = tx.execute(
            "find batch", "select count(*) from batches where batch_id = $id", {"id": batch_id}
        )
        if not found.scalar():
            return False

        def delete() -> None:
            for table in ("events", "truth", "meta_reported", "quarantine", "batches"):
                name = quote_ident(table, ["events", "truth", "meta_reported", "quarantine", "batches"])
                tx.execute(f"undo {table}", f"delete from {name} where batch_id = $id", {"id": batch_id})  # noqa: S608

        derived.remove_batch(tx, batch_id, delete, _derived_stage(stage))
    return True
