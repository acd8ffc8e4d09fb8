"""Readers of any CSV of orders or leads, given (or guessing) which column holds which field.

``ReadOptions.column_map`` maps a file column to an ``IncomingTruth`` field (``--map COL=FIELD``), or to
``fbclid`` (a click id, stored as the ``fbc`` Meta builds from it, dated by the record's creation:
``_meta_keys``). Explicit entries win; every field left unmapped is then auto-mapped from common header
names (``ALIASES``), so ``--map ref=raw_id`` alone still picks up ``email`` or ``total``. A mapping that
names a column the file lacks, or a field that does not exist, is a ``MappingError`` listing what is
available; so is a file where ``raw_id`` or ``created_at`` ends up unmapped. ``mapping_notes`` says,
before anything is stored, which columns no field reads and which ``--map`` would read them.

Dates and amounts follow ``_csv.py``'s documented spellings; a cell that does not fit sends its row to
quarantine with the column named. Lead stages become statuses through ``lead_stages`` (the generic table
plus the user's ``--stage-map``; a qualified_at / won_at date overrules the stage as documented there);
order statuses are left to ``canonical.normalize_order_status``.

This module only parses; it must not normalize or hash identifiers (``canonical.py`` does that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capi_core.errors import MappingError, UnreadableFileError
from capi_core.models import (
    LEAD_STATUSES,
    ORDER_STATUSES,
    IncomingTruth,
    RowError,
    SourceKind,
    TruthKind,
)
from capi_core.readers._csv import (
    clean,
    head_records,
    header_key,
    is_blank,
    iter_records,
    masked_row,
    parse_datetime,
    parse_number,
    pii_columns,
    value_error_reason,
)
from capi_core.readers._meta_keys import fbc_from_click
from capi_core.readers.lead_stages import GENERIC, StageMap, decide_status
from capi_core.readers.shopify import looks_like_shopify

if TYPE_CHECKING:
    from capi_core.readers import ReadOptions

#: IncomingTruth fields a column can be mapped to.
FIELDS: tuple[str, ...] = (
    "raw_id", "created_at", "paid_at", "qualified_at", "won_at", "status_raw", "status", "value",
    "subtotal", "currency", "email", "phone", "external_id", "fbp", "fbc", "country", "utm_source",
    "utm_campaign", "form", "sales_channel", "fbclid",
)  # fmt: skip
REQUIRED: tuple[str, ...] = ("raw_id", "created_at")
_DATE_FIELDS = ("created_at", "paid_at", "qualified_at", "won_at")
_NUMBER_FIELDS = ("value", "subtotal")

#: Header names (compared with ``header_key``) auto-mapped to each field, most specific first.
ALIASES: dict[str, tuple[str, ...]] = {
    "created_at": (
        "created_at", "created_date", "createddate", "create_date", "date_created", "order_date",
        "lead_date", "creation_date", "created", "submitted_at", "timestamp", "date",
    ),
    "paid_at": ("paid_at", "paid_date", "date_paid", "payment_date"),
    "qualified_at": ("qualified_at", "qualified_date", "date_qualified"),
    "won_at": ("won_at", "won_date", "date_won", "closed_won_date"),
    "status_raw": (
        "status_raw", "stage", "lead_stage", "lead_status", "lifecycle_stage", "deal_stage",
        "order_status", "financial_status", "status",
    ),
    "value": ("value", "total", "order_total", "total_price", "grand_total", "amount", "revenue"),
    "subtotal": ("subtotal", "sub_total", "order_subtotal"),
    "currency": ("currency", "currency_code", "currencyisocode", "order_currency"),
    "email": ("email", "e_mail", "email_address", "customer_email", "billing_email"),
    "phone": ("phone", "phone_number", "mobile", "mobile_phone", "telephone", "billing_phone"),
    "external_id": ("external_id", "customer_id", "user_id", "contact_id"),
    "fbp": ("fbp", "_fbp"),
    "fbc": ("fbc", "_fbc"),
    "fbclid": ("fbclid", "facebook_click_id", "fb_click_id"),
    "country": ("country", "country_code", "billing_country"),
    "utm_source": ("utm_source",),
    "utm_campaign": ("utm_campaign",),
    "form": ("form", "form_name", "form_id"),
    "sales_channel": ("sales_channel", "channel"),
}  # fmt: skip
_ID_ALIASES: dict[TruthKind, tuple[str, ...]] = {
    "order": (
        "raw_id",
        "order_id",
        "order_number",
        "order_no",
        "order_name",
        "transaction_id",
        "order",
        "id",
    ),
    "lead": ("raw_id", "lead_id", "record_id", "id"),
}


#: Fields worth naming when a file leaves them empty, per kind (the rest are rare in such exports).
_USEFUL: dict[TruthKind, tuple[str, ...]] = {
    "order": (
        "paid_at", "status_raw", "value", "currency", "email", "phone", "external_id", "fbp", "fbc",
        "country",
    ),
    "lead": (
        "status_raw", "qualified_at", "won_at", "email", "phone", "external_id", "fbp", "fbc", "country",
        "utm_source", "utm_campaign", "form",
    ),
}  # fmt: skip
#: Parts of a column name (``header_key``) that suggest a field, for columns no alias matched exactly:
#: ``Kunden E-Mail`` -> email, ``Order Total (EUR)`` -> value. Checked in ``_USEFUL`` order.
_HINTS: dict[str, tuple[str, ...]] = {
    "paid_at": ("paid",),
    "status_raw": ("status", "stage", "state"),
    "qualified_at": ("qualif",),
    "won_at": ("won", "closed"),
    "value": ("total", "amount", "revenue", "value", "price", "sum"),
    "currency": ("currency", "curr"),
    "email": ("mail",),
    "phone": ("phone", "tel", "mobile"),
    "external_id": ("customer", "user_id", "contact_id"),
    "fbp": ("fbp",),
    "fbc": ("fbc", "fbclid", "click_id"),
    "country": ("country",),
    "utm_source": ("source",),
    "utm_campaign": ("campaign",),
    "form": ("form",),
}


@dataclass(frozen=True)
class MappingNotes:
    """What a generic CSV's column mapping leaves out, said before anything is stored.

    ``unread``: the file's columns no field reads; ``empty``: fields worth having that no column feeds
    (stored empty); ``suggestions``: (column, field) pairs a ``--map 'COLUMN=FIELD'`` would read.
    """

    unread: tuple[str, ...]
    empty: tuple[str, ...]
    suggestions: tuple[tuple[str, str], ...]


def mapping_notes(header: list[str], column_map: dict[str, str], kind: TruthKind) -> MappingNotes:
    """The columns ``resolve_columns`` leaves unread and what ``--map`` could do with them.

    Raises:
        MappingError: as ``resolve_columns`` (a bad ``--map``, no id or date column).
    """
    names = [name.strip() for name in header]
    mapping = resolve_columns(names, column_map, kind)
    used = set(mapping.values())
    unread = [name for position, name in enumerate(names) if position not in used and name]
    has = set(mapping) | ({"fbc"} if "fbclid" in mapping else set())
    empty = [field for field in _USEFUL[kind] if field not in has]
    suggestions: list[tuple[str, str]] = []
    for column in unread:
        key = header_key(column)
        field = next((f for f in empty if any(hint in key for hint in _HINTS.get(f, ()))), None)
        if field is not None and field not in {f for _, f in suggestions}:
            target = "fbclid" if field == "fbc" and "fbc" not in key.split("_") else field
            suggestions.append((column, target))
    return MappingNotes(tuple(unread), tuple(empty), tuple(suggestions))


def file_mapping_notes(path: Path, column_map: dict[str, str], kind: TruthKind) -> MappingNotes:
    """``mapping_notes`` of a file's header row."""
    records = iter_records(path)
    try:
        _, header = next(records)
    finally:
        records.close()
    return mapping_notes(header, column_map, kind)


