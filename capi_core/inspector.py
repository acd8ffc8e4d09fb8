"""The event inspector and the dedup page's pair view: find every copy of one conversion, explain its
dedup verdict, and compare two copies field by field.

Owns the search (by event_id, order id, fbp or email), the side-by-side comparison of two copies, the
one-sentence verdict of a would-be pair, the problem pairs with their fields compared (the page's tab and
``capi-desk pairs``), and the one-channel outcome counts the Deduplication page shows
next to the report's merged and would-be pairs. An email is normalized and hashed here, in memory, and
only its SHA-256 is ever bound to a query or returned: it must never be stored, logged, cached, or put in
an exception message. This module must not touch DuckDB except through ``Store.query_file``, and must not
decide a dedup verdict (``copy_verdicts`` does; the explanation is ``metrics.dedup``'s).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from capi_core.canonical import normalize_truth_id
from capi_core.metrics.dedup import DedupEventStats, WouldBePair, explain_verdict, would_be_pairs
from capi_core.models import EVENT_COLUMNS, MATCH_KEYS, Scope
from capi_core.normalize import hash_value, is_sha256
from capi_core.store import Store

SearchKind = Literal["auto", "event_id", "order_id", "fbp", "email"]
SEARCH_KINDS: tuple[SearchKind, ...] = ("auto", "event_id", "order_id", "fbp", "email")
COPY_LIMIT = 200
RECORD_LIMIT = 50
#: Record flags of ``truth_verdicts`` the inspector lists (value under the default ``total`` policy).
RECORD_FLAGS: tuple[str, ...] = (
    "counted_more_than_once", "value_mismatch", "currency_mismatch", "not_paid_sent", "late_2h", "late_24h",
    "name_variant", "consent_denied",
)  # fmt: skip
#: Canonical fields of the pair view, in reading order (dedup keys first).
COMPARED_FIELDS: tuple[str, ...] = (
    "channel", "pixel_id", "event_name", "event_id", "order_id", "event_time", "received_at", "verdict",
    "reason", "value", "currency", "action_source", "event_source_url", "test_event_code", "consent",
    "fbp", "fbc", "external_id", "em", "ph", "client_ip_address", "client_user_agent", "batch_id",
    "line_no",
)  # fmt: skip
CopyRef = tuple[str, int]  # (fingerprint, occurrence)
_ID_COLUMNS = {"fingerprint", "occurrence"}
_CHECK_COLUMNS = {f"{key}_check" for key in MATCH_KEYS}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class InspectorCopy(_Frozen):
    """One copy found by a search, with its dedup verdict explained and its stored fields."""

    fingerprint: str
    occurrence: int
    channel: str
    pixel_id: str | None
    event_name: str | None
    event_id: str | None
    order_id: str | None
    event_time: dt.datetime | None
    received_at: dt.datetime | None
    value: float | None
    currency: str | None
    fbp: str | None
    matched_on: str  # event_id | order_id | fbp | email | linked_record
    truth_id: str | None  # the backend record this copy links to (reconciliation)
    key_checks: dict[str, str]  # match key -> format verdict, for the keys the copy carries
    verdict: str | None  # counted | discarded
    reason: str | None
    explanation: str
    counted_twice: str | None = None  # why Meta counts it twice, when it is one half of a would-be pair
    payload: dict[str, Any]  # every non-empty stored column, JSON-ready (hashed keys as stored)


class InspectorRecord(_Frozen):
    """A backend record found by a search, with its reconciliation verdict and flags."""

    kind: str
    truth_id: str
    raw_id: str | None
    created_at: dt.datetime | None
    paid_at: dt.datetime | None
    status: str | None
    value: float | None
    currency: str | None
    eligible: bool | None
    verdict: str | None
    copies: int
    counted_copies: int
    flags: list[str]


class InspectorResult(_Frozen):
    """Everything the inspector found for one search (copies bounded by ``COPY_LIMIT``)."""

    kind: SearchKind  # the kind searched ("auto" resolved to "email" when the text is an email)
    query: str  # what was searched; for an email its SHA-256, never the address
    records: list[InspectorRecord]
    copies: list[InspectorCopy]
    total_copies: int

    @property
    def truncated(self) -> bool:
        """True when more copies matched than are listed."""
        return self.total_copies > len(self.copies)


class FieldDiff(_Frozen):
    """One field of two copies side by side (display text) and whether the stored values differ."""

    field: str
    a: str | None
    b: str | None
    differs: bool


class DedupOutcome(_Frozen):
    """Dedup outcome of one pixel and event name: conversions merged, counted twice, one channel only."""

    pixel_id: str | None
    event_name: str | None
    merged: int  # conversions sent on both channels and counted once (the report's merged_pairs)
    counted_twice: int  # would-be pairs: one conversion counted twice (the report's would_be_pairs)
    browser_only: int  # counted browser copies with no server copy found
    server_only: int  # counted server copies with no browser copy found


# --- search ---------------------------------------------------------------------------------------


def resolve_kind(text: str, kind: SearchKind = "auto") -> SearchKind:
    """The kind a search runs as: ``auto`` becomes ``email`` when the text holds an ``@``."""
    if kind == "auto" and "@" in text:
        return "email"
    return kind


def safe_query(text: str, kind: SearchKind = "auto") -> tuple[SearchKind, str]:
    """What a page may keep of a search: an email becomes ``("email", its SHA-256)``, anything else stays.

    ``search(store, hashed, kind="email")`` finds the same copies, since a hash passes through unchanged.
    """
    resolved = resolve_kind(text, kind)
    if resolved == "email":
        return "email", hash_value("em", text) or ""
    return resolved, text.strip()


def _params(text: str, kind: SearchKind) -> dict[str, Any]:
    exact = text.strip() or None
    key = normalize_truth_id(text)
    params: dict[str, Any] = {"event_id": None, "event_key": None, "order_key": None, "fbp": None, "em": None}
    if kind == "email":
        # hashed here, in memory: only the SHA-256 reaches the query (an already-hashed value passes)
        params["em"] = hash_value("em", text)
    if kind in ("auto", "event_id"):
        params.update(event_id=exact, event_key=key)
    if kind in ("auto", "order_id"):
        params.update(event_key=key, order_key=key)
    if kind in ("auto", "fbp"):
        params["fbp"] = exact
    return params


def _display_query(text: str, kind: SearchKind, params: dict[str, Any]) -> str:
    if kind == "email":
        return str(params["em"] or "")
    return text.strip()


def _copy(row: dict[str, Any]) -> InspectorCopy:
    explanation = (
        explain_verdict(row)
        if row["verdict"] is not None
        else "No dedup verdict: the store is being rebuilt."
    )
    payload = {
        name: row[name].isoformat(sep=" ") if isinstance(row[name], dt.datetime) else row[name]
        for name in EVENT_COLUMNS
        if name not in _ID_COLUMNS | _CHECK_COLUMNS and row.get(name) not in (None, "")
    }
    checks = {key: row[f"{key}_check"] for key in MATCH_KEYS if row.get(key) not in (None, "")}
    return InspectorCopy(
        **{name: row[name] for name in InspectorCopy.model_fields if name in row},
        key_checks=checks,
        explanation=explanation,
        payload=payload,
    )


def _with_pairs(store: Store, copies: list[InspectorCopy]) -> list[InspectorCopy]:
    refs = [f"{c.fingerprint}:{c.occurrence}" for c in copies]
    if not refs:
        return copies
    sentences: dict[CopyRef, str] = {}
    for row in store.query_file("inspector_pairs", {"refs": refs}).dicts():
        pair = WouldBePair(**row)
        sentence = pair_verdict(pair)
        sentences[(pair.browser_fingerprint, pair.browser_occurrence)] = sentence
        sentences[(pair.server_fingerprint, pair.server_occurrence)] = sentence
    return [
        c.model_copy(update={"counted_twice": sentences.get((c.fingerprint, c.occurrence))}) for c in copies
    ]


def _copy_rows(store: Store, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The found copies' rows, earliest receipt first: keys first, then rows, in two queries.

    Resolving the search to its few (fingerprint, occurrence) keys before reading any row keeps a search
    well under a second on a 1 M-event store: with the keys bound as a list, every large table is read
    through a one-column filter instead of a join over the whole table.
    """
    found = store.query_file("inspector_found", params).dicts()
    if not found:
        return []
    matched_on = {(row["fingerprint"], row["occurrence"]): row["matched_on"] for row in found}
    rows = store.query_file(
        "inspector_copies",
        {
            "fingerprints": sorted({fingerprint for fingerprint, _ in matched_on}),
            "refs": sorted(f"{fingerprint}:{occurrence}" for fingerprint, occurrence in matched_on),
            "limit": limit,
        },
    ).dicts()
    return [{**row, "matched_on": matched_on[(row["fingerprint"], row["occurrence"])]} for row in rows]


