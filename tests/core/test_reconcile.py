"""Reconciliation (SPEC §4) on hand-computed fixtures, through the real dedup model.

Every copy carries its own fbp (``_ud``) unless a test needs a shared one, so Meta's fbp fallback for
server copies without event_id never pairs copies of different orders by accident.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from factories import UA, copy, load, load_truth, order
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capi_core.ingest import delete_batch
from capi_core.metrics import reconcile as rc
from capi_core.models import Scope
from capi_core.queries import load_query
from capi_core.store import Store

ALL = Scope()
DAY = 24 * 60


def _ud(n: int | str, **extra: Any) -> dict[str, Any]:
    return {"fbp": f"fb.1.1762000000000.{n}", "client_user_agent": UA, **extra}


def _cd(value: float = 50.0, currency: str = "USD", **extra: Any) -> dict[str, Any]:
    return {"value": value, "currency": currency, **extra}


def _by_id(store: Store, scope: Scope = ALL, **kwargs: Any) -> dict[str, rc.RecordVerdict]:
    return {r.raw_id or r.truth_id: r for r in rc.record_verdicts(store, scope, **kwargs)}


# --- join key ----------------------------------------------------------------------------------------

JOIN_CASES = {
    # order_id: 2 of 3 copies carry an order_id naming an order -> 2/3; event_ids are random
    "order_id": (
        [
            copy("server", event_id="x1", minute=0, custom_data=_cd(order_id="#1001"), user_data=_ud(1)),
            copy("server", event_id="x2", minute=60, custom_data=_cd(order_id="1002"), user_data=_ud(2)),
            copy("server", event_id="x3", minute=120, user_data=_ud(3)),
        ],
        "order_id",
        {"order_id": 2 / 3, "event_id": 0.0, "event_id_token": 0.0},
    ),
    # event_id equal after normalization ('#1001', '1002 ') -> 2/3; the token rate is also 2/3, and
    # event_id comes first in SPEC order
    "event_id": (
        [
            copy("server", event_id="#1001", minute=0, user_data=_ud(1)),
            copy("server", event_id="1002 ", minute=60, user_data=_ud(2)),
            copy("server", event_id="abc", minute=120, user_data=_ud(3)),
        ],
        "event_id",
        {"order_id": 0.0, "event_id": 2 / 3, "event_id_token": 2 / 3},
    ),
    # tokens: 'purchase_1001' -> purchase, 1001; '1002-abc' -> 1002, abc -> 2/3
    "event_id_token": (
        [
            copy("server", event_id="purchase_1001", minute=0, user_data=_ud(1)),
            copy("server", event_id="1002-abc", minute=60, user_data=_ud(2)),
            copy("server", event_id="zzz", minute=120, user_data=_ud(3)),
        ],
        "event_id_token",
        {"order_id": 0.0, "event_id": 0.0, "event_id_token": 2 / 3},
    ),
    # order_id links 1/4 (< 50 %), the token 3/4: the first key reaching 50 % wins -> token
    "token_beats_sparse_order_id": (
        [
            copy("server", event_id="u1", minute=0, custom_data=_cd(order_id="1001"), user_data=_ud(1)),
            copy("server", event_id="purchase_1002", minute=60, user_data=_ud(2)),
            copy("server", event_id="purchase_1003", minute=120, user_data=_ud(3)),
            copy("server", event_id="purchase_1004", minute=180, user_data=_ud(4)),
        ],
        "event_id_token",
        {"order_id": 0.25, "event_id": 0.0, "event_id_token": 0.75},
    ),
}


@pytest.mark.parametrize("case", list(JOIN_CASES))
def test_join_key_resolution(store: Store, case: str) -> None:
    copies, key, rates = JOIN_CASES[case]
    load_truth(store, [order(f"#{n}", (n - 1001) * 60) for n in (1001, 1002, 1003, 1004)])
    load(store, copies)
    resolved = rc.join_key(store, ALL)
    assert resolved.key == key
    assert resolved.match_rate == pytest.approx(rates[key])
    assert {c.key: c.match_rate for c in resolved.candidates} == pytest.approx(rates)


def test_join_key_without_copies(store: Store) -> None:
    load_truth(store, [order("#1001")])
    resolved = rc.join_key(store, ALL)
    assert (resolved.copies, resolved.key, resolved.match_rate) == (0, None, None)


# --- verdicts and flags ------------------------------------------------------------------------------


def test_each_verdict(store: Store) -> None:
    """#1001 merged pair -> both_channels (1 counted); #1002 browser only; #1003 server only; #1004 none."""
    load_truth(store, [order("#1001", 0), order("#1002", 10), order("#1003", 20), order("#1004", 30)])
    load(
        store,
        [
            copy("browser", event_id="1001", minute=0, user_data=_ud(1)),
            copy("server", event_id="1001", minute=1, user_data=_ud(1)),
            copy("browser", event_id="1002", minute=10, user_data=_ud(2)),
            copy("server", event_id="1003", minute=20, user_data=_ud(3)),
        ],
    )
    records = _by_id(store)
    assert {k: r.verdict for k, r in records.items()} == {
        "#1001": "both_channels",
        "#1002": "browser_only",
        "#1003": "server_only",
        "#1004": "none",
    }
    assert records["#1001"].counted_copies == 1
    assert records["#1001"].flags == []
    assert [r.raw_id for r in rc.record_verdicts(store, ALL, verdict="none")] == ["#1004"]
    assert [r.raw_id for r in rc.record_verdicts(store, ALL, flag="missing")] == ["#1004"]
    assert [r.raw_id for r in rc.record_verdicts(store, ALL, limit=2)] == ["#1001", "#1002"]


