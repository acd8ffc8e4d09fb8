"""Readers for server (Conversions API) formats: request bodies, bare events, send logs, flat tables.

Formats (source ``server``, channel ``server``):

- ``capi_request``: Graph API request bodies ``{"data": [...], "test_event_code", "partner_agent"}`` as
  one JSON document, a JSON array of them or JSONL; also HTTP envelopes ``{"url"|"endpoint", "body"}``
  whose body is JSON or form-encoded (``data`` as JSON text, or an array of JSON strings as in
  RudderStack's ``body.FORM.data``). The pixel id comes from the URL path ``/vNN.N/<pixel>/events``.
- ``capi_events``: bare server-event objects (JSONL or a JSON array).
- ``capi_log``: one log envelope per line ``{"sent_at", "pixel_id", "consent", "request", "response"}``;
  also Stape-style records (``RequestUrl``/``RequestBody``/``ResponseBody`` or their BigQuery
  snake_case twins). A Stape ``Response``/``Message`` record carries no event and is skipped.
- ``capi_flat``: CSV (``,``/``;``/tab) or Parquet with dotted columns (``user_data.em``).

Owns: the mapping from Meta's server-event shape to ``IncomingEvent`` (``event_from_dict``, reused by
the browser reader for events in server shape). Must not: normalize, hash or judge values (raw values go
to ``canonical.py``), or keep a credential: every record passes through ``strip_secrets`` first and the
request's count goes on its first event.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from capi_core.errors import UnreadableFileError
from capi_core.models import Channel, IncomingEvent, RowError, SourceKind
from capi_core.privacy import MASK, mask_text
from capi_core.readers._io import read_text_lines
from capi_core.readers._json import (
    PII_KEYS,
    RAW_LIMIT,
    JsonRecord,
    Layout,
    head_keys,
    json_records,
    load_json_text,
    masked,
    parse_moment,
    strip_record,
)

if TYPE_CHECKING:
    from capi_core.readers import Reader, ReadOptions

Item = IncomingEvent | RowError
_LOG_KEYS = frozenset({"sent_at", "response", "pixel_id", "consent"})
_STAPE_KEYS = frozenset({"RequestBody", "RequestUrl", "request_body", "request_url"})
_SKIPPED_STAPE_TYPES = frozenset({"response", "message"})
_JSON_TEXT_FIELDS = frozenset({"content_ids", "contents", "data_processing_options"})
_CSV_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class RecordError(Exception):
    """One record cannot be read; becomes a ``RowError`` (the message never holds a raw value)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a request or a log line says about every event it carries."""

    pixel_id: str | None = None
    sent_at: dt.datetime | None = None
    test_event_code: str | None = None
    consent: str | None = None
    response: dict[str, Any] | None = None


def _text(value: Any) -> str | None:
    """A scalar as text (numeric ids become their digits); ``None`` and ``""`` stay absent."""
    if type(value) is str:  # the common case first: this runs several times per event
        return value or None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def consent_text(raw: Any) -> str | None:
    """Consent as the sender wrote it, as text (``{"ad_storage": ..}`` objects give that value)."""
    if isinstance(raw, dict):
        raw = raw.get("ad_storage", raw.get("marketing"))
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return _text(raw)


def _dpo(raw: Any) -> list[str] | None:
    raw = load_json_text(raw) if isinstance(raw, str) and raw.startswith("[") else raw
    if raw is None:
        return None
    if isinstance(raw, list):
        return [str(item) for item in raw]
    return [str(raw)]


def _object(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if type(value) is dict:
        return value
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{key} is not an object")
    return value


def _sent_at(obj: dict[str, Any], key: str, default: dt.datetime | None) -> dt.datetime | None:
    if obj.get(key) in (None, ""):
        return default
    try:
        return parse_moment(obj[key])
    except ValueError:
        raise RecordError(f"{key} is not a time (ISO 8601 or epoch seconds/milliseconds)") from None


def _event(obj: Any, line_no: int, channel: Channel, env: Envelope) -> IncomingEvent:
    if not isinstance(obj, dict):
        raise RecordError("event is not a JSON object")
    name = obj.get("event_name")
    if name is None or name == "":
        raise RecordError("event_name is missing")
    if not isinstance(name, str):
        raise RecordError("event_name is not text")
    response = obj.get("response")
    return IncomingEvent(
        line_no=line_no,
        channel=channel,
        event_name=name,
        event_time_raw=obj.get("event_time"),
        event_id=_text(obj.get("event_id")),
        pixel_id=_text(obj.get("pixel_id")) or env.pixel_id,
        sent_at=_sent_at(obj, "sent_at", env.sent_at),
        action_source=_text(obj.get("action_source")),
        event_source_url=_text(obj.get("event_source_url")),
        test_event_code=_text(obj.get("test_event_code")) or env.test_event_code,
        consent=consent_text(obj["consent"]) if "consent" in obj else env.consent,
        data_processing_options=_dpo(obj.get("data_processing_options")),
        user_data=_object(obj, "user_data"),
        custom_data=_object(obj, "custom_data"),
        response=response if isinstance(response, dict) else env.response,
    )


def event_from_dict(
    obj: Any, line_no: int, channel: Channel, env: Envelope | None = None, *, where: str = ""
) -> Item:
    """One object in Meta's server-event shape as an ``IncomingEvent``, or a ``RowError`` saying why not.

    Args:
        obj: the parsed event (already stripped of credentials).
        line_no: record number for quarantine.
        channel: ``server``, or ``browser`` for browser copies logged in server shape.
        env: what the enclosing request or log line says (pixel, sent_at, test code, consent, response).
        where: position prefix for the reason, e.g. ``"data[2]: "``.
    """
    try:
        return _event(obj, line_no, channel, env or Envelope())
    except RecordError as err:
        return RowError(line_no, f"{where}{err}", masked(obj))


def pixel_from_url(url: Any) -> str | None:
    """The pixel id in a Graph API URL path ``/vNN.N/<pixel>/events`` (``None`` when absent)."""
    if not isinstance(url, str):
        return None
    parts = [part for part in urlsplit(url).path.split("/") if part]
    if len(parts) >= 2 and parts[-1] == "events":
        return parts[-2]
    return None


def _form_body(text: str) -> dict[str, Any]:
    """A form-encoded body ``data=<json>&test_event_code=..`` as a dict (``_data`` parses ``data``)."""
    return dict(parse_qsl(text, keep_blank_values=True))


def _body(raw: Any) -> Any:
    """The request body inside an envelope: JSON text, form text, or RudderStack's {JSON, FORM}."""
    if isinstance(raw, str | bytes):
        parsed = load_json_text(raw)
        raw = parsed if parsed is not None else _form_body(raw.decode() if isinstance(raw, bytes) else raw)
    if isinstance(raw, dict) and "data" not in raw:
        for key in ("JSON", "FORM", "json", "form"):
            inner = raw.get(key)
            if isinstance(inner, dict) and "data" in inner:
                return inner
    return raw