def _record(row: dict[str, Any]) -> InspectorRecord:
    fields = {name: row[name] for name in InspectorRecord.model_fields if name != "flags"}
    return InspectorRecord(**fields, flags=[flag for flag in RECORD_FLAGS if row[flag]])


def search(store: Store, text: str, *, kind: SearchKind = "auto", limit: int = COPY_LIMIT) -> InspectorResult:
    """Every copy and backend record of the conversion ``text`` names, earliest receipt first.

    Args:
        store: the store.
        text: an event_id, an order id (``#1042`` or ``1042``: custom_data.order_id, a normalized
            event_id, or the record's truth_id), an fbp, or an email (hashed here, never kept).
        kind: what ``text`` is; ``auto`` searches event_id, order id and fbp at once, or the email when
            the text holds an ``@``.
        limit: at most this many copies (``total_copies`` counts them all).

    Returns:
        The records and copies found (copies linked to a found record included), empty when none.
    """
    resolved = resolve_kind(text, kind)
    params = _params(text, resolved)
    query = _display_query(text, resolved, params)
    if not any(params.values()):
        return InspectorResult(kind=resolved, query=query, records=[], copies=[], total_copies=0)
    rows = _copy_rows(store, params, limit)
    copies = _with_pairs(store, [_copy(row) for row in rows])
    linked = sorted({c.truth_id for c in copies if c.truth_id is not None})
    record_rows = store.query_file(
        "inspector_records",
        {
            "order_key": params["order_key"],
            "fbp": params["fbp"],
            "em": params["em"],
            "truth_ids": linked or None,
            "limit": RECORD_LIMIT,
        },
    ).dicts()
    return InspectorResult(
        kind=resolved,
        query=query,
        records=[_record(row) for row in record_rows],
        copies=copies,
        total_copies=int(rows[0]["total_copies"]) if rows else 0,
    )


