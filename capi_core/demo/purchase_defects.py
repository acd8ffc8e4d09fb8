"""The Purchase defects: each turns a correct server/browser Purchase pair into one broken in one way.

One small function per diagnostic code (SPEC §5), each altering the copies and tagging what it altered,
so the manifest's ground truth is exactly what the files hold. A copy gets at most one injected defect;
where a defect is by nature also another finding (a stale copy is also a delayed one), the function adds
both tags. Must not draw the defect itself (``shop.build_order`` does) nor write files.
"""

from __future__ import annotations

import copy as copying
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

from capi_core.demo.catalog import FAKE_ACCESS_TOKEN, SERVER_IP, TEST_EVENT_CODE
from capi_core.demo.config import DemoConfig
from capi_core.demo.copies import BrowserCopy, ServerCopy
from capi_core.demo.orders_csv import money
from capi_core.demo.shop import DAY_MS, Order, hash_common, token

_HOUR_MS = 3_600_000
_STALE = (2804003, "Event Timestamp Too Old", "The timestamp for this event is too far in the past.")
_BROAD = (
    2804050,
    "Customer information parameters insufficient",
    "The event has no customer information parameters, or only a combination so broad that it is "
    "unlikely to be effective for matching.",
)


@dataclass(slots=True)
class Pair:
    """What a defect may touch: the server copy, its browser twin, and room for extra copies."""

    config: DemoConfig
    rng: random.Random
    order: Order
    server: ServerCopy
    browser: BrowserCopy | None
    extra: list[ServerCopy]

    def tag(self, code: str, detail: str = "server") -> None:
        """Record ``code`` on the server copy."""
        self.server.tags.append((code, detail))


def _missing_event_id(p: Pair) -> None:
    p.server.event_id = None
    p.tag("DEDUP_MISSING_EVENT_ID", "server")


def _event_name_mismatch(p: Pair) -> None:
    p.server.event_name = "purchase"
    p.tag("DEDUP_EVENT_NAME_MISMATCH")
    p.tag("PARAM_NONSTANDARD_EVENT_NAME", "purchase")


def _event_id_mismatch(p: Pair) -> None:
    if p.browser is not None:
        p.browser.event_id = f"#{p.order.number}"
        p.browser.tags.append(("DEDUP_EVENT_ID_MISMATCH", "browser '#<n>' / server '<n>'"))


def _outside_window(p: Pair) -> None:
    # A queued job sends two days late and re-stamps event_time, so the delay hides from freshness.
    received = p.browser.ts_ms if p.browser is not None else p.order.created_ms
    p.server.sent_ms = received + 49 * _HOUR_MS + p.rng.randrange(0, 11 * _HOUR_MS)
    p.server.event_time = p.server.sent_ms // 1000 - 1
    p.tag("DEDUP_OUTSIDE_WINDOW")


def _same_channel_repeat(p: Pair) -> None:
    retry = copying.copy(p.server)  # the webhook delivered twice: identical event, 30 s later
    retry.sent_ms = p.server.sent_ms + 30_000
    retry.trace = f"A{token(p.rng, 22)}"
    retry.tags = [("DEDUP_SAME_CHANNEL_REPEAT", "server_retry")]
    p.extra.append(retry)


def _pixel_mismatch(p: Pair) -> None:
    p.server.pixel_id = p.config.second_pixel_id
    p.tag("DEDUP_PIXEL_MISMATCH")


def _beacon_param(browser: BrowserCopy | None, key: str, text: str) -> None:
    if browser is not None:
        browser.custom = [(k, text if k == key else v) for k, v in browser.custom]


def _value_mismatch(p: Pair) -> None:
    # The data layer both channels read holds the subtotal: Meta keeps the browser copy of a merged pair,
    # so a server-only error would never reach the value Meta counts.
    assert p.server.custom_data is not None
    value = p.order.subtotal_cents / 100
    p.server.custom_data["value"] = value
    _beacon_param(p.browser, "value", str(int(value)) if value.is_integer() else str(value))
    p.tag("RECON_VALUE_MISMATCH", "subtotal_sent")


