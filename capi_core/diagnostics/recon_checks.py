"""Reconciliation diagnostics (SPEC §5, RECON_*): orders against the Purchase copies Meta would count.

Each check reads the typed results of ``capi_core.metrics.reconcile``; it never runs SQL of its own and
finds nothing when the store holds no orders or the scope filters Purchase out. The checks of one run
share one reconciliation summary (cached per store, batches and scope); beyond it each runs at most one
cheap query (its examples, or the daily series), a filter over the derived reconciliation tables.
Examples are order names as the shop writes them (``#1042``), event_ids for phantoms, days for spikes;
PAIR_VALUE_DISAGREES shows each order's figures per channel (``#1042: browser 50.00 USD, server 45.00
USD``). RECON_PHANTOM's fix speaks to the sub-reasons found (``PHANTOM_FIXES``): a real order's copy
that names no order needs its order number, not a warning about test codes. The checks that count one
reconciliation flag (double counted, not paid, value or currency mismatch) are each one ``_flag_check``
call.

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

from capi_core.diagnostics.registry import CHECKS, MAX_EXAMPLES, CheckFn, Finding, Severity, check
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


def _applicable_summary(store: Store, scope: Scope) -> reconcile.ReconSummary | None:
    """The scope's reconciliation summary; None when there is nothing to reconcile (no orders in the
    store, or a scope that filters Purchase out)."""
    return _summary(store, scope) if _applies(store, scope) else None


def _examples(store: Store, scope: Scope, flag: reconcile.Flag) -> list[str]:
    rows = reconcile.record_verdicts(store, scope, flag=flag, limit=MAX_EXAMPLES)
    return [r.raw_id or r.truth_id for r in rows]


def _flag_check(
    code: str, severity: Severity, description: str, fix: str, *, flag: reconcile.Flag, what: str
) -> CheckFn:
    """Register the check ``code`` that counts the orders reaching Meta with ``flag``: "<n> of <reached>
    orders that reached Meta <what>", one finding for the scope, the flagged orders as examples."""

    @check(code, severity, description, fix)
    def flagged_orders(store: Store, scope: Scope) -> list[Finding]:
        summary = _applicable_summary(store, scope)
        if summary is None or not summary.flags[flag]:
            return []
        count, reached = summary.flags[flag], summary.records_reached
        return [
            CHECKS[code].finding(
                f"{count} of {reached} orders that reached Meta {what}",
                count=count,
                share=count / reached if reached else None,
                examples=_examples(store, scope, flag),
                event_name=EVENT,
            )
        ]

    return flagged_orders


@check(
    "RECON_MISSING",
    "high",
    "Eligible orders (paid, consent not denied, from a sales channel a pixel sees) that no Purchase copy "
    "reached Meta for, on either channel.",
    "Give the Purchase event one owner on each channel and send it server-side from the order system, so "
    "every paid order emits a CAPI Purchase carrying the order number as order_id and as the shared "
    "event_id the Pixel uses; add it to the event contract as required.",
)
def recon_missing(store: Store, scope: Scope) -> list[Finding]:
    """Eligible orders with no linked copy."""
    summary = _applicable_summary(store, scope)
    if summary is None or not summary.verdicts["none"]:
        return []
    count = summary.verdicts["none"]
    left_out = [c for c in summary.channels if not c.eligible and c.orders]
    outside = (
        " (not eligible, from channels no pixel sees: "
        + ", ".join(f"{c.channel} {c.orders}" for c in left_out)
        + ")"
        if left_out
        else ""
    )
    return [
        CHECKS["RECON_MISSING"].finding(
            f"{count} of {summary.truth_count} eligible orders never reached Meta as a Purchase{outside}",
            count=count,
            share=count / summary.truth_count if summary.truth_count else None,
            examples=_examples(store, scope, "missing"),
            event_name=EVENT,
        )
    ]


#: RECON_PHANTOM's catalog fix speaks to copies that name an order (test codes, reused or unknown ids);
#: these sub-reasons need their own words, and a finding made only of them gets only those.
PHANTOM_FIXES: dict[str, str] = {
    "outside_truth_window": "Export the orders of the whole period the events cover and ingest that export: "
    "some copies fall outside the orders loaded.",
    "no_order_key": "Send the order number with every Purchase, as order_id on the server and as the "
    "Pixel's eventID shared with the server copy, and keep the browser's fbp on the order (note "
    "attributes) so a copy without them can still be linked.",
}


@check(
    "RECON_PHANTOM",
    "high",
    "Counted Purchase copies that match no order: test events, reused event_ids, events outside the "
    "exported period, copies that name no order (no order_id nor event_id, and no fbp or hashed email "
    "of an order within 10 minutes), or ids the shop does not know.",
    "Only the order system should own Purchase: send it once per real order with the order number as "
    "order_id and shared event_id, never with a test_event_code in production, and never from page "
    "reloads; write this into the event contract.",
)
def recon_phantom(store: Store, scope: Scope) -> list[Finding]:
    """Counted copies with no truth record, with the sub-reason counts in the message; the fix speaks to
    the sub-reasons found (``PHANTOM_FIXES``)."""
    summary = _applicable_summary(store, scope)
    if summary is None or not summary.phantom_count:
        return []
    listed = reconcile.phantom_list(store, scope, MAX_EXAMPLES, event_name=EVENT)
    found = [reason for reason, n in summary.phantoms_by_reason.items() if n]
    reasons = ", ".join(f"{reason} {summary.phantoms_by_reason[reason]}" for reason in found)
    check = CHECKS["RECON_PHANTOM"]
    fixes = [check.fix] if any(r not in PHANTOM_FIXES for r in found) else []
    fixes += [PHANTOM_FIXES[r] for r in found if r in PHANTOM_FIXES]
    return [
        check.finding(
            f"{summary.phantom_count} counted Purchase copies match no order ({reasons})",
            count=summary.phantom_count,
            share=summary.phantom_count / summary.meta_count if summary.meta_count else None,
            examples=[p.event_id or p.order_id or p.fingerprint[:12] for p in listed],
            event_name=EVENT,
            fix=" ".join(fixes),
        )
    ]