# --- pair view ------------------------------------------------------------------------------------


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, str) and is_sha256(value):
        return value[:12] + "…"  # a hash: its start is enough to tell two apart
    return str(value)


def compare_copies(store: Store, a: CopyRef, b: CopyRef) -> list[FieldDiff]:
    """Two copies' canonical fields side by side, each with whether the stored values differ.

    Returns:
        One row per field of ``COMPARED_FIELDS``; an empty list when either copy does not exist.
    """
    rows = store.query_file(
        "inspector_copy_pair",
        {"a_fingerprint": a[0], "a_occurrence": a[1], "b_fingerprint": b[0], "b_occurrence": b[1]},
    ).dicts()
    sides = {row["side"]: row for row in rows}
    if a == b and rows:
        sides["b"] = rows[0]
    if set(sides) != {"a", "b"}:
        return []
    return [
        FieldDiff(
            field=name,
            a=_show(sides["a"][name]),
            b=_show(sides["b"][name]),
            differs=sides["a"][name] != sides["b"][name],
        )
        for name in COMPARED_FIELDS
    ]


def _quoted(value: str | None) -> str:
    return "none" if value is None else repr(value)


def pair_verdict(pair: WouldBePair) -> str:
    """Why Meta counts a would-be pair twice, in one sentence."""
    hours = abs((pair.server_received_at - pair.browser_received_at).total_seconds()) / 3600
    reason = pair.reason
    if reason == "different_pixel":
        return (
            f"Counted twice: the browser copy went to pixel {_quoted(pair.browser_pixel_id)} and the server "
            f"copy to pixel {_quoted(pair.server_pixel_id)}; Meta deduplicates only within one pixel."
        )
    if reason == "name_mismatch":
        return (
            f"Counted twice: the browser sent the event as {_quoted(pair.browser_event_name)} and the server "
            f"as {_quoted(pair.server_event_name)}; Meta matches event names exactly, case included."
        )
    if reason == "missing_id":
        side = "browser" if pair.browser_event_id is None else "server"
        if pair.browser_event_id is None and pair.server_event_id is None:
            side = "browser and the server"
        return (
            f"Counted twice: the {side} copy carries no event_id, so Meta cannot tell the two copies "
            f"(found as one conversion by {pair.matched_on}) are the same purchase."
        )
    if reason == "id_mismatch":
        return (
            f"Counted twice: the browser sent event_id {_quoted(pair.browser_event_id)} and the server "
            f"{_quoted(pair.server_event_id)}; Meta merges only identical event_ids."
        )
    return (
        f"Counted twice: both copies carry event_id {_quoted(pair.browser_event_id)} but arrived "
        f"{hours:.1f} h apart, beyond Meta's 48 h dedup window."
    )


