"""Match-key coverage and the estimated EMQ (SPEC §4, reference §4), with its what-if.

Coverage mirrors Meta's ``match_key_feedback``: the share of copies with a *valid* value of each key.
The EMQ here is our transparent heuristic, never Meta's score: the weights live in ``EmqWeights`` only,
and every result carries ``EMQ_LABEL``. Validity and scoring are SQL (``quality_match_keys.sql``,
``quality_emq.sql``); this module binds weights and shapes results.
"""

from __future__ import annotations

from typing import Any

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
#: Meta's guidance: aim for an EMQ of 6.0 or higher (reference §4).
EMQ_GOAL = 6.0


class EmqWeights(BaseModel):
    """Weight of each valid key in the estimate (reference §4, "our inference"); fn and ln count together."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    em: float = Field(default=3.0, ge=0)
    ph: float = Field(default=3.0, ge=0)
    external_id: float = Field(default=2.0, ge=0)
    fbc: float = Field(default=2.0, ge=0)
    fbp: float = Field(default=1.0, ge=0)
    client_ip_address: float = Field(default=1.0, ge=0)
    client_user_agent: float = Field(default=0.5, ge=0)
    fn_ln: float = Field(default=1.0, ge=0)
    ct: float = Field(default=0.25, ge=0)
    st: float = Field(default=0.25, ge=0)
    zp: float = Field(default=0.25, ge=0)
    country: float = Field(default=0.25, ge=0)
    db: float = Field(default=0.25, ge=0)
    ge: float = Field(default=0.25, ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> EmqWeights:
        if self.total <= 0:
            raise ValueError("at least one EMQ weight must be positive")
        return self

    @property
    def total(self) -> float:
        """Sum of all weights: the score of a copy with every key valid, scaled to 10."""
        return float(sum(self.model_dump().values()))

    def params(self) -> dict[str, float]:
        """SQL parameters ``$w_<key>`` and ``$w_total``."""
        return {**{f"w_{key}": value for key, value in self.model_dump().items()}, "w_total": self.total}


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


def _emq_rows(
    store: Store, scope: Scope, weights: EmqWeights, key: str | None, coverage: float | None, by_pixel: bool
) -> list[dict[str, Any]]:
    rows = run_quality(
        store, "quality_emq", scope, by_pixel=by_pixel, key=key, coverage=coverage, **weights.params()
    )
    return sorted(rows, key=lambda r: (r["pixel_id"] or "", r["event_name"] or ""))


def emq_estimates(
    store: Store, scope: Scope, weights: EmqWeights | None = None, *, by_pixel: bool = False
) -> list[EmqEstimate]:
    """Estimated EMQ per event: mean over server website copies of 10 x valid-key weight / total weight.

    Meta scores server web events only, so browser copies and non-website action sources are left out.
    """
    rows = _emq_rows(store, scope, weights or EmqWeights(), None, None, by_pixel)
    return [
        EmqEstimate(pixel_id=r["pixel_id"], event_name=r["event_name"], copies=r["copies"], score=r["score"])
        for r in rows
    ]


def emq_what_if(
    store: Store,
    scope: Scope,
    key: str,
    coverage: float,
    weights: EmqWeights | None = None,
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
    rows = _emq_rows(store, scope, weights or EmqWeights(), key, coverage, by_pixel)
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
        )
        for r in rows
    ]
