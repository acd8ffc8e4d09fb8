"""Visitors' funnels -> event copies: PageView, ViewContent, AddToCart, InitiateCheckout, Purchase.

Owns who sends what on which channel (browser beacons, server events with Meta-normalized SHA-256
user_data) and the AddToCart / coverage / EMQ defects that are a property of the funnel itself. The
Purchase defects live in ``purchase_defects.py``. Must not write files.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Any

import orjson

from capi_core.demo.catalog import PRODUCTS, TEST_EVENT_CODE, USER_AGENTS, Product
from capi_core.demo.config import DemoConfig
from capi_core.demo.copies import BrowserCopy, Copy, ServerCopy
from capi_core.demo.purchase_defects import apply_purchase_defect
from capi_core.demo.shop import Order, hash_common, hash_phone, token
from capi_core.normalize import hash_value

_MINUTE_MS = 60_000
#: Events whose browser copies mostly lack a server twin (COVERAGE_BELOW_GOAL ground truth): every event
#: whose server share is under the 75 % goal, including the "AddToCart " variant (coverage is per exact name).
COVERAGE_EVENTS = ("PageView", "ViewContent", "AddToCart", "AddToCart ")


@dataclass(slots=True)
class Visitor:
    """One browser session: its cookies, network identity, consent, and whether the Pixel loads."""

    fbp: str
    fbc: str | None
    ip: str
    ua: str
    consent: str
    blocked: bool
    external_id: str  # hashed shop visitor id (server copies of browse events)
    beacons: int = 0


def event_id(rng: random.Random) -> str:
    """A UUID-4-shaped event id as most Pixel setups generate them."""
    h = f"{rng.getrandbits(128):032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return f"2001:db8:{rng.randrange(1, 0xFFFF):x}::{rng.randrange(1, 0xFFFF):x}"
    return f"{rng.choice(('203.0.113', '198.51.100'))}.{rng.randrange(1, 255)}"


def _visitor(config: DemoConfig, rng: random.Random, fbp: str, fbc: str | None) -> Visitor:
    return Visitor(
        fbp=fbp,
        fbc=fbc,
        ip=_ip(rng),
        ua=rng.choice(USER_AGENTS),
        consent="unknown" if rng.random() < config.unknown_consent_share else "granted",
        blocked=rng.random() < config.blocked_share,
        external_id=hash_value("external_id", f"v{rng.getrandbits(48):012x}") or "",
    )


class Funnel:
    """Builds the copies of one visitor's events, in time order, into ``self.copies``."""

    def __init__(self, config: DemoConfig, rng: random.Random, visitor: Visitor) -> None:
        self.config = config
        self.rng = rng
        self.visitor = visitor
        self.copies: list[Copy] = []

    def browser(
        self,
        name: str,
        eid: str | None,
        ts_ms: int,
        url: str,
        custom: list[tuple[str, str]],
        em_hash: str | None = None,
        example: str | None = None,
    ) -> BrowserCopy | None:
        """A beacon, unless the Pixel is blocked for this visitor."""
        if self.visitor.blocked:
            return None
        self.visitor.beacons += 1
        copy = BrowserCopy(
            event_name=name,
            event_id=eid,
            ts_ms=ts_ms,
            pixel_id=self.config.pixel_id,
            url=url,
            fbp=self.visitor.fbp,
            fbc=self.visitor.fbc,
            custom=custom,
            em_hash=em_hash,
            counter=self.visitor.beacons - 1,
            example=example or eid or "",
        )
        self.copies.append(copy)
        return copy

    def server(
        self,
        name: str,
        eid: str | None,
        event_ms: int,
        url: str,
        user_data: dict[str, Any],
        custom: dict[str, Any] | None,
        example: str | None = None,
    ) -> ServerCopy:
        """A server event sent a few seconds after it happened."""
        copy = ServerCopy(
            event_name=name,
            event_time=event_ms // 1000,
            event_id=eid,
            sent_ms=event_ms + self.rng.randrange(300, 5000),
            pixel_id=self.config.pixel_id,
            consent=self.visitor.consent,
            url=url,
            user_data=user_data,
            custom_data=custom,
            trace=f"A{token(self.rng, 22)}",
            example=example or eid or "",
        )
        if self.visitor.consent == "denied":
            copy.tags.append(("CONSENT_DENIED_SENT", name))
        self.copies.append(copy)
        return copy

    def browse_keys(self) -> dict[str, Any]:
        """user_data of server PageView / ViewContent / AddToCart: ids and network keys, no contact info."""
        keys: dict[str, Any] = {"external_id": self.visitor.external_id, "fbp": self.visitor.fbp}
        if self.visitor.fbc:
            keys["fbc"] = self.visitor.fbc
        keys["client_ip_address"] = self.visitor.ip
        keys["client_user_agent"] = self.visitor.ua
        return keys

    def step(
        self,
        name: str,
        ts_ms: int,
        url: str,
        server_share: float,
        custom: dict[str, Any] | None,
        keys: dict[str, Any] | None = None,
        *,
        em_hash: str | None = None,
        eid: str | None = None,
    ) -> tuple[BrowserCopy | None, ServerCopy | None]:
        """One non-Purchase event on the browser and, for ``server_share`` of them, the server."""
        eid = eid or event_id(self.rng)
        browser = self.browser(name, eid, ts_ms, url, _beacon_custom(custom), em_hash)
        server = None
        if self.rng.random() < server_share or (eid == "undefined" and not self.visitor.blocked):
            server = self.server(name, eid, ts_ms, url, keys or self.browse_keys(), custom)
        if browser is not None and server is None and name in COVERAGE_EVENTS:
            browser.tags.append(("COVERAGE_BELOW_GOAL", f"{name}:browser_only"))
        return browser, server

    def add_to_cart(self, ts_ms: int, url: str, product: Product) -> None:
        """AddToCart, with its own defects: event_id "undefined" or the name "AddToCart "."""
        u = self.rng.random()
        name, eid, tag = "AddToCart", None, None
        if u < self.config.reused_event_id_rate:
            eid, tag = "undefined", "DEDUP_REUSED_EVENT_ID"
        elif u < self.config.reused_event_id_rate + self.config.nonstandard_name_rate:
            name, tag = "AddToCart ", "PARAM_NONSTANDARD_EVENT_NAME"
        custom = _product_custom(self.config, product)
        pair = self.step(name, ts_ms, url, self.config.addtocart_server_share, custom, eid=eid)
        for copy in pair:
            if copy is not None and tag is not None:
                channel = "browser" if isinstance(copy, BrowserCopy) else "server"
                copy.tags.append((tag, name if tag.startswith("PARAM") else channel))


