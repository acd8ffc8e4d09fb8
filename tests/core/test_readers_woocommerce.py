"""WooCommerce order export reader: layouts, statuses, line-item grouping, detection, bad input, ingest.

Fixtures in ``fixtures/woocommerce/`` (invented people, example.com addresses):

* ``woocommerce_orders.csv``: WebToffee/SkyVerge field names, one row per order, lines 2-10; order 509
  (line 10) has the total ``12.3.4``;
* ``woocommerce_line_items.csv``: SkyVerge labels, one row per line item: 7001 on lines 2-3 (order fields
  repeated), 7002 on lines 4-5 (the second row carries only the id and its item), 7003 on line 6, 7001
  again on line 7 (after other orders), line 8 has 5 of 13 fields.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from capi_core.errors import MappingError, UnreadableFileError
from capi_core.ingest import ingest_file
from capi_core.models import IncomingTruth, RowError
from capi_core.readers import ReadOptions, detect, get_reader
from capi_core.readers.woocommerce import woo_status
from capi_core.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ORDERS = FIXTURES / "woocommerce" / "woocommerce_orders.csv"
LINE_ITEMS = FIXTURES / "woocommerce" / "woocommerce_line_items.csv"
WOO = get_reader("orders", "woocommerce_orders")
Item = IncomingTruth | RowError


def _read(path: Path, **options: object) -> list[Item]:
    return list(WOO.read(path, ReadOptions(**options)))  # type: ignore[arg-type]


def _order(raw_id: str, line_no: int, created: dt.datetime, **fields: object) -> IncomingTruth:
    return IncomingTruth(
        line_no=line_no,
        kind="order",
        raw_id=raw_id,
        created_at=created,
        source_system="woocommerce",
        **fields,
    )  # type: ignore[arg-type]


def _comparable(items: list[Item]) -> list[IncomingTruth | tuple[int, str]]:
    return [(item.line_no, item.reason) if isinstance(item, RowError) else item for item in items]


def test_one_row_per_order() -> None:
    """Transcribed from woocommerce_orders.csv. `"1,250.00"` -> 1250.0; `wc-completed` -> paid; customer
    id 0 is a guest (no external id); `failed` -> cancelled; `wc-awaiting-shipment` is a custom status
    -> no normalized status; Excel's leading apostrophe is dropped from the phone."""
    eur = {"currency": "EUR", "country": "IT"}
    assert _comparable(_read(ORDERS)) == [
        _order(
            "501", 2, dt.datetime(2026, 11, 2, 10, 15), paid_at=dt.datetime(2026, 11, 2, 10, 16),
            status_raw="wc-completed", status="paid", value=1250.0, subtotal=1200.0,
            email="anna.rossi@example.com", phone="+39 333 123 4567", external_id="12",
            fbp="fb.1.1793600000000.1234567890", utm_source="facebook", utm_campaign="bf_2026", **eur,
        ),
        _order(
            "502", 3, dt.datetime(2026, 11, 2, 11), paid_at=dt.datetime(2026, 11, 2, 11, 1),
            status_raw="processing", status="paid", value=65.0, subtotal=65.0,
            email="bruno.verdi@example.com", phone="3339876543", utm_source="google", **eur,
        ),
        _order(
            "503", 4, dt.datetime(2026, 11, 3, 9), status_raw="on-hold", status="pending", value=29.0,
            subtotal=26.0, email="carla.bianchi@example.com", external_id="14", **eur,
        ),
        _order(
            "504", 5, dt.datetime(2026, 11, 3, 10), paid_at=dt.datetime(2026, 11, 3, 10, 2),
            status_raw="refunded", status="refunded", value=16.0, subtotal=13.0,
            email="dario.neri@example.com", external_id="15", **eur,
        ),
        _order(
            "505", 6, dt.datetime(2026, 11, 4, 8, 30), status_raw="cancelled", status="cancelled",
            value=16.0, subtotal=13.0, email="elena.conti@example.com", external_id="16", **eur,
        ),
        _order(
            "506", 7, dt.datetime(2026, 11, 4, 9, 30), status_raw="failed", status="cancelled", value=16.0,
            subtotal=13.0, email="fabio.galli@example.com", **eur,
        ),
        _order(
            "507", 8, dt.datetime(2026, 11, 4, 10, 30), status_raw="pending", status="pending", value=16.0,
            subtotal=13.0, email="gina.fabbri@example.com", **eur,
        ),
        _order(
            "508", 9, dt.datetime(2026, 11, 5, 12), paid_at=dt.datetime(2026, 11, 5, 12, 1),
            status_raw="wc-awaiting-shipment", value=40.0, subtotal=40.0, email="ugo.riva@example.com",
            external_id="17", **eur,
        ),
        (10, "order 509: order_total '12.3.4': not a number"),
    ]  # fmt: skip


