"""Dedup diagnostics: each check fires on the defect it names, and a clean store yields none."""

from __future__ import annotations

import datetime as dt

import pytest

from capi_core.diagnostics import CHECKS, Finding, run_checks
from capi_core.ingest import delete_batch
from capi_core.metrics import dedup
from capi_core.models import Scope
from capi_core.store import Store
from tests.factories import copy, load

H = 60
DEDUP_CODES = [code for code in CHECKS if code.startswith("DEDUP_") or code == "COVERAGE_BELOW_GOAL"]


def _run(store: Store, code: str) -> list[Finding]:
    return CHECKS[code].run(store, Scope())


def test_fires_DEDUP_MISSING_EVENT_ID(store: Store) -> None:
    """Purchase sent by both channels; 1 of 2 server copies has no event_id -> count 1, share 1/2."""
    load(
        store,
        [
            copy("browser", "Purchase", "A", 0, line_no=1),
            copy("server", "Purchase", "A", 1, line_no=2),
            copy("server", "Purchase", None, 5, line_no=3),
        ],
    )
    (finding,) = _run(store, "DEDUP_MISSING_EVENT_ID")
    assert (finding.channel, finding.count, finding.share) == ("server", 1, 0.5)
    assert len(finding.examples) == 1


def test_fires_DEDUP_EVENT_NAME_MISMATCH(store: Store) -> None:
    """event_id A sent as 'Purchase' from the browser and 'purchase' from the server -> 1 id."""
    load(
        store, [copy("browser", "Purchase", "A", 0, line_no=1), copy("server", "purchase", "A", 1, line_no=2)]
    )
    (finding,) = _run(store, "DEDUP_EVENT_NAME_MISMATCH")
    assert finding.count == 1 and finding.examples == ["A"]
    assert "purchase" in finding.message and "Purchase" in finding.message


def test_fires_DEDUP_EVENT_ID_MISMATCH(store: Store) -> None:
    """'#1042' from the browser and '1042' from the server (same order after normalization) -> 1 pair."""
    load(
        store,
        [
            copy("browser", "Purchase", "#1042", 0, line_no=1),
            copy("server", "Purchase", "1042", 3, line_no=2),
        ],
    )
    (finding,) = _run(store, "DEDUP_EVENT_ID_MISMATCH")
    assert finding.count == 1
    assert finding.examples == ["#1042 / 1042"]


def test_fires_DEDUP_OUTSIDE_WINDOW(store: Store) -> None:
    """Browser at 0, server with the same key at 50 h: window 2 holds the server copy alone -> 1 copy."""
    load(
        store,
        [copy("browser", "Purchase", "A", 0, line_no=1), copy("server", "Purchase", "A", 50 * H, line_no=2)],
    )
    (finding,) = _run(store, "DEDUP_OUTSIDE_WINDOW")
    assert finding.count == 2  # both copies of the key are counted on their own
    assert finding.examples == ["A"]


def test_fires_DEDUP_REUSED_EVENT_ID(store: Store) -> None:
    """'undefined' carried by orders 1 and 2 (2 distinct order ids >= threshold 2) -> 1 id, 2 copies."""
    load(
        store,
        [
            copy("browser", "Purchase", "undefined", 0, line_no=1, custom_data={"order_id": "1"}),
            copy("browser", "Purchase", "undefined", 600, line_no=2, custom_data={"order_id": "2"}),
        ],
    )
    (finding,) = _run(store, "DEDUP_REUSED_EVENT_ID")
    assert finding.count == 2 and finding.examples == ["undefined"]


def test_fires_DEDUP_SAME_CHANNEL_REPEAT(store: Store) -> None:
    """Two server copies of id A, no browser copy: one repeat out of 2 server copies."""
    load(
        store, [copy("server", "Purchase", "A", 0, line_no=1), copy("server", "Purchase", "A", 2, line_no=2)]
    )
    (finding,) = _run(store, "DEDUP_SAME_CHANNEL_REPEAT")
    assert (finding.count, finding.share, finding.channel, finding.examples) == (1, 0.5, "server", ["A"])


