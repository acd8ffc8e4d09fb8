"""Figures held against Meta's own definitions (issue 13, cases 1, 2 and 5), on hand-computed stores.

Event coverage and dedup-key overlap follow Meta's wording (docs/meta-definitions.md); the push client and
the pre-flight follow Meta's retry and time-limit rules. Every copy gets an fbp of its own unless the case
is about a shared fbp: the factory's default fbp is one browser for every copy, which Meta's coverage
would read as covered.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from capi_core.diagnostics import CHECKS
from capi_core.meta.graph_api import (
    MAX_EVENT_AGE_S,
    MAX_PHYSICAL_STORE_AGE_S,
    RETRYABLE_CODES,
    GraphClient,
    max_event_age_s,
)
from capi_core.meta.preflight import check_event
from capi_core.metrics import dedup
from capi_core.metrics.dedup import DedupEventStats
from capi_core.models import IncomingEvent, Scope
from capi_core.store import Store
from tests.factories import PIXEL, T0, copy, load

H, DAY = 60, 24 * 60
DOCS = Path(__file__).resolve().parents[2] / "docs" / "meta-definitions.md"
REJECTED = {"error": {"code": 100, "error_subcode": 2804003, "fbtrace_id": "Ax"}}


def fbp(key: str) -> dict[str, Any]:
    return {"fbp": f"fb.1.1700000000000.{key}"}


def purchase_stats(store: Store, scope: Scope | None = None) -> DedupEventStats:
    (stats,) = [
        s
        for s in dedup.dedup_by_event(store, scope or Scope())
        if (s.pixel_id, s.event_name) == (PIXEL, "Purchase")
    ]
    return stats


# --- case 1: event coverage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("browser", "server", "covered", "id_covered"),
    [
        # same event_id, different browsers: covered by event_id
        ({"event_id": "A", "user_data": fbp("b")}, {"event_id": "A", "user_data": fbp("s")}, 1.0, 1.0),
        # different ids, same external_id (hashed at ingest on both channels): covered, not by event_id
        (
            {"event_id": "A", "user_data": {**fbp("b"), "external_id": "cust-7"}},
            {"event_id": "B", "user_data": {**fbp("s"), "external_id": "cust-7"}},
            1.0, 0.0,
        ),
        # different ids, same fbp
        ({"event_id": "A", "user_data": fbp("x")}, {"event_id": "B", "user_data": fbp("x")}, 1.0, 0.0),
        # a beacon without event_id, the server copy with the same fbp
        ({"event_id": None, "user_data": fbp("x")}, {"event_id": "B", "user_data": fbp("x")}, 1.0, 0.0),
        # same id and fbp, but sent to another pixel: Meta matches within one pixel only
        (
            {"event_id": "A", "user_data": fbp("x")},
            {"event_id": "A", "user_data": fbp("x"), "pixel_id": "222"},
            0.0, 0.0,
        ),
        # same id and fbp under another event name (case): names must match exactly
        (
            {"event_id": "A", "user_data": fbp("x")},
            {"event_id": "A", "user_data": fbp("x"), "event_name": "purchase"},
            0.0, 0.0,
        ),
        # the server copy was rejected (logged Graph error): Meta never received it
        (
            {"event_id": "A", "user_data": fbp("x")},
            {"event_id": "A", "user_data": fbp("x"), "response": REJECTED},
            0.0, 0.0,
        ),
        # the server copy's logged answer is a success: accepted
        (
            {"event_id": "A", "user_data": fbp("x")},
            {"event_id": "A", "user_data": fbp("x"), "response": {"events_received": 1}},
            1.0, 1.0,
        ),
        # nothing shared
        ({"event_id": "A", "user_data": fbp("b")}, {"event_id": "B", "user_data": fbp("s")}, 0.0, 0.0),
    ],
)  # fmt: skip
def test_a_browser_event_is_covered_by_any_dedup_key_of_an_accepted_server_copy(
    store: Store, browser: dict[str, Any], server: dict[str, Any], covered: float, id_covered: float
) -> None:
    """One browser and one server Purchase, a minute apart: Meta's coverage (event_id, external_id or
    fbp; same pixel and exact name; accepted copies only) and the event_id-only share."""
    b, s = dict(browser), dict(server)
    load(
        store,
        [
            copy("browser", "Purchase", b.pop("event_id"), 0, line_no=1, **b),
            copy("server", s.pop("event_name", "Purchase"), s.pop("event_id"), 1, line_no=2, **s),
        ],
    )
    stats = purchase_stats(store)
    assert stats.browser_events == 1
    assert (stats.event_coverage, stats.event_id_coverage) == (covered, id_covered)


def test_unique_browser_events(store: Store) -> None:
    """Browser Purchase copies (minutes): A at 0 and its reload at 60 (one 48 h window: 1 event), A again
    at 50 h (a new window: a 2nd event), two beacons without event_id at 10 and 20 (2 events, each with an
    fbp of its own). One server copy A at 1. Unique browser events 4 of 5 copies; covered: the two A
    events (the server copy covers whatever its date) -> 2 / 4; by event_id alone the same 2 / 4."""
    load(
        store,
        [
            copy("browser", "Purchase", "A", 0, line_no=1, user_data=fbp("a")),
            copy("browser", "Purchase", "A", 60, line_no=2, user_data=fbp("a")),
            copy("browser", "Purchase", "A", 50 * H, line_no=3, user_data=fbp("a")),
            copy("browser", "Purchase", None, 10, line_no=4, user_data=fbp("n1")),
            copy("browser", "Purchase", None, 20, line_no=5, user_data=fbp("n2")),
            copy("server", "Purchase", "A", 1, line_no=6, user_data=fbp("s")),
        ],
    )
    stats = purchase_stats(store)
    assert (stats.browser, stats.browser_events) == (5, 4)
    assert (stats.event_coverage, stats.event_id_coverage) == (0.5, 0.5)


def test_an_event_counts_on_its_first_day(store: Store) -> None:
    """A browser copy at 23:30 and its reload at 00:30 the next day are one event, dated on the first day:
    a scope of the second day has the copy but no event (coverage None), the first day has the event."""
    before_midnight = 11 * H + 30  # T0 is 12:00
    load(
        store,
        [
            copy("browser", "Purchase", "A", before_midnight, line_no=1, user_data=fbp("a")),
            copy("browser", "Purchase", "A", before_midnight + H, line_no=2, user_data=fbp("a")),
            copy("server", "Purchase", "A", before_midnight, line_no=3, user_data=fbp("s")),
        ],
    )
    first, second = T0.date(), T0.date() + dt.timedelta(days=1)
    on_first = purchase_stats(store, Scope(date_from=first, date_to=first))
    on_second = purchase_stats(store, Scope(date_from=second, date_to=second))
    assert (on_first.browser, on_first.browser_events, on_first.event_coverage) == (1, 1, 1.0)
    assert (on_second.browser, on_second.browser_events, on_second.event_coverage) == (1, 0, None)


def _ten_days(store: Store) -> None:
    """One browser Purchase a day on days 0..9 (own fbp each); a server twin (same id) on days 0..4."""
    events: list[IncomingEvent] = []
    for day in range(10):
        events.append(
            copy("browser", "Purchase", f"o{day}", day * DAY, line_no=2 * day + 1, user_data=fbp(f"b{day}"))
        )
        if day < 5:
            events.append(
                copy(
                    "server",
                    "Purchase",
                    f"o{day}",
                    day * DAY + 1,
                    line_no=2 * day + 2,
                    user_data=fbp(f"s{day}"),
                )
            )
    load(store, events)


def test_the_7_day_figure_ends_on_the_scope_last_day(store: Store) -> None:
    """Whole store: 5 of 10 events covered = 0.5. The 7 days end on day 9 (the last day with copies):
    days 3..9 hold 7 events, of which 3 and 4 are covered -> 2 / 7. Scoped to days 0..5: 5 of 6 covered;
    its 7 days end on day 5 and reach back to day -1: days 0..5, the same 5 / 6."""
    _ten_days(store)
    whole = purchase_stats(store)
    assert (whole.browser_events, whole.event_coverage) == (10, 0.5)
    assert whole.event_coverage_7d == pytest.approx(2 / 7)
    assert whole.event_coverage_7d_to == T0.date() + dt.timedelta(days=9)
    early = purchase_stats(store, Scope(date_to=T0.date() + dt.timedelta(days=5)))
    assert early.event_coverage == pytest.approx(5 / 6)
    assert early.event_coverage_7d == pytest.approx(5 / 6)
    assert early.event_coverage_7d_to == T0.date() + dt.timedelta(days=5)


def test_the_7_day_figure_equals_the_report_over_those_7_days(store: Store) -> None:
    _ten_days(store)
    week = dedup.coverage_7d_scope(store, Scope())
    assert week is not None
    assert (week.date_from, week.date_to) == (
        T0.date() + dt.timedelta(days=3),
        T0.date() + dt.timedelta(days=9),
    )
    assert purchase_stats(store).event_coverage_7d == purchase_stats(store, week).event_coverage


def test_coverage_finding_counts_unique_events(store: Store) -> None:
    """A (with a reload), B and C from the browser, a server copy for A only: 1 of 3 unique browser events
    covered -> COVERAGE_BELOW_GOAL with count 2 (B and C), share 2/3, never the 4 browser copies."""
    load(
        store,
        [
            copy("browser", "Purchase", "A", 0, line_no=1, user_data=fbp("a")),
            copy("browser", "Purchase", "A", 5, line_no=2, user_data=fbp("a")),
            copy("browser", "Purchase", "B", 10, line_no=3, user_data=fbp("b")),
            copy("browser", "Purchase", "C", 20, line_no=4, user_data=fbp("c")),
            copy("server", "Purchase", "A", 1, line_no=5, user_data=fbp("s")),
        ],
    )
    (finding,) = CHECKS["COVERAGE_BELOW_GOAL"].run(store, Scope())
    assert (finding.count, finding.share, finding.examples) == (2, pytest.approx(2 / 3), ["B", "C"])
    assert "1 of 3 unique browser events" in finding.message


# --- case 2: dedup-key overlap ---------------------------------------------------------------------


def _key_usage(store: Store, key: str) -> dedup.KeyUsage:
    (usage,) = [u for u in purchase_stats(store).key_usage if u.key == key]
    return usage


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize(
    ("browser", "server", "overlap"),
    [
        # one browser (fbp x) sends 4 events, the server 1 with x and 1 with w: 1 event received from both
        # sources (min(4, 1) for x) / 2 (the server, fewer) = 1/2; distinct values would say {x} / {x} = 1
        (["x", "x", "x", "x"], ["x", "w"], 0.5),
        # x once and y once from the browser, x three times from the server: min(1, 3) = 1 / 2 = 1/2
        (["x", "y"], ["x", "x", "x"], 0.5),
        # every event on both sides, one to one
        (["x", "y"], ["x", "y"], 1.0),
        # no shared value
        (["x"], ["y"], 0.0),
    ],
)
def test_overlap_counts_events_received_from_both_sources(
    store: Store, browser: list[str], server: list[str], overlap: float, swap: bool
) -> None:
    """Meta's overlap per key: events received from both sources / events with the key on the source
    with fewer; symmetric in the two channels (``swap`` exchanges them)."""
    sides = {"browser": server if swap else browser, "server": browser if swap else server}
    copies = [(channel, value) for channel, values in sides.items() for value in values]
    load(
        store,
        [
            copy(channel, "Purchase", None, line, line_no=line, user_data=fbp(value))
            for line, (channel, value) in enumerate(copies, 1)
        ],
    )
    usage = _key_usage(store, "fbp")
    assert (usage.browser_share, usage.server_share) == (1.0, 1.0)
    assert usage.overlap == pytest.approx(overlap)
    assert _key_usage(store, "event_id").overlap is None  # no copy carries an event_id


# --- case 5: retries and time limits ---------------------------------------------------------------

NOW = 1_795_000_000


def offline_purchase(age_s: int, action_source: str = "physical_store") -> dict[str, Any]:
    return {
        "event_name": "Purchase",
        "event_time": NOW - age_s,
        "action_source": action_source,
        "user_data": {"em": ["a" * 64]},
        "custom_data": {"value": 10.0, "currency": "EUR"},
    }


@pytest.mark.parametrize(
    ("action_source", "age_s", "too_old"),
    [
        ("physical_store", 30 * 86400, False),
        ("physical_store", 62 * 86400, False),
        ("physical_store", 62 * 86400 + 1, True),
        ("email", 7 * 86400, False),
        ("email", 7 * 86400 + 1, True),
        ("email", 30 * 86400, True),
    ],
)
def test_preflight_time_limit_by_action_source(action_source: str, age_s: int, too_old: bool) -> None:
    """62 days for physical_store events, 7 days for the rest (the whole request fails otherwise)."""
    problems = check_event(offline_purchase(age_s, action_source), now=NOW)
    assert [p.rule for p in problems] == (["event_time_too_old"] if too_old else [])
    if too_old:
        limit = 62 if action_source == "physical_store" else 7
        assert f"at most {limit} days" in problems[0].reason and problems[0].whole_request


def test_max_event_age() -> None:
    assert max_event_age_s({"action_source": "physical_store"}) == MAX_PHYSICAL_STORE_AGE_S == 62 * 86400
    assert max_event_age_s({"action_source": "website"}) == max_event_age_s({}) == MAX_EVENT_AGE_S


def test_meta_wait_and_retry_codes_are_retried() -> None:
    assert {368, 613} <= RETRYABLE_CODES
    assert 100 not in RETRYABLE_CODES


@pytest.mark.parametrize(("age_days", "attempts"), [(30, 2), (63, 1)])
def test_a_retry_rechecks_the_physical_store_window(age_days: int, attempts: int) -> None:
    """A 5xx is retried for a 30-day-old physical_store event (inside its 62 days), not for a 63-day-old
    one (Meta would refuse the whole request)."""
    answers = [httpx.Response(502, text="bad gateway"), httpx.Response(200, json={"events_received": 1})]
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers[min(len(requests) - 1, 1)]

    client = GraphClient("EAAtoken123", transport=httpx.MockTransport(handler), sleep=lambda _: None,
                         clock=lambda: NOW)  # fmt: skip
    with client:
        [result] = client.post_events("123", [offline_purchase(age_days * 86400)], test_event_code="T")
    assert result.attempts == attempts and len(requests) == attempts
    assert result.ok == (attempts == 2)


# --- the definitions page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "needle",
    [
        "event_coverage", "event_id_coverage", "event_coverage_7d", "browser_events", "overlap", "368", "613",
        "physical_store", "62 days",
        "https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api",
        "https://developers.facebook.com/documentation/ads-commerce/conversions-api/verifying-setup",
        "https://developers.facebook.com/docs/graph-api/guides/error-handling",
    ],
)  # fmt: skip
def test_definitions_page_names_each_figure_and_source(needle: str) -> None:
    """docs/meta-definitions.md lists each figure next to Meta's definition and where it comes from."""
    assert needle in DOCS.read_text(encoding="utf-8")
