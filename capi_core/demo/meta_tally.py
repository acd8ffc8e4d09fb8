"""What Meta itself sees of the demo shop, tallied per UTC day while the event files are written.

Two things, both from the copies of each order as they are generated (never from the store):

- ``counted``: per day, the ``Purchase`` copies Meta *counts* on the main pixel, by Meta's documented
  deduplication applied to one order's copies (below); ``attributed``: per day and ad, those Meta
  attributes to an ad (``ad_account.attributed_ad``, one stream per order), with their value. After the
  checkout redeploy the beacon has no eid, so the order counts twice: Ads Manager then reports both.
- ``signals``: per (day, event name, field), the counts behind Meta's Dataset Quality figures on the main
  pixel: browser copies with an eid / with a server twin by eid (dedup keys), browser copies sharing a
  dedup key with a server copy Meta accepted (event coverage, Meta's definition; every demo beacon is a
  unique browser event), server copies with each match key (EMQ, match-key coverage).

Meta's counting, per order (the demo's copies of one order never pair with another order's):

- only copies Meta accepted (no error answer) of the standard event ``Purchase`` on the main pixel (a
  ``purchase`` copy is a custom event Ads Manager's Purchases column does not report; a copy sent to the
  second pixel belongs to another dataset; a phantom order was never an ad conversion);
- a browser and a server copy with the same event_id received within 48 h count once (the browser's value);
- an eid-less server copy is dropped when a beacon with the same fbp arrived earlier (Meta's fbp rule);
- every other copy counts (eid-less beacons, late or repeated server copies).

No file access; the only draws are the attribution's, from their own stream. Memory grows with days, not
orders. ``Ledger`` carries one tally and merges those of parallel parts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from capi_core.demo.ad_account import attributed_ad, attribution_rng
from capi_core.demo.config import DemoConfig
from capi_core.demo.copies import BrowserCopy, Copy, ServerCopy
from capi_core.demo.shop import from_ms

EVENT = "Purchase"
#: Meta merges a browser and a server copy with the same event_id received this close together.
DEDUP_WINDOW_MS = 48 * 3_600_000
#: Server user_data keys whose presence the tally counts (fn and ln count together, as ``fn_ln``).
MATCH_KEYS = (
    "em", "ph", "external_id", "fbc", "fbp", "client_ip_address", "client_user_agent", "fn_ln", "ct", "st",
    "zp", "country", "ge", "db",
)  # fmt: skip


def event_ms(copy: Copy) -> int:
    """When the event happened, as Meta reads it: the beacon's ts, the server copy's event_time."""
    if isinstance(copy, BrowserCopy):
        return copy.ts_ms
    if isinstance(copy.event_time, int):
        return copy.event_time if copy.event_time > 10**11 else copy.event_time * 1000
    return copy.sent_ms  # a malformed event_time: the time Meta received it


_DAY_MS = 86_400_000
_EPOCH_DAY = dt.date(1970, 1, 1)


def _day(ms: int) -> str:
    return from_ms(ms).date().isoformat()


def _value(copy: Copy) -> float:
    """The value the copy sent, as Meta parses it (0 when it is not a number, like the text '77,93')."""
    if isinstance(copy, BrowserCopy):
        text = dict(copy.custom).get("value")
    else:
        text = (copy.custom_data or {}).get("value")
    try:
        return float(text) if text is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _phantom(copy: Copy) -> bool:
    return any(code == "RECON_PHANTOM" for code, _ in copy.tags)


def counted_purchases(config: DemoConfig, copies: list[Copy]) -> list[Copy]:
    """The copies of one order's Purchase that Meta counts (see the module docstring), in time order."""
    accepted = [
        c
        for c in copies
        if c.event_name == EVENT
        and c.pixel_id == config.pixel_id
        and not _phantom(c)
        and not (isinstance(c, ServerCopy) and c.error is not None)
    ]
    browsers = sorted((c for c in accepted if isinstance(c, BrowserCopy)), key=lambda c: c.ts_ms)
    servers = sorted((c for c in accepted if isinstance(c, ServerCopy)), key=lambda c: c.sent_ms)
    counted: list[Copy] = []
    merged: set[int] = set()
    for server in servers:
        if server.event_id is not None:
            twin = next(
                (
                    b
                    for b in browsers
                    if id(b) not in merged
                    and b.event_id == server.event_id
                    and abs(server.sent_ms - b.ts_ms) <= DEDUP_WINDOW_MS
                ),
                None,
            )
            if twin is not None:
                merged.add(id(twin))
                counted.append(twin)  # Meta keeps one copy of the pair: the browser's figures
                continue
        elif any(b.fbp == server.user_data.get("fbp") and b.ts_ms < server.sent_ms for b in browsers):
            continue
        counted.append(server)
    counted += [b for b in browsers if id(b) not in merged]
    return sorted(counted, key=event_ms)


