"""Dedup metrics (SPEC §4): outcomes per event, key usage and overlap, would-be pairs, one copy's verdict.

Reads the ``copy_verdicts`` derived table (Meta's dedup model, ``queries/dedup_model.sql``) and the
``dedup_*.sql`` queries; only aggregates and short pair lists come back. This module must not decide a
verdict itself: the model is SQL, computed once per store change.

``dedup_facts`` (one pass over every copy and its verdict, per pixel x event name x channel x day) runs
once per store and data version (memoized) and is folded into each scope (``by_day``): the report's
dedup section and the dedup checks that count the same copies (missing event_id, same-channel repeats,
event coverage) share that one computation, and a filter change only folds its rows. ``dedup_key_merges``
(the server copies with an event_id that Meta may still merge by fbp / external_id: the range of Meta's
count) is computed and folded the same way, over the stored verdicts, without touching the model.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from capi_core.metrics import by_day
from capi_core.metrics.memo import memoized
from capi_core.models import Scope
from capi_core.store import Store

FailureReason = Literal["missing_id", "name_mismatch", "id_mismatch", "outside_window", "different_pixel"]
FAILURE_REASONS: tuple[str, ...] = (
    "missing_id", "name_mismatch", "id_mismatch", "outside_window", "different_pixel",
)  # fmt: skip
DEDUP_KEYS: tuple[str, ...] = ("event_id", "external_id", "fbp")
#: Meta's goal for event coverage (Dataset Quality API ``goal_percentage``).
COVERAGE_GOAL = 0.75
#: Meta shows event coverage as "the 7-day average percent of Pixel events that are covered by the
#: Conversions API and share deduplication keys with events from the Conversions API" (Dataset Quality API,
#: https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api).
COVERAGE_DAYS = 7
#: Why Meta's count is a range (issue 13, case 3): Meta's own words and what the model assumes.
KEY_MERGE_REASON = (
    'Meta says: "If you have configured the external_id and/or fbp parameters to be passed via both '
    'browser and server, we take care to remove duplicate events automatically" '
    "(https://developers.facebook.com/documentation/ads-commerce/conversions-api/guides/"
    "end-to-end-implementation), but documents that fbp / external_id merge only for events without an "
    "event_id (https://developers.facebook.com/documentation/ads-commerce/conversions-api/"
    "deduplicate-pixel-and-server-events). A server copy that carries an event_id but no browser twin with "
    "that id may still be merged with an earlier browser copy (within 48 h) sharing its fbp or external_id: "
    "the lower bound assumes Meta merges them, the upper bound (our point estimate) that it counts them."
)


class KeyUsage(BaseModel):
    """Meta's dedup-key feedback for one key: share of each channel's copies carrying it, and overlap.

    Overlap, Meta (Events Manager, Event Deduplication tab): "the percentage of events with a given dedupe
    key received from both sources (as a percentage of the source with the fewest events received)"
    (https://developers.facebook.com/documentation/ads-commerce/conversions-api/verifying-setup). Ours
    counts events, not key values: per key value, min(browser copies, server copies) carrying it are
    events received from both sources (paired one to one); their sum over the values / the copies carrying
    the key on the channel with fewer. Symmetric in the two channels, at most 1.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    browser_share: float | None
    server_share: float | None
    overlap: float | None


class DedupEventStats(BaseModel):
    """Dedup outcome of one pixel and event name in scope.

    ``event_coverage`` is Meta's event coverage ("the 7-day average percent of Pixel events that are
    covered by the Conversions API and share deduplication keys with events from the Conversions API",
    https://developers.facebook.com/documentation/ads-commerce/conversions-api/dataset-quality-api) over
    the scope: unique browser events (``browser_events``) sharing event_id, external_id or fbp with a
    server copy of the same pixel and event name that Meta accepted / unique browser events (definition in
    ``queries/fragments/browser_events.sql``). ``event_id_coverage`` is the same share by event_id alone.
    ``event_coverage_7d`` is Meta's figure the way Events Manager shows it: the 7 UTC days ending on
    ``event_coverage_7d_to`` (the scope's last day with copies), one ratio over the 7 days' events.

    ``estimated_meta_count`` is the dedup model's point estimate; ``estimated_meta_count_range`` is Meta's
    count as (lower, upper) bound where the model depends on undocumented behaviour: ``key_merges``
    server copies carrying an event_id that Meta may still merge into an earlier browser copy by fbp or
    external_id (``KEY_MERGE_REASON``; ``queries/dedup_key_merges.sql``). Lower = point - key_merges (if
    Meta merges them), upper = the point estimate (if not); ``key_merge_examples``: their event_ids.
    """

    model_config = ConfigDict(frozen=True)

    pixel_id: str | None
    event_name: str | None
    browser: int
    server: int
    merged_pairs: int
    would_be_pairs: int
    dedup_health: float | None
    browser_events: int
    event_coverage: float | None
    event_id_coverage: float | None
    event_coverage_7d: float | None
    event_coverage_7d_to: dt.date | None
    dedup_rate_browser: float | None
    dedup_rate_server: float | None
    estimated_meta_count: int
    estimated_meta_count_range: tuple[int, int]
    key_merges: int
    key_merge_examples: list[str]
    key_usage: list[KeyUsage]


class WouldBePair(BaseModel):
    """A browser and a server copy of one conversion that Meta counts twice, and why."""

    model_config = ConfigDict(frozen=True)

    browser_fingerprint: str
    browser_occurrence: int
    server_fingerprint: str
    server_occurrence: int
    browser_pixel_id: str | None
    server_pixel_id: str | None
    browser_event_name: str | None
    server_event_name: str | None
    browser_event_id: str | None
    server_event_id: str | None
    browser_order_id: str | None
    server_order_id: str | None
    browser_received_at: dt.datetime
    server_received_at: dt.datetime
    matched_on: str  # event_id | order_id | fbp | external_id | em
    reason: FailureReason


class CopyVerdict(BaseModel):
    """The dedup verdict of one copy, explained in a sentence (for the event inspector)."""

    model_config = ConfigDict(frozen=True)

    fingerprint: str
    occurrence: int
    channel: str
    event_name: str | None
    event_id: str | None
    dedup_key: str | None
    window_no: int | None
    verdict: Literal["counted", "discarded"]
    reason: str | None
    merged: bool
    kept_fingerprint: str
    kept_occurrence: int
    same_channel_repeat: bool
    explanation: str


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _pair_counts(store: Store, scope: Scope) -> list[dict[str, Any]]:
    return store.query_file("dedup_pairs_by_event", scope.params()).dicts()


def _key_usage(store: Store, scope: Scope) -> dict[tuple[Any, Any], list[KeyUsage]]:
    usage: dict[tuple[Any, Any], list[KeyUsage]] = {}
    for row in store.query_file("dedup_key_usage", scope.params()).dicts():
        fewer = min(row["browser_with_key"], row["server_with_key"])
        usage.setdefault((row["pixel_id"], row["event_name"]), []).append(
            KeyUsage(
                key=row["dedup_key_name"],
                browser_share=_ratio(row["browser_with_key"], row["browser_copies"]),
                server_share=_ratio(row["server_with_key"], row["server_copies"]),
                overlap=_ratio(row["both_sources"], fewer),
            )
        )
    return usage


_FACT_COUNTS = (
    "copies", "merged_pairs", "browser_deduplicated", "server_deduplicated", "browser_events", "covered",
    "id_covered", "counted", "missing_id", "repeats",
)  # fmt: skip


def _fact_rows(store: Store) -> list[dict[str, Any]]:
    return memoized(store, ("dedup_facts",), lambda: store.query_file("dedup_facts").dicts())


def key_merges(store: Store, scope: Scope) -> dict[tuple[Any, Any], dict[str, Any]]:
    """Per (pixel_id, event_name) in ``scope``: the server copies with an event_id that Meta may still merge
    by fbp or external_id (``key_merges``, ``fbp_merges``, ``external_id_merges``, ``key_merge_examples``),
    each dated by its own event_time. ``dedup_key_merges.sql`` runs once per data version."""
    rows = memoized(store, ("dedup_key_merges",), lambda: store.query_file("dedup_key_merges").dicts())
    folded = by_day.fold(
        rows,
        scope,
        keys=("pixel_id", "event_name"),
        sums=("key_merges", "fbp_merges", "external_id_merges"),
        distinct_lists=("key_merge_examples",),
    )
    return {(row["pixel_id"], row["event_name"]): row for row in folded}


def dedup_facts(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """``dedup_facts.sql`` folded into ``scope``: one row per pixel, event name and channel (in that
    order), with the counts and the smallest examples (the query itself runs once per data version)."""
    rows = _fact_rows(store)
    return by_day.fold(
        rows,
        scope,
        keys=("pixel_id", "event_name", "channel"),
        sums=_FACT_COUNTS,
        distinct_lists=("uncovered_examples", "repeat_examples"),
        lists=("missing_id_examples",),
    )


def facts_by_event(facts: list[dict[str, Any]]) -> dict[tuple[Any, Any], dict[str, dict[str, Any]]]:
    """``dedup_facts`` rows grouped per (pixel_id, event_name), then per channel (in the query's order)."""
    grouped: dict[tuple[Any, Any], dict[str, dict[str, Any]]] = {}
    for row in facts:
        grouped.setdefault((row["pixel_id"], row["event_name"]), {})[row["channel"]] = row
    return grouped


def _total(channels: dict[str, dict[str, Any]], column: str) -> int:
    return sum(int(row[column] or 0) for row in channels.values())


def coverage_7d_scope(store: Store, scope: Scope) -> Scope | None:
    """The scope of the 7-day event coverage: the ``COVERAGE_DAYS`` UTC days ending on the scope's last
    day with copies (its pixel and event names kept); None when the scope holds no dated copy.

    The 7 days may reach before the scope's first day: Meta's figure always spans 7 days.
    """
    days = [r["day"] for r in _fact_rows(store) if r["day"] is not None and by_day.covers(scope, r)]
    if not days:
        return None
    end: dt.date = max(days)
    start = end - dt.timedelta(days=COVERAGE_DAYS - 1)
    return scope.model_copy(update={"date_from": start, "date_to": end})


def _coverage_7d(store: Store, scope: Scope) -> tuple[dict[tuple[Any, Any], float | None], dt.date | None]:
    week = coverage_7d_scope(store, scope)
    if week is None:
        return {}, None
    shares = {
        key: _ratio(_total(channels, "covered"), _total(channels, "browser_events"))
        for key, channels in facts_by_event(dedup_facts(store, week)).items()
    }
    return shares, week.date_to


def dedup_by_event(store: Store, scope: Scope, *, key_usage: bool = True) -> list[DedupEventStats]:
    """Dedup outcome per pixel and event name in scope (SPEC §4 definitions).

    Would-be pairs are attributed to their browser copy's pixel and event name. ``key_usage=False``
    leaves each row's ``key_usage`` empty and skips its query (the Overview's tiles do not show it).
    """
    pairs: dict[tuple[Any, Any], int] = {}
    for row in _pair_counts(store, scope):
        key = (row["pixel_id"], row["event_name"])
        pairs[key] = pairs.get(key, 0) + int(row["pairs"])
    usage = _key_usage(store, scope) if key_usage else {}
    week, week_to = _coverage_7d(store, scope)
    merges = key_merges(store, scope)
    result: list[DedupEventStats] = []
    for key, channels in facts_by_event(dedup_facts(store, scope)).items():
        browser = int(channels["browser"]["copies"]) if "browser" in channels else 0
        server = int(channels["server"]["copies"]) if "server" in channels else 0
        merged, would_be = _total(channels, "merged_pairs"), pairs.get(key, 0)
        events = _total(channels, "browser_events")
        counted, found = _total(channels, "counted"), merges.get(key, {})
        possible = int(found.get("key_merges", 0))
        result.append(
            DedupEventStats(
                pixel_id=key[0],
                event_name=key[1],
                browser=browser,
                server=server,
                merged_pairs=merged,
                would_be_pairs=would_be,
                dedup_health=_ratio(merged, merged + would_be),
                browser_events=events,
                event_coverage=_ratio(_total(channels, "covered"), events),
                event_id_coverage=_ratio(_total(channels, "id_covered"), events),
                event_coverage_7d=week.get(key),
                event_coverage_7d_to=week_to,
                dedup_rate_browser=_ratio(_total(channels, "browser_deduplicated"), browser),
                dedup_rate_server=_ratio(_total(channels, "server_deduplicated"), server),
                estimated_meta_count=counted,
                estimated_meta_count_range=(counted - possible, counted),
                key_merges=possible,
                key_merge_examples=[str(x) for x in found.get("key_merge_examples") or []],
                key_usage=usage.get(key, []),
            )
        )
    return result


def would_be_pairs(store: Store, scope: Scope, limit: int | None = 100) -> list[WouldBePair]:
    """Would-be pairs whose browser copy is in scope, most recent first (all when ``limit`` is None)."""
    params = {**scope.params(), "limit": limit}
    rows = store.query_file("dedup_pairs_in_scope", params).dicts()
    return [WouldBePair(**row) for row in rows]


def failure_reasons(store: Store, scope: Scope) -> dict[str, int]:
    """Number of would-be pairs per reason in scope (every reason present, zero when none)."""
    counts = dict.fromkeys(FAILURE_REASONS, 0)
    for row in _pair_counts(store, scope):
        counts[row["reason"]] += int(row["pairs"])
    return counts


def _minutes(later: dt.datetime, earlier: dt.datetime) -> str:
    minutes = abs((later - earlier).total_seconds()) / 60
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def explain_verdict(row: dict[str, Any]) -> str:
    channel, reason = row["channel"], row["reason"]
    other = "server" if channel == "browser" else "browser"
    if row["received_at"] is None:
        return "Counted: the copy has no receipt time, so it cannot be placed in a dedup window."
    if row["verdict"] == "discarded":
        gap = _minutes(row["received_at"], row["kept_received_at"])
        if reason in ("fbp_match", "external_id_match"):
            key = "fbp" if reason == "fbp_match" else "external_id"
            return (
                f"Discarded: it has no event_id and a browser copy with the same event name and {key} "
                f"arrived {gap} earlier, within Meta's 48 h window."
            )
        if reason == "repeat_in_merged_window":
            return (
                f"Discarded: a {channel} repeat of a conversion already merged across channels; the kept "
                f"{row['kept_channel']} copy arrived {gap} apart, within Meta's 48 h window."
            )
        when = (
            "earlier" if row["kept_received_at"] <= row["received_at"] else "later (Meta favours the browser)"
        )
        return (
            f"Discarded: the {row['kept_channel']} copy with the same event_id arrived {gap} {when}, "
            f"within Meta's 48 h window."
        )
    if row["merged"]:
        if row["event_id"] is None or row["absorbed_channel"] is None:
            return (
                f"Counted: the {other} copy without event_id was merged into this one by fbp / external_id."
            )
        return f"Counted once for both channels: the {other} copy with the same event_id was discarded."
    if row["same_channel_repeat"]:
        return (
            f"Counted again: a repeat of an earlier {channel} copy with the same event_id; Meta does not "
            f"merge same-channel repeats (flagged)."
        )
    if row["event_id"] is None:
        return "Counted: no event_id and no earlier browser copy to merge with; Meta counts it on its own."
    if (row["window_no"] or 1) > 1:
        return (
            f"Counted: it arrived more than 48 h after the first copy with this event_id, so it opens a new "
            f"dedup window (window {row['window_no']})."
        )
    return f"Counted: no {other} copy with the same event_id arrived within Meta's 48 h window."


def copy_verdict(store: Store, fingerprint: str, occurrence: int) -> CopyVerdict | None:
    """The dedup verdict of one copy with a one-sentence explanation; None when there is no such copy."""
    rows = store.query_file(
        "dedup_copy_verdict", {"fingerprint": fingerprint, "occurrence": occurrence}
    ).dicts()
    if not rows:
        return None
    row = rows[0]
    fields = {name: row[name] for name in CopyVerdict.model_fields if name != "explanation"}
    return CopyVerdict(**fields, explanation=explain_verdict(row))
