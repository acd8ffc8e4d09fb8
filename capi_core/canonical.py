"""Incoming records -> canonical rows: time parsing, value/currency checks, hashing, fingerprints.

This is the single place where raw values become stored values, so every reader gets the same rules and
raw PII never gets further than this module: emails, phones and names leave it only as SHA-256 hex.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pycountry

from capi_core.models import HASHED_KEYS, MATCH_KEYS, IncomingEvent, IncomingTruth
from capi_core.normalize import assess_key, hash_value, is_sha256, normalize
from capi_core.privacy import mask_url

#: Epoch values at or above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973). The one
#: definition: pre-flight and corrections import it, and the ingest SQL's literal is tested against it.
EPOCH_MS_THRESHOLD = 100_000_000_000
_CONSENT = {
    "granted": "granted", "true": "granted", "yes": "granted", "1": "granted", "opt_in": "granted",
    "denied": "denied", "false": "denied", "no": "denied", "0": "denied", "revoked": "denied",
    "opt_out": "denied",
}  # fmt: skip
_ORDER_STATUS = {
    "paid": "paid", "partially_refunded": "paid", "completed": "paid", "processing": "paid",
    "pending": "pending", "authorized": "pending", "partially_paid": "pending", "on-hold": "pending",
    "refunded": "refunded", "voided": "cancelled", "cancelled": "cancelled", "canceled": "cancelled",
    "failed": "cancelled", "expired": "cancelled", "test": "test", "draft": "pending",
    "checkout-draft": "pending", "unpaid": "pending",
}  # fmt: skip
_CURRENCIES = {c.alpha_3 for c in pycountry.currencies}
_KEY_COLUMNS = tuple((key, f"{key}_check") for key in MATCH_KEYS)
_HASHED = frozenset(HASHED_KEYS)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def to_utc_naive(moment: dt.datetime) -> dt.datetime:
    """A datetime in UTC without tzinfo (the store's convention); naive input is taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def parse_event_time(raw: Any) -> tuple[dt.datetime | None, str]:
    """(UTC time, format) of an event_time as sent: seconds, milliseconds, ISO text or a datetime."""
    if raw is None or raw == "":
        return None, "missing"
    if isinstance(raw, dt.datetime):
        return to_utc_naive(raw), "datetime"
    if isinstance(raw, bool):
        return None, "invalid"
    number: float | None = None
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                return to_utc_naive(dt.datetime.fromisoformat(text.replace("Z", "+00:00"))), "iso"
            except ValueError:
                return None, "invalid"
    if number is None or not math.isfinite(number) or number < 0:
        return None, "invalid"
    unit = "milliseconds" if number >= EPOCH_MS_THRESHOLD else "seconds"
    seconds = number / 1000 if unit == "milliseconds" else number
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None), unit
    except (OverflowError, OSError, ValueError):
        return None, "invalid"


def event_time_format(raw: Any, parsed_format: str, channel: str) -> str:
    """The stored ``event_time_format`` of a copy: ``parse_event_time``'s format, with ``_text`` added
    when a server copy sent its epoch as a JSON string (``"1631210000"`` -> ``seconds_text``).

    Meta documents event_time as an integer ("event_time integer Required. A Unix timestamp in
    seconds", https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event)
    and its Python SDK refuses anything else ("Event.event_time must be an int"); so the type is kept as
    evidence (PARAM_EVENT_TIME_FORMAT reads it; ``iso`` already says it). A browser copy's JSON type says
    nothing about what Meta received (the Pixel sends ``ts`` in a URL), so it is not marked.
    SQL twins: ``ingest_fast_events.sql`` and ``spark/ingest_server.sql``.
    """
    if channel == "server" and isinstance(raw, str) and parsed_format in ("seconds", "milliseconds"):
        return f"{parsed_format}_text"
    return parsed_format


def parse_value(raw: Any) -> tuple[float | None, str | None, str]:
    """(value, raw text, verdict) for custom_data.value: a non-negative finite number is valid."""
    if raw is None or raw == "":
        return None, None, "missing"
    text = str(raw)
    if isinstance(raw, bool):
        return None, text, "malformed"
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None, text[:64], "malformed"
    if not math.isfinite(number) or number < 0:
        return None, text[:64], "malformed"
    return number, text[:64], "valid"


def check_currency(raw: Any) -> tuple[str | None, str]:
    """(currency as sent, verdict): valid when it is an ISO 4217 code in any case."""
    if raw is None or str(raw).strip() == "":
        return None, "missing"
    text = str(raw).strip()
    return text[:16], "valid" if text.upper() in _CURRENCIES else "malformed"


def normalize_consent(raw: Any) -> str:
    """granted | denied | unknown, from the many ways loggers write consent."""
    if raw is None:
        return "unknown"
    if isinstance(raw, dict):  # e.g. {"ad_storage": "granted", ...}
        raw = raw.get("ad_storage", raw.get("marketing"))
    return _CONSENT.get(str(raw).strip().lower(), "unknown")


