"""Dedup metrics (capi_core.metrics.dedup) against hand-computed figures on small timelines."""

from __future__ import annotations

import datetime as dt

import pytest

from capi_core.metrics import dedup
from capi_core.models import Scope
from capi_core.store import Store
from tests.factories import copy, load

H = 60


def _fixture(store: Store) -> None:
    """Purchase on pixel 111 (minutes received):

    line 1-2  A: browser 0, server 1          -> merged, browser kept
    line 3    B: browser 10 (browser only)    -> counted
    line 4-5  C: browser 20, server 21+60*50  -> 50 h apart: both counted (would-be pair, outside_window)
    line 6    server without event_id 30, fbp X, browser line 7 'D' at 29 fbp X -> fbp_match
    line 8-9  '#1042' browser 100 / '1042' server 102, other fbps -> would-be pair, id_mismatch
    """
    load(
        store,
        [
            copy("browser", "Purchase", "A", 0, line_no=1),
            copy("server", "Purchase", "A", 1, line_no=2),
            copy("browser", "Purchase", "B", 10, line_no=3, user_data={"fbp": "fb.1.1.b"}),
            copy("browser", "Purchase", "C", 20, line_no=4, user_data={"fbp": "fb.1.1.c"}),
            copy("server", "Purchase", "C", 21 + 50 * H, line_no=5, user_data={"fbp": "fb.1.1.c2"}),
            copy("server", "Purchase", None, 30, line_no=6, user_data={"fbp": "fb.1.1.x"}),
            copy("browser", "Purchase", "D", 29, line_no=7, user_data={"fbp": "fb.1.1.x"}),
            copy("browser", "Purchase", "#1042", 100, line_no=8, user_data={"fbp": "fb.1.1.e1"}),
            copy("server", "Purchase", "1042", 102, line_no=9, user_data={"fbp": "fb.1.1.e2"}),
        ],
    )


def test_dedup_by_event_figures(store: Store) -> None:
    """Hand-computed from _fixture:

    browser copies: lines 1,3,4,7,8 = 5; server: 2,5,6,9 = 4.
    merged conversions: A (window) + line 6 absorbed by 7 (fbp) = 2.
    would-be pairs: C (outside_window) and 1042 (id_mismatch) = 2 -> health 2 / (2 + 2) = 0.5.
    coverage (Meta's: any dedup key, 5 unique browser events): A, C by event_id and D by fbp x (line 6)
    = 3 of 5 = 0.6; by event_id alone A, C = 2 of 5 = 0.4 ('#1042' != '1042', their fbps differ).
    dedup rate browser: 0 browser discarded / 5 = 0; server: lines 2 and 6 discarded / 4 = 0.5.
    estimated count: 9 copies - 2 discarded = 7.
    key usage event_id: browser 5/5, server 3/4; overlap: ids browser {A,B,C,D,#1042}, server {A,C,1042}
    -> shared 2 / min(5, 3) = 2/3.
    """
    _fixture(store)
    (stats,) = dedup.dedup_by_event(store, Scope())
    assert (stats.browser, stats.server, stats.merged_pairs, stats.would_be_pairs) == (5, 4, 2, 2)
    assert stats.dedup_health == 0.5
    assert stats.browser_events == 5
    assert stats.event_coverage == pytest.approx(0.6)
    assert stats.event_id_coverage == pytest.approx(0.4)
    assert (stats.dedup_rate_browser, stats.dedup_rate_server) == (0.0, 0.5)
    assert stats.estimated_meta_count == 7
    usage = {u.key: u for u in stats.key_usage}
    assert usage["event_id"].browser_share == 1.0
    assert usage["event_id"].server_share == 0.75
    assert usage["event_id"].overlap == pytest.approx(2 / 3)
    assert usage["external_id"].browser_share == 0.0
    assert usage["external_id"].overlap is None


def test_failure_reasons_and_pairs(store: Store) -> None:
    """The two would-be pairs of _fixture: C (same key, 50 h apart) and #1042 / 1042 (order id)."""
    _fixture(store)
    assert dedup.failure_reasons(store, Scope()) == {
        "missing_id": 0, "name_mismatch": 0, "id_mismatch": 1, "outside_window": 1, "different_pixel": 0,
    }  # fmt: skip
    pairs = {p.reason: p for p in dedup.would_be_pairs(store, Scope())}
    assert (pairs["id_mismatch"].browser_event_id, pairs["id_mismatch"].server_event_id) == ("#1042", "1042")
    assert pairs["id_mismatch"].matched_on == "order_id"
    assert pairs["outside_window"].matched_on == "event_id"
    assert len(dedup.would_be_pairs(store, Scope(), limit=1)) == 1


