"""The DuckDB fast path for server JSONL stores exactly what the Python reader stores.

Parity is the acceptance test: the same file ingested with ``fast=True`` and ``fast=False`` into two
stores gives identical ``events`` and ``quarantine`` tables, row for row, every column (fingerprints
included, so a record read by either path dedups against the other).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from capi_core import fast_ingest
from capi_core.canonical import fingerprint
from capi_core.ingest import ingest_file
from capi_core.models import EVENT_COLUMNS
from capi_core.readers import ReadOptions, detect
from capi_core.store import Store
from tests.conftest import FIXTURES

HEX = "834766578815c94aab5692b31ccde3491d1dcda5c2e1d5e71b351582032258f6"
EMAIL = "jane.parity@example.com"
TOKEN = "EAAtestFAKEtokenDoNotUse0000000000"
#: Page URLs: kept as sent (allow-listed keys, no query), masked by Python (PII parameters in the query or
#: the fragment, a token in any letter case, an email), and a key only some stores keep (ref_code).
PAGE_URLS = [
    "https://shop.example/",
    "https://shop.example/p?utm_source=fb&UTM_Medium=cpc&fbclid=IwAR1&q#reviews",
    "https://shop.example/thanks?phone=4155550199&first_name=Bob",
    "https://shop.example/t?Access_Token=" + TOKEN,
    "https://shop.example/#/thanks?name=Bo&gclid=1",
    "https://shop.example/a;s=1?variant=2",
    "https://shop.example/?ref_code=abc&utm_id=7",
    "https://shop.example/?utm_\u017fource=x",
    "https://shop.example/?phone=",
    "https://shop.example/u/jane@example.com?sku=1",
]


def _table(store: Store, table: str, order: str) -> list[tuple[Any, ...]]:
    return store.query("dump", f"select * exclude (batch_id) from {table} order by {order}").rows


def _ingest_both(tmp_path: Path, path: Path, **options: Any) -> tuple[Store, Store, Any, Any]:
    fast_store, slow_store = Store(), Store()
    opts = ReadOptions(**options)
    fast = ingest_file(fast_store, path, "server", options=opts)
    slow = ingest_file(slow_store, path, "server", options=opts, fast=False)
    return fast_store, slow_store, fast, slow


def assert_parity(tmp_path: Path, path: Path, **options: Any) -> tuple[Any, Any]:
    """Both paths: same counts, same events and quarantine rows (all columns)."""
    fast_store, slow_store, fast, slow = _ingest_both(tmp_path, path, **options)
    try:
        counts = ("rows_read", "rows_stored", "rows_already_stored", "rows_quarantined", "secrets_stripped")
        assert [getattr(fast, c) for c in counts] == [getattr(slow, c) for c in counts]
        order = "line_no, fingerprint, occurrence"
        assert _table(fast_store, "events", order) == _table(slow_store, "events", order)
        q_order = "line_no, reason, raw_masked"
        assert _table(fast_store, "quarantine", q_order) == _table(slow_store, "quarantine", q_order)
    finally:
        fast_store.close()
        slow_store.close()
    return fast, slow


# -- generated logs ------------------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.just(""),
    st.booleans(),
    st.integers(-5, 2**31 - 1),  # larger num_items crash both paths (int32 column): see report
    st.floats(-1e6, 1e9, width=32),
    st.sampled_from(["12.5", "-3", "0", " 7 ", "abc", "1e3", "19.99", "١٢"]),
)
_TIMES = st.one_of(
    st.integers(0, 2 * 10**12),
    st.integers(-10, -1),
    st.sampled_from(
        [
            "1762000000",
            "1762000000123",
            "2026-11-02T12:00:00Z",
            "2026-11-02T12:00:00.123+02:00",
            "2026-11-02T12:00:00",
            "2026-02-30T12:00:00Z",
            "yesterday",
            " 1762000000",
            "",
            "2026-11-02 12:00",
        ]
    ),
    st.floats(0, 2e12, allow_nan=False),
    _SCALARS,
)
_HASHED_VALUES = st.one_of(
    st.just(HEX),
    st.just(HEX.upper()),
    st.just(" " + HEX),
    st.just(HEX + ".AQ"),
    st.just(EMAIL),
    st.sampled_from(["+1 650 555 1212", "Jane", "US", "us", "de", "20260101", "f", "abcdef0123456789" * 2]),
    st.integers(0, 10**11),
    st.none(),
    st.just(""),
)
_PLAIN_VALUES = st.one_of(
    st.sampled_from(
        [
            "fb.1.1762000000000.123",
            "fb.1.1762000000000.AbC",
            "fb.1.176.1",
            HEX,
            "203.0.113.7",
            "01.2.3.4",
            "2001:db8::1",
            "256.1.1.1",
            "Mozilla/5.0",
            "12345",
            " 12 ",
            "fb.1.1762000000000.1.AQ",
            "é",
        ]
    ),
    st.integers(-3, 10**6),
    st.none(),
    st.just(""),
)
_KEYS = ["em", "ph", "fn", "ct", "zp", "country", "external_id", "db", "ge"]
_PLAIN = ["fbp", "fbc", "client_ip_address", "client_user_agent", "lead_id"]


@st.composite
def user_data(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(_KEYS), max_size=5, unique=True)):
        value = draw(_HASHED_VALUES)
        data[key] = [value] if draw(st.booleans()) else value
    for key in draw(st.lists(st.sampled_from(_PLAIN), max_size=4, unique=True)):
        data[key] = draw(_PLAIN_VALUES)
    if draw(st.booleans()):
        data["em"] = draw(st.sampled_from([[], [None, "", HEX], ["", EMAIL]]))
    return data


@st.composite
def custom_data(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if draw(st.booleans()):
        data["value"] = draw(st.one_of(_SCALARS, st.floats(-100, 1e6, allow_nan=False), st.just({"a": 1})))
    if draw(st.booleans()):
        data["currency"] = draw(st.sampled_from(["USD", "eur", " GBP ", "XXX", "ABC", "", 978, None, "€"]))
    if draw(st.booleans()):
        data["content_ids"] = draw(
            st.one_of(st.lists(st.sampled_from(["a", "b/1", 'q"', "é", 7]), max_size=3), st.just("sku-1"))
        )
    elif draw(st.booleans()):
        data["contents"] = [{"id": "p1", "quantity": 1}, {"quantity": 2}, {"id": 9}]
    for key in draw(
        st.lists(st.sampled_from(["order_id", "num_items", "status", "predicted_ltv"]), unique=True)
    ):
        data[key] = draw(_SCALARS)
    return data


@st.composite
def event_extras(draw: st.DrawFn) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if draw(st.integers(0, 4)) == 0:
        extras["consent"] = draw(
            st.sampled_from(["granted", "DENIED", True, 0, {"ad_storage": "denied"}, None])
        )
    if draw(st.integers(0, 4)) == 0:
        extras["data_processing_options"] = draw(st.sampled_from([[], ["LDU"], "LDU", '["LDU"]', [1, 0]]))
    return extras


@st.composite
def event(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(["not an event", 5, None, []]))
    obj: dict[str, Any] = {}
    name = draw(st.sampled_from(["Purchase", "Lead", "PageView", "", None, 7, "missing"]))
    if name != "missing":
        obj["event_name"] = name
    if draw(st.integers(0, 9)):
        obj["event_time"] = draw(_TIMES)
    if draw(st.booleans()):
        obj["event_id"] = draw(st.one_of(st.text(max_size=6), st.integers(0, 99), st.floats(0, 9, width=16)))
    if draw(st.booleans()):
        obj["action_source"] = draw(st.sampled_from(["website", "app", True, ""]))
    if draw(st.integers(0, 2)) == 0:
        obj["event_source_url"] = draw(st.sampled_from(PAGE_URLS))
    obj.update(draw(event_extras()))
    if draw(st.integers(0, 6)):
        obj["user_data"] = draw(user_data())
    elif draw(st.booleans()):
        obj["user_data"] = draw(st.sampled_from([None, "x", []]))
    if draw(st.integers(0, 4)):
        obj["custom_data"] = draw(custom_data())
    if draw(st.integers(0, 9)) == 0:
        obj["response"] = {"events_received": draw(st.integers(0, 3)), "fbtrace_id": "evt"}
    if draw(st.integers(0, 19)) == 0:
        obj["sent_at"] = "2026-11-02T12:00:00Z"
    return obj


_RESPONSES = st.sampled_from(
    [None, {"events_received": 1, "fbtrace_id": "abc"}, {"error": {"code": 100, "error_subcode": 33,
     "fbtrace_id": "err"}}, {"status": 200, "body": {"events_received": 1}}, '{"events_received": 2}',
     {"events_received": "3", "fbtrace_id": ""}, {"error": "boom"}]
)  # fmt: skip
_SENT_AT = st.sampled_from(
    [None, "", "2026-11-02T12:00:00Z", "2026-11-02T13:00:00+01:00", 1762000000, 1762000000123,
     "not a time", "2026-11-02T12:00:00.123456"]
)  # fmt: skip


@st.composite
def envelope_fields(draw: st.DrawFn) -> dict[str, Any]:
    envelope: dict[str, Any] = {}
    if draw(st.booleans()):
        envelope["sent_at"] = draw(_SENT_AT)
    if draw(st.booleans()):
        envelope["pixel_id"] = draw(st.sampled_from(["123", 123, "", None]))
    if draw(st.booleans()):
        envelope["consent"] = draw(st.sampled_from(["granted", "no", True, {"marketing": "yes"}, "odd", 1.0]))
    if draw(st.booleans()):
        envelope["response"] = draw(_RESPONSES)
    return envelope


@st.composite
def log_line(draw: st.DrawFn, fmt: str) -> str:
    roll = draw(st.integers(0, 40))
    if roll == 0:
        return draw(
            st.sampled_from(['{"event_name": "Purchase", "user_data": {"em": "' + EMAIL, "[1, 2]", "  ", "x"])
        )
    events = draw(st.lists(event(), min_size=0 if roll == 1 else 1, max_size=3))
    if fmt == "capi_events":
        record: Any = events[0] if events else {}
        if isinstance(record, dict) and draw(st.integers(0, 5)) == 0:
            record["access_token"] = TOKEN
        return orjson.dumps(record).decode()
    request: dict[str, Any] = {"data": events}
    if draw(st.integers(0, 3)) == 0:
        request["test_event_code"] = draw(st.sampled_from(["TEST1", 42, ""]))
    if draw(st.integers(0, 4)) == 0:
        request["access_token"] = TOKEN
    if draw(st.integers(0, 15)) == 0:
        request["url"] = "https://graph.facebook.com/v21.0/555/events?access_token=" + TOKEN
    if fmt == "capi_request":
        if draw(st.booleans()):
            request["pixel_id"] = draw(st.sampled_from(["321", 321, ""]))
        return orjson.dumps(request).decode()
    envelope: dict[str, Any] = {"request": request, **draw(envelope_fields())}
    separators = draw(st.booleans())
    text = orjson.dumps(envelope).decode()
    return text.replace('":', '": ').replace(',"', ', "') if separators else text


def _write(path: Path, fmt: str, first: str, lines: list[str]) -> Path:
    path.write_text("\n".join([first, *lines]) + "\n", encoding="utf-8")
    return path


_FIRST = {
    "capi_log": '{"sent_at": "2026-11-02T12:00:00Z", "pixel_id": "1", "request": {"data": '
    '[{"event_name": "PageView", "event_time": 1762000000}]}}',
    "capi_request": '{"data": [{"event_name": "PageView", "event_time": 1762000000}]}',
    "capi_events": '{"event_name": "PageView", "event_time": 1762000000}',
}


@pytest.mark.parametrize("fmt", sorted(fast_ingest.SERVER_FORMATS))
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fast_path_matches_python_path(
    tmp_path_factory: pytest.TempPathFactory, fmt: str, data: st.DataObject
) -> None:
    """Generated logs (hashed and raw PII, lists, ms and ISO times, bad values, odd currencies, missing
    fields, tokens, bad lines) give the same stores through both paths."""
    tmp = tmp_path_factory.mktemp("parity")
    lines = data.draw(st.lists(log_line(fmt), min_size=1, max_size=25))
    path = _write(tmp / "log.jsonl", fmt, _FIRST[fmt], lines)
    assert fast_ingest.fast_format(detect(path, "server"), path)
    assert_parity(tmp, path, pixel_id="999", default_country="us")


def test_common_case_is_decided_in_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashed keys, fbp, IPv4, epoch seconds, a token in the body and page URLs whose parameters are all
    allow-listed (utm_*, fbclid, ...): no line goes to Python."""
    routed: list[int] = []
    original = fast_ingest._python_items
    monkeypatch.setattr(
        fast_ingest, "_python_items", lambda r, n, line, o: routed.append(n) or original(r, n, line, o)
    )
    rng = random.Random(7)
    lines = []
    for i in range(50):
        event = {"event_name": "Purchase", "event_time": 1762000000 + i, "event_id": str(i),
                 "event_source_url": PAGE_URLS[i % 2] + f"&utm_content={i}",
                 "user_data": {"em": [HEX], "fbp": f"fb.1.1762000000000.{rng.randint(1, 9)}",
                               "client_ip_address": "203.0.113.7"},
                 "custom_data": {"value": 12.5, "currency": "USD", "content_ids": ["a"]}}  # fmt: skip
        lines.append(orjson.dumps({"sent_at": "2026-11-02T12:00:00Z", "pixel_id": "1", "consent": "granted",
                                   "request": {"data": [event], "access_token": "EAAfake" + "0" * 30},
                                   "response": {"events_received": 1}}).decode())  # fmt: skip
    path = _write(tmp_path / "log.jsonl", "capi_log", lines[0], lines[1:])
    fast, _ = assert_parity(tmp_path, path)
    assert routed == []
    # 50 lines, one event and one access_token each
    assert (fast.rows_stored, fast.secrets_stripped) == (50, 50)


