"""Meta's count as a range where the dedup model relies on what Meta does not document (issue 13, case 3).

The dedup model gives one verdict per copy: its count is a point estimate. Meta may also merge a server
copy that carries an event_id into an earlier browser copy sharing its fbp or external_id, or may not
(``dedup.KEY_MERGE_REASON``), so Meta's count lies between the point estimate minus those copies (lower
bound: Meta merges them) and the point estimate (upper bound: it does not). ``DedupEventStats`` carries
the range per pixel and event name; this module carries it to the reconciliation's Meta count and gap
(the report's ``meta_count_ranges``, the Overview's count tile), which count the same copies.

Owns no SQL and decides no verdict: it only adds the ``key_merges`` of the dedup rows that belong to a
reconciled dataset (its event and the case / spacing variants the reconciliation counts with it).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from capi_core.metrics.dedup import DedupEventStats
from capi_core.metrics.reconcile import ReconSummary, dataset_event
from capi_core.models import TruthKind


class MetaCountRange(BaseModel):
    """The estimated Meta count of one reconciled dataset as a range, and its gap to the backend."""

    model_config = ConfigDict(frozen=True)

    event_name: str
    kind: TruthKind
    truth_count: int
    meta_count: int  # the point estimate (``ReconSummary.meta_count``): the upper bound
    meta_count_low: int
    meta_count_high: int
    key_merges: int  # server copies with an event_id that Meta may still merge by fbp / external_id
    gap_pct: float | None  # the point estimate's gap
    gap_pct_low: float | None
    gap_pct_high: float | None

    @property
    def is_range(self) -> bool:
        """Whether the bounds differ (else the count does not depend on the undocumented behaviour)."""
        return self.meta_count_low != self.meta_count_high


def _gap(meta: int, truth: int) -> float | None:
    return (meta - truth) / truth if truth else None


def recon_range(recon: ReconSummary, dedup: Sequence[DedupEventStats]) -> MetaCountRange:
    """``recon``'s Meta count as a range, from the dedup rows of the same scope.

    The reconciliation counts the copies of its event and of its case / spacing variants (``purchase``);
    the dedup rows hold the possible merges per exact name. When the scope's event filter names only
    some spellings, the dedup rows hold only those, so the lower bound can only be higher (safe).
    """
    pairs = ((recon.event_name, recon.kind),)
    merges = sum(
        d.key_merges
        for d in dedup
        if d.event_name is not None and dataset_event(d.event_name, pairs) == recon.event_name
    )
    low = max(recon.meta_count - merges, 0)
    return MetaCountRange(
        event_name=recon.event_name,
        kind=recon.kind,
        truth_count=recon.truth_count,
        meta_count=recon.meta_count,
        meta_count_low=low,
        meta_count_high=recon.meta_count,
        key_merges=recon.meta_count - low,
        gap_pct=recon.gap_pct,
        gap_pct_low=_gap(low, recon.truth_count),
        gap_pct_high=_gap(recon.meta_count, recon.truth_count),
    )


def recon_ranges(recon: Sequence[ReconSummary], dedup: Sequence[DedupEventStats]) -> list[MetaCountRange]:
    """One range per reconciled dataset (the report's ``meta_count_ranges``)."""
    return [recon_range(summary, dedup) for summary in recon]
