"""RECON_* diagnostics: each fires on a hand-built defect, and a clean store has no recon finding."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from factories import UA, copy, load, load_truth, order

from capi_core.diagnostics import CHECKS, Finding, run_checks
from capi_core.diagnostics.recon_checks import spike_days
from capi_core.metrics.reconcile import PeriodRow
from capi_core.models import Scope
from capi_core.store import Store

ALL = Scope()
DAY = 24 * 60
RECON = [code for code in CHECKS if code.startswith("RECON_") or code == "PAIR_VALUE_DISAGREES"]


def _ud(n: int | str) -> dict[str, Any]:
    return {"fbp": f"fb.1.1762000000000.{n}", "client_user_agent": UA}


def _pair(n: int, minute: float, **custom: Any) -> list[Any]:
    """A browser + server copy of order #n sharing event_id n (Meta merges them)."""
    data = {"value": 50.0, "currency": "USD", **custom}
    return [
        copy("browser", event_id=str(n), minute=minute, user_data=_ud(n), custom_data=data),
        copy("server", event_id=str(n), minute=minute + 1, user_data=_ud(n), custom_data=data),
    ]


def _one(store: Store, code: str) -> Finding:
    findings = CHECKS[code].run(store, ALL)
    assert len(findings) == 1, findings
    return findings[0]


def test_clean_store_has_no_recon_finding(store: Store) -> None:
    load_truth(store, [order(f"#{n}", n * 60) for n in range(1, 4)])
    load(store, [c for n in range(1, 4) for c in _pair(n, n * 60)])
    assert run_checks(store, ALL, RECON) == []


def test_no_truth_no_finding(store: Store) -> None:
    load(store, _pair(1, 0))
    assert run_checks(store, ALL, RECON) == []


def test_fires_RECON_MISSING(store: Store) -> None:
    """#1041 sent as a merged pair, #1042 never sent: 1 of 2 eligible."""
    load_truth(store, [order("#1041", 0), order("#1042", 60)])
    load(store, _pair(1041, 0))
    finding = _one(store, "RECON_MISSING")
    assert (finding.count, finding.share, finding.examples) == (1, 0.5, ["#1042"])


def test_fires_RECON_PHANTOM(store: Store) -> None:
    """#1 merged (1 counted) + a server copy 'ghost-7' matching no order: 1 phantom of 2 counted."""
    load_truth(store, [order("#1", 0)])
    load(store, [*_pair(1, 0), copy("server", event_id="ghost-7", minute=30, user_data=_ud(7))])
    finding = _one(store, "RECON_PHANTOM")
    assert (finding.count, finding.share, finding.examples) == (1, 0.5, ["ghost-7"])
    assert "unknown_id 1" in finding.message


def test_fires_RECON_DOUBLE_COUNTED(store: Store) -> None:
    """#2 has a server retry 3 min later (same-channel repeat, both counted): 1 of 2 reached records."""
    load_truth(store, [order("#1", 0), order("#2", 60)])
    retry = copy("server", event_id="2", minute=60, sent_minute=64, user_data=_ud(2))
    load(store, [*_pair(1, 0), copy("server", event_id="2", minute=60, user_data=_ud(2)), retry])
    finding = _one(store, "RECON_DOUBLE_COUNTED")
    assert (finding.count, finding.share, finding.examples, finding.severity) == (1, 0.5, ["#2"], "critical")


def test_fires_RECON_NOT_PAID_SENT(store: Store) -> None:
    load_truth(store, [order("#1", 0), order("#2", 60, status="cancelled")])
    load(store, [*_pair(1, 0), *_pair(2, 60)])
    finding = _one(store, "RECON_NOT_PAID_SENT")
    assert (finding.count, finding.share, finding.examples) == (1, 0.5, ["#2"])


def test_fires_RECON_VALUE_MISMATCH(store: Store) -> None:
    """#2 sends 40 against a total of 50: off by 10 > max(0.01, 0.5)."""
    load_truth(store, [order("#1", 0), order("#2", 60)])
    load(store, [*_pair(1, 0), *_pair(2, 60, value=40.0)])
    finding = _one(store, "RECON_VALUE_MISMATCH")
    assert (finding.count, finding.examples) == (1, ["#2"])


