"""Reconciliation diagnostics (SPEC §5, RECON_*): orders against the Purchase copies Meta would count.

Each check reads the typed results of ``capi_core.metrics.reconcile``; it never runs SQL of its own and
finds nothing when the store holds no orders or the scope filters Purchase out. The checks of one run
share one reconciliation summary (cached per store, batches and scope); beyond it each runs at most one
cheap query (its examples, or the daily series), a filter over the derived reconciliation tables.
Examples are order names as the shop writes them (``#1042``), event_ids for phantoms, days for spikes.

RECON_SPIKE: for every day with at least ``SPIKE_MIN_TRUTH`` eligible orders, the Meta/truth count ratio
is compared with the median ratio of the qualifying days among the previous 7 calendar days (at least
``SPIKE_MIN_BASELINE_DAYS`` of them); the day fires when it exceeds that median by more than
``SPIKE_THRESHOLD`` (0.30 = 30 points, e.g. 1.00 -> 1.35).
"""

from __future__ import annotations

import datetime as dt
import statistics
import weakref
from typing import Any

from capi_core.diagnostics.registry import CHECKS, MAX_EXAMPLES, Finding, check
from capi_core.metrics import reconcile
from capi_core.models import Scope, TruthKind
from capi_core.store import Store

EVENT = "Purchase"
KIND: TruthKind = "order"
SPIKE_MIN_TRUTH = 10
SPIKE_THRESHOLD = 0.30
SPIKE_WINDOW_DAYS = 7
SPIKE_MIN_BASELINE_DAYS = 3


#: per store: the last (batches signature, scope) and its summary, so the seven checks of one report
#: share one reconciliation run instead of running it seven times
_SUMMARIES: weakref.WeakKeyDictionary[Store, tuple[Any, reconcile.ReconSummary]] = weakref.WeakKeyDictionary()


def _summary(store: Store, scope: Scope) -> reconcile.ReconSummary:
    signature = (
        store.query("batches signature", "select count(*), max(batch_id) from batches").rows[0],
        scope,
    )
    cached = _SUMMARIES.get(store)
    if cached is not None and cached[0] == signature:
        return cached[1]
    summary = reconcile.reconcile_summary(store, scope, EVENT)
    _SUMMARIES[store] = (signature, summary)
    return summary


def _applies(store: Store, scope: Scope) -> bool:
    return reconcile.canonical_name_in_scope(scope, EVENT) and reconcile.has_truth(store, KIND)


def _examples(store: Store, scope: Scope, flag: reconcile.Flag) -> list[str]:
    rows = reconcile.record_verdicts(store, scope, flag=flag, limit=MAX_EXAMPLES)
    return [r.raw_id or r.truth_id for r in rows]


def _flag_finding(store: Store, scope: Scope, code: str, flag: reconcile.Flag, what: str) -> list[Finding]:
    if not _applies(store, scope):
        return []
    summary = _summary(store, scope)
    count = summary.flags[flag]
    if not count:
        return []
    share = count / summary.records_reached if summary.records_reached else None
    return [
        CHECKS[code].finding(
            f"{count} of {summary.records_reached} orders that reached Meta {what}",
            count=count,
            share=share,
            examples=_examples(store, scope, flag),
            event_name=EVENT,
        )
    ]


@check(
    "RECON_MISSING",
    "high",
    "Eligible orders (paid, consent not denied) that no Purchase copy reached Meta for, on either channel.",
    "Give the Purchase event one owner on each channel and send it server-side from the order system, so "
    "every paid order emits a CAPI Purchase carrying the order number as order_id and as the shared "
    "event_id the Pixel uses; add it to the event contract as required.",
)
def recon_missing(store: Store, scope: Scope) -> list[Finding]:
    """Eligible orders with no linked copy."""
    if not _applies(store, scope):
        return []
    summary = _summary(store, scope)
    count = summary.verdicts["none"]
    if not count:
        return []
    return [
        CHECKS["RECON_MISSING"].finding(
            f"{count} of {summary.truth_count} eligible orders never reached Meta as a Purchase",
            count=count,
            share=count / summary.truth_count if summary.truth_count else None,
            examples=_examples(store, scope, "missing"),
            event_name=EVENT,
        )
    ]


@check(
    "RECON_PHANTOM",
    "high",
    "Counted Purchase copies that match no order: test events, reused event_ids, events outside the "
    "exported period, or ids the shop does not know.",
    "Only the order system should own Purchase: send it once per real order with the order number as "
    "order_id and shared event_id, never with a test_event_code in production, and never from page "
    "reloads; write this into the event contract.",
)
def recon_phantom(store: Store, scope: Scope) -> list[Finding]:
    """Counted copies with no truth record, with the sub-reason counts in the message."""
    if not _applies(store, scope):
        return []
    summary = _summary(store, scope)
    if not summary.phantom_count:
        return []
    listed = reconcile.phantom_list(store, scope, MAX_EXAMPLES, event_name=EVENT)
    reasons = ", ".join(f"{reason} {n}" for reason, n in summary.phantoms_by_reason.items() if n)
    return [
        CHECKS["RECON_PHANTOM"].finding(
            f"{summary.phantom_count} counted Purchase copies match no order ({reasons})",
            count=summary.phantom_count,
            share=summary.phantom_count / summary.meta_count if summary.meta_count else None,
            examples=[p.event_id or p.order_id or p.fingerprint[:12] for p in listed],
            event_name=EVENT,
        )
    ]


