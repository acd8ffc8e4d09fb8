"""Reconciliation views the dashboard draws that ``reconcile`` does not return: aggregates over the same
scoped CTEs (``fragments/recon_base.sql`` over the derived reconciliation tables), so the page never pulls
rows.

Owns the value-delta distribution (``recon_value_deltas.sql``): binned in SQL, only the bins come back.
Must not decide a verdict or a value: every figure is read from ``truth_verdicts`` as
``fragments/recon_base.sql`` filters it, the same rows ``reconcile.record_verdicts`` lists.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from capi_core.metrics.reconcile import chained_query, dataset_event
from capi_core.models import Scope, TruthKind
from capi_core.store import Store

#: Bars of the value-delta chart.
DELTA_BINS = 40
_PARAM = re.compile(r"\$([a-z_]+)")


class DeltaBin(BaseModel):
    """Records whose Meta value minus backend value falls in ``[low, high)`` (the last bin includes high)."""

    model_config = ConfigDict(frozen=True)

    low: float
    high: float
    records: int
    exact: int  # records whose delta is exactly 0 (only the bin holding 0 has any)


class ValueDeltas(BaseModel):
    """Meta's booked value minus the backend value per record that reached Meta with both values known."""

    model_config = ConfigDict(frozen=True)

    records: int
    exact: int  # records Meta books at exactly the backend value
    bins: list[DeltaBin]


def value_deltas(
    store: Store,
    scope: Scope,
    *,
    event_name: str = "Purchase",
    kind: TruthKind = "order",
    bins: int = DELTA_BINS,
) -> ValueDeltas:
    """The value-delta distribution of ``event_name``'s records in ``scope``, in ``bins`` equal bins."""
    params = {
        **scope.params(),
        "event_name": dataset_event(event_name),
        "kind": kind,
        "value_policy": "total",
        "bins": bins,
    }
    sql = chained_query("recon_value_deltas", scope)
    used = set(_PARAM.findall(sql))  # DuckDB rejects parameters the statement does not use
    rows = store.query("recon_value_deltas", sql, {k: v for k, v in params.items() if k in used}).dicts()
    found: list[DeltaBin] = []
    for row in rows:
        low, high = float(row["low"]), float(row["high"])
        width = (high - low) / bins
        start = low + int(row["bin"]) * width
        found.append(
            DeltaBin(
                low=start,
                high=high if width == 0 else start + width,
                records=int(row["records"]),
                exact=int(row["exact"]),
            )
        )
    return ValueDeltas(records=sum(b.records for b in found), exact=sum(b.exact for b in found), bins=found)
