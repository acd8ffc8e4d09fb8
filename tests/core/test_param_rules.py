"""Issue 16: parameter rules as Meta states them, each on a hand-computed fixture.

1. value / currency are required on Purchase only; on another event a lone currency (or value) is the
   low-severity hint PARAM_VALUE_CURRENCY_UNPAIRED, and PARAM_MISSING_REQUIRED only when the pixel's event
   contract asks for the parameter.
2. An event_time Meta's documented type rules out (ISO 8601 text, epoch digits in a JSON string, an
   unreadable value) is stored with the time read from it and flagged PARAM_EVENT_TIME_FORMAT; the DuckDB
   fast path stores the same ``event_time_format`` as the Python reader (the Spark twin is compared in
   ``test_spark_ingest_server.py``); CSV cells, which have no type, are not taken for text.
3. user_data holding only keys Meta's list does not name (partner_id / partner_name) gets a
   MATCH_INSUFFICIENT_KEYS finding that quotes Meta's list and its address.
4. Every row of the parameter requirements table cites a Meta page.

Normalization (issue 16 point 4) is pinned in ``test_normalize.py`` and ``test_normalize_sdk.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from capi_core import fast_ingest
from capi_core.contracts.library import contract_violations, save_contract
from capi_core.contracts.models import Contract, EventContract
from capi_core.diagnostics import CHECKS, Finding
from capi_core.diagnostics.match_checks import CUSTOMER_INFORMATION_KEYS, CUSTOMER_INFORMATION_PAGE
from capi_core.ingest import ingest_file
from capi_core.meta.corrections import correct, payload_from_row
from capi_core.metrics.completeness import completeness
from capi_core.models import Scope
from capi_core.store import Store
from tests.core.test_fast_ingest import assert_parity
from tests.factories import PIXEL, T0, copy, load

T0_S = int(T0.replace(tzinfo=dt.UTC).timestamp())  # 1793620800: 2026-11-02T12:00:00Z
HEX = "834766578815c94aab5692b31ccde3491d1dcda5c2e1d5e71b351582032258f6"
META_DOCS = "https://developers.facebook.com/documentation/ads-commerce/conversions-api/"


def fire(store: Store, code: str) -> list[Finding]:
    return sorted(CHECKS[code].run(store, Scope()), key=lambda f: f.message)


@pytest.fixture(autouse=True)
def contracts_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Contracts of these tests live in their own folder (the shipped default still applies)."""
    folder = tmp_path / "contracts"
    monkeypatch.setenv("CAPI_DESK_CONTRACTS", str(folder))
    yield folder


# -- 1. value and currency -----------------------------------------------------------------------------


def _add_to_cart(store: Store) -> None:
    """Four server AddToCart copies: a = currency only, b = both, c = value only, d = neither."""
    load(
        store,
        [
            copy("server", "AddToCart", "a", line_no=1, custom_data={"currency": "USD"}),
            copy("server", "AddToCart", "b", line_no=2, custom_data={"value": 9.5, "currency": "USD"}),
            copy("server", "AddToCart", "c", line_no=3, custom_data={"value": 9.5}),
            copy("server", "AddToCart", "d", line_no=4, custom_data={}),
        ],
    )


def test_fires_PARAM_VALUE_CURRENCY_UNPAIRED(store: Store) -> None:
    """value applies to the 3 copies carrying one of the two (a, b, c): a lacks it -> 1 of 3; currency
    likewise: c lacks it -> 1 of 3. Low severity, one finding per parameter; nothing is 'required'."""
    _add_to_cart(store)
    value, currency = [f for f in fire(store, "PARAM_VALUE_CURRENCY_UNPAIRED")]
    assert "without currency" in currency.message and "without value" in value.message
    assert (value.count, value.share, value.examples, value.severity) == (1, 1 / 3, ["a"], "low")
    assert (currency.count, currency.share, currency.examples, currency.severity) == (1, 1 / 3, ["c"], "low")
    assert "value optimization" in value.message
    assert fire(store, "PARAM_MISSING_REQUIRED") == []