FLAG_CASES = {
    # 'purchase' is another dedup key than 'Purchase': both copies counted -> twice, and a name variant
    "variant_counted_twice": (
        {},
        [
            copy("browser", event_id="1001", minute=0, user_data=_ud(1)),
            copy("server", "purchase", event_id="1001", minute=1, user_data=_ud(1)),
        ],
        ["counted_more_than_once", "name_variant"],
    ),
    # same-channel retry in one window: Meta counts both
    "server_retry": (
        {},
        [
            copy("server", event_id="1001", minute=0, user_data=_ud(1)),
            copy("server", event_id="1001", minute=0, sent_minute=3, user_data=_ud(1)),
        ],
        ["counted_more_than_once"],
    ),
    # |45 - 50| = 5 > max(0.01, 0.50)
    "value_off": (
        {},
        [copy("server", event_id="1001", custom_data=_cd(45.0), user_data=_ud(1))],
        ["value_mismatch"],
    ),
    # |50.4 - 50| = 0.4 <= max(0.01, 0.50): within tolerance
    "value_within_tolerance": (
        {},
        [copy("server", event_id="1001", custom_data=_cd(50.4), user_data=_ud(1))],
        [],
    ),
    "currency_off": (
        {},
        [copy("server", event_id="1001", custom_data=_cd(currency="EUR"), user_data=_ud(1))],
        ["currency_mismatch"],
    ),
    "currency_case_only": (
        {},
        [copy("server", event_id="1001", custom_data=_cd(currency="usd"), user_data=_ud(1))],
        [],
    ),
    "refunded_sent": (
        {"status": "refunded"},
        [copy("server", event_id="1001", user_data=_ud(1))],
        ["not_paid_sent"],
    ),
    "pending_sent": (
        {"status": "pending"},
        [copy("server", event_id="1001", user_data=_ud(1))],
        ["not_paid_sent"],
    ),
    # first server copy received 3 h after created_at
    "late_3h": ({}, [copy("server", event_id="1001", sent_minute=180, user_data=_ud(1))], ["late_2h"]),
    # received 25 h after: late_2h holds too (both thresholds are "more than")
    "late_25h": (
        {},
        [copy("server", event_id="1001", sent_minute=25 * 60, user_data=_ud(1))],
        ["late_2h", "late_24h"],
    ),
    "consent_denied": (
        {},
        [copy("server", event_id="1001", consent="denied", user_data=_ud(1))],
        ["consent_denied"],
    ),
}


