"""Fast ingest of server JSONL (capi_log, capi_request, capi_events) and Pixel beacon files
(pixel_beacons): DuckDB reads and maps the lines.

Owns: deciding whether a file can take the fast path (``fast_format``), running the SQL that turns
each line's events into canonical rows (``queries/ingest_fast_events.sql`` for server JSONL,
``queries/ingest_fast_beacons.sql`` for beacons), handing every line SQL cannot decide to the Python
reader (``line_items``, which the Spark ingest uses too), and the SQL twin of
``canonical.fingerprint``. The Python reader and ``canonical.py`` stay the reference: SQL maps only
shapes whose result it can reproduce exactly (64-hex hashes, IPv4 and IPv6, integer epochs, ISO
times, page URLs it masks as ``privacy.mask_url`` does...), and any line holding anything else (raw
PII, odd types, bad events, credentials it cannot count, page URLs holding an email, a key repeated in
an object it reads, where DuckDB takes the first value and orjson the last) is read by Python as a
whole, so both paths store the same rows (tests/core/test_fast_ingest.py and test_fast_ingest_beacons.py
check it property-based). The server SQL reads the types and texts of a line's envelope values, then of
each event's, with one path list each (``fx_leaves``: two parses of the line, two of the event), and
judges every value from those leaves (the ``fx_`` macros).

Must not: write raw values to the store. Raw lines live only in TEMP tables of the ingest
transaction, dropped before it commits; rows leave as canonical (hashed) columns. Credentials are
counted, never copied: the SQL selects the fields it needs by path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import orjson
import pyarrow as pa
import pycountry

from capi_core.canonical import FINGERPRINT_EXCLUDED, canonical_event, fingerprint
from capi_core.errors import StoreError
from capi_core.models import EVENT_COLUMNS, IncomingEvent, RowError
from capi_core.privacy import url_keys_kept
from capi_core.queries import load_query, quote_ident
from capi_core.readers import (
    MAX_LINE_BYTES,
    Reader,
    ReadOptions,
    line_record,
    masked,
    nul_line_error,
    refuse_huge_line,
    strip_record,
)
from capi_core.readers.browser import COMMENT, PixelBeaconReader
from capi_core.readers.server import RecordError
from capi_core.store import Transaction

#: Server JSONL formats the fast path maps (queries/ingest_fast_events.sql).
SERVER_FORMATS = frozenset({"capi_log", "capi_request", "capi_events"})
#: Every format the fast path maps: the server ones and Pixel beacons (queries/ingest_fast_beacons.sql).
FAST_FORMATS = SERVER_FORMATS | {"pixel_beacons"}
_TEMP_TABLES = ("_fast_lines", "_fast_events", "_fast_currencies", "_fast_keys", "_fast_python")
_CONTENT = [name for name in EVENT_COLUMNS if name not in FINGERPRINT_EXCLUDED]
_SCAN_CHUNK = 1 << 22


class FastPathUnavailable(Exception):
    """DuckDB could not read the file line for line; the caller reads it with the Python path."""


class _RecordReader(Protocol):
    def record_items(
        self, value: Any, line_no: int, secrets: int, options: ReadOptions
    ) -> Iterator[IncomingEvent | RowError]: ...


@dataclass
class FastCounts:
    """What the fast path did inside the transaction (the caller records the batch)."""

    read: int = 0
    stored: int = 0
    already: int = 0
    secrets: int = 0
    quarantined: list[RowError] = field(default_factory=list)


def _sql_text(name: str, sql_type: str) -> str:
    column = quote_ident(name, list(EVENT_COLUMNS))
    if sql_type == "timestamp":
        return f"strftime({column}, '%Y-%m-%dT%H:%M:%S.%f')"
    return f"{column}::varchar"


def fingerprint_sql(columns: dict[str, str]) -> str:
    """SQL expression computing ``canonical.fingerprint`` over a relation with these columns.

    Doubles cast to varchar print as Python's ``repr`` (shortest round trip); timestamps print as
    ``isoformat(timespec="microseconds")``; ``length`` counts code points like ``len``.
    """
    parts = []
    for name, sql_type in columns.items():
        if name in FINGERPRINT_EXCLUDED:
            continue
        text = _sql_text(name, sql_type)
        # || propagates null, so coalesce gives '-' for a null value (text rendered twice, not thrice)
        parts.append(f"coalesce(length({text}) || ':' || {text}, '-')")
    return "sha256(concat_ws('|', " + ", ".join(parts) + "))"


def fast_format(reader: Reader, path: Path) -> bool:
    """Whether ``path`` read as ``reader.format`` can take the fast path.

    The format must be one SQL maps, a server file JSONL as ``_json.json_records`` decides it (first
    non-blank line a JSON object), and its bytes such that DuckDB splits lines exactly as Python's
    universal newlines do: no carriage return, no byte-order mark. (Lines holding NUL bytes are split
    alike; ``load`` quarantines them.)
    """
    if reader.format not in FAST_FORMATS:
        return False
    with path.open("rb") as handle:
        head = handle.read(3)
        if head.startswith(b"\xef\xbb\xbf"):
            return False
        handle.seek(0)
        for chunk in iter(lambda: handle.read(_SCAN_CHUNK), b""):
            if b"\r" in chunk:
                return False
        if reader.format not in SERVER_FORMATS:
            return True
        handle.seek(0)
        for raw in handle:
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                return False
            if text:
                try:
                    return not text.startswith("[") and isinstance(orjson.loads(text), dict)
                except orjson.JSONDecodeError:
                    return False
    return False


def _line_count(path: Path) -> int:
    count, last = 0, b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_SCAN_CHUNK), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (1 if last not in (b"", b"\n") else 0)


def _nul_lines(path: Path) -> dict[int, str]:
    """Line number -> text of the lines holding NUL bytes (a crash's zero-filled tail), read in Python:
    DuckDB cuts such a line at its first NUL. Empty for the usual file, after one fast scan."""
    with path.open("rb") as handle:
        if not any(b"\x00" in chunk for chunk in iter(lambda: handle.read(_SCAN_CHUNK), b"")):
            return {}
        handle.seek(0)
        found: dict[int, str] = {}
        for line_no, raw in enumerate(handle, start=1):
            if b"\x00" in raw:
                if len(raw) > MAX_LINE_BYTES:  # the Python reader refuses such files; so must this path
                    refuse_huge_line(path.name, line_no)
                try:
                    found[line_no] = raw.decode("utf-8").strip()
                except UnicodeDecodeError as err:
                    raise FastPathUnavailable(f"line {line_no} is not UTF-8") from err
        return found


def _statements(name: str) -> list[str]:
    return [part.strip() for part in load_query(name).split(";\n") if part.strip()]


def _read_lines(tx: Transaction, path: Path, nul_lines: dict[int, str]) -> None:
    for statement in _statements("ingest_fast_macros"):
        tx.execute("fast ingest macros", statement)
    codes = sorted(str(currency.alpha_3) for currency in pycountry.currencies)
    tx.execute(
        "fast ingest currencies",
        "create temp table _fast_currencies as select unnest($codes::varchar[]) as code",
        {"codes": codes},
    )
    try:
        tx.execute(
            "fast ingest lines",
            load_query("ingest_fast_lines"),
            {"path": str(path), "max": MAX_LINE_BYTES * 4, "strict": not nul_lines},
        )
    except StoreError as err:  # e.g. bytes that are not UTF-8: the Python reader explains it
        raise FastPathUnavailable(str(err)) from err
    read = tx.execute("fast ingest line count", "select count(*) from _fast_lines").scalar()
    if read != _line_count(path):
        raise FastPathUnavailable(f"DuckDB read {read} lines")
    if nul_lines:  # read as blank here; quarantined by load() as the Python reader does
        tx.execute(
            "fast ingest NUL lines",
            "update _fast_lines set text = null where list_contains($lines, line_no)",
            {"lines": list(nul_lines)},
        )


def _python_items(
    reader: _RecordReader, line_no: int, line: str, options: ReadOptions
) -> Iterator[IncomingEvent | RowError]:
    """One line as ``_json._jsonl`` then ``server._JsonReader._record`` read it."""
    text = line.strip()
    if not text:
        return
    record = line_record(line_no, text)
    if isinstance(record, RowError):
        yield record
        return
    value, secrets = strip_record(record)
    try:
        yield from reader.record_items(value, line_no, secrets, options)
    except RecordError as err:
        yield RowError(line_no, str(err), masked(value), secrets=secrets)


def line_items(
    reader: Reader, line_no: int, line: str, options: ReadOptions
) -> Iterator[IncomingEvent | RowError]:
    """One line an SQL mapping left to Python, read by the format's Python reader (here and in the
    Spark ingest, which routes lines the same way)."""
    if isinstance(reader, PixelBeaconReader):
        yield from reader.line_items(line_no, line, options)
    elif hasattr(reader, "record_items"):
        yield from _python_items(cast(_RecordReader, reader), line_no, line, options)
    else:  # a mapping query registered for a format without a line reader: a programming error
        raise NotImplementedError(f"no line reader for {reader.format}")


def _stage_python_lines(
    tx: Transaction,
    reader: Reader,
    options: ReadOptions,
    batch_id: int,
    counts: FastCounts,
    file_name: str,
) -> None:
    """Lines SQL left to Python, appended to ``events`` with placeholder occurrences (negative)."""
    lines = tx.execute("fast ingest routed lines", load_query("ingest_fast_routed")).rows
    schema = pa.schema([(name, _arrow_type(t)) for name, t in EVENT_COLUMNS.items()])
    rows: list[dict[str, Any]] = []
    for line_no, line in lines:
        if len(line) > MAX_LINE_BYTES:  # the Python reader refuses such files; so must this path
            refuse_huge_line(file_name, line_no)
        for item in line_items(reader, line_no, line, options):
            counts.read += 1
            if isinstance(item, RowError):
                counts.quarantined.append(item)
                counts.secrets += item.secrets
                continue
            counts.secrets += item.secrets_stripped
            row = canonical_event(item, default_country=options.default_country, url_keys=options.url_keys)
            row.update(
                batch_id=batch_id, fingerprint=fingerprint(row, EVENT_COLUMNS), occurrence=-len(rows) - 1
            )
            rows.append(row)
    if rows:
        tx.insert_arrow("events", pa.Table.from_pylist(rows, schema=schema))


def _arrow_type(sql_type: str) -> pa.DataType:
    return {"integer": pa.int32(), "double": pa.float64(), "varchar": pa.string()}.get(
        sql_type, pa.timestamp("us")
    )


def _insert_ranked(tx: Transaction, batch_id: int, counts: FastCounts) -> None:
    """Fingerprints, occurrences by (line, position) over SQL and Python rows, then new rows stored.

    The occurrence window runs over narrow rows (line, position, fingerprint) in ``_fast_keys``; the wide
    rows are read once, by the insert, joined to their keys on (line, position), which is unique: a line is
    read either by SQL (positions 1..n) or by Python (its rows' placeholder occurrences, negated).
    """
    cols = ", ".join(quote_ident(name, _CONTENT) for name in _CONTENT)
    row_cols = ", ".join("r." + quote_ident(name, _CONTENT) for name in _CONTENT)
    fp = fingerprint_sql(EVENT_COLUMNS)
    # identifiers come from EVENT_COLUMNS through quote_ident; values are bound
    tx.execute(
        "fast ingest keys",
        f"""create temp table _fast_keys as
with staged as (
    select line_no, pos, {fp} as fingerprint
    from _fast_events
    where line_ok and pos > 0
    union all
    select line_no, -occurrence as pos, fingerprint
    from events
    where batch_id = $batch_id and occurrence < 0
)
select
    line_no,
    pos,
    fingerprint,
    row_number() over (partition by fingerprint order by line_no, pos)::integer as occurrence
from staged""",  # noqa: S608
        {"batch_id": batch_id},
    )
    tx.execute(
        "fast ingest python rows",
        f"""create temp table _fast_python as
select line_no, -occurrence as pos, {cols}
from events
where batch_id = $batch_id and occurrence < 0""",  # noqa: S608
        {"batch_id": batch_id},
    )
    tx.execute(
        "fast ingest drop placeholders",
        "delete from events where batch_id = $batch_id and occurrence < 0",
        {"batch_id": batch_id},
    )
    staged = int(tx.execute("fast ingest staged", "select count(*) from _fast_keys").scalar())
    stored = tx.execute(
        "fast ingest insert",
        f"""insert into events (batch_id, fingerprint, occurrence, line_no, {cols})
with rows as (
    select line_no, pos, {cols}
    from _fast_events
    where line_ok and pos > 0
    union all
    select line_no, pos, {cols}
    from _fast_python
)
select
    $batch_id::integer as batch_id,
    k.fingerprint,
    k.occurrence,
    r.line_no::integer as line_no,
    {row_cols}
from rows r
join _fast_keys k
  on k.line_no = r.line_no
 and k.pos = r.pos
where not exists (
    select 1 from events e where e.fingerprint = k.fingerprint and e.occurrence = k.occurrence
)""",  # noqa: S608
        {"batch_id": batch_id},
    )
    counts.stored = int(stored.scalar() or 0)
    counts.already = staged - counts.stored


def load(
    tx: Transaction,
    path: Path,
    reader: Reader,
    options: ReadOptions,
    batch_id: int,
    progress: Callable[[int], None] | None = None,
) -> FastCounts:
    """Read ``path`` into ``events`` inside ``tx`` (``fast_format`` must have accepted it).

    Raises:
        FastPathUnavailable: DuckDB could not split the file into the lines Python sees; nothing
            useful happened in ``tx``, which the caller rolls back before using the Python path.
    """
    counts = FastCounts()
    nul_lines = _nul_lines(path)
    _read_lines(tx, path, nul_lines)
    params: dict[str, Any] = {
        "pixel_id": options.pixel_id,
        "max_line": MAX_LINE_BYTES,
        "url_keys": list(url_keys_kept(options.url_keys)),
    }
    if reader.format in SERVER_FORMATS:
        params["format"] = reader.format
        tx.execute("fast ingest events", load_query("ingest_fast_events"), params)
    else:
        tx.execute("fast ingest beacons", load_query("ingest_fast_beacons"), params)
        # the beacon reader skips blank and comment lines before it looks for NUL bytes
        nul_lines = {n: text for n, text in nul_lines.items() if text and not text.startswith(COMMENT)}
    fast = tx.execute(
        "fast ingest counts",
        "select count(*), coalesce(sum(secrets), 0) from _fast_events where line_ok and pos > 0",
    ).rows[0]
    counts.read, counts.secrets = int(fast[0]), int(fast[1])
    if progress is not None:
        progress(counts.read)
    _stage_python_lines(tx, reader, options, batch_id, counts, path.name)
    for line_no, text in nul_lines.items():
        counts.read += 1
        counts.quarantined.append(nul_line_error(line_no, text))
    _insert_ranked(tx, batch_id, counts)
    for table in _TEMP_TABLES:
        tx.execute(f"drop {table}", f"drop table if exists {quote_ident(table, _TEMP_TABLES)}")
    return counts
