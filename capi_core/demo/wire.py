"""Copies -> the bytes of the real formats: a CAPI log envelope (one JSON line) and a Pixel beacon URL.

Owns the serialisation only (SPEC §3 shapes, Meta's response bodies); no randomness, no file access.
"""

from __future__ import annotations

import re
import string
from typing import Any
from urllib.parse import quote as _quote

import orjson

from capi_core.demo.copies import BrowserCopy, ServerCopy
from capi_core.demo.shop import from_ms

_BEACON_BASE = "https://www.facebook.com/tr/?id="
_UNRESERVED = set(string.ascii_letters + string.digits + "_.-~")
#: ``urllib.parse.quote(text, safe="")`` for ASCII text, as one C-level translate (a hot path at 1M orders).
_RESERVED = re.compile(r"[^A-Za-z0-9_.~-]")
_QUOTE_TABLE = {code: f"%{code:02X}" for code in range(128) if chr(code) not in _UNRESERVED}


def quote(text: str) -> str:
    """Percent-encode everything but unreserved characters, as fbevents.js encodes parameter values."""
    if not _RESERVED.search(text):
        return text
    return text.translate(_QUOTE_TABLE) if text.isascii() else _quote(text, safe="")


def iso_utc(ms: int) -> str:
    """``2026-10-05T18:03:13.412Z``."""
    return from_ms(ms).isoformat(timespec="milliseconds") + "Z"


def _response(copy: ServerCopy) -> dict[str, Any]:
    if copy.error is None:
        return {"events_received": 1, "messages": [], "fbtrace_id": copy.trace}
    subcode, title, message = copy.error
    return {
        "error": {
            "message": "Invalid parameter",
            "type": "OAuthException",
            "code": 100,
            "error_subcode": subcode,
            "is_transient": False,
            "error_user_title": title,
            "error_user_msg": message,
            "fbtrace_id": copy.trace,
        }
    }


def server_event(copy: ServerCopy) -> dict[str, Any]:
    """The server event in Meta's schema, keys in the order SDKs write them."""
    event: dict[str, Any] = {"event_name": copy.event_name, "event_time": copy.event_time}
    if copy.event_id is not None:
        event["event_id"] = copy.event_id
    event["action_source"] = "website"
    if copy.url is not None:
        event["event_source_url"] = copy.url
    event["user_data"] = copy.user_data
    if copy.custom_data is not None:
        event["custom_data"] = copy.custom_data
    return event


def envelope_line(copy: ServerCopy) -> str:
    """One log line: ``{"sent_at", "pixel_id", "consent", "request", "response"}``."""
    request: dict[str, Any] = {"data": [server_event(copy)]}
    if copy.test_event_code is not None:
        request["test_event_code"] = copy.test_event_code
    if copy.access_token is not None:
        request["access_token"] = copy.access_token
    envelope = {
        "sent_at": iso_utc(copy.sent_ms),
        "pixel_id": copy.pixel_id,
        "consent": copy.consent,
        "request": request,
        "response": _response(copy),
    }
    return orjson.dumps(envelope).decode()


def beacon_url(copy: BrowserCopy) -> str:
    """The GET URL fbevents.js sends for this copy (``cd[..]``/``ud[..]`` brackets left as sent)."""
    parts = [_BEACON_BASE, copy.pixel_id, "&ev=", quote(copy.event_name)]
    if copy.event_id is not None:
        parts += ["&eid=", quote(copy.event_id)]
    parts += ["&dl=", quote(copy.url), "&rl=&if=false&ts=", str(copy.ts_ms)]
    for key, value in copy.custom:
        parts += ["&cd[", key, "]=", quote(value)]
    parts += ["&sw=1920&sh=1080&v=2.9.179&r=stable&ec=", str(copy.counter), "&o=4126&fbp=", copy.fbp]
    if copy.fbc is not None:
        parts += ["&fbc=", quote(copy.fbc)]
    if copy.em_hash is not None:
        parts += ["&ud[em]=", copy.em_hash]
    parts += ["&it=", str(copy.ts_ms - 1200), "&coo=false&rqm=GET"]
    return "".join(parts)