@pytest.mark.parametrize("case", list(FLAG_CASES))
def test_record_flags(store: Store, case: str) -> None:
    order_fields, copies, flags = FLAG_CASES[case]
    load_truth(store, [order("#1001", 0, **order_fields)])
    load(store, copies)
    (record,) = rc.record_verdicts(store, ALL)
    assert record.flags == flags
    for flag in flags:
        assert [r.raw_id for r in rc.record_verdicts(store, ALL, flag=flag)] == ["#1001"]


@pytest.mark.parametrize(("policy", "flags"), [("total", ["value_mismatch"]), ("subtotal", [])])
def test_value_policy(store: Store, policy: rc.ValuePolicy, flags: list[str]) -> None:
    """Total 60, subtotal 50, the copy sends 50: a mismatch under 'total' only."""
    load_truth(store, [order("#1001", 0, value=60.0, subtotal=50.0)])
    load(store, [copy("server", event_id="1001", custom_data=_cd(50.0), user_data=_ud(1))])
    (record,) = rc.record_verdicts(store, ALL, value_policy=policy)
    assert record.flags == flags
    assert record.truth_value == (60.0 if policy == "total" else 50.0)


# --- linking without a key ---------------------------------------------------------------------------


def test_fbp_fallback_within_ten_minutes(store: Store) -> None:
    """A keyless browser copy 5 min after #2001 with its fbp links; one 15 min after #2002 does not, and
    as it names no order at all its phantom reason says so (no_order_key, not unknown_id)."""
    load_truth(store, [order("#2001", 0, fbp="fb.1.1.42"), order("#2002", 100, fbp="fb.1.1.43")])
    load(
        store,
        [
            copy("browser", event_id=None, minute=5, user_data=_ud("x", fbp="fb.1.1.42")),
            copy("browser", event_id=None, minute=115, user_data=_ud("y", fbp="fb.1.1.43")),
        ],
    )
    records = _by_id(store)
    assert records["#2001"].verdict == "browser_only"
    assert records["#2002"].verdict == "none"
    by_reason = rc.phantoms(store, ALL).by_reason
    assert (by_reason["no_order_key"], by_reason["unknown_id"]) == (1, 0)


def test_email_fallback(store: Store) -> None:
    """The server copy's hashed em equals the order's (both hashed at ingest from one address)."""
    load_truth(store, [order("#2001", 0, email="Buyer@Example.com")])
    load(store, [copy("server", event_id="r4nd", minute=2, user_data=_ud(1, em="buyer@example.com"))])
    assert _by_id(store)["#2001"].verdict == "server_only"


def test_unknown_order_id_does_not_fall_back(store: Store) -> None:
    """An order_id naming no order is a claim of another order: no fbp link, a phantom."""
    load_truth(store, [order("#2001", 0, fbp="fb.1.1.42")])
    load(
        store,
        [
            copy(
                "server",
                event_id="r4nd",
                custom_data=_cd(order_id="#9999"),
                user_data=_ud("z", fbp="fb.1.1.42"),
            )
        ],
    )
    assert _by_id(store)["#2001"].verdict == "none"
    assert rc.phantoms(store, ALL).total == 1


def test_dedup_partner_inherits_link(store: Store) -> None:
    """Browser 'r4nd' (no order id) merges with server 'r4nd' carrying order_id #3001: one conversion."""
    load_truth(store, [order("#3001", 0)])
    load(
        store,
        [
            copy("browser", event_id="r4nd", minute=0, user_data=_ud(1)),
            copy("server", event_id="r4nd", minute=1, custom_data=_cd(order_id="#3001"), user_data=_ud(1)),
        ],
    )
    record = _by_id(store)["#3001"]
    assert (record.verdict, record.counted_copies, record.flags) == ("both_channels", 1, [])
    assert rc.phantoms(store, ALL).total == 0


# --- phantoms ----------------------------------------------------------------------------------------


