"""Automatic corrections of one event before a test push: the Meta payload of a stored copy, fixed.

Owns: rebuilding a copy's Conversions API server-event dict from its stored row (as close to what was
sent as the store allows: hashed keys as their stored SHA-256, since raw PII never reaches the store), and
the corrections a tracking specialist would make by hand, each reported as a ``Change`` (field, before,
after, why) for a before/after diff:

- event name: a case, spacing or GA4 variant of the contract's or a standard name -> that name;
- event_time: milliseconds -> seconds; text -> seconds; for a test push, moved into Meta's 7-day window
  (Meta refuses the whole request otherwise, reference §2.2) — the diff says so;
- action_source missing on an event with a page URL -> ``website``;
- user_data: a raw value in a hashed key is normalized and hashed (the raw value is never echoed back);
  upper-case hex lowercased; a hashed fbp / fbc / IP / user agent dropped (Meta rejects them, §2.4);
- custom_data: currency trimmed and upper-cased; a numeric value sent as text -> a number;
- event_id filled or repaired by the contract's rule (order number without ``#`` ...); a copy with no
  order_id / lead_id of its own takes the id of the order or lead it is linked to (``copy_truth_links``);
- a Pixel copy pushed as a test event: a stand-in user agent (beacon logs do not keep the browser's).

Must not: send anything, touch the store beyond reading one row, or put a raw user_data value in a
``Change`` (they are PII).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict

from capi_core.canonical import EPOCH_MS_THRESHOLD, check_currency, parse_value
from capi_core.contracts.models import EventContract
from capi_core.diagnostics.param_checks import intended_standard_name
from capi_core.errors import InputError
from capi_core.models import HASHED_KEYS
from capi_core.normalize import hash_value, is_sha256, normalize
from capi_core.store import Store

#: Meta refuses events older than 7 days; a test push keeps an hour's margin for the time it takes.
MAX_AGE_S = 7 * 86400 - 3600
FUTURE_SKEW_S = 5 * 60
_FORBIDDEN_HASHED = ("fbp", "fbc", "client_ip_address", "client_user_agent")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RAW_HIDDEN = "(raw value, not shown)"
#: Stand-in user agent of a Pixel copy pushed as a test server event (see ``correct``'s ``channel``).
TEST_USER_AGENT = "Mozilla/5.0 (compatible; capi-desk test push)"
#: Currency symbols that name one currency only (a bare "$" or "¥" does not: left for a person).
_SYMBOLS = {"US$": "USD", "CA$": "CAD", "C$": "CAD", "A$": "AUD", "AU$": "AUD", "€": "EUR", "£": "GBP"}
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")


class Change(BaseModel):
    """One automatic correction, for the before/after diff."""

    model_config = ConfigDict(frozen=True)

    field: str
    before: Any
    after: Any
    why: str


class Correction(BaseModel):
    """An event before and after the automatic corrections, and what changed."""

    model_config = ConfigDict(frozen=True)

    before: dict[str, Any]
    after: dict[str, Any]
    changes: list[Change]


# --- the stored copy as a payload -------------------------------------------------------------------


def stored_row(store: Store, fingerprint: str, occurrence: int) -> dict[str, Any]:
    """The stored ``events`` row of one copy.

    Raises:
        InputError: no such copy in the store.
    """
    rows = store.query(
        "stored copy",
        "select * from events where fingerprint = $fingerprint and occurrence = $occurrence",
        {"fingerprint": fingerprint, "occurrence": occurrence},
    ).dicts()
    if not rows:
        raise InputError(
            "that event copy is not in the store", hint="pick one from the violations list again"
        )
    return rows[0]


def _epoch(moment: dt.datetime) -> float:
    return moment.replace(tzinfo=dt.UTC).timestamp()


class LinkedRecord(BaseModel):
    """The backend record a copy is linked to (reconciliation's ``copy_truth_links``), as exported."""

    model_config = ConfigDict(frozen=True)

    kind: str  # order | lead
    raw_id: str


def linked_record(store: Store, fingerprint: str, occurrence: int) -> LinkedRecord | None:
    """The order or lead a stored copy is linked to, with the record's id as the export wrote it."""
    rows = store.query(
        "linked record of a copy",
        "select r.kind, coalesce(r.raw_id, r.truth_id) as raw_id from copy_truth_links l "
        "join truth_current r on r.kind = l.kind and r.truth_id = l.truth_id "
        "where l.fingerprint = $fingerprint and l.occurrence = $occurrence",
        {"fingerprint": fingerprint, "occurrence": occurrence},
    ).rows
    if not rows or rows[0][1] in (None, ""):
        return None
    return LinkedRecord(kind=str(rows[0][0]), raw_id=str(rows[0][1]))


def _event_time_as_sent(moment: dt.datetime, time_format: str | None) -> int | str:
    """event_time in the unit and JSON type it was sent in (``canonical.event_time_format``): an epoch
    sent as text comes back as text and ISO 8601 as ISO text (UTC), so the corrections show the change
    to integer seconds that Meta's documented type asks for."""
    if time_format == "iso":
        return moment.isoformat() + "Z"
    seconds = _epoch(moment)
    value = int(seconds * 1000) if time_format in ("milliseconds", "milliseconds_text") else int(seconds)
    return str(value) if time_format in ("seconds_text", "milliseconds_text") else value


def payload_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """The server-event dict (reference §2.2) of a stored copy, as close to what was sent as stored."""
    event: dict[str, Any] = {"event_name": row["event_name"]}
    if row.get("event_time") is not None:
        event["event_time"] = _event_time_as_sent(row["event_time"], row.get("event_time_format"))
    for field in ("event_id", "action_source", "event_source_url"):
        if row.get(field) not in (None, ""):
            event[field] = row[field]
    dpo = row.get("data_processing_options")
    if dpo is not None:
        event["data_processing_options"] = [item for item in dpo.split(",") if item]
    user = {
        key: row[key]
        for key in (*HASHED_KEYS, *_FORBIDDEN_HASHED, "lead_id")
        if row.get(key) not in (None, "")
    }
    event["user_data"] = user
    event["custom_data"] = _custom_data(row)
    return event


def _custom_data(row: dict[str, Any]) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    if row.get("value_check") == "valid":
        custom["value"] = row["value"]
    elif row.get("value_raw") is not None:
        custom["value"] = row["value_raw"]  # as sent: the text Meta could not read as a number
    for field in ("currency", "order_id", "content_type", "status"):
        if row.get(field) not in (None, ""):
            custom[field] = row[field]
    if row.get("content_ids"):
        custom["content_ids"] = json.loads(row["content_ids"])
    for field in ("num_items", "predicted_ltv"):
        if row.get(field) is not None:
            custom[field] = row[field]
    return custom


def stored_payload(store: Store, fingerprint: str, occurrence: int) -> dict[str, Any]:
    """``payload_from_row`` of one stored copy."""
    return payload_from_row(stored_row(store, fingerprint, occurrence))


def parse_payload(text: str) -> dict[str, Any]:
    """An edited payload: one JSON object (a server event).

    Raises:
        InputError: not JSON, or not an object; the message names line and column.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"the payload is not JSON: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from None
    if not isinstance(value, dict):
        raise InputError("the payload must be one JSON object (a server event), not a list or a value")
    return value


# --- corrections ----------------------------------------------------------------------------------


def correct(
    payload: dict[str, Any],
    *,
    contract_event: str | None = None,
    rule: EventContract | None = None,
    now: float | None = None,
    test_push: bool = True,
    channel: str | None = None,
    linked: LinkedRecord | None = None,
) -> Correction:
    """``payload`` with the automatic corrections applied, and the list of what changed.

    Args:
        payload: a server event (Meta's JSON shape); not modified.
        contract_event: the event name the contract gives this event (its name variants are renamed).
        rule: the contract's rules for that event (event_id rule, allowed currencies).
        now: Unix seconds of the push (default: the clock).
        test_push: move an event_time outside Meta's 7-day window to ``now`` (only for a test push).
        channel: ``browser`` when the payload was rebuilt from a Pixel copy: its user agent travelled in
            the request headers, which beacon logs do not keep, so a test push gets a stand-in.
        linked: the order or lead the stored copy is linked to: the event_id rule takes its id when the
            payload names no order_id / lead_id itself.
    """
    after = copy.deepcopy(payload)
    changes: list[Change] = []
    moment = time.time() if now is None else now
    _event_name(after, contract_event, changes)
    _event_time(after, moment, test_push, changes)
    _action_source(after, changes)
    _user_data(after, changes)
    if test_push and channel == "browser":
        _browser_agent(after, changes)
    _custom(after, changes)
    if rule is not None:
        _event_id(after, rule, changes, linked)
    return Correction(before=copy.deepcopy(payload), after=after, changes=changes)


def _event_name(event: dict[str, Any], contract_event: str | None, changes: list[Change]) -> None:
    name = event.get("event_name")
    if not isinstance(name, str):
        return
    target = None
    if contract_event and name != contract_event and name.strip().lower() == contract_event.lower():
        target = contract_event
    elif contract_event != name:
        target = intended_standard_name(name)
    if target and target != name:
        event["event_name"] = target
        changes.append(
            Change(
                field="event_name",
                before=name,
                after=target,
                why="the standard name, exactly: Meta treats a case or spacing variant as another event "
                "and does not deduplicate it with the other channel",
            )
        )


def _as_seconds(raw: Any) -> tuple[int | None, str | None]:
    """(Unix seconds, what was converted) of an event_time as sent."""
    if isinstance(raw, bool) or raw is None:
        return None, None
    if isinstance(raw, int | float):
        if raw >= EPOCH_MS_THRESHOLD:
            return int(raw // 1000), "milliseconds -> seconds: Meta reads event_time as Unix seconds"
        return (int(raw), None) if raw == int(raw) else (int(raw), "whole seconds: Meta wants an integer")
    if isinstance(raw, str):
        text = raw.strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            number, _ = _as_seconds(float(text))
            if number is not None and float(text) >= EPOCH_MS_THRESHOLD:
                return number, "milliseconds text -> integer seconds: Meta reads event_time as Unix seconds"
            return number, "text -> integer seconds"
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None, None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return int(moment.timestamp()), "date text -> Unix seconds (UTC)"
    return None, None


def _event_time(event: dict[str, Any], now: float, test_push: bool, changes: list[Change]) -> None:
    raw = event.get("event_time")
    seconds, why = _as_seconds(raw)
    if seconds is None:
        if test_push:
            event["event_time"] = int(now)
            changes.append(
                Change(
                    field="event_time", before=raw, after=int(now), why="missing or unreadable: set to now"
                )
            )
        return
    if why:
        event["event_time"] = seconds
        changes.append(Change(field="event_time", before=raw, after=seconds, why=why))
    if test_push and (now - seconds > MAX_AGE_S or seconds - now > FUTURE_SKEW_S):
        when = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        event["event_time"] = int(now)
        changes.append(
            Change(
                field="event_time",
                before=seconds,
                after=int(now),
                why=f"test push only: moved from {when} to now, inside Meta's 7-day window (Meta refuses a "
                "request holding an event older than 7 days); the real event keeps its own time",
            )
        )


def _action_source(event: dict[str, Any], changes: list[Change]) -> None:
    if event.get("action_source") in (None, "") and event.get("event_source_url"):
        event["action_source"] = "website"
        changes.append(
            Change(
                field="action_source",
                before=event.get("action_source"),
                after="website",
                why="required on every server event; an event with a page URL happened on the website",
            )
        )


def _country(user: dict[str, Any]) -> str | None:
    raw = user.get("country")
    raw = raw[0] if isinstance(raw, list) and raw else raw
    if isinstance(raw, str) and raw.strip() and not is_sha256(raw):
        return normalize("country", raw)
    return None


def _hashed_key(key: str, value: Any, country: str | None) -> tuple[Any, str | None]:
    """(corrected value, why) of one hashed key; a list is corrected item by item."""
    if isinstance(value, list):
        items = [_hashed_key(key, item, country) for item in value]
        whys = [why for _, why in items if why]
        fixed = [item for item, _ in items if item is not None]
        return fixed, whys[0] if whys else None
    text = str(value).strip()
    if is_sha256(text):
        return (
            (text.lower(), "lower-case hex: Meta expects lowercase SHA-256")
            if text != text.lower()
            else (value, None)
        )
    hashed = hash_value(key, value, country=country)
    if hashed is None:
        return None, "not a usable value: dropped"
    return hashed, "normalized and SHA-256 hashed as Meta requires (reference §2.5-2.6)"


def _user_data(event: dict[str, Any], changes: list[Change]) -> None:
    user = event.get("user_data")
    if not isinstance(user, dict):
        return
    country = _country(user)
    for key in HASHED_KEYS:
        if key not in user or user[key] in (None, ""):
            continue
        before = user[key]
        fixed, why = _hashed_key(key, before, country)
        if why is None:
            continue
        raw = why.startswith("normalized") or why.startswith("not a usable")
        if fixed is None or fixed == []:
            del user[key]
        else:
            user[key] = fixed
        changes.append(
            Change(
                field=f"user_data.{key}",
                before=RAW_HIDDEN if raw else before,
                after=fixed if fixed not in (None, []) else None,
                why=why,
            )
        )
    for key in _FORBIDDEN_HASHED:
        value = user.get(key)
        if isinstance(value, str) and is_sha256(value):
            del user[key]
            changes.append(
                Change(
                    field=f"user_data.{key}",
                    before=value,
                    after=None,
                    why=f"dropped: Meta rejects a hashed {key} (send it as the browser had it, never hashed)",
                )
            )


def _browser_agent(event: dict[str, Any], changes: list[Change]) -> None:
    user = event.get("user_data")
    if event.get("action_source") != "website" or not isinstance(user, dict) or user.get("client_user_agent"):
        return
    user["client_user_agent"] = TEST_USER_AGENT
    changes.append(
        Change(
            field="user_data.client_user_agent",
            before=None,
            after=TEST_USER_AGENT,
            why="test push only: a website event needs the user agent; the Pixel sent it in the request "
            "headers, which beacon logs do not keep, so a stand-in is used",
        )
    )


def _iso_currency(text: str) -> tuple[str, str] | None:
    """(ISO 4217 code, why) for a currency written in a fixable way; None when it is fine or unfixable."""
    fixed = text.strip().upper()
    if fixed != text and check_currency(fixed)[1] == "valid":
        return fixed, "ISO 4217 code, upper-case"
    if fixed in _SYMBOLS:
        return _SYMBOLS[fixed], f"ISO 4217 code for {text.strip()!r} (Meta does not read currency symbols)"
    return None


def _number(text: str) -> tuple[float, str] | None:
    """(number, why) of a value sent as text ("24.23", or "24,23" with a decimal comma)."""
    stripped = text.strip()
    if _DECIMAL_COMMA.fullmatch(stripped):
        stripped, why = (
            stripped.replace(",", "."),
            "a number with a decimal point, not text with a decimal comma",
        )
    else:
        why = "a number, not text"
    number, _, verdict = parse_value(stripped)
    return (number, why) if verdict == "valid" and number is not None else None


def _custom(event: dict[str, Any], changes: list[Change]) -> None:
    custom = event.get("custom_data")
    if not isinstance(custom, dict):
        return
    currency = custom.get("currency")
    found = _iso_currency(currency) if isinstance(currency, str) else None
    if found is not None:
        custom["currency"] = found[0]
        changes.append(Change(field="custom_data.currency", before=currency, after=found[0], why=found[1]))
    value = custom.get("value")
    number = _number(value) if isinstance(value, str) else None
    if number is not None:
        custom["value"] = number[0]
        changes.append(Change(field="custom_data.value", before=value, after=number[0], why=number[1]))


def _expected_event_id(
    event: dict[str, Any], rule: EventContract, linked: LinkedRecord | None = None
) -> tuple[str | None, str]:
    custom = event.get("custom_data") if isinstance(event.get("custom_data"), dict) else {}
    user = event.get("user_data") if isinstance(event.get("user_data"), dict) else {}
    order_id = custom.get("order_id") if isinstance(custom, dict) else None
    lead_id = user.get("lead_id") if isinstance(user, dict) else None
    current = event.get("event_id")
    kind = rule.event_id_rule
    # the id of the record the copy is linked to, when the payload does not name one itself
    linked_order = linked.raw_id if linked and linked.kind == "order" and order_id in (None, "") else None
    linked_lead = linked.raw_id if linked and linked.kind == "lead" and lead_id in (None, "") else None
    from_link = " (from the order this copy is linked to)"
    if kind == "order_id_without_hash":
        source = order_id if order_id not in (None, "") else linked_order or current
        expected = str(source).replace("#", "").strip() if source not in (None, "") else None
        why = "the order number without '#', as the contract's dedup rule says"
        return expected or None, why + (from_link if linked_order and source == linked_order else "")
    if kind == "order_id" and order_id not in (None, ""):
        return str(order_id), "custom_data.order_id, as the contract's dedup rule says"
    if kind == "order_id" and linked_order:
        return linked_order, "the order number, as the contract's dedup rule says" + from_link
    if kind == "lead_id" and lead_id not in (None, ""):
        return str(lead_id), "the lead id, as the contract's dedup rule says"
    if kind == "lead_id" and linked_lead:
        return (
            linked_lead,
            "the lead id, as the contract's dedup rule says (from the lead this copy is linked to)",
        )
    if kind == "uuid" and not (isinstance(current, str) and _UUID.fullmatch(current.lower())):
        return str(
            uuid.uuid4()
        ), "a new UUID, as the contract's dedup rule says (the Pixel copy must carry it too)"
    if kind == "any" and current in (None, ""):
        source = order_id if order_id not in (None, "") else linked_order
        if source not in (None, ""):
            why = "filled from the order number so both channels can share it"
            return str(source).replace("#", "").strip(), why + (from_link if source == linked_order else "")
    return (str(current) if current not in (None, "") else None), ""


def _event_id(
    event: dict[str, Any], rule: EventContract, changes: list[Change], linked: LinkedRecord | None
) -> None:
    expected, why = _expected_event_id(event, rule, linked)
    current = event.get("event_id")
    if expected is None or expected == current:
        return
    event["event_id"] = expected
    changes.append(Change(field="event_id", before=current, after=expected, why=why))
