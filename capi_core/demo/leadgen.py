"""The demo shop's lead-gen forms: CRM intake slots -> Lead copies (browser + server) and CRM export rows.

The shop also takes quote requests and demo bookings. Each intake slot is a pure function of (config,
index) drawn from its own random stream (``lead_rng``), so adding leads leaves every order's draws, and
so every Purchase figure, unchanged. A slot is one of:

- ``web``: a person fills a form; the form handler creates the CRM lead and both the thank-you page's
  Pixel beacon and the server send ``Lead`` with the CRM lead id as the shared event_id (Meta merges
  them: one counted Lead). For ``lead_sync_loss_rate`` of them the webhook to the CRM timed out: the
  events name an id the CRM export lacks (LEAD_UNMATCHED, ``sync_loss``).
- ``spam``: a bot posts the form endpoint directly (no JavaScript, no Pixel): a server ``Lead`` only;
  the CRM's spam filter deletes the lead (LEAD_UNMATCHED, ``spam``).
- ``offline``: a phone call or a partner referral: a CRM lead without any Lead event.

Qualification is drawn per campaign; ``facebook / broad_audience`` qualifies at
``config.broad_audience_qualification`` (LEAD_LOW_QUALIFICATION). A lead whose qualification (or win)
would fall after the export (the period end) is exported at its earlier stage. Must not write files.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Literal

from capi_core.demo.catalog import FIRST_NAMES, LAST_NAMES, MAIL_DOMAINS, USER_AGENTS
from capi_core.demo.config import DemoConfig
from capi_core.demo.copies import BrowserCopy, Copy, ServerCopy
from capi_core.demo.shop import DAY_MS, hash_common, hash_phone, to_ms, token
from capi_core.demo.wire import iso_utc
from capi_core.normalize import hash_value

_HOUR_MS = 3_600_000
_MINUTE_MS = 60_000
#: The lead slots' random streams sit above every order's ``(seed << 40) + index``.
_STREAM = 1 << 39
SlotKind = Literal["web", "spam", "offline"]

#: Columns of the CRM export (the generic leads CSV: ``readers/generic_csv.py`` aliases).
CRM_COLUMNS: tuple[str, ...] = (
    "lead_id", "created_at", "first_name", "last_name", "email", "phone", "company", "stage",
    "qualified_at", "won_at", "utm_source", "utm_campaign", "form", "owner",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Campaign:
    """Where a lead came from, how often, and how often such leads qualify."""

    source: str  # "" = no utm (direct, organic)
    campaign: str
    weight: float
    qualification: float | None  # None: config.broad_audience_qualification


WEB_CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign("facebook", "broad_audience", 0.35, None),
    Campaign("facebook", "lookalike_customers", 0.25, 0.34),
    Campaign("google", "search_brand", 0.20, 0.45),
    Campaign("", "", 0.20, 0.30),
)
OFFLINE_CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign("phone", "", 0.6, 0.5),
    Campaign("referral", "partner_program", 0.4, 0.55),
)
#: (form, beacon content_name, share of web fills)
WEB_FORMS: tuple[tuple[str, str, float], ...] = (
    ("quote_request", "Request a quote", 0.75),
    ("demo_booking", "Book a demo", 0.25),
)
OFFLINE_FORMS = {"phone": "phone_call", "referral": "partner_referral"}
OWNERS = ("Alex Rivera", "Sam Okafor", "Jo Lindqvist")
WON_RATE = 0.35  # of qualified leads
LOST_RATE = 0.2  # of qualified leads not won


@dataclass(frozen=True, slots=True)
class LeadSlot:
    """One CRM intake slot's facts: who, when, from where, and how far the lead got."""

    index: int
    lead_id: str  # the CRM id, also the event_id of its Lead events: "LD-100001"
    kind: SlotKind
    sync_lost: bool
    created_ms: int
    campaign: Campaign
    form: str
    content_name: str
    first_name: str
    last_name: str
    email: str
    phone_digits: str
    stage: str
    qualified_ms: int | None
    won_ms: int | None
    blocked: bool
    consent: str
    fbp: str
    fbc: str | None
    ip: str
    ua: str

    @property
    def in_crm(self) -> bool:
        """Whether the CRM export holds the lead (spam is deleted, lost syncs never arrived)."""
        return self.kind == "offline" or (self.kind == "web" and not self.sync_lost)

    @property
    def qualified(self) -> bool:
        """Reached qualification by the export (a qualified_at date)."""
        return self.qualified_ms is not None

    @property
    def label(self) -> str:
        """``facebook / broad_audience`` (``(not set)`` for an empty part), as the lead report labels it."""
        return f"{self.campaign.source or '(not set)'} / {self.campaign.campaign or '(not set)'}"