@pytest.mark.parametrize("name", ["log.jsonl", "events.jsonl", "requests.jsonl", "stape.jsonl"])
def test_fixture_files(tmp_path: Path, name: str) -> None:
    path = FIXTURES / "server" / name
    assert fast_ingest.fast_format(detect(path, "server"), path)
    assert_parity(tmp_path, path, pixel_id="999")


def test_real_jsonl_samples(tmp_path: Path, samples: Path) -> None:
    """Every real server JSONL export that detection sends to the fast path."""
    checked = 0
    for path in sorted(samples.rglob("*.jsonl")):
        try:
            reader = detect(path, "server")
        except Exception:  # not a server export
            continue
        if fast_ingest.fast_format(reader, path):
            assert_parity(tmp_path, path)
            checked += 1
    if not checked:
        pytest.skip("no server JSONL among the samples")


def test_raw_pii_never_reaches_the_store_file(tmp_path: Path) -> None:
    """A raw email in a hashed field is stored hashed; its text is nowhere in the .duckdb bytes."""
    line = {"sent_at": "2026-11-02T12:00:00Z", "request": {"data": [
        {"event_name": "Lead", "event_time": 1762000000,
         "user_data": {"em": [EMAIL], "ph": "+1 650 555 1212"}}
    ]}}  # fmt: skip
    path = _write(tmp_path / "log.jsonl", "capi_log", orjson.dumps(line).decode(), [])
    store = Store(tmp_path / "store.duckdb")
    result = ingest_file(store, path, "server")
    assert (result.rows_stored, result.rows_quarantined) == (1, 0)
    assert store.query("em", "select em_check from events").scalar() == "raw_pii"
    store.close()
    blob = (tmp_path / "store.duckdb").read_bytes()
    assert EMAIL.encode() not in blob and b"650 555" not in blob


