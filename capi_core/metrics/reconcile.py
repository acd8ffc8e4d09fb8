"""Reconciliation (SPEC §4): backend truth against what Meta would count, as typed results.

Owns the parameters and result models of the ``recon_*.sql`` queries. Linking, verdicts and flags are
computed once per change of the store, over the whole store, into derived tables (``truth_current``,
``copy_truth_links``, ``truth_verdicts``: ``queries/derived_recon_*.sql``, rebuilt by ``derived.refresh``);
the scoped queries here only filter and group them, and only aggregates or bounded lists come back. It
must not touch DuckDB directly, nor compute per-row facts in Python.

Decisions where the spec is silent (the report and the docs repeat them):

- Truth status: a record repeated across batches (overlapping exports) is read from its latest batch
  (highest batch_id, then highest line).
- Links are global: a copy links to its record whatever the date filter (a copy whose order was created
  just outside the filter is not a phantom), and a record's verdict and flags count every copy linked to
  it, whatever its date, pixel or name. A scope picks records by created_at and copies (Meta counts,
  phantoms, join-key rates) by event_time, pixel and name.
- Join key: candidates in SPEC order (``order_id``, ``event_id``, ``event_id_token``), led for leads by
  ``lead_id`` (Meta's Lead Ads id in user_data, when the CRM keeps it as the record id); the chosen key is
  the first that links at least ``MIN_KEY_RATE`` of the dataset's copies in the whole store, else the one
  that links the most; its match rate is reported over the copies in scope. A copy links by the chosen
  key first, then by the other keys; a token is a maximal run of letters and digits (or of letters,
  digits and dashes) of the normalized event_id.
- Without a key (no key link and no order_id / lead_id): the partner's link when the copy is one half of a
  would-be pair (``dedup_would_be_pairs.sql``) whose other half is linked, else the record's fbp, then
  hashed email, within 10 minutes of the record's created_at (the checkout moment; paid_at can lag by
  days); copies Meta folds into one conversion (same kept copy, same event_id window) share one link.
- Value: a counted copy whose value differs from the truth value (``total`` or ``subtotal`` policy) by
  more than max(0.01, 1 %) flags the record; Meta books the kept copy, whichever channel it came from.
  The pair (``pair_disagrees``, PAIR_VALUE_DISAGREES): the record's browser copies against its server
  copies, counted or not, by the same tolerance (of the larger value), or by currency code.
- Eligible: status paid (orders) or any stage but test (leads: "paid" does not apply, and a lead that is
  later disqualified was still a real form fill), not from a sales channel no pixel sees (orders:
  ``NON_PIXEL_CHANNELS`` and the store's own list, ``settings.order_channels``; a missing or unknown
  channel stays eligible), and no linked copy logged consent as denied (truth rows carry no consent). A
  lead record is never "not_paid_sent".
- Pixel filter: the records' facts come from that pixel's copies only, and a pixel that never received
  the dataset's event has no records in scope (no missing orders, no truth finding).
- Meta count: every counted copy of the event (name variants included: they reached Meta), by event_time.
- Values: never added across currencies. The headline speaks in the store's report currency
  (``settings.report_currency``), else the currency of most eligible records, else of most counted
  copies; values naming no currency count in it; another currency is added only converted with a rate
  the store was given, and is otherwise listed apart (``values_by_currency``).
- Reused id (a phantom sub-reason): the event_id is carried by a linked copy too, or by at least
  ``REUSED_MIN_COPIES`` copies of the event in the whole store. ``no_order_key``: the copy names no record
  at all (no order_id, lead_id nor event_id) and no fbp / hashed email linked it; ``unknown_id``: it
  names one the truth does not hold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from capi_core import settings
from capi_core.models import Scope, TruthKind
from capi_core.queries import load_query
from capi_core.store import Results, Store

JoinKeyName = Literal["lead_id", "order_id", "event_id", "event_id_token"]
Verdict = Literal["both_channels", "browser_only", "server_only", "none"]
Flag = Literal[
    "counted_more_than_once",
    "value_mismatch",
    "currency_mismatch",
    "not_paid_sent",
    "late_2h",
    "late_24h",
    "name_variant",
    "consent_denied",
    "pair_disagrees",
    "missing",
]
PhantomReason = Literal["test_code", "reused_id", "outside_truth_window", "no_order_key", "unknown_id"]
#: Why an order's channel is in or out: a web checkout, a channel no pixel sees (built in), the store's
#: own exclusion or inclusion, or a channel we cannot place (an app id: eligible unless the store says not).
ChannelRule = Literal["web", "no_pixel", "store_excluded", "store_included", "unplaced"]
ValuePolicy = Literal["total", "subtotal"]

VERDICTS: tuple[Verdict, ...] = ("both_channels", "browser_only", "server_only", "none")
#: Record flags (``missing`` is a filter only: an eligible record with no copy).
FLAGS: tuple[str, ...] = (
    "counted_more_than_once", "value_mismatch", "currency_mismatch", "not_paid_sent",
    "late_2h", "late_24h", "name_variant", "consent_denied", "pair_disagrees",
)  # fmt: skip
PHANTOM_REASONS: tuple[PhantomReason, ...] = (
    "test_code", "reused_id", "outside_truth_window", "no_order_key", "unknown_id",
)  # fmt: skip
#: Sales channels of web checkouts, where the Pixel fires: Shopify's online store (``Source`` web),
#: WooCommerce's classic and block checkouts (``created_via`` checkout, store-api).
WEB_CHANNELS: tuple[str, ...] = ("web", "checkout", "store-api")
#: Sales channels no pixel sees, so their orders are not eligible (written into derived_recon_truth.sql;
#: a test checks the SQL says the same): Shopify Point of Sale, draft orders (created by staff),
#: subscription renewals (subscription_contract) and TikTok Shop (Source tiktok); WooCommerce orders
#: created in the admin and subscription renewals (created_via admin, subscription). A store excludes
#: more (an app id such as a marketplace) or puts one back with ``settings.set_order_channels``.
NON_PIXEL_CHANNELS: tuple[str, ...] = (
    "pos", "shopify_draft_order", "subscription_contract", "tiktok", "admin", "subscription",
)  # fmt: skip

# The next four constants are written into derived_recon_*.sql (derived tables take no parameters); they
# are named here for the report and the docs, and a test checks the SQL still says the same.
MIN_KEY_RATE = 0.5  # a key linking half the copies is the dataset's key, even if a looser one links more
VALUE_TOLERANCE_ABS = 0.01
VALUE_TOLERANCE_REL = 0.01
REUSED_MIN_COPIES = 4  # more copies than a browser + server pair and a retry: the id is not one conversion
DEFAULT_LIMIT = 500
#: (event, truth kind) pairs the report reconciles by default (one event per kind); the ``datasets`` of
#: derived_recon_links.sql must name the same pairs. The lead event is a per-store setting
#: (``settings.lead_event``, e.g. CompleteRegistration): read a store's pairs with ``datasets(store)``.
DATASETS: tuple[tuple[str, TruthKind], ...] = (("Purchase", "order"), (settings.DEFAULT_LEAD_EVENT, "lead"))

_PARAM = re.compile(r"\$([a-z_]+)")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class KeyCandidate(_Frozen):
    """One candidate join key: copies it links to a truth record."""

    key: JoinKeyName
    linked: int
    match_rate: float | None  # linked / copies of the event; None without copies


class JoinKeyResolution(_Frozen):
    """The join key of one dataset (event <-> truth kind) and the match rate of every candidate."""

    event_name: str
    kind: TruthKind
    copies: int
    key: JoinKeyName | None  # None when no candidate links any copy
    match_rate: float | None
    candidates: list[KeyCandidate]


class RecordVerdict(_Frozen):
    """One truth record against the copies linked to it."""

    truth_id: str
    raw_id: str | None
    created_at: dt.datetime | None
    status: str | None
    eligible: bool
    truth_value: float | None
    currency: str | None
    sales_channel: str | None
    channel_excluded: bool
    verdict: Verdict
    copies: int
    browser_copies: int
    server_copies: int
    counted_copies: int
    meta_value: float | None
    first_server_at: dt.datetime | None
    # the pair's figures (PAIR_VALUE_DISAGREES): the range of values and currency codes per channel
    browser_value_min: float | None
    browser_value_max: float | None
    server_value_min: float | None
    server_value_max: float | None
    browser_currency_min: str | None
    browser_currency_max: str | None
    server_currency_min: str | None
    server_currency_max: str | None
    flags: list[str]


class Phantom(_Frozen):
    """A counted copy that links to no truth record."""

    fingerprint: str
    occurrence: int
    channel: str
    pixel_id: str | None
    event_name: str | None
    event_id: str | None
    order_id: str | None
    event_time: dt.datetime | None
    value: float | None
    currency: str | None
    reason: PhantomReason


class PhantomReport(_Frozen):
    """Phantom copies: total, per sub-reason, and a bounded list."""

    total: int
    by_reason: dict[str, int]
    copies: list[Phantom]


class PeriodRow(_Frozen):
    """Truth against the estimated Meta count in one day or ISO week (values in ``currency``)."""

    period: dt.date  # the day, or the Monday of the ISO week
    label: str  # 2026-11-02, or 2026-W45
    truth_count: int
    truth_value: float
    meta_count: int
    meta_value: float
    gap_pct: float | None  # (meta - truth) / truth; None when truth is 0
    value_gap_pct: float | None
    reached: int
    accuracy: float | None  # eligible records reaching Meta / eligible records
    currency: str | None = None


class WaterfallStep(_Frozen):
    """One step of the truth -> counted-exactly-once waterfall."""

    step: str
    count: int
    share_of_previous: float | None
    share_of_truth: float | None


class CurrencyValues(_Frozen):
    """Eligible records and counted copies in one currency: values are never added across currencies."""

    currency: str | None  # the code, upper-cased; None for records / copies that name no currency
    truth_count: int
    truth_value: float
    meta_count: int
    meta_value: float
    #: into the headline currency: 1 for it (and for values naming none), the store's rate for a
    #: converted one, None when left out of the headline
    rate: float | None


class ChannelCount(_Frozen):
    """The orders in scope from one sales channel, and whether the channel makes them eligible."""

    channel: str
    records: int
    orders: int  # records whose status alone would make them eligible
    eligible: bool
    rule: ChannelRule


class ReconSummary(_Frozen):
    """The reconciliation block of the report for one event (SPEC §6)."""

    event_name: str
    kind: TruthKind
    value_policy: ValuePolicy
    join_key: JoinKeyName | None
    join_match_rate: float | None
    records: int  # every record in scope, eligible or not
    records_reached: int  # records in scope with at least one linked copy
    truth_count: int  # eligible records
    truth_value: float
    meta_count: int
    meta_value: float
    gap_pct: float | None
    value_gap_pct: float | None
    accuracy: float | None
    verdicts: dict[str, int]  # over eligible records
    flags: dict[str, int]  # over every record in scope
    waterfall: list[WaterfallStep]
    phantom_count: int
    phantoms_by_reason: dict[str, int]
    name_variant_copies: int  # counted copies under a case/spacing variant of the name
    currency: str | None = None  # of truth_value and meta_value (None: no record or copy names one)
    values_by_currency: list[CurrencyValues] = []
    channels: list[ChannelCount] = []  # orders per sales channel (records naming one)
    records_both_channels: int = 0  # records in scope with copies on both channels
    pair_value_disagrees: int = 0  # records whose browser and server copies carry different values
    pair_currency_disagrees: int = 0  # ... different currencies


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _gap(meta: float, truth: float) -> float | None:
    return (meta - truth) / truth if truth else None


DERIVED = ("truth_current", "copy_truth_links", "truth_verdicts")


@cache
def _chain(name: str, by_pixel: bool) -> str:
    sql = load_query(name)
    if by_pixel:
        # the same query with the pixel's own record facts in place of truth_verdicts: one fragment or
        # the other, chosen here, so a report without a pixel filter never pays for the pixel's aggregation
        store_wide = load_query("fragments/scoped_records")
        if sql.count(store_wide) != 1:
            raise ValueError(f"{name}.sql must include fragments/scoped_records once")
        sql = sql.replace(store_wide, load_query("fragments/scoped_records_pixel"))
    return sql


def chained_query(name: str, scope: Scope) -> str:
    """The text of ``<name>.sql`` (a recon_*.sql query over ``fragments/recon_base.sql``), with the records
    a pixel filter narrows to that pixel's copies when ``scope`` names one
    (fragments/scoped_records_pixel.sql in place of fragments/scoped_records.sql)."""
    return _chain(name, scope.pixel_id is not None)


def derived_ready(store: Store) -> bool:
    # derived tables are built when a writable store opens; a read-only store built by an older version
    # may lack them, and then there is nothing to reconcile yet
    found = store.query(
        "recon derived tables exist",
        "select count(*) from information_schema.tables where list_contains($names, table_name)",
        {"names": list(DERIVED)},
    ).scalar()
    return bool(found == len(DERIVED))


def datasets(store: Store) -> tuple[tuple[str, TruthKind], ...]:
    """The (event, truth kind) pairs ``store`` reconciles: Purchase -> orders, its lead event -> leads."""
    return tuple((settings.lead_event(store) if kind == "lead" else name, kind) for name, kind in DATASETS)


def dataset_event(event_name: str, pairs: tuple[tuple[str, TruthKind], ...] = DATASETS) -> str:
    """The canonical event of the dataset ``event_name`` belongs to (``purchase`` -> ``Purchase``)."""
    key = event_name.strip().replace(" ", "").lower()
    return next((name for name, _ in pairs if name.replace(" ", "").lower() == key), event_name)


def _run(
    store: Store,
    name: str,
    scope: Scope,
    *,
    event_name: str,
    kind: TruthKind,
    value_policy: ValuePolicy = "total",
    **extra: Any,
) -> Results:
    if not derived_ready(store):
        return Results([], [])
    sql = chained_query(name, scope)
    params: dict[str, Any] = {
        **scope.params(),
        "event_name": dataset_event(event_name, datasets(store)),
        "kind": kind,
        "value_policy": value_policy,
        **extra,
    }
    # DuckDB rejects parameters the statement does not use, and each chain uses a different subset
    used = set(_PARAM.findall(sql))
    return store.query(name, sql, {k: v for k, v in params.items() if k in used})


def has_truth(store: Store, kind: TruthKind = "order") -> bool:
    """Whether the store holds any truth record of ``kind`` (no truth: nothing to reconcile against)."""
    found = store.query(
        "has truth",
        "select exists (select 1 from truth where kind = $kind and truth_id is not null)",
        {"kind": kind},
    ).scalar()
    return bool(found)


def canonical_name_in_scope(scope: Scope, event_name: str) -> bool:
    """Whether the scope's event-name filter lets any case/spacing variant of ``event_name`` through."""
    if not scope.event_names:
        return True
    wanted = event_name.strip().replace(" ", "").lower()
    return any(name.strip().replace(" ", "").lower() == wanted for name in scope.event_names)


def join_key(
    store: Store, scope: Scope, event_name: str = "Purchase", kind: TruthKind = "order"
) -> JoinKeyResolution:
    """Resolve the join key between copies of ``event_name`` and truth records of ``kind``.

    Returns:
        The dataset's key (chosen over the whole store) with its match rate over the copies in scope,
        and the match rate of every candidate key; no key when no copy is in scope.
    """
    rows = _run(store, "recon_join_key", scope, event_name=event_name, kind=kind).dicts()
    copies = int(rows[0]["copies"]) if rows else 0
    candidates = [
        KeyCandidate(key=r["method"], linked=int(r["linked"]), match_rate=_ratio(r["linked"], copies))
        for r in rows
    ]
    chosen = next((c for c in candidates if any(r["chosen"] and r["method"] == c.key for r in rows)), None)
    return JoinKeyResolution(
        event_name=event_name,
        kind=kind,
        copies=copies,
        key=chosen.key if chosen else None,
        match_rate=chosen.match_rate if chosen else None,
        candidates=candidates,
    )


def record_verdicts(
    store: Store,
    scope: Scope,
    *,
    verdict: Verdict | None = None,
    flag: Flag | None = None,
    limit: int = DEFAULT_LIMIT,
    event_name: str = "Purchase",
    kind: TruthKind = "order",
    value_policy: ValuePolicy = "total",
) -> list[RecordVerdict]:
    """Per-record verdicts and flags, oldest first, filtered by verdict and/or flag, at most ``limit``."""
    rows = _run(
        store, "recon_records", scope, event_name=event_name, kind=kind, value_policy=value_policy,
        verdict=verdict, flag=flag, limit=limit,
    ).dicts()  # fmt: skip
    return [
        RecordVerdict(
            **{k: r[k] for k in RecordVerdict.model_fields if k != "flags"},
            flags=[f for f in FLAGS if r[f]],
        )
        for r in rows
    ]