def test_fires_DEDUP_PIXEL_MISMATCH(store: Store) -> None:
    """Browser to pixel 111, server to pixel 222, same name and id -> 1 id."""
    load(
        store,
        [
            copy("browser", "Purchase", "A", 0, line_no=1),
            copy("server", "Purchase", "A", 1, line_no=2, pixel_id="222"),
        ],
    )
    (finding,) = _run(store, "DEDUP_PIXEL_MISMATCH")
    assert finding.count == 1 and "111" in finding.message and "222" in finding.message


def _own_fbp(key: str) -> dict[str, str]:
    """user_data with an fbp of its own, so that coverage by fbp does not join unrelated copies."""
    return {"fbp": f"fb.1.1700000000000.{key}"}


def test_fires_COVERAGE_BELOW_GOAL(store: Store) -> None:
    """4 browser copies (A-D, each its own fbp), a server copy only for A: coverage 1/4 = 25 % < 75 % -> 3
    uncovered."""
    events = [
        copy("browser", "Purchase", key, i * 10, line_no=i + 1, user_data=_own_fbp(key))
        for i, key in enumerate("ABCD")
    ]
    load(store, [*events, copy("server", "Purchase", "A", 1, line_no=9, user_data=_own_fbp("A"))])
    (finding,) = _run(store, "COVERAGE_BELOW_GOAL")
    assert (finding.count, finding.share) == (3, 0.75)
    assert finding.examples == ["B", "C", "D"]


def test_coverage_ignores_low_volume_browser_only_events(store: Store) -> None:
    """A browser-only event with 3 copies (< 50) is not a coverage finding."""
    load(store, [copy("browser", "ViewContent", str(i), i, line_no=i + 1) for i in range(3)])
    assert _run(store, "COVERAGE_BELOW_GOAL") == []


def test_clean_store_has_no_dedup_findings(store: Store) -> None:
    """Every conversion sent once per channel with a shared id, same name and pixel, 1 min apart."""
    events = []
    for i in range(5):
        fbp = f"fb.1.1700000000000.{i}"
        events.append(copy("browser", "Purchase", f"o{i}", i * 30, line_no=2 * i + 1, user_data={"fbp": fbp}))
        events.append(
            copy("server", "Purchase", f"o{i}", i * 30 + 1, line_no=2 * i + 2, user_data={"fbp": fbp})
        )
    load(store, events)
    assert run_checks(store, Scope(), DEDUP_CODES) == []
    assert len(DEDUP_CODES) == 8


_DAY = 24 * H


@pytest.mark.parametrize(
    ("copies", "expected"),
    [
        # 3 copies with fbp A, B, C (3 distinct users >= 3) -> fires, count = 3 copies
        (
            [
                (0, "fb.1.1700000000000.1", None),
                (1, "fb.1.1700000000000.2", None),
                (2, "fb.1.1700000000000.3", None),
            ],
            3,
        ),
        # 3 copies on days 0, 1 and 2 (3 distinct days >= 3) -> fires, count = 3 copies
        ([(0, None, None), (_DAY, None, None), (2 * _DAY, None, None)], 3),
        # 3 copies, 2 fbp values and 2 days: one conversion (fbp mismatch + late retry) -> silent
        ([(0, "fb.1.1700000000000.1", None), (1, "fb.1.1700000000000.2", None), (_DAY, None, None)], 0),
        # 2 copies, order ids "#7" and "7" normalize to one order -> silent
        ([(0, None, "#7"), (1, None, "7")], 0),
    ],
)
def test_reused_event_id_thresholds(
    store: Store, copies: list[tuple[int, str | None, str | None]], expected: int
) -> None:
    """Each copy carries event_id X; the finding counts the copies of ids over a threshold (0: no finding)."""
    load(
        store,
        [
            copy(
                "server",
                "Purchase",
                "X",
                minute,
                line_no=i + 1,
                user_data={"fbp": fbp} if fbp else {"client_user_agent": "UA"},
                custom_data={"value": 1.0, "currency": "USD", **({"order_id": order} if order else {})},
            )
            for i, (minute, fbp, order) in enumerate(copies)
        ],
    )
    findings = _run(store, "DEDUP_REUSED_EVENT_ID")
    assert sum(f.count for f in findings) == expected


