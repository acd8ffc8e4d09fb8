"""Match-key coverage and the estimated EMQ (SPEC §4, reference §4), with its what-if.

Coverage mirrors Meta's ``match_key_feedback``: the share of copies with a *valid* value of each key.
The EMQ here is our transparent estimate, never Meta's score: each valid key of a server website copy is
worth points on Meta's 0-10 scale (``EmqWeights``, calibrated to published reference points), a copy
scores the sum of its points (at most 10), and an event the mean over its copies. Every result carries
``EMQ_LABEL``. When the store holds Meta's own EMQ (Dataset Quality snapshots) a pixel's points are fitted
to it (``emq_fit``); the estimate functions take either one ``EmqWeights`` or ``PixelWeights`` (one set
per pixel). Validity and scoring are SQL (``quality_match_keys.sql``, ``quality_emq.sql``); this module
binds weights, combines pixels scored with different weights, and shapes results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from capi_core.metrics.quality_sql import run_quality
from capi_core.models import Scope
from capi_core.store import Store

#: Keys of match-key coverage, in Meta's rough order of matching power.
COVERAGE_KEYS: tuple[str, ...] = (
    "em", "ph", "external_id", "fbp", "fbc", "client_ip_address", "client_user_agent",
    "fn", "ln", "ct", "st", "zp", "country", "db", "ge",
)  # fmt: skip
EMQ_LABEL = "Estimated EMQ (not Meta's score)"
#: Meta: "aim for an Event Match Quality score of 6.0 or higher"
#: (https://developers.facebook.com/documentation/ads-commerce/conversions-api/verifying-setup, reference §4).
#: Our estimate is calibrated to Meta's scale, so it is held against Meta's goal as it is.
EMQ_GOAL = 6.0
#: The top of Meta's scale: EMQ is a score "out of 10" (Dataset Quality API,
#: https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api).
EMQ_SCALE = 10.0
#: Where the estimate's points come from: the published calibration, a fit to Meta's EMQ of the copy's
#: pixel, weights a caller chose, or several of these (an event whose pixels were scored differently).
WeightsSource = Literal["calibrated", "fitted", "custom", "mixed"]


class EmqWeights(BaseModel):
    """Points on Meta's 0-10 scale for each valid key of a server website copy; fn and ln count together.

    A copy scores the sum of its valid keys' points, capped at 10. Meta publishes no formula or weights
    (reference §4, §10): Meta only says its score "is calculated by looking at which customer information
    parameters are received from your server, the quality of the information received and the percent of
    event instances that are matched to a Facebook account" (``composite_score``,
    https://developers.facebook.com/docs/marketing-api/reference/ads-pixel-capiemq). The defaults are
    calibrated to published third-party measurements of Meta's score:

    ================================================  ==============  ===============================
    reference point (source)                          published       defaults give
    ================================================  ==============  ===============================
    fbp + IP + user agent (IP-derived geo) [1]         ~5.2            2.0 + 1.8 + 1.4 = 5.2
    + email, phone and name, conversion events [1]     8.3-9.3         5.2 + 2.0 + 1.0 + 0.3 = 8.5
    email + phone + fbp + IP + user agent [2]          8-10            8.2
    server-side without email / phone / name [3]       at most 6.5     + fbc 0.7 + external_id 0.5 = 6.4
    fbc (Meta's Parameter Builder claim) [4]           +0.7            fbc 0.7
    10/10 only with almost every parameter [5]         10              all points sum to 10
    ================================================  ==============  ===============================

    [1] PixelFlow, "How EMQ Scores Are Actually Calculated" (reverse-engineered: "Base Score (Always
    Available): 5.2/10" from fbp, IP address, user agent and IP-derived geography; "8.3-9.3/10 for
    conversion events"), https://docs.pixelflow.so/articles/understanding-event-match-quality-and-diagnostics-warnings-4ihkn
    [2] adlibrary.com EMQ scorer ("brands sending hashed email + phone + fbp + IP + UA score 8-10"),
    https://adlibrary.com/tools/emq-scorer
    [3] 4P Marketing, "EMQ Score Explained" (Feb 2026: "Server-side without match data maxes out at EMQ
    6.5"), https://www.4pmarketing.de/en/insights/emq-score
    [4] Meta's Events Manager recommendation for the Parameter Builder (fbc: EMQ +0.7), quoted by [1];
    reference §4 (the source text itself is unconfirmed).
    [5] AccuraCast ("A perfect score (10/10) is only awarded to CAPI implementations that send almost all
    available parameters for nearly 100% of server events"),
    https://www.accuracast.com/articles/social-marketing/facebook-event-match-quality/

    Our choices where the sources give no split: fbp 2.0, IP 1.8, user agent 1.4 of [1]'s base (fbp
    names the browser, IP and user agent only narrow it down); email is the strongest key (Meta names it
    first among high-quality parameters, reference §4), so it takes 2.0 of the 3.3 the contact keys add;
    city, state, zip and country add little over the geography Meta derives from the IP [1], date of birth
    and gender little more: 0.3 between them. [2] also puts external_id alone at 3-5, which no sum of points
    can square with [1] and [3] together: we follow the two measurements over the scorer's claim.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    em: float = Field(default=2.0, ge=0)
    ph: float = Field(default=1.0, ge=0)
    external_id: float = Field(default=0.5, ge=0)
    fbc: float = Field(default=0.7, ge=0)
    fbp: float = Field(default=2.0, ge=0)
    client_ip_address: float = Field(default=1.8, ge=0)
    client_user_agent: float = Field(default=1.4, ge=0)
    fn_ln: float = Field(default=0.3, ge=0)
    ct: float = Field(default=0.05, ge=0)
    st: float = Field(default=0.05, ge=0)
    zp: float = Field(default=0.05, ge=0)
    country: float = Field(default=0.05, ge=0)
    db: float = Field(default=0.06, ge=0)
    ge: float = Field(default=0.04, ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> EmqWeights:
        if self.total <= 0:
            raise ValueError("at least one EMQ weight must be positive")
        return self

    @property
    def total(self) -> float:
        """Sum of all points: a copy with every key valid scores min(10, total)."""
        return float(sum(self.model_dump().values()))

    def params(self) -> dict[str, float]:
        """SQL parameters ``$w_<key>`` (points) and ``$w_total``: the points worth a score of 10.

        ``$w_total`` is ``EMQ_SCALE``: the SQL's 10 x points / $w_total is then the copy's points, on
        Meta's scale (queries written before the calibration divided by the sum of the weights).
        """
        return {**{f"w_{key}": value for key, value in self.model_dump().items()}, "w_total": EMQ_SCALE}


#: The weight names, in the order of ``EmqWeights`` (one SQL column each in ``quality_emq_patterns.sql``).
WEIGHT_KEYS: tuple[str, ...] = tuple(EmqWeights.model_fields)
#: The calibrated defaults.
CALIBRATED = EmqWeights()


class PixelWeights(BaseModel):
    """The points of each pixel: ``per_pixel`` (fitted to Meta's EMQ of that pixel), else ``default``."""

    model_config = ConfigDict(frozen=True)

    default: EmqWeights = CALIBRATED
    per_pixel: dict[str, EmqWeights] = Field(default_factory=dict)

    def source(self, pixel_id: str | None) -> WeightsSource:
        """Where a pixel's points come from."""
        if pixel_id is not None and pixel_id in self.per_pixel:
            return "fitted"
        return _source(self.default)


def _source(weights: EmqWeights) -> WeightsSource:
    return "calibrated" if weights == CALIBRATED else "custom"


class MatchKeyCoverage(BaseModel):
    """Valid-key coverage of one event_name x channel (x pixel when asked)."""

    model_config = ConfigDict(frozen=True)

    pixel_id: str | None = None
    event_name: str | None
    channel: str
    copies: int
    coverage: dict[str, float]  # key -> share of copies with a valid value, 0..1


class EmqEstimate(BaseModel):
    """Estimated EMQ of one event (server copies with action_source website)."""

    model_config = ConfigDict(frozen=True)

    label: str = EMQ_LABEL
    pixel_id: str | None = None
    event_name: str | None
    copies: int
    score: float  # 0..10
    weights: WeightsSource = "calibrated"


class EmqWhatIf(BaseModel):
    """The estimate of one event if ``key``'s valid coverage were ``coverage``."""

    model_config = ConfigDict(frozen=True)

    label: str = EMQ_LABEL
    pixel_id: str | None = None
    event_name: str | None
    copies: int
    key: str
    current_coverage: float
    coverage: float
    current: float
    estimate: float
    weights: WeightsSource = "calibrated"


def match_key_coverage(store: Store, scope: Scope, *, by_pixel: bool = False) -> list[MatchKeyCoverage]:
    """Per event_name x channel, the share of copies with a valid value of each key of ``COVERAGE_KEYS``."""
    rows = run_quality(store, "quality_match_keys", scope, by_pixel=by_pixel)
    result = [
        MatchKeyCoverage(
            pixel_id=row["pixel_id"],
            event_name=row["event_name"],
            channel=row["channel"],
            copies=row["copies"],
            coverage={key: float(row[key]) for key in COVERAGE_KEYS},
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: (r.pixel_id or "", r.event_name or "", r.channel))


Weights = EmqWeights | PixelWeights


def _run_emq(
    store: Store, scope: Scope, weights: EmqWeights, key: str | None, coverage: float | None, by_pixel: bool
) -> list[dict[str, Any]]:
    return run_quality(
        store, "quality_emq", scope, by_pixel=by_pixel, key=key, coverage=coverage, **weights.params()
    )


def _weighted_mean(rows: Sequence[dict[str, Any]], column: str) -> float | None:
    if any(r[column] is None for r in rows):
        return None
    copies = sum(int(r["copies"]) for r in rows)
    return sum(int(r["copies"]) * float(r[column]) for r in rows) / copies if copies else None


def _combine(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-pixel rows of one event folded into one: every figure is a mean over copies (the what-if too:
    (1 - c) x mean(without) + c x mean(with) is linear in the means), so the copy-weighted mean of the
    pixels' figures is the figure over all their copies."""
    events: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        events.setdefault(row["event_name"], []).append(row)
    combined = []
    for name, members in events.items():
        sources = {m["weights"] for m in members}
        combined.append(
            {
                "pixel_id": None,
                "event_name": name,
                "copies": sum(int(m["copies"]) for m in members),
                "score": _weighted_mean(members, "score"),
                "key_coverage": _weighted_mean(members, "key_coverage"),
                "what_if": _weighted_mean(members, "what_if"),
                "weights": sources.pop() if len(sources) == 1 else "mixed",
            }
        )
    return combined


def _emq_rows(
    store: Store, scope: Scope, weights: Weights, key: str | None, coverage: float | None, by_pixel: bool
) -> list[dict[str, Any]]:
    """Rows of ``quality_emq.sql``, each pixel scored with its own points (one query per fitted pixel in
    scope, one for the rest), tagged with where the points come from."""
    if isinstance(weights, EmqWeights):
        weights = PixelWeights(default=weights)
    fitted = {p: w for p, w in weights.per_pixel.items() if scope.pixel_id in (None, p)}
    if not fitted:
        rows = _run_emq(store, scope, weights.default, key, coverage, by_pixel)
        rows = [{**r, "weights": weights.source(r["pixel_id"] if by_pixel else None)} for r in rows]
    else:
        rows = [
            {**r, "weights": weights.source(None)}
            for r in _run_emq(store, scope, weights.default, key, coverage, True)
            if r["pixel_id"] not in fitted
        ]
        for pixel, points in sorted(fitted.items()):
            own = scope.model_copy(update={"pixel_id": pixel})
            rows += [{**r, "weights": "fitted"} for r in _run_emq(store, own, points, key, coverage, True)]
        if not by_pixel:
            rows = _combine(rows)
    return sorted(rows, key=lambda r: (r["pixel_id"] or "", r["event_name"] or ""))


def emq_estimates(
    store: Store, scope: Scope, weights: Weights | None = None, *, by_pixel: bool = False
) -> list[EmqEstimate]:
    """Estimated EMQ per event: the mean over server website copies of their valid keys' points (at most
    10 each), with ``weights`` (the calibrated defaults unless given; ``PixelWeights``: per pixel).

    Meta scores server web events only, so browser copies and non-website action sources are left out.
    """
    rows = _emq_rows(store, scope, weights or CALIBRATED, None, None, by_pixel)
    return [
        EmqEstimate(
            pixel_id=r["pixel_id"],
            event_name=r["event_name"],
            copies=r["copies"],
            score=r["score"],
            weights=r["weights"],
        )
        for r in rows
    ]


def emq_what_if(
    store: Store,
    scope: Scope,
    key: str,
    coverage: float,
    weights: Weights | None = None,
    *,
    by_pixel: bool = False,
) -> list[EmqWhatIf]:
    """The estimate per event if ``key``'s valid coverage were ``coverage`` (0..1; may be below today's).

    Assumes the key's presence is independent of the other keys: each copy is scored without and with
    the key, and estimate = (1 - coverage) x mean(without) + coverage x mean(with).
    """
    if key not in COVERAGE_KEYS:
        raise ValueError(f"unknown match key {key!r}")
    if not 0.0 <= coverage <= 1.0:
        raise ValueError("coverage must be between 0 and 1")
    rows = _emq_rows(store, scope, weights or CALIBRATED, key, coverage, by_pixel)
    return [
        EmqWhatIf(
            pixel_id=r["pixel_id"],
            event_name=r["event_name"],
            copies=r["copies"],
            key=key,
            current_coverage=r["key_coverage"],
            coverage=coverage,
            current=r["score"],
            estimate=r["what_if"],
            weights=r["weights"],
        )
        for r in rows
    ]
