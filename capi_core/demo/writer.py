"""Write the demo shop: Orders export CSV, CAPI log JSONL, Pixel beacon lines, and the manifest.

Streams: orders are rebuilt from (seed, index) for each pass, and event copies wait in a small heap only
until no later order can produce an earlier line, so memory stays flat from 1,500 to 1,000,000 orders
while both event files come out sorted by the time Meta received each line. With ``workers > 1`` each
process writes a contiguous range of orders to part files that are then merged by time; the bytes are
the same as with one worker, because every order's draws depend on its index only and ties keep order.
"""

from __future__ import annotations

import csv
import heapq
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import pairwise
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO

from capi_core.demo.catalog import SHOPIFY_COLUMNS
from capi_core.demo.config import DemoConfig
from capi_core.demo.copies import BrowserCopy, Copy
from capi_core.demo.funnel import browse_copies, order_copies, phantom_copies
from capi_core.demo.lead_writer import (
    CRM_FILE,
    LEAD_BROWSER_FILE,
    LEAD_SERVER_FILE,
    LOW_QUALITY_CAMPAIGN,
    write_leads,
)
from capi_core.demo.manifest import DemoManifest, Ledger
from capi_core.demo.meta_reporting import ADS_EXPORT_FILE, write_meta_reporting
from capi_core.demo.orders_csv import order_rows
from capi_core.demo.shop import build_order, order_rng
from capi_core.demo.wire import beacon_url, envelope_line

ORDERS_FILE = "orders_export.csv"
SERVER_FILE = "capi_log.jsonl"
BROWSER_FILE = "pixel_beacons.txt"
MANIFEST_FILE = "manifest.json"
#: Every non-delayed copy of an order lies within this distance of the order's time.
_HORIZON_MS = 60 * 60_000
#: Below this many orders per worker, starting processes costs more than it saves.
_MIN_ORDERS_PER_WORKER = 20_000


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


@dataclass(frozen=True)
class _Part:
    """One range of orders and the three files it is written to."""

    start: int
    stop: int
    orders: Path
    server: Path
    browser: Path


