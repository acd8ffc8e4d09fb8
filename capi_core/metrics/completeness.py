"""Parameter completeness (SPEC §4): per event_name x channel and parameter, share present and valid.

The parameter list, requirements and validity rules live in ``queries/quality_completeness.sql`` only;
this module folds its outcome rows into one typed row per parameter. It must not decide validity itself.
The SQL always groups by pixel and UTC day and runs over the whole store once per data version (memoized:
one computation serves the report, the PARAM_* checks and every filter change); a scope's figures are the
sums over the days, pixel and names it covers (``metrics.by_day``), and their examples the smallest of the
covered days' ones. The all-pixel figures are sums of the per-pixel ones in the same way.

"Required" is Meta's requirement (the SQL's ``requirement`` column) or the pixel's event contract's
(``capi_core.contracts.library``; the default contract when the pixel has none): a parameter Meta only
recommends becomes required where the contract requires it for that event. A contract cannot lower what Meta
requires. Across pixels a parameter is required when any pixel requires it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from capi_core.contracts.library import contracts_for, default_contract, requirements
from capi_core.metrics import by_day
from capi_core.metrics.memo import hashable, memoized
from capi_core.metrics.quality_sql import examples, run_quality
from capi_core.models import Scope
from capi_core.store import Store

Requirement = Literal["required", "recommended"]
_EXAMPLES = 5  # example ids per outcome, as the SQL keeps them
#: What one outcome row is about; its ``copies`` add up over days and its ``examples`` merge.
_OUTCOME_KEYS = (
    "pixel_id", "event_name", "channel", "ordinal", "parameter", "requirement", "applies_to", "source",
    "outcome",
)  # fmt: skip


class CompletenessRow(BaseModel):
    """One parameter of one event_name x channel (x pixel when asked)."""

    model_config = ConfigDict(frozen=True)

    pixel_id: str | None = None
    event_name: str | None
    channel: str
    parameter: str
    requirement: Requirement
    applies_to: str  # which copies the parameter is checked on
    source: str  # the Meta page that states the requirement (quality_completeness.sql's table)
    copies: int  # copies the parameter applies to
    present: int
    valid: int
    share_present: float
    share_valid: float
    outcomes: dict[str, int]  # valid | missing | malformed | milliseconds | iso_text | ...
    examples: dict[str, list[str]]  # up to 5 example ids per outcome other than valid


def completeness(store: Store, scope: Scope, *, by_pixel: bool = False) -> list[CompletenessRow]:
    """Parameter completeness over ``scope``, ordered by event, channel and the parameter list."""
    rows = _with_contract_requirements(store, _scoped_outcomes(store, scope))
    if not by_pixel:
        rows = _across_pixels(rows)
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        key = (row["pixel_id"], row["event_name"], row["channel"], row["ordinal"], row["parameter"])
        groups.setdefault(key, []).append(row)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0] or "", item[0][1] or "", *item[0][2:4]))
    return [_fold(rows) for _, rows in ordered]


def _scoped_outcomes(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """The per-day outcome rows folded into ``scope``, once per scope and data version (the report and
    the PARAM_* checks all read them)."""

    def fold() -> list[dict[str, Any]]:
        days = run_quality(store, "quality_completeness", Scope())
        return by_day.fold(days, scope, keys=_OUTCOME_KEYS, sums=("copies",), lists=("examples",))

    key = ("quality_completeness in scope", *sorted((k, hashable(v)) for k, v in scope.params().items()))
    return memoized(store, key, fold)


def _with_contract_requirements(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose parameter the pixel's contract requires for the event marked required."""
    pixels = sorted({row["pixel_id"] for row in rows if row["pixel_id"] is not None})
    by_pixel = {pixel: requirements(contract) for pixel, contract in contracts_for(store, pixels).items()}
    fallback = requirements(default_contract())
    for row in rows:
        if row["requirement"] == "required":
            continue
        levels = by_pixel.get(row["pixel_id"], fallback).get(row["event_name"] or "", {})
        if levels.get(row["parameter"]) == "required":
            row["requirement"] = "required"
            row["applies_to"] = f"{row['applies_to']} (required by the event contract)"
    return rows


def _across_pixels(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outcome rows summed over pixels (pixel_id None), keeping the 5 smallest example ids.

    Python's string order is code point order, the same as DuckDB's byte order of UTF-8 text, so the
    examples are those SQL's ``min(example_id, 5)`` would pick over all pixels at once.
    """
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["event_name"], row["channel"], row["ordinal"], row["parameter"], row["outcome"])
        found = merged.get(key)
        if found is None:
            merged[key] = {**row, "pixel_id": None, "examples": list(row["examples"] or [])}
            continue
        found["copies"] += row["copies"]
        found["examples"] = sorted([*found["examples"], *(row["examples"] or [])])[:_EXAMPLES]
    return list(merged.values())


def _fold(rows: list[dict[str, Any]]) -> CompletenessRow:
    # pixels' contracts may differ: the parameter is required when any pixel's row says so
    first = next((row for row in rows if row["requirement"] == "required"), rows[0])
    outcomes = {row["outcome"]: int(row["copies"]) for row in rows}
    copies = sum(outcomes.values())
    present = copies - outcomes.get("missing", 0)
    valid = outcomes.get("valid", 0)
    return CompletenessRow(
        pixel_id=first["pixel_id"],
        event_name=first["event_name"],
        channel=first["channel"],
        parameter=first["parameter"],
        requirement=first["requirement"],
        applies_to=first["applies_to"],
        source=first["source"],
        copies=copies,
        present=present,
        valid=valid,
        share_present=present / copies,
        share_valid=valid / copies,
        outcomes=outcomes,
        examples={row["outcome"]: examples(row["examples"]) for row in rows if row["outcome"] != "valid"},
    )
