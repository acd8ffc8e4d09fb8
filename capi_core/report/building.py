"""Building the report: every section from the function that owns its figures, then the verdicts.

Reuses the metric modules as the pages do (``dashboard_api``'s sections call the same functions), so a
page and the report cannot disagree; computes no figure of its own. Meta's view is read only when the
store holds an Ads Manager export or a Dataset Quality snapshot.
"""

from __future__ import annotations

from capi_core.diagnostics import run_checks
from capi_core.metrics import count_range, leads, memo, meta_quality, meta_view, quality, reconcile
from capi_core.metrics.dedup import dedup_by_event
from capi_core.metrics.drift import drift_report
from capi_core.models import Scope
from capi_core.report import verdicts
from capi_core.report.model import Counts, DailySeries, EventCount, Report, Window
from capi_core.store import Store


def window_and_counts(store: Store, scope: Scope) -> tuple[Window, Counts]:
    """``Report.window`` and ``Report.counts`` for ``scope`` (the dashboard asks for them alone)."""
    rows = store.query_file("report_counts", scope.params()).dicts()
    per_channel: dict[str, int] = {}
    for row in rows:
        per_channel[row["channel"]] = per_channel.get(row["channel"], 0) + int(row["copies"])
    firsts = [r["first_event_time"] for r in rows if r["first_event_time"] is not None]
    lasts = [r["last_event_time"] for r in rows if r["last_event_time"] is not None]
    counts = Counts(
        total=sum(per_channel.values()),
        per_channel=per_channel,
        per_event=[
            EventCount(event_name=r["event_name"], channel=r["channel"], copies=r["copies"]) for r in rows
        ],
    )
    window = Window(
        date_from=scope.date_from,
        date_to=scope.date_to,
        pixel_id=scope.pixel_id,
        event_names=list(scope.event_names),
        first_event_time=min(firsts, default=None),
        last_event_time=max(lasts, default=None),
    )
    return window, counts


def _daily(store: Store, scope: Scope, recon: list[reconcile.ReconSummary]) -> list[DailySeries]:
    return [
        DailySeries(
            event_name=r.event_name,
            kind=r.kind,
            days=reconcile.daily(store, scope, r.event_name, r.kind, r.value_policy),
        )
        for r in recon
    ]


def build_report(store: Store, scope: Scope | None = None) -> Report:
    """Compute every metric and finding for ``scope`` (the whole store by default), all at one data version
    (read once: every memoized section of this report keys on it)."""
    with memo.pinned(store):
        return _build(store, scope or Scope())


def _build(store: Store, scope: Scope) -> Report:
    window, counts = window_and_counts(store, scope)
    dedup = dedup_by_event(store, scope)
    recon = reconcile.reconcile_all(store, scope)
    report = Report(
        window=window,
        counts=counts,
        dedup=dedup,
        reconciliation=recon,
        meta_count_ranges=count_range.recon_ranges(recon, dedup),
        completeness=quality.completeness(store, scope),
        match_keys=quality.match_key_report(store, scope),
        freshness=quality.freshness(store, scope),
        drift=drift_report(store, scope),
        leads=leads.lead_report(store, scope),
        consent=quality.consent(store, scope),
        findings=run_checks(store, scope),
        daily=_daily(store, scope, recon),
        meta_view=meta_view.meta_view(store, scope) if meta_view.has_reported(store) else None,
        meta_quality=(
            meta_quality.meta_quality_trend(store, scope) if meta_quality.has_snapshots(store) else []
        ),
    )
    found = verdicts.verdicts(report)
    report.verdicts = found
    report.highlights = verdicts.highlights(report, found)
    return report
