"""The EMQ estimate's points fitted to Meta's own Event Match Quality, per pixel (issue 13, case 4).

When the store holds Dataset Quality snapshots of a pixel (``capi_core.meta.dataset_quality``), each
snapshot's web events give Meta's EMQ (``composite_score``) beside our server website copies of that pixel
and event in the 7 days the snapshot covers (``comparison_window``, the days ``meta_quality`` compares on).
The fit looks for the points per key (``EmqWeights``) that bring our estimate closest to Meta's figures
while staying near the published calibration (``match_keys.CALIBRATED``) where the snapshots say little:

    minimize   sum over (snapshot, event) of (estimate(w) - Meta's EMQ)^2  +  FIT_PRIOR_STRENGTH x |w - w0|^2
    subject to w >= 0,  w0 = the calibrated points

``estimate(w)`` is the SQL's (``quality_emq.sql``): the mean over the event's copies of min(10, the copy's
points), computed here from how many copies carry each combination of valid keys
(``quality_emq_patterns.sql``). The cap makes it piecewise linear: the fit solves the bounded ridge problem
with no combination capped, then again with the combinations its last answer caps held at 10, until that
set repeats, and keeps the answer with the lowest objective. Each bounded ridge problem is convex;
coordinate descent with each weight clipped at 0 solves it exactly.

Decisions where Meta is silent: every (snapshot, event) pair weighs the same (Meta's EMQ is one figure per
event); a pixel needs ``MIN_OBSERVATIONS`` pairs with copies before its fitted points replace the
calibrated ones; ``FIT_PRIOR_STRENGTH`` = 1 makes one point of squared error on one pair cost as much as
moving one key's points by one from the calibration. The closeness reported (mean absolute difference to
Meta's EMQ, with the calibrated and with the fitted points) is measured on the pairs the points were fitted
to: it says how well the estimate tracks Meta's figure, not how well it predicts a new one.

Owns the fit and its report only: scoring stays in SQL, which the report and the pages run with the points
``pixel_weights`` returns. Must not write to the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from capi_core.meta.dataset_quality import snapshot_version
from capi_core.metrics.match_keys import CALIBRATED, EMQ_SCALE, WEIGHT_KEYS, EmqWeights, PixelWeights
from capi_core.metrics.memo import memoized
from capi_core.metrics.quality_sql import run_quality
from capi_core.models import Scope
from capi_core.store import Store

#: Days of our copies set against one snapshot (Meta's figures cover the 7 days before it).
WINDOW_DAYS = 7
#: (snapshot, event) pairs a pixel needs before its fitted points are used.
MIN_OBSERVATIONS = 3
#: How strongly the fit stays near the calibrated points (see the module docstring).
FIT_PRIOR_STRENGTH = 1.0
_MAX_ROUNDS = 20
_MAX_SWEEPS = 2000
_TOLERANCE = 1e-12

Pattern = tuple[tuple[bool, ...], int]  # (valid or not, per WEIGHT_KEYS), copies


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class EmqFitPoint(_Frozen):
    """One (snapshot, event): Meta's EMQ next to our estimate over the same days, calibrated and fitted."""

    snapshot_id: int
    fetched_at: dt.datetime
    event_name: str
    our_from: dt.date
    our_to: dt.date
    copies: int
    meta_emq: float
    calibrated: float
    fitted: float


class EmqFit(_Frozen):
    """The points of one pixel's estimate and how close they bring it to Meta's EMQ."""

    pixel_id: str
    observations: int  # (snapshot, event) pairs with Meta's EMQ and our copies
    applied: bool  # the fitted points are used (enough observations)
    weights: EmqWeights  # the points used for this pixel: fitted when applied, else the calibrated ones
    calibrated_mae: float | None  # mean |estimate - Meta's EMQ| with the calibrated points
    fitted_mae: float | None  # the same with ``weights``
    points: list[EmqFitPoint]

    def summary(self) -> str:
        """One sentence on how close the estimate is to Meta's EMQ (the report and the pages show it)."""
        pairs = f"{self.observations} (snapshot, event) pair{'s' if self.observations != 1 else ''}"
        if not self.applied:
            return (
                f"Pixel {self.pixel_id}: only {pairs} with Meta's EMQ and our copies (a fit needs "
                f"{MIN_OBSERVATIONS}), so its estimate keeps the calibrated points; mean difference to "
                f"Meta's EMQ {_points_text(self.calibrated_mae)}."
            )
        return (
            f"Pixel {self.pixel_id}: points fitted to Meta's EMQ on {pairs}; mean difference between our "
            f"estimate and Meta's EMQ {_points_text(self.fitted_mae)} (with the calibrated points: "
            f"{_points_text(self.calibrated_mae)}), on the pairs the points were fitted to."
        )


def _points_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} points"