def phantom_list(
    store: Store,
    scope: Scope,
    limit: int = DEFAULT_LIMIT,
    *,
    reason: PhantomReason | None = None,
    event_name: str = "Purchase",
    kind: TruthKind = "order",
) -> list[Phantom]:
    """Up to ``limit`` phantom copies (oldest first), optionally of one sub-reason."""
    listed = _run(
        store, "recon_phantoms", scope, event_name=event_name, kind=kind, reason=reason, limit=limit
    ).dicts()
    return [Phantom(**{k: r[k] for k in Phantom.model_fields}) for r in listed]


def phantoms(
    store: Store,
    scope: Scope,
    limit: int = DEFAULT_LIMIT,
    *,
    reason: PhantomReason | None = None,
    event_name: str = "Purchase",
    kind: TruthKind = "order",
) -> PhantomReport:
    """Counted copies of ``event_name`` with no truth record: counts per sub-reason and up to ``limit``."""
    summary = _summary_row(store, scope, event_name, kind, "total")
    by_reason: dict[str, int] = {r: int(summary[f"p_{r}"] or 0) for r in PHANTOM_REASONS}
    return PhantomReport(
        total=int(summary["phantoms"] or 0),
        by_reason=by_reason,
        copies=phantom_list(store, scope, limit, reason=reason, event_name=event_name, kind=kind),
    )