def test_phantom_sub_reasons(store: Store) -> None:
    """Truth #1001 (T0), #1002 (T0+60 min): window T0-1d .. T0+60min+1d.

    test_code 1 ('t-1'); reused_id 5 ('promo' on 4 copies, and 'abc' whose window-mate links to #1002
    while it names order #7777); outside 1 ('old-1' at T0-3d); unknown 1 ('zzz') -> 8 phantoms.
    """
    load_truth(store, [order("#1001", 0), order("#1002", 60)])
    promo = [copy("server", event_id="promo", minute=40 + i, user_data=_ud(f"p{i}")) for i in range(4)]
    load(
        store,
        [
            copy("server", event_id="1001", minute=0, user_data=_ud(1)),
            copy("server", event_id="abc", minute=60, custom_data=_cd(order_id="#1002"), user_data=_ud(2)),
            copy("server", event_id="abc", minute=61, custom_data=_cd(order_id="#7777"), user_data=_ud(3)),
            copy("server", event_id="t-1", minute=30, test_event_code="TEST1", user_data=_ud(4)),
            copy("server", event_id="old-1", minute=-3 * DAY, user_data=_ud(5)),
            copy("server", event_id="zzz", minute=30, user_data=_ud(6)),
            *promo,
        ],
    )
    report = rc.phantoms(store, ALL)
    assert report.total == 8
    assert report.by_reason == {
        "test_code": 1, "reused_id": 5, "outside_truth_window": 1, "no_order_key": 0, "unknown_id": 1,
    }  # fmt: skip
    assert report.copies[0].event_id == "old-1"  # oldest first
    assert [p.reason for p in rc.phantoms(store, ALL, reason="test_code").copies] == ["test_code"]
    assert len(rc.phantoms(store, ALL, limit=3).copies) == 3


# --- latest batch wins -------------------------------------------------------------------------------


def test_latest_batch_wins(store: Store) -> None:
    """#1001 paid in batch 1, refunded in batch 2 -> refunded; #1003 pending on line 1, paid on line 2 of
    one batch -> paid. Eligible: #1002, #1003 = 2; #1001 is flagged not_paid_sent."""
    load_truth(store, [order("#1001", 0), order("#1002", 10)], label="export-1")
    load_truth(
        store,
        [order("#1001", 0, status="refunded"), order("#1003", 20, status="pending", line_no=1),
         order("#1003", 20, status="paid", line_no=2)],
        label="export-2",
    )  # fmt: skip
    load(
        store,
        [copy("server", event_id=n, minute=m, user_data=_ud(n)) for n, m in (("1001", 0), ("1002", 10))],
    )
    records = _by_id(store)
    assert {k: r.status for k, r in records.items()} == {
        "#1001": "refunded",
        "#1002": "paid",
        "#1003": "paid",
    }
    assert records["#1001"].flags == ["not_paid_sent"]
    summary = rc.reconcile_summary(store, ALL)
    assert (summary.records, summary.truth_count) == (3, 2)


# --- aggregates --------------------------------------------------------------------------------------


def _periods_fixture(store: Store) -> None:
    load_truth(
        store,
        [
            order("#1", 0, value=50.0),  # Mon 2 Nov
            order("#2", 60, value=30.0),  # Mon 2 Nov
            order("#3", DAY, value=40.0),  # Tue 3 Nov, never sent
            order("#4", 7 * DAY, value=20.0, status="refunded"),  # Mon 9 Nov, not eligible
        ],
    )
    load(
        store,
        [
            copy("browser", event_id="1", minute=0, user_data=_ud(1)),  # kept (merged with the server copy)
            copy("server", event_id="1", minute=1, user_data=_ud(1)),
            copy("server", event_id="2", minute=60, custom_data=_cd(30.0), user_data=_ud(2)),
            copy("server", event_id="2", minute=60, sent_minute=62, custom_data=_cd(30.0), user_data=_ud(2)),
            copy("server", event_id="999", minute=2 * DAY, custom_data=_cd(25.0), user_data=_ud(9)),
            copy("server", event_id="4", minute=7 * DAY, custom_data=_cd(20.0), user_data=_ud(4)),
        ],
    )


