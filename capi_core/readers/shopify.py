"""Reader of the Shopify admin Orders export (CSV): one ``IncomingTruth`` per order.

The export has one row per line item; order-level fields are filled on an order's first row only (some
columns, such as ``Email``, ``Created at`` or ``Phone``, repeat on later rows). Rows are grouped by
``Name`` (contiguous, as Shopify writes them) and each order field is taken from the first row of the
group that has it. Columns are found by header name, never by position, so the 78-column layout (no
``Payment References``) and the 79-column layout read the same.

Status rules, on top of ``Financial Status`` (``status_raw``, normalized by ``canonical.py``):

* a test order is ``test``: paid through Shopify's test gateway (``Payment Method`` containing
  ``bogus``, as "(for testing) Bogus Gateway" orders are) or tagged ``test`` / ``test order``.
  ``Source`` is not used: it holds app ids and channel names, none of which means "test";
* a ``Cancelled at`` value makes the order ``cancelled`` unless it was refunded (a refunded
  cancellation stays ``refunded``, which says more about the money).

The Abandoned checkouts export has the same columns but no ``Financial Status`` values: ``sniff``
rejects it and ``read`` refuses it with an explanation, so checkouts are never stored as orders.

This module only parses: raw emails and phones go into ``IncomingTruth`` and are hashed by
``canonical.py``; quarantined rows are built with PII columns blanked and then masked.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from capi_core.errors import UnreadableFileError
from capi_core.models import IncomingTruth, RowError, SourceKind
from capi_core.readers._csv import (
    clean,
    head_records,
    is_blank,
    iter_records,
    masked_row,
    parse_datetime,
    parse_number,
    pii_columns,
    value_error_reason,
)
from capi_core.readers._meta_keys import fbc_from_click

if TYPE_CHECKING:
    from capi_core.readers import ReadOptions

#: Columns every Shopify Orders (and Abandoned checkouts) export has; used to recognise the layout.
SIGNATURE = ("Name", "Financial Status", "Created at", "Lineitem name")
#: How many leading records ``read`` inspects for a Financial Status before calling the file not-orders.
_PROBE_RECORDS = 500
_FBP_KEYS = ("_fbp", "fbp", "_elevar__fbp", "_elevar_fbp")
_FBC_KEYS = ("_fbc", "fbc", "_elevar__fbc", "_elevar_fbc")
_CUSTOMER_ID_COLUMNS = ("Customer ID", "Customer Id", "Customer id")
_TEST_TAGS = frozenset({"test", "test order", "test_order"})


def looks_like_shopify(header: list[str]) -> bool:
    """True when a header has the Shopify orders/checkouts signature columns."""
    names = {name.strip() for name in header}
    return all(column in names for column in SIGNATURE)


def parse_note_attributes(text: str | None) -> dict[str, str]:
    """Note Attributes' ``key: value`` lines as a dict; a line without ``: `` continues the last value."""
    attributes: dict[str, str] = {}
    last: str | None = None
    for line in (text or "").splitlines():
        key, sep, value = line.partition(": ")
        if sep and 0 < len(key.strip()) <= 64 and not key.startswith((" ", "\t", "{", '"')):
            last = key.strip()
            attributes[last] = value.strip()
        elif last is not None:
            attributes[last] += "\n" + line
    return attributes


def _utm(attributes: dict[str, str], name: str) -> str | None:
    """A UTM value written as its own attribute, else inside a JSON attribute (``_elevar_visitor_info``)."""
    for key, value in attributes.items():
        if key.lstrip("_").lower() == name and value:
            return value
    for value in attributes.values():
        if not value.startswith("{"):
            continue
        try:
            decoded = json.loads(value)
        except ValueError:
            continue  # e.g. Ruby-hash text `{"quizid" => …}`
        found = decoded.get(name) if isinstance(decoded, dict) else None
        if isinstance(found, str) and found:
            return found
    return None