def unwrap_request(value: Any) -> tuple[dict[str, Any], str | None]:
    """(request body, request URL) from a bare body or an HTTP envelope ``{url|endpoint, body}``.

    Raises:
        RecordError: there is no body with a ``data`` array.
    """
    if isinstance(value, str):
        value = _body(value)
    if not isinstance(value, dict):
        raise RecordError("request is not a JSON object")
    url = next((value[k] for k in ("url", "endpoint", "RequestUrl", "request_url") if k in value), None)
    body: Any = value
    if "data" not in value:
        raw = next((value[k] for k in ("body", "RequestBody", "request_body") if k in value), None)
        body = _body(raw)
    if not isinstance(body, dict) or "data" not in body:
        raise RecordError("no data array (not a Conversions API request)")
    return body, url if isinstance(url, str) else None


def _data(body: dict[str, Any]) -> list[Any]:
    data = body["data"]
    if isinstance(data, str | bytes):
        data = load_json_text(data)
    if not isinstance(data, list):
        raise RecordError("data is not an array")
    return data


def request_events(
    body: dict[str, Any], line_no: int, env: Envelope, secrets: int, channel: Channel = "server"
) -> Iterator[Item]:
    """Every event of one request body, the request's stripped-secret count on the first event (on the
    first quarantined item when no event could be read)."""
    items: list[Item] = []
    for index, raw in enumerate(_data(body)):
        event = raw
        if isinstance(raw, str | bytes):  # form-encoded variant: each item is JSON text
            event = load_json_text(raw)
            if not isinstance(event, dict):
                items.append(RowError(line_no, f"data[{index}]: not a JSON object", masked(raw)))
                continue
        item = event_from_dict(event, line_no, channel, env, where=f"data[{index}]: ")
        if isinstance(item, IncomingEvent) and secrets:
            item.secrets_stripped, secrets = secrets, 0
        items.append(item)
    for position, item in enumerate(items if secrets else []):
        if isinstance(item, RowError):
            items[position] = replace(item, secrets=secrets)
            break
    yield from items