def test_daily(store: Store) -> None:
    """Nov 2: truth 2 (80), Meta 3 counted (browser #1 50 + server #2 twice 30+30 = 110), gap (3-2)/2;
    Nov 3: truth 1 (40), Meta 0, gap -1, accuracy 0; Nov 4: phantom only, gap None;
    Nov 9: the refunded order is not truth, its copy is Meta 1 (20)."""
    _periods_fixture(store)
    rows = {r.label: r for r in rc.daily(store, ALL)}
    assert list(rows) == ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-09"]
    got = {
        k: (r.truth_count, r.truth_value, r.meta_count, r.meta_value, r.gap_pct, r.accuracy)
        for k, r in rows.items()
    }
    assert got == {
        "2026-11-02": (2, 80.0, 3, 110.0, 0.5, 1.0),
        "2026-11-03": (1, 40.0, 0, 0.0, -1.0, 0.0),
        "2026-11-04": (0, 0.0, 1, 25.0, None, None),
        "2026-11-09": (0, 0.0, 1, 20.0, None, None),
    }


def test_weekly(store: Store) -> None:
    """W45: truth 3 (120), Meta 4 (135), gap 1/3, accuracy 2/3; W46: truth 0, Meta 1 (20), gap None."""
    _periods_fixture(store)
    rows = {r.label: r for r in rc.weekly(store, ALL)}
    assert list(rows) == ["2026-W45", "2026-W46"]
    w45 = rows["2026-W45"]
    assert (w45.period, w45.truth_count, w45.truth_value, w45.meta_count, w45.meta_value) == (
        dt.date(2026, 11, 2), 3, 120.0, 4, 135.0,
    )  # fmt: skip
    assert w45.gap_pct == pytest.approx(1 / 3)
    assert w45.accuracy == pytest.approx(2 / 3)
    assert (rows["2026-W46"].meta_count, rows["2026-W46"].gap_pct) == (1, None)


def test_scope_filters_truth_on_created_at(store: Store) -> None:
    """From 3 Nov: truth #3 (and the refunded #4), Meta copies of 4 and 9 Nov only."""
    _periods_fixture(store)
    summary = rc.reconcile_summary(store, Scope(date_from=dt.date(2026, 11, 3)))
    assert (summary.records, summary.truth_count, summary.meta_count) == (2, 1, 2)


# --- waterfall and summary ---------------------------------------------------------------------------


def _waterfall_fixture(store: Store) -> None:
    load_truth(
        store,
        [
            order("#1", 0), order("#2", 100), order("#3", 200), order("#4", 300),
            order("#5", 400, status="refunded"), order("#6", 500), order("#7", 600), order("#8", 700),
        ],
    )  # fmt: skip
    load(
        store,
        [
            copy("browser", event_id="1", minute=0, user_data=_ud(1)),  # R1 merged
            copy("server", event_id="1", minute=1, user_data=_ud(1)),
            copy("server", event_id="2", minute=100, user_data=_ud(2)),  # R2 server only
            copy("browser", event_id="3", minute=200, user_data=_ud(3)),  # R3 browser only
            copy("server", event_id="5", minute=400, user_data=_ud(5)),  # R5 refunded
            copy("server", event_id="6", minute=500, consent="denied", user_data=_ud(6)),  # R6 consent
            copy("browser", event_id="purchase_7", minute=600, user_data=_ud(7)),  # R7 ids differ: not merged
            copy("server", event_id="7", minute=601, user_data=_ud(7)),
            copy("browser", event_id="8", minute=700, user_data=_ud(8)),  # R8 merged, then a retry 49 h later
            copy("server", event_id="8", minute=701, user_data=_ud(8)),
            copy("server", event_id="8", minute=701, sent_minute=700 + 49 * 60, user_data=_ud(8)),
        ],
    )