recon_double_counted = _flag_check(
    "RECON_DOUBLE_COUNTED",
    "critical",
    "Orders Meta would count more than once: copies not merged (missing or different event_id, name "
    "variants, outside 48 h) or same-channel repeats.",
    "Share one event_id per order between the Pixel and CAPI (the order number, same form on both), send "
    "the exact event name on both channels, and give each channel one owner so retries and reloads do "
    "not resend; pin both in the event contract.",
    flag="counted_more_than_once",
    what="are counted more than once",
)
recon_not_paid_sent = _flag_check(
    "RECON_NOT_PAID_SENT",
    "medium",
    "Purchase copies sent for orders whose latest status is pending, refunded, cancelled or test.",
    "Make the order system the owner of Purchase and fire it on payment, not at checkout; state in the "
    "event contract which statuses send a Purchase (paid only).",
    flag="not_paid_sent",
    what="are not paid (pending, refunded, cancelled or test)",
)
recon_value_mismatch = _flag_check(
    "RECON_VALUE_MISMATCH",
    "medium",
    "The value Meta counts for an order differs from the order's total (or subtotal, under that value "
    "policy) by more than max(0.01, 1 %).",
    "Declare one value policy (total or subtotal, with or without tax and shipping) in the event contract "
    "and have the one owner of Purchase compute value from the order record on both channels.",
    flag="value_mismatch",
    what="carry a value that differs from the order",
)
recon_currency_mismatch = _flag_check(
    "RECON_CURRENCY_MISMATCH",
    "high",
    "The currency Meta counts for an order differs from the order's currency (compared case-insensitively).",
    "Send the order's own ISO 4217 currency from the order record, not the store default or the visitor's "
    "display currency; make currency a required field of the Purchase event contract.",
    flag="currency_mismatch",
    what="carry another currency than the order",
)


def _figures(
    low: float | None, high: float | None, currency_low: str | None, currency_high: str | None
) -> str:
    value = "no value" if low is None or high is None else f"{low:,.2f}"
    if low is not None and high is not None and high != low:
        value += f"-{high:,.2f}"
    currency = currency_low or "no currency"
    if currency_high and currency_high != currency_low:
        currency += f"/{currency_high}"
    return f"{value} {currency}"


def pair_example(record: reconcile.RecordVerdict) -> str:
    """``#1042: browser 50.00 USD, server 45.00 USD`` (ranges when a channel sent several figures)."""
    browser = _figures(
        record.browser_value_min, record.browser_value_max,
        record.browser_currency_min, record.browser_currency_max,
    )  # fmt: skip
    server = _figures(
        record.server_value_min,
        record.server_value_max,
        record.server_currency_min,
        record.server_currency_max,
    )
    return f"{record.raw_id or record.truth_id}: browser {browser}, server {server}"


@check(
    "PAIR_VALUE_DISAGREES",
    "medium",
    "An order's browser and server Purchase copies carry different values (apart by more than max(0.01, "
    "1 %) of the larger) or different currencies. Invisible while Meta keeps the browser copy; the day "
    "the browser copy is blocked, Meta books the server copy's figure (RECON_VALUE_MISMATCH judges what "
    "Meta books today). High when a currency differs.",
    "Give value and currency one owner and one definition: the event contract's value policy (total or "
    "subtotal, with or without tax and shipping) and the order's own currency, computed from the order "
    "record for both the Pixel and the server copy, so the shared event_id carries the same figures on "
    "both channels.",
)
def pair_value_disagrees(store: Store, scope: Scope) -> list[Finding]:
    """Records whose browser and server copies disagree on value or currency, with both figures."""
    summary = _applicable_summary(store, scope)
    if summary is None or not summary.flags["pair_disagrees"]:
        return []
    count = summary.flags["pair_disagrees"]
    parts = [
        f"{n} by {what}"
        for n, what in (
            (summary.pair_value_disagrees, "value"),
            (summary.pair_currency_disagrees, "currency"),
        )
        if n
    ]
    rows = reconcile.record_verdicts(store, scope, flag="pair_disagrees", limit=MAX_EXAMPLES)
    return [
        CHECKS["PAIR_VALUE_DISAGREES"].finding(
            f"{count} of {summary.records_both_channels} orders sent on both channels carry other figures "
            f"in the browser copy than in the server copy ({', '.join(parts)})",
            count=count,
            share=count / summary.records_both_channels if summary.records_both_channels else None,
            examples=[pair_example(r) for r in rows],
            severity="high" if summary.pair_currency_disagrees else None,
            event_name=EVENT,
        )
    ]


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