def _shape_error(path: Path, fmt: str, expected: str) -> UnreadableFileError:
    return UnreadableFileError(
        f"{path.name}: the JSON document is not a {fmt} file (expected {expected})",
        hint="check --source/--format",
    )


class _JsonReader:
    """Shared loop: layout, credential stripping, per-record errors; subclasses map one record."""

    source: SourceKind = "server"
    format = ""
    description = ""
    expected = ""

    def record_items(self, value: Any, line_no: int, secrets: int, options: ReadOptions) -> Iterator[Item]:
        """The items of one stripped record (``secrets`` = credentials removed from it)."""
        raise NotImplementedError

    def fits(self, value: Any) -> bool:
        """Whether a single-object document has this format's shape."""
        raise NotImplementedError

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        """Every event of the file in order; a bad record as a ``RowError``."""
        layout, records = json_records(path)
        for record in records:
            if isinstance(record, RowError):
                yield record
                continue
            yield from self._record(layout, record, path, options)

    def _record(self, layout: Layout, record: JsonRecord, path: Path, options: ReadOptions) -> Iterator[Item]:
        if layout == "object" and not self.fits(record.value):
            raise _shape_error(path, self.format, self.expected)
        value, secrets = strip_record(record)
        try:
            yield from self.record_items(value, record.line_no, secrets, options)
        except RecordError as err:
            yield RowError(record.line_no, str(err), masked(value), secrets=secrets)


class CapiRequestReader(_JsonReader):
    """Graph API request bodies (JSON, JSON array, JSONL, HTTP envelopes, form-encoded data)."""

    format = "capi_request"
    description = 'Conversions API request bodies {"data": [...]} (JSON, JSON array, JSONL, envelopes)'
    expected = 'a request body {"data": [...]} or an envelope {"url", "body"}'

    def sniff(self, head: str, file_name: str) -> bool:
        """A first record with ``data``, or an HTTP envelope with a body."""
        keys = head_keys(head)
        return "data" in keys or ("body" in keys and bool(keys & {"url", "endpoint"}))

    def fits(self, value: Any) -> bool:
        """A request body or envelope."""
        try:
            unwrap_request(value)
        except RecordError:
            return False
        return True

    def record_items(self, value: Any, line_no: int, secrets: int, options: ReadOptions) -> Iterator[Item]:
        """The events of one request."""
        if isinstance(value, dict) and "error" in value and "data" not in value and "body" not in value:
            raise RecordError("an error record, not a request (no data array)")
        body, url = unwrap_request(value)
        own = value.get("pixel_id") if isinstance(value, dict) else None
        pixel = _text(own) or pixel_from_url(url) or options.pixel_id
        env = Envelope(pixel_id=pixel, test_event_code=_text(body.get("test_event_code")))
        yield from request_events(body, line_no, env, secrets)