@dataclass(frozen=True)
class Observation:
    """Meta's EMQ of one event and the key combinations of our copies it is compared with."""

    meta_emq: float
    patterns: Sequence[Pattern]


def estimate(weights: EmqWeights, patterns: Sequence[Pattern]) -> float:
    """The estimate of ``quality_emq.sql`` from key combinations: mean over copies of min(10, points)."""
    values = weights.model_dump()
    copies = sum(n for _, n in patterns)
    total = sum(n * min(EMQ_SCALE, _points(values, flags)) for flags, n in patterns)
    return total / copies if copies else 0.0


def _points(values: dict[str, float], flags: Sequence[bool]) -> float:
    return sum(values[key] for key, valid in zip(WEIGHT_KEYS, flags, strict=True) if valid)


def _linearized(
    observations: Sequence[Observation], capped: set[tuple[bool, ...]]
) -> tuple[list[list[float]], list[float]]:
    """Each observation's estimate as a . w + b: share of copies with each key among the uncapped
    combinations (a), 10 x share of capped copies (b); returns (a per observation, y - b)."""
    rows, targets = [], []
    for obs in observations:
        copies = sum(n for _, n in obs.patterns)
        row = [0.0] * len(WEIGHT_KEYS)
        fixed = 0.0
        for flags, n in obs.patterns:
            if flags in capped:
                fixed += EMQ_SCALE * n / copies
                continue
            for k, valid in enumerate(flags):
                if valid:
                    row[k] += n / copies
        rows.append(row)
        targets.append(obs.meta_emq - fixed)
    return rows, targets


def _bounded_ridge(
    rows: list[list[float]], targets: list[float], prior: list[float], strength: float
) -> list[float]:
    """argmin |A w - y|^2 + strength |w - prior|^2 over w >= 0, by coordinate descent (exact at the fixed
    point: the problem is a strictly convex quadratic with bounds)."""
    w = list(prior)
    residual = [
        y - sum(a * x for a, x in zip(row, w, strict=True)) for row, y in zip(rows, targets, strict=True)
    ]
    columns = [[row[k] for row in rows] for k in range(len(prior))]
    for _ in range(_MAX_SWEEPS):
        moved = 0.0
        for k, column in enumerate(columns):
            norm = sum(a * a for a in column) + strength
            pull = (
                sum(a * (r + a * w[k]) for a, r in zip(column, residual, strict=True)) + strength * prior[k]
            )
            new = max(0.0, pull / norm)
            delta = new - w[k]
            if delta:
                residual = [r - a * delta for a, r in zip(column, residual, strict=True)]
                w[k] = new
                moved = max(moved, abs(delta))
        if moved < _TOLERANCE:
            break
    return w


def _objective(
    weights: EmqWeights, observations: Sequence[Observation], prior: EmqWeights, strength: float
) -> float:
    """The fit's objective, with the exact (capped) estimate."""
    values: dict[str, float] = weights.model_dump()
    anchor: dict[str, float] = prior.model_dump()
    misfit = sum((estimate(weights, obs.patterns) - obs.meta_emq) ** 2 for obs in observations)
    return misfit + strength * sum((values[k] - anchor[k]) ** 2 for k in WEIGHT_KEYS)


def fit_weights(
    observations: Sequence[Observation], prior: EmqWeights = CALIBRATED, strength: float = FIT_PRIOR_STRENGTH
) -> EmqWeights:
    """The points closest to Meta's EMQ of ``observations``, held near ``prior`` (module docstring).

    Starts with no combination capped (Meta's figure is at most 10, so the first answer keeps a
    combination Meta scores under 10 under the cap), then holds at 10 the combinations the last answer
    caps, until that set repeats; returns the answer with the lowest objective (capped estimate) seen.
    """
    values = prior.model_dump()
    anchor = [values[key] for key in WEIGHT_KEYS]
    best, best_cost = prior, _objective(prior, observations, prior, strength)
    capped: set[tuple[bool, ...]] = set()
    seen: list[set[tuple[bool, ...]]] = []
    for _ in range(_MAX_ROUNDS):
        rows, targets = _linearized(observations, capped)
        solved = _bounded_ridge(rows, targets, anchor, strength)
        weights = EmqWeights(**dict(zip(WEIGHT_KEYS, solved, strict=True)))
        cost = _objective(weights, observations, prior, strength)
        if cost < best_cost:
            best, best_cost = weights, cost
        seen.append(capped)
        points = weights.model_dump()
        capped = {
            flags for obs in observations for flags, _ in obs.patterns if _points(points, flags) > EMQ_SCALE
        }
        if capped in seen:
            break
    return best