def lead_status(stage: str | None, stage_map: dict[str, str] | None = None) -> str:
    """new | qualified | disqualified | won | lost for a CRM stage (``Closed - Won`` -> won), by the
    generic table of ``lead_stages`` and the user's ``stage_map``."""
    return StageMap(GENERIC, stage_map).status(stage)


def resolve_columns(header: list[str], column_map: dict[str, str], kind: TruthKind) -> dict[str, int]:
    """field -> column index: the explicit mapping first, then auto-mapping of what is left.

    Raises:
        MappingError: a mapped column or field that does not exist, a field mapped twice, or a
            required field (raw_id, created_at) left without a column.
    """
    keys = [header_key(name) for name in header]
    mapping = explicit_columns(header, column_map)
    used = set(mapping.values())
    aliases = {**ALIASES, "raw_id": _ID_ALIASES[kind]}
    for field in FIELDS:
        if field in mapping:
            continue
        position = _first_alias(keys, aliases.get(field, (field,)), used)
        if position is not None:
            mapping[field] = position
            used.add(position)
    missing = [field for field in REQUIRED if field not in mapping]
    if missing:
        raise MappingError(
            f"no column for {' and '.join(missing)}",
            hint=f"map one with --map COLUMN={missing[0]}; columns: {_listing(header)}",
        )
    return mapping


def explicit_columns(header: list[str], column_map: dict[str, str]) -> dict[str, int]:
    """field -> column index of the user's ``--map COL=FIELD`` entries (exact name first, then loosely).

    Raises:
        MappingError: an unknown field, a column the file lacks, or a field mapped twice.
    """
    keys = [header_key(name) for name in header]
    mapping: dict[str, int] = {}
    for column, field in column_map.items():
        if field not in FIELDS:
            raise MappingError(
                f"unknown field {field!r} in {column}={field}", hint=f"fields: {', '.join(FIELDS)}"
            )
        if column in header:
            position = header.index(column)
        elif header_key(column) in keys:
            position = keys.index(header_key(column))
        else:
            raise MappingError(f"no column {column!r} in the file", hint=f"columns: {_listing(header)}")
        if field in mapping:
            raise MappingError(f"field {field!r} is mapped to more than one column")
        mapping[field] = position
    return mapping


