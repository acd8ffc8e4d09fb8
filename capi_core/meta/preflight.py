"""Pre-flight validation: Meta's documented rules for server events, checked before anything is sent.

Owns: judging a list of Conversions API server events (Meta's JSON shape, reference §2.2) against the
rules Meta documents (reference §2.2–2.9, §3.2), so a push never fails for a reason we could have seen.
Each problem names the event (its index in the list), the field path and the reason, plus the Graph
subcode Meta answers for it where the reference confirms one (the sandbox answers with it).

Rules: required fields (``event_name``, ``event_time``, ``action_source``, ``user_data``); website events
need ``event_source_url`` and ``user_data.client_user_agent``; app events need ``app_data`` with
``advertiser_tracking_enabled`` and ``extinfo``;
``event_time`` is an integer in seconds, at most 7 days old (62 for ``physical_store`` events; one stale
event fails the whole request) and
not in the future beyond a clock-skew allowance; ``action_source`` from Meta's enum; ``user_data`` with at
least one customer information parameter and not only a baseline invalid combination (§2.4); hashed
keys as lowercase SHA-256 hex; ``fbp``/``fbc``/IP/user agent never hashed, ``fbc``/``fbp``/IP well formed;
``custom_data.value`` a number and ``currency`` ISO 4217 (both required for Purchase); LDU options; at
most 1,000 events per request.

Must not: send anything, touch the store, or put a user_data value in a reason (they are PII).
Reuses ``capi_core.normalize`` (hash detection, fbp/fbc/IP rules) and ``capi_core.canonical``
(value, currency).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from capi_core.canonical import EPOCH_MS_THRESHOLD, check_currency, parse_value
from capi_core.meta.graph_api import MAX_EVENTS_PER_REQUEST, max_event_age_s
from capi_core.models import HASHED_KEYS
from capi_core.normalize import assess_key, is_sha256

__all__ = ["ACTION_SOURCES", "FUTURE_SKEW_S", "Problem", "check_event", "check_events"]

#: reference §2.3
ACTION_SOURCES: tuple[str, ...] = (
    "email", "website", "app", "phone_call", "chat", "physical_store", "system_generated",
    "business_messaging", "other",
)  # fmt: skip
#: Meta does not document a future limit (reference §10); we allow a few minutes of clock skew between
#: the sender and Meta and refuse anything later: an event from the future is a bug in the sender.
FUTURE_SKEW_S = 10 * 60
#: Graph subcodes the reference confirms (§3.5); other refusals are code 100 without a subcode.
SUBCODE_TOO_OLD = 2804003
SUBCODE_INSUFFICIENT_KEYS = 2804050
#: Customer information parameters Meta accepts besides the hashed keys (reference §2.4).
_PLAIN_IDS = (
    "client_ip_address", "client_user_agent", "fbc", "fbp", "subscription_id", "fb_login_id",
    "lead_id", "anon_id", "madid", "page_id", "page_scoped_user_id", "ctwa_clid", "ig_account_id",
    "ig_sid",
)  # fmt: skip
#: Baseline invalid combinations (since v13.0, reference §2.4): an event whose customer information is
#: one of these or a subset of one is refused with subcode 2804050.
INVALID_COMBINATIONS: tuple[frozenset[str], ...] = (
    frozenset({"ct", "country", "st", "zp", "ge", "client_user_agent"}),
    frozenset({"db", "client_user_agent"}),
    frozenset({"fn", "ge"}),
    frozenset({"ln", "ge"}),
)
_HASH = re.compile(r"^[0-9a-f]{64}(?:\.(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?$")
_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)
#: Hashed keys Meta accepts unhashed: external_id is "recommended" to hash, not required (§2.4).
_HASH_REQUIRED = tuple(key for key in HASHED_KEYS if key != "external_id")


class Problem(BaseModel):
    """One reason Meta would refuse the request.

    ``index`` is the event's position in the list (None for the request as a whole), ``field`` the path
    inside the event (``user_data.em[0]``), ``rule`` a stable identifier, ``subcode`` the Graph
    ``error_subcode`` Meta answers (None when undocumented), ``whole_request`` True when this one event
    makes Meta refuse every event of the request.
    """

    model_config = ConfigDict(frozen=True)

    index: int | None
    field: str
    rule: str
    reason: str
    subcode: int | None = None
    whole_request: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def path(self) -> str:
        """``data[3].user_data.em`` style location, as a developer reads it."""
        if self.index is None:
            return self.field
        return f"data[{self.index}].{self.field}" if self.field else f"data[{self.index}]"

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def check_events(
    events: Sequence[Any], *, now: float | None = None, max_per_request: int | None = None
) -> list[Problem]:
    """Every problem in ``events``, in event order.

    Args:
        events: server events as Meta's JSON objects.
        now: the current Unix time (default: the clock).
        max_per_request: flag a list longer than this (the sandbox: one request = one list); None when
            the caller splits the list into requests itself (``GraphClient.post_events`` does).
    """
    at = time.time() if now is None else now
    problems: list[Problem] = []
    if not events:
        problems.append(Problem(index=None, field="data", rule="no_events", reason="no events to send"))
    if max_per_request is not None and len(events) > max_per_request:
        problems.append(
            Problem(
                index=None,
                field="data",
                rule="too_many_events",
                reason=f"{len(events):,} events in one request; Meta accepts at most "
                f"{MAX_EVENTS_PER_REQUEST:,}",
            )
        )
    for index, event in enumerate(events):
        problems.extend(check_event(event, index=index, now=at))
    return problems


def check_event(event: Any, *, index: int = 0, now: float | None = None) -> list[Problem]:
    """Every problem of one server event."""
    at = time.time() if now is None else now
    if not isinstance(event, dict):
        return [Problem(index=index, field="", rule="not_an_object", reason="an event must be a JSON object")]
    found: list[tuple[str, str, str, int | None]] = []
    found += _required(event)
    found += _event_time(event.get("event_time"), at, max_event_age_s(event))
    found += _action_source(event)
    user_data = event.get("user_data")
    if isinstance(user_data, dict):
        found += _user_data(user_data)
    found += _custom_data(event)
    found += _processing_options(event)
    return [
        Problem(
            index=index,
            field=field,
            rule=rule,
            reason=reason,
            subcode=subcode,
            whole_request=rule == "event_time_too_old",
        )
        for field, rule, reason, subcode in found
    ]


_Found = list[tuple[str, str, str, int | None]]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


def _required(event: dict[str, Any]) -> _Found:
    found: _Found = []
    for field in ("event_name", "event_time", "action_source", "user_data"):
        if _missing(event.get(field)):
            found.append((field, "required", f"{field} is required", None))
    name = event.get("event_name")
    if not _missing(name) and not isinstance(name, str):
        found.append(("event_name", "event_name_type", "event_name must be a string", None))
    if not _missing(event.get("user_data")) and not isinstance(event.get("user_data"), dict):
        found.append(("user_data", "user_data_type", "user_data must be an object", None))
    if event.get("action_source") == "website":
        url = event.get("event_source_url")
        if _missing(url):
            found.append(("event_source_url", "required", "website events need event_source_url", None))
        elif not isinstance(url, str) or not _URL.match(url.strip()):
            found.append(("event_source_url", "url", "event_source_url must be an http(s) URL", None))
        user_data = event.get("user_data")
        if not isinstance(user_data, dict) or _missing(user_data.get("client_user_agent")):
            found.append(
                (
                    "user_data.client_user_agent",
                    "required",
                    "website events need client_user_agent (the browser's User-Agent)",
                    None,
                )
            )
    if event.get("action_source") == "app":
        found += _app_data(event.get("app_data"))
    return found


def _app_data(app_data: Any) -> _Found:
    """App events: ``app_data`` with ``advertiser_tracking_enabled`` (0/1, a real Meta refusal when
    missing) and the positional ``extinfo`` array (reference §2.2)."""
    if _missing(app_data) or not isinstance(app_data, dict):
        return [("app_data", "required", "app events need app_data with extinfo", None)]
    found: _Found = []
    if app_data.get("advertiser_tracking_enabled") not in (0, 1, True, False):
        reason = "app events need advertiser_tracking_enabled (0 or 1)"
        found.append(("app_data.advertiser_tracking_enabled", "required", reason, None))
    if not isinstance(app_data.get("extinfo"), list) or not app_data["extinfo"]:
        reason = "app events need extinfo (a 16-element array starting with a2 or i2)"
        found.append(("app_data.extinfo", "required", reason, None))
    return found


def _event_time(raw: Any, now: float, max_age_s: int) -> _Found:
    if _missing(raw):
        return []  # reported by _required
    if isinstance(raw, bool) or not isinstance(raw, int):
        reason = "event_time must be an integer Unix timestamp in seconds"
        return [("event_time", "event_time_type", reason, None)]
    if raw >= EPOCH_MS_THRESHOLD:
        reason = "event_time looks like milliseconds; Meta wants seconds (divide by 1000)"
        return [("event_time", "event_time_milliseconds", reason, None)]
    age = now - raw
    if age > max_age_s:
        days = age / 86400
        reason = (
            f"event_time is {days:.1f} days old; Meta accepts at most {max_age_s // 86400} days and refuses "
            "the whole request when one event is older"
        )
        return [("event_time", "event_time_too_old", reason, SUBCODE_TOO_OLD)]
    if -age > FUTURE_SKEW_S:
        reason = f"event_time is {-age / 60:.0f} minutes in the future (check the sender's clock)"
        return [("event_time", "event_time_future", reason, None)]
    return []


def _action_source(event: dict[str, Any]) -> _Found:
    source = event.get("action_source")
    if _missing(source) or source in ACTION_SOURCES:
        return []
    reason = "action_source must be one of " + ", ".join(ACTION_SOURCES)
    return [("action_source", "action_source_enum", reason, None)]


def _values(value: Any) -> list[tuple[str, Any]]:
    """(suffix, item) for a single value or each item of a list (multi-value keys, §2.4)."""
    if isinstance(value, list):
        return [(f"[{i}]", item) for i, item in enumerate(value)]
    return [("", value)]


def _user_data(user_data: dict[str, Any]) -> _Found:
    found: _Found = []
    for key in _HASH_REQUIRED:
        for suffix, item in _values(user_data.get(key)) if key in user_data else []:
            found += _hashed(f"user_data.{key}{suffix}", item)
    for key in ("fbp", "fbc", "client_ip_address", "client_user_agent"):
        if not _missing(user_data.get(key)):
            found += _plain(key, user_data[key])
    found += _key_combination(user_data)
    return found


def _hashed(field: str, item: Any) -> _Found:
    if _missing(item):
        return [(field, "empty", "empty value: leave the key out instead", None)]
    if not isinstance(item, str):
        return [(field, "not_hashed", "must be a SHA-256 hash (64 hex characters)", None)]
    text = item.strip()
    if _HASH.match(text) and text == item:
        return []
    if is_sha256(text):
        return [(field, "hash_case", "SHA-256 hex must be lowercase, without spaces", None)]
    reason = "looks unhashed: normalize and SHA-256 hash it (capi_core.normalize.hash_value)"
    return [(field, "not_hashed", reason, None)]


def _plain(key: str, value: Any) -> _Found:
    field = f"user_data.{key}"
    if not isinstance(value, str):
        return [(field, "plain_type", f"{key} must be a string", None)]
    if key == "client_user_agent":
        if is_sha256(value):
            return [(field, "hashed_forbidden", "client_user_agent must not be hashed", None)]
        return []
    _stored, verdict = assess_key(key, value, channel="server")
    if verdict == "hashed_forbidden":
        return [(field, "hashed_forbidden", f"{key} must be sent as is, not hashed", None)]
    if verdict == "malformed":
        expected = {
            "fbp": "fb.1.<13-digit ms time>.<random number>",
            "fbc": "fb.1.<13-digit ms time>.<fbclid>",
            "client_ip_address": "an IPv4 or IPv6 address",
        }[key]
        return [(field, "format", f"{key} must look like {expected}", None)]
    return []


def _key_combination(user_data: dict[str, Any]) -> _Found:
    present = {
        key for key in (*HASHED_KEYS, *_PLAIN_IDS) if key in user_data and not _missing(user_data[key])
    }
    if not present:
        reason = "no customer information parameter: send at least one of em, ph, external_id, fbp, fbc, ..."
        return [("user_data", "no_customer_information", reason, SUBCODE_INSUFFICIENT_KEYS)]
    if any(present <= combination for combination in INVALID_COMBINATIONS):
        keys = ", ".join(sorted(present))
        reason = (
            f"only {keys}: a combination too broad for matching (Meta's baseline rule since v13.0); add "
            "em, ph, external_id, fbp, fbc or client_ip_address"
        )
        return [("user_data", "insufficient_keys", reason, SUBCODE_INSUFFICIENT_KEYS)]
    return []


def _custom_data(event: dict[str, Any]) -> _Found:
    custom = event.get("custom_data")
    if custom is not None and not isinstance(custom, dict):
        return [("custom_data", "custom_data_type", "custom_data must be an object", None)]
    custom = custom or {}
    found: _Found = []
    purchase = event.get("event_name") == "Purchase"
    value, currency = custom.get("value"), custom.get("currency")
    if _missing(value):
        if purchase:
            found.append(("custom_data.value", "required", "Purchase needs custom_data.value", None))
    elif parse_value(value)[2] != "valid":
        found.append(("custom_data.value", "value", "value must be a non-negative number", None))
    if _missing(currency):
        if purchase:
            reason = "Purchase needs custom_data.currency (ISO 4217, e.g. EUR)"
            found.append(("custom_data.currency", "required", reason, None))
    elif not isinstance(currency, str) or check_currency(currency)[1] != "valid" or len(currency) != 3:
        reason = "currency must be a 3-letter ISO 4217 code, e.g. EUR"
        found.append(("custom_data.currency", "currency", reason, None))
    return found


def _processing_options(event: dict[str, Any]) -> _Found:
    options = event.get("data_processing_options")
    if options is None:
        return []
    if not isinstance(options, list) or any(option != "LDU" for option in options):
        reason = 'data_processing_options must be [] or ["LDU"]'
        return [("data_processing_options", "ldu", reason, None)]
    if options and not isinstance(event.get("data_processing_options_country"), int):
        reason = "LDU needs data_processing_options_country (1 = USA, 0 = let Meta geolocate)"
        return [("data_processing_options_country", "required", reason, None)]
    return []