def test_crlf_file_falls_back_to_python(tmp_path: Path) -> None:
    """Carriage returns would shift DuckDB's line split: such a file takes the Python path."""
    path = tmp_path / "log.jsonl"
    path.write_bytes(_FIRST["capi_log"].encode() + b"\r\n" + _FIRST["capi_log"].encode() + b"\r\n")
    assert not fast_ingest.fast_format(detect(path, "server"), path)
    assert ingest_file(Store(), path, "server").rows_stored == 2


@pytest.mark.parametrize(
    "row",
    [
        {},
        {"event_name": "Purchase", "value": 12.5, "event_time": dt.datetime(2026, 11, 2, 12, 0, 0, 500)},
        {"event_name": "é|1:x", "value": -0.0, "predicted_ltv": 1e16, "num_items": 3, "em_check": "valid"},
        {"event_name": "-", "value": 0.1, "sent_at": dt.datetime(5, 1, 1)},
    ],
)
def test_fingerprint_sql_twin(store: Store, row: dict[str, Any]) -> None:
    """The SQL fingerprint equals canonical.fingerprint for the same row (nulls, doubles, times, text)."""
    columns = dict(EVENT_COLUMNS)
    full = {name: row.get(name) for name in columns}
    with store.transaction() as tx:
        schema = pa.schema([(n, fast_ingest._arrow_type(t)) for n, t in columns.items()])
        tx.insert_arrow(
            "events", pa.Table.from_pylist([{**full, "fingerprint": "x", "occurrence": 1}], schema=schema)
        )
        got = tx.execute("fp", f"select {fast_ingest.fingerprint_sql(columns)} from events").scalar()
    assert got == fingerprint(full, columns)