def test_waterfall(store: Store) -> None:
    """truth 8; eligible 6 (not #5 refunded, #6 consent denied); reached 5 (not #4); server copy 4 (not
    #3); merged correctly 3 (not #7, two ids); counted exactly once 2 (not #8, retry in a new window)."""
    _waterfall_fixture(store)
    steps = rc.waterfall(store, ALL)
    assert [(s.step, s.count) for s in steps] == [
        ("truth", 8),
        ("eligible", 6),
        ("reached_meta", 5),
        ("has_server_copy", 4),
        ("merged_correctly", 3),
        ("counted_exactly_once", 2),
    ]
    assert steps[2].share_of_previous == pytest.approx(5 / 6)
    assert steps[5].share_of_truth == pytest.approx(2 / 8)


def test_summary(store: Store) -> None:
    """11 copies (R1 2, R2 1, R3 1, R5 1, R6 1, R7 2, R8 3), 10 with an exact event_id -> event_id,
    10/11. Meta counts R1 1, R2 1, R3 1, R5 1, R6 1, R7 2, R8 2 = 9 (x 50 = 450) against 6 eligible
    (x 50 = 300): gap 0.5; reached 5/6. Verdicts over eligible: both R1 R7 R8, browser R3, server R2,
    none R4. Double counted R7, R8; not paid sent R5."""
    _waterfall_fixture(store)
    summary = rc.reconcile_summary(store, ALL)
    assert (summary.join_key, summary.join_match_rate) == ("event_id", pytest.approx(10 / 11))
    assert (summary.truth_count, summary.truth_value, summary.meta_count, summary.meta_value) == (
        6,
        300.0,
        9,
        450.0,
    )
    assert summary.gap_pct == pytest.approx(0.5)
    assert summary.accuracy == pytest.approx(5 / 6)
    assert summary.verdicts == {"both_channels": 3, "browser_only": 1, "server_only": 1, "none": 1}
    assert summary.flags["counted_more_than_once"] == 2
    assert summary.flags["not_paid_sent"] == 1
    assert summary.phantom_count == 0
    assert [s.model_dump() for s in rc.reconcile_all(store, ALL)] == [summary.model_dump()]


def test_nothing_to_reconcile(store: Store) -> None:
    summary = rc.reconcile_summary(store, ALL)
    assert (summary.records, summary.meta_count, summary.gap_pct, summary.accuracy) == (0, 0, None, None)
    assert rc.reconcile_all(store, ALL) == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(["browser", "server"]), st.integers(1, 6), st.integers(0, 3000)),
        max_size=12,
    ),
    st.lists(st.sampled_from(["paid", "refunded", "pending"]), min_size=6, max_size=6),
)
def test_waterfall_never_grows(
    tmp_path_factory: pytest.TempPathFactory, sends: list[Any], statuses: list[str]
) -> None:
    """Each waterfall step is a subset of the one before, and the verdicts split the eligible records."""
    with Store(tmp_path_factory.mktemp("wf") / "s.duckdb") as store:
        load_truth(store, [order(f"#{n}", n * 100, status=s) for n, s in enumerate(statuses, start=1)])
        if sends:
            copies = [
                copy(
                    ch, event_id=str(n), minute=n * 100, sent_minute=n * 100 + d, user_data=_ud(n), line_no=i
                )
                for i, (ch, n, d) in enumerate(sends)
            ]
            load(store, copies)
        summary = rc.reconcile_summary(store, ALL)
        counts = [s.count for s in summary.waterfall]
        assert counts == sorted(counts, reverse=True)
        assert sum(summary.verdicts.values()) == summary.truth_count


# --- global links ------------------------------------------------------------------------------------


def test_would_be_pair_partner_passes_its_link(store: Store) -> None:
    """The browser copy has no event_id, no order_id and an fbp the order does not know (no fbp/em link);
    the server copy 2 min later carries event_id 1001 and the same fbp: a would-be pair (not merged: the
    browser copy has no event_id). The browser copy takes #1001 from its partner: both channels, counted
    twice, no phantom."""
    load_truth(store, [order("#1001", 0)])
    load(
        store,
        [
            copy("browser", event_id=None, minute=0, user_data=_ud("shared")),
            copy("server", event_id="1001", minute=2, user_data=_ud("shared")),
        ],
    )
    record = _by_id(store)["#1001"]
    assert (record.verdict, record.counted_copies, record.flags) == (
        "both_channels",
        2,
        ["counted_more_than_once"],
    )
    assert rc.phantoms(store, ALL).total == 0


