"""Meta's own view of the demo shop: an Ads Manager daily export and saved Dataset Quality answers.

Both are written from ``meta_tally.MetaTally`` (what Meta saw of the generated copies, per day), with
their own random streams (``ad_account``), so every other demo file keeps its bytes.

- ``ads_manager_export.csv``: one row per ad (``ad_account.ADS``) per day, newest day first, in the
  column layout and quoting of a real English export (Reports -> Export table data, broken down by day).
  Purchases and their value are those Meta counted and attributed to the ad (``meta_tally``); spend and
  delivery are drawn per day. After the checkout redeploy Meta counts each order twice, so the reported
  purchases jump with it: the story the page tells.
- ``dataset_quality_<day>.json``: ``GET /dataset_quality`` answers fetched on ``SNAPSHOT_DAYS`` after the
  period start. Meta's figures cover the 7 days up to the fetch day (the same days as ours on the page)
  and are Meta's own computation: the demo computes them from the tally, then moves EMQ and event
  coverage by a small deterministic amount, so they are close to this tool's estimates but not equal.

Must not read the store; ingesting is ``capi_core.demo_store``'s job.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capi_core.demo.ad_account import (
    ADS,
    ATTRIBUTED_SHARE,
    ATTRIBUTION_SETTING,
    Ad,
    day_rng,
    snapshot_rng,
)
from capi_core.demo.config import DemoConfig
from capi_core.demo.manifest import (
    AdFigures,
    MetaReportingManifest,
    QualityFigures,
    QualitySnapshot,
)
from capi_core.demo.meta_tally import MATCH_KEYS, MetaTally
from capi_core.metrics.match_keys import CALIBRATED

ADS_EXPORT_FILE = "ads_manager_export.csv"
#: Snapshot fetch days, counted from the period start (kept within the period), and the fetch time (UTC).
SNAPSHOT_DAYS = (21, 35, 42)
SNAPSHOT_TIME = dt.time(9, 30)
#: Web events Meta's answer lists, in its order.
QUALITY_EVENTS = ("Purchase", "InitiateCheckout", "AddToCart", "ViewContent", "PageView")
#: Meta's EMQ model is its own (Meta publishes no weights); the demo's Meta scores as the published
#: measurements of Meta's score do, the points per key this tool's estimate is calibrated to
#: (``match_keys.EmqWeights``: fbp + IP + user agent ~5.2, email and phone on top ~8.2, on Meta's 0-10 scale).
_EMQ_WEIGHTS: dict[str, float] = CALIBRATED.model_dump()
#: Meta's match-key identifier -> the user_data key it reports on.
_IDENTIFIERS = (
    ("email", "em"), ("phone", "ph"), ("external_id", "external_id"), ("fbc", "fbc"), ("fbp", "fbp"),
    ("ip_address", "client_ip_address"), ("user_agent", "client_user_agent"),
)  # fmt: skip
#: Header of the export (a subset of a real English export's columns, plus the purchase value).
COLUMNS = (
    "Reporting starts", "Reporting ends", "Campaign name", "Ad set name", "Ad name", "Ad delivery",
    "Results", "Result indicator", "Cost per results", "Amount spent (USD)", "Impressions", "Reach",
    "Frequency", "CPM (cost per 1,000 impressions) (USD)", "Purchases", "Purchases conversion value",
    "Purchase ROAS (return on ad spend)", "Attribution setting", "Quality ranking",
)  # fmt: skip
assert set(_EMQ_WEIGHTS) == set(MATCH_KEYS)


def _field(value: object) -> str:
    """Quoted as Ads Manager quotes: only text with a space, comma or quote."""
    text = "" if value is None else str(value)
    if any(ch in text for ch in ' ,"'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _number(value: float, places: int) -> str:
    """``12.5`` for 12.50 and ``12`` for 12.00, as the export writes numbers; empty for 0."""
    if not value:
        return ""
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(slots=True)
class _AdDay:
    spend: float
    impressions: int
    reach: int
    purchases: int
    value: float


def _day_figures(config: DemoConfig, index: int, day: str, tally: MetaTally) -> list[_AdDay]:
    """Every ad's figures of day ``index`` of the period: delivery drawn, purchases from the tally."""
    rng = day_rng(config, index)
    figures = []
    for number, ad in enumerate(ADS):
        spend = round(ad.daily_budget * rng.uniform(0.85, 1.1), 2)
        impressions = round(spend / ad.cpm * 1000 * rng.uniform(0.95, 1.05))
        reach = round(impressions / rng.uniform(1.15, 1.45))
        purchases, cents = tally.attributed[(day, number)], tally.attributed_cents[(day, number)]
        figures.append(_AdDay(spend, impressions, reach, purchases, cents / 100))
    return figures


