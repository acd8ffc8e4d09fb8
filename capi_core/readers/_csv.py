"""CSV plumbing shared by the CSV readers: records with their physical line, dates, numbers, masked rows.

Owns how a CSV file becomes ``(line, fields)`` records (stdlib ``csv``: quoted fields may span lines, so
the line given is where a record *starts*), the small documented set of date and number spellings the
CSV readers accept, and the PII-blanked, masked text of a row for quarantine. It must not know any one
export's columns and must never open a file except through ``_io``.

Dates accepted by ``parse_datetime`` (anything else is an error, never a guess):

* ISO 8601 as ``datetime.fromisoformat`` reads it: ``2023-05-31``, ``2023-05-31T23:06:05``,
  ``2023-05-31 23:06``, with or without ``Z`` / ``+07:00`` / ``+0700``;
* Shopify's ``2023-05-31 23:06:05 -0700`` (space before the offset);
* ``DD-MM-YYYY`` and ``DD.MM.YYYY`` with optional ``HH:MM[:SS]``: day first, because dashes and dots
  with the year last are day-first conventions (Salesforce report exports write ``06-08-2020 15:38``);
* ``NN/NN/YYYY`` with optional ``HH:MM[:SS]`` (also ``, `` before the time and a 12-hour clock with
  ``AM``/``PM``, as Salesforce's US reports write ``11/3/2026, 4:05 PM``) only when the day/month order is
  certain: one of the two leading numbers is over 12, or the caller knows the file's order
  (``day_first``, e.g. from other rows of the same file); ``03/04/2024`` alone is refused as ambiguous.

Times without an offset are returned naive; ``canonical.py`` takes naive times as UTC.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Generator, Iterable, Iterator
from itertools import chain
from pathlib import Path

from capi_core.errors import UnreadableFileError
from capi_core.privacy import mask_text
from capi_core.readers._io import read_text_lines

#: Cell texts that mean "no value" in exports (Salesforce writes N/A, spreadsheets write -).
NULL_TEXTS = frozenset({"", "n/a", "na", "null", "none", "nan", "-", "--"})
#: Words in a column name that mark it as personal data, blanked before a row reaches quarantine.
PII_WORDS = frozenset(
    {
        "email", "mail", "phone", "mobile", "tel", "telephone", "fax", "name", "names", "firstname",
        "lastname", "fullname", "street", "address", "company", "city", "zip", "zipcode", "postal",
        "postcode", "note", "notes", "comment", "comments", "message", "ip", "birthday", "birthdate",
        "dob", "attributes",
    }
)  # fmt: skip
_DELIMITERS = (",", ";", "\t")
_SLASH_DATE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:,?[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AaPp][Mm]))?)?$"
)
_DAY_FIRST_DATE = re.compile(r"^(\d{1,2})[-.](\d{1,2})[-.](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_OFFSET_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d{1,2}$")
_DOT_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+,\d{1,2}$")
_CURRENCY_MARKS = re.compile(r"[$€£¥₹₩₽¢\s\u00a0]")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}|[A-Z]{3}$")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def header_key(name: str) -> str:
    """A column name compared loosely: lowercase words joined by ``_`` (``Order Date`` -> ``order_date``)."""
    return "_".join(word for word in _WORD_SPLIT.split(name.strip().lower()) if word)


def clean(text: str | None) -> str | None:
    """A cell trimmed, without Excel's leading text apostrophe (``'+1 636…``); None when empty."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.startswith("'"):
        stripped = stripped[1:].strip()
    return stripped or None


def _delimiter(first_line: str) -> str:
    """The delimiter that splits the header line most (comma on a tie): covers `;` and tab exports."""
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def iter_records(path: Path) -> Generator[tuple[int, list[str]], None, None]:
    """(line where the record starts, fields) for every CSV record, the header first.

    Blank lines come out as empty lists. UTF-8 with a cp1252 fallback; a record the csv module cannot
    parse (e.g. a runaway quote swallowing the file) makes the whole file unreadable.
    """
    lines = read_text_lines(path, allow_legacy=True)
    first = next(lines, None)
    if first is None:
        raise UnreadableFileError(f"{path.name} is empty", hint="export the file again")
    reader = csv.reader((line + "\n" for _, line in chain([first], lines)), delimiter=_delimiter(first[1]))
    start = 1
    try:
        for fields in reader:
            yield start, fields
            start = reader.line_num + 1
    except csv.Error as err:
        raise UnreadableFileError(
            f"{path.name}: CSV record starting on line {start} cannot be parsed ({err})",
            hint="check for an unbalanced quote; re-export the file",
        ) from err


def head_records(head: str, limit: int = 200) -> list[list[str]]:
    """Up to ``limit`` complete records parsed from a file's first bytes (for sniffing); [] if not CSV."""
    first_line = head.split("\n", 1)[0]
    try:
        rows = list(_take(csv.reader(io.StringIO(head), delimiter=_delimiter(first_line)), limit + 1))
    except csv.Error:
        return []
    if len(rows) > 1 and not head.endswith("\n"):
        rows = rows[:-1]  # a record whose quoted field continues past the head would be cut short
    return rows[:limit]


def _take(rows: Iterable[list[str]], count: int) -> Iterator[list[str]]:
    for index, row in enumerate(rows):
        if index >= count:
            return
        yield row


