"""Column presets of known exports (Salesforce, HubSpot, WooCommerce): which file column feeds which field.

A preset lists, per field, the header names an export uses for it, best first; names are compared with
``_csv.header_key`` (case, spaces and punctuation ignored), so API names (``CreatedDate``), UI labels
(``Created Date``) and internal names (``createdate``) can sit in one list. The user's ``--map COL=FIELD``
entries replace a field's candidates with that one column.

Duplicate column names (HubSpot writes ``Billing Contact`` twice) are all kept as candidates, in file
order: a field takes the first non-empty value among its candidates, so a duplicate never hides a value
and the first column wins when both are filled.

``NN/NN/YYYY`` dates are read in the day/month order the file itself proves (``day_first_of``): a value
such as ``25/12/2026`` settles the whole file; with no such value, a 12-hour clock with AM/PM
(``11/3/2026, 4:05 PM``, the US format of Salesforce reports) means month first; otherwise an ambiguous
date is quarantined rather than guessed.

Quarantine text for preset readers (``masked``) shows only the non-personal columns the reader uses,
never the whole row: CRM exports hold hundreds of columns of names, notes and owners.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from capi_core.errors import MappingError
from capi_core.privacy import mask_text
from capi_core.readers._csv import (
    NULL_TEXTS,
    clean,
    has_meridiem,
    header_key,
    iter_records,
    parse_datetime,
    parse_number,
    slash_date_order,
    value_error_reason,
)
from capi_core.readers._meta_keys import fbc_from_click
from capi_core.readers.generic_csv import explicit_columns

#: Fields whose values are personal data: never shown in quarantine text (a landing URL's query may
#: carry an email or a name).
PERSONAL_FIELDS = frozenset({"email", "phone", "external_id", "landing_url"})


@dataclass(frozen=True)
class Columns:
    """Candidate column positions per field for one file's header."""

    header: list[str]
    candidates: dict[str, tuple[int, ...]]

    @classmethod
    def resolve(
        cls, header: list[str], preset: Mapping[str, tuple[str, ...]], column_map: dict[str, str]
    ) -> Columns:
        """The preset's candidates found in ``header``, with ``column_map`` entries replacing them.

        Raises:
            MappingError: a ``--map`` entry naming no column of the file or no field.
        """
        names = [name.strip() for name in header]
        keys = [header_key(name) for name in names]
        found: dict[str, tuple[int, ...]] = {}
        for field, aliases in preset.items():
            positions = [p for alias in aliases for p, key in enumerate(keys) if key == header_key(alias)]
            if positions:
                found[field] = tuple(dict.fromkeys(positions))
        for field, position in explicit_columns(names, column_map).items():
            found[field] = (position,)
        return cls(names, found)

    def has(self, field: str) -> bool:
        """True when the file has a column for ``field``."""
        return field in self.candidates

    def name(self, field: str) -> str:
        """The header name of the field's first candidate column (for messages)."""
        return self.header[self.candidates[field][0]]

    def value(self, fields: list[str], field: str) -> str | None:
        """The first non-empty (cleaned) value among the field's candidate columns."""
        found = self.values(fields, field)
        return found[0][1] if found else None

    def values(self, fields: list[str], field: str) -> list[tuple[str, str]]:
        """(column name, cleaned value) of every non-empty candidate of the field, in preference order."""
        return [
            (self.header[position], text)
            for position in self.candidates.get(field, ())
            if position < len(fields) and (text := clean(fields[position])) and text.lower() not in NULL_TEXTS
        ]

    def masked(self, fields: list[str]) -> str:
        """The row for quarantine: ``Column=value`` of the non-personal columns read, masked."""
        if len(fields) != len(self.header):
            first = self.value(fields, "raw_id")
            return mask_text(
                f"{(first or '')[:64]},… ({len(fields)} fields, the header has {len(self.header)}: "
                "values withheld)"
            )
        shown = []
        for field, positions in self.candidates.items():
            if field in PERSONAL_FIELDS:
                continue
            for position in positions:
                if text := clean(fields[position]):
                    shown.append(f"{self.header[position]}={text[:80]}")
        return mask_text("; ".join(dict.fromkeys(shown)))

    def require(self, fields: Iterable[str], file_name: str, what: str) -> None:
        """Raise a MappingError naming the first field of ``fields`` the file has no column for."""
        for field in fields:
            if not self.has(field):
                listing = ", ".join(repr(name) for name in self.header[:40])
                raise MappingError(
                    f"{file_name}: no column for {field} in this {what}",
                    hint=f"map one with --map COLUMN={field}; columns: {listing}",
                )

    def date(self, fields: list[str], field: str, day_first: bool | None) -> dt.datetime | None:
        """The field's first non-empty value as a datetime; ValueError naming the column otherwise."""
        found = self.values(fields, field)
        return parse_date(found[0][0], found[0][1], day_first) if found else None

    def earliest(self, fields: list[str], field: str, day_first: bool | None) -> dt.datetime | None:
        """The earliest date among all the field's candidate columns (e.g. the first qualifying stage)."""
        dates = [parse_date(name, text, day_first) for name, text in self.values(fields, field)]
        present = [moment for moment in dates if moment is not None]
        return min(present, key=as_utc_naive) if present else None

    def fbc(self, fields: list[str], created_at: dt.datetime | None, day_first: bool | None) -> str | None:
        """Meta's click key of a row: an ``fbc`` column as given, else one built from the row's click id
        (an ``fbclid`` column, else the ``fbclid`` of a ``landing_url``; ``_meta_keys``), dated by its
        ``click_seen`` column (when the export first saw the visitor), else ``created_at``. An unreadable
        ``click_seen`` falls back to ``created_at``: an optional column never costs the record."""
        try:
            seen = self.date(fields, "click_seen", day_first)
        except ValueError:
            seen = None
        clicks = (self.value(fields, "fbclid"), self.value(fields, "landing_url"))
        built = (fbc_from_click(click, seen or created_at) for click in clicks)
        return self.value(fields, "fbc") or next((fbc for fbc in built if fbc), None)

    def number(self, fields: list[str], field: str) -> float | None:
        """The field's first non-empty value as a number; ValueError naming the column otherwise."""
        found = self.values(fields, field)
        if not found:
            return None
        try:
            return parse_number(found[0][1])
        except ValueError:
            raise ValueError(value_error_reason(found[0][0], found[0][1], "not a number")) from None