def _first_key(attributes: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((attributes[key] for key in keys if attributes.get(key)), None)


@dataclass(frozen=True)
class _Columns:
    """Column indexes by header name for one file."""

    index: dict[str, int]
    width: int
    blank: frozenset[int]

    @classmethod
    def of(cls, header: list[str], file_name: str) -> _Columns:
        names = [name.strip() for name in header]
        if not looks_like_shopify(names):
            missing = [column for column in SIGNATURE if column not in names]
            raise UnreadableFileError(
                f"{file_name} is not a Shopify Orders export (missing columns: {', '.join(missing)})",
                hint="export Orders from the Shopify admin, or use --format generic_orders with --map",
            )
        index: dict[str, int] = {}
        for position, name in enumerate(names):
            index.setdefault(name, position)
        return cls(index, len(names), pii_columns(names, keep=[index["Name"]]))


class _Group:
    """The rows of one order, in file order."""

    def __init__(self, line_no: int, name: str, rows: list[list[str]]) -> None:
        self.line_no, self.name, self.rows = line_no, name, rows

    def get(self, cols: _Columns, column: str) -> str | None:
        """The first non-empty value of ``column`` among the order's rows (None if no such column)."""
        position = cols.index.get(column)
        if position is None:
            return None
        return next((value for row in self.rows if (value := clean(row[position]))), None)


class ShopifyOrdersReader:
    """Shopify admin Orders export, 78- or 79-column layout."""

    source: SourceKind = "orders"
    format: str = "shopify_orders"
    description: str = "Shopify admin Orders export (CSV, one row per line item)"

    def sniff(self, head: str, file_name: str) -> bool:
        """A Shopify header, and a Financial Status on some row (checkouts exports have none)."""
        rows = head_records(head)
        if not rows or not looks_like_shopify(rows[0]):
            return False
        status = [name.strip() for name in rows[0]].index("Financial Status")
        data = [row for row in rows[1:] if not is_blank(row)]
        return not data or any(len(row) > status and row[status].strip() for row in data)

    def explain_refusal(self, head: str, file_name: str) -> str | None:
        """Why a Shopify-looking file is not read as orders (for detection's error message)."""
        rows = head_records(head)
        if rows and looks_like_shopify(rows[0]) and not self.sniff(head, file_name):
            return (
                "looks like a Shopify Abandoned checkouts export (no Financial Status), not an Orders export"
            )
        return None

    def read(self, path: Path, options: ReadOptions) -> Iterator[IncomingTruth | RowError]:
        """One IncomingTruth per order (line = the order's first row), RowError for unreadable rows."""
        cols = _check_orders_export(path)
        records = iter_records(path)
        next(records)  # header, checked above
        yield from _read_groups(records, cols)


def _check_orders_export(path: Path) -> _Columns:
    """The file's columns, after refusing files that are not Orders exports (header, empty, checkouts)."""
    records = iter_records(path)
    try:
        _, header = next(records)
        cols = _Columns.of(header, path.name)
        status = cols.index["Financial Status"]
        seen_rows = 0
        for _, fields in records:
            if is_blank(fields):
                continue
            seen_rows += 1
            if len(fields) > status and fields[status].strip():
                return cols
            if seen_rows >= _PROBE_RECORDS:
                break
    finally:
        records.close()
    if seen_rows == 0:
        raise UnreadableFileError(f"{path.name} has a header but no orders", hint="export the file again")
    raise UnreadableFileError(
        f"{path.name} looks like a Shopify Abandoned checkouts export, not an Orders export: "
        "none of its rows has a Financial Status",
        hint="export Orders from the Shopify admin (Orders → Export); checkouts are not orders",
    )


def _read_groups(
    records: Iterator[tuple[int, list[str]]], cols: _Columns
) -> Iterator[IncomingTruth | RowError]:
    """Rows grouped by contiguous Name -> orders; errors found inside a group follow it (file order)."""
    group: _Group | None = None
    pending: list[RowError] = []
    read_at: dict[str, int] = {}
    for line_no, fields in records:
        if is_blank(fields):
            continue
        problem = _row_problem(fields, cols)
        if problem is not None:
            pending.append(RowError(line_no, problem, masked_row(fields, cols.blank, cols.width)))
            continue
        name = fields[cols.index["Name"]].strip()
        if group is not None and name == group.name:
            group.rows.append(fields)
            continue
        if group is not None:
            yield from _finish(group, cols, read_at)
        yield from pending
        pending.clear()
        group = _Group(line_no, name, [fields])
    if group is not None:
        yield from _finish(group, cols, read_at)
    yield from pending


def _row_problem(fields: list[str], cols: _Columns) -> str | None:
    if len(fields) != cols.width:
        return f"row has {len(fields)} fields, the header has {cols.width}"
    if not fields[cols.index["Name"]].strip():
        return "row without Name (order number)"
    return None


def _finish(group: _Group, cols: _Columns, read_at: dict[str, int]) -> Iterator[IncomingTruth | RowError]:
    """The group's order, unless it only continues an order already read (then nothing)."""
    first_line = read_at.get(group.name)
    if first_line is not None:
        if group.get(cols, "Financial Status") is not None:
            yield _group_error(group, cols, f"order {group.name} was already read at line {first_line}")
        return  # rows that only continue an earlier order's line items add nothing at order level
    read_at[group.name] = group.line_no
    yield _order(group, cols)


def _group_error(group: _Group, cols: _Columns, reason: str) -> RowError:
    # the masked raw text is built for quarantined orders only: masking every row would cost more
    # than reading it
    return RowError(group.line_no, reason, masked_row(group.rows[0], cols.blank, cols.width))


def _order(group: _Group, cols: _Columns) -> IncomingTruth | RowError:
    """The order of one group of rows, or the reason it cannot be read."""
    financial = group.get(cols, "Financial Status")
    if financial is None:
        return _group_error(group, cols, f"order {group.name} has no Financial Status (no order-level row)")
    try:
        created_at = _aware("Created at", group.get(cols, "Created at"), required=True)
        paid_at = _aware("Paid at", group.get(cols, "Paid at"), required=False)
        value = _amount("Total", group.get(cols, "Total"))
        subtotal = _amount("Subtotal", group.get(cols, "Subtotal"))
    except ValueError as err:
        return _group_error(group, cols, f"order {group.name}: {err}")
    attributes = parse_note_attributes(group.get(cols, "Note Attributes"))
    return IncomingTruth(
        line_no=group.line_no,
        kind="order",
        raw_id=group.name,
        created_at=created_at,
        paid_at=paid_at,
        status_raw=financial,
        status=_status(group, cols, financial),
        value=value,
        subtotal=subtotal,
        currency=group.get(cols, "Currency"),
        email=group.get(cols, "Email"),
        phone=group.get(cols, "Phone")
        or group.get(cols, "Billing Phone")
        or group.get(cols, "Shipping Phone"),
        external_id=next(filter(None, (group.get(cols, c) for c in _CUSTOMER_ID_COLUMNS)), None),
        fbp=_first_key(attributes, _FBP_KEYS),
        # without the _fbc cookie, the fbclid Elevar & co. keep is Meta's click key (readers._meta_keys)
        fbc=_first_key(attributes, _FBC_KEYS) or fbc_from_click(_utm(attributes, "fbclid"), created_at),
        country=group.get(cols, "Billing Country") or group.get(cols, "Shipping Country"),
        utm_source=_utm(attributes, "utm_source"),
        utm_campaign=_utm(attributes, "utm_campaign"),
        sales_channel=group.get(cols, "Source"),
        source_system="shopify",
    )


def _aware(column: str, text: str | None, *, required: bool) -> dt.datetime | None:
    """A Shopify timestamp, which always carries its UTC offset (it changes with DST inside a file)."""
    if text is None:
        if required:
            raise ValueError(f"{column} is empty")
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        raise ValueError(value_error_reason(column, text, "not a date")) from None
    if moment is None or moment.tzinfo is None:
        raise ValueError(value_error_reason(column, text, "a date without its UTC offset"))
    return moment


def _amount(column: str, text: str | None) -> float | None:
    try:
        return parse_number(text)
    except ValueError:
        raise ValueError(value_error_reason(column, text, "not a number")) from None


def _status(group: _Group, cols: _Columns, financial: str) -> str | None:
    """test / cancelled when the export says so beyond Financial Status; else None (canonical maps it)."""
    tags = {tag.strip().lower() for tag in (group.get(cols, "Tags") or "").split(",")}
    gateway = (group.get(cols, "Payment Method") or "").lower()
    if tags & _TEST_TAGS or "bogus" in gateway:
        return "test"
    if group.get(cols, "Cancelled at") and financial.strip().lower() != "refunded":
        return "cancelled"
    return None


READERS: list[ShopifyOrdersReader] = [ShopifyOrdersReader()]