def _product_custom(config: DemoConfig, product: Product) -> dict[str, Any]:
    return {
        "value": product.price_cents / 100,
        "currency": config.currency,
        "content_ids": [product.sku],
        "content_type": "product",
    }


def js_text(value: object) -> str:
    """A value as fbevents.js stringifies it: ``129`` not ``129.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _beacon_custom(custom: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not custom:
        return []
    pairs = []
    for key, value in custom.items():
        text = orjson.dumps(value).decode() if isinstance(value, list) else js_text(value)
        pairs.append((key, text))
    return pairs


def _checkout_keys(visitor: Visitor) -> dict[str, Any]:
    """Server InitiateCheckout: fbp + IP + user agent only (the EMQ_LOW ground truth)."""
    return {"fbp": visitor.fbp, "client_ip_address": visitor.ip, "client_user_agent": visitor.ua}


def purchase_keys(order: Order, visitor: Visitor, em_hash: str | None) -> dict[str, Any]:
    """Full server Purchase user_data, every contact key normalized and hashed per Meta."""
    who = order.customer
    place = who.place
    keys: dict[str, Any] = {}
    if em_hash is not None:
        keys["em"] = [em_hash]
    if order.billing_phone:
        keys["ph"] = [hash_phone(who.phone_digits)]
    keys.update({
        "fn": hash_common("fn", who.first_name), "ln": hash_common("ln", who.last_name),
        "ct": hash_common("ct", place.city), "st": hash_common("st", place.province or place.city),
        "zp": hash_common("zp", place.zip), "country": hash_common("country", place.country),
        "external_id": hash_value("external_id", who.shopify_id), "fbp": visitor.fbp,
    })  # fmt: skip
    if visitor.fbc:
        keys["fbc"] = visitor.fbc
    keys["client_ip_address"] = visitor.ip
    keys["client_user_agent"] = visitor.ua
    return keys


def _purchase(funnel: Funnel, order: Order, checkout_url: str, em_hash: str | None) -> None:
    config = funnel.config
    skus = [product.sku for product, _ in order.items]
    num_items = sum(qty for _, qty in order.items)
    url = f"{checkout_url}/thank-you"
    browser_custom = [
        ("value", js_text(order.total_cents / 100)), ("currency", config.currency),
        ("content_ids", orjson.dumps(skus).decode()), ("content_type", "product"),
    ]  # fmt: skip
    ts = order.created_ms + funnel.rng.randrange(1000, 4000)
    browser = funnel.browser("Purchase", order.number, ts, url, browser_custom, em_hash, order.number)
    if browser is not None and order.drift:
        browser.event_id = None
        browser.tags += [
            ("RECON_SPIKE", "browser_without_eid"),
            ("DEDUP_MISSING_EVENT_ID", "browser_deploy_drift"),
        ]
    custom = {
        "value": order.total_cents / 100, "currency": config.currency, "order_id": order.number,
        "content_ids": skus, "content_type": "product", "num_items": num_items,
    }  # fmt: skip
    keys = purchase_keys(order, funnel.visitor, em_hash)
    server = funnel.server("Purchase", order.number, order.created_ms, url, keys, custom, order.number)
    server.sent_ms = order.created_ms + funnel.rng.randrange(2000, 10_000)
    funnel.copies += apply_purchase_defect(config, funnel.rng, order, server, browser)


def order_copies(config: DemoConfig, order: Order, rng: random.Random) -> list[Copy]:
    """Every copy of the buyer's visit that ends in ``order`` (none for a RECON_MISSING order: the
    buyer's ad blocker stopped the Pixel and the server skips manual payments)."""
    if order.defect == "RECON_MISSING":
        return []
    visitor = _visitor(config, rng, order.fbp, order.fbc)
    visitor.blocked, visitor.consent = order.blocked, order.consent
    funnel = Funnel(config, rng, visitor)
    product = order.items[0][0]
    product_url = f"{config.shop_url}/products/{product.handle}"
    checkout_url = f"{config.shop_url}/checkouts/cn/{token(rng, 24)}"
    em_hash = hash_value("em", order.email) if order.email.strip() else None
    t_checkout = order.created_ms - rng.randrange(_MINUTE_MS, 10 * _MINUTE_MS)
    t_cart = t_checkout - rng.randrange(30_000, 15 * _MINUTE_MS)
    t_view = t_cart - rng.randrange(10_000, 5 * _MINUTE_MS)
    t_land = t_view - rng.randrange(5_000, 5 * _MINUTE_MS)
    landing = f"{config.shop_url}/" + (f"?fbclid={visitor.fbc.rsplit('.', 1)[1]}" if visitor.fbc else "")
    funnel.step("PageView", t_land, landing, config.pageview_server_share, None)
    funnel.step(
        "ViewContent", t_view, product_url, config.viewcontent_server_share, _product_custom(config, product)
    )
    funnel.add_to_cart(t_cart, product_url, product)
    checkout_custom = {
        "value": order.subtotal_cents / 100, "currency": config.currency,
        "content_ids": [p.sku for p, _ in order.items], "num_items": sum(q for _, q in order.items),
    }  # fmt: skip
    _, server = funnel.step(
        "InitiateCheckout",
        t_checkout,
        checkout_url,
        config.checkout_server_share,
        checkout_custom,
        _checkout_keys(visitor),
        em_hash=em_hash,
    )
    if server is not None:
        server.tags.append(("EMQ_LOW", "InitiateCheckout"))
    if order.purchase_sent:
        _purchase(funnel, order, checkout_url, em_hash)
    return funnel.copies


