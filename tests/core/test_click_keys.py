"""Meta's click key read from shop and CRM exports: an fbclid (a HubSpot property, a landing URL, a
tracking app's note) becomes the record's ``fbc`` as Meta builds it, ``fb.1.<ms first seen>.<fbclid>``;
an fbc column is kept as given. Checked per reader on small invented files and on the real HubSpot sample.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from capi_core.models import IncomingTruth
from capi_core.normalize import assess_key
from capi_core.readers import ReadOptions, get_reader
from capi_core.readers._meta_keys import fbc_from_click, fbclid_in_url

CLICK = "IwAR3QKKfdjhWqCJjsEqqGWX81WekjOhHqFVJB55DuRbFDP1_ccAs9Ch0CJnE"
SEEN = dt.datetime(2026, 11, 2, 9, 30)  # naive = UTC
SEEN_MS = 1793611800000


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://shop.example/?fbclid={CLICK}", CLICK),
        (f"https://shop.example/p?utm_source=fb&fbclid={CLICK}&x=1#top", CLICK),
        ("https://shop.example/?fbclid=", None),
        ("https://shop.example/?fbclid=fb.1.2.3", None),  # dots: not a click id
        ("https://shop.example/?gclid=abc", None),
        ("not a url", None),
        (None, None),
    ],
)
def test_fbclid_in_url(url: str | None, expected: str | None) -> None:
    assert fbclid_in_url(url) == expected


@pytest.mark.parametrize(
    ("click", "seen", "expected"),
    [
        (CLICK, SEEN, f"fb.1.{SEEN_MS}.{CLICK}"),
        (f"  {CLICK} ", SEEN, f"fb.1.{SEEN_MS}.{CLICK}"),
        (CLICK, SEEN.replace(tzinfo=dt.UTC), f"fb.1.{SEEN_MS}.{CLICK}"),
        (
            CLICK,
            dt.datetime(2026, 11, 2, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            f"fb.1.{SEEN_MS}.{CLICK}",
        ),
        (f"https://shop.example/?fbclid={CLICK}", SEEN, f"fb.1.{SEEN_MS}.{CLICK}"),
        ("fb.1.1700000000000.abc", SEEN, "fb.1.1700000000000.abc"),  # already an fbc: kept as given
        ("fb.1.1700000000000.abc", None, "fb.1.1700000000000.abc"),
        (CLICK, None, None),  # no time to date the click by: never an invented creation time
        ("fbclid", SEEN, None),  # a placeholder, not a click id
        ("", SEEN, None),
        (None, SEEN, None),
    ],
)
def test_fbc_from_click(click: str | None, seen: dt.datetime | None, expected: str | None) -> None:
    built = fbc_from_click(click, seen)
    assert built == expected
    if built is not None:
        assert assess_key("fbc", built, channel="server")[1] == "valid"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _records(path: Path, source: str, fmt: str) -> dict[str, IncomingTruth]:
    items = get_reader(source, fmt).read(path, ReadOptions())  # type: ignore[arg-type]
    return {item.raw_id: item for item in items if isinstance(item, IncomingTruth)}


def test_hubspot_facebook_click_id_becomes_the_fbc(tmp_path: Path) -> None:
    """1: the click id dated by Time First Seen; 2: no Time First Seen -> Create Date; 3: a placeholder
    click id -> the fbclid of First Page Seen; 4: an unreadable Time First Seen -> Create Date (the lead
    is still read); 5: nothing -> no fbc."""
    path = _write(
        tmp_path,
        "contacts.csv",
        "Record ID,Create Date,Lifecycle Stage,Facebook click id,Time First Seen,First Page Seen\n"
        f"1,2026-11-02 10:00,Lead,{CLICK},2026-11-02 09:30,\n"
        f"2,2026-11-02 09:30,Lead,{CLICK},,\n"
        f"3,2026-11-02 12:00,Lead,fbclid,2026-11-02 09:30,https://lp.example/?fbclid={CLICK}\n"
        f"4,2026-11-02 09:30,Lead,{CLICK},soon,\n"
        "5,2026-11-02 09:30,Lead,,,https://lp.example/\n",
    )
    leads = _records(path, "leads", "hubspot_contacts")
    expected = f"fb.1.{SEEN_MS}.{CLICK}"
    assert {raw_id: lead.fbc for raw_id, lead in leads.items()} == {
        "1": expected, "2": expected, "3": expected, "4": expected, "5": None,
    }  # fmt: skip


def test_salesforce_custom_fields_carry_meta_keys(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Lead.csv",
        "Id,CreatedDate,Status,fbp__c,fbc__c,fbclid__c\n"
        "00Q000000000001AAA,2026-11-02 09:30:00,Open,fb.1.1762000000000.1234567890,,\n"
        "00Q000000000002AAA,2026-11-02 09:30:00,Open,,fb.1.1700000000000.abc,\n"
        f"00Q000000000003AAA,2026-11-02 09:30:00,Open,,,{CLICK}\n",
    )
    leads = _records(path, "leads", "salesforce_leads")
    assert [(lead.fbp, lead.fbc) for lead in leads.values()] == [
        ("fb.1.1762000000000.1234567890", None),
        (None, "fb.1.1700000000000.abc"),
        (None, f"fb.1.{SEEN_MS}.{CLICK}"),
    ]


def test_woocommerce_order_attribution_landing_url(tmp_path: Path) -> None:
    """The session entry URL's fbclid, dated by the session start (not the later order date)."""
    path = _write(
        tmp_path,
        "orders.csv",
        "order_id,order_date,status,order_total,meta:_wc_order_attribution_session_entry,"
        "meta:_wc_order_attribution_session_start_time,meta:_fbc\n"
        f"501,2026-11-02 11:00:00,completed,10,https://shop.example/?fbclid={CLICK},2026-11-02 09:30:00,\n"
        f"502,2026-11-02 11:00:00,completed,10,https://shop.example/?fbclid={CLICK},,fb.1.1700000000000.abc\n"
        "503,2026-11-02 11:00:00,completed,10,https://shop.example/,2026-11-02 09:30:00,\n",
    )
    orders = _records(path, "orders", "woocommerce_orders")
    assert {raw_id: o.fbc for raw_id, o in orders.items()} == {
        "501": f"fb.1.{SEEN_MS}.{CLICK}",
        "502": "fb.1.1700000000000.abc",
        "503": None,
    }


