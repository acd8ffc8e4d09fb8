"""Write the demo shop: Orders export CSV, CAPI log JSONL, Pixel beacon lines, and the manifest.

Streams: orders are rebuilt from (seed, index) for each pass, and event copies wait in a small heap only
until no later order can produce an earlier line, so memory stays flat from 1,500 to 1,000,000 orders
while both event files come out sorted by the time Meta received each line.
"""

from __future__ import annotations

import csv
import heapq
from pathlib import Path
from typing import TextIO

from capi_core.demo.catalog import SHOPIFY_COLUMNS
from capi_core.demo.config import DemoConfig
from capi_core.demo.copies import BrowserCopy, Copy
from capi_core.demo.funnel import browse_copies, order_copies, phantom_copies
from capi_core.demo.manifest import DemoManifest, Ledger
from capi_core.demo.orders_csv import order_rows
from capi_core.demo.shop import build_order, order_rng
from capi_core.demo.wire import beacon_url, envelope_line

ORDERS_FILE = "orders_export.csv"
SERVER_FILE = "capi_log.jsonl"
BROWSER_FILE = "pixel_beacons.txt"
MANIFEST_FILE = "manifest.json"
#: Every non-delayed copy of an order lies within this distance of the order's time.
_HORIZON_MS = 60 * 60_000


class _SortedLines:
    """Lines keyed by receive time, written once no later order can produce an earlier key."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._heap: list[tuple[int, int, str]] = []
        self._seq = 0
        self.written = 0

    def push(self, key_ms: int, line: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (key_ms, self._seq, line))

    def flush_before(self, key_ms: int | None = None) -> None:
        heap = self._heap
        while heap and (key_ms is None or heap[0][0] < key_ms):
            self._out.write(heapq.heappop(heap)[2])
            self._out.write("\n")
            self.written += 1


def _write_orders(path: Path, config: DemoConfig) -> dict[str, int]:
    """Newest order first, as Shopify exports them; returns counts."""
    counts = {"orders": 0, "order_rows": 0, "paid_orders": 0}
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SHOPIFY_COLUMNS)
        for index in reversed(range(config.orders)):
            rng = order_rng(config, index)
            order = build_order(config, index, rng)
            rows = order_rows(config, order, rng)
            writer.writerows(rows)
            counts["orders"] += 1
            counts["order_rows"] += len(rows)
            counts["paid_orders"] += order.paid
    return counts


def _write_events(folder: Path, config: DemoConfig, ledger: Ledger) -> dict[str, int]:
    with (
        (folder / SERVER_FILE).open("w", encoding="utf-8", newline="\n") as server_out,
        (folder / BROWSER_FILE).open("w", encoding="utf-8", newline="\n") as browser_out,
    ):
        server, browser = _SortedLines(server_out), _SortedLines(browser_out)
        for index in range(config.orders):
            rng = order_rng(config, index)
            order = build_order(config, index, rng)
            server.flush_before(order.created_ms - _HORIZON_MS)
            browser.flush_before(order.created_ms - _HORIZON_MS)
            if order.defect == "RECON_MISSING":
                ledger.tag("RECON_MISSING", order.number, order.status)
            elif not order.paid and order.purchase_sent:
                ledger.tag("RECON_NOT_PAID_SENT", order.number, order.status)
            copies: list[Copy] = [
                *browse_copies(config, order, rng),
                *order_copies(config, order, rng),
                *phantom_copies(config, order, rng),
            ]
            for copy in copies:
                ledger.copy(copy)
                if isinstance(copy, BrowserCopy):
                    browser.push(copy.ts_ms, beacon_url(copy))
                else:
                    server.push(copy.sent_ms, envelope_line(copy))
        server.flush_before()
        browser.flush_before()
    return {"capi_log_lines": server.written, "pixel_beacon_lines": browser.written}


def generate(out_dir: Path, config: DemoConfig = DemoConfig()) -> DemoManifest:  # noqa: B008 (frozen)
    """Write the demo shop's three files and ``manifest.json`` into ``out_dir`` (created if needed).

    Args:
        out_dir: folder to write into; existing files of the same names are replaced.
        config: the shop to generate; the same config always writes byte-identical files.

    Returns:
        The manifest: counts per file and the exact ground truth of every injected defect.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ledger = Ledger()
    counts = _write_orders(out_dir / ORDERS_FILE, config)
    counts.update(_write_events(out_dir, config, ledger))
    spike: dict[str, int | float | str] = {
        "deploy_day": config.deploy_day.isoformat(),
        "days": config.deploy_days,
        "note": config.deploy_note,
    }
    manifest = DemoManifest(
        config=config,
        period_start=config.period_start,
        period_end=config.period_end,
        files={"orders": ORDERS_FILE, "server": SERVER_FILE, "browser": BROWSER_FILE},
        counts=counts,
        copies=dict(sorted(ledger.copies.items())),
        annotations=[(config.deploy_day, config.deploy_note)],
        defects=ledger.records({"RECON_SPIKE": spike}),
    )
    (out_dir / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest
