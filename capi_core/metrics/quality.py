"""Signal quality (SPEC §4) in one import: completeness, match keys and estimated EMQ, freshness, consent.

A facade over ``completeness``, ``match_keys``, ``emq_fit``, ``freshness`` and ``consent`` for the report,
the checks and the pages; it adds only ``MatchKeyReport`` (coverage, the EMQ estimate and its fit to
Meta's EMQ together) and the choice of points: unless a caller passes weights, each pixel's estimate uses
the points fitted to Meta's EMQ of that pixel where the store holds enough snapshots
(``emq_fit.pixel_weights``), else the calibrated ones. Owns no SQL.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from capi_core.metrics import match_keys
from capi_core.metrics.completeness import CompletenessRow, completeness
from capi_core.metrics.consent import ConsentRow, consent
from capi_core.metrics.emq_fit import EmqFit, EmqFitPoint, emq_fits, pixel_weights
from capi_core.metrics.freshness import FreshnessRow, freshness
from capi_core.metrics.match_keys import (
    CALIBRATED,
    COVERAGE_KEYS,
    EMQ_GOAL,
    EMQ_LABEL,
    EmqEstimate,
    EmqWeights,
    EmqWhatIf,
    MatchKeyCoverage,
    PixelWeights,
    match_key_coverage,
)
from capi_core.models import Scope
from capi_core.store import Store

#: Report sections that are plain lists of rows.
FreshnessReport = list[FreshnessRow]
ConsentReport = list[ConsentRow]


class MatchKeyReport(BaseModel):
    """Valid-key coverage per event_name x channel, the estimated EMQ per event, the calibrated points
    (``emq_weights``), and per pixel with Dataset Quality snapshots the fit to Meta's EMQ (``emq_fits``:
    the points used for that pixel and how close they bring the estimate to Meta's figure)."""

    model_config = ConfigDict(frozen=True)

    coverage: list[MatchKeyCoverage]
    emq_label: str = EMQ_LABEL
    emq_goal: float = EMQ_GOAL
    emq_weights: EmqWeights
    emq_estimate: list[EmqEstimate]
    emq_fits: list[EmqFit] = []


def _weights(store: Store, weights: EmqWeights | PixelWeights | None) -> EmqWeights | PixelWeights:
    return pixel_weights(store) if weights is None else weights


def emq_estimates(
    store: Store, scope: Scope, weights: EmqWeights | PixelWeights | None = None, *, by_pixel: bool = False
) -> list[EmqEstimate]:
    """``match_keys.emq_estimates`` with each pixel's points (fitted to Meta's EMQ where the store can)."""
    return match_keys.emq_estimates(store, scope, _weights(store, weights), by_pixel=by_pixel)


def emq_what_if(
    store: Store,
    scope: Scope,
    key: str,
    coverage: float,
    weights: EmqWeights | PixelWeights | None = None,
    *,
    by_pixel: bool = False,
) -> list[EmqWhatIf]:
    """``match_keys.emq_what_if`` with the same points as ``emq_estimates``."""
    return match_keys.emq_what_if(store, scope, key, coverage, _weights(store, weights), by_pixel=by_pixel)


def match_key_report(store: Store, scope: Scope, weights: EmqWeights | None = None) -> MatchKeyReport:
    """Coverage and the EMQ estimate over ``scope``: with ``weights`` for every pixel when given, else
    each pixel's own points (``emq_fit``); the fits of the scope's pixels beside them."""
    return MatchKeyReport(
        coverage=match_key_coverage(store, scope),
        emq_weights=weights or CALIBRATED,
        emq_estimate=emq_estimates(store, scope, weights),
        emq_fits=[] if weights is not None else emq_fits(store, scope),
    )


__all__ = [
    "CALIBRATED",
    "COVERAGE_KEYS",
    "EMQ_GOAL",
    "EMQ_LABEL",
    "CompletenessRow",
    "ConsentReport",
    "ConsentRow",
    "EmqEstimate",
    "EmqFit",
    "EmqFitPoint",
    "EmqWeights",
    "EmqWhatIf",
    "FreshnessReport",
    "FreshnessRow",
    "MatchKeyCoverage",
    "MatchKeyReport",
    "PixelWeights",
    "completeness",
    "consent",
    "emq_estimates",
    "emq_fits",
    "emq_what_if",
    "freshness",
    "match_key_coverage",
    "match_key_report",
    "pixel_weights",
]