def _row(day: dt.date, ad: Ad, f: _AdDay) -> list[str]:
    results = f.reach if ad.indicator == "reach" else f.purchases
    return [
        day.isoformat(), day.isoformat(), ad.campaign, ad.adset, ad.ad, "active",
        _number(results, 0), ad.indicator if results else "", _number(f.spend / results if results else 0, 6),
        _number(f.spend, 2), str(f.impressions), str(f.reach), _number(f.impressions / f.reach, 6),
        _number(f.spend / f.impressions * 1000, 6), _number(f.purchases, 0), _number(f.value, 2),
        _number(f.value / f.spend, 6), ATTRIBUTION_SETTING, "-",
    ]  # fmt: skip


def write_ads_export(out_dir: Path, config: DemoConfig, tally: MetaTally) -> dict[str, Any]:
    """Write ``ads_manager_export.csv``; returns the manifest's figures of the export."""
    days = [config.start + dt.timedelta(days=n) for n in range(config.weeks * 7)]
    per_day: dict[str, int] = {}
    purchases: Counter[Ad] = Counter()
    value_cents: Counter[Ad] = Counter()
    spend_cents: Counter[Ad] = Counter()
    lines = [",".join(_field(c) for c in COLUMNS)]
    for index, day in reversed(list(enumerate(days))):  # newest first, as Ads Manager exports
        figures = _day_figures(config, index, day.isoformat(), tally)
        for ad, f in zip(ADS, figures, strict=True):
            lines.append(",".join(_field(c) for c in _row(day, ad, f)))
            purchases[ad] += f.purchases
            value_cents[ad] += round(f.value * 100)
            spend_cents[ad] += round(f.spend * 100)
        per_day[day.isoformat()] = sum(f.purchases for f in figures)
    (out_dir / ADS_EXPORT_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    ads = [
        AdFigures(
            campaign=ad.campaign,
            adset=ad.adset,
            ad=ad.ad,
            purchases=purchases[ad],
            purchase_value=value_cents[ad] / 100,
            spend=spend_cents[ad] / 100,
        )
        for ad in ADS
    ]
    return {
        "export_file": ADS_EXPORT_FILE,
        "export_rows": len(lines) - 1,
        "attribution_setting": ATTRIBUTION_SETTING,
        "currency": config.currency,
        "attributed_share": ATTRIBUTED_SHARE,
        "days": len(days),
        "first_day": days[0],
        "last_day": days[-1],
        "reported_purchases": sum(per_day.values()),
        "reported_value": sum(value_cents.values()) / 100,
        "spend": sum(spend_cents.values()) / 100,
        "reported_per_day": dict(sorted(per_day.items())),
        "counted_per_day": {d.isoformat(): tally.counted[d.isoformat()] for d in days},
        "ads": ads,
    }


def _pct(part: float, whole: float) -> float:
    """Meta's percentage: 0-100 with one decimal."""
    return round(100 * part / whole, 1) if whole else 0.0


def _moved(pct: float, rng: random.Random, spread: float, top: float) -> float:
    """``pct`` moved by 0.3..1 x ``spread`` up or down (never by nothing), kept within 0..top."""
    step = rng.uniform(0.3, 1.0) * spread * rng.choice((-1, 1))
    moved = pct + step if 0 <= pct + step <= top else pct - step
    return round(min(max(moved, 0.0), top), 1)


def _event_answer(event: str, n: Counter[str], rng: random.Random) -> tuple[dict[str, Any], QualityFigures]:
    """Meta's answer for one event over its window, and the figures the manifest records."""
    browser, server = n["browser"], n["server"]
    shares = {key: n[f"key:{key}"] / server if server else 0.0 for key in MATCH_KEYS}
    score = min(10.0, sum(_EMQ_WEIGHTS[k] * shares[k] for k in MATCH_KEYS))
    emq = _moved(score, rng, 0.5, 10.0)
    coverage = _moved(_pct(n["event_covered"], browser), rng, 3.0, 100.0)
    eid = (
        _pct(n["browser_eid"], browser),
        _pct(n["server_eid"], server),
        _pct(n["browser_covered"], browser),
    )
    fbp_coverage = _pct(n["fbp_deduplicated"], browser)
    answer: dict[str, Any] = {
        "event_name": event,
        "event_match_quality": {
            "composite_score": emq,
            "match_key_feedback": [
                {"identifier": name, "coverage": {"percentage": _pct(n[f"key:{key}"], server)}}
                for name, key in _IDENTIFIERS
                if n[f"key:{key}"]
            ],
            "diagnostics": [],
        },
        "event_coverage": {
            "percentage": coverage,
            "goal_percentage": 75,
            "description": "The percentage of events received from your Conversions API compared to unique "
            "browser events from the Meta Pixel.",
        },
        "dedupe_key_feedback": [
            {
                "dedupe_key": "event_id",
                "browser_events_with_dedupe_key": {"percentage": eid[0]},
                "server_events_with_dedupe_key": {"percentage": eid[1]},
                "overall_browser_coverage_from_dedupe_key": {"percentage": eid[2]},
            },
            {
                "dedupe_key": "external_id",
                "browser_events_with_dedupe_key": {"percentage": 0},
                "server_events_with_dedupe_key": {"percentage": _pct(n["key:external_id"], server)},
                "overall_browser_coverage_from_dedupe_key": {"percentage": 0},
            },
            {
                "dedupe_key": "fbp",
                "browser_events_with_dedupe_key": {"percentage": 100 if browser else 0},
                "server_events_with_dedupe_key": {"percentage": _pct(n["key:fbp"], server)},
                "overall_browser_coverage_from_dedupe_key": {"percentage": fbp_coverage},
            },
        ],
        "data_freshness": {"upload_frequency": "real_time"},
    }
    if event == "Purchase":
        answer["acr"] = {"percentage": _pct(max(server - n["browser_covered"], 0), browser)}
    if browser and eid[0] < 90:
        answer["event_match_quality"]["diagnostics"].append({
            "name": "Browser events missing event_id",
            "description": f"{100 - eid[0]:.1f}% of your browser {event} events have no event_id, so they "
            "cannot be deduplicated with the Conversions API events you send for them.",
            "solution": "Send the same event_id with the Meta Pixel event and its Conversions API event.",
            "percentage": round(100 - eid[0], 1),
            "affected_event_count": browser - n["browser_eid"],
            "total_event_count": browser,
        })  # fmt: skip
    figures = QualityFigures(
        emq=emq,
        event_coverage=coverage / 100,
        browser_event_id_share=eid[0] / 100,
        server_event_id_share=eid[1] / 100,
        event_id_coverage=eid[2] / 100,
        upload_frequency="real_time",
    )
    return answer, figures


def snapshot_file(day: dt.date) -> str:
    """``dataset_quality_2026-11-16.json``."""
    return f"dataset_quality_{day.isoformat()}.json"


def write_quality_snapshots(out_dir: Path, config: DemoConfig, tally: MetaTally) -> list[QualitySnapshot]:
    """Write one saved Dataset Quality answer per ``SNAPSHOT_DAYS`` day; returns what each holds."""
    last = config.weeks * 7
    offsets = sorted({min(max(offset, 7), last) for offset in SNAPSHOT_DAYS})
    snapshots = []
    for number, offset in enumerate(offsets):
        day = config.start + dt.timedelta(days=offset)
        # Meta's 7-day figures up to the fetch; the period's last day when fetched after the logs end
        end = min(day, config.start + dt.timedelta(days=last - 1))
        first = end - dt.timedelta(days=6)
        rng = snapshot_rng(config, number)
        web, events = [], {}
        for event in QUALITY_EVENTS:
            counts = tally.window(event, first, end)
            if not counts["browser"] and not counts["server"]:
                continue
            answer, figures = _event_answer(event, counts, rng)
            web.append(answer)
            events[event] = figures
        name = snapshot_file(day)
        (out_dir / name).write_text(json.dumps({"web": web}, indent=2) + "\n", encoding="utf-8")
        snapshots.append(
            QualitySnapshot(
                file=name,
                fetched_at=dt.datetime.combine(day, SNAPSHOT_TIME),
                window=(first, end),
                events=events,
            )
        )
    return snapshots


def write_meta_reporting(
    out_dir: Path, config: DemoConfig, tally: MetaTally
) -> tuple[dict[str, int], MetaReportingManifest]:
    """Write the export and the snapshots; returns (counts per file kind, their manifest)."""
    figures = write_ads_export(out_dir, config, tally)
    snapshots = write_quality_snapshots(out_dir, config, tally)
    counts = {"ads_manager_rows": figures["export_rows"], "dataset_quality_snapshots": len(snapshots)}
    return counts, MetaReportingManifest(**figures, snapshots=snapshots)
