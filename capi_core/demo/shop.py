"""The demo shop's orders: each order is a pure function of (config, index), so files can stream.

Owns customers, order facts (status, money, cookies, which Purchase defect the order carries) and the
shop's clock (US Eastern with its DST change). It must not write files or build event copies.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from dataclasses import dataclass
from functools import lru_cache

from capi_core.demo.catalog import (
    CA_PLACE,
    FIRST_NAMES,
    GB_PLACE,
    LAST_NAMES,
    MAIL_DOMAINS,
    PRODUCTS,
    STREET_KINDS,
    STREETS,
    US_PLACES,
    Place,
    Product,
)
from capi_core.demo.config import DemoConfig
from capi_core.normalize import hash_value

_EPOCH = dt.datetime(1970, 1, 1)
_HOUR_MS = 3_600_000
DAY_MS = 24 * _HOUR_MS
PAID_STATUSES = ("paid", "partially_refunded")


def order_rng(config: DemoConfig, index: int) -> random.Random:
    """The random stream of order ``index``, independent of every other order's draws.

    ``build_order`` takes its draws first, so each pass over the orders (export rows, event copies)
    rebuilds the same order and then continues the stream its own way.
    """
    return random.Random((config.seed << 40) + index)


def to_ms(moment: dt.datetime) -> int:
    """Epoch milliseconds of a naive UTC datetime."""
    return (moment - _EPOCH) // dt.timedelta(milliseconds=1)


def from_ms(ms: int) -> dt.datetime:
    """Naive UTC datetime of epoch milliseconds."""
    return _EPOCH + dt.timedelta(milliseconds=ms)


def token(rng: random.Random, length: int) -> str:
    """A random URL-safe token of ``length`` characters (fbclid tails, trace ids)."""
    return base64.urlsafe_b64encode(rng.randbytes(length * 3 // 4 + 1)).decode()[:length]


@lru_cache(maxsize=64)
def _us_dst_bounds(year: int) -> tuple[int, int]:
    """(start, end) in epoch ms of US daylight time (02:00 local on both ends).

    Second Sunday of March 07:00 UTC to first Sunday of November 06:00 UTC.
    """
    march = dt.datetime(year, 3, 8)
    november = dt.datetime(year, 11, 1)
    start = march + dt.timedelta(days=(6 - march.weekday()) % 7, hours=7)
    end = november + dt.timedelta(days=(6 - november.weekday()) % 7, hours=6)
    return to_ms(start), to_ms(end)


def shop_time(ms: int) -> str:
    """A UTC instant as Shopify writes it for a US Eastern shop: ``2026-10-05 14:03:11 -0400``."""
    start, end = _us_dst_bounds(from_ms(ms).year)
    offset = -4 if start <= ms < end else -5
    local = from_ms(ms + offset * _HOUR_MS)
    return f"{local:%Y-%m-%d %H:%M:%S} -0{-offset}00"


@lru_cache(maxsize=1024)
def hash_common(key: str, value: str) -> str | None:
    """``hash_value`` for low-cardinality keys (names, places, gender): the same few values recur."""
    return hash_value(key, value)


@lru_cache(maxsize=1 << 17)
def hash_phone(digits: str) -> str | None:
    """``hash_value("ph", "+<digits>")``, cached.

    Phone parsing is the slowest normalization, and the demo's ~130k distinct numbers recur across
    customers at benchmark sizes.
    """
    return hash_value("ph", f"+{digits}")


@dataclass(frozen=True, slots=True)
class Customer:
    """A returning customer: every attribute derives from the customer number ``k``."""

    k: int
    first_name: str
    gender: str
    last_name: str
    email: str
    phone_digits: str  # E.164 without '+'
    place: Place
    street: str
    shopify_id: str


def customer(k: int) -> Customer:
    """Customer number ``k`` (same k, same person, across orders)."""
    first, gender = FIRST_NAMES[k % len(FIRST_NAMES)]
    band = (k * 37) % 100
    place = US_PLACES[(k * 7) % len(US_PLACES)] if band < 92 else CA_PLACE if band < 97 else GB_PLACE
    phone = f"4420794600{k % 100:02d}" if place.country == "GB" else f"1{place.area_code}555{k % 10000:04d}"
    return Customer(
        k=k,
        first_name=first,
        gender=gender,
        last_name=LAST_NAMES[(k // len(FIRST_NAMES)) % len(LAST_NAMES)],
        email=f"demo.customer{k}@{MAIL_DOMAINS[k % len(MAIL_DOMAINS)]}",
        phone_digits=phone,
        place=place,
        street=f"{100 + k % 900} {STREETS[k % len(STREETS)]} {STREET_KINDS[k % len(STREET_KINDS)]}",
        shopify_id=str(7_100_000_000_000 + k),
    )


@dataclass(frozen=True, slots=True)
class Order:
    """One order's facts, shared by the export row writer and the funnel that reports it to Meta."""

    index: int
    number: str  # "1042": the event_id and order_id both channels should send
    created_ms: int
    status: str  # Shopify financial status
    customer: Customer
    items: tuple[tuple[Product, int], ...]
    discount_cents: int
    subtotal_cents: int
    shipping_cents: int
    tax_cents: int
    defect: str | None  # the one Purchase defect code this order carries
    secret: bool  # the one envelope that logs an access token
    drift: bool  # created on a deploy day: the browser Purchase loses its eid
    purchase_sent: bool
    blocked: bool  # the Pixel never loads for this buyer
    consent: str
    fbp: str
    fbc: str | None
    cookies_in_note: bool
    email: str  # as typed at checkout: mixed case, spaces, or empty (guest with a phone only)
    billing_phone: str  # as typed: one of several shapes, or empty

    @property
    def total_cents(self) -> int:
        """Subtotal + shipping + taxes, as Shopify's ``Total``."""
        return self.subtotal_cents + self.shipping_cents + self.tax_cents

    @property
    def paid(self) -> bool:
        """True for statuses the backend counts as a sale."""
        return self.status in PAID_STATUSES

    @property
    def name(self) -> str:
        """Shopify's ``Name``: ``#1042``."""
        return f"#{self.number}"