@pytest.mark.parametrize(
    ("browser", "server", "reason"),
    [
        # same fbp within 10 min, names differ only by case -> name_mismatch
        (
            {"event_name": "Purchase", "event_id": "A"},
            {"event_name": "purchase", "event_id": "A"},
            "name_mismatch",
        ),
        # same fbp within 10 min, server without event_id BEFORE the browser (no fbp merge) -> missing_id
        (
            {"event_name": "Lead", "event_id": "A", "minute": 5},
            {"event_name": "Lead", "event_id": None},
            "missing_id",
        ),
        # same name and id on two pixels -> different_pixel
        (
            {"event_name": "Lead", "event_id": "A"},
            {"event_name": "Lead", "event_id": "A", "pixel_id": "222"},
            "different_pixel",
        ),
        # same fbp, different random ids -> id_mismatch
        ({"event_name": "Lead", "event_id": "r-1"}, {"event_name": "Lead", "event_id": "r-2"}, "id_mismatch"),
    ],
)
def test_would_be_pair_reasons(
    store: Store, browser: dict[str, object], server: dict[str, object], reason: str
) -> None:
    """One browser and one server copy of one conversion (same fbp, minutes apart) that Meta counts twice."""
    b, s = dict(browser), dict(server)
    load(
        store,
        [
            copy("browser", b.pop("event_name"), b.pop("event_id"), b.pop("minute", 0), line_no=1, **b),  # type: ignore[arg-type]
            copy("server", s.pop("event_name"), s.pop("event_id"), s.pop("minute", 1), line_no=2, **s),  # type: ignore[arg-type]
        ],
    )
    assert dedup.failure_reasons(store, Scope())[reason] == 1
    assert sum(dedup.failure_reasons(store, Scope()).values()) == 1


def test_conflicting_order_ids_are_not_a_pair(store: Store) -> None:
    """Same user within 10 min but order ids 1 and 2: two conversions, no would-be pair."""
    load(
        store,
        [
            copy("browser", "Purchase", "x1", 0, line_no=1, custom_data={"order_id": "1"}),
            copy("server", "Purchase", "y2", 1, line_no=2, custom_data={"order_id": "2"}),
        ],
    )
    assert sum(dedup.failure_reasons(store, Scope()).values()) == 0


def test_scope_filters_by_event_name(store: Store) -> None:
    """Scope on Lead only: the Purchase copies are left out."""
    _fixture(store)
    load(store, [copy("browser", "Lead", "L", 0, line_no=1)], label="lead")
    stats = dedup.dedup_by_event(store, Scope(event_names=("Lead",)))
    assert [(s.event_name, s.browser, s.would_be_pairs, s.dedup_health) for s in stats] == [
        ("Lead", 1, 0, None)
    ]


def _verdict_of(store: Store, line: int) -> dedup.CopyVerdict:
    fp, occ = store.query(
        "fp", "select fingerprint, occurrence from events where line_no = $l", {"l": line}
    ).rows[0]
    verdict = dedup.copy_verdict(store, fp, occ)
    assert verdict is not None
    return verdict


def test_copy_verdict_explains(store: Store) -> None:
    """Server copy 2 min after its browser twin: discarded, explained with the gap and the window."""
    load(
        store, [copy("browser", "Purchase", "A", 0, line_no=1), copy("server", "Purchase", "A", 2, line_no=2)]
    )
    server, browser = _verdict_of(store, 2), _verdict_of(store, 1)
    assert (server.verdict, server.reason, server.merged) == ("discarded", "duplicate_of_browser", True)
    assert server.explanation == (
        "Discarded: the browser copy with the same event_id arrived 2 min earlier, within Meta's 48 h window."
    )
    assert browser.verdict == "counted" and "Counted once for both channels" in browser.explanation
    assert dedup.copy_verdict(store, "nope", 1) is None


def test_copy_verdict_window_two(store: Store) -> None:
    """A server copy 50 h after its browser twin opens window 2 and is counted again."""
    load(
        store,
        [copy("browser", "Purchase", "A", 0, line_no=1), copy("server", "Purchase", "A", 50 * H, line_no=2)],
    )
    verdict = _verdict_of(store, 2)
    assert (verdict.verdict, verdict.window_no) == ("counted", 2)
    assert "new dedup window" in verdict.explanation
    assert isinstance(dedup.would_be_pairs(store, Scope())[0].server_received_at, dt.datetime)
