"""JSON plumbing shared by the server and browser readers: layout, records, sniffing, masking, times.

Owns: telling JSONL from a JSON document (one object or an array), turning either into numbered
records, the cheap look at a file's head that ``sniff`` methods use, the masked raw text of a rejected
record, and parsing envelope times (``sent_at``, beacon ``ts``). Must not: interpret a record as an
event (``server.py`` / ``browser.py`` do), open files other than through ``_io``, or put raw values in
an exception message.

Record numbers: for JSONL the 1-based line number; for a JSON array the 1-based item position; for a
single JSON object 1. Quarantine shows them as the line number.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import unquote_plus

import orjson

from capi_core.canonical import parse_event_time
from capi_core.errors import UnreadableFileError
from capi_core.models import HASHED_KEYS, RowError
from capi_core.privacy import MASK, mask_query_values, mask_secrets, mask_text, strip_secrets
from capi_core.readers._io import read_text, read_text_lines

Layout = Literal["jsonl", "array", "object"]

#: Raw text kept for a quarantined record (the store keeps 2,000 characters; masking first, then cut).
RAW_LIMIT = 2000
#: Keys whose values are personal data wherever they appear in a record (masked in quarantine text).
PII_KEYS = frozenset(
    {*HASHED_KEYS, "client_ip_address", "email", "phone", "first_name", "last_name", "firstname",
     "lastname", "address", "street", "zip", "postal_code", "birthday", "date_of_birth"}
)  # fmt: skip
_PII_NAMES = "|".join(sorted(PII_KEYS, key=len, reverse=True))
_PII_JSON = re.compile(
    # a value cut short by a truncated line is masked up to the end of the text
    rf'("(?:{_PII_NAMES})"\s*:\s*)("(?:[^"\\]|\\.)*(?:"|\\?$)|\[[^\]]*(?:\]|$)|[-+\d.eE]+)',
    re.IGNORECASE,
)
_PII_PARAM = re.compile(rf"((?:ud|udff)(?:\[|%5B)(?:{_PII_NAMES})(?:\]|%5D)=)[^&\s\"']*", re.IGNORECASE)
#: Pixel beacon parameters whose values a quarantined beacon URL keeps (any other value is masked).
BEACON_KEYS = (
    "id", "ev", "eid", "ts", "dl", "rl", "v", "r", "ec", "it", "coo", "o", "sw", "sh", "if", "fbp", "fbc",
    "cd[value]", "cd[currency]", "cd[content_ids]", "cd[contents]", "cd[content_type]", "cd[num_items]",
    "cd[order_id]",
)  # fmt: skip
_KEY = re.compile(r'"([A-Za-z_][\w.\-]*)"\s*:')
#: A record nesting deeper is quarantined: events nest a dozen levels at most, and the recursive steps
#: that follow (secret stripping, masking) would exhaust Python's stack long before orjson's 1,024.
MAX_DEPTH = 64
TOO_DEEP_REASON = f"nested deeper than {MAX_DEPTH} levels"
#: A crash can leave NUL bytes in an append-only log (a zero-filled tail): such a line is quarantined.
NUL_LINE_REASON = "NUL bytes in the line (a crash can zero-fill the end of a log)"
_DECODER = json.JSONDecoder()


class JsonRecord(NamedTuple):
    """One parsed top-level record and whether its text may hold a credential."""

    line_no: int
    value: Any
    suspect: bool


Record = JsonRecord | RowError


def json_records(path: Path) -> tuple[Layout, Iterator[Record]]:
    """The file's layout and its records, in file order; bad JSONL lines come back as ``RowError``.

    A file whose first non-blank line is a complete JSON object is JSONL (streamed line by line);
    anything else is read as one JSON document. A document that does not parse is a whole-file error,
    unless other lines parse as objects (JSONL with a corrupt first line).
    """
    lines = read_text_lines(path)
    for line_no, line in lines:
        text = line.strip()
        if not text:
            continue
        if not text.startswith("[") and isinstance(_try_loads(text), dict):
            return "jsonl", _jsonl(itertools.chain([(line_no, line)], lines))
        break
    return _document(path)


def may_hold_secret(text: str) -> bool:
    """False only when ``text`` cannot hold a credential, so its record may skip ``strip_secrets``.

    Every key in ``privacy.SECRET_KEYS`` contains "token" or "secret", and ``\\u`` covers a key written
    with JSON escapes. Substring tests rather than a regex: this runs on every line.
    """
    lowered = text.lower()
    return "token" in lowered or "secret" in lowered or "\\u" in text


def _try_loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def line_record(line_no: int, text: str) -> Record:
    """One non-blank JSONL line as a record, or the ``RowError`` that quarantines it: a line holding NUL
    bytes (what a crash leaves in an append-only log), a line that is not JSON, a record nested too deep.
    The Python reader and the fast path (``fast_ingest``) both read lines through here."""
    if "\x00" in text:
        return nul_line_error(line_no, text)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return unparsed(line_no, text)
    if too_deep(text, value):
        return raw_row_error(line_no, TOO_DEEP_REASON, text)
    return JsonRecord(line_no, value, may_hold_secret(text))


def nul_line_error(line_no: int, text: str) -> RowError:
    """The quarantine row of a line holding NUL bytes (kept without them, masked, credentials counted)."""
    return raw_row_error(line_no, NUL_LINE_REASON, text.replace("\x00", ""))


def raw_row_error(line_no: int, reason: str, text: str) -> RowError:
    """The quarantine row of a line kept as text: masked, with the credentials it held counted."""
    return RowError(line_no, reason, masked_text(text), secrets=mask_secrets(text)[1])


def nests_deeper(value: Any, limit: int) -> bool:
    """True when parsed JSON ``value`` nests deeper than ``limit`` levels (walked iteratively: a hostile
    value nested thousands deep must be refused, not crash a recursive walk that follows)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if children and depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def too_deep(text: str, value: Any) -> bool:
    """True when ``value`` (parsed from ``text``) nests deeper than ``MAX_DEPTH`` levels; only walked when
    ``text`` has enough brackets to nest that deep."""
    return text.count("{") + text.count("[") > MAX_DEPTH and nests_deeper(value, MAX_DEPTH)


