"""The core of ``capi-desk pairs`` and ``capi-desk contracts fix`` on hand-built stores:
``inspector.problem_pairs`` (each pair Meta counts twice, why, and its fields compared) and
``contracts.editor.fix_copies`` (every violating copy once, corrected)."""

from __future__ import annotations

import datetime as dt

import pytest

from capi_core import inspector
from capi_core.contracts import editor as ce
from capi_core.contracts.library import contract_violations
from capi_core.contracts.models import Contract, EventContract
from capi_core.models import Scope
from capi_core.store import Store
from tests.factories import FBP, PIXEL, UA, copy, load, load_truth, order

NOW_S = dt.datetime(2026, 11, 2, 13, 0, tzinfo=dt.UTC).timestamp()
OTHER_FBP = "fb.1.1762000000000.2222222222"


@pytest.fixture
def paired(store: Store) -> Store:
    """Pixel 111: browser '#1042' + server '1042' (one order, two ids: counted twice, id_mismatch);
    browser 'A1' + server 'A1' one minute apart (merged: not a problem pair)."""
    other = {"fbp": OTHER_FBP, "client_user_agent": UA}
    load(
        store,
        [
            copy("browser", "Purchase", "#1042", 0, line_no=1),
            copy("server", "Purchase", "1042", 1, line_no=2,
                 custom_data={"value": 50.0, "currency": "USD", "order_id": "1042"}),
            copy("browser", "Purchase", "A1", 10, line_no=3, user_data=other),
            copy("server", "Purchase", "A1", 11, line_no=4, user_data=other),
        ],
    )  # fmt: skip
    load_truth(store, [order("#1042", 0, fbp=FBP)])
    return store


def test_problem_pairs_say_why_and_what_differs(paired: Store) -> None:
    (pair,) = inspector.problem_pairs(paired, Scope())
    assert (pair.pair.browser_event_id, pair.pair.server_event_id, pair.pair.reason) == (
        "#1042",
        "1042",
        "id_mismatch",
    )
    assert pair.verdict == inspector.pair_verdict(pair.pair)
    assert "'#1042'" in pair.verdict and "'1042'" in pair.verdict
    assert [d.field for d in pair.fields] == list(inspector.COMPARED_FIELDS)
    differing = {d.field: (d.a, d.b) for d in pair.differing}
    assert differing["event_id"] == ("#1042", "1042")
    assert differing["channel"] == ("browser", "server")
    assert differing["order_id"] == (None, "1042")
    assert "pixel_id" not in differing and "event_name" not in differing and "fbp" not in differing


@pytest.mark.parametrize(
    ("scope", "limit", "found"),
    [
        (Scope(), 20, 1),
        (Scope(), 1, 1),
        (Scope(event_names=("PageView",)), 20, 0),  # no PageView copy at all
        (Scope(date_from=dt.date(2026, 11, 3)), 20, 0),  # the pair's browser copy is on 2026-11-02
        (Scope(pixel_id="999"), 20, 0),
    ],
)
def test_problem_pairs_follow_scope_and_limit(paired: Store, scope: Scope, limit: int, found: int) -> None:
    assert len(inspector.problem_pairs(paired, scope, limit=limit)) == found


def _contract() -> Contract:
    rule = EventContract.model_validate(
        {
            "milestone": "order paid",
            "source": "server",
            "required": ["event_name", "event_time", "action_source", "value", "currency"],
            "event_id_rule": "order_id_without_hash",
            "allowed_currencies": ["USD"],
        }
    )
    return Contract(pixel_id=PIXEL, events={"Purchase": rule})


@pytest.fixture
def violating(store: Store) -> Store:
    """s1: server 'purchase' (name variant), event_id '#7', currency 'usd' -> two rules broken;
    s2: server Purchase, event_id '#8', order_id '8' -> the event_id rule only;
    s3: server Purchase, event_id '9', order_id '9', USD -> breaks nothing."""
    load(
        store,
        [
            copy("server", "purchase", "#7", 0, line_no=1,
                 custom_data={"value": 10.0, "currency": "usd", "order_id": "7"}),
            copy("server", "Purchase", "#8", 5, line_no=2,
                 custom_data={"value": 20.0, "currency": "USD", "order_id": "8"}),
            copy("server", "Purchase", "9", 9, line_no=3,
                 custom_data={"value": 30.0, "currency": "USD", "order_id": "9"}),
        ],
    )  # fmt: skip
    return store


def test_fix_copies_lists_each_violating_copy_once_corrected(violating: Store) -> None:
    rules = _contract()
    violations = contract_violations(violating, Scope(), rules)
    fixes = ce.fix_copies(violating, rules, violations, now=NOW_S)
    by_id = {f.event_id: f for f in fixes}
    assert set(by_id) == {"#7", "#8"}  # '9' breaks nothing; '#7' breaks two rules but is listed once
    assert len({(f.fingerprint, f.occurrence) for f in fixes}) == len(fixes)
    assert len(by_id["#7"].broken) >= 2 and len(by_id["#8"].broken) == 1
    for fixed in fixes:
        after = fixed.fix.correction.after
        assert after["event_name"] == "Purchase"
        assert after["event_id"] == str(fixed.event_id).lstrip("#")
        assert after["custom_data"]["currency"] == "USD"
        assert fixed.fix.problems == []  # pre-flight passes: push would send it
    assert ce.fix_copies(violating, rules, violations, limit=1, now=NOW_S)[0] == fixes[0]
    assert len(ce.fix_copies(violating, rules, violations, limit=1, now=NOW_S)) == 1


def test_fix_copies_of_no_violation_is_empty(store: Store) -> None:
    load(
        store,
        [copy("server", "Purchase", "9", custom_data={"value": 1.0, "currency": "USD", "order_id": "9"})],
    )
    rules = _contract()
    assert ce.fix_copies(store, rules, contract_violations(store, Scope(), rules), now=NOW_S) == []