class CapiEventsReader(_JsonReader):
    """Bare server-event objects, one per JSONL line or as a JSON array."""

    format = "capi_events"
    description = "Bare server events with event_name at top level (JSONL or JSON array)"
    expected = "objects with event_name"
    channel: Channel = "server"

    def sniff(self, head: str, file_name: str) -> bool:
        """A first record with ``event_name`` and no request or log wrapper."""
        keys = head_keys(head)
        return "event_name" in keys and not keys & {"data", "request", "fbq"}

    def fits(self, value: Any) -> bool:
        """An object with event_name."""
        return isinstance(value, dict) and "event_name" in value

    def record_items(self, value: Any, line_no: int, secrets: int, options: ReadOptions) -> Iterator[Item]:
        """One event."""
        item = event_from_dict(value, line_no, self.channel, Envelope(pixel_id=options.pixel_id))
        if isinstance(item, IncomingEvent):
            item.secrets_stripped = secrets
        yield item


class CapiLogReader(_JsonReader):
    """Send logs: one envelope per line with sent_at, pixel, consent, request and response."""

    format = "capi_log"
    description = 'CAPI send logs {"sent_at", "pixel_id", "consent", "request", "response"} per line'
    expected = 'log records {"sent_at", "request": {...}, "response": {...}}'

    def sniff(self, head: str, file_name: str) -> bool:
        """A first record with a request plus log fields, or a Stape-style request record."""
        keys = head_keys(head)
        if "log" in keys or "entries" in keys:  # a HAR also has request/response
            return False
        return ("request" in keys and bool(keys & _LOG_KEYS)) or bool(keys & _STAPE_KEYS)

    def fits(self, value: Any) -> bool:
        """A log envelope or a Stape record."""
        return isinstance(value, dict) and ("request" in value or bool(_STAPE_KEYS & set(value)))

    def record_items(self, value: Any, line_no: int, secrets: int, options: ReadOptions) -> Iterator[Item]:
        """The events of the logged request, each with the envelope's send facts and response."""
        if not isinstance(value, dict):
            raise RecordError("log record is not a JSON object")
        if "request" in value:
            request, response = value["request"], value.get("response")
        elif _STAPE_KEYS & set(value):
            request = value
            response = value.get("ResponseBody", value.get("response_body"))
        elif str(value.get("Type", value.get("type", ""))).lower() in _SKIPPED_STAPE_TYPES:
            return  # a Stape response/message record: no event in it
        else:
            raise RecordError("no request in the log record")
        body, url = unwrap_request(request)
        env = Envelope(
            pixel_id=_text(value.get("pixel_id")) or pixel_from_url(url) or options.pixel_id,
            sent_at=_sent_at(value, "sent_at", None) or _sent_at(value, "timestamp", None),
            test_event_code=_text(body.get("test_event_code")),
            consent=consent_text(value.get("consent")),
            response=_response(response),
        )
        yield from request_events(body, line_no, env, secrets)


def _response(raw: Any) -> dict[str, Any] | None:
    """Meta's answer: the body itself, or an HTTP record ``{"status", "body"}`` holding it."""
    raw = load_json_text(raw)
    if not isinstance(raw, dict):
        return None
    if "events_received" not in raw and "error" not in raw and "body" in raw:
        return _response(raw["body"])
    return raw