#: The per-(day, event) fields of ``MetaTally.signals``, in list order.
FIELDS: tuple[str, ...] = (
    "browser", "browser_eid", "browser_covered", "server", "server_eid", "fbp_deduplicated",
    *(f"key:{name}" for name in MATCH_KEYS), "event_covered",
)  # fmt: skip
_BROWSER, _BROWSER_EID, _COVERED, _SERVER, _SERVER_EID, _FBP_DEDUP = range(6)
#: Browser copies covered in Meta's sense: an accepted server copy of the same name shares their event_id or
#: fbp (beacons carry no external_id).
_EVENT_COVERED = len(FIELDS) - 1
#: (slot in the field list, user_data key) of each single match key; fn and ln count together (fn_ln).
_KEY_SLOTS = tuple((6 + i, name) for i, name in enumerate(MATCH_KEYS) if name != "fn_ln")
_FN_LN_SLOT = 6 + MATCH_KEYS.index("fn_ln")


class MetaTally:
    """Running per-day tally of what Meta sees on the main pixel (see the module docstring).

    Days are keyed by their ISO text. The per-copy part is the generator's hot path at benchmark sizes, so
    it keeps one list of counters per (day, event) instead of a counter per field.
    """

    def __init__(self) -> None:
        self.counted: Counter[str] = Counter()
        """Day (ISO) -> Purchases Meta counts."""
        self.attributed: Counter[tuple[str, int]] = Counter()
        """(day, index in ``ad_account.ADS``) -> counted Purchases attributed to the ad."""
        self.attributed_cents: Counter[tuple[str, int]] = Counter()
        """(day, ad) -> their value in cents."""
        self.signals: dict[tuple[int, str], list[int]] = {}
        """(days since 1970-01-01, event name) -> one count per ``FIELDS`` entry."""

    def _counts(self, ms: int, event_name: str) -> list[int]:
        key = (ms // _DAY_MS, event_name)
        counts = self.signals.get(key)
        if counts is None:
            counts = self.signals[key] = [0] * len(FIELDS)
        return counts

    def add(self, config: DemoConfig, index: int, copies: list[Copy]) -> None:
        """Tally the copies of order ``index`` (its browsing visitors, its buyer, a phantom)."""
        pixel = config.pixel_id
        main = [c for c in copies if c.pixel_id == pixel]
        server_ids = {(c.event_name, c.event_id) for c in main if isinstance(c, ServerCopy) and c.event_id}
        accepted = [c for c in main if isinstance(c, ServerCopy) and c.error is None]
        shared = {("event_id", c.event_name, c.event_id) for c in accepted if c.event_id} | {
            ("fbp", c.event_name, c.user_data.get("fbp")) for c in accepted if c.user_data.get("fbp")
        }
        for copy in main:
            counts = self._counts(event_ms(copy), copy.event_name)
            if isinstance(copy, BrowserCopy):
                counts[_BROWSER] += 1
                keys = (("event_id", copy.event_name, copy.event_id), ("fbp", copy.event_name, copy.fbp))
                counts[_EVENT_COVERED] += any(key in shared for key in keys)
                if copy.event_id is not None:
                    counts[_BROWSER_EID] += 1
                    counts[_COVERED] += (copy.event_name, copy.event_id) in server_ids
                continue
            counts[_SERVER] += 1
            counts[_SERVER_EID] += copy.event_id is not None
            data = copy.user_data
            for slot, name in _KEY_SLOTS:
                if data.get(name):
                    counts[slot] += 1
            counts[_FN_LN_SLOT] += bool(data.get("fn") and data.get("ln"))
        if any(c.event_name == EVENT for c in main):
            self._purchases(config, index, main)

    def _purchases(self, config: DemoConfig, index: int, main: list[Copy]) -> None:
        counted = counted_purchases(config, main)
        rng = attribution_rng(config, index)
        for copy in counted:
            day = _day(event_ms(copy))
            self.counted[day] += 1
            ad = attributed_ad(rng)
            if ad is not None:
                self.attributed[(day, ad)] += 1
                self.attributed_cents[(day, ad)] += round(_value(copy) * 100)
        kept = {id(c) for c in counted}
        for copy in main:  # eid-less server Purchases Meta dropped by the fbp of an earlier beacon
            if isinstance(copy, ServerCopy) and copy.event_name == EVENT and copy.event_id is None:
                dropped = id(copy) not in kept and copy.error is None and not _phantom(copy)
                self._counts(event_ms(copy), EVENT)[_FBP_DEDUP] += dropped

    def merge(self, other: MetaTally) -> None:
        """Add the tally of another range of orders."""
        self.counted.update(other.counted)
        self.attributed.update(other.attributed)
        self.attributed_cents.update(other.attributed_cents)
        for key, counts in other.signals.items():
            mine = self.signals.setdefault(key, [0] * len(FIELDS))
            for slot, count in enumerate(counts):
                mine[slot] += count

    def window(self, event_name: str, first: dt.date, last: dt.date) -> Counter[str]:
        """Field -> count of ``event_name`` over the days ``first``..``last`` (inclusive)."""
        low, high = (first - _EPOCH_DAY).days, (last - _EPOCH_DAY).days
        totals: Counter[str] = Counter()
        for (day, name), counts in self.signals.items():
            if name == event_name and low <= day <= high:
                for field, count in zip(FIELDS, counts, strict=True):
                    totals[field] += count
        return totals