def order_time_ms(config: DemoConfig, index: int, jitter: float) -> int:
    """Created time of order ``index``: its slot of the period plus jitter, whole seconds, increasing."""
    # An hour kept free at both ends so every funnel starts inside the period.
    span = config.weeks * 7 * DAY_MS - 2 * _HOUR_MS
    offset = _HOUR_MS + span * (index + 0.05 + 0.9 * jitter) / config.orders
    return to_ms(config.period_start) + int(offset) // 1000 * 1000


def _draw(rng: random.Random, rates: dict[str, float]) -> str | None:
    """One code by cumulative rate, or None (the rest of the probability mass)."""
    u = rng.random()
    for code, rate in rates.items():
        if u < rate:
            return code
        u -= rate
    return None


@lru_cache(maxsize=8)
def _status_rates(config: DemoConfig) -> dict[str, float]:
    return {
        "partially_refunded": config.partially_refunded_rate,
        "refunded": config.refunded_rate,
        "voided": config.voided_rate,
        "pending": config.pending_rate,
    }


@lru_cache(maxsize=8)
def _defect_rates(config: DemoConfig) -> dict[str, float]:
    return config.purchase_defect_rates()


def _status(config: DemoConfig, rng: random.Random) -> str:
    return _draw(rng, _status_rates(config)) or "paid"


def _cookies(rng: random.Random, created_ms: int) -> tuple[str, str | None]:
    first_seen = created_ms - rng.randrange(600_000, 60 * DAY_MS)
    fbp = f"fb.1.{first_seen}.{rng.randrange(1_000_000_000, 2_147_483_647)}"
    if rng.random() >= 0.45:
        return fbp, None
    clicked = created_ms - rng.randrange(300_000, 6 * DAY_MS)
    return fbp, f"fb.1.{clicked}.IwAR{token(rng, 40)}"


