"""The benchmark's pandas baseline is itself right: its dedup and reconciliation figures on a tiny shop.

The three files are written in the demo's formats (CAPI log envelopes, Pixel beacon URLs, a Shopify
orders export). Timeline (pixel 111, T0 = 2026-11-02 12:00 UTC, minutes after T0):

| order | browser copy      | server copy(ies)              | Meta dedup model (SPEC §4)            |
|-------|-------------------|-------------------------------|---------------------------------------|
| 1001  | eid 1001 at 0     | eid 1001 at 1                 | merged, browser kept (within 5 min)   |
| 1002  | eid 1002 at 10    | eid 1002 at 0                 | merged, server kept (first, > 5 min)  |
| 1003  | -                 | eid 1003 at 0, retry at 30    | one channel: both counted (repeat)    |
| 1004  | eid 1004 at 49 h  | eid 1004 at 0                 | two one-channel windows: 2 counted    |
| 1005  | no eid, fbp, at 0 | no eid, fbp, order_id, at 2   | server discarded by fbp match, merged |
| 1006  | eid 1006 at 0     | -                             | counted                               |
| 1007  | -                 | -                             | (no copy)                             |
| 1008  | eid 1008 at 0     | eid 1008 as `purchase` at 1   | different names: both counted         |
| 1009  | -                 | -                             | refunded order: not eligible          |
| -     | PageView pv1 at 0 | PageView pv1 at 0.5           | merged, browser kept                  |
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import urlencode

import pytest

REPO = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
PIXEL = "111"


def _baseline() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "pandas_baseline", REPO / "benchmarks" / "pandas_baseline.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pandas_baseline"] = module
    spec.loader.exec_module(module)
    return module


def _at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _fbp(tag: str | None) -> str:
    """A browser id per conversion, so only the copies meant to pair share one."""
    return f"fb.1.1762000000000.{tag or 'none'}"


def _envelope(
    name: str, event_id: str | None, minute: float, fbp: str | None = None, **custom: object
) -> str:
    event: dict[str, object] = {
        "event_name": name,
        "event_time": int(_at(minute).timestamp()),
        "action_source": "website",
        "user_data": {"fbp": _fbp(fbp or event_id), "client_user_agent": "UA"},
        "custom_data": {"value": 50.0, "currency": "USD", **custom},
    }
    if event_id is not None:
        event["event_id"] = event_id
    body = {"sent_at": _at(minute).isoformat().replace("+00:00", "Z"), "pixel_id": PIXEL,
            "request": {"data": [event]}, "response": {"events_received": 1}}  # fmt: skip
    return json.dumps(body)


def _beacon(name: str, event_id: str | None, minute: float, fbp: str | None = None) -> str:
    params = {"id": PIXEL, "ev": name, "ts": str(int(_at(minute).timestamp() * 1000)),
              "fbp": _fbp(fbp or event_id), "cd[value]": "50.00", "cd[currency]": "USD"}  # fmt: skip
    if event_id is not None:
        params["eid"] = event_id
    return "https://www.facebook.com/tr/?" + urlencode(params)


SERVER = [
    _envelope("Purchase", "1001", 1),
    _envelope("Purchase", "1002", 0),
    _envelope("Purchase", "1003", 0),
    _envelope("Purchase", "1003", 30),
    _envelope("Purchase", "1004", 0),
    _envelope("Purchase", None, 2, fbp="1005", order_id="#1005"),
    _envelope("purchase", "1008", 1),
    _envelope("PageView", "pv1", 0.5),
]
BROWSER = [
    _beacon("Purchase", "1001", 0),
    _beacon("Purchase", "1002", 10),
    _beacon("Purchase", "1004", 49 * 60),
    _beacon("Purchase", None, 0, fbp="1005"),
    _beacon("Purchase", "1006", 0),
    _beacon("Purchase", "1008", 0),
    _beacon("PageView", "pv1", 0),
]
ORDERS_HEADER = (
    "Name,Email,Financial Status,Paid at,Currency,Subtotal,Total,Created at,Lineitem name,Payment Method"
)


def _orders_csv() -> str:
    created = "2026-11-02 06:59:00 -0500"  # 11:59 UTC, a minute before T0
    rows = [ORDERS_HEADER]
    for number in range(1001, 1010):
        status = "refunded" if number == 1009 else "paid"
        rows.append(
            f"#{number},a{number}@example.com,{status},{created},USD,45.00,50.00,{created},Shirt,"
            "Shopify Payments"
        )
        if number % 2:  # a second line item: order fields blank, as Shopify writes them
            rows.append(f"#{number},a{number}@example.com,,,,,,{created},Socks,")
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> object:
    folder = tmp_path_factory.mktemp("shop")
    (folder / "capi_log.jsonl").write_text("\n".join(SERVER) + "\n", encoding="utf-8")
    (folder / "pixel_beacons.txt").write_text("\n".join(BROWSER) + "\n", encoding="utf-8")
    (folder / "orders_export.csv").write_text(_orders_csv(), encoding="utf-8")
    return _baseline().run(folder)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        # 15 copies: 8 server + 7 browser; 9 orders (1001-1009), second line items folded into their order.
        ("events", 15),
        ("orders", 9),
        # Purchase counted: 1001 browser, 1002 server, 1003 x2, 1004 x2, 1005 browser, 1006, 1008 browser = 9;
        # `purchase` (1008's server copy) is its own name; PageView: browser kept.
        ("estimated_meta_count", {"Purchase": 9, "purchase": 1, "PageView": 1}),
        # Purchase merged: 1001, 1002 (event_id windows with both channels) and 1005 (fbp match) = 3.
        ("merged_pairs", {"Purchase": 3, "PageView": 1}),
        # Over eligible (paid) orders, 1009 (refunded) left out. both: 1001, 1002, 1004 (two windows), 1005
        # (its browser copy has no key but is folded with the linked server copy), 1008 (the `purchase`
        # variant counts as a Purchase copy here); browser only: 1006; server only: 1003; none: 1007.
        ("verdicts", {"both_channels": 5, "browser_only": 1, "server_only": 1, "none": 1}),
        # 13 Purchase-variant copies: order_id links 1 (1005's server copy) < half; event_id links the 11
        # copies with an id of 1001-1008 (all but the two without eid) >= half.
        ("join_key", "event_id"),
        # counted Purchase copies (9) plus the counted `purchase` variant (1).
        ("meta_count", 10),
        # Purchase browser copies 1001, 1002, 1004, 1005 (no eid), 1006, 1008: a same-name server twin for
        # 1001, 1002 and 1004 = 3 / 6; PageView 1 / 1; `purchase` has no browser copy.
        ("event_coverage", {"Purchase": 0.5, "PageView": 1.0, "purchase": None}),
        # Eligible orders (8) all on 2026-11-02; 1004's browser copy counts on 2026-11-04 (T0 + 49 h); the
        # other nine counted Purchase-variant copies on 2026-11-02.
        (
            "daily",
            [
                {"day": "2026-11-02", "truth_count": 8, "meta_count": 9},
                {"day": "2026-11-04", "truth_count": 0, "meta_count": 1},
            ],
        ),
    ],
)
def test_baseline_figures(result: object, field: str, expected: object) -> None:
    assert getattr(result, field) == expected