def test_one_row_per_line_item() -> None:
    """7001: two rows -> one order at line 2 (total 59.90 is the order's, not a sum of items). 7002:
    fields from its first row. Line 7 repeats 7001 after other orders -> quarantined; line 8 too short."""
    usd = {"currency": "USD"}
    assert _comparable(_read(LINE_ITEMS)) == [
        _order(
            "7001", 2, dt.datetime(2026, 11, 2, 10), status_raw="Completed", status="paid", value=59.9,
            email="amy.fox@example.com", phone="+1 415 555 0199", country="US", **usd,
        ),
        _order(
            "7002", 4, dt.datetime(2026, 11, 3, 12), status_raw="On hold", status="pending", value=25.0,
            email="bob.gray@example.com", country="US", **usd,
        ),
        _order(
            "7003", 6, dt.datetime(2026, 11, 3, 13), status_raw="Pending payment", status="pending",
            value=10.0, email="cat.hill@example.com", country="CA", **usd,
        ),
        (7, "order 7001 was already read at line 2"),
        (8, "row has 5 fields, the header has 13"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("completed", "paid"),
        ("wc-processing", "paid"),
        ("Processing", "paid"),
        ("on-hold", "pending"),
        ("wc-on-hold", "pending"),
        ("On hold", "pending"),
        ("pending", "pending"),
        ("Pending payment", "pending"),
        ("checkout-draft", "pending"),
        ("refunded", "refunded"),
        ("cancelled", "cancelled"),
        ("failed", "cancelled"),
        ("trash", "cancelled"),
        ("shipped", "paid"),
        ("wc-custom-thing", None),
        (None, None),
    ],
)
def test_status_mapping(raw: str | None, status: str | None) -> None:
    assert woo_status(raw) == status


def test_advanced_order_export_labels(tmp_path: Path) -> None:
    """Algolplus labels; order fields on the first row only; day-first dates proven by `25/11/2026`."""
    path = tmp_path / "advanced.csv"
    path.write_text(
        "Order Number,Order Status,Order Date,Email (Billing),Phone (Billing),Country Code (Billing),"
        "Payment Method Title,Order Subtotal Amount,Order Total Amount,Item Name\n"
        "9001,Completed,25/11/2026 10:00,ida.moe@example.com,+47 912 34 567,NO,Card,90.00,100.00,Boots\n"
        "9001,,,,,,,,,Laces\n"
        "9002,Processing,01/12/2026 09:30,jan.holm@example.com,,NO,Card,20.00,25.00,Socks\n",
        encoding="utf-8",
    )
    assert detect(path, "orders").format == "woocommerce_orders"
    assert _read(path) == [
        _order(
            "9001", 2, dt.datetime(2026, 11, 25, 10), status_raw="Completed", status="paid", value=100.0,
            subtotal=90.0, email="ida.moe@example.com", phone="+47 912 34 567", country="NO",
        ),
        _order(
            "9002", 4, dt.datetime(2026, 12, 1, 9, 30), status_raw="Processing", status="paid", value=25.0,
            subtotal=20.0, email="jan.holm@example.com", country="NO",
        ),
    ]  # fmt: skip


# --- detection and bad files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (ORDERS, "woocommerce_orders"),
        (LINE_ITEMS, "woocommerce_orders"),
        (FIXTURES / "orders" / "generic_orders.csv", "generic_orders"),
        (FIXTURES / "orders" / "shopify_orders.csv", "shopify_orders"),
        (FIXTURES / "e2e" / "shop_orders.csv", "shopify_orders"),
    ],
)
def test_detection_takes_nothing_from_other_readers(path: Path, fmt: str) -> None:
    assert detect(path, "orders").format == fmt


