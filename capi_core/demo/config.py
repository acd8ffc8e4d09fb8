"""The demo shop's parameters: period, pixels, traffic shape and the rate of every injected defect.

Owns ``DemoConfig`` and ``scaled_config``; it must not generate anything. Rates are probabilities drawn
per order (Purchase defects), per visitor (AddToCart defects) or per copy; the manifest records what was
actually written, so tests compare against the manifest, never against ``rate * orders``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

#: Purchase defects drawn once per paid, tracked order, in this order; at most one per order, so each
#: rate is the share of such orders that carry it. The config field of each is its code in lowercase.
PURCHASE_DEFECTS: tuple[str, ...] = (
    "DEDUP_MISSING_EVENT_ID",
    "DEDUP_EVENT_NAME_MISMATCH",
    "DEDUP_EVENT_ID_MISMATCH",
    "DEDUP_OUTSIDE_WINDOW",
    "DEDUP_SAME_CHANNEL_REPEAT",
    "DEDUP_PIXEL_MISMATCH",
    "RECON_MISSING",
    "RECON_VALUE_MISMATCH",
    "RECON_CURRENCY_MISMATCH",
    "PARAM_MISSING_REQUIRED",
    "PARAM_EVENT_TIME_MS",
    "PARAM_EVENT_TIME_STALE",
    "PARAM_EVENT_TIME_FUTURE",
    "PARAM_INVALID_CURRENCY",
    "PARAM_INVALID_VALUE",
    "MATCH_UNHASHED_PII",
    "MATCH_MALFORMED_HASH",
    "MATCH_HASHED_FORBIDDEN",
    "MATCH_INVALID_FBC",
    "MATCH_INVALID_FBP",
    "MATCH_INSUFFICIENT_KEYS",
    "MATCH_SHARED_IP",
    "MATCH_FBP_MISMATCH",
    "FRESHNESS_DELAYED",
    "CONSENT_DENIED_SENT",
    "TEST_CODE_IN_PRODUCTION",
)


@dataclass(frozen=True)
class DemoConfig:
    """Everything that decides the demo shop's files; the same config always writes the same bytes."""

    seed: int = 42
    """Non-negative; every random draw derives from it (per order, so orders can be rebuilt alone)."""
    orders: int = 1500
    start: dt.date = dt.date(2026, 10, 5)
    """First day (UTC midnight) of the period; a Monday so weeks line up."""
    weeks: int = 6
    pixel_id: str = "1234567890123456"
    second_pixel_id: str = "6543210987654321"
    """Where DEDUP_PIXEL_MISMATCH server copies go (a staging pixel left in one code path)."""
    currency: str = "USD"
    shop_url: str = "https://demo-shop.example.com"
    deploy_day: dt.date = dt.date(2026, 11, 4)
    """The "checkout redeploy": from this UTC day the browser Purchase beacon carries no eid."""
    deploy_days: int | None = None
    """How many days the redeploy stayed live; None: it was never rolled back (through the end of the
    period), so the weekly drift sees a persistent regression starting on ``deploy_day``."""
    deploy_note: str = "checkout redeploy"

    # Traffic shape.
    browsers_per_order: float = 0.8
    """Non-buying visitors per order (PageView, sometimes ViewContent / AddToCart / InitiateCheckout)."""
    blocked_share: float = 0.06
    """Visitors whose browser blocks the Pixel: their events reach Meta by server only."""
    unknown_consent_share: float = 0.1
    """Visitors whose consent the sender logs as "unknown" (the rest "granted")."""
    pageview_server_share: float = 0.05
    viewcontent_server_share: float = 0.1
    addtocart_server_share: float = 0.4
    """Low on purpose (as are PageView and ViewContent): COVERAGE_BELOW_GOAL."""
    checkout_server_share: float = 0.9

    # Order statuses (the rest are paid).
    partially_refunded_rate: float = 0.03
    refunded_rate: float = 0.05
    voided_rate: float = 0.03
    pending_rate: float = 0.03
    not_paid_sent_rate: float = 0.6
    """Share of refunded / voided / pending orders whose Purchase fired at checkout (RECON_NOT_PAID_SENT)."""

    # Purchase defects, one draw per paid order with a tracked browser (see PURCHASE_DEFECTS).
    dedup_missing_event_id: float = 0.02
    dedup_event_name_mismatch: float = 0.015
    dedup_event_id_mismatch: float = 0.015
    dedup_outside_window: float = 0.01
    dedup_same_channel_repeat: float = 0.02
    dedup_pixel_mismatch: float = 0.01
    recon_missing: float = 0.02
    """Web orders paid by bank transfer (a manual payment method) whose buyer's ad blocker stopped the
    Pixel, while the server integration sends Purchase for online payments only: no copy on either
    channel. (Not draft orders: those come from a channel no pixel sees and are not eligible.)"""
    recon_value_mismatch: float = 0.03
    recon_currency_mismatch: float = 0.01
    param_missing_required: float = 0.02
    param_event_time_ms: float = 0.01
    param_event_time_stale: float = 0.005
    param_event_time_future: float = 0.005
    param_invalid_currency: float = 0.01
    param_invalid_value: float = 0.01
    match_unhashed_pii: float = 0.01
    match_malformed_hash: float = 0.01
    match_hashed_forbidden: float = 0.01
    match_invalid_fbc: float = 0.01
    match_invalid_fbp: float = 0.01
    match_insufficient_keys: float = 0.005
    match_shared_ip: float = 0.05
    """Above MATCH_SHARED_IP's 1 % share of a pixel's server copies even though orders placed after the
    (never rolled back) redeploy draw no Purchase defect."""
    match_fbp_mismatch: float = 0.01
    freshness_delayed: float = 0.015
    consent_denied_sent: float = 0.01
    test_code_in_production: float = 0.005

    # AddToCart defects, one draw per visitor who adds to cart.
    reused_event_id_rate: float = 0.04
    """AddToCart sent with event_id "undefined" on both channels (DEDUP_REUSED_EVENT_ID)."""
    nonstandard_name_rate: float = 0.02
    """AddToCart sent as "AddToCart " on both channels (PARAM_NONSTANDARD_EVENT_NAME)."""

    # Extra copies.
    phantom_rate: float = 0.01
    """Per order: a server Purchase for an order the export does not hold (RECON_PHANTOM)."""
    phantom_test_code_share: float = 0.5

    # Lead-gen forms (leadgen.py), drawn from their own random stream: every order stays as it was.
    form_slots_per_order: float = 0.3
    """CRM intake slots per order (450 at 1,500 orders): web form fills, bot spam and offline leads."""
    lead_spam_share: float = 0.18
    """Bots posting the form endpoint: a server Lead only; the CRM's spam filter deletes the lead."""
    offline_lead_share: float = 0.12
    """Leads the CRM gets by phone or partner referral: no Lead event at all."""
    lead_sync_loss_rate: float = 0.1
    """Per human form fill: the webhook to the CRM timed out, so the Lead events name no CRM lead."""
    broad_audience_qualification: float = 0.08
    """Qualification rate of the facebook / broad_audience campaign (LEAD_LOW_QUALIFICATION)."""

    def __post_init__(self) -> None:
        if self.seed < 0 or self.orders < 1 or self.weeks < 1:
            raise ValueError("seed must be >= 0, orders and weeks >= 1")
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, float) and field.name != "browsers_per_order" and not 0.0 <= value <= 1.0:
                raise ValueError(f"{field.name} must lie between 0 and 1")
        if sum(self.purchase_defect_rates().values()) >= 1.0:
            raise ValueError("the Purchase defect rates must sum to less than 1")
        statuses = self.partially_refunded_rate + self.refunded_rate + self.voided_rate + self.pending_rate
        if statuses >= 1.0:
            raise ValueError("the non-paid status rates must sum to less than 1")
        if self.lead_spam_share + self.offline_lead_share >= 1.0:
            raise ValueError("the spam and offline lead shares must sum to less than 1")

    @property
    def period_start(self) -> dt.datetime:
        """First instant of the period (naive UTC)."""
        return dt.datetime.combine(self.start, dt.time())

    @property
    def period_end(self) -> dt.datetime:
        """End of the period, exclusive (naive UTC)."""
        return self.period_start + dt.timedelta(weeks=self.weeks)

    @property
    def deploy_end(self) -> dt.datetime:
        """When the redeploy was rolled back, exclusive (naive UTC): the period end when it never was."""
        if self.deploy_days is None:
            return self.period_end
        return dt.datetime.combine(self.deploy_day, dt.time()) + dt.timedelta(days=self.deploy_days)

    def purchase_defect_rates(self) -> dict[str, float]:
        """Rate of each Purchase defect code, in draw order."""
        return {code: float(getattr(self, code.lower())) for code in PURCHASE_DEFECTS}


def scaled_config(orders: int, seed: int = 42) -> DemoConfig:
    """The demo shop with ``orders`` orders over the same six weeks (for the benchmark: 10k–1M).

    Every rate stays the same, so defect counts grow in proportion and the figures stay comparable.
    """
    return DemoConfig(seed=seed, orders=orders)
