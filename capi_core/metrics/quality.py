"""Signal quality (SPEC §4) in one import: completeness, match keys and estimated EMQ, freshness, consent.

A facade over ``completeness``, ``match_keys``, ``freshness`` and ``consent`` for the report and pages;
it adds only ``MatchKeyReport`` (coverage and the EMQ estimate together) and owns no SQL.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from capi_core.metrics.completeness import CompletenessRow, completeness
from capi_core.metrics.consent import ConsentRow, consent
from capi_core.metrics.freshness import FreshnessRow, freshness
from capi_core.metrics.match_keys import (
    COVERAGE_KEYS,
    EMQ_GOAL,
    EMQ_LABEL,
    EmqEstimate,
    EmqWeights,
    EmqWhatIf,
    MatchKeyCoverage,
    emq_estimates,
    emq_what_if,
    match_key_coverage,
)
from capi_core.models import Scope
from capi_core.store import Store

#: Report sections that are plain lists of rows.
FreshnessReport = list[FreshnessRow]
ConsentReport = list[ConsentRow]


class MatchKeyReport(BaseModel):
    """Valid-key coverage per event_name x channel, and the estimated EMQ per event with its weights."""

    model_config = ConfigDict(frozen=True)

    coverage: list[MatchKeyCoverage]
    emq_label: str = EMQ_LABEL
    emq_goal: float = EMQ_GOAL
    emq_weights: EmqWeights
    emq_estimate: list[EmqEstimate]


def match_key_report(store: Store, scope: Scope, weights: EmqWeights | None = None) -> MatchKeyReport:
    """Coverage and the EMQ estimate over ``scope`` (default weights unless given)."""
    weights = weights or EmqWeights()
    return MatchKeyReport(
        coverage=match_key_coverage(store, scope),
        emq_weights=weights,
        emq_estimate=emq_estimates(store, scope, weights),
    )


__all__ = [
    "COVERAGE_KEYS",
    "EMQ_GOAL",
    "EMQ_LABEL",
    "CompletenessRow",
    "ConsentReport",
    "ConsentRow",
    "EmqEstimate",
    "EmqWeights",
    "EmqWhatIf",
    "FreshnessReport",
    "FreshnessRow",
    "MatchKeyCoverage",
    "MatchKeyReport",
    "completeness",
    "consent",
    "emq_estimates",
    "emq_what_if",
    "freshness",
    "match_key_coverage",
    "match_key_report",
]