def lead_slots(config: DemoConfig) -> int:
    """How many CRM intake slots the period holds."""
    return round(config.orders * config.form_slots_per_order)


def lead_rng(config: DemoConfig, index: int) -> random.Random:
    """The random stream of slot ``index``, apart from every order's stream."""
    return random.Random((config.seed << 40) + _STREAM + index)


def _pick(rng: random.Random, options: tuple[Campaign, ...]) -> Campaign:
    u = rng.random() * sum(c.weight for c in options)
    for option in options:
        if u < option.weight:
            return option
        u -= option.weight
    return options[-1]


def _slot_ms(config: DemoConfig, index: int, slots: int, jitter: float) -> int:
    span = config.weeks * 7 * DAY_MS - 2 * _HOUR_MS
    offset = _HOUR_MS + span * (index + 0.05 + 0.9 * jitter) / slots
    return to_ms(config.period_start) + int(offset) // 1000 * 1000


def _ip(rng: random.Random) -> str:
    return f"{rng.choice(('203.0.113', '198.51.100', '192.0.2'))}.{rng.randrange(1, 255)}"


def _stages(
    config: DemoConfig, rng: random.Random, created_ms: int, rate: float
) -> tuple[str, int | None, int | None]:
    """(CRM stage at export, qualified_at, won_at)."""
    end_ms = to_ms(config.period_end)
    if rng.random() >= rate:
        return rng.choice(("Unqualified", "Unqualified", "New", "Working")), None, None
    hours = math.exp(rng.uniform(0.0, math.log(336.0)))  # 1 h to 2 weeks, most within days
    qualified = created_ms + int(hours * _HOUR_MS) // 1000 * 1000
    if qualified >= end_ms:
        return "Working", None, None  # it qualifies after the export was taken
    if rng.random() < WON_RATE:
        won = qualified + rng.randrange(2 * DAY_MS, 21 * DAY_MS) // 1000 * 1000
        if won < end_ms:
            return "Closed Won", qualified, won
    if rng.random() < LOST_RATE:
        return "Closed Lost", qualified, None
    return rng.choice(("MQL", "SQL")), qualified, None


def build_slot(config: DemoConfig, index: int, rng: random.Random) -> LeadSlot:
    """Slot ``index`` (0-based; CRM id LD-100001 + index): the same slot for the same fresh ``rng``."""
    created = _slot_ms(config, index, lead_slots(config), rng.random())
    u = rng.random()
    kind: SlotKind = (
        "spam"
        if u < config.lead_spam_share
        else "offline"
        if u < config.lead_spam_share + config.offline_lead_share
        else "web"
    )
    campaign = _pick(rng, OFFLINE_CAMPAIGNS if kind == "offline" else WEB_CAMPAIGNS)
    form, content_name, _ = WEB_FORMS[0] if rng.random() < WEB_FORMS[0][2] else WEB_FORMS[1]
    if kind == "offline":
        form, content_name = OFFLINE_FORMS[campaign.source], ""
    first, _gender = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
    last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
    if kind == "spam":
        email = f"{token(rng, 10).lower().replace('-', 'x').replace('_', 'y')}@{MAIL_DOMAINS[1]}"
    else:
        email = f"{first.lower()}.{last.lower()}.{index}@{MAIL_DOMAINS[index % len(MAIL_DOMAINS)]}"
    phone = f"1{rng.choice(('212', '312', '415', '512'))}555{rng.randrange(10000):04d}"
    rate = config.broad_audience_qualification if campaign.qualification is None else campaign.qualification
    stage, qualified, won = ("New", None, None) if kind == "spam" else _stages(config, rng, created, rate)
    first_seen = created - rng.randrange(60_000, 20 * DAY_MS)
    fbp = f"fb.1.{first_seen}.{rng.randrange(1_000_000_000, 2_147_483_647)}"
    fbc = None
    if campaign.source == "facebook" and kind == "web":
        fbc = f"fb.1.{created - rng.randrange(60_000, 30 * _MINUTE_MS)}.IwAR{token(rng, 40)}"
    return LeadSlot(
        index=index,
        lead_id=f"LD-{100_001 + index}",
        kind=kind,
        sync_lost=kind == "web" and rng.random() < config.lead_sync_loss_rate,
        created_ms=created,
        campaign=campaign,
        form=form,
        content_name=content_name,
        first_name=first,
        last_name=last,
        email=email,
        phone_digits=phone,
        stage=stage,
        qualified_ms=qualified,
        won_ms=won,
        blocked=kind == "web" and rng.random() < config.blocked_share,
        consent="unknown" if rng.random() < config.unknown_consent_share else "granted",
        fbp=fbp,
        fbc=fbc,
        ip=_ip(rng),
        ua=rng.choice(USER_AGENTS),
    )