def test_value_and_currency_are_recommended_off_purchase(store: Store) -> None:
    """On AddToCart both rows are 'recommended' and cite Meta's value-optimization guide."""
    _add_to_cart(store)
    rows = {r.parameter: r for r in completeness(store, Scope()) if r.event_name == "AddToCart"}
    for name in ("value", "currency"):
        assert (rows[name].requirement, rows[name].copies) == ("recommended", 3)
        assert rows[name].source == META_DOCS + "guides/value-optimization"


def test_purchase_still_requires_value(store: Store) -> None:
    """A Purchase copy with currency and no value: PARAM_MISSING_REQUIRED (high), never the hint."""
    load(store, [copy("server", event_id="p", custom_data={"currency": "USD"})])
    [finding] = fire(store, "PARAM_MISSING_REQUIRED")
    assert (finding.count, finding.severity, finding.event_name) == (1, "high", "Purchase")
    assert "lack value (required on Purchase)" in finding.message
    assert fire(store, "PARAM_VALUE_CURRENCY_UNPAIRED") == []


def test_a_contract_may_require_value_elsewhere(store: Store) -> None:
    """The pixel's contract requires value and currency on AddToCart (an event it optimizes for value):
    a's missing value and c's missing currency become PARAM_MISSING_REQUIRED (1 of 3 each, high) and the
    hint is gone."""
    _add_to_cart(store)
    add_to_cart = EventContract.model_validate(
        {"milestone": "cart", "source": "server", "required": ["event_name", "value", "currency"]}
    )
    save_contract(store, Contract(pixel_id=PIXEL, events={"AddToCart": add_to_cart}))
    currency, value = fire(store, "PARAM_MISSING_REQUIRED")
    assert (value.count, value.share, value.examples, value.severity) == (1, 1 / 3, ["a"], "high")
    assert (currency.count, currency.examples) == (1, ["c"])
    assert "lack value" in value.message and "required by the event contract" in value.message
    assert fire(store, "PARAM_VALUE_CURRENCY_UNPAIRED") == []


# -- 2. event_time in a type Meta's docs rule out ------------------------------------------------------


def _time_copies() -> list[Any]:
    """Server Purchase copies whose event_time is an integer (ok), ISO text (iso), digits in a string
    (txt), millisecond digits in a string (mst), unreadable text (bad); and a browser copy with digits in a
    string, whose JSON type says nothing about what the Pixel sent (b)."""
    raws = {"ok": T0_S, "iso": "2026-11-02T12:00:00Z", "txt": str(T0_S), "mst": str(T0_S * 1000), "bad": "x"}
    copies = []
    for n, (event_id, raw) in enumerate(raws.items(), start=1):
        item = copy("server", event_id=event_id, line_no=n)
        item.event_time_raw = raw
        copies.append(item)
    browser = copy("browser", event_id="b", line_no=9)
    browser.event_time_raw = str(T0_S)
    return [*copies, browser]


def test_fires_PARAM_EVENT_TIME_FORMAT(store: Store) -> None:
    """3 of 5 server copies (iso, txt, bad) -> critical; mst is PARAM_EVENT_TIME_MS; b is not checked."""
    load(store, _time_copies())
    [finding] = fire(store, "PARAM_EVENT_TIME_FORMAT")
    assert (finding.count, finding.share, finding.examples) == (3, 0.6, ["bad", "iso", "txt"])
    assert (finding.severity, finding.channel) == ("critical", "server")
    for part in ("ISO 8601 text: 1", "epoch digits as a JSON string: 1", "unreadable: 1"):
        assert part in finding.message
    assert '"event_time integer Required. A Unix timestamp in seconds"' in finding.message
    [ms] = fire(store, "PARAM_EVENT_TIME_MS")
    assert (ms.count, ms.examples) == (1, ["mst"])