def test_pairs_are_scoped_on_the_browser_copy(store: Store) -> None:
    """Browser id 1042 at 0 h, server id #1042 at 1 min (same order): one id_mismatch pair, dated by the
    browser copy: in scope for that day, out of scope the day after."""
    load(
        store,
        [
            copy("browser", "Purchase", "1042", 0, line_no=1, custom_data={"order_id": "1042"}),
            copy("server", "Purchase", "#1042", 1, line_no=2, custom_data={"order_id": "1042"}),
        ],
    )
    day = dedup.would_be_pairs(store, Scope())[0].browser_received_at.date()
    assert len(dedup.would_be_pairs(store, Scope(date_from=day, date_to=day))) == 1
    assert dedup.would_be_pairs(store, Scope(date_from=day + dt.timedelta(days=1))) == []
    assert dedup.failure_reasons(store, Scope(pixel_id="other"))["id_mismatch"] == 0


def test_coverage_check_agrees_with_dedup_by_event(store: Store) -> None:
    """Event coverage of the report and of the finding (with its examples) both come from dedup_facts.sql;
    the two must never drift apart.

    Hand count: 4 browser Purchase copies (ids 1..4); server twins for 1 only, plus a server copy with a
    different id (9) -> coverage 1/4, finding share 3/4, count 3 uncovered.
    """
    copies = [copy("browser", event_id=str(i), minute=i, user_data=_own_fbp(str(i))) for i in (1, 2, 3, 4)]
    copies += [
        copy("server", event_id="1", minute=1, user_data=_own_fbp("1")),
        copy("server", event_id="9", minute=9, user_data=_own_fbp("9")),
    ]
    load(store, copies)
    (stats,) = [s for s in dedup.dedup_by_event(store, Scope()) if s.event_name == "Purchase"]
    (finding,) = CHECKS["COVERAGE_BELOW_GOAL"].run(store, Scope())
    assert stats.event_coverage == 0.25
    assert finding.share == pytest.approx(1 - stats.event_coverage)
    assert finding.count == 3


