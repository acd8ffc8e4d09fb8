"""What the Event contracts page needs beyond one core call: editor rows, previews keyed by text, the
fix-a-violating-event flow and display tables.

Owns: turning the editor table into a draft contract (``capi_core.contract_models.contract_from_rows``),
the violations preview of a draft given as YAML text (a string caches well), the list of violations a
person can fix and push, and the prepared fix of one stored copy (its payload, the automatic
corrections, what Meta's pre-flight still finds). Must not import streamlit or send anything: the push is
``capi_core.push``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from capi_core.contract_models import EVENT_ID_RULES, Contract
from capi_core.contracts import RULES, SEVERITY_ORDER, Violation, contract_violations, parse_contract
from capi_core.corrections import Change, Correction, correct, parse_payload, stored_payload
from capi_core.models import Scope
from capi_core.preflight import Problem, check_events
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


def violations_frame(violations: list[Violation]) -> pd.DataFrame:
    """One row per violation for the table (examples as event ids)."""
    return pd.DataFrame(
        [
            {
                "severity": v.severity,
                "event": v.event_name,
                "channel": v.channel,
                "rule": v.rule,
                "parameter": v.parameter,
                "detail": v.detail,
                "copies": v.copies,
                "of_copies": v.of_copies,
                "share": v.share,
                "message": v.message,
                "example_event_ids": ", ".join(e.event_id or "(none)" for e in v.examples),
            }
            for v in violations
        ]
    )


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
    """A stored copy ready for a test push: the correction and what pre-flight still finds."""

    model_config = ConfigDict(frozen=True)

    correction: Correction
    problems: list[Problem]


def prepare_fix(
    store: Store, contract: Contract, violation: Violation, example: int, *, now: float | None = None
) -> PreparedFix:
    """The stored copy ``violation.examples[example]`` as a payload, with the automatic corrections."""
    ref = violation.examples[example]
    payload = stored_payload(store, ref.fingerprint, ref.occurrence)
    return _fix(payload, contract, violation.event_name, ref.channel, now)


def refix(
    text: str, contract: Contract, event_name: str, channel: str, *, now: float | None = None
) -> PreparedFix:
    """An edited payload (JSON text) corrected again (a raw email typed in is hashed here).

    Raises:
        InputError: the text is not one JSON object.
    """
    return _fix(parse_payload(text), contract, event_name, channel, now)


def _fix(
    payload: dict[str, Any], contract: Contract, event_name: str, channel: str, now: float | None
) -> PreparedFix:
    rule = contract.events.get(event_name)
    correction = correct(payload, contract_event=event_name, rule=rule, now=now, channel=channel)
    return PreparedFix(correction=correction, problems=check_events([correction.after], now=now))


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