def _currency_mismatch(p: Pair) -> None:
    assert p.server.custom_data is not None
    p.server.custom_data["currency"] = "CAD"  # the visitor's display currency, on both channels
    _beacon_param(p.browser, "currency", "CAD")
    p.tag("RECON_CURRENCY_MISMATCH", "other_currency")


def _missing_required(p: Pair) -> None:
    if p.rng.random() < 0.5:
        p.server.url = None
        p.tag("PARAM_MISSING_REQUIRED", "event_source_url")
    else:
        del p.server.user_data["client_user_agent"]
        p.tag("PARAM_MISSING_REQUIRED", "client_user_agent")


def _event_time_ms(p: Pair) -> None:
    p.server.event_time = p.order.created_ms
    p.tag("PARAM_EVENT_TIME_MS")


def _event_time_stale(p: Pair) -> None:
    p.server.sent_ms = p.order.created_ms + 8 * DAY_MS + p.rng.randrange(0, 20 * _HOUR_MS)
    p.server.error = _STALE
    p.tag("PARAM_EVENT_TIME_STALE")
    p.tag("FRESHNESS_DELAYED", "critical_stale")


def _event_time_future(p: Pair) -> None:
    p.server.event_time = p.order.created_ms // 1000 + 86_400  # the delivery date sent as event_time
    p.tag("PARAM_EVENT_TIME_FUTURE")


def _invalid_currency(p: Pair) -> None:
    assert p.server.custom_data is not None
    p.server.custom_data["currency"] = "US$"
    p.tag("PARAM_INVALID_CURRENCY")  # not a currency mismatch: Meta keeps the browser copy (USD)


def _invalid_value(p: Pair) -> None:
    assert p.server.custom_data is not None
    p.server.custom_data["value"] = money(p.order.total_cents).replace(".", ",")
    p.tag("PARAM_INVALID_VALUE")


def _unhashed_pii(p: Pair) -> None:
    if p.order.email.strip():
        p.server.user_data["em"] = [p.order.email.strip().lower()]
        p.tag("MATCH_UNHASHED_PII", "em")
    else:
        p.server.user_data["ph"] = [f"+{p.order.customer.phone_digits}"]
        p.tag("MATCH_UNHASHED_PII", "ph")


def _malformed_hash(p: Pair) -> None:
    phone = p.order.customer.phone_digits
    p.server.user_data["ph"] = [hashlib.md5(phone.encode(), usedforsecurity=False).hexdigest()]
    p.tag("MATCH_MALFORMED_HASH", "ph")


def _hashed_forbidden(p: Pair) -> None:
    p.server.user_data["fbp"] = hashlib.sha256(p.order.fbp.encode()).hexdigest()
    p.tag("MATCH_HASHED_FORBIDDEN", "fbp")


def _invalid_fbc(p: Pair) -> None:
    clicked = p.order.created_ms - 120 * DAY_MS
    fbclid = f"IwAR{token(p.rng, 40)}"
    if p.rng.random() < 0.5:
        p.server.user_data["fbc"] = fbclid  # the raw fbclid, not fb.1.<ms>.<fbclid>
        p.tag("MATCH_INVALID_FBC", "malformed")
    else:
        p.server.user_data["fbc"] = f"fb.1.{clicked}.{fbclid}"
        p.tag("MATCH_INVALID_FBC", "older_than_90_days")


def _invalid_fbp(p: Pair) -> None:
    p.server.user_data["fbp"] = f"GA1.1.{p.rng.randrange(10**9, 2 * 10**9)}.{p.order.created_ms // 1000}"
    p.tag("MATCH_INVALID_FBP", "ga_cookie")


def _insufficient_keys(p: Pair) -> None:
    user = p.server.user_data
    p.server.user_data = {
        "ct": user["ct"], "country": user["country"], "st": user["st"], "zp": user["zp"],
        "ge": hash_common("ge", p.order.customer.gender), "client_user_agent": user["client_user_agent"],
    }  # fmt: skip
    p.server.error = _BROAD
    p.tag("MATCH_INSUFFICIENT_KEYS")