def _currency_values(
    store: Store, scope: Scope, event_name: str, kind: TruthKind, value_policy: ValuePolicy
) -> tuple[str | None, list[CurrencyValues]]:
    """The headline currency of ``scope`` and every currency's values, each with its rate into it.

    The store's report currency, else the currency of most eligible records, else of most counted
    copies (ties: the first code alphabetically); values that name no currency count in it, another
    currency only converted with the store's rate for it.
    """
    rows = _run(
        store, "recon_currency_values", scope, event_name=event_name, kind=kind, value_policy=value_policy
    ).dicts()
    chosen, rates = settings.report_currency(store)
    if chosen is None:
        named = [r for r in rows if r["currency"] is not None]
        for side in ("truth_count", "meta_count"):
            ranked = sorted((r for r in named if r[side]), key=lambda r: (-int(r[side]), r["currency"]))
            if ranked:
                chosen = str(ranked[0]["currency"])
                break
    values = [
        CurrencyValues(
            currency=r["currency"],
            truth_count=int(r["truth_count"]),
            truth_value=float(r["truth_value"] or 0),
            meta_count=int(r["meta_count"]),
            meta_value=float(r["meta_value"] or 0),
            rate=_rate(r["currency"], chosen, rates),
        )
        for r in rows
    ]
    return chosen, values


