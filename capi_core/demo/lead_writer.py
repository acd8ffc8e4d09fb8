"""Write the lead-gen forms' files: Lead beacons, the Lead CAPI log and the CRM export, with their tally.

Separate files from the shop's (a lead form is often its own site section or tool), so the shop's three
files keep their bytes. Slots stream in time order; copies wait in a small heap only until no later slot
can produce an earlier line, so both event files come out sorted by the time Meta received each line.
The tally (``LeadManifest``) is computed from what is written, never from the configured rates.
"""

from __future__ import annotations

import csv
import heapq
from collections import Counter
from pathlib import Path
from typing import TextIO

from capi_core.demo.config import DemoConfig
from capi_core.demo.copies import BrowserCopy
from capi_core.demo.leadgen import (
    CRM_COLUMNS,
    LeadSlot,
    build_slot,
    crm_row,
    lead_rng,
    lead_slots,
    slot_copies,
)
from capi_core.demo.manifest import CampaignFigures, LeadManifest, Ledger, percentile
from capi_core.demo.wire import beacon_url, envelope_line

LEAD_BROWSER_FILE = "lead_beacons.txt"
LEAD_SERVER_FILE = "lead_capi_log.jsonl"
CRM_FILE = "crm_leads.csv"
#: Every copy of a slot lies within this distance of its created time (and slots drift less than this).
_HORIZON_MS = 60 * 60_000
_HOUR_MS = 3_600_000
#: The campaign whose leads qualify at ``config.broad_audience_qualification``.
LOW_QUALITY_CAMPAIGN = "facebook / broad_audience"


class _Lines:
    """Lines keyed by receive time, written once no later slot can produce an earlier key."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._heap: list[tuple[int, int, str]] = []
        self._seq = 0  # ties keep push order
        self.written = 0

    def push(self, key_ms: int, line: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (key_ms, self._seq, line))

    def flush_before(self, key_ms: int | None = None) -> None:
        while self._heap and (key_ms is None or self._heap[0][0] < key_ms):
            self._out.write(heapq.heappop(self._heap)[2] + "\n")
            self.written += 1


class _Tally:
    """Running lead figures while slots are written."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.figures: Counter[str] = Counter()
        self.hours: list[float] = []
        self.campaigns: dict[str, Counter[str]] = {}

    def add(self, slot: LeadSlot, ledger: Ledger) -> None:
        self.kinds[slot.kind] += 1
        self.figures["sync_lost"] += slot.sync_lost
        campaign = self.campaigns.setdefault(slot.label, Counter())
        if slot.kind == "offline":
            campaign["crm_leads_without_event"] += 1
            return
        if not slot.in_crm:
            return  # its one counted Lead matches no lead (tagged LEAD_UNMATCHED on the copy)
        campaign["lead_events"] += 1
        campaign["matched_leads"] += 1
        campaign["qualified_leads"] += slot.qualified
        campaign["won_leads"] += slot.won_ms is not None
        self.figures["blocked"] += slot.blocked
        if slot.qualified_ms is not None:
            self.hours.append((slot.qualified_ms - slot.created_ms) / _HOUR_MS)
        if slot.label == LOW_QUALITY_CAMPAIGN and not slot.qualified:
            ledger.tag("LEAD_LOW_QUALIFICATION", slot.lead_id, "not_qualified")

    def manifest(self) -> LeadManifest:
        by_campaign = {
            label: CampaignFigures(**{field: counts[field] for field in CampaignFigures.model_fields})
            for label, counts in sorted(self.campaigns.items())
        }
        matched = sum(c.matched_leads for c in by_campaign.values())
        web, spam, offline = self.kinds["web"], self.kinds["spam"], self.kinds["offline"]
        return LeadManifest(
            slots=web + spam + offline,
            web_fills=web,
            spam_fills=spam,
            sync_lost_fills=self.figures["sync_lost"],
            offline_leads=offline,
            crm_leads=matched + offline,
            lead_events=web + spam,
            matched_events=matched,
            unmatched_events=web + spam - matched,
            matched_leads=matched,
            qualified_leads=sum(c.qualified_leads for c in by_campaign.values()),
            won_leads=sum(c.won_leads for c in by_campaign.values()),
            crm_leads_without_event=offline,
            both_channels=matched - self.figures["blocked"],
            server_only=self.figures["blocked"],
            median_hours_to_qualify=percentile(self.hours, 0.5),
            p90_hours_to_qualify=percentile(self.hours, 0.9),
            by_campaign=by_campaign,
        )


def write_leads(out_dir: Path, config: DemoConfig, ledger: Ledger) -> tuple[dict[str, int], LeadManifest]:
    """Write the three lead files into ``out_dir``; tally copies and tags into ``ledger``.

    Returns:
        Line counts per file and the exact lead figures.
    """
    tally = _Tally()
    with (
        (out_dir / LEAD_SERVER_FILE).open("w", encoding="utf-8", newline="\n") as server_out,
        (out_dir / LEAD_BROWSER_FILE).open("w", encoding="utf-8", newline="\n") as browser_out,
        (out_dir / CRM_FILE).open("w", encoding="utf-8", newline="") as crm_out,
    ):
        server, browser = _Lines(server_out), _Lines(browser_out)
        crm = csv.writer(crm_out, lineterminator="\n")
        crm.writerow(CRM_COLUMNS)
        crm_rows = 0
        for index in range(lead_slots(config)):
            rng = lead_rng(config, index)
            slot = build_slot(config, index, rng)
            server.flush_before(slot.created_ms - _HORIZON_MS)
            browser.flush_before(slot.created_ms - _HORIZON_MS)
            for copy in slot_copies(config, slot, rng):
                ledger.copy(copy)
                if isinstance(copy, BrowserCopy):
                    browser.push(copy.ts_ms, beacon_url(copy))
                else:
                    server.push(copy.sent_ms, envelope_line(copy))
            row = crm_row(slot)
            if row is not None:
                crm.writerow(row)
                crm_rows += 1
            tally.add(slot, ledger)
        server.flush_before()
        browser.flush_before()
    counts = {
        "lead_capi_log_lines": server.written,
        "lead_beacon_lines": browser.written,
        "crm_leads": crm_rows,
    }
    return counts, tally.manifest()