def test_overlapping_files_dedup_across_paths(tmp_path: Path) -> None:
    """The same 3 events in a fast-path JSONL and in a JSON array (Python path): stored once."""
    events = [
        {"event_name": "Purchase", "event_time": 1762000000 + i, "user_data": {"em": HEX}} for i in range(3)
    ]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n".join(orjson.dumps(e).decode() for e in events) + "\n")
    array = tmp_path / "b.json"
    array.write_bytes(orjson.dumps(events))
    store = Store()
    first = ingest_file(store, jsonl, "server", fmt="capi_events")
    second = ingest_file(store, array, "server", fmt="capi_events")
    assert (first.rows_stored, second.rows_stored, second.rows_already_stored) == (3, 0, 3)


def test_page_urls_masked_alike_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every PAGE_URLS entry, without and with a store's own key (ref_code): both paths store the same
    URL. SQL masks query and fragment values itself; only a URL with a token (the line's credential
    count) or an email (privacy.mask_url's email rules) is read by Python."""
    routed: list[int] = []
    original = fast_ingest._python_items
    monkeypatch.setattr(
        fast_ingest, "_python_items", lambda r, n, line, o: routed.append(n) or original(r, n, line, o)
    )
    lines = [
        orjson.dumps(
            {
                "event_name": "PageView",
                "event_time": 1762000000,
                "event_source_url": url,
                "user_data": {"em": HEX},
            }
        ).decode()
        for url in PAGE_URLS
    ]
    path = _write(tmp_path / "urls.jsonl", "capi_events", lines[0], lines[1:])
    for keys in ((), ("ref_code",)):
        routed.clear()
        assert_parity(tmp_path, path, url_keys=keys)
        assert routed == [4, 10]
    with Store() as store:
        ingest_file(store, path, "server", options=ReadOptions(url_keys=("ref_code",)))
        urls = [
            url for (url,) in store.query("urls", "select event_source_url from events order by line_no").rows
        ]
    assert urls == [
        "https://shop.example/",
        "https://shop.example/p?utm_source=fb&UTM_Medium=cpc&fbclid=IwAR1&q#reviews",
        "https://shop.example/thanks?phone=***&first_name=***",
        "https://shop.example/t?Access_Token=***",
        "https://shop.example/#/thanks?name=***&gclid=1",
        "https://shop.example/a;s=1?variant=2",
        "https://shop.example/?ref_code=abc&utm_id=7",
        "https://shop.example/?utm_\u017fource=***",
        "https://shop.example/?phone=",
        "https:***?sku=1",  # privacy.mask_url's email rule takes the path with it
    ]


def test_nul_lines_are_quarantined_alike(tmp_path: Path) -> None:
    """A line with a NUL inside, a line of NULs and a zero-filled tail (what a crash leaves in an
    append-only log): the fast path takes the file, and both paths quarantine exactly those lines."""
    first, second = _FIRST["capi_log"], _FIRST["capi_log"].replace("1762000000", "1762000001")
    path = tmp_path / "log.jsonl"
    path.write_bytes(
        b"\n".join([first.encode(), b'{"sent_at": "x\x00y"}', bytes(16), second.encode()])
        + b"\n"
        + second[:25].encode()
        + bytes(9000)
    )
    assert fast_ingest.fast_format(detect(path, "server"), path)
    fast, _ = assert_parity(tmp_path, path)
    assert (fast.rows_stored, fast.rows_quarantined) == (2, 3)


def test_deep_lines_are_quarantined_alike(tmp_path: Path) -> None:
    """A record nested deeper than 64 levels (with and without a token) is quarantined by both paths."""
    deep = '{"a":' * 70 + "1" + "}" * 70
    lines = [
        '{"event_name": "Purchase", "event_time": 1762000000, "custom_data": {"x": ' + deep + "}}",
        f'{{"event_name": "Lead", "event_time": 1762000000, "access_token": "{TOKEN}", "x": {deep}}}',
    ]
    path = _write(tmp_path / "log.jsonl", "capi_events", _FIRST["capi_events"], lines)
    fast, _ = assert_parity(tmp_path, path)
    assert (fast.rows_stored, fast.rows_quarantined) == (1, 2)


_EVENT = '"event_name": "Lead", "event_time": 1762000000'
_DUPLICATE_KEY_LINES = [
    # capi_events: the event, its user_data, custom_data, response, error, consent and contents items
    ("capi_events", '{"event_name": "A", "event_name": "B", "event_time": 1762000000}'),
    ("capi_events", f'{{{_EVENT}, "user_data": {{"em": "{HEX}", "em": "{EMAIL}"}}}}'),
    (
        "capi_events",
        f'{{{_EVENT}, "user_data": {{"fbp": "fb.1.1762000000000.1"}}, "user_data": {{"em": "{EMAIL}"}}}}',
    ),
    ("capi_events", f'{{{_EVENT}, "custom_data": {{"value": 1, "value": -2}}}}'),
    ("capi_events", f'{{{_EVENT}, "response": {{"events_received": 1, "events_received": 2}}}}'),
    ("capi_events", f'{{{_EVENT}, "response": {{"error": {{"code": 1, "code": 2}}}}}}'),
    ("capi_events", f'{{{_EVENT}, "consent": {{"ad_storage": "granted", "ad_storage": "denied"}}}}'),
    ("capi_events", f'{{{_EVENT}, "custom_data": {{"contents": [{{"id": "a", "id": "b"}}]}}}}'),
    # capi_log: the envelope, its request, its response and the response's error
    ("capi_log", f'{{"pixel_id": "1", "pixel_id": "2", "request": {{"data": [{{{_EVENT}}}]}}}}'),
    (
        "capi_log",
        f'{{"request": {{"data": [{{{_EVENT}}}], "test_event_code": "A", "test_event_code": "B"}}}}',
    ),
    ("capi_log", f'{{"request": {{"data": [{{{_EVENT}}}]}}, "request": {{"data": []}}}}'),
    (
        "capi_log",
        f'{{"request": {{"data": [{{{_EVENT}}}]}}, "response": {{"fbtrace_id": "a", "fbtrace_id": "b"}}}}',
    ),
    (
        "capi_log",
        f'{{"request": {{"data": [{{{_EVENT}}}], "access_token": "{TOKEN}", "access_token": "x"}}}}',
    ),
    # capi_request: the request itself
    ("capi_request", f'{{"data": [{{{_EVENT}}}], "pixel_id": "1", "pixel_id": 2}}'),
]


@pytest.mark.parametrize(("fmt", "line"), _DUPLICATE_KEY_LINES)
def test_duplicate_keys_go_to_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, line: str
) -> None:
    """A repeated key in an object SQL reads: DuckDB's JSON reads its first value, orjson its last, so the
    line is read by Python (both paths store the last value)."""
    routed: list[int] = []
    original = fast_ingest._python_items
    monkeypatch.setattr(
        fast_ingest, "_python_items", lambda r, n, text, o: routed.append(n) or original(r, n, text, o)
    )
    path = _write(tmp_path / "log.jsonl", fmt, _FIRST[fmt], [line])
    assert detect(path, "server").format == fmt and fast_ingest.fast_format(detect(path, "server"), path)
    assert_parity(tmp_path, path, pixel_id="999")
    assert routed == [2]


def test_events_without_user_data_are_decided_in_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An event with no user_data (or user_data null) and a log line without a response are common shapes
    SQL decides itself."""
    routed: list[int] = []
    original = fast_ingest._python_items
    monkeypatch.setattr(
        fast_ingest, "_python_items", lambda r, n, text, o: routed.append(n) or original(r, n, text, o)
    )
    lines = [
        '{"event_name": "PageView", "event_time": 1762000001, "user_data": null}',
        '{"event_name": "PageView", "event_time": 1762000002, "custom_data": {"value": 3}}',
    ]
    path = _write(tmp_path / "log.jsonl", "capi_events", _FIRST["capi_events"], lines)
    fast, _ = assert_parity(tmp_path, path)
    assert routed == []
    assert fast.rows_stored == 3