def _write_orders(part: _Part, config: DemoConfig) -> dict[str, int]:
    """Newest order first, as Shopify exports them (rows only: the header is the caller's)."""
    counts = {"orders": 0, "order_rows": 0, "paid_orders": 0}
    with part.orders.open("a", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        for index in reversed(range(part.start, part.stop)):
            rng = order_rng(config, index)
            order = build_order(config, index, rng)
            rows = order_rows(config, order, rng)
            writer.writerows(rows)
            counts["orders"] += 1
            counts["order_rows"] += len(rows)
            counts["paid_orders"] += order.paid
    return counts


def _order_events(config: DemoConfig, index: int, ledger: Ledger) -> tuple[int, list[Copy]]:
    """(order time, copies) of order ``index``, its order-level ground truth tallied."""
    rng = order_rng(config, index)
    order = build_order(config, index, rng)
    if order.defect == "RECON_MISSING":
        ledger.tag("RECON_MISSING", order.number, order.status)
    elif not order.paid and order.purchase_sent:
        ledger.tag("RECON_NOT_PAID_SENT", order.number, order.status)
    copies = [
        *browse_copies(config, order, rng),
        *order_copies(config, order, rng),
        *phantom_copies(config, order, rng),
    ]
    return order.created_ms, copies


def _write_events(part: _Part, config: DemoConfig, ledger: Ledger) -> dict[str, int]:
    with (
        part.server.open("w", encoding="utf-8", newline="\n") as server_out,
        part.browser.open("w", encoding="utf-8", newline="\n") as browser_out,
    ):
        server, browser = _SortedLines(server_out), _SortedLines(browser_out)
        for index in range(part.start, part.stop):
            created_ms, copies = _order_events(config, index, ledger)
            server.flush_before(created_ms - _HORIZON_MS)
            browser.flush_before(created_ms - _HORIZON_MS)
            ledger.meta.add(config, index, copies)
            for copy in copies:
                ledger.copy(copy)
                if isinstance(copy, BrowserCopy):
                    browser.push(copy.ts_ms, beacon_url(copy))
                else:
                    server.push(copy.sent_ms, envelope_line(copy))
        server.flush_before()
        browser.flush_before()
    return {"capi_log_lines": server.written, "pixel_beacon_lines": browser.written}


def _write_part(part: _Part, config: DemoConfig) -> tuple[Ledger, dict[str, int]]:
    ledger = Ledger()
    counts = _write_orders(part, config)
    counts.update(_write_events(part, config, ledger))
    return ledger, counts


def _beacon_key(line: str) -> int:
    start = line.index("&ts=") + 4
    return int(line[start : line.index("&", start)])


def _envelope_key(line: str) -> str:
    return line[: line.index('Z"')]  # '{"sent_at":"<fixed-width ISO>' sorts as the time does


def _merge_sorted(paths: list[Path], out: Path, key: Callable[[str], Any]) -> None:
    with ExitStack() as stack, out.open("w", encoding="utf-8", newline="\n") as target:
        files: list[Iterator[str]] = [
            stack.enter_context(p.open(encoding="utf-8", newline="\n")) for p in paths
        ]
        target.writelines(heapq.merge(*files, key=key))


def _assemble(parts: list[_Part], out_dir: Path) -> None:
    with (out_dir / ORDERS_FILE).open("a", encoding="utf-8", newline="") as orders:
        for part in reversed(parts):  # newest range first
            with part.orders.open(encoding="utf-8", newline="") as chunk:
                shutil.copyfileobj(chunk, orders)
    _merge_sorted([p.server for p in parts], out_dir / SERVER_FILE, _envelope_key)
    _merge_sorted([p.browser for p in parts], out_dir / BROWSER_FILE, _beacon_key)


def _write_all(out_dir: Path, config: DemoConfig, workers: int) -> tuple[Ledger, dict[str, int]]:
    with (out_dir / ORDERS_FILE).open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerow(SHOPIFY_COLUMNS)
    workers = max(1, min(workers, config.orders // _MIN_ORDERS_PER_WORKER))
    if workers == 1:
        whole = _Part(0, config.orders, out_dir / ORDERS_FILE, out_dir / SERVER_FILE, out_dir / BROWSER_FILE)
        return _write_part(whole, config)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".parts-") as tmp:
        bounds = [config.orders * n // workers for n in range(workers + 1)]
        parts = [
            _Part(a, b, Path(tmp, f"{n}.csv"), Path(tmp, f"{n}.jsonl"), Path(tmp, f"{n}.txt"))
            for n, (a, b) in enumerate(pairwise(bounds))
        ]
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_write_part, parts, [config] * len(parts)))
        _assemble(parts, out_dir)
    ledger, counts = Ledger(), dict.fromkeys(results[0][1], 0)
    for part_ledger, part_counts in results:
        ledger.merge(part_ledger)
        for name, value in part_counts.items():
            counts[name] += value
    return ledger, counts


def generate(out_dir: Path, config: DemoConfig = DemoConfig(), *, workers: int = 1) -> DemoManifest:  # noqa: B008
    """Write the demo shop's three files, the lead forms' three (``lead_writer``), Meta's own view (the
    Ads Manager export and Dataset Quality answers, ``meta_reporting``) and ``manifest.json``.

    Args:
        out_dir: folder to write into; existing files of the same names are replaced.
        config: the shop to generate; the same config always writes byte-identical files.
        workers: processes to use for large shops (benchmark sizes); the output does not depend on it.

    Returns:
        The manifest: counts per file and the exact ground truth of every injected defect.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ledger, counts = _write_all(out_dir, config, workers)
    lead_counts, leads = write_leads(out_dir, config, ledger)
    counts.update(lead_counts)
    meta_counts, meta = write_meta_reporting(out_dir, config, ledger.meta)
    counts.update(meta_counts)
    low_quality = leads.by_campaign.get(LOW_QUALITY_CAMPAIGN)
    lead_details: dict[str, int | float | str] = {"campaign": LOW_QUALITY_CAMPAIGN}
    if low_quality is not None:
        lead_details.update(low_quality.model_dump())
    spike: dict[str, int | float | str] = {
        "deploy_day": config.deploy_day.isoformat(),
        "days": (config.deploy_end.date() - config.deploy_day).days,
        "note": config.deploy_note,
    }
    manifest = DemoManifest(
        config=config,
        period_start=config.period_start,
        period_end=config.period_end,
        files={
            "orders": ORDERS_FILE,
            "server": SERVER_FILE,
            "browser": BROWSER_FILE,
            "leads": CRM_FILE,
            "lead_server": LEAD_SERVER_FILE,
            "lead_browser": LEAD_BROWSER_FILE,
            "meta_export": ADS_EXPORT_FILE,
        },
        counts=counts,
        copies=dict(sorted(ledger.copies.items())),
        annotations=[(config.deploy_day, config.deploy_note)],
        defects=ledger.records({"RECON_SPIKE": spike, "LEAD_LOW_QUALIFICATION": lead_details}),
        leads=leads,
        meta=meta,
    )
    (out_dir / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest
