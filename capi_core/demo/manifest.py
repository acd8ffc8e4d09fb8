"""Ground truth of a generated demo shop: what was written, and every defect with its exact count.

``Ledger`` tallies the tags of each copy as it is written (and the order-level facts), so the manifest
is computed from what the files hold, never from the configured rates. ``DemoManifest`` is the
JSON-serialisable result (also written as ``manifest.json``). No randomness, no file access.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict

from capi_core.demo.config import PURCHASE_DEFECTS, DemoConfig
from capi_core.demo.copies import BrowserCopy, Copy
from capi_core.demo.funnel import COVERAGE_EVENTS
from capi_core.demo.meta_tally import MetaTally

_MAX_EXAMPLES = 5
#: Codes counted per order (truth record) rather than per event copy.
ORDER_CODES = frozenset(
    {"RECON_MISSING", "RECON_NOT_PAID_SENT", "RECON_VALUE_MISMATCH", "RECON_CURRENCY_MISMATCH"}
)
#: Codes counted per CRM lead.
LEAD_CODES = frozenset({"LEAD_LOW_QUALIFICATION"})
#: How each code is injected, in one line; by-nature combinations are named in the details.
NOTES: dict[str, str] = {
    "DEDUP_MISSING_EVENT_ID": "server Purchase without event_id; plus the deploy-day eid-less beacons",
    "DEDUP_EVENT_NAME_MISMATCH": "server Purchase sent as 'purchase' (also PARAM_NONSTANDARD_EVENT_NAME)",
    "DEDUP_EVENT_ID_MISMATCH": "browser eid '#1042' while the server sends '1042' (browser copies)",
    "DEDUP_OUTSIDE_WINDOW": "server Purchase sent 49-60 h after the beacon, event_time re-stamped at send",
    "DEDUP_SAME_CHANNEL_REPEAT": "webhook delivered twice, Pixel blocked: re-sent 30 s later (extra copy)",
    "DEDUP_PIXEL_MISMATCH": "server Purchase sent to the second pixel",
    "DEDUP_REUSED_EVENT_ID": "AddToCart with event_id 'undefined' on both channels",
    "COVERAGE_BELOW_GOAL": "browser PageView / ViewContent / AddToCart(' ') copies with no server twin",
    "RECON_MISSING": "paid web orders (bank transfer, Pixel blocked, no server send): no copy on either "
    "channel",
    "RECON_PHANTOM": "server Purchase for order ids not in the export (STG-*, TEST-ORDER-* with a test code)",
    "RECON_NOT_PAID_SENT": "Purchase sent at checkout for orders now refunded / voided / pending",
    "RECON_VALUE_MISMATCH": "value = subtotal instead of total, on both channels (per order)",
    "RECON_CURRENCY_MISMATCH": "currency CAD on both channels (per order)",
    "RECON_SPIKE": "from the deploy day the browser Purchase beacon loses its eid: Meta counts twice",
    "PARAM_MISSING_REQUIRED": "server Purchase without event_source_url or client_user_agent",
    "PARAM_EVENT_TIME_MS": "server event_time in milliseconds",
    "PARAM_EVENT_TIME_STALE": "sent 8-9 days late, rejected (100/2804003); also FRESHNESS_DELAYED",
    "PARAM_EVENT_TIME_FUTURE": "event_time one day after the send",
    "PARAM_INVALID_CURRENCY": "currency 'US$'",
    "PARAM_INVALID_VALUE": "value as the text '77,93' (not counted as RECON_VALUE_MISMATCH)",
    "PARAM_NONSTANDARD_EVENT_NAME": "'AddToCart ' (trailing space) on both channels; plus 'purchase'",
    "MATCH_UNHASHED_PII": "raw (fake) email in em, or raw phone in ph when the order has no email",
    "MATCH_MALFORMED_HASH": "MD5 of the phone in ph",
    "MATCH_HASHED_FORBIDDEN": "SHA-256 of the fbp sent as fbp",
    "MATCH_INVALID_FBC": "the bare fbclid as fbc, or an fbc created 120 days before the event",
    "MATCH_INVALID_FBP": "a GA cookie (GA1.1...) as fbp",
    "MATCH_INSUFFICIENT_KEYS": "only ct+country+st+zp+ge+client_user_agent, rejected (100/2804050)",
    "MATCH_SHARED_IP": "10.0.0.5 (the webhook server) as client_ip_address",
    "MATCH_FBP_MISMATCH": "server fbp from an older session while the beacon carries the current one",
    "EMQ_LOW": "every server InitiateCheckout carries only fbp + client_ip_address + client_user_agent",
    "FRESHNESS_DELAYED": "server Purchase sent 3 h (high) or 30 h (critical) late; plus the stale copies",
    "CONSENT_DENIED_SENT": "every server copy of a visitor whose consent is 'denied' (the Pixel stays off)",
    "TEST_CODE_IN_PRODUCTION": "test_event_code on a few real Purchases; plus the TEST-ORDER phantoms",
    "SECRET_IN_LOGS": "one envelope whose request carries a fake access_token",
    "LEAD_UNMATCHED": "server Lead of bot form posts (spam, deleted by the CRM) or of fills whose CRM "
    "sync timed out; one counted Lead each",
    "LEAD_LOW_QUALIFICATION": "facebook / broad_audience leads qualify at 8 %: its matched leads that did "
    "not qualify",
}
ALL_CODES: tuple[str, ...] = tuple(sorted(NOTES))
assert set(PURCHASE_DEFECTS) <= set(NOTES)


class CampaignFigures(BaseModel):
    """The lead funnel of one utm_source / utm_campaign, as the lead report groups it."""

    model_config = ConfigDict(frozen=True)

    lead_events: int
    matched_leads: int
    qualified_leads: int
    won_leads: int
    crm_leads_without_event: int


class LeadManifest(BaseModel):
    """What the lead-gen forms wrote: slots by kind, the funnel Meta's counted Lead events lead to, and
    the same per campaign. Every Lead copy is on the main pixel, carries its CRM id as event_id, and a
    browser + server pair is sent seconds apart (Meta merges it): one counted Lead per form fill."""

    model_config = ConfigDict(frozen=True)

    slots: int
    web_fills: int  # people filling a form (sync losses included)
    spam_fills: int
    sync_lost_fills: int
    offline_leads: int
    crm_leads: int  # rows of the CRM export
    lead_events: int  # counted by Meta: one per web fill and per spam post
    matched_events: int
    unmatched_events: int
    matched_leads: int
    qualified_leads: int
    won_leads: int
    crm_leads_without_event: int
    both_channels: int  # matched leads with a beacon and a server copy
    server_only: int  # matched leads whose visitor blocks the Pixel
    median_hours_to_qualify: float | None
    p90_hours_to_qualify: float | None
    by_campaign: dict[str, CampaignFigures]


def percentile(values: list[float], share: float) -> float | None:
    """Linear interpolation between closest ranks: SQL's ``percentile_cont``."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class AdFigures(BaseModel):
    """One ad's totals in the Ads Manager export."""

    model_config = ConfigDict(frozen=True)

    campaign: str
    adset: str
    ad: str
    purchases: int
    purchase_value: float
    spend: float


class QualityFigures(BaseModel):
    """Meta's figures for one event of one Dataset Quality snapshot, as the JSON holds them (shares 0..1)."""

    model_config = ConfigDict(frozen=True)

    emq: float
    event_coverage: float
    browser_event_id_share: float
    server_event_id_share: float
    event_id_coverage: float  # overall_browser_coverage_from_dedupe_key of event_id
    upload_frequency: str


class QualitySnapshot(BaseModel):
    """One saved Dataset Quality answer: its file, when it was fetched, Meta's figures per event."""

    model_config = ConfigDict(frozen=True)

    file: str
    fetched_at: dt.datetime  # naive UTC
    window: tuple[dt.date, dt.date]  # the 7 days Meta's figures cover
    events: dict[str, QualityFigures]


class MetaReportingManifest(BaseModel):
    """What Meta's own view of the demo shop holds: the Ads Manager export and the quality snapshots.

    ``reported_per_day`` is what the export reports per day (summed over ads); ``counted_per_day`` the
    Purchases Meta counts on the main pixel by its dedup rules (``meta_tally``), of which a deterministic
    share (``attributed_share``) is attributed to the ads."""

    model_config = ConfigDict(frozen=True)

    export_file: str
    export_rows: int
    attribution_setting: str
    currency: str
    attributed_share: float
    days: int
    first_day: dt.date
    last_day: dt.date
    reported_purchases: int
    reported_value: float
    spend: float
    reported_per_day: dict[str, int]
    counted_per_day: dict[str, int]
    ads: list[AdFigures]
    snapshots: list[QualitySnapshot]