def test_dedup_facts_are_computed_once_per_scope_and_follow_undo(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report's dedup section and three checks share one memoized dedup_facts pass per data version.

    Hand count: batch 1 = browser Purchase ids 1, 2 and a server twin of 1 -> 2 browser copies, coverage
    1/2; batch 2 adds browser id 3 -> 3 browser copies. Undoing batch 2 -> back to 2: the memo follows the
    data version, and one scope costs one dedup_facts query however many callers read it.
    """
    first = [
        copy("browser", event_id="1", minute=1, user_data=_own_fbp("1")),
        copy("browser", event_id="2", minute=2, user_data=_own_fbp("2")),
    ]
    load(store, [*first, copy("server", event_id="1", minute=1, user_data=_own_fbp("1"))], label="one")
    ran: list[str] = []
    query = store.query_file

    def counting(name: str, params: dict[str, object] | None = None) -> object:
        ran.append(name)
        return query(name, params)

    with monkeypatch.context() as patch:
        patch.setattr(store, "query_file", counting)
        (stats,) = dedup.dedup_by_event(store, Scope())
        for code in ("DEDUP_MISSING_EVENT_ID", "DEDUP_SAME_CHANNEL_REPEAT", "COVERAGE_BELOW_GOAL"):
            CHECKS[code].run(store, Scope())
    assert (stats.browser, stats.event_coverage) == (2, 0.5)
    assert ran.count("dedup_facts") == 1

    second = load(store, [copy("browser", event_id="3", minute=3)], label="two")
    assert dedup.dedup_by_event(store, Scope())[0].browser == 3
    delete_batch(store, second.batch_id)
    assert dedup.dedup_by_event(store, Scope())[0].browser == 2


# --- scoped: the three id checks fold per-day rows of the ids that qualify over the whole store ---------

DAY = 24 * H
MONDAY, TUESDAY = dt.date(2026, 11, 2), dt.date(2026, 11, 3)  # T0's day and the next


def _run_in(store: Store, code: str, scope: Scope) -> list[Finding]:
    return CHECKS[code].run(store, scope)


def test_reused_event_id_counts_only_the_scope_days(store: Store) -> None:
    """'undefined' on order 1 (Monday), orders 2 and 3 (Tuesday): over both days 3 orders, 3 copies; on
    Tuesday alone 2 orders (>= 2: fires, 2 copies); on Monday alone 1 order, 1 copy (no finding)."""
    load(
        store,
        [
            copy("browser", "Purchase", "undefined", 0, line_no=1, custom_data={"order_id": "1"}),
            copy("browser", "Purchase", "undefined", DAY, line_no=2, custom_data={"order_id": "2"}),
            copy("browser", "Purchase", "undefined", DAY + 60, line_no=3, custom_data={"order_id": "#3"}),
        ],
    )
    (both,) = _run(store, "DEDUP_REUSED_EVENT_ID")
    assert both.count == 3 and "3 orders" in both.message
    (tuesday,) = _run_in(store, "DEDUP_REUSED_EVENT_ID", Scope(date_from=TUESDAY, date_to=TUESDAY))
    assert tuesday.count == 2 and "2 orders" in tuesday.message
    assert _run_in(store, "DEDUP_REUSED_EVENT_ID", Scope(date_from=MONDAY, date_to=MONDAY)) == []
    assert _run_in(store, "DEDUP_REUSED_EVENT_ID", Scope(event_names=("Lead",))) == []


def test_event_name_mismatch_needs_both_names_in_scope(store: Store) -> None:
    """id A: browser 'Purchase' on Monday, server 'purchase' on Tuesday. Both days: 1 id; one day alone
    has one channel and one name: no finding; another pixel: no finding."""
    load(
        store,
        [copy("browser", "Purchase", "A", 0, line_no=1), copy("server", "purchase", "A", DAY, line_no=2)],
    )
    (finding,) = _run_in(store, "DEDUP_EVENT_NAME_MISMATCH", Scope(date_from=MONDAY, date_to=TUESDAY))
    assert finding.count == 1 and finding.examples == ["A"]
    assert "browser: Purchase, server: purchase" in finding.message
    for scope in (Scope(date_from=MONDAY, date_to=MONDAY), Scope(date_to=MONDAY), Scope(pixel_id="999")):
        assert _run_in(store, "DEDUP_EVENT_NAME_MISMATCH", scope) == []


def test_pixel_mismatch_pixel_filter_applies_to_either_side(store: Store) -> None:
    """Browser A to pixel 111 on Monday, server A to pixel 222 on Tuesday: 1 pair over both days; scoped
    to pixel 222 (the server side) still 1 pair; pixel 333: none; Monday alone has no server copy: none."""
    load(
        store,
        [
            copy("browser", "Purchase", "A", 0, line_no=1),
            copy("server", "Purchase", "A", DAY, line_no=2, pixel_id="222"),
        ],
    )
    for scope in (Scope(), Scope(pixel_id="222"), Scope(pixel_id="111", date_from=MONDAY)):
        (finding,) = _run_in(store, "DEDUP_PIXEL_MISMATCH", scope)
        assert finding.count == 1 and "111" in finding.message and "222" in finding.message
    for scope in (Scope(pixel_id="333"), Scope(date_from=MONDAY, date_to=MONDAY)):
        assert _run_in(store, "DEDUP_PIXEL_MISMATCH", scope) == []
