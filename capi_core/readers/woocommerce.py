"""Reader of WooCommerce order exports (CSV): one ``IncomingTruth`` per order.

Layouts read (columns found by header name, ``PRESET``; ``--map COL=FIELD`` overrides any of them):

* WebToffee "Order Export & Import" and SkyVerge "Customer/Order CSV Export" field names (``order_id,
  order_number, order_date, paid_date, status, order_total, order_subtotal, order_currency,
  billing_email, billing_phone, billing_country, meta:_wc_order_attribution_utm_source, line_item_1 ...``)
  and their labelled twins (``Order ID, Order Date, Order Status, Order Total, Order Currency, Billing
  Email ...``);
* "Advanced Order Export" labels (``Order Number, Order Status, Order Date, Email (Billing), Phone
  (Billing), Order Subtotal Amount, Order Total Amount ...``).

Layouts with one row per line item repeat the order (every row, or its first row only): contiguous rows
with the same order id are one order, each field taken from the first row that has it, and the order's
line is its first row's. An order id that comes back after other orders is quarantined as already read.
The id is ``Order ID`` (WooCommerce's own id, which its Meta integrations send as ``order_id``), else
``Order Number``.

Statuses (``status_raw`` keeps the export's text; ``wc-`` prefixes, case and spaces are ignored):
completed, processing -> paid (paid and being fulfilled); on-hold, pending, pending payment,
checkout-draft, draft -> pending; refunded -> refunded; cancelled, failed, trash -> cancelled (failed
means the payment never went through: no sale); the common plugin statuses shipped, delivered,
partially-shipped -> paid. Any other custom status is left without a normalized status. WooCommerce has
no test-order flag, so no order is ``test``.

Meta keys: ``_fbp`` / ``_fbc`` order meta as given; else an ``fbclid`` (order meta, or in the order
attribution's ``session_entry`` landing URL) becomes the ``fbc`` Meta builds from a click id, dated by the
attribution's ``session_start_time``, else the order date (``_meta_keys``).

Dates carry no offset (shop time) and are taken as UTC. A ``customer_id`` of ``0`` is a guest: no
external id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from capi_core.errors import UnreadableFileError
from capi_core.models import IncomingTruth, RowError, SourceKind
from capi_core.readers._csv import head_records, header_key, is_blank, iter_records
from capi_core.readers._preset import Columns, day_first_of
from capi_core.readers.shopify import looks_like_shopify

if TYPE_CHECKING:
    from capi_core.readers import ReadOptions

#: field -> header names, best first.
PRESET: dict[str, tuple[str, ...]] = {
    "raw_id": ("order_id", "Order ID", "order_number", "Order Number", "Order #"),
    "created_at": ("order_date", "Order Date", "date_created", "Date Created", "Created Date"),
    "paid_at": ("paid_date", "Paid Date", "date_paid", "Date Paid", "Order Paid Date"),
    "status_raw": ("status", "Order Status", "order_status"),
    "value": ("order_total", "Order Total", "Order Total Amount"),
    "subtotal": ("order_subtotal", "Order Subtotal", "Order Subtotal Amount"),
    "currency": ("order_currency", "Order Currency", "Currency"),
    "email": ("billing_email", "Billing Email", "Email (Billing)", "customer_email", "Customer Email"),
    "phone": (
        "billing_phone", "Billing Phone", "Phone (Billing)",
        "shipping_phone", "Shipping Phone", "Phone (Shipping)",
    ),
    "country": (
        "billing_country", "Billing Country", "Country Code (Billing)",
        "shipping_country", "Shipping Country", "Country Code (Shipping)",
    ),
    "external_id": ("customer_id", "Customer ID", "customer_user", "Customer User ID"),
    "utm_source": ("meta:_wc_order_attribution_utm_source", "utm_source", "UTM Source"),
    "utm_campaign": ("meta:_wc_order_attribution_utm_campaign", "utm_campaign", "UTM Campaign"),
    "fbp": ("meta:_fbp", "_fbp", "fbp"),
    "fbc": ("meta:_fbc", "_fbc", "fbc"),
    "fbclid": ("meta:_fbclid", "meta:fbclid", "fbclid"),
    "landing_url": ("meta:_wc_order_attribution_session_entry", "Session Entry", "Landing Page"),
    "click_seen": ("meta:_wc_order_attribution_session_start_time", "Session Start Time"),
    "sales_channel": ("created_via", "Created Via", "meta:_created_via"),
}  # fmt: skip
#: WooCommerce order status (``wc-`` prefix dropped, lowercase, spaces as ``-``) -> normalized status.
STATUSES: dict[str, str] = {
    "completed": "paid", "processing": "paid", "shipped": "paid", "delivered": "paid",
    "partially-shipped": "paid", "partial-shipped": "paid",
    "on-hold": "pending", "pending": "pending", "pending-payment": "pending", "checkout-draft": "pending",
    "draft": "pending",
    "refunded": "refunded",
    "cancelled": "cancelled", "canceled": "cancelled", "failed": "cancelled", "trash": "cancelled",
}  # fmt: skip
_DATE_FIELDS = ("created_at", "paid_at", "click_seen")
_GUEST_IDS = frozenset({"0"})


def _keys(field: str) -> frozenset[str]:
    return frozenset(header_key(name) for name in PRESET[field])


_ID_KEYS, _STATUS_KEYS, _TOTAL_KEYS, _DATE_KEYS = (
    _keys("raw_id"), _keys("status_raw"), _keys("value"), _keys("created_at")
)  # fmt: skip
#: Header names WooCommerce export plugins write and a hand-made orders CSV rarely has.
_MARKERS = frozenset(
    header_key(name)
    for name in (
        "order_key", "order_currency", "payment_method_title", "customer_user", "cart_discount",
        "order_shipping", "shipping_total", "order_subtotal", "Order Subtotal Amount",
        "Order Total Amount", "Order Shipping Amount", "Cart Discount Amount", "wt_import_key",
        "billing_first_name", "Billing First Name", "First Name (Billing)", "Email (Billing)",
        "Phone (Billing)", "created_via", "Order Currency",
    )
)  # fmt: skip
_MARKER_PREFIXES = ("meta_wc_", "line_item_")


def woo_status(raw: str | None) -> str | None:
    """paid | pending | refunded | cancelled for a WooCommerce status, None for an unknown one."""
    key = (raw or "").strip().lower().removeprefix("wc-").replace(" ", "-").replace("_", "-")
    return STATUSES.get(key)


class WooCommerceOrdersReader:
    """WooCommerce order export CSV (one row per order or per line item)."""

    source: SourceKind = "orders"
    format: str = "woocommerce_orders"
    description: str = "WooCommerce order export (CSV; WebToffee, SkyVerge or Advanced Order Export)"

    def sniff(self, head: str, file_name: str) -> bool:
        """An order id, date, status and total column, plus two columns only WooCommerce exports have."""
        rows = head_records(head, limit=1)
        if not rows or looks_like_shopify(rows[0]):
            return False
        keys = {header_key(name) for name in rows[0]}
        if not (keys & _ID_KEYS and keys & _DATE_KEYS and keys & _STATUS_KEYS and keys & _TOTAL_KEYS):
            return False
        markers = len(keys & _MARKERS) + sum(1 for key in keys if key.startswith(_MARKER_PREFIXES))
        return markers >= 2

    def read(self, path: Path, options: ReadOptions) -> Iterator[IncomingTruth | RowError]:
        """One IncomingTruth per order (line = its first row), RowError for rows that cannot be read."""
        records = iter_records(path)
        _, header = next(records)
        cols = Columns.resolve(header, PRESET, options.column_map)
        cols.require(("raw_id", "created_at"), path.name, "WooCommerce order export")
        day_first = day_first_of(path, cols, _DATE_FIELDS)
        group: list[tuple[int, list[str]]] = []
        pending: list[RowError] = []  # bad rows met while an order is open follow it (file order)
        read_at: dict[str, int] = {}
        count = 0
        for line_no, fields in records:
            if is_blank(fields):
                continue
            count += 1
            problem = _row_problem(fields, cols)
            if problem is not None:
                pending.append(RowError(line_no, problem, cols.masked(fields)))
                continue
            if group and cols.value(group[0][1], "raw_id") == cols.value(fields, "raw_id"):
                group.append((line_no, fields))
                continue
            if group:
                yield _finish(group, cols, read_at, day_first)
            yield from pending
            pending.clear()
            group = [(line_no, fields)]
        if group:
            yield _finish(group, cols, read_at, day_first)
        yield from pending
        if count == 0:
            raise UnreadableFileError(f"{path.name} has a header but no orders", hint="export the file again")


def _row_problem(fields: list[str], cols: Columns) -> str | None:
    if len(fields) != len(cols.header):
        return f"row has {len(fields)} fields, the header has {len(cols.header)}"
    if cols.value(fields, "raw_id") is None:
        return f"empty order id ({cols.name('raw_id')!r})"
    return None


def _finish(
    group: list[tuple[int, list[str]]], cols: Columns, read_at: dict[str, int], day_first: bool | None
) -> IncomingTruth | RowError:
    """The order of one group of rows, or the reason it cannot be read."""
    line_no, first = group[0]
    order_id = cols.value(first, "raw_id") or ""
    if order_id in read_at:
        reason = f"order {order_id} was already read at line {read_at[order_id]}"
        return RowError(line_no, reason, cols.masked(first))
    read_at[order_id] = line_no
    rows = [fields for _, fields in group]

    def get(field: str) -> str | None:
        return next((value for fields in rows if (value := cols.value(fields, field))), None)

    try:
        created_at = _date(cols, rows, "created_at", day_first)
        paid_at = _date(cols, rows, "paid_at", day_first)
        value = next((n for fields in rows if (n := cols.number(fields, "value")) is not None), None)
        subtotal = next((n for fields in rows if (n := cols.number(fields, "subtotal")) is not None), None)
    except ValueError as err:
        return RowError(line_no, f"order {order_id}: {err}", cols.masked(first))
    if created_at is None:
        reason = f"order {order_id}: empty order date ({cols.name('created_at')!r})"
        return RowError(line_no, reason, cols.masked(first))
    status_raw = get("status_raw")
    customer = get("external_id")
    return IncomingTruth(
        line_no=line_no,
        kind="order",
        raw_id=order_id,
        created_at=created_at,
        paid_at=paid_at,
        status_raw=status_raw,
        status=woo_status(status_raw),
        value=value,
        subtotal=subtotal,
        currency=get("currency"),
        email=get("email"),
        phone=get("phone"),
        external_id=None if customer in _GUEST_IDS else customer,
        fbp=get("fbp"),
        fbc=next((fbc for fields in rows if (fbc := cols.fbc(fields, created_at, day_first))), None),
        country=get("country"),
        utm_source=get("utm_source"),
        utm_campaign=get("utm_campaign"),
        sales_channel=get("sales_channel"),
        source_system="woocommerce",
    )


def _date(cols: Columns, rows: list[list[str]], field: str, day_first: bool | None) -> dt.datetime | None:
    return next((d for fields in rows if (d := cols.date(fields, field, day_first)) is not None), None)


READERS: list[WooCommerceOrdersReader] = [WooCommerceOrdersReader()]