def _rate(currency: str | None, chosen: str | None, rates: dict[str, float]) -> float | None:
    """How ``currency``'s values enter the headline in ``chosen``: 1, the store's rate, or not at all."""
    if currency is None or currency == chosen:
        return 1.0
    return rates.get(currency)


def _periods(
    store: Store, scope: Scope, grain: str, event_name: str, kind: TruthKind, value_policy: ValuePolicy
) -> list[PeriodRow]:
    currency, values = _currency_values(store, scope, event_name, kind, value_policy)
    rates = {v.currency: v.rate for v in values}
    rows = _run(
        store,
        "recon_periods",
        scope,
        event_name=event_name,
        kind=kind,
        value_policy=value_policy,
        grain=grain,
    ).dicts()
    # one row per period and currency: counts add up, values only in (or converted to) the headline's
    sums: dict[dt.date, dict[str, float]] = {}
    for r in rows:
        day = r["period"].date() if isinstance(r["period"], dt.datetime) else r["period"]
        rate = rates.get(r["currency"], _rate(r["currency"], currency, {}))
        into = sums.setdefault(day, defaultdict(float))
        for count in ("truth_count", "meta_count", "reached"):
            into[count] += int(r[count])
        if rate is not None:
            into["truth_value"] += rate * float(r["truth_value"] or 0)
            into["meta_value"] += rate * float(r["meta_value"] or 0)
    out: list[PeriodRow] = []
    for day, r in sorted(sums.items()):
        iso = day.isocalendar()
        out.append(
            PeriodRow(
                period=day,
                label=day.isoformat() if grain == "day" else f"{iso.year}-W{iso.week:02d}",
                truth_count=int(r["truth_count"]),
                truth_value=r["truth_value"],
                meta_count=int(r["meta_count"]),
                meta_value=r["meta_value"],
                gap_pct=_gap(r["meta_count"], r["truth_count"]),
                value_gap_pct=_gap(r["meta_value"], r["truth_value"]),
                reached=int(r["reached"]),
                accuracy=_ratio(r["reached"], r["truth_count"]),
                currency=currency,
            )
        )
    return out


