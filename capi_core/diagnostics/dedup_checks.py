"""Dedup diagnostics (SPEC §5, DEDUP_* and COVERAGE_BELOW_GOAL): each check reads one scoped aggregate.

Verdicts come from the ``copy_verdicts`` derived table and would-be pairs from
``capi_core.metrics.dedup``; this module only turns their aggregates into findings, never re-derives a
verdict. DEDUP_MISSING_EVENT_ID, DEDUP_SAME_CHANNEL_REPEAT and COVERAGE_BELOW_GOAL read
``dedup.dedup_facts`` (one memoized pass, shared with the report's dedup section); DEDUP_OUTSIDE_WINDOW,
DEDUP_REUSED_EVENT_ID, DEDUP_EVENT_NAME_MISMATCH and DEDUP_PIXEL_MISMATCH run their query once per data
version, per day, and fold it into the scope (``metrics.by_day``; the last three list only the ids that
qualify over the whole store, the only ones that can qualify in a scope, and apply their conditions to
the folded counts, as their SQL did over the scope's rows); DEDUP_EVENT_ID_MISMATCH runs its scoped SQL.

Alike checks are written alike: the per-channel ones build their findings with ``_channel_finding``,
and the three that list event_ids (name mismatch, reused id, pixel mismatch) are each declared by one
``_event_ids_check`` call that says what lists the ids, how the finding describes and counts them, and
what narrows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from capi_core import units
from capi_core.diagnostics.registry import CHECKS, CheckFn, Finding, Severity, check
from capi_core.metrics import by_day
from capi_core.metrics.dedup import COVERAGE_GOAL, dedup_facts, facts_by_event
from capi_core.metrics.memo import memoized
from capi_core.models import Scope
from capi_core.queries import load_query
from capi_core.store import Store

#: Browser copies of an event name from which missing server coverage matters even with no server copy.
COVERAGE_MIN_BROWSER = 50
_FIX_ID = (
    "Give each conversion one shared event_id, generated once (order number for Purchase) and passed to "
    "both the Pixel (eventID) and the Conversions API (event_id); write it into the event contract and "
    "name one owner for it."
)


def _rows(store: Store, query: str, scope: Scope | None = None) -> list[dict[str, Any]]:
    return store.query_file(query, scope.params() if scope else None).dicts()


def _per_day(store: Store, query: str) -> list[dict[str, Any]]:
    """A scope-free per-day ``dedup_check_*.sql``, run once per data version."""
    return memoized(store, (query,), lambda: _rows(store, query))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _channel_finding(
    code: str, row: dict[str, Any], count_column: str, examples_column: str, message: str
) -> Finding:
    """A finding on one pixel x event name x channel of ``dedup_facts``: the copies that ``count_column``
    counts (a share of the row's copies), ``examples_column`` listing some of them."""
    count = int(row[count_column])
    return CHECKS[code].finding(
        message,
        count=count,
        share=_share(count, int(row["copies"])),
        examples=row[examples_column] or [],
        pixel_id=row["pixel_id"],
        event_name=row["event_name"],
        channel=row["channel"],
    )


def _shared(rows: list[dict[str, Any]], column: str) -> str | None:
    """The value of ``column`` when every row has the same one, else None."""
    values = {row[column] for row in rows}
    return values.pop() if len(values) == 1 else None


def _event_ids_check(
    code: str,
    severity: Severity,
    description: str,
    fix: str,
    *,
    listed: Callable[[Store, Scope], list[dict[str, Any]]],
    message: Callable[[list[dict[str, Any]]], str],
    counted: Callable[[list[dict[str, Any]]], int] = len,
    narrowed_to: Literal["pixel_id", "event_name"] | None = None,
) -> CheckFn:
    """Register the check ``code``: one finding for the scope over the event_ids that ``listed`` finds in
    it (none when it finds none), with ``message`` describing them, ``counted`` counting them (how many
    event_ids unless it says otherwise), the event_ids as examples, and the pixel or event name that
    ``narrowed_to`` names when every listed row shares one."""

    @check(code, severity, description, fix)
    def listed_event_ids(store: Store, scope: Scope) -> list[Finding]:
        rows = listed(store, scope)
        if not rows:
            return []
        return [
            CHECKS[code].finding(
                message(rows),
                count=counted(rows),
                examples=[row["event_id"] for row in rows],
                pixel_id=_shared(rows, "pixel_id") if narrowed_to == "pixel_id" else None,
                event_name=_shared(rows, "event_name") if narrowed_to == "event_name" else None,
            )
        ]

    return listed_event_ids


@check(
    "DEDUP_MISSING_EVENT_ID",
    "high",
    "Copies without event_id on an event that both channels send: Meta can only merge them by fbp / "
    "external_id, and only when the browser copy arrives first.",
    _FIX_ID,
)
def missing_event_id(store: Store, scope: Scope) -> list[Finding]:
    """Copies without event_id per pixel, event name and channel where both channels send the event."""
    return [
        _channel_finding(
            "DEDUP_MISSING_EVENT_ID",
            row,
            "missing_id",
            "missing_id_examples",
            f"{row['missing_id']} of {row['copies']} {row['channel']} {row['event_name']} copies "
            "carry no event_id",
        )
        for channels in facts_by_event(dedup_facts(store, scope)).values()
        if len([c for c in channels if c is not None]) == 2  # both channels send the event in scope
        for row in channels.values()
        if int(row["missing_id"])
    ]


def _name_mismatches(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Per (pixel, event_id) with, in scope, a browser copy with a name, a server copy and 2+ distinct
    names: the names as 'channel: name' (sorted, distinct) and the copies, ordered by pixel and event_id."""
    folded = by_day.fold(
        _per_day(store, "dedup_check_name_mismatch"),
        scope,
        keys=("pixel_id", "event_id", "event_name", "channel"),
        sums=("copies",),
    )
    ids: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
    for row in folded:  # ordered by pixel and event_id (nulls last), as the SQL listed them before
        ids.setdefault((row["pixel_id"], row["event_id"]), []).append(row)
    mismatched = []
    for (pixel_id, event_id), rows in ids.items():
        channels = {row["channel"] for row in rows}
        names = {row["event_name"] for row in rows if row["event_name"] is not None}
        named_browser = any(r["channel"] == "browser" and r["event_name"] is not None for r in rows)
        if {"browser", "server"} <= channels and len(names) >= 2 and named_browser:
            # SQL's channel || ': ' || event_name: null when either is null, and left out
            labels = {
                f"{r['channel']}: {r['event_name']}"
                for r in rows
                if r["channel"] is not None and r["event_name"] is not None
            }
            mismatched.append(
                {
                    "pixel_id": pixel_id,
                    "event_id": event_id,
                    "names": ", ".join(sorted(labels)),
                    "copies": sum(int(r["copies"]) for r in rows),
                }
            )
    return mismatched


event_name_mismatch = _event_ids_check(
    "DEDUP_EVENT_NAME_MISMATCH",
    "high",
    "The same event_id reaches one pixel on both channels under different event names (e.g. purchase / "
    "Purchase); Meta matches names exactly, so both copies are counted.",
    "Fix the event name in the event contract (Meta's standard CamelCase name) and have the owner of the "
    "channel that deviates send exactly that name with the shared event_id.",
    listed=_name_mismatches,
    message=lambda rows: (
        f"{len(rows)} event_ids are sent under different event names per channel "
        f"({min(row['names'] for row in rows)})"
    ),
    narrowed_to="pixel_id",
)


@check(
    "DEDUP_EVENT_ID_MISMATCH",
    "high",
    "Would-be pairs (one conversion on both channels, same order or user within 10 minutes) whose "
    "event_ids differ, e.g. #1042 / 1042: Meta counts both.",
    "Agree one event_id format in the event contract (same string on both channels: no '#', same case, "
    "no prefix) and derive it in one place that both the Pixel and the server read.",
)
def event_id_mismatch(store: Store, scope: Scope) -> list[Finding]:
    """Would-be pairs with reason id_mismatch, showing both id forms."""
    sql = load_query("dedup_pairs_in_scope")  # reads the derived table would_be_pairs
    pairs = [
        p
        for p in store.query("dedup id mismatch", sql, {**scope.params(), "limit": None}).dicts()
        if p["reason"] == "id_mismatch"
    ]
    if not pairs:
        return []
    me = CHECKS["DEDUP_EVENT_ID_MISMATCH"]
    forms = [f"{p['browser_event_id']} / {p['server_event_id']}" for p in pairs]
    return [
        me.finding(
            f"{len(pairs)} conversions reach Meta twice because browser and server event_ids differ "
            f"(browser / server: {forms[0]})",
            count=len(pairs),
            examples=forms,
        )
    ]


@check(
    "DEDUP_OUTSIDE_WINDOW",
    "medium",
    "The same dedup key arrives on both channels more than 48 h apart: the later copies open a new window "
    "and Meta counts the conversion again.",
    "Send the server copy in real time (and cap retries well under 48 h) so both channels' copies of the "
    "shared event_id reach Meta inside one window; make the sender's retry policy part of the event "
    "contract.",
)
def outside_window(store: Store, scope: Scope) -> list[Finding]:
    """Counted copies of keys seen on both channels but in different 48 h windows (the query runs once
    per data version, per day; ``by_day`` folds it into the scope)."""
    me = CHECKS["DEDUP_OUTSIDE_WINDOW"]
    days = memoized(
        store, ("dedup_check_outside_window",), lambda: _rows(store, "dedup_check_outside_window")
    )
    return [
        me.finding(
            f"{row['copies']} {row['event_name']} copies are counted again: their other-channel twin "
            "with the same event_id arrived more than 48 h apart",
            count=int(row["copies"]),
            examples=row["examples"] or [],
            pixel_id=row["pixel_id"],
            event_name=row["event_name"],
        )
        for row in by_day.fold(
            days, scope, keys=("pixel_id", "event_name"), sums=("copies",), distinct_lists=("examples",)
        )
    ]


def _reused_ids(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Per (pixel, event name, event_id) in scope with 2+ order ids, 3+ users (the most distinct fbp,
    external_id or em values) or 3+ days of receipt: copies and those counts, most copies first."""
    folded = by_day.fold(
        _per_day(store, "dedup_check_reused_id"),
        scope,
        keys=("pixel_id", "event_name", "event_id"),
        sums=("copies",),
        sets=("orders", "fbps", "external_ids", "ems", "received_days"),
    )
    counted = [
        {
            "pixel_id": row["pixel_id"],
            "event_name": row["event_name"],
            "event_id": row["event_id"],
            "copies": row["copies"],
            "orders": len(row["orders"]),
            "users": max(len(row["fbps"]), len(row["external_ids"]), len(row["ems"])),
            "days": len(row["received_days"]),
        }
        for row in folded
    ]
    reused = [r for r in counted if r["orders"] >= 2 or r["users"] >= 3 or r["days"] >= 3]
    # stable: ties keep the fold's order by pixel, event name and event_id (nulls last)
    return sorted(reused, key=lambda r: -int(r["copies"]))


def _reused_copies(rows: list[dict[str, Any]]) -> int:
    """The copies that carry the reused event_ids (the finding counts them, not the ids)."""
    return sum(int(row["copies"]) for row in rows)


def _reused_message(rows: list[dict[str, Any]]) -> str:
    top = rows[0]
    return (
        f"{len(rows)} event_ids are reused across conversions ({_reused_copies(rows)} copies); e.g. "
        f"'{top['event_id']}' on {top['event_name']}: {top['orders']} orders, {top['users']} users, "
        f"{top['days']} days"
    )


reused_event_id = _event_ids_check(
    "DEDUP_REUSED_EVENT_ID",
    "high",
    "One event_id carried by several distinct conversions: 2+ different order ids, 3+ different users "
    "(fbp, external_id or em) or 3+ days. Meta discards the later conversions as duplicates.",
    "Generate a unique event_id per conversion (never a constant, 'undefined' or a session id); the owner "
    "of the tag template fixes the variable, and the event contract states how the id is built.",
    listed=_reused_ids,
    message=_reused_message,
    counted=_reused_copies,
)


@check(
    "DEDUP_SAME_CHANNEL_REPEAT",
    "medium",
    "One event_id sent more than once on the same channel with no copy of the other channel in the "
    "window (retries, reloads): Meta's documented rules count every copy.",
    "Make retries idempotent on the sending side and fire the conversion once per order (guard thank-you "
    "page reloads); state it in the event contract and let the channel owner fix the trigger.",
)
def same_channel_repeat(store: Store, scope: Scope) -> list[Finding]:
    """Same-channel repeats flagged by the model, per pixel, event name and channel."""
    return [
        _channel_finding(
            "DEDUP_SAME_CHANNEL_REPEAT",
            row,
            "repeats",
            "repeat_examples",
            f"{row['repeats']} {row['channel']} {row['event_name']} copies repeat an event_id already "
            "sent on the same channel and are counted again",
        )
        for row in dedup_facts(store, scope)
        if int(row["repeats"])
    ]


def _pixel_mismatches(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """(event name, event_id, browser pixel, server pixel) where, in scope, the event reaches one pixel
    only from the browser and another only from the server, one of them the scope's pixel (when it names
    one); ordered by name, event_id and the two pixels (nulls last)."""
    folded = by_day.fold(
        _per_day(store, "dedup_check_pixel_mismatch"),
        scope.model_copy(update={"pixel_id": None}),  # the pixel filter applies to the pair, below
        keys=("event_name", "event_id", "pixel_id"),
        sums=("browser_copies", "server_copies"),
    )
    events: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in folded:  # ordered by name, event_id and pixel (nulls last)
        events.setdefault((row["event_name"], row["event_id"]), []).append(row)
    pairs: list[dict[str, Any]] = []
    for (event_name, event_id), pixels in events.items():
        browser_only = [p["pixel_id"] for p in pixels if p["browser_copies"] and not p["server_copies"]]
        server_only = [p["pixel_id"] for p in pixels if p["server_copies"] and not p["browser_copies"]]
        pairs.extend(
            {
                "event_name": event_name,
                "event_id": event_id,
                "browser_pixel_id": browser,
                "server_pixel_id": server,
            }
            for browser in browser_only
            for server in server_only
            if browser != server and (scope.pixel_id is None or scope.pixel_id in (browser, server))
        )
    return pairs


pixel_mismatch = _event_ids_check(
    "DEDUP_PIXEL_MISMATCH",
    "high",
    "The same event name + event_id reaches one pixel from the browser and another pixel from the "
    "server: Meta only deduplicates within one pixel, so both are counted.",
    "Point the Conversions API at the pixel (dataset) id the Pixel uses; record the pixel id in the event "
    "contract and have one owner for the dataset configuration.",
    listed=_pixel_mismatches,
    message=lambda rows: (
        f"{len(rows)} event_ids go to pixel {rows[0]['browser_pixel_id']} from the browser but to pixel "
        f"{rows[0]['server_pixel_id']} from the server"
    ),
    narrowed_to="event_name",
)


@check(
    "COVERAGE_BELOW_GOAL",
    "medium",
    f"Event coverage (Meta's: unique browser events sharing event_id, external_id or fbp with a server "
    "copy of the same pixel and event name that Meta accepted) under Meta's "
    f"{units.goal(COVERAGE_GOAL)} goal, for "
    f"an event both channels send or the browser sends with volume ({COVERAGE_MIN_BROWSER}+ copies).",
    "Send every browser conversion from the server too, with the shared event_id; the server owner "
    "covers the events listed in the event contract.",
)
def coverage_below_goal(store: Store, scope: Scope) -> list[Finding]:
    """Per pixel and event name, coverage below the goal."""
    me = CHECKS["COVERAGE_BELOW_GOAL"]
    findings: list[Finding] = []
    for (pixel_id, event_name), channels in facts_by_event(dedup_facts(store, scope)).items():
        row = channels.get("browser")
        browser = int(row["copies"]) if row else 0
        server = int(channels["server"]["copies"]) if "server" in channels else 0
        if row is None or not browser or (server == 0 and browser < COVERAGE_MIN_BROWSER):
            continue
        events, covered = int(row["browser_events"]), int(row["covered"])
        coverage = covered / events if events else 0.0
        if coverage >= COVERAGE_GOAL:
            continue
        findings.append(
            me.finding(
                f"event coverage of {event_name} is {units.share(coverage)} ({covered} of {events} unique "
                "browser events share a dedup key with a server copy Meta accepted), "
                f"goal {units.goal(COVERAGE_GOAL)}",
                count=events - covered,
                share=1 - coverage,
                examples=row["uncovered_examples"] or [],
                pixel_id=pixel_id,
                event_name=event_name,
            )
        )
    return findings