def normalize_truth_id(raw: str | None) -> str | None:
    """Order / lead ids compared across systems: trimmed, lowercased, without a leading '#'."""
    if raw is None:
        return None
    text = raw.strip().lower().lstrip("#").strip()
    return text or None


def _first(value: Any) -> Any:
    """Meta accepts lists for most user_data keys; the first non-empty element represents the copy."""
    if isinstance(value, list | tuple):
        return next((item for item in value if item not in (None, "")), None)
    return value


def _plain_country(user_data: dict[str, Any], default: str | None) -> str | None:
    """The record's country as an ISO code when it was sent unhashed (it decides the phone region)."""
    raw = _first(user_data.get("country"))
    if isinstance(raw, str) and raw.strip() and not is_sha256(raw):
        return normalize("country", raw) or default
    return default


def _text(value: Any, limit: int = 2048) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text[:limit] if text != "" else None


_INT32 = 2**31 - 1


def _url(value: Any, extra_keys: tuple[str, ...]) -> str | None:
    text = _text(value)
    return None if text is None else mask_url(text, extra_keys)[:2048]


def _int_or_none(value: Any) -> int | None:
    """An integer column value; None when absent, not an integer, or beyond the int32 column."""
    try:
        number = int(value) if value is not None and value != "" else None
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and -_INT32 - 1 <= number <= _INT32 else None


def _content_ids(custom: dict[str, Any]) -> str | None:
    ids = custom.get("content_ids")
    if ids is None and isinstance(custom.get("contents"), list):
        ids = [c.get("id") for c in custom["contents"] if isinstance(c, dict) and c.get("id") is not None]
    if ids is None:
        return None
    if not isinstance(ids, list):
        ids = [ids]
    return orjson.dumps([str(i) for i in ids]).decode()


def _user_data_columns(event: IncomingEvent, default_country: str | None) -> dict[str, Any]:
    user = event.user_data
    country = _plain_country(user, default_country)
    channel = event.channel
    row: dict[str, Any] = {}
    for key, check in _KEY_COLUMNS:
        raw = user.get(key)
        if isinstance(raw, list | tuple):
            raw = _first(raw)
        # The overwhelmingly common values decided without the full rules (same result as assess_key:
        # absent is missing for every key, 64 hex characters is a valid hash for every hashed key).
        if raw is None:
            row[key], row[check] = None, "missing"
        elif key in _HASHED and type(raw) is str and len(raw) == 64 and _HEX64.fullmatch(raw):
            row[key], row[check] = raw.lower(), "valid"
        else:
            row[key], row[check] = assess_key(key, raw, channel=channel, country=country)
    return row


def _response_columns(response: dict[str, Any] | None) -> dict[str, Any]:
    response = response or {}
    raw_error = response.get("error")
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    return {
        "response_events_received": _int_or_none(response.get("events_received")),
        "response_error_code": _int_or_none(error.get("code")),
        "response_error_subcode": _int_or_none(error.get("error_subcode")),
        "fbtrace_id": _text(response.get("fbtrace_id") or error.get("fbtrace_id"), 128),
    }


def _dpo(options: list[str] | None) -> str | None:
    if options is None:
        return None
    return ",".join(str(o) for o in options)