def daily(
    store: Store,
    scope: Scope,
    event_name: str = "Purchase",
    kind: TruthKind = "order",
    value_policy: ValuePolicy = "total",
) -> list[PeriodRow]:
    """Truth (eligible records, by created_at) vs estimated Meta (counted copies, by event_time) per day."""
    return _periods(store, scope, "day", event_name, kind, value_policy)


def weekly(
    store: Store,
    scope: Scope,
    event_name: str = "Purchase",
    kind: TruthKind = "order",
    value_policy: ValuePolicy = "total",
) -> list[PeriodRow]:
    """The same as ``daily`` per ISO week (Monday to Sunday, UTC)."""
    return _periods(store, scope, "week", event_name, kind, value_policy)


def _summary_row(
    store: Store, scope: Scope, event_name: str, kind: TruthKind, value_policy: ValuePolicy
) -> dict[str, Any]:
    rows = _run(
        store, "recon_summary", scope, event_name=event_name, kind=kind, value_policy=value_policy
    ).dicts()
    return rows[0] if rows else defaultdict(lambda: None)


def _waterfall(row: dict[str, Any]) -> list[WaterfallStep]:
    steps = [
        ("truth", row["records"]),
        ("eligible", row["eligible"]),
        ("reached_meta", row["reached"]),
        ("has_server_copy", row["has_server"]),
        ("merged_correctly", row["merged_ok"]),
        ("counted_exactly_once", row["counted_once"]),
    ]
    total = int(steps[0][1] or 0)
    out: list[WaterfallStep] = []
    previous: int | None = None
    for step, raw in steps:
        count = int(raw or 0)
        out.append(
            WaterfallStep(
                step=step,
                count=count,
                share_of_previous=None if previous is None else _ratio(count, previous),
                share_of_truth=_ratio(count, total),
            )
        )
        previous = count
    return out


def waterfall(
    store: Store,
    scope: Scope,
    event_name: str = "Purchase",
    kind: TruthKind = "order",
) -> list[WaterfallStep]:
    """truth -> eligible -> reached Meta -> has a server copy -> merged correctly -> counted exactly once."""
    return _waterfall(_summary_row(store, scope, event_name, kind, "total"))