def is_blank(fields: list[str]) -> bool:
    """True for a record with no non-space text (blank lines, `,,,` separator rows)."""
    return not any(field.strip() for field in fields)


def parse_datetime(text: str | None, *, day_first: bool | None = None) -> dt.datetime | None:
    """A datetime from one of the documented spellings; None for an empty cell; ValueError otherwise.

    ``day_first`` settles ``NN/NN/YYYY`` dates whose numbers are both 12 or less (None: refuse them).
    """
    value = (text or "").strip()
    if value.lower() in NULL_TEXTS:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        pass
    for fmt in _OFFSET_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    if match := _DAY_FIRST_DATE.match(value):
        day, month, year, *clock = match.groups()
        return _build(int(year), int(month), int(day), clock)
    if match := _SLASH_DATE.match(value):
        first, second, year, hour, minute, sec, meridiem = match.groups()
        a, b = int(first), int(second)
        clock = [_hour_24(hour, meridiem, value), minute, sec]
        if a > 12 and b > 12:
            raise ValueError(f"not a recognised date: {value!r}")
        if a > 12 >= b or (day_first is True and b <= 12):
            return _build(int(year), b, a, clock)
        if b > 12 >= a or (day_first is False and a <= 12):
            return _build(int(year), a, b, clock)
        raise ValueError(f"ambiguous day/month order in {value!r}")
    raise ValueError(f"not a recognised date: {value!r}")


def slash_date_order(text: str | None) -> bool | None:
    """What one ``NN/NN/YYYY`` cell proves about its file's order: True day-first, False month-first,
    None when it proves nothing (not a slash date, or both numbers 12 or less)."""
    match = _SLASH_DATE.match((text or "").strip())
    if match is None:
        return None
    a, b = int(match.group(1)), int(match.group(2))
    return True if a > 12 >= b else False if b > 12 >= a else None


def has_meridiem(text: str | None) -> bool:
    """True for a slash date written with a 12-hour clock (``11/3/2026, 4:05 PM``)."""
    match = _SLASH_DATE.match((text or "").strip())
    return match is not None and match.group(7) is not None


def _hour_24(hour: str | None, meridiem: str | None, value: str) -> str | None:
    if hour is None or meridiem is None:
        return hour
    number = int(hour)
    if not 1 <= number <= 12:
        raise ValueError(f"hour {number} with {meridiem} in {value!r}")
    return str(number % 12 + (12 if meridiem.lower() == "pm" else 0))


def _build(year: int, month: int, day: int, clock: list[str | None]) -> dt.datetime:
    hour, minute, second = (int(part) if part else 0 for part in clock)
    return dt.datetime(year, month, day, hour, minute, second)


def parse_number(text: str | None) -> float | None:
    """An amount from export text: currency marks and thousands separators dropped, `N/A` is None.

    ``"1,098"`` -> 1098.0; ``"$1,234.50"`` -> 1234.5; ``"12,50"`` -> 12.5 and ``"1.234,50"`` -> 1234.5
    (decimal comma: one or two digits after it); ``"EUR 16"`` -> 16.0; ``"1.234"`` stays 1.234.
    Raises ValueError for anything else.
    """
    value = (clean(text) or "").strip()
    if value.lower() in NULL_TEXTS:
        return None
    compact = _CURRENCY_CODE.sub("", _CURRENCY_MARKS.sub("", value))
    if _THOUSANDS.match(compact):
        compact = compact.replace(",", "")
    elif _DECIMAL_COMMA.match(compact) or _DOT_THOUSANDS.match(compact):
        compact = compact.replace(".", "").replace(",", ".")
    number = float(compact)  # ValueError for leftovers such as "12%" or "1.2.3"
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def pii_columns(header: list[str], keep: Iterable[int] = ()) -> frozenset[int]:
    """Indexes of columns whose name marks personal data (``Billing Phone``, ``customer_email``…).

    Args:
        header: the file's column names.
        keep: indexes never blanked, e.g. the record id (Shopify's order ``Name``).
    """
    kept = set(keep)
    found = set()
    for index, name in enumerate(header):
        words = {re.sub(r"\d+$", "", w) for w in _WORD_SPLIT.split(_CAMEL.sub("_", name).lower()) if w}
        if words & PII_WORDS and index not in kept:
            found.add(index)
    return frozenset(found)


def masked_row(fields: list[str], blank: frozenset[int], width: int) -> str:
    """The row as one CSV line with PII columns emptied, then masked: safe for quarantine.

    A row whose field count differs from the header's ``width`` has its values shifted off their
    columns, so the PII positions cannot be trusted: only its first field (the id) is kept.
    """
    if len(fields) != width:
        first = fields[0] if fields else ""
        return mask_text(f"{first[:64]},… ({len(fields)} fields, the header has {width}: values withheld)")
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(
        "" if index in blank else field for index, field in enumerate(fields)
    )
    return mask_text(out.getvalue())


def value_error_reason(column: str, text: str | None, problem: str) -> str:
    """A quarantine reason naming the column and, unless it looks like an email or phone, its value."""
    excerpt = (text or "").strip()[:40]
    shown = repr(excerpt) if mask_text(excerpt) == excerpt else "(value hidden: looks like an email or phone)"
    return mask_text(f"{column} {shown}: {problem}")