def _first_alias(keys: list[str], aliases: tuple[str, ...], used: set[int]) -> int | None:
    for alias in aliases:
        for position, key in enumerate(keys):
            if key == alias and position not in used:
                return position
    return None


def _listing(header: list[str]) -> str:
    return ", ".join(repr(name) for name in header[:60]) + (" …" if len(header) > 60 else "")


class GenericCsvReader:
    """A CSV with a header row and one record per row, read through a column mapping."""

    def __init__(self, kind: TruthKind, source: SourceKind, fmt: str, description: str) -> None:
        self.kind: TruthKind = kind
        self.source: SourceKind = source
        self.format: str = fmt
        self.description: str = description

    def sniff(self, head: str, file_name: str) -> bool:
        """A header with an id-like and a date-like column (and not a Shopify export)."""
        rows = head_records(head, limit=1)
        if not rows or len(rows[0]) < 2 or looks_like_shopify(rows[0]):
            return False
        keys = [header_key(name) for name in rows[0]]
        return any(k in keys for k in _ID_ALIASES[self.kind]) and any(
            k in keys for k in ALIASES["created_at"]
        )

    def read(self, path: Path, options: ReadOptions) -> Iterator[IncomingTruth | RowError]:
        """One IncomingTruth per data row, RowError for rows that do not fit."""
        records = iter_records(path)
        _, header = next(records)
        header = [name.strip() for name in header]
        mapping = resolve_columns(header, options.column_map, self.kind)
        stages = StageMap(GENERIC, options.stage_map)  # validates --stage-map before any row is read
        blank = pii_columns(header, keep=[mapping["raw_id"]])
        count = 0
        for line_no, fields in records:
            if is_blank(fields):
                continue
            count += 1
            if len(fields) != len(header):
                reason = f"row has {len(fields)} fields, the header has {len(header)}"
                yield RowError(line_no, reason, masked_row(fields, blank, len(header)))
                continue
            yield self._record(line_no, fields, header, mapping, blank, stages)
        if count == 0:
            raise UnreadableFileError(f"{path.name} has a header but no rows", hint="export the file again")

    def _record(
        self,
        line_no: int,
        fields: list[str],
        header: list[str],
        mapping: dict[str, int],
        blank: frozenset[int],
        stages: StageMap,
    ) -> IncomingTruth | RowError:
        values: dict[str, Any] = {field: clean(fields[position]) for field, position in mapping.items()}
        if values.get("raw_id") is None:
            return RowError(
                line_no, f"empty id ({header[mapping['raw_id']]!r})", masked_row(fields, blank, len(header))
            )
        try:
            for field in _DATE_FIELDS:
                if field in mapping:
                    values[field] = _date(header[mapping[field]], values[field])
            for field in _NUMBER_FIELDS:
                if field in mapping:
                    values[field] = _number(header[mapping[field]], values[field])
        except ValueError as err:
            return RowError(line_no, str(err), masked_row(fields, blank, len(header)))
        if values.get("created_at") is None:
            reason = f"empty creation date ({header[mapping['created_at']]!r})"
            return RowError(line_no, reason, masked_row(fields, blank, len(header)))
        values["status_raw"], values["status"] = _statuses(self.kind, values, stages)
        click = values.pop("fbclid", None)
        values["fbc"] = values.get("fbc") or fbc_from_click(click, values["created_at"])
        return IncomingTruth(line_no=line_no, kind=self.kind, source_system="csv", **values)


def _statuses(kind: TruthKind, values: dict[str, Any], stages: StageMap) -> tuple[str | None, str | None]:
    """(status_raw, status) of one record.

    A mapped ``status`` column already in the normalized vocabulary is kept as the file says; otherwise
    order statuses are left to ``canonical.normalize_order_status`` and a lead's stage goes through
    ``stages``, then its qualified_at / won_at dates (``lead_stages.decide_status``).
    """
    stage, status = values.get("status_raw"), values.get("status")
    raw = stage if stage is not None else status
    allowed = LEAD_STATUSES if kind == "lead" else ORDER_STATUSES
    if status is not None and status.lower() in allowed:
        return raw, status.lower()
    if kind != "lead":
        return raw, None
    stage_status = stages.status(raw)
    return raw, decide_status(
        stage_status, qualified_at=values.get("qualified_at"), won_at=values.get("won_at")
    )


def _date(column: str, text: str | None) -> dt.datetime | None:
    try:
        return parse_datetime(text)
    except ValueError as err:
        problem = "ambiguous day/month order" if "ambiguous" in str(err) else "not a recognised date"
        raise ValueError(value_error_reason(column, text, problem)) from None


def _number(column: str, text: str | None) -> float | None:
    try:
        return parse_number(text)
    except ValueError:
        raise ValueError(value_error_reason(column, text, "not a number")) from None


READERS: list[GenericCsvReader] = [
    GenericCsvReader("order", "orders", "generic_orders", "Any CSV of orders with a column mapping"),
    GenericCsvReader("lead", "leads", "generic_leads", "Any CSV of leads with a column mapping"),
]