# --- flat tables (CSV / Parquet) -----------------------------------------------------------------


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted columns as nested objects; empty cells are absent; JSON-text list fields parsed."""
    out: dict[str, Any] = {}
    for column, value in flat.items():
        if value is None or value == "":
            continue
        *parents, leaf = column.strip().split(".")
        target = out
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise RecordError(f"column {column!r} conflicts with another column")
        if leaf in _JSON_TEXT_FIELDS and isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            parsed = load_json_text(value)
            value = value if parsed is None else parsed
        target[leaf] = value
    return out


def _flat_item(flat: dict[str, Any], line_no: int, options: ReadOptions) -> Item:
    try:
        nested = _nest(flat)
    except RecordError as err:
        return RowError(line_no, str(err), masked(flat))
    item = event_from_dict(nested, line_no, "server", Envelope(pixel_id=options.pixel_id))
    if isinstance(item, RowError):
        return RowError(line_no, item.reason, _masked_row(flat))
    return item


def _masked_row(flat: dict[str, Any]) -> str:
    """A rejected row as text with personal columns blanked, then masked."""
    cells = [
        MASK if column.rsplit(".", 1)[-1].lower() in PII_KEYS and value not in (None, "") else str(value)
        for column, value in flat.items()
    ]
    return mask_text(",".join(cells)[: RAW_LIMIT * 2])[:RAW_LIMIT]


def _csv_cells(flat: dict[str, Any]) -> dict[str, Any]:
    """A CSV row's cells with a numeric ``event_time`` read as the number it stands for.

    CSV has no number type, so a cell ``1631210000`` (or ``1631210000.0``, as pandas writes an integer
    column holding gaps) is what a JSON export holds as a number; left as text, ``canonical`` would mark
    it as an epoch sent as a JSON string (``seconds_text``), which the file cannot tell. Parquet keeps its
    types and is read as typed.
    """
    raw = flat.get("event_time")
    if isinstance(raw, str) and _CSV_NUMBER.fullmatch(raw.strip()):
        text = raw.strip()
        return {**flat, "event_time": float(text) if "." in text else int(text)}
    return flat


def _delimiter(header: str) -> str:
    return max((",", ";", "\t"), key=header.count)


class CapiFlatReader:
    """CSV or Parquet with one event per row and dotted columns (``user_data.em``)."""

    source: SourceKind = "server"
    format = "capi_flat"
    description = "Flat CSV/Parquet, dotted columns: event_name, event_time, user_data.em, custom_data.value"

    def sniff(self, head: str, file_name: str) -> bool:
        """A Parquet file name, or a delimited header line naming event_name."""
        if file_name.lower().endswith(".parquet") or head.startswith("PAR1"):
            return True
        first = head.lstrip().split("\n", 1)[0]
        if first[:1] in ("{", "["):
            return False
        columns = [c.strip().strip('"') for c in first.split(_delimiter(first))]
        return "event_name" in columns

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        """Every row as an event, a bad row as a ``RowError`` with its (first) line number."""
        if path.suffix.lower() == ".parquet":
            return self._parquet(path, options)
        return self._csv(path, options)

    def _csv(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        lines = read_text_lines(path)
        first = next(lines, None)
        if first is None:
            raise UnreadableFileError(f"{path.name} is empty")
        stream = (line + "\n" for _, line in itertools.chain([first], lines))
        rows = csv.reader(stream, delimiter=_delimiter(first[1]))
        header = [column.strip() for column in next(rows)]
        if "event_name" not in header:
            raise UnreadableFileError(
                f"{path.name}: no event_name column", hint="a flat file needs dotted columns: event_name, ..."
            )
        previous = rows.line_num
        for row in rows:
            line_no, previous = previous + 1, rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                # shifted values cannot be trusted to sit under their PII columns: withhold them
                withheld = f"{len(row)} fields, the header has {len(header)}"
                yield RowError(line_no, withheld, mask_text(f"{(row or [''])[0][:64]},… (values withheld)"))
                continue
            yield _flat_item(_csv_cells(dict(zip(header, row, strict=True))), line_no, options)

    def _parquet(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        # _io has no binary opener yet; pyarrow errors are translated here, at the edge.
        try:
            table = pq.ParquetFile(path)
            line_no = 0
            for batch in table.iter_batches(batch_size=10_000):
                for row in batch.to_pylist():
                    line_no += 1
                    yield _flat_item(row, line_no, options)
        except (pa.ArrowException, OSError) as err:
            raise UnreadableFileError(
                f"{path.name} is not a readable Parquet file: {type(err).__name__}"
            ) from None


READERS: list[Reader] = [CapiLogReader(), CapiRequestReader(), CapiEventsReader(), CapiFlatReader()]
