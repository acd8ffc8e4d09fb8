"""The demo shop's Meta ad account: campaigns, ad sets and ads, their budgets, and how much Meta attributes.

Data and the random streams of Meta's side only (``meta_tally`` draws the attribution of each counted
Purchase, ``meta_reporting`` the spend and Meta's quality figures). Every stream sits above the orders'
``(seed << 40) + index`` and the lead slots' ``(seed << 40) + (1 << 39) + index``, so adding Meta's view
leaves every other demo file byte-identical. No file access.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from capi_core.demo.config import DemoConfig

ATTRIBUTION_SETTING = "7-day click, 1-day view, or 1-day engaged-view"
PURCHASE_INDICATOR = "actions:offsite_conversion.fb_pixel_purchase"
#: Share of the Purchases Meta counts that it attributes to an ad of this account (the rest had no ad
#: click or view in the attribution window: organic, email, search).
ATTRIBUTED_SHARE = 0.6
_STREAM = 3 << 38
_DAY_STREAM = _STREAM + (1 << 36)  # above any order index
_SNAPSHOT_STREAM = _DAY_STREAM + (1 << 20)  # above any day index


@dataclass(frozen=True, slots=True)
class Ad:
    """One ad: where it sits, its share of attributed purchases, daily budget and CPM (USD)."""

    campaign: str
    adset: str
    ad: str
    weight: float
    daily_budget: float
    cpm: float
    indicator: str = PURCHASE_INDICATOR


ADS: tuple[Ad, ...] = (
    Ad("Sales | Prospecting", "Broad | US 25-54", "Video | Autumn collection", 0.30, 210.0, 11.5),
    Ad("Sales | Prospecting", "Broad | US 25-54", "Carousel | Bestsellers", 0.22, 150.0, 10.0),
    Ad("Sales | Prospecting", "Lookalike 1% | Buyers", "Static | Free shipping over $75", 0.16, 110.0, 14.0),
    Ad("Sales | Retargeting", "Website visitors 30 days", "Catalog | Viewed products", 0.27, 90.0, 22.0),
    Ad("Brand | Awareness", "Broad | US 18-65", "Video | Brand story", 0.05, 70.0, 6.0, "reach"),
)
_WEIGHTS = tuple(ad.weight for ad in ADS)


def attribution_rng(config: DemoConfig, index: int) -> random.Random:
    """The stream that attributes order ``index``'s counted Purchases to ads."""
    return random.Random((config.seed << 40) + _STREAM + index)


def day_rng(config: DemoConfig, day_index: int) -> random.Random:
    """The stream of the ads' spend and delivery on day ``day_index`` of the period."""
    return random.Random((config.seed << 40) + _DAY_STREAM + day_index)


def snapshot_rng(config: DemoConfig, number: int) -> random.Random:
    """The stream that makes Meta's quality figures of snapshot ``number`` its own (close to ours)."""
    return random.Random((config.seed << 40) + _SNAPSHOT_STREAM + number)


def attributed_ad(rng: random.Random) -> int | None:
    """Index in ``ADS`` of the ad one counted Purchase is attributed to, or None (not attributed)."""
    if rng.random() >= ATTRIBUTED_SHARE:
        return None
    return rng.choices(range(len(ADS)), _WEIGHTS)[0]