def test_would_be_pair_with_unlinked_partner_stays_phantom(store: Store) -> None:
    """The same pair whose server copy names no order ('zzz'): nothing to pass on, two phantoms."""
    load_truth(store, [order("#1001", 0)])
    load(
        store,
        [
            copy("browser", event_id=None, minute=0, user_data=_ud("shared")),
            copy("server", event_id="zzz", minute=2, user_data=_ud("shared")),
        ],
    )
    assert _by_id(store)["#1001"].verdict == "none"
    assert rc.phantoms(store, ALL).total == 2


def _midnight_fixture(store: Store) -> None:
    """#1 created Mon 2 Nov 23:55, its server copy sent at 00:02 on Tue 3 Nov (event_time)."""
    load_truth(store, [order("#1", 11 * 60 + 55)])
    load(store, [copy("server", event_id="1", minute=12 * 60 + 2, user_data=_ud(1))])


def test_copy_of_an_order_outside_the_filter_is_no_phantom(store: Store) -> None:
    """From 3 Nov: no record in scope, the copy is in scope and counted (Meta 1) and still linked to #1."""
    _midnight_fixture(store)
    summary = rc.reconcile_summary(store, Scope(date_from=dt.date(2026, 11, 3)))
    assert (summary.records, summary.meta_count, summary.phantom_count) == (0, 1, 0)


def test_record_keeps_its_copy_outside_the_filter(store: Store) -> None:
    """Up to 2 Nov: #1 in scope, its copy is not (Meta 0), yet #1 reached Meta: server only, accuracy 1."""
    _midnight_fixture(store)
    summary = rc.reconcile_summary(store, Scope(date_to=dt.date(2026, 11, 2)))
    assert (summary.truth_count, summary.meta_count, summary.accuracy) == (1, 0, 1.0)
    assert summary.verdicts["server_only"] == 1


@pytest.mark.parametrize("split_day", [2, 3, 4, 9])
def test_scoped_counts_add_up(store: Store, split_day: int) -> None:
    """Links are global, so two complementary date scopes split every count of the unscoped summary:
    records and truth by created_at, Meta copies and phantoms by event_time."""
    _periods_fixture(store)
    # #3 (created 3 Nov 12:00) gets a copy too, so a record and its copy can sit on either side
    load(store, [copy("server", event_id="3", minute=DAY + 5, user_data=_ud(3))], label="copy of #3")
    split = dt.date(2026, 11, split_day)
    whole = rc.reconcile_summary(store, ALL)
    before = rc.reconcile_summary(store, Scope(date_to=split - dt.timedelta(days=1)))
    after = rc.reconcile_summary(store, Scope(date_from=split))
    for field in ("records", "truth_count", "meta_count", "phantom_count", "records_reached"):
        assert getattr(before, field) + getattr(after, field) == getattr(whole, field), field


def test_sql_constants_match_python() -> None:
    """The derived SQL takes no parameters: the constants named in reconcile.py are written into it."""
    links, records = load_query("derived_recon_links"), load_query("derived_recon_records")
    for event, kind in rc.DATASETS:
        assert f"('{event}', '{kind}')" in links
    assert f"linked >= {rc.MIN_KEY_RATE} * copies" in links
    assert f"u.copies >= {rc.REUSED_MIN_COPIES}" in links
    assert f"greatest({rc.VALUE_TOLERANCE_ABS}, {rc.VALUE_TOLERANCE_REL} * abs(r.value))" in records


def test_undo_refreshes_links(store: Store) -> None:
    """Deleting the truth batch removes the record: the copy becomes a phantom again."""
    truth = load_truth(store, [order("#1001", 0)])
    load(store, [copy("server", event_id="1001", user_data=_ud(1))])
    assert rc.phantoms(store, ALL).total == 0
    assert truth.batch_id is not None
    delete_batch(store, truth.batch_id)
    assert rc.phantoms(store, ALL).total == 1