def _jsonl(lines: Iterator[tuple[int, str]]) -> Iterator[Record]:
    for line_no, line in lines:
        text = line.strip()
        if text:
            yield line_record(line_no, text)


def _document(path: Path) -> tuple[Layout, Iterator[Record]]:
    text = read_text(path)
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        if _looks_like_jsonl(text):
            return "jsonl", _jsonl(read_text_lines(path))
        raise UnreadableFileError(
            f"{path.name} is not valid JSON (truncated or corrupt at line {err.lineno}, column {err.colno})",
            hint="export the file again, or give one JSON object per line",
        ) from None
    suspect = may_hold_secret(text)
    if too_deep(text, doc):
        raise UnreadableFileError(
            f"{path.name} nests deeper than {MAX_DEPTH} levels",
            hint="no event nests that deep: check the file",
        )
    if isinstance(doc, list):
        return "array", (JsonRecord(i, item, suspect) for i, item in enumerate(doc, start=1))
    return "object", iter([JsonRecord(1, doc, suspect)])


def _looks_like_jsonl(text: str) -> bool:
    """True when most lines after the first are JSON objects starting in column 0 (JSONL lines are never
    indented, while a pretty-printed document's inner objects are)."""
    rest = [line for line in text.split("\n")[1:] if line.strip()]
    objects = sum(1 for line in rest if line.startswith("{") and isinstance(_try_loads(line), dict))
    return objects > 0 and objects * 2 >= len(rest)


def head_record(head: str) -> Any:
    """The first record visible in a file's head (first JSONL line, first array item, whole object)."""
    text = head.lstrip()
    # RecursionError: a record nested thousands deep is no record a reader could use either
    if text.startswith("["):
        try:
            return _DECODER.raw_decode(text, len(text) - len(text[1:].lstrip()))[0]
        except (ValueError, RecursionError):
            return None
    if text.startswith("{"):
        for candidate in (text.split("\n", 1)[0], text):
            try:
                return _DECODER.raw_decode(candidate.strip())[0]
            except (ValueError, RecursionError):
                continue
    return None


def head_keys(head: str) -> frozenset[str]:
    """Top-level keys of the head's first record; every key seen when the head cuts the record short."""
    record = head_record(head)
    if isinstance(record, dict):
        return frozenset(record)
    if record is None and head.lstrip()[:1] in ("[", "{"):
        return frozenset(_KEY.findall(head))
    return frozenset()


def strip_record(record: JsonRecord) -> tuple[Any, int]:
    """The record's value without credentials, and how many were removed."""
    if not record.suspect:
        return record.value, 0
    return strip_secrets(record.value)


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if str(k).lower() in PII_KEYS else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def masked(value: Any) -> str:
    """Quarantine text for a parsed record: PII keys blanked, URL parameter values (but allow-listed
    ones), tokens and PII-looking text masked."""
    clean, _ = strip_secrets(_redact(value))
    try:
        text = orjson.dumps(clean, default=str).decode()
    except TypeError:
        text = repr(clean)
    return mask_text(mask_query_values(text[: RAW_LIMIT * 2]))[:RAW_LIMIT]


def masked_text(text: str, kept_keys: tuple[str, ...] = ()) -> str:
    """Quarantine text for raw JSON or URL text that could not be parsed: PII keys' values, URL parameter
    values (but ``privacy.URL_KEYS_KEPT`` and ``kept_keys``), tokens and PII-looking text masked."""
    text = _PII_JSON.sub(lambda m: f'{m.group(1)}"{MASK}"', text[: RAW_LIMIT * 2])
    text = _PII_PARAM.sub(lambda m: m.group(1) + MASK, text)
    return mask_text(mask_query_values(text, kept_keys))[:RAW_LIMIT]


def unparsed(line_no: int, text: str) -> RowError:
    """The quarantine row of a line that is not valid JSON, with the credentials it held counted."""
    return raw_row_error(line_no, "not valid JSON", text)


def masked_url(text: str) -> str:
    """Quarantine text for a URL line: decoded first, so an encoded email is masked too; then every
    parameter value but the beacon's own (``BEACON_KEYS``) and the allow-listed ones is masked, the
    page URL's parameters included (``dl``'s query reads as parameters once decoded)."""
    return masked_text(unquote_plus(_PII_PARAM.sub(lambda m: m.group(1) + MASK, text)), BEACON_KEYS)


def parse_moment(raw: Any) -> dt.datetime | None:
    """UTC time of an envelope timestamp: ISO 8601 (offset or Z), epoch seconds or milliseconds.

    Raises:
        ValueError: the value is present but is not a time.
    """
    moment, fmt = parse_event_time(raw)
    if fmt == "invalid":
        raise ValueError("not a time")
    return moment


def load_json_text(raw: Any) -> Any:
    """A JSON value given as text parsed (``None`` when it does not parse); other values as they are."""
    if isinstance(raw, str | bytes):
        return _try_loads(raw)
    return raw