def _email(rng: random.Random, who: Customer) -> str:
    u = rng.random()
    if u < 0.85:
        return who.email
    if u < 0.92:
        local, domain = who.email.split("@")
        return f"{local.title()}@{domain.title()}"
    if u < 0.96:
        return f"  {who.email} "
    return ""


def _phone(rng: random.Random, who: Customer) -> str:
    digits = who.phone_digits
    if rng.random() < 0.05:
        return ""
    if digits.startswith("44"):
        shapes = [f"+44 20 7946 {digits[-4:]}", f"020 7946 {digits[-4:]}", f"'+{digits}"]
    else:
        area, mid, end = digits[1:4], digits[4:7], digits[7:]
        shapes = [
            f"'+1 {area}-{mid}-{end}",
            f"({area}) {mid}-{end}",
            f"+{digits}",
            digits[1:],
            f"{area}.{mid}.{end}",
        ]
    return rng.choice(shapes)


def _money(rng: random.Random, place: Place) -> tuple[tuple[tuple[Product, int], ...], int, int, int, int]:
    items = tuple((p, 1 if rng.random() < 0.8 else 2) for p in rng.sample(PRODUCTS, rng.randint(1, 3)))
    gross = sum(product.price_cents * qty for product, qty in items)
    discount = gross // 10 if rng.random() < 0.1 else 0
    subtotal = gross - discount
    shipping = 1995 if place.country != "US" else 0 if subtotal >= 7500 else 695
    tax = (subtotal * place.tax_per_mille + 500) // 1000
    return items, discount, subtotal, shipping, tax


def build_order(config: DemoConfig, index: int, rng: random.Random) -> Order:
    """Order ``index`` (0-based; number 1001 + index).

    The same order every time ``rng`` comes fresh from ``order_rng(config, index)``; draws that only
    one pass needs (export shapes, funnel) are taken from ``rng`` after this returns.
    """
    created = order_time_ms(config, index, rng.random())
    who = customer(rng.randrange(max(1, config.orders * 3 // 4)))
    status = _status(config, rng)
    secret = index == config.orders // 3
    if secret:
        status = "paid"
    deploy_ms = to_ms(dt.datetime.combine(config.deploy_day, dt.time()))
    drift = deploy_ms <= created < to_ms(config.deploy_end)
    defect = None
    if status in PAID_STATUSES and not drift and not secret:
        defect = _draw(rng, _defect_rates(config))
    if defect == "CONSENT_DENIED_SENT":
        blocked, consent = True, "denied"  # the consent banner keeps the Pixel off; the server still sends
    else:
        # A webhook retry is only counted twice when no Pixel twin absorbs it (Meta discards every later
        # copy of a window holding both channels), so the retried buyer's browser blocks the Pixel.
        # The short-circuit keeps the random stream of every other order unchanged.
        blocked = defect == "DEDUP_SAME_CHANNEL_REPEAT" or (
            defect is None and not secret and rng.random() < config.blocked_share
        )
        consent = "unknown" if rng.random() < config.unknown_consent_share else "granted"
    sent = defect != "RECON_MISSING" if status in PAID_STATUSES else rng.random() < config.not_paid_sent_rate
    fbp, fbc = _cookies(rng, created)
    items, discount, subtotal, shipping, tax = _money(rng, who.place)
    return Order(
        index=index,
        number=str(1001 + index),
        created_ms=created,
        status=status,
        customer=who,
        items=items,
        discount_cents=discount,
        subtotal_cents=subtotal,
        shipping_cents=shipping,
        tax_cents=tax,
        defect=defect,
        secret=secret,
        drift=drift,
        purchase_sent=sent,
        blocked=blocked,
        consent=consent,
        fbp=fbp,
        fbc=fbc,
        cookies_in_note=defect != "RECON_MISSING" and rng.random() < 0.9,
        email=_email(rng, who),
        billing_phone=_phone(rng, who),
    )
