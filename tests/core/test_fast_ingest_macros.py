"""Macros of the fast path (``queries/ingest_fast_macros.sql``) against the Python they stand for.

- ``fx_ipv6`` never accepts an address Python's ``ipaddress`` refuses, and accepts every plain one it
  accepts: a client_ip_address the SQL cannot decide goes to the Python reader, so agreement keeps IPv6
  traffic on the fast path.
- ``fx_mask_url_items`` masks a page URL's query and fragment values exactly as ``privacy.mask_url``
  does (for URLs without '@' or '%40', whose email rules the SQL paths leave to Python), with the
  built-in allow-list and with a store's own keys.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.privacy import mask_url, url_keys_kept
from capi_core.queries import load_query


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    for statement in load_query("ingest_fast_macros").split(";\n"):
        if statement.strip():
            connection.execute(statement)
    yield connection
    connection.close()


def _python_accepts(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _sql_accepts(con: duckdb.DuckDBPyConnection, text: str) -> bool:
    row = con.execute("select fx_ipv6($1)", [text]).fetchone()
    assert row is not None
    return bool(row[0])


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("::", True), ("::1", True), ("1::", True), ("2001:db8::ff00:42:8329", True),
        ("1:2:3:4:5:6:7:8", True), ("1:2:3:4:5:6:7::", True), ("::2:3:4:5:6:7:8", True), ("ABCD::ef", True),
        ("1:2:3:4:5:6:7:8::", False), ("1::2::3", False), (":::", False), ("12345::", False),
        ("1:2:3:4:5:6:7", False), ("1:2:3:4:5::6:7:8", False), (":1::", False), ("1::2:", False),
        # Python accepts these; the SQL leaves them to Python
        ("fe80::1%eth0", False), ("::ffff:1.2.3.4", False),
    ],
)  # fmt: skip
def test_hand_cases(con: duckdb.DuckDBPyConnection, text: str, accepted: bool) -> None:
    assert _sql_accepts(con, text) is accepted


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789abcdefABCDEFg:", max_size=45))
def test_agrees_with_ipaddress(con: duckdb.DuckDBPyConnection, text: str) -> None:
    assert _sql_accepts(con, text) == (_python_accepts(text) and ":" in text)


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses(v=6).map(str))
def test_every_address_python_prints_is_accepted(con: duckdb.DuckDBPyConnection, text: str) -> None:
    assert _sql_accepts(con, text) == ("." not in text)


def _sql_masked(con: duckdb.DuckDBPyConnection, url: str, extra: tuple[str, ...]) -> str:
    row = con.execute("select fx_mask_url_items($1, $2)", [url, list(url_keys_kept(extra))]).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/", "https://shop.example/p?utm_source=fb&UTM_Medium=cpc&fbclid=IwAR1&q#reviews",
        "https://shop.example/thanks?phone=4155550199&first_name=Bob", "https://shop.example/#/thanks?name=Bo&gclid=1",
        "https://shop.example/a;s=1?variant=2", "https://shop.example/?ref_code=abc&utm_id=7",
        "https://shop.example/?utm_\u017fource=x", "https://shop.example/?phone=", "https://s.example/?a==b&=c&&d=",
        "https://s.example/x?q=1\nname=2&k=v\u00e9;z=3#f=g?h=i",
    ],
)  # fmt: skip
@pytest.mark.parametrize("extra", [(), ("ref_code", "na*")])
def test_url_masking_hand_cases(con: duckdb.DuckDBPyConnection, url: str, extra: tuple[str, ...]) -> None:
    assert _sql_masked(con, url, extra) == mask_url(url, extra)


_URL_TEXT = st.text(alphabet=st.sampled_from(list("?&#;=ab_Z.-*%/ \n\u00e9\u017f\u0130utm")), max_size=40)


@settings(max_examples=400, deadline=None)
@given(base=st.sampled_from(["https://s.example/p", "", "x?", "#"]), tail=_URL_TEXT)
def test_url_masking_agrees_with_privacy(con: duckdb.DuckDBPyConnection, base: str, tail: str) -> None:
    url = base + tail
    for extra in ((), ("a*", "z")):
        assert _sql_masked(con, url, extra) == mask_url(url, extra)