def canonical_event(
    event: IncomingEvent, *, default_country: str | None = None, url_keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The canonical ``events`` row of one copy, without batch_id / fingerprint / occurrence.

    ``url_keys``: the store's page-URL keys kept besides ``privacy.URL_KEYS_KEPT`` (``ReadOptions``).
    """
    custom = event.custom_data if isinstance(event.custom_data, dict) else {}
    event_time, time_format = parse_event_time(event.event_time_raw)
    sent_at = to_utc_naive(event.sent_at) if event.sent_at else None
    value, value_raw, value_check = parse_value(custom.get("value"))
    currency, currency_check = check_currency(custom.get("currency"))
    row: dict[str, Any] = {
        "line_no": event.line_no,
        "channel": event.channel,
        "pixel_id": _text(event.pixel_id, 64),
        "event_name": _text(event.event_name, 256),
        "event_id": _text(event.event_id, 256),
        "event_time": event_time,
        "event_time_format": event_time_format(event.event_time_raw, time_format, event.channel),
        "sent_at": sent_at,
        "received_at": sent_at or event_time,
        "action_source": _text(event.action_source, 64),
        "event_source_url": _url(event.event_source_url, url_keys),
        "test_event_code": _text(event.test_event_code, 64),
        "consent": normalize_consent(event.consent),
        "data_processing_options": _dpo(event.data_processing_options),
        "value": value,
        "value_raw": value_raw,
        "value_check": value_check,
        "currency": currency,
        "currency_check": currency_check,
        "order_id": _text(custom.get("order_id"), 256),
        "content_ids": _content_ids(custom),
        "num_items": _int_or_none(custom.get("num_items")),
        "content_type": _text(custom.get("content_type"), 64),
        "status": _text(custom.get("status"), 64),
        "predicted_ltv": parse_value(custom.get("predicted_ltv"))[0],
    }
    row.update(_user_data_columns(event, default_country))
    row.update(_response_columns(event.response))
    return row


def normalize_order_status(raw: str | None) -> str | None:
    """paid | pending | refunded | cancelled | test from a shop's financial status."""
    if raw is None:
        return None
    key = raw.strip().lower().removeprefix("wc-").replace(" ", "_").replace("on_hold", "on-hold")
    return _ORDER_STATUS.get(key)


def canonical_truth(record: IncomingTruth, *, default_country: str | None = None) -> dict[str, Any]:
    """The canonical ``truth`` row of one record, without batch_id / fingerprint / occurrence."""
    country = normalize("country", record.country) or normalize("country", default_country)
    status = record.status
    if status is None and record.kind == "order":
        status = normalize_order_status(record.status_raw)
    return {
        "line_no": record.line_no,
        "kind": record.kind,
        "truth_id": normalize_truth_id(record.raw_id),
        "raw_id": _text(record.raw_id, 256),
        "created_at": to_utc_naive(record.created_at) if record.created_at else None,
        "paid_at": to_utc_naive(record.paid_at) if record.paid_at else None,
        "qualified_at": to_utc_naive(record.qualified_at) if record.qualified_at else None,
        "won_at": to_utc_naive(record.won_at) if record.won_at else None,
        "status": status,
        "status_raw": _text(record.status_raw, 64),
        "value": record.value,
        "subtotal": record.subtotal,
        "currency": record.currency.strip().upper() if record.currency else None,
        "em": hash_value("em", record.email),
        "ph": hash_value("ph", record.phone, country=country),
        "external_id": hash_value("external_id", record.external_id),
        "fbp": _text(record.fbp, 256),
        "fbc": _text(record.fbc, 512),
        "country": country,
        "utm_source": _text(record.utm_source, 256),
        "utm_campaign": _text(record.utm_campaign, 256),
        "form": _text(record.form, 256),
        "sales_channel": _text(record.sales_channel, 128),
        "source_system": _text(record.source_system, 64),
    }


#: Columns that are bookkeeping, not content: never part of a fingerprint.
FINGERPRINT_EXCLUDED = frozenset({"batch_id", "fingerprint", "occurrence", "line_no"})
#: Column type -> how a value is rendered as text for the fingerprint (SQL twin: fast_ingest.fingerprint_sql).
_RENDER: dict[str, Callable[[Any], str]] = {
    "varchar": str,
    "integer": lambda value: str(int(value)),
    "double": lambda value: repr(float(value)),
    "timestamp": lambda value: value.isoformat(timespec="microseconds"),
}


def fingerprint(row: dict[str, Any], columns: dict[str, str]) -> str:
    """SHA-256 of a row's canonical content (line number excluded, so re-exports match).

    Each content column of ``columns`` (table order) is rendered as ``<length>:<text>``, or ``-`` when
    null, and the parts are joined with ``|``: unambiguous, and simple enough that SQL computes the same
    digest (``fast_ingest.fingerprint_sql``) for rows it builds itself.
    """
    parts = []
    for name, sql_type in columns.items():
        if name in FINGERPRINT_EXCLUDED:
            continue
        value = row.get(name)
        if value is None:
            parts.append("-")
        else:
            text = _RENDER[sql_type](value)
            parts.append(f"{len(text)}:{text}")
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def fingerprints(arrays: dict[str, pa.Array], columns: dict[str, str]) -> list[str]:
    """``fingerprint`` of every row of equally long Arrow columns (a column not given is all null).

    Same definition as ``fingerprint``, computed a column at a time: text columns are rendered by
    Arrow compute (``length`` in code points, like ``len``), the few numeric and time columns by the
    same Python renderers, so large files do not pay a Python loop per value.
    """
    rows = len(next(iter(arrays.values()))) if arrays else 0
    parts: list[pa.Array] = []
    for name, sql_type in columns.items():
        if name in FINGERPRINT_EXCLUDED:
            continue
        array = arrays.get(name)
        if array is None or array.null_count == len(array):
            parts.append(pa.array(["-"] * rows, pa.string()))
            continue
        if sql_type == "varchar":
            text = array.cast(pa.string())
        else:
            render = _RENDER[sql_type]
            text = pa.array([None if v is None else render(v) for v in array.to_pylist()], pa.string())
        length = pc.cast(pc.utf8_length(text), pa.string())
        parts.append(pc.fill_null(pc.binary_join_element_wise(length, text, ":"), "-"))
    if not parts:
        return []
    joined = pc.binary_join_element_wise(*parts, "|").to_pylist()
    sha256 = hashlib.sha256
    return [sha256(line.encode("utf-8")).hexdigest() for line in joined]
