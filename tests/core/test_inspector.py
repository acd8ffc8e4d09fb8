"""capi_core.inspector on a hand-built timeline: search by every kind, the pair view, pair verdicts and
the one-channel outcome counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core import inspector
from capi_core.metrics import dedup
from capi_core.metrics.dedup import WouldBePair
from capi_core.models import Scope
from capi_core.normalize import hash_value
from capi_core.store import Store
from tests.factories import UA, copy, load, load_truth, order

FBP_ANN = "fb.1.1762000000000.1111111111"
FBP_BOB = "fb.1.1762000000000.2222222222"
EMAIL = "Ann.Alpha@Example.com"
SEEDED = settings(derandomize=True, max_examples=100, deadline=None)


def _fixture(store: Store) -> None:
    """Pixel 111, minutes received:

    line 1  browser Purchase  event_id '#1042'            0  fbp ANN, email     } would-be pair (id_mismatch,
    line 2  server  Purchase  event_id '1042' order 1042  1  fbp ANN, email     }  found by order id)
    line 3  browser Purchase  'A1'                       10  fbp BOB            } merged: browser kept,
    line 4  server  Purchase  'A1'                       11  fbp BOB            }  server discarded
    line 5  browser PageView  'pv1'                      -5  fbp ANN            alone (browser only)
    truth: order '#1042' created at 0, fbp ANN, the same email (hashed at ingest).
    """
    ann = {"fbp": FBP_ANN, "client_user_agent": UA, "em": EMAIL}
    bob = {"fbp": FBP_BOB, "client_user_agent": UA}
    load(
        store,
        [
            copy("browser", "Purchase", "#1042", 0, line_no=1, user_data=ann),
            copy("server", "Purchase", "1042", 1, line_no=2, user_data=ann,
                 custom_data={"value": 50.0, "currency": "USD", "order_id": "1042"}),
            copy("browser", "Purchase", "A1", 10, line_no=3, user_data=bob),
            copy("server", "Purchase", "A1", 11, line_no=4, user_data=bob),
            copy("browser", "PageView", "pv1", -5, line_no=5, user_data={"fbp": FBP_ANN}, custom_data={}),
        ],
    )  # fmt: skip
    load_truth(store, [order("#1042", 0, email=EMAIL, fbp=FBP_ANN)])


@pytest.fixture
def filled(store: Store) -> Store:
    _fixture(store)
    return store


def _ids(result: inspector.InspectorResult) -> list[tuple[str, str | None, str | None]]:
    return [(c.channel, c.event_name, c.event_id) for c in result.copies]


PAIR = [("browser", "Purchase", "#1042"), ("server", "Purchase", "1042")]


@pytest.mark.parametrize(
    ("text", "kind", "expected", "records"),
    [
        # auto: exact event_id '1042' (line 2), normalized event_id (lines 1, 2), record 1042's copies
        ("1042", "auto", PAIR, ["1042"]),
        ("#1042", "order_id", PAIR, ["1042"]),  # truth_id with '#': normalized to 1042
        ("1042", "order_id", PAIR, ["1042"]),  # without '#'
        (" #1042 ", "event_id", PAIR, ["1042"]),  # the browser's own id, and its variant '1042'
        ("A1", "event_id", [("browser", "Purchase", "A1"), ("server", "Purchase", "A1")], []),
        # fbp ANN: lines 5 (-5 min), 1, 2; the order carries the same fbp
        (FBP_ANN, "fbp", [("browser", "PageView", "pv1"), *PAIR], ["1042"]),
        (FBP_ANN, "auto", [("browser", "PageView", "pv1"), *PAIR], ["1042"]),
        # the email matches lines 1 and 2 and the order, through its hash only
        ("  ann.alpha@EXAMPLE.com ", "auto", PAIR, ["1042"]),
        (EMAIL, "email", PAIR, ["1042"]),
        ("nothing-here", "auto", [], []),
        ("", "auto", [], []),
    ],
)
def test_search_finds_every_copy(
    filled: Store,
    text: str,
    kind: inspector.SearchKind,
    expected: list[tuple[str, str, str]],
    records: list[str],
) -> None:
    result = inspector.search(filled, text, kind=kind)
    assert _ids(result) == expected
    assert [r.truth_id for r in result.records] == records
    assert result.total_copies == len(expected)
    assert not result.truncated


def test_email_is_searched_by_its_hash_only(filled: Store) -> None:
    result = inspector.search(filled, EMAIL)
    digest = hash_value("em", EMAIL)
    assert result.kind == "email"
    assert result.query == digest
    dumped = result.model_dump_json().lower()
    assert "ann.alpha" not in dumped and "example.com" not in dumped
    assert all(c.payload["em"] == digest for c in result.copies)
    assert inspector.search(filled, digest or "", kind="email").copies == result.copies


def test_record_verdict_and_links(filled: Store) -> None:
    """Order 1042: linked to lines 1 (browser) and 2 (server), both counted -> both_channels, twice."""
    result = inspector.search(filled, "#1042", kind="order_id")
    (record,) = result.records
    assert (record.raw_id, record.status, record.verdict, record.copies, record.counted_copies) == (
        "#1042", "paid", "both_channels", 2, 2,
    )  # fmt: skip
    assert "counted_more_than_once" in record.flags
    assert [c.truth_id for c in result.copies] == ["1042", "1042"]


def test_verdicts_are_explained(filled: Store) -> None:
    """A1: browser kept (merged), server discarded 1 min later; the 1042 pair is counted twice."""
    merged = {c.channel: c for c in inspector.search(filled, "A1").copies}
    assert (merged["browser"].verdict, merged["server"].verdict) == ("counted", "discarded")
    assert merged["browser"].explanation.startswith("Counted once for both channels")
    assert merged["server"].explanation.startswith("Discarded: the browser copy with the same event_id")
    assert merged["server"].counted_twice is None

    pair = inspector.search(filled, "1042").copies
    assert {c.verdict for c in pair} == {"counted"}
    assert all(c.counted_twice and "'#1042'" in c.counted_twice for c in pair)
    assert pair[0].key_checks["fbp"] == "valid"
    assert pair[1].payload["order_id"] == "1042"
    assert "fingerprint" not in pair[0].payload


def test_search_is_bounded(filled: Store) -> None:
    result = inspector.search(filled, FBP_ANN, kind="fbp", limit=1)
    assert (len(result.copies), result.total_copies, result.truncated) == (1, 3, True)


def _ref(store: Store, line_no: int) -> tuple[str, int]:
    row = store.query("ref", "select fingerprint, occurrence from events where line_no = $n", {"n": line_no})
    fingerprint, occurrence = row.rows[0]
    return fingerprint, occurrence


def test_compare_copies_flags_the_differing_fields(filled: Store) -> None:
    """Lines 1 and 2: same pixel, name, fbp and email hash; event_id '#1042' vs '1042', order_id only on
    the server, channel and times differ."""
    diffs = {d.field: d for d in inspector.compare_copies(filled, _ref(filled, 1), _ref(filled, 2))}
    assert list(diffs) == list(inspector.COMPARED_FIELDS)
    differing = {name for name, d in diffs.items() if d.differs}
    assert {"channel", "event_id", "order_id", "event_time", "received_at", "line_no"} <= differing
    assert not differing & {"pixel_id", "event_name", "fbp", "em", "value", "currency", "verdict"}
    assert (diffs["event_id"].a, diffs["event_id"].b) == ("#1042", "1042")
    em = diffs["em"].a or ""
    assert re.fullmatch(r"[0-9a-f]{12}…", em)
    assert diffs["received_at"].a == "2026-11-02 12:00:00.000"


def test_compare_copies_of_a_missing_copy(filled: Store) -> None:
    assert inspector.compare_copies(filled, _ref(filled, 1), ("no-such-copy", 1)) == []


def _pair(reason: str, **fields: object) -> WouldBePair:
    base: dict[str, object] = {
        "browser_fingerprint": "b", "browser_occurrence": 1, "server_fingerprint": "s",
        "server_occurrence": 1, "browser_pixel_id": "111", "server_pixel_id": "111",
        "browser_event_name": "Purchase", "server_event_name": "Purchase", "browser_event_id": "1042",
        "server_event_id": "1042", "browser_order_id": None, "server_order_id": "1042",
        "browser_received_at": dt.datetime(2026, 11, 2, 12),
        "server_received_at": dt.datetime(2026, 11, 4, 14),
        "matched_on": "order_id", "reason": reason,
    }  # fmt: skip
    return WouldBePair.model_validate(base | fields)


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        (
            _pair("different_pixel", server_pixel_id="222"),
            "went to pixel '111' and the server copy to pixel '222'",
        ),
        (_pair("name_mismatch", server_event_name="purchase"), "as 'Purchase' and the server as 'purchase'"),
        (_pair("missing_id", server_event_id=None), "the server copy carries no event_id"),
        (_pair("missing_id", browser_event_id=None), "the browser copy carries no event_id"),
        (_pair("id_mismatch", browser_event_id="#1042"), "event_id '#1042' and the server '1042'"),
        # 12:00 on the 2nd to 14:00 on the 4th = 50 h
        (_pair("outside_window"), "arrived 50.0 h apart, beyond Meta's 48 h dedup window"),
    ],
)
def test_pair_verdict_is_one_sentence(pair: WouldBePair, expected: str) -> None:
    sentence = inspector.pair_verdict(pair)
    assert sentence.startswith("Counted twice: ")
    assert expected in sentence
    assert sentence.count(". ") == 0 and sentence.endswith(".")


def test_dedup_outcomes(filled: Store) -> None:
    """Purchase: merged 1 (A1), counted twice 1 (#1042/1042), nothing alone; PageView: 1 browser only."""
    stats = dedup.dedup_by_event(filled, Scope())
    outcomes = {o.event_name: o for o in inspector.dedup_outcomes(filled, Scope(), stats)}
    purchase, page_view = outcomes["Purchase"], outcomes["PageView"]
    assert (purchase.merged, purchase.counted_twice, purchase.browser_only, purchase.server_only) == (
        1,
        1,
        0,
        0,
    )
    assert (page_view.merged, page_view.counted_twice, page_view.browser_only, page_view.server_only) == (
        0,
        0,
        1,
        0,
    )


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1042", "auto", ("auto", "1042")),
        (" #1042 ", "order_id", ("order_id", "#1042")),
        ("fb.1.2.3", "fbp", ("fbp", "fb.1.2.3")),
    ],
)
def test_safe_query_keeps_non_email_text(
    text: str, kind: inspector.SearchKind, expected: tuple[str, str]
) -> None:
    assert inspector.safe_query(text, kind) == expected


@SEEDED
@given(
    local=st.from_regex(r"[a-z][a-z0-9.]{0,15}", fullmatch=True), domain=st.sampled_from(["x.org", "b.io"])
)
def test_safe_query_never_keeps_an_email(local: str, domain: str) -> None:
    email = f"{local}@{domain}"
    kind, kept = inspector.safe_query(email)
    assert kind == "email"
    assert kept == (hash_value("em", email) or "")
    assert re.fullmatch(r"[0-9a-f]{64}", kept) or kept == ""  # a hash or nothing: never the address