def test_fires_RECON_CURRENCY_MISMATCH(store: Store) -> None:
    load_truth(store, [order("#1", 0), order("#2", 60)])
    load(store, [*_pair(1, 0, currency="usd"), *_pair(2, 60, currency="EUR")])
    finding = _one(store, "RECON_CURRENCY_MISMATCH")
    assert (finding.count, finding.examples) == (1, ["#2"])


def test_fires_PAIR_VALUE_DISAGREES(store: Store) -> None:
    """#2's browser copy sends the total (50), its server copy the subtotal (45): Meta keeps the browser
    copy (no RECON_VALUE_MISMATCH), the pair disagrees: 1 of 2 orders sent on both channels."""
    load_truth(store, [order("#1", 0), order("#2", 60)])
    browser, server = _pair(2, 60)
    server.custom_data = {**server.custom_data, "value": 45.0}  # the two copies share one dict
    load(store, [*_pair(1, 0), browser, server])
    assert CHECKS["RECON_VALUE_MISMATCH"].run(store, ALL) == []
    finding = _one(store, "PAIR_VALUE_DISAGREES")
    assert (finding.count, finding.share, finding.severity) == (1, 0.5, "medium")
    assert finding.examples == ["#2: browser 50.00 USD, server 45.00 USD"]


def test_fires_RECON_SPIKE(store: Store) -> None:
    """10 orders a day for 8 days. Days 1-7: one server copy each (ratio 1.0). Day 8 (9 Nov): the browser
    sends 'purchase_<n>' and the server '<n>' (two dedup keys, both counted): ratio 2.0 > 1.0 + 0.30."""
    orders, copies = [], []
    for day in range(8):
        for i in range(10):
            n, minute = day * 100 + i, day * DAY + i * 30
            orders.append(order(f"#{n}", minute, line_no=n))
            copies.append(copy("server", event_id=str(n), minute=minute, user_data=_ud(n), line_no=2 * n))
            if day == 7:
                browser = copy(
                    "browser", event_id=f"purchase_{n}", minute=minute, user_data=_ud(n), line_no=2 * n + 1
                )
                copies.append(browser)
    load_truth(store, orders)
    load(store, copies)
    finding = _one(store, "RECON_SPIKE")
    assert (finding.count, finding.examples) == (1, ["2026-11-09"])


def _days(ratios: list[float | None], truth: int = 10) -> list[PeriodRow]:
    start = dt.date(2026, 11, 2)
    return [
        PeriodRow(
            period=start + dt.timedelta(days=i),
            label="",
            truth_count=truth,
            truth_value=0,
            meta_count=round(r * truth),
            meta_value=0,
            gap_pct=None,
            value_gap_pct=None,
            reached=0,
            accuracy=None,
        )
        for i, r in enumerate(ratios)
        if r is not None
    ]


@pytest.mark.parametrize(
    ("ratios", "truth", "expected"),
    [
        ([1.0] * 7 + [1.4], 10, [dt.date(2026, 11, 9)]),  # +40 points over a median of 1.0
        ([1.0] * 7 + [1.3], 10, []),  # +30 points: not more than the threshold
        ([1.0] * 7 + [2.0], 9, []),  # under 10 truth records a day: no ratio
        ([1.0, 1.0, 2.0], 10, []),  # only 2 baseline days
        ([1.0] * 3 + [2.0] * 5, 10, [dt.date(2026, 11, d) for d in (5, 6, 7, 8)]),  # the median catches up
        ([1.0, 1.0, None, 1.0, 1.5], 10, [dt.date(2026, 11, 6)]),  # a gap day is skipped, 3 baseline days
    ],
)
def test_spike_days(ratios: list[float | None], truth: int, expected: list[dt.date]) -> None:
    """Baseline = median ratio of the qualifying days among the previous 7; fires above +0.30.

    'The median catches up': 2.0 from 5 Nov; medians 1.0 (5, 6, 7 Nov), 1.5 (8 Nov: 1,1,1,2,2,2) fire;
    9 Nov's previous seven are 1,1,1,2,2,2,2 -> 2.0: no longer a jump."""
    assert [d for d, _, _ in spike_days(_days(ratios, truth))] == expected