# --- outcomes per event ---------------------------------------------------------------------------


def dedup_outcomes(store: Store, scope: Scope, stats: list[DedupEventStats]) -> list[DedupOutcome]:
    """Per pixel and event: merged and counted-twice conversions (from ``stats``, the report's dedup
    block for ``scope``) and the copies counted on one channel only (from the store)."""
    rows = store.query_file("inspector_dedup_outcomes", scope.params()).dicts()
    alone = {(r["pixel_id"], r["event_name"]): r for r in rows}
    outcomes = []
    for s in stats:
        single = alone.get((s.pixel_id, s.event_name), {})
        outcomes.append(
            DedupOutcome(
                pixel_id=s.pixel_id,
                event_name=s.event_name,
                merged=s.merged_pairs,
                counted_twice=s.would_be_pairs,
                browser_only=int(single.get("browser_only") or 0),
                server_only=int(single.get("server_only") or 0),
            )
        )
    return outcomes


# --- problem pairs --------------------------------------------------------------------------------


class ProblemPair(_Frozen):
    """A pair Meta counts twice, with why in a sentence and both copies' fields side by side."""

    pair: WouldBePair
    verdict: str  # ``pair_verdict``
    fields: list[FieldDiff]  # every field of ``COMPARED_FIELDS``, with whether the copies differ

    @property
    def differing(self) -> list[FieldDiff]:
        """The fields whose stored values differ between the browser and the server copy."""
        return [diff for diff in self.fields if diff.differs]


def problem_pairs(store: Store, scope: Scope, *, limit: int = 20) -> list[ProblemPair]:
    """The would-be pairs of ``scope`` (latest first, at most ``limit``) as the Deduplication page's
    "Problem pairs" tab shows them: the verdict sentence and the two copies compared field by field."""
    return [
        ProblemPair(
            pair=pair,
            verdict=pair_verdict(pair),
            fields=compare_copies(
                store,
                (pair.browser_fingerprint, pair.browser_occurrence),
                (pair.server_fingerprint, pair.server_occurrence),
            ),
        )
        for pair in would_be_pairs(store, scope, limit=limit)
    ]
