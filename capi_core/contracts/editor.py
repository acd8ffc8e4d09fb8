"""What the Event contracts page needs beyond one core call: editor rows, previews keyed by text, the
fix-a-violating-event flow and display tables.

Owns: turning the editor table into a draft contract (``capi_core.contracts.models.contract_from_rows``),
the violations preview of a draft given as YAML text (a string caches well), the list of violations a
person can fix and push, and the prepared fix of one stored copy (its payload, the automatic
corrections, what Meta's pre-flight still finds and what of the contract it still breaks), or of every
example copy at once (``fix_copies``, for ``capi-desk contracts fix``). Must not depend on the UI layer
or send anything: the push is ``capi_core.meta.push``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from capi_core.contracts.library import RULES, SEVERITY_ORDER, Violation, contract_violations, parse_contract
from capi_core.contracts.models import EVENT_ID_RULES, Contract, EventContract
from capi_core.meta.corrections import (
    Change,
    Correction,
    LinkedRecord,
    correct,
    linked_record,
    parse_payload,
    payload_from_row,
    stored_row,
)
from capi_core.meta.preflight import Problem, check_events
from capi_core.models import Scope
from capi_core.store import Store

#: Choices of the editor's select columns ("" = not set).
SOURCES = ["browser", "server", "crm"]
RULE_OPTIONS = list(EVENT_ID_RULES)
VALUE_POLICIES = ["", "total", "subtotal"]
CONSENTS = ["none", "not_denied", "granted"]
TRUTHS = ["order", "lead", "none"]
EDITOR_COLUMNS = [
    "event", "milestone", "source", "event_id_rule", "dedup_note", "required", "recommended", "match_keys",
    "value_policy", "allowed_currencies", "consent", "truth",
]  # fmt: skip
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str) -> str:
    """``text`` with every Markdown character escaped (file- or user-typed text shown in a message box)."""
    return _MARKDOWN.sub(r"\\\1", text)


def store_pixels(store: Store, _scope: Scope | None = None) -> list[str]:
    """Pixel ids seen in the events, sorted."""
    rows = store.query(
        "contract pixels", "select distinct pixel_id from events where pixel_id is not null order by pixel_id"
    ).rows
    return [str(row[0]) for row in rows]


def preview(store: Store, scope: Scope, *, body: str) -> list[Violation]:
    """The violations the draft contract in ``body`` (YAML) implies on the store (nothing is saved)."""
    return contract_violations(store, scope, parse_contract(body, source="draft"))


#: The violation fields the table shows as they are, in order (``event_name`` shown as ``event``).
_VIOLATION_FIELDS = (
    "severity", "event_name", "channel", "rule", "parameter", "detail",
    "copies", "of_copies", "share", "message",
)  # fmt: skip


def violations_frame(violations: list[Violation]) -> pd.DataFrame:
    """One row per violation for the table (examples as event ids)."""
    rows = [
        {
            **{name: getattr(v, name) for name in _VIOLATION_FIELDS},
            "example_event_ids": ", ".join(e.event_id or "(none)" for e in v.examples),
        }
        for v in violations
    ]
    return pd.DataFrame(rows).rename(columns={"event_name": "event"})


def severity_counts(violations: list[Violation]) -> dict[str, int]:
    """Violations per severity a contract rule can have (zero when none), most severe first."""
    counts: dict[str, int] = {
        severity: 0 for severity in SEVERITY_ORDER if severity in {s for s, _ in RULES.values()}
    }
    for v in violations:
        counts[v.severity] += 1
    return counts


def fixable(violations: list[Violation]) -> list[Violation]:
    """Violations with example copies, the most severe first, Purchase first within a severity."""
    found = [v for v in violations if v.examples]
    return sorted(
        found,
        key=lambda v: (["critical", "high", "medium", "low"].index(v.severity), v.event_name != "Purchase"),
    )


def violation_label(v: Violation) -> str:
    """A one-line label for a picker."""
    return f"{v.severity} · {v.event_name} · {v.message}"


class PreparedFix(BaseModel):
    """A stored copy ready for a test push: the correction, what pre-flight still finds, and the contract
    rules the corrected payload still breaks (shown as warnings before a push; the push is the user's
    call). ``linked`` and ``consent`` come from the stored copy and carry over to an edited payload."""

    model_config = ConfigDict(frozen=True)

    correction: Correction
    problems: list[Problem]
    contract_warnings: list[str] = []
    linked: LinkedRecord | None = None
    consent: str | None = None


def prepare_fix(
    store: Store, contract: Contract, violation: Violation, example: int, *, now: float | None = None
) -> PreparedFix:
    """The stored copy ``violation.examples[example]`` as a payload, with the automatic corrections."""
    ref = violation.examples[example]
    row = stored_row(store, ref.fingerprint, ref.occurrence)
    linked = linked_record(store, ref.fingerprint, ref.occurrence)
    consent = row.get("consent")
    return _fix(payload_from_row(row), contract, violation.event_name, ref.channel, now, linked, consent)


class CopyFix(BaseModel):
    """One stored copy that breaks the contract, corrected for a test push (``capi-desk contracts fix``):
    which copy, the rules it breaks (the violations' messages) and its prepared fix."""

    model_config = ConfigDict(frozen=True)

    event_name: str
    channel: str
    event_id: str | None
    fingerprint: str
    occurrence: int
    broken: list[str]
    fix: PreparedFix


def fix_copies(
    store: Store,
    contract: Contract,
    violations: list[Violation],
    *,
    limit: int = 100,
    now: float | None = None,
) -> list[CopyFix]:
    """The example copies of ``violations`` (most severe first, each copy once, at most ``limit``), each
    with the automatic corrections ``prepare_fix`` makes, as the page's "Fix and push" shows one."""
    found: dict[tuple[str, int], CopyFix] = {}
    for violation in fixable(violations):
        for index, ref in enumerate(violation.examples):
            key = (ref.fingerprint, ref.occurrence)
            if key in found:
                known = found[key]
                found[key] = known.model_copy(update={"broken": [*known.broken, violation.message]})
            elif len(found) < limit:
                found[key] = CopyFix(
                    event_name=violation.event_name,
                    channel=ref.channel,
                    event_id=ref.event_id,
                    fingerprint=ref.fingerprint,
                    occurrence=ref.occurrence,
                    broken=[violation.message],
                    fix=prepare_fix(store, contract, violation, index, now=now),
                )
    return list(found.values())


def refix(
    text: str,
    contract: Contract,
    event_name: str,
    channel: str,
    *,
    now: float | None = None,
    linked: LinkedRecord | None = None,
    consent: str | None = None,
) -> PreparedFix:
    """An edited payload (JSON text) corrected again (a raw email typed in is hashed here); ``linked``
    and ``consent`` are the stored copy's (``PreparedFix.linked`` / ``.consent``).

    Raises:
        InputError: the text is not one JSON object.
    """
    return _fix(parse_payload(text), contract, event_name, channel, now, linked, consent)


def _fix(
    payload: dict[str, Any],
    contract: Contract,
    event_name: str,
    channel: str,
    now: float | None,
    linked: LinkedRecord | None,
    consent: str | None,
) -> PreparedFix:
    rule = contract.events.get(event_name)
    correction = correct(
        payload, contract_event=event_name, rule=rule, now=now, channel=channel, linked=linked
    )
    return PreparedFix(
        correction=correction,
        problems=check_events([correction.after], now=now),
        contract_warnings=contract_warnings(correction.after, rule, consent=consent),
        linked=linked,
        consent=consent,
    )


_TOP_LEVEL = ("event_name", "event_time", "action_source", "event_source_url", "event_id", "user_data")
_CUSTOM = (
    "value",
    "currency",
    "order_id",
    "content_ids",
    "content_type",
    "num_items",
    "predicted_ltv",
    "status",
)


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _part(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    return value if isinstance(value, dict) else {}


def _has(payload: dict[str, Any], parameter: str) -> bool:
    """Whether the payload carries a contract parameter (``em/ph``: either key)."""
    user = _part(payload, "user_data")
    custom = _part(payload, "custom_data")
    if parameter in _TOP_LEVEL:
        return _present(payload.get(parameter))
    if parameter in _CUSTOM:
        return _present(custom.get(parameter))
    if parameter == "em/ph":
        return _present(user.get("em")) or _present(user.get("ph"))
    return _present(user.get(parameter))


def contract_warnings(
    payload: dict[str, Any], rule: EventContract | None, *, consent: str | None = None
) -> list[str]:
    """What of the contract's rules for the event the (corrected) payload still breaks, as sentences.

    ``consent`` is the stored copy's consent (granted | denied | unknown): consent is not part of Meta's
    payload, so it comes from the store. Parameter validity is Meta's pre-flight's job (``check_events``);
    this names what is missing or not allowed by the contract.
    """
    if rule is None:
        return []
    found: list[str] = []
    if rule.consent == "not_denied" and consent == "denied":
        found.append(
            "consent denied: this copy was sent for a user who denied consent, and the contract says "
            "such events must never be sent; pushing it to Meta, even as a test event, is your call"
        )
    elif rule.consent == "granted" and consent != "granted":
        found.append(
            f"consent {consent or 'unknown'}: the contract sends this event only with consent granted; "
            "pushing it to Meta, even as a test event, is your call"
        )
    event_id = payload.get("event_id")
    if rule.event_id_rule != "none" and not _present(event_id):
        found.append(
            f"event_id still missing (rule: {rule.event_id_rule}): no order or lead id to build it from; "
            "without it Meta cannot deduplicate this event with the other channel"
        )
    elif rule.event_id_rule == "order_id_without_hash" and "#" in str(event_id):
        found.append("event_id still holds '#' (rule: order_id_without_hash)")
    for parameter in rule.required:
        if parameter != "event_id" and not _has(payload, parameter):
            found.append(f"{parameter} missing: the contract requires it")
    currency = _part(payload, "custom_data").get("currency")
    if rule.allowed_currencies and _present(currency) and currency not in rule.allowed_currencies:
        allowed = ", ".join(rule.allowed_currencies)
        found.append(f"currency {currency} is not allowed by the contract (allowed: {allowed})")
    return found


def pretty(payload: dict[str, Any]) -> str:
    """The payload as indented JSON for the editable text area."""
    return json.dumps(payload, indent=2, ensure_ascii=False)


def changes_frame(changes: list[Change]) -> pd.DataFrame:
    """The corrections as a table of text (before/after as JSON text)."""
    return pd.DataFrame(
        [
            {"field": c.field, "before": _text(c.before), "after": _text(c.after), "why": c.why}
            for c in changes
        ],
        columns=["field", "before", "after", "why"],
    )


def _text(value: Any) -> str:
    if value is None:
        return "(absent)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def history_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The push log for display (the stored answer body left out: its fields are columns)."""
    keep = [
        "pushed_at", "pixel_id", "test_event_code", "base_url", "events", "http_status", "events_received",
        "fbtrace_id", "error_code", "error_subcode", "error_title", "error_message",
    ]  # fmt: skip
    return pd.DataFrame([{k: row.get(k) for k in keep} for row in rows], columns=keep)