def test_text_times_are_stored_as_evidence(store: Store) -> None:
    """Each copy keeps the time read from it and says how it was sent."""
    load(store, _time_copies())
    rows = store.query(
        "times", "select event_id, event_time, event_time_format from events order by event_id"
    ).rows
    assert rows == [
        ("b", T0, "seconds"),
        ("bad", None, "invalid"),
        ("iso", T0, "iso"),
        ("mst", T0, "milliseconds_text"),
        ("ok", T0, "seconds"),
        ("txt", T0, "seconds_text"),
    ]


def test_text_times_alike_on_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSONL file of every shape: the DuckDB fast path stores what the Python reader stores, and SQL
    itself decides the integer, digit-string and ISO lines (1-5); a padded or unreadable time goes to
    Python (6, 7)."""
    routed: list[int] = []
    original = fast_ingest._python_items
    monkeypatch.setattr(
        fast_ingest, "_python_items", lambda r, n, line, o: routed.append(n) or original(r, n, line, o)
    )
    times = [
        T0_S,
        str(T0_S),
        str(T0_S * 1000),
        "2026-11-02T12:00:00Z",
        "2026-11-02T13:00:00+01:00",
        " 7",
        "x",
    ]
    path = tmp_path / "times.jsonl"
    lines = [
        {"event_name": "Purchase", "event_time": t, "event_id": str(i), "user_data": {"em": HEX}}
        for i, t in enumerate(times)
    ]
    path.write_text("".join(orjson.dumps(line).decode() + "\n" for line in lines), encoding="utf-8")
    fast, _slow = assert_parity(tmp_path, path)
    assert fast.rows_stored == len(times)
    assert routed == [6, 7]
    with Store() as store:
        ingest_file(store, path, "server")
        formats = store.query("f", "select event_id, event_time_format from events order by event_id").rows
    assert formats == [
        ("0", "seconds"),
        ("1", "seconds_text"),
        ("2", "milliseconds_text"),
        ("3", "iso"),
        ("4", "iso"),
        ("5", "seconds_text"),
        ("6", "invalid"),
    ]


def test_csv_cells_are_not_taken_for_text(tmp_path: Path) -> None:
    """CSV has no number type: digits (and pandas' 1793620800.0) are numbers; ISO text stays ISO."""
    path = tmp_path / "flat.csv"
    path.write_text(
        f"event_name,event_time,event_id\nPurchase,{T0_S},1\nPurchase,{T0_S}.0,2\nPurchase,2026-11-02T12:00:00Z,3\n",
        encoding="utf-8",
    )
    with Store() as store:
        ingest_file(store, path, "server")
        rows = store.query("f", "select event_id, event_time, event_time_format from events order by 1").rows
    assert rows == [("1", T0, "seconds"), ("2", T0, "seconds"), ("3", T0, "iso")]


def test_contract_violations_name_the_time_type(store: Store) -> None:
    """A contract requiring event_time on Purchase: of the 5 server copies, iso / txt / bad break it
    (iso_text, epoch_text, malformed) and mst counts as milliseconds; the browser copy does not."""
    load(store, _time_copies())
    purchase = EventContract.model_validate(
        {"milestone": "order paid", "source": "server", "required": ["event_time"]}
    )
    found = contract_violations(store, Scope(), Contract(pixel_id=PIXEL, events={"Purchase": purchase}))
    got = {(v.channel, v.rule, v.parameter, v.detail, v.copies, v.of_copies) for v in found}
    assert got == {
        ("server", "invalid_parameter", "event_time", "iso_text", 1, 5),
        ("server", "invalid_parameter", "event_time", "epoch_text", 1, 5),
        ("server", "invalid_parameter", "event_time", "malformed", 1, 5),
        ("server", "invalid_parameter", "event_time", "milliseconds", 1, 5),
    }


@pytest.mark.parametrize(
    ("time_format", "sent"),
    [
        ("seconds", T0_S),
        ("seconds_text", str(T0_S)),
        ("milliseconds", T0_S * 1000),
        ("milliseconds_text", str(T0_S * 1000)),
        ("iso", "2026-11-02T12:00:00Z"),
    ],
)
def test_corrections_rebuild_the_type_sent(time_format: str, sent: object) -> None:
    """The contract editor's payload shows event_time as it was sent; the correction makes it integer
    seconds (an integer of seconds needs none)."""
    row = {"event_name": "Purchase", "event_time": T0, "event_time_format": time_format}
    payload = payload_from_row(row)
    assert payload["event_time"] == sent
    fixed = correct(payload, now=T0_S + 3600)
    assert fixed.after["event_time"] == T0_S
    assert bool(fixed.changes) is (time_format != "seconds")


# -- 3. identity keys Meta does not list ---------------------------------------------------------------


def test_partner_keys_get_metas_list_quoted(store: Store) -> None:
    """Server Purchase copies: p = only partner_id / partner_name (Segment's LiveRamp fields), g = only
    hashed ct + country (a combination Meta calls too broad), ok = fbp + user agent. Two findings of 1."""
    load(
        store,
        [
            copy(
                "server", event_id="p", line_no=1, user_data={"partner_id": "x1", "partner_name": "liveramp"}
            ),
            copy("server", event_id="g", line_no=2, user_data={"ct": HEX, "country": HEX}),
            copy("server", event_id="ok", line_no=3),
        ],
    )
    no_key, broad = fire(store, "MATCH_INSUFFICIENT_KEYS")  # by message: "carry none ..." < "carry only ..."
    assert (no_key.count, no_key.share, no_key.examples) == (1, 1 / 3, ["p"])
    assert (broad.count, broad.examples) == (1, ["g"])
    assert "too broad" in broad.message
    assert CUSTOMER_INFORMATION_PAGE in no_key.message
    assert '"em: Email — Hashing required … ig_sid: Click to Instagram ID — Do not hash"' in no_key.message
    assert "partner_id" in no_key.message and "partner_name" in no_key.message
    assert "partner_id" not in CUSTOMER_INFORMATION_KEYS and len(CUSTOMER_INFORMATION_KEYS) == 25


# -- 4. the requirements table cites Meta --------------------------------------------------------------

#: (parameter, requirement, applies_to's start) -> the Meta page that states it (hand-copied from the pages)
EXPECTED_SOURCES = {
    ("event_name", "required", "every copy"): "parameters/server-event",
    ("event_time", "required", "every copy"): "parameters/server-event",
    ("action_source", "required", "server copies"): "parameters",
    ("user_data", "required", "every copy"): "parameters/server-event",
    ("event_source_url", "required", "server copies with action_source website"): "parameters",
    ("client_user_agent", "required", "server copies with action_source website"): "parameters",
    ("value", "required", "Purchase"): "parameters/custom-data",
    ("currency", "required", "Purchase"): "parameters/custom-data",
    ("value", "recommended", "copies carrying currency or value"): "guides/value-optimization",
    ("currency", "recommended", "copies carrying currency or value"): "guides/value-optimization",
    **{
        (name, "recommended", "every copy"): "best-practices#req-rec-params"
        for name in ("event_id", "external_id", "fbp", "fbc", "client_ip_address", "em/ph")
    },
}


def test_every_requirement_row_cites_its_meta_page(store: Store) -> None:
    """A server website Purchase and a server AddToCart with a currency reach all 16 rows of the table;
    each row's source is the Meta page that states the requirement."""
    load(
        store,
        [
            copy("server", event_id="1", line_no=1),
            copy("server", "AddToCart", "2", line_no=2, custom_data={"currency": "USD"}),
        ],
    )
    found = {}
    for row in completeness(store, Scope()):
        key = next(k for k in EXPECTED_SOURCES if (k[0], k[1]) == (row.parameter, row.requirement)
                   and row.applies_to.startswith(k[2]))  # fmt: skip
        found[key] = row.source
    assert found == {key: META_DOCS + page for key, page in EXPECTED_SOURCES.items()}