def _shared_ip(p: Pair) -> None:
    p.server.user_data["client_ip_address"] = SERVER_IP  # the webhook handler's own address
    p.tag("MATCH_SHARED_IP")


def _fbp_mismatch(p: Pair) -> None:
    stale = f"fb.1.{p.order.created_ms - 40 * DAY_MS}.{p.rng.randrange(1_000_000_000, 2_147_483_647)}"
    p.server.user_data["fbp"] = stale  # an older session's cookie kept on the customer record
    p.tag("MATCH_FBP_MISMATCH")


def _delayed(p: Pair) -> None:
    if p.rng.random() < 0.5:
        p.server.sent_ms = p.order.created_ms + 3 * _HOUR_MS + p.rng.randrange(0, 30 * 60_000)
        p.tag("FRESHNESS_DELAYED", "high_3h")
    else:
        p.server.sent_ms = p.order.created_ms + 30 * _HOUR_MS + p.rng.randrange(0, 30 * 60_000)
        p.tag("FRESHNESS_DELAYED", "critical_30h")


def _test_code(p: Pair) -> None:
    p.server.test_event_code = TEST_EVENT_CODE
    p.tag("TEST_CODE_IN_PRODUCTION", "real_order")


def _consent_denied(p: Pair) -> None:
    """Tagged on every server copy of the visitor by the funnel; nothing more to alter here."""


def _recon_missing(p: Pair) -> None:
    """Never reached: the buyer's browser blocked the Pixel and the server skips manual payments."""


_DEFECTS: dict[str, Callable[[Pair], None]] = {
    "DEDUP_MISSING_EVENT_ID": _missing_event_id,
    "DEDUP_EVENT_NAME_MISMATCH": _event_name_mismatch,
    "DEDUP_EVENT_ID_MISMATCH": _event_id_mismatch,
    "DEDUP_OUTSIDE_WINDOW": _outside_window,
    "DEDUP_SAME_CHANNEL_REPEAT": _same_channel_repeat,
    "DEDUP_PIXEL_MISMATCH": _pixel_mismatch,
    "RECON_MISSING": _recon_missing,
    "RECON_VALUE_MISMATCH": _value_mismatch,
    "RECON_CURRENCY_MISMATCH": _currency_mismatch,
    "PARAM_MISSING_REQUIRED": _missing_required,
    "PARAM_EVENT_TIME_MS": _event_time_ms,
    "PARAM_EVENT_TIME_STALE": _event_time_stale,
    "PARAM_EVENT_TIME_FUTURE": _event_time_future,
    "PARAM_INVALID_CURRENCY": _invalid_currency,
    "PARAM_INVALID_VALUE": _invalid_value,
    "MATCH_UNHASHED_PII": _unhashed_pii,
    "MATCH_MALFORMED_HASH": _malformed_hash,
    "MATCH_HASHED_FORBIDDEN": _hashed_forbidden,
    "MATCH_INVALID_FBC": _invalid_fbc,
    "MATCH_INVALID_FBP": _invalid_fbp,
    "MATCH_INSUFFICIENT_KEYS": _insufficient_keys,
    "MATCH_SHARED_IP": _shared_ip,
    "MATCH_FBP_MISMATCH": _fbp_mismatch,
    "FRESHNESS_DELAYED": _delayed,
    "CONSENT_DENIED_SENT": _consent_denied,
    "TEST_CODE_IN_PRODUCTION": _test_code,
}


def apply_purchase_defect(
    config: DemoConfig, rng: random.Random, order: Order, server: ServerCopy, browser: BrowserCopy | None
) -> list[ServerCopy]:
    """Alter the pair as ``order.defect`` says (and log the token on the secret order).

    Returns:
        Extra copies the defect adds (a retry), to be written after the pair.
    """
    pair = Pair(config, rng, order, server, browser, [])
    if order.defect is not None:
        _DEFECTS[order.defect](pair)
    if order.secret:
        server.access_token = FAKE_ACCESS_TOKEN
        pair.tag("SECRET_IN_LOGS", "request.access_token")
    return pair.extra


def defect_codes() -> tuple[str, ...]:
    """Every Purchase defect code this module can inject."""
    return tuple(_DEFECTS)