def comparison_window(store: Store, pixel_id: str, day: dt.date) -> tuple[dt.date, dt.date] | None:
    """The ``WINDOW_DAYS`` days of our copies set against a snapshot of ``pixel_id`` fetched on ``day``:
    ending on that day, or on the pixel's last event day when our logs end earlier; None without events."""
    last = store.query(
        "last event of pixel",
        "select max(event_time) from events where pixel_id = $pixel",
        {"pixel": pixel_id},
    ).scalar()
    if not isinstance(last, dt.datetime):
        return None
    end = min(day, last.date())
    return end - dt.timedelta(days=WINDOW_DAYS - 1), end


def _patterns(store: Store, pixel_id: str, window: tuple[dt.date, dt.date]) -> dict[str, list[Pattern]]:
    scope = Scope(date_from=window[0], date_to=window[1], pixel_id=pixel_id)
    found: dict[str, list[Pattern]] = {}
    for row in run_quality(store, "quality_emq_patterns", scope, by_pixel=False):
        flags = tuple(bool(row[key]) for key in WEIGHT_KEYS)
        found.setdefault(row["event_name"], []).append((flags, int(row["copies"])))
    # in one order whatever order the query returns them in: the fit and the estimates add floats, and a
    # figure must not change in its last digit from one computation to the next
    return {name: sorted(patterns) for name, patterns in found.items()}


def _mae(pairs: Sequence[tuple[float, float]]) -> float | None:
    return sum(abs(a - b) for a, b in pairs) / len(pairs) if pairs else None


def _fit_pixel(pixel_id: str, points: list[tuple[EmqFitPoint, Observation]]) -> EmqFit:
    observations = [obs for _, obs in points]
    applied = len(observations) >= MIN_OBSERVATIONS
    weights = fit_weights(observations) if applied else CALIBRATED
    shown = [p.model_copy(update={"fitted": estimate(weights, obs.patterns)}) for p, obs in points]
    return EmqFit(
        pixel_id=pixel_id,
        observations=len(observations),
        applied=applied,
        weights=weights,
        calibrated_mae=_mae([(p.calibrated, p.meta_emq) for p in shown]),
        fitted_mae=_mae([(p.fitted, p.meta_emq) for p in shown]),
        points=shown,
    )


def _compute(store: Store) -> list[EmqFit]:
    snapshots = store.query_file("meta_quality_trend", Scope().params()).dicts()
    by_pixel: dict[str, list[tuple[EmqFitPoint, Observation]]] = {}
    windows: dict[tuple[str, dt.date], tuple[dt.date, dt.date] | None] = {}
    for row in snapshots:
        pixel, day = row["pixel_id"], row["fetched_at"].date()
        if row["emq"] is None:
            continue
        if (pixel, day) not in windows:
            windows[(pixel, day)] = comparison_window(store, pixel, day)
        window = windows[(pixel, day)]
        patterns = _patterns(store, pixel, window).get(row["event_name"], []) if window else []
        if window is None or not patterns:
            continue
        observation = Observation(meta_emq=float(row["emq"]), patterns=patterns)
        point = EmqFitPoint(
            snapshot_id=row["snapshot_id"],
            fetched_at=row["fetched_at"],
            event_name=row["event_name"],
            our_from=window[0],
            our_to=window[1],
            copies=sum(n for _, n in patterns),
            meta_emq=observation.meta_emq,
            calibrated=estimate(CALIBRATED, patterns),
            fitted=estimate(CALIBRATED, patterns),
        )
        by_pixel.setdefault(pixel, []).append((point, observation))
    return [_fit_pixel(pixel, points) for pixel, points in sorted(by_pixel.items())]


#: The tables a fit reads Meta's EMQ from (a Spark location written by its own ingest may lack them).
_SNAPSHOT_TABLES = ("meta_quality_snapshots", "meta_quality_events")


def snapshots_version(store: Store) -> str | None:
    """``dataset_quality.snapshot_version``, or None when the store has no snapshot tables."""
    found = store.query(
        "quality snapshot tables",
        "select count(*) from information_schema.tables where list_contains($names, table_name)",
        {"names": list(_SNAPSHOT_TABLES)},
    ).scalar()
    return snapshot_version(store) if found == len(_SNAPSHOT_TABLES) else None


def emq_fits(store: Store, scope: Scope | None = None) -> list[EmqFit]:
    """The fit of every pixel with Dataset Quality snapshots and copies in their windows (only the scope's
    pixel when it names one), computed once per data and snapshot version."""
    version = snapshots_version(store)
    if version is None:
        return []
    rows = memoized(store, ("emq_fits", version), lambda: [fit.model_dump() for fit in _compute(store)])
    fits = [EmqFit.model_validate(row) for row in rows]
    pixel = scope.pixel_id if scope is not None else None
    return [fit for fit in fits if pixel is None or fit.pixel_id == pixel]


def pixel_weights(store: Store) -> PixelWeights:
    """The points each pixel's estimate uses: fitted where a fit is applied, the calibration elsewhere."""
    return PixelWeights(per_pixel={fit.pixel_id: fit.weights for fit in emq_fits(store) if fit.applied})