class DefectRecord(BaseModel):
    """One injected diagnostic: how many copies (or orders) carry it, and where to look."""

    model_config = ConfigDict(frozen=True)

    code: str
    unit: Literal["copies", "orders", "leads"]
    count: int
    examples: list[str]
    """Up to 5 ids: order numbers (no '#') for order-linked copies, else event ids."""
    details: dict[str, int | float | str]
    """Counts per variant (e.g. ``server`` / ``browser_deploy_drift``) and derived figures."""
    note: str


class DemoManifest(BaseModel):
    """What ``generate`` wrote: config, files, counts, and the exact ground truth of every defect."""

    config: DemoConfig
    period_start: dt.datetime
    period_end: dt.datetime
    files: dict[str, str]
    """Role (orders, server, browser) -> file name in the output folder."""
    counts: dict[str, int]
    copies: dict[str, int]
    """Copies written per ``channel:event_name``."""
    annotations: list[tuple[dt.date, str]]
    defects: list[DefectRecord]
    leads: LeadManifest | None = None
    """The lead-gen forms' exact figures (None in manifests written before the forms existed)."""
    meta: MetaReportingManifest | None = None
    """Meta's own view: Ads Manager export and Dataset Quality snapshots (None in older manifests)."""

    def defect(self, code: str) -> DefectRecord:
        """The record of ``code`` (KeyError when the generator does not inject it)."""
        for record in self.defects:
            if record.code == code:
                return record
        raise KeyError(code)


class Ledger:
    """Running tally of tags while files are written."""

    def __init__(self) -> None:
        self.copies: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()
        self._details: dict[str, Counter[str]] = {code: Counter() for code in ALL_CODES}
        self._examples: dict[str, list[str]] = {code: [] for code in ALL_CODES}
        self.meta = MetaTally()
        """What Meta sees per day (counted Purchases, quality signals): ``meta_reporting``'s input."""

    def tag(self, code: str, example: str, detail: str) -> None:
        """Count one affected copy or order."""
        self._counts[code] += 1
        self._details[code][detail] += 1
        if len(self._examples[code]) < _MAX_EXAMPLES and example not in self._examples[code]:
            self._examples[code].append(example)

    def copy(self, copy: Copy) -> None:
        """Count a written copy and its tags."""
        channel = "browser" if isinstance(copy, BrowserCopy) else "server"
        self.copies[f"{channel}:{copy.event_name}"] += 1
        for code, detail in copy.tags:
            self.tag(code, copy.example, detail)

    def merge(self, other: Ledger) -> None:
        """Add the tally of a later range of orders (examples keep generation order)."""
        self.copies.update(other.copies)
        self._counts.update(other._counts)
        self.meta.merge(other.meta)
        for code in ALL_CODES:
            self._details[code].update(other._details[code])
            for example in other._examples[code]:
                if len(self._examples[code]) < _MAX_EXAMPLES and example not in self._examples[code]:
                    self._examples[code].append(example)

    def _coverage(self) -> dict[str, int | float | str]:
        details: dict[str, int | float | str] = dict(sorted(self._details["COVERAGE_BELOW_GOAL"].items()))
        for name in COVERAGE_EVENTS:
            browser = self.copies[f"browser:{name}"]
            alone = self._details["COVERAGE_BELOW_GOAL"][f"{name}:browser_only"]
            details[f"{name}:browser"] = browser
            details[f"{name}:coverage"] = round((browser - alone) / browser, 4) if browser else 0.0
        return details

    def records(self, extra_details: dict[str, dict[str, int | float | str]]) -> list[DefectRecord]:
        """One record per code, sorted by code."""
        records = []
        for code in ALL_CODES:
            details: dict[str, int | float | str] = dict(sorted(self._details[code].items()))
            if code == "COVERAGE_BELOW_GOAL":
                details = self._coverage()
            details.update(extra_details.get(code, {}))
            records.append(
                DefectRecord(
                    code=code,
                    unit="orders" if code in ORDER_CODES else "leads" if code in LEAD_CODES else "copies",
                    count=self._counts[code],
                    examples=self._examples[code],
                    details=details,
                    note=NOTES[code],
                )
            )
        return records