def reconcile_summary(
    store: Store,
    scope: Scope,
    event_name: str = "Purchase",
    kind: TruthKind = "order",
    value_policy: ValuePolicy = "total",
) -> ReconSummary:
    """The reconciliation headline of one event: join key, truth vs Meta, verdicts, waterfall, phantoms,
    values per currency and orders per sales channel."""
    row = _summary_row(store, scope, event_name, kind, value_policy)
    copies = int(row["copies"] or 0)
    truth_count = int(row["eligible"] or 0)
    meta_count = int(row["meta_count"] or 0)
    currency, values = _currency_values(store, scope, event_name, kind, value_policy)
    truth_value = sum(v.truth_value * v.rate for v in values if v.rate is not None)
    meta_value = sum(v.meta_value * v.rate for v in values if v.rate is not None)
    return ReconSummary(
        event_name=event_name,
        kind=kind,
        value_policy=value_policy,
        join_key=row["join_key"],
        join_match_rate=_ratio(row["join_linked"], copies) if row["join_key"] else None,
        records=int(row["records"] or 0),
        records_reached=int(row["records_reached"] or 0),
        truth_count=truth_count,
        truth_value=truth_value,
        meta_count=meta_count,
        meta_value=meta_value,
        gap_pct=_gap(meta_count, truth_count),
        value_gap_pct=_gap(meta_value, truth_value),
        accuracy=_ratio(int(row["reached"] or 0), truth_count),
        verdicts={v: int(row[f"v_{v}"] or 0) for v in VERDICTS},
        flags={f: int(row[f"f_{f}"] or 0) for f in FLAGS},
        waterfall=_waterfall(row),
        phantom_count=int(row["phantoms"] or 0),
        phantoms_by_reason={r: int(row[f"p_{r}"] or 0) for r in PHANTOM_REASONS},
        name_variant_copies=int(row["variant_copies"] or 0),
        currency=currency,
        values_by_currency=values,
        channels=sales_channels(store, scope, event_name, kind),
        records_both_channels=int(row["both_channel_records"] or 0),
        pair_value_disagrees=int(row["pair_value_records"] or 0),
        pair_currency_disagrees=int(row["pair_currency_records"] or 0),
    )


def channel_rule(channel: str, excluded: tuple[str, ...], included: tuple[str, ...]) -> ChannelRule:
    """Why orders of ``channel`` are in or out, given the store's own lists (``settings.order_channels``),
    in the order the derived SQL applies them."""
    if channel in excluded:
        return "store_excluded"
    if channel in included:
        return "store_included"
    if channel in NON_PIXEL_CHANNELS:
        return "no_pixel"
    return "web" if channel in WEB_CHANNELS else "unplaced"


def sales_channels(
    store: Store, scope: Scope, event_name: str = "Purchase", kind: TruthKind = "order"
) -> list[ChannelCount]:
    """The records in scope per sales channel, with the rule that makes the channel's orders eligible or
    not (records naming no channel are eligible by status alone and not listed). Orders only: a lead has
    no channel rule."""
    if kind != "order":
        return []
    rows = _run(store, "recon_channels", scope, event_name=event_name, kind=kind).dicts()
    excluded, included = settings.order_channels(store)
    return [
        ChannelCount(
            channel=r["sales_channel"],
            records=int(r["records"]),
            orders=int(r["status_eligible"] or 0),
            eligible=not r["excluded"],
            rule=channel_rule(r["sales_channel"], excluded, included),
        )
        for r in rows
    ]


def reconcile_all(store: Store, scope: Scope) -> list[ReconSummary]:
    """One summary per reconciled dataset (``datasets(store)``) whose truth kind is in the store and in
    scope."""
    return [
        reconcile_summary(store, scope, event_name, kind)
        for event_name, kind in datasets(store)
        if has_truth(store, kind) and canonical_name_in_scope(scope, event_name)
    ]