def test_a_plain_orders_csv_with_a_total_stays_generic(tmp_path: Path) -> None:
    """id, date, status, total and one WooCommerce-ish column (billing_email) is not enough."""
    path = tmp_path / "plain.csv"
    path.write_text("order_id,order_date,status,order_total,billing_email\n1,2026-11-02,paid,10,a@b.co\n")
    assert detect(path, "orders").format == "generic_orders"


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (b"", UnreadableFileError, "is empty"),
        (b"\x00\x01\x02PK\x03\x04" * 30, UnreadableFileError, "looks binary"),
        (b"order_id,order_date,status,order_total,order_key,order_currency\n", UnreadableFileError,
         "has a header but no orders"),
        (b"order_id,status,order_total\n1,completed,10\n", MappingError,
         "no column for created_at in this WooCommerce order export"),
        (b"order_id,order_date,status\n1,2026-11-02 \x81,completed\n", UnreadableFileError,
         "bytes that are not valid text"),
    ],
    ids=["empty", "binary", "header-only", "missing-date-column", "bad-encoding"],
)  # fmt: skip
def test_bad_files_leave_the_store_unchanged(
    tmp_path: Path, store: Store, content: bytes, error: type[Exception], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(error, match=message):
        ingest_file(store, path, "orders", fmt="woocommerce_orders")
    assert store.query("batches", "select count(*) from batches").scalar() == 0


def test_column_map_overrides_the_preset(tmp_path: Path) -> None:
    path = tmp_path / "mapped.csv"
    path.write_text(
        "order_id,order_date,status,order_total,order_key,order_currency,campaign\n"
        "1,2026-11-02,completed,10,wc_order_x,EUR,bf\n"
    )
    (order,) = _read(path, column_map={"campaign": "utm_campaign"})
    assert isinstance(order, IncomingTruth) and order.utm_campaign == "bf"


# --- ingest ----------------------------------------------------------------------------------------------


def test_ingest_counts_statuses_reingest_and_no_raw_pii(tmp_path: Path) -> None:
    """Orders file: 9 read = 8 stored + 1 quarantined. Line items: 5 read (3 orders + 2 bad rows) = 3 + 2.
    Re-ingest changes nothing; no email or phone of the fixtures is in the store file."""
    db = tmp_path / "woo.duckdb"
    with Store(db) as store:
        results = [ingest_file(store, path, "orders") for path in (ORDERS, LINE_ITEMS)]
        again = ingest_file(store, ORDERS, "orders")
        statuses = store.query("s", "select status, count(*) from truth group by all order by all").rows
        text = " ".join(
            str(row)
            for table in ("truth", "quarantine")
            for row in store.query(table, f"select * from {table}").rows
        )
        store.query("checkpoint", "checkpoint")
    assert [(r.format, r.rows_read, r.rows_stored, r.rows_quarantined) for r in results] == [
        ("woocommerce_orders", 9, 8, 1),
        ("woocommerce_orders", 5, 3, 2),
    ]
    assert again.already_ingested
    assert statuses == [("cancelled", 2), ("paid", 3), ("pending", 4), ("refunded", 1), (None, 1)]
    data = db.read_bytes()
    for path in (ORDERS, LINE_ITEMS):
        for word in path.read_text(encoding="utf-8").replace(",", " ").split():
            if "@" in word:
                assert word not in text and word.encode() not in data, word
    for phone in ("333 123 4567", "3331234567", "3339876543", "415 555 0199", "4155550199"):
        assert phone not in text and phone.encode() not in data, phone


# --- real export (skipped when ../shared/samples is absent) ----------------------------------------------


def test_real_woocommerce_export(samples: Path, store: Store) -> None:
    """The WebToffee sample: 5 orders, all `processing` -> paid, EUR; order 9876 (bank transfer) has no
    paid_date; order 12345's billing_email (cliente1@) differs from customer_email and wins."""
    path = samples / "woocommerce" / "mfflnz_sample-orders.csv"
    assert detect(path, "orders").format == "woocommerce_orders"
    items = _read(path)
    assert all(isinstance(i, IncomingTruth) for i in items)
    orders = [i for i in items if isinstance(i, IncomingTruth)]
    assert [o.raw_id for o in orders] == ["12345", "34567", "23456", "45678", "9876"]
    assert Counter(o.status for o in orders) == {"paid": 5}
    assert [o.value for o in orders] == [16.0, 65.0, 29.0, 16.0, 65.0]
    assert orders[0].email == "cliente1@address.com" and orders[4].paid_at is None
    assert [o.utm_source for o in orders] == [
        "google",
        "cartadeldocente.istruzione.it",
        "google",
        "(direct)",
        "(direct)",
    ]
    result = ingest_file(store, path, "orders")
    assert (result.rows_read, result.rows_stored, result.rows_quarantined) == (5, 5, 0)