def _url(config: DemoConfig, slot: LeadSlot) -> str:
    url = f"{config.shop_url}/pages/{slot.form.replace('_', '-')}"
    if slot.campaign.source and slot.kind == "web":  # a bot posts the endpoint, not from an ad
        url += f"?utm_source={slot.campaign.source}&utm_campaign={slot.campaign.campaign}"
    return url


def _user_data(slot: LeadSlot) -> dict[str, Any]:
    keys: dict[str, Any] = {
        "em": [hash_value("em", slot.email)],
        "ph": [hash_phone(slot.phone_digits)],
        "fn": hash_common("fn", slot.first_name),
        "ln": hash_common("ln", slot.last_name),
        "external_id": hash_value("external_id", slot.lead_id),
    }
    if slot.kind == "web":  # a bot runs no JavaScript: no _fbp / _fbc cookie
        keys["fbp"] = slot.fbp
        if slot.fbc:
            keys["fbc"] = slot.fbc
    keys["client_ip_address"] = slot.ip
    keys["client_user_agent"] = slot.ua
    return keys


def slot_copies(config: DemoConfig, slot: LeadSlot, rng: random.Random) -> list[Copy]:
    """The Lead copies of one slot (none for an offline lead), tagged with their ground truth."""
    if slot.kind == "offline":
        return []
    url = _url(config, slot)
    copies: list[Copy] = []
    custom = {"content_name": slot.content_name, "content_category": slot.form}
    server = ServerCopy(
        event_name="Lead",
        event_time=slot.created_ms // 1000,
        event_id=slot.lead_id,
        sent_ms=slot.created_ms + rng.randrange(500, 5000),
        pixel_id=config.pixel_id,
        consent=slot.consent,
        url=url,
        user_data=_user_data(slot),
        custom_data=custom,
        trace=f"A{token(rng, 22)}",
        example=slot.lead_id,
    )
    if not slot.in_crm:
        server.tags.append(("LEAD_UNMATCHED", "spam" if slot.kind == "spam" else "sync_loss"))
    if slot.kind == "web" and not slot.blocked:
        copies.append(
            BrowserCopy(
                event_name="Lead",
                event_id=slot.lead_id,
                ts_ms=slot.created_ms + rng.randrange(1000, 4000),
                pixel_id=config.pixel_id,
                url=f"{url}{'&' if '?' in url else '?'}submitted=1",
                fbp=slot.fbp,
                fbc=slot.fbc,
                custom=[("content_name", slot.content_name), ("content_category", slot.form)],
                em_hash=hash_value("em", slot.email),
                counter=1,
                example=slot.lead_id,
            )
        )
    copies.append(server)
    return copies


def _iso(ms: int | None) -> str:
    return "" if ms is None else iso_utc(ms).replace(".000Z", "Z")


def crm_row(slot: LeadSlot) -> list[str] | None:
    """The CRM export row of a slot (None when the export lacks the lead)."""
    if not slot.in_crm:
        return None
    digits = slot.phone_digits
    values = {
        "lead_id": slot.lead_id,
        "created_at": _iso(slot.created_ms),
        "first_name": slot.first_name,
        "last_name": slot.last_name,
        "email": slot.email,
        "phone": f"+1 ({digits[1:4]}) {digits[4:7]}-{digits[7:]}",
        "company": f"{slot.last_name} {('Studio', 'Labs', 'Partners', 'Co')[slot.index % 4]}",
        "stage": slot.stage,
        "qualified_at": _iso(slot.qualified_ms),
        "won_at": _iso(slot.won_ms),
        "utm_source": slot.campaign.source,
        "utm_campaign": slot.campaign.campaign,
        "form": slot.form,
        "owner": OWNERS[slot.index % len(OWNERS)],
    }
    return [values[column] for column in CRM_COLUMNS]
