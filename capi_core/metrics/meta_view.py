"""Meta's view, reported side: what Ads Manager *reported* per day, beside the backend and our estimate.

Three figures per day, each from the module that owns it:

- reported: Ads Manager rows (``ingest --source meta``; ``queries/meta_view_*.sql``): purchases and
  purchase value summed over ads;
- backend: eligible orders and their value (``reconcile.daily``: paid, consent not denied, by created_at);
- estimated: what Meta counted by our dedup model (``reconcile.daily``: counted Purchase copies of the
  ``copy_verdicts`` model, by event_time), reused here, never redefined.

Decisions where the spec is silent (the page repeats them):

- Days are the export's days: only days that have at least one Ads Manager row are compared, and totals
  cover those days only (a 2-week export is not set against 6 weeks of orders).
- Meta reports a conversion under its attribution setting (e.g. 7-day click, 1-day view) on the day of the
  ad interaction, in the ad account's time zone; backend and estimate are by the day the order or the
  event happened (UTC). Day-level ratios therefore wobble; totals over the export are the fairer read.
- Ratios are reported / backend and reported / estimate (1.0 = the same); None when the denominator is 0.
- Ads Manager rows carry no pixel: rows ingested with ``--pixel-id`` are filtered by the pixel filter,
  rows without one are shown for every pixel.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from capi_core.metrics import reconcile
from capi_core.models import Scope
from capi_core.store import Results, Store

EVENT_NAME = "Purchase"
#: What the page and the report say about comparing by day.
DAY_CAVEAT = (
    "Meta reports each purchase under its attribution setting on the day of the ad click or view, in the ad "
    "account's time zone; the backend and our estimate count the day the order or event happened (UTC). "
    "Compare totals first; single days can differ for that reason alone."
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class MetaViewDay(_Frozen):
    """One reporting day: Meta-reported, backend and estimated-Meta purchases and value."""

    day: dt.date
    reported_purchases: float | None  # None when the export has neither Purchases nor a purchase result
    reported_value: float | None
    spend: float | None
    backend_orders: int
    backend_value: float
    estimated_meta_count: int
    estimated_meta_value: float
    reported_vs_backend: float | None  # reported / backend orders
    reported_vs_estimate: float | None  # reported / estimated Meta count
    value_reported_vs_backend: float | None
    value_reported_vs_estimate: float | None


class MetaViewTotals(_Frozen):
    """The same figures summed over the export's days."""

    days: int
    first_day: dt.date
    last_day: dt.date
    reported_purchases: float | None
    reported_value: float | None
    spend: float | None
    backend_orders: int
    backend_value: float
    estimated_meta_count: int
    estimated_meta_value: float
    reported_vs_backend: float | None
    reported_vs_estimate: float | None
    value_reported_vs_backend: float | None
    value_reported_vs_estimate: float | None


class ReportingBasis(_Frozen):
    """One attribution setting / value basis / currency found in the export, with its share of rows."""

    attribution_setting: str | None  # None: rows without delivery (Ads Manager writes "-")
    purchase_value_basis: str | None  # reported | roas_x_spend
    currency: str | None
    ad_rows: int
    reported_purchases: float | None


class MetaView(_Frozen):
    """Reported vs backend vs estimated per day, totals, and how Meta's figures were reported."""

    event_name: str = EVENT_NAME
    days: list[MetaViewDay]
    totals: MetaViewTotals | None
    bases: list[ReportingBasis]
    caveat: str = DAY_CAVEAT


def _ratio(part: float | None, whole: float | None) -> float | None:
    return part / whole if part is not None and whole else None


def _run(store: Store, name: str, scope: Scope) -> Results:
    params = scope.params()
    return store.query_file(name, {k: params[k] for k in ("date_from", "date_to", "pixel_id")})


def has_reported(store: Store) -> bool:
    """Whether any Ads Manager row was ingested (``ingest --source meta``)."""
    return bool(store.query("has meta reported", "select exists (select 1 from meta_reported)").scalar())


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def meta_view(store: Store, scope: Scope) -> MetaView:
    """Per export day: Meta-reported purchases/value, backend orders/value, estimated Meta count/value."""
    if not reconcile.canonical_name_in_scope(scope, EVENT_NAME):
        return MetaView(days=[], totals=None, bases=[])
    reported = _run(store, "meta_view_daily", scope).dicts()
    ours = {row.period: row for row in reconcile.daily(store, scope, EVENT_NAME, "order")}
    days: list[MetaViewDay] = []
    for r in reported:
        day = r["day"].date() if isinstance(r["day"], dt.datetime) else r["day"]
        mine = ours.get(day)
        purchases, value = _float(r["reported_purchases"]), _float(r["reported_value"])
        backend, backend_value = (mine.truth_count, mine.truth_value) if mine else (0, 0.0)
        estimate, estimate_value = (mine.meta_count, mine.meta_value) if mine else (0, 0.0)
        days.append(
            MetaViewDay(
                day=day,
                reported_purchases=purchases,
                reported_value=value,
                spend=_float(r["spend"]),
                backend_orders=backend,
                backend_value=backend_value,
                estimated_meta_count=estimate,
                estimated_meta_value=estimate_value,
                reported_vs_backend=_ratio(purchases, backend),
                reported_vs_estimate=_ratio(purchases, estimate),
                value_reported_vs_backend=_ratio(value, backend_value),
                value_reported_vs_estimate=_ratio(value, estimate_value),
            )
        )
    bases = [
        ReportingBasis(**{**r, "reported_purchases": _float(r["reported_purchases"])})
        for r in _run(store, "meta_view_attribution", scope).dicts()
    ]
    return MetaView(days=days, totals=_totals(days), bases=bases)


def _totals(days: list[MetaViewDay]) -> MetaViewTotals | None:
    if not days:
        return None
    purchases = _sum([d.reported_purchases for d in days])
    value = _sum([d.reported_value for d in days])
    backend = sum(d.backend_orders for d in days)
    backend_value = sum(d.backend_value for d in days)
    estimate = sum(d.estimated_meta_count for d in days)
    estimate_value = sum(d.estimated_meta_value for d in days)
    return MetaViewTotals(
        days=len(days),
        first_day=days[0].day,
        last_day=days[-1].day,
        reported_purchases=purchases,
        reported_value=value,
        spend=_sum([d.spend for d in days]),
        backend_orders=backend,
        backend_value=backend_value,
        estimated_meta_count=estimate,
        estimated_meta_value=estimate_value,
        reported_vs_backend=_ratio(purchases, backend),
        reported_vs_estimate=_ratio(purchases, estimate),
        value_reported_vs_backend=_ratio(value, backend_value),
        value_reported_vs_estimate=_ratio(value, estimate_value),
    )