def browse_copies(config: DemoConfig, order: Order, rng: random.Random) -> list[Copy]:
    """Copies of the visitors who browsed before ``order`` without buying (``browsers_per_order``)."""
    whole = int(config.browsers_per_order)
    count = whole + (1 if rng.random() < config.browsers_per_order - whole else 0)
    copies: list[Copy] = []
    for _ in range(count):
        start = order.created_ms - rng.randrange(10 * _MINUTE_MS, 50 * _MINUTE_MS)
        fbp = (
            f"fb.1.{start - rng.randrange(0, 30 * 86_400_000)}.{rng.randrange(1_000_000_000, 2_147_483_647)}"
        )
        funnel = Funnel(config, rng, _visitor(config, rng, fbp, None))
        funnel.step(
            "PageView", start, f"{config.shop_url}/collections/all", config.pageview_server_share, None
        )
        product = rng.choice(PRODUCTS)
        url = f"{config.shop_url}/products/{product.handle}"
        if rng.random() < 0.7:
            t = start + rng.randrange(5_000, 3 * _MINUTE_MS)
            funnel.step(
                "ViewContent", t, url, config.viewcontent_server_share, _product_custom(config, product)
            )
            if rng.random() < 0.25:
                funnel.add_to_cart(t + rng.randrange(5_000, 2 * _MINUTE_MS), url, product)
        copies += funnel.copies
    return copies


def phantom_copies(config: DemoConfig, order: Order, rng: random.Random) -> list[Copy]:
    """Now and then a server Purchase for an order the export does not hold (QA or a staging store)."""
    if rng.random() >= config.phantom_rate:
        return []
    test = rng.random() < config.phantom_test_code_share
    # Letters only, so no token of the id can equal a real order number.
    oid = ("TEST-ORDER-" if test else "STG-") + "".join(rng.choices(string.ascii_uppercase, k=6))
    sent = order.created_ms - rng.randrange(_MINUTE_MS, 40 * _MINUTE_MS)
    fbp = f"fb.1.{sent - rng.randrange(0, 86_400_000)}.{rng.randrange(1_000_000_000, 2_147_483_647)}"
    visitor = _visitor(config, rng, fbp, None)
    funnel = Funnel(config, rng, visitor)
    product = rng.choice(PRODUCTS)
    user = {
        "em": [hash_value("em", f"qa.tester{rng.randrange(1, 9)}@example.com")], "fbp": fbp,
        "client_ip_address": visitor.ip, "client_user_agent": visitor.ua,
    }  # fmt: skip
    custom = {**_product_custom(config, product), "order_id": oid, "num_items": 1}
    url = f"{config.shop_url}/checkouts/cn/{token(rng, 24)}/thank-you"
    copy = funnel.server("Purchase", oid, sent, url, user, custom, oid)
    copy.tags.append(("RECON_PHANTOM", "test_code" if test else "no_truth"))
    if test:
        copy.test_event_code = TEST_EVENT_CODE
        copy.tags.append(("TEST_CODE_IN_PRODUCTION", "phantom"))
    return [copy]