@check(
    "RECON_DOUBLE_COUNTED",
    "critical",
    "Orders Meta would count more than once: copies not merged (missing or different event_id, name "
    "variants, outside 48 h) or same-channel repeats.",
    "Share one event_id per order between the Pixel and CAPI (the order number, same form on both), send "
    "the exact event name on both channels, and give each channel one owner so retries and reloads do "
    "not resend; pin both in the event contract.",
)
def recon_double_counted(store: Store, scope: Scope) -> list[Finding]:
    """Records with more than one counted copy."""
    return _flag_finding(
        store, scope, "RECON_DOUBLE_COUNTED", "counted_more_than_once", "are counted more than once"
    )


@check(
    "RECON_NOT_PAID_SENT",
    "medium",
    "Purchase copies sent for orders whose latest status is pending, refunded, cancelled or test.",
    "Make the order system the owner of Purchase and fire it on payment, not at checkout; state in the "
    "event contract which statuses send a Purchase (paid only).",
)
def recon_not_paid_sent(store: Store, scope: Scope) -> list[Finding]:
    """Records with copies whose status is not paid."""
    return _flag_finding(
        store,
        scope,
        "RECON_NOT_PAID_SENT",
        "not_paid_sent",
        "are not paid (pending, refunded, cancelled or test)",
    )


@check(
    "RECON_VALUE_MISMATCH",
    "medium",
    "The value Meta counts for an order differs from the order's total (or subtotal, under that value "
    "policy) by more than max(0.01, 1 %).",
    "Declare one value policy (total or subtotal, with or without tax and shipping) in the event contract "
    "and have the one owner of Purchase compute value from the order record on both channels.",
)
def recon_value_mismatch(store: Store, scope: Scope) -> list[Finding]:
    """Records whose counted value is off."""
    return _flag_finding(
        store, scope, "RECON_VALUE_MISMATCH", "value_mismatch", "carry a value that differs from the order"
    )


@check(
    "RECON_CURRENCY_MISMATCH",
    "high",
    "The currency Meta counts for an order differs from the order's currency (compared case-insensitively).",
    "Send the order's own ISO 4217 currency from the order record, not the store default or the visitor's "
    "display currency; make currency a required field of the Purchase event contract.",
)
def recon_currency_mismatch(store: Store, scope: Scope) -> list[Finding]:
    """Records whose counted currency is off."""
    return _flag_finding(
        store, scope, "RECON_CURRENCY_MISMATCH", "currency_mismatch", "carry another currency than the order"
    )


def spike_days(rows: list[reconcile.PeriodRow]) -> list[tuple[dt.date, float, float]]:
    """(day, ratio, baseline median) of every day whose Meta/truth ratio jumps (module docstring)."""
    ratios = {r.period: r.meta_count / r.truth_count for r in rows if r.truth_count >= SPIKE_MIN_TRUTH}
    spikes: list[tuple[dt.date, float, float]] = []
    for day, ratio in sorted(ratios.items()):
        previous = [
            ratios[d]
            for offset in range(1, SPIKE_WINDOW_DAYS + 1)
            if (d := day - dt.timedelta(days=offset)) in ratios
        ]
        if len(previous) < SPIKE_MIN_BASELINE_DAYS:
            continue
        baseline = statistics.median(previous)
        # rounded so that 1.3 - 1.0 is not a hair above 0.30
        if round(ratio - baseline, 9) > SPIKE_THRESHOLD:
            spikes.append((day, ratio, baseline))
    return spikes


@check(
    "RECON_SPIKE",
    "high",
    "A day whose Meta/truth Purchase ratio exceeds the median of the previous 7 days by more than 30 "
    "points (days with at least 10 orders): the go-live signature of a dedup failure.",
    "Look at what shipped that day: a new owner of Purchase (an app, a tag, a server integration) "
    "sending without the shared event_id, or a renamed event. Restore one owner per channel and the "
    "event contract's shared event_id.",
)
def recon_spike(store: Store, scope: Scope) -> list[Finding]:
    """Days where the Meta/truth ratio jumps above its trailing median."""
    if not _applies(store, scope):
        return []
    spikes = spike_days(reconcile.daily(store, scope, EVENT))
    if not spikes:
        return []
    day, ratio, baseline = spikes[0]
    return [
        CHECKS["RECON_SPIKE"].finding(
            f"Meta/truth Purchase ratio jumped to {ratio:.2f} on {day.isoformat()} "
            f"(median of the previous days {baseline:.2f}); {len(spikes)} such day(s)",
            count=len(spikes),
            examples=[d.isoformat() for d, _, _ in spikes],
            event_name=EVENT,
        )
    ]