def parse_date(column: str, text: str, day_first: bool | None) -> dt.datetime | None:
    """One cell as a datetime, or a ValueError whose message is a quarantine reason naming the column."""
    try:
        return parse_datetime(text, day_first=day_first)
    except ValueError as err:
        problem = "ambiguous day/month order" if "ambiguous" in str(err) else "not a recognised date"
        raise ValueError(value_error_reason(column, text, problem)) from None


def as_utc_naive(moment: dt.datetime) -> dt.datetime:
    """A time comparable with naive ones: aware times in UTC without tzinfo, naive ones as they are
    (the store takes naive times as UTC too)."""
    return moment if moment.tzinfo is None else moment.astimezone(dt.UTC).replace(tzinfo=None)


def day_first_of(path: Path, columns: Columns, date_fields: Iterable[str]) -> bool | None:
    """The day/month order of the file's ``NN/NN/YYYY`` dates (module docstring); None when unknown.

    Reads the file once more: CRM and shop exports are small next to event logs.
    """
    positions = sorted({p for field in date_fields for p in columns.candidates.get(field, ())})
    proofs: set[bool] = set()
    meridiem = False
    records = iter_records(path)
    try:
        next(records, None)
        for _, fields in records:
            for position in positions:
                text = fields[position] if position < len(fields) else None
                proof = slash_date_order(text)
                if proof is not None:
                    proofs.add(proof)
                meridiem = meridiem or has_meridiem(text)
            if len(proofs) == 2:
                return None  # the file mixes both orders: only unambiguous cells can be read
    finally:
        records.close()
    if proofs:
        return proofs.pop()
    return False if meridiem else None


def truthy(text: str | None) -> bool:
    """A CRM checkbox: ``1``, ``true``, ``yes``, ``y``, ``x``, ``checked`` (any case) are true."""
    return (text or "").strip().lower() in {"1", "true", "yes", "y", "x", "checked"}