def test_shopify_elevar_visitor_info_fbclid(tmp_path: Path) -> None:
    """No _fbc cookie kept, but Elevar's visitor info holds the fbclid: dated by the order's creation."""
    info = f'_elevar_visitor_info: {{""fbclid"":""{CLICK}"",""utm_source"":""facebook""}}'
    path = _write(
        tmp_path,
        "orders_export.csv",
        "Name,Email,Financial Status,Created at,Lineitem name,Currency,Total,Note Attributes\n"
        f'#1,a@example.com,paid,2026-11-02 10:30:00 +0100,Bed,USD,10.00,"{info}"\n'
        '#2,b@example.com,paid,2026-11-02 10:30:00 +0100,Bed,USD,10.00,"_fbc: fb.1.1700000000000.abc"\n'
        "#3,c@example.com,paid,2026-11-02 10:30:00 +0100,Bed,USD,10.00,\n",
    )
    orders = _records(path, "orders", "shopify_orders")
    assert {raw_id: o.fbc for raw_id, o in orders.items()} == {
        "#1": f"fb.1.{SEEN_MS}.{CLICK}",
        "#2": "fb.1.1700000000000.abc",
        "#3": None,
    }


def test_generic_csv_fbclid_column(tmp_path: Path) -> None:
    """A ``fbclid`` column (auto-mapped, or any column with --map COL=fbclid) dated by created_at."""
    path = _write(
        tmp_path,
        "leads.csv",
        f"lead_id,created_at,Click\nL-1,2026-11-02 09:30,{CLICK}\nL-2,2026-11-02 09:30,\n",
    )
    reader = get_reader("leads", "generic_leads")
    items = reader.read(path, ReadOptions(column_map={"Click": "fbclid"}))
    assert [i.fbc for i in items if isinstance(i, IncomingTruth)] == [f"fb.1.{SEEN_MS}.{CLICK}", None]


def test_real_hubspot_sample_has_844_click_keys(samples: Path) -> None:
    """README of the samples: "Facebook click id (fbclid) filled for 844 contacts". One of them holds the
    placeholder "fbclid"; its First Page Seen URL carries the real click id."""
    path = samples / "crm" / "aagii8999-glitch_hubspot_all-contacts.csv"
    leads = _records(path, "leads", "hubspot_contacts")
    with_fbc = [lead for lead in leads.values() if lead.fbc]
    assert len(with_fbc) == 844
    assert all(assess_key("fbc", lead.fbc, channel="server")[1] == "valid" for lead in with_fbc)
