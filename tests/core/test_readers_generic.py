"""Generic CSV readers (orders, leads) and the shared CSV helpers: mapping, dates, numbers, stages, PII.

Fixtures (invented people) in ``fixtures/orders/``: ``generic_orders.csv`` (auto-mapped headers, one record
per line, lines 2-9), ``generic_leads.csv`` (``DD-MM-YYYY HH:MM`` dates, CRM stages, lines 2-8) and
``custom_semicolon.csv`` (``;``-separated, needs ``--map``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.errors import MappingError, UnreadableFileError
from capi_core.ingest import ingest_file
from capi_core.models import IncomingTruth, RowError
from capi_core.readers import ReadOptions
from capi_core.readers._csv import masked_row, parse_datetime, parse_number, pii_columns
from capi_core.readers.generic_csv import READERS, lead_status, resolve_columns
from capi_core.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "orders"
ORDERS, LEADS, CUSTOM = (
    FIXTURES / "generic_orders.csv",
    FIXTURES / "generic_leads.csv",
    FIXTURES / "custom_semicolon.csv",
)
GENERIC_ORDERS, GENERIC_LEADS = READERS
UTC = dt.UTC


def _read(
    reader: object, path: Path, column_map: dict[str, str] | None = None
) -> list[IncomingTruth | RowError]:
    return list(reader.read(path, ReadOptions(column_map=column_map or {})))  # type: ignore[attr-defined]


def _order(raw_id: str, line_no: int, created: dt.datetime, **fields: object) -> IncomingTruth:
    return IncomingTruth(
        line_no=line_no, kind="order", raw_id=raw_id, created_at=created, source_system="csv", **fields
    )  # type: ignore[arg-type]


def _lead(raw_id: str, line_no: int, created: dt.datetime, **fields: object) -> IncomingTruth:
    return IncomingTruth(
        line_no=line_no, kind="lead", raw_id=raw_id, created_at=created, source_system="csv", **fields
    )  # type: ignore[arg-type]


def _comparable(items: list[IncomingTruth | RowError]) -> list[IncomingTruth | tuple[int, str]]:
    return [(item.line_no, item.reason) if isinstance(item, RowError) else item for item in items]


def test_generic_orders_auto_mapped() -> None:
    """Transcribed from generic_orders.csv: `"1,098.00"` -> 1098.0, `$45.50` -> 45.5, `N/A` -> None,
    `"12,50"` -> 12.5; `25/12/2024` is day-first (25 > 12); `03/04/2024` is refused as ambiguous."""
    assert _comparable(_read(GENERIC_ORDERS, ORDERS)) == [
        _order(
            "A-100",
            2,
            dt.datetime(2024, 3, 9, 10, tzinfo=dt.timezone(dt.timedelta(hours=-8))),
            email="ann.alpha@example.com",
            phone="+1 415-555-0201",
            value=1098.0,
            currency="USD",
            status_raw="completed",
            country="US",
            utm_source="facebook",
        ),
        _order(
            "A-101",
            3,
            dt.datetime(2024, 3, 10),
            email="ben.beta@example.com",
            phone="4155550202",
            value=45.5,
            currency="usd",
            status_raw="processing",
            country="US",
        ),
        _order(
            "A-102",
            4,
            dt.datetime(2024, 3, 10, 14, 5),
            email="cat.gamma@example.com",
            currency="EUR",
            status_raw="refunded",
            country="FR",
            utm_source="google",
        ),
        (5, "created_at '03/04/2024 10:00': ambiguous day/month order"),
        _order(
            "A-104",
            6,
            dt.datetime(2024, 12, 25, 8, 0, 30),
            email="eve.epsilon@example.com",
            value=12.5,
            currency="EUR",
            status_raw="on-hold",
            country="DE",
        ),
        (7, "total 'abc': not a number"),
        (8, "empty id ('order_id')"),
        _order(
            "A-107",
            9,
            dt.datetime(2024, 3, 12, 9, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            email="hal.theta@example.com",
            phone="+33 6 12 34 56 78",
            value=20.0,
            currency="EUR",
            status_raw="cancelled",
            country="FR",
            utm_source="newsletter",
        ),
    ]


def test_generic_leads_stage_mapping() -> None:
    """DD-MM-YYYY is day-first: `06-08-2024` is 6 August. `31-02-2024` does not exist -> quarantined
    (its digits look phone-like to privacy.mask_text, so the reason hides the value)."""
    common = {"currency": "GBP"}
    fb = {"utm_source": "facebook", "utm_campaign": "summer"}
    assert _comparable(_read(GENERIC_LEADS, LEADS)) == [
        _lead(
            "L-1",
            2,
            dt.datetime(2024, 8, 6, 15, 38),
            email="lena.one@example.com",
            phone="+44 7700 900001",
            status_raw="MQL",
            status="qualified",
            qualified_at=dt.datetime(2024, 8, 7, 9),
            form="contact-us",
            **common,
            **fb,
        ),
        _lead(
            "L-2",
            3,
            dt.datetime(2024, 8, 6, 16),
            email="liam.two@example.com",
            status_raw="SQL",
            status="qualified",
            form="contact-us",
            **common,
            **fb,
        ),
        _lead(
            "L-3",
            4,
            dt.datetime(2024, 8, 7, 8, 10),
            email="lola.three@example.com",
            status_raw="Closed Won",
            status="won",
            qualified_at=dt.datetime(2024, 8, 8, 10),
            value=2500.0,
            utm_source="google",
            utm_campaign="brand",
            form="demo",
            **common,
        ),
        _lead(
            "L-4",
            5,
            dt.datetime(2024, 8, 7, 9, 45),
            email="luca.four@example.com",
            status_raw="Unqualified",
            status="disqualified",
            form="contact-us",
            **common,
            **fb,
        ),
        _lead(
            "L-5",
            6,
            dt.datetime(2024, 8, 8, 11),
            email="lisa.five@example.com",
            status_raw="Closed - Lost",
            status="lost",
            form="demo",
            **common,
            **fb,
        ),
        _lead(
            "L-6",
            7,
            dt.datetime(2024, 8, 8, 12, 30),
            email="leo.six@example.com",
            status_raw="Working",
            status="new",
            **common,
        ),
        (8, "created_date (value hidden: looks like an email or phone): not a recognised date"),
    ]


def test_explicit_mapping_on_a_semicolon_file() -> None:
    """`10,00` is a decimal comma (10.0); `1.234,00` has dot thousands (1234.0)."""
    column_map = {
        "Ref": "raw_id",
        "Placed": "created_at",
        "Mail": "email",
        "Amount": "value",
        "Stage": "status_raw",
    }
    assert _read(GENERIC_ORDERS, CUSTOM, column_map) == [
        _order("X1", 2, dt.datetime(2024, 5, 1, 8), email="xena@example.com", value=10.0, status_raw="paid"),
        _order(
            "X2",
            3,
            dt.datetime(2024, 5, 2, 9, 30),
            email="yuri@example.com",
            value=1234.0,
            status_raw="pending",
        ),
    ]


@pytest.mark.parametrize(
    ("column_map", "message"),
    [
        (
            {"Nope": "raw_id"},
            r"no column 'Nope' in the file — columns: 'Ref', 'Placed', 'Mail', 'Amount', 'Stage'",
        ),
        (
            {"Ref": "order_number"},
            r"unknown field 'order_number' in Ref=order_number — fields: raw_id, created_at",
        ),
        (
            {"Ref": "raw_id"},
            r"no column for created_at — map one with --map COLUMN=created_at; columns: 'Ref'",
        ),
        ({"Placed": "created_at"}, r"no column for raw_id — "),
        ({"Ref": "raw_id", "Mail": "raw_id"}, r"field 'raw_id' is mapped to more than one column"),
    ],
)
def test_mapping_errors_name_what_is_available(column_map: dict[str, str], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        _read(GENERIC_ORDERS, CUSTOM, column_map)


def test_explicit_mapping_wins_and_auto_mapping_fills_the_rest() -> None:
    header = ["id", "ref", "date", "email", "amount"]
    assert resolve_columns(header, {"ref": "raw_id"}, "order") == {
        "raw_id": 1,
        "created_at": 2,
        "email": 3,
        "value": 4,
    }
    assert resolve_columns(["Lead ID", "Create Date", "Lifecycle Stage"], {}, "lead") == {
        "raw_id": 0,
        "created_at": 1,
        "status_raw": 2,
    }


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        ("MQL", "qualified"),
        ("SQL", "qualified"),
        ("Qualified", "qualified"),
        ("marketingqualifiedlead", "qualified"),
        ("Closed - Converted", "qualified"),
        ("Closed Won", "won"),
        ("won", "won"),
        ("Unqualified", "disqualified"),
        ("Closed - Not Converted", "disqualified"),
        ("Closed Lost", "lost"),
        ("Lost", "lost"),
        ("Working - Contacted", "new"),
        ("", "new"),
        (None, "new"),
    ],
)
def test_lead_status(stage: str | None, status: str) -> None:
    assert lead_status(stage) == status


@pytest.mark.parametrize(
    ("path", "reader_index", "expected"),
    [
        (ORDERS, 0, True),
        (LEADS, 1, True),
        (ORDERS, 1, False),
        (CUSTOM, 0, False),
        (FIXTURES / "shopify_orders.csv", 0, False),
        (FIXTURES / "shopify_abandoned_checkouts.csv", 0, False),
    ],
)
def test_sniff(path: Path, reader_index: int, expected: bool) -> None:
    head = path.read_bytes()[:65536].decode("utf-8", errors="replace")
    assert READERS[reader_index].sniff(head, path.name) is expected


def test_sniff_rejects_json_and_single_column_text() -> None:
    assert GENERIC_ORDERS.sniff('{"order_id": 1, "created_at": 2}\n', "x.json") is False
    assert GENERIC_ORDERS.sniff("order_id\n1\n", "x.csv") is False


def test_ingest_generic_orders_and_leads(tmp_path: Path) -> None:
    """Orders: 8 read = 5 stored + 3 quarantined (lines 5, 7, 8). Leads: 7 = 6 + 1 (line 8). Statuses
    via canonical: completed/processing -> paid, on-hold -> pending. A-100 10:00 -08:00 = 18:00Z."""
    db = tmp_path / "generic.duckdb"
    with Store(db) as store:
        orders = ingest_file(store, ORDERS, "orders")
        leads = ingest_file(store, LEADS, "leads")
        again = ingest_file(store, ORDERS, "orders")
        rows = store.query(
            "t", "select kind, truth_id, status, created_at from truth order by kind, line_no"
        ).dicts()
        store.query("checkpoint", "checkpoint")
    assert (orders.format, orders.rows_read, orders.rows_stored, orders.rows_quarantined) == (
        "generic_orders",
        8,
        5,
        3,
    )
    assert (leads.format, leads.rows_read, leads.rows_stored, leads.rows_quarantined) == (
        "generic_leads",
        7,
        6,
        1,
    )
    assert again.already_ingested
    assert [(r["truth_id"], r["status"]) for r in rows if r["kind"] == "order"] == [
        ("a-100", "paid"),
        ("a-101", "paid"),
        ("a-102", "refunded"),
        ("a-104", "pending"),
        ("a-107", "cancelled"),
    ]
    assert [r["status"] for r in rows if r["kind"] == "lead"] == [
        "qualified",
        "qualified",
        "won",
        "disqualified",
        "lost",
        "new",
    ]
    assert next(r["created_at"] for r in rows if r["kind"] == "order") == dt.datetime(2024, 3, 9, 18, 0)
    data = db.read_bytes()
    for path in (ORDERS, LEADS):
        for word in path.read_text(encoding="utf-8").replace(",", " ").split():
            if "@" in word or word.startswith("+"):
                assert word.encode() not in data, word
    for phone in (b"4155550202", b"415-555-0201", b"7700 900001"):
        assert phone not in data


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (b"", UnreadableFileError, "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, UnreadableFileError, "looks binary"),
        (b"order_id,created_at,total\n", UnreadableFileError, "has a header but no rows"),
        (b"campaign,spend\nspring,10\n", MappingError, "no column for raw_id and created_at"),
    ],
    ids=["empty", "binary", "header-only", "other-shape"],
)
def test_bad_files(
    tmp_path: Path, store: Store, content: bytes, error: type[Exception], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(error, match=message):
        _read(GENERIC_ORDERS, path)
    with pytest.raises((UnreadableFileError, MappingError)):
        ingest_file(store, path, "orders")
    assert store.query("batches", "select count(*) from batches").scalar() == 0


def test_cp1252_file(tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes(
        "lead_id,created_date,stage,form\nL-9,2024-01-02 03:04,Gesti\u00f3n,Caf\u00e9\n".encode("cp1252")
    )
    assert _read(GENERIC_LEADS, path) == [
        _lead(
            "L-9", 2, dt.datetime(2024, 1, 2, 3, 4), status_raw="Gesti\u00f3n", status="new", form="Caf\u00e9"
        )
    ]


def test_real_crm_exports_read_as_generic_leads(samples: Path) -> None:
    """HubSpot: 1001 contacts, all read. Salesforce report: 2000 leads + its ratio footer row quarantined."""
    hubspot = _read(GENERIC_LEADS, samples / "crm" / "aagii8999-glitch_hubspot_all-contacts.csv")
    assert len(hubspot) == 1001 and all(isinstance(i, IncomingTruth) for i in hubspot)
    report = _read(GENERIC_LEADS, samples / "crm" / "SoviD7_salesforce_report_Lead.csv")
    assert sum(isinstance(i, IncomingTruth) for i in report) == 2000
    assert [type(i) for i in report[-1:]] == [RowError]


# --- shared helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2023-05-31 23:06:05 -0700",
            dt.datetime(2023, 5, 31, 23, 6, 5, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
        ),
        ("2023-05-31T23:06:05Z", dt.datetime(2023, 5, 31, 23, 6, 5, tzinfo=UTC)),
        (
            "2023-05-31T23:06:05+05:30",
            dt.datetime(2023, 5, 31, 23, 6, 5, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        ),
        ("2026-02-25 22:36", dt.datetime(2026, 2, 25, 22, 36)),
        ("2025-08-05", dt.datetime(2025, 8, 5)),
        ("06-08-2020 15:38", dt.datetime(2020, 8, 6, 15, 38)),
        ("06.08.2020", dt.datetime(2020, 8, 6)),
        ("13/01/2024 07:05:09", dt.datetime(2024, 1, 13, 7, 5, 9)),
        ("01/13/2024", dt.datetime(2024, 1, 13)),
        ("", None),
        ("N/A", None),
        ("  ", None),
    ],
)
def test_parse_datetime(text: str, expected: dt.datetime | None) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["03/04/2024", "yesterday", "2024-13-01", "31-02-2024", "1700000000"])
def test_parse_datetime_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("77.93", 77.93),
        ("1,098", 1098.0),
        ("$1,234.50", 1234.5),
        ("£31.12", 31.12),
        ("EUR 16", 16.0),
        ("16 USD", 16.0),
        ("12,50", 12.5),
        ("1.234,50", 1234.5),
        ("'0.00", 0.0),
        ("N/A", None),
        ("", None),
        (" - ", None),
        ("1.0", 1.0),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["abc", "100.00%", "1.2.3", "inf", "nan0"])
def test_parse_number_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


@settings(max_examples=200, derandomize=True)
@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_parse_number_reads_thousands_separated_amounts(amount: object) -> None:
    """`{:,.2f}` (US) and its dot-thousands/decimal-comma twin (EU) both read back as the amount."""
    us = f"{amount:,.2f}"
    eu = us.replace(",", " ").replace(".", ",").replace(" ", ".")
    assert parse_number(us) == pytest.approx(float(str(amount)))
    assert parse_number("$" + us) == pytest.approx(float(str(amount)))
    assert parse_number(eu) == pytest.approx(float(str(amount)))


def test_pii_columns_and_masked_row() -> None:
    header = [
        "Name",
        "Email",
        "Billing Phone",
        "customerEmail",
        "Shipping Address1",
        "Notes",
        "Total",
        "Lead ID",
    ]
    blank = pii_columns(header, keep=[0])
    assert blank == frozenset({1, 2, 3, 4, 5})
    row = ["#1", "a@b.co", "+1 415 555 0100", "c@d.co", "1 Main St", "call 415 555 0100", "9.99", "L1"]
    assert masked_row(row, blank, len(header)) == "#1,,,,,,9.99,L1"
    # a short row's values sit under the wrong columns: only its first field is kept
    short = ["#2", "Zebulon", "742 Evergreen Terrace"]
    assert masked_row(short, blank, len(header)) == "#2,… (3 fields, the header has 8: values withheld)"
    assert masked_row(["x@y.io", "555 123 4567"], frozenset(), 2) == "***,***"
