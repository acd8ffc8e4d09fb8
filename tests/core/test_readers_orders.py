"""Shopify Orders export reader: exact parse of a hand-built fixture, layouts, refusals, store round trip.

``fixtures/orders/shopify_orders.csv`` (79 columns, invented customers) holds, by physical line:
2-4 #1001 paid (Note Attributes span 3 lines), 5 its 2nd line item; 6-7 #1002 refunded + cancelled
(Notes span 2 lines); 8-10 #1003 voided, 3 line items; 11 #1004 Bogus-gateway test order; 12 #1005
with Created at ``yesterday``; 13 a line item without Name; 14-17 #1006 partially refunded + cancelled.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.errors import UnreadableFileError
from capi_core.ingest import ingest_file
from capi_core.models import IncomingTruth, RowError
from capi_core.readers import ReadOptions, detect
from capi_core.readers.shopify import READERS, ShopifyOrdersReader, parse_note_attributes
from capi_core.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

ORDERS = FIXTURES / "orders" / "shopify_orders.csv"
ABANDONED = FIXTURES / "orders" / "shopify_abandoned_checkouts.csv"
READER = ShopifyOrdersReader()
PST, PDT = dt.timezone(dt.timedelta(hours=-8)), dt.timezone(dt.timedelta(hours=-7))
#: Every raw email / phone spelling in the fixture; none may reach the store file.
RAW_PII = (
    "alice.shopper@example.com",
    "bob.buyer@example.com",
    "carol.client@example.com",
    "dave.dev@example.com",
    "erin.error@example.com",
    "frank.orphan@example.com",
    "gina.guest@example.com",
    "415-555-0101",
    "4155550101",
    "14155550102",
    "(415) 555-0199",
    "555-0103",
    "4165550103",
    "415 555 0105",
    "14155550106",
    "Alice Shopper",
    "Fixture Way",
    "Leave at the door",
)


def _read(path: Path) -> list[IncomingTruth | RowError]:
    return list(READER.read(path, ReadOptions()))


def _order(raw_id: str, line_no: int, created: dt.datetime, **fields: object) -> IncomingTruth:
    return IncomingTruth(
        line_no=line_no, kind="order", raw_id=raw_id, created_at=created, source_system="shopify", **fields
    )  # type: ignore[arg-type]


#: Hand-transcribed from the fixture (see the module docstring for the line numbers).
EXPECTED: list[IncomingTruth | tuple[int, str]] = [
    _order(
        "#1001",
        2,
        dt.datetime(2024, 3, 9, 10, 0, 0, tzinfo=PST),
        paid_at=dt.datetime(2024, 3, 9, 10, 0, 5, tzinfo=PST),
        status_raw="paid",
        value=120.5,
        subtotal=110.0,
        currency="USD",
        email="alice.shopper@example.com",
        phone="+1 415-555-0101",
        country="US",
        fbp="fb.1.1709990000000.1111111111",
        fbc="fb.1.1709990000000.IwAR0fixture",
        utm_source="facebook",
        utm_campaign="spring_sale",
        sales_channel="web",
    ),
    _order(
        "#1002",
        6,
        dt.datetime(2024, 3, 10, 11, 30, 0, tzinfo=PDT),
        paid_at=dt.datetime(2024, 3, 10, 11, 30, 2, tzinfo=PDT),
        status_raw="refunded",
        value=45.0,
        subtotal=45.0,
        currency="USD",
        email="bob.buyer@example.com",
        phone="+14155550102",
        country="US",
        sales_channel="web",
    ),
    _order(
        "#1003",
        8,
        dt.datetime(2024, 3, 10, 12, 0, 0, tzinfo=PDT),
        status_raw="voided",
        status="cancelled",
        value=30.0,
        subtotal=30.0,
        currency="CAD",
        email="carol.client@example.com",
        phone="(416) 555-0103",
        country="CA",
        sales_channel="5776891",
    ),
    _order(
        "#1004",
        11,
        dt.datetime(2024, 3, 11, 8, 15, 0, tzinfo=PDT),
        paid_at=dt.datetime(2024, 3, 11, 8, 15, 1, tzinfo=PDT),
        status_raw="paid",
        status="test",
        value=10.0,
        subtotal=10.0,
        currency="USD",
        email="dave.dev@example.com",
        country="US",
        sales_channel="web",
    ),
    (12, "order #1005: Created at 'yesterday': not a date"),
    (13, "row without Name (order number)"),
    _order(
        "#1006",
        14,
        dt.datetime(2024, 3, 12, 18, 45, 30, tzinfo=PDT),
        paid_at=dt.datetime(2024, 3, 12, 18, 45, 31, tzinfo=PDT),
        status_raw="partially_refunded",
        status="cancelled",
        value=33.9,
        subtotal=30.0,
        currency="USD",
        email="gina.guest@example.com",
        phone="+14155550106",
        country="US",
        fbp="fb.1.1710290000000.2222222222",
        fbc="fb.1.1710290000000.IwAR1plain",
        utm_source="newsletter",
        utm_campaign="march",
        sales_channel="shopify_draft_order",
    ),
]


def _comparable(items: list[IncomingTruth | RowError]) -> list[IncomingTruth | tuple[int, str]]:
    return [(item.line_no, item.reason) if isinstance(item, RowError) else item for item in items]


def test_fixture_parses_to_hand_transcribed_orders() -> None:
    assert _comparable(_read(ORDERS)) == EXPECTED


def test_quarantined_rows_carry_no_pii() -> None:
    errors = [item for item in _read(ORDERS) if isinstance(item, RowError)]
    assert [e.line_no for e in errors] == [12, 13]
    for error in errors:
        assert not any(pii in error.raw for pii in RAW_PII)
    assert errors[0].raw.startswith("#1005,,paid,")  # the order number stays, the email column is blanked


def _rewrite(path: Path, target: Path, transform: object, encoding: str = "utf-8") -> Path:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(transform(rows))  # type: ignore[operator]
    target.write_bytes(out.getvalue().encode(encoding))
    return target


def test_78_column_layout_and_shuffled_columns_read_the_same(tmp_path: Path) -> None:
    """Columns are found by name: dropping Payment References or reordering every column changes nothing."""

    def drop_last(rows: list[list[str]]) -> list[list[str]]:
        assert rows[0][-1] == "Payment References"
        return [row[:-1] for row in rows]

    order = list(range(79))
    random.Random(7).shuffle(order)
    older = _rewrite(ORDERS, tmp_path / "older.csv", drop_last)
    shuffled = _rewrite(ORDERS, tmp_path / "shuffled.csv", lambda rows: [[r[i] for i in order] for r in rows])
    assert _comparable(_read(older)) == EXPECTED
    assert _comparable(_read(shuffled)) == EXPECTED


def test_cp1252_file_reads_like_utf8(tmp_path: Path) -> None:
    def accent(rows: list[list[str]]) -> list[list[str]]:
        notes = rows[0].index("Notes")
        rows[3][notes] = "Caf\u00e9 \u20ac\nRing twice"  # é and € exist in cp1252; the 2 lines stay
        return rows

    legacy = _rewrite(ORDERS, tmp_path / "legacy.csv", accent, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        legacy.read_text(encoding="utf-8")
    assert _comparable(_read(legacy)) == EXPECTED


def _head(path: Path) -> str:
    return path.read_bytes()[:65536].decode("utf-8", errors="replace")


@pytest.mark.parametrize(
    ("path", "expected"),
    [(ORDERS, True), (ABANDONED, False), (FIXTURES / "orders" / "generic_orders.csv", False)],
)
def test_sniff(path: Path, expected: bool) -> None:
    assert READER.sniff(_head(path), path.name) is expected


def test_sniff_rejects_json() -> None:
    assert READER.sniff('{"data": [{"event_name": "Purchase"}]}\n', "events.json") is False


def test_detection_prefers_shopify_over_generic() -> None:
    assert detect(ORDERS, "orders").format == "shopify_orders"
    assert [r.format for r in READERS] == ["shopify_orders"]


def test_abandoned_checkouts_are_refused_when_forced() -> None:
    with pytest.raises(UnreadableFileError, match="Abandoned checkouts export, not an Orders export"):
        _read(ABANDONED)


def test_abandoned_checkouts_are_not_detected_and_leave_the_store_unchanged(store: Store) -> None:
    with pytest.raises(UnreadableFileError, match="Abandoned checkouts export"):
        ingest_file(store, ABANDONED, "orders")
    with pytest.raises(UnreadableFileError, match="Abandoned checkouts"):
        ingest_file(store, ABANDONED, "orders", fmt="shopify_orders")
    assert store.query("batches", "select count(*) from batches").scalar() == 0


HEADER = ORDERS.read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x00\x01\x02PK\x03\x04" * 50, "looks binary"),
        ((HEADER + "\n").encode(), "has a header but no orders"),
        (b"date,campaign,spend\n2024-03-01,spring,10.00\n", "not a Shopify Orders export"),
    ],
    ids=["empty", "binary", "header-only", "other-shape"],
)
def test_bad_files_give_a_clear_error(tmp_path: Path, store: Store, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=message):
        _read(path)
    with pytest.raises(UnreadableFileError):
        ingest_file(store, path, "orders", fmt="shopify_orders")
    assert store.query("batches", "select count(*) from batches").scalar() == 0


def test_other_shape_is_not_detected(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text("Day,Ad name,Purchases\n2024-03-01,Spring,3\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="not a recognised orders format"):
        detect(path, "orders")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("_fbp: fb.1.1.2", {"_fbp": "fb.1.1.2"}),
        ("a: 1\nb: two words: here", {"a": "1", "b": "two words: here"}),
        (
            "Customer Payment: £31.12\ntiktok_fulfillment_type: 3PL",
            {"Customer Payment": "£31.12", "tiktok_fulfillment_type": "3PL"},
        ),
        (
            "_redo_credit: requested $242.00;\nissued $242.00",
            {"_redo_credit": "requested $242.00;\nissued $242.00"},
        ),
        ("no separator at all", {}),
    ],
)
def test_parse_note_attributes(text: str, expected: dict[str, str]) -> None:
    assert parse_note_attributes(text) == expected


def test_ingest_counts_statuses_idempotence_and_no_raw_pii(tmp_path: Path) -> None:
    """7 records read (5 orders + 2 quarantined rows, see EXPECTED); statuses after canonical mapping:
    paid, refunded (refunded+cancelled stays refunded), cancelled (voided), test, cancelled (cancelled
    partially_refunded). Times in UTC: 10:00 -08:00 = 18:00Z; 11:30 -07:00 = 18:30Z."""
    db = tmp_path / "orders.duckdb"
    with Store(db) as store:
        first = ingest_file(store, ORDERS, "orders")
        again = ingest_file(store, ORDERS, "orders")
        rows = store.query(
            "truth", "select truth_id, status, created_at, value, fbp from truth order by line_no"
        ).dicts()
        quarantine = store.query(
            "q", "select line_no, reason, raw_masked from quarantine order by line_no"
        ).dicts()
        store.query("checkpoint", "checkpoint")
    assert (first.format, first.rows_read, first.rows_stored, first.rows_quarantined) == (
        "shopify_orders",
        7,
        5,
        2,
    )
    assert first.rows_read == first.rows_stored + first.rows_quarantined
    assert again.already_ingested and again.batch_id == first.batch_id
    assert [(r["truth_id"], r["status"]) for r in rows] == [
        ("1001", "paid"),
        ("1002", "refunded"),
        ("1003", "cancelled"),
        ("1004", "test"),
        ("1006", "cancelled"),
    ]
    assert rows[0]["created_at"] == dt.datetime(2024, 3, 9, 18, 0, 0)
    assert rows[1]["created_at"] == dt.datetime(2024, 3, 10, 18, 30, 0)
    assert rows[0]["fbp"] == "fb.1.1709990000000.1111111111"
    assert [q["line_no"] for q in quarantine] == [12, 13]
    data = db.read_bytes()
    for pii in RAW_PII:
        assert pii.encode() not in data, pii


# --- property: one record per order, whatever the line items ----------------------------------------


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=12))
def test_one_record_per_order_in_file_order(
    tmp_path_factory: pytest.TempPathFactory, items: list[int]
) -> None:
    header = HEADER.split(",")
    col = {name: i for i, name in enumerate(header)}
    rows, starts, line = [], [], 2
    for number, count in enumerate(items, start=1):
        starts.append(line)
        for position in range(count):
            row = [""] * len(header)
            row[col["Name"]] = f"#{number}"
            row[col["Created at"]] = "2024-03-10 12:00:00 -0700"
            if position == 0:
                row[col["Financial Status"]], row[col["Total"]] = "paid", f"{number}.00"
                row[col["Notes"]] = "two\nlines"
                line += 1
            rows.append(row)
            line += 1
    path = tmp_path_factory.mktemp("prop") / "orders.csv"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    read = _read(path)
    assert all(isinstance(item, IncomingTruth) for item in read)
    assert [item.raw_id for item in read] == [f"#{n}" for n in range(1, len(items) + 1)]
    assert [item.line_no for item in read] == starts


# --- real exports (skipped when ../shared/samples is absent) -------------------------------------------


@pytest.mark.parametrize(
    ("name", "orders", "offsets"),
    [
        ("paramxjyot_orders_export_1.csv", 1493, {"-0700"}),
        ("Diptargha_orders_export_1.csv", 60, {"+0100", "+0000"}),
        ("Steproac_orders_export_1_2026-02-22_to_2026-03-15.csv", 149, {"-0800", "-0700"}),
        ("ethompson17_orders_export_1.csv", 81, {"-0400", "-0500"}),
    ],
)
def test_real_shopify_exports(samples: Path, name: str, orders: int, offsets: set[str]) -> None:
    """Order counts are those of samples/real/README.md (distinct Names; every order has a first row)."""
    path = samples / "shopify" / name
    assert detect(path, "orders").format == "shopify_orders"
    read = _read(path)
    assert not [item for item in read if isinstance(item, RowError)]
    assert len(read) == orders
    assert len({item.raw_id for item in read if isinstance(item, IncomingTruth)}) == orders
    found = {
        item.created_at.strftime("%z") for item in read if isinstance(item, IncomingTruth) and item.created_at
    }
    assert found == offsets


def test_real_shopify_cookies_and_statuses(samples: Path) -> None:
    """paramxjyot: 129 orders carry an _elevar__fbp cookie in Note Attributes (README: 129 rows with
    elevar/UTM data); Steproac: its one voided order reads as cancelled."""
    para = [
        i
        for i in _read(samples / "shopify" / "paramxjyot_orders_export_1.csv")
        if isinstance(i, IncomingTruth)
    ]
    assert sum(1 for i in para if i.fbp and i.fbp.startswith("fb.1.")) == 129
    step = _read(samples / "shopify" / "Steproac_orders_export_1_2026-02-22_to_2026-03-15.csv")
    assert [i.status for i in step if isinstance(i, IncomingTruth) and i.status_raw == "voided"] == [
        "cancelled"
    ]


def test_real_abandoned_checkouts_refused(samples: Path) -> None:
    path = samples / "shopify" / "Steproac_Shopify_Abandoned_checkouts_export_032026.csv"
    assert READER.sniff(_head(path), path.name) is False
    with pytest.raises(UnreadableFileError, match="Abandoned checkouts export"):
        _read(path)
    with pytest.raises(UnreadableFileError, match="Abandoned checkouts export"):
        detect(path, "orders")
