"""Build the demo store: generate the demo shop's files, ingest them as a user would, annotate.

Meta's own view comes last, as a user adds it after the logs: the Ads Manager export is ingested with
source ``meta`` (after the shop's and lead forms' files, so their batch ids stay 1-6), then each saved
Dataset Quality answer is loaded with the time it was fetched (``capi-desk meta-quality load FILE --at``).

The store is built in a temporary file beside the target and moved into place only when complete, so an
interrupted build never leaves a half-filled demo store that the dashboard would then open.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from capi_core import dataset_quality
from capi_core.demo import DemoConfig, DemoManifest, generate, scaled_config
from capi_core.ingest import ingest_file
from capi_core.store import Store

#: (source, file name written by demo.generate) in the order a user would load them.
DEMO_FILES: tuple[tuple[str, str], ...] = (
    ("orders", "orders_export.csv"),
    ("leads", "crm_leads.csv"),
    ("server", "capi_log.jsonl"),
    ("server", "lead_capi_log.jsonl"),
    ("browser", "pixel_beacons.txt"),
    ("browser", "lead_beacons.txt"),
    ("meta", "ads_manager_export.csv"),
)


def ingest_demo_files(store: Store, folder: Path) -> list[str]:
    """Ingest the demo files (``DEMO_FILES``) from ``folder``; returns one summary line per file."""
    lines = []
    for source, name in DEMO_FILES:
        result = ingest_file(store, folder / name, source)  # type: ignore[arg-type]
        lines.append(result.summary)
    return lines


def load_quality_snapshots(store: Store, folder: Path, manifest: DemoManifest) -> list[str]:
    """Load the demo's Dataset Quality answers for the main pixel, each at its fetch time."""
    if manifest.meta is None:
        return []
    return [
        dataset_quality.load_file(
            store,
            folder / snapshot.file,
            pixel_id=manifest.config.pixel_id,
            fetched_at=snapshot.fetched_at.replace(tzinfo=dt.UTC),
        ).summary
        for snapshot in manifest.meta.snapshots
    ]


def _annotate(store: Store, manifest: DemoManifest) -> None:
    for index, (day, note) in enumerate(manifest.annotations, start=1):
        with store.transaction() as tx:
            tx.execute(
                "annotate",
                "insert into annotations values ($id, $day, $note, $at)",
                {"id": index, "day": day, "note": note, "at": dt.datetime(2026, 1, 1)},
            )


def needs_build(target: Path) -> bool:
    """True when ``target`` is missing or holds no ingested file (e.g. left empty by an interrupted run)."""
    if not Path(target).exists():
        return True
    with Store(target) as store:
        return not store.query("any batch", "select count(*) from batches").scalar()


def build_demo_store(target: Path, *, orders: int | None = None, seed: int = 42) -> str:
    """Generate and ingest the demo shop into ``target`` (replacing it); returns a summary."""
    config = scaled_config(orders, seed) if orders else DemoConfig(seed=seed)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="capi-demo-") as tmp:
        folder = Path(tmp)
        manifest = generate(folder, config)
        building = target.with_name(target.name + ".building")
        for stale in (building, Path(f"{building}.wal")):
            stale.unlink(missing_ok=True)
        with Store(building) as store:
            lines = ingest_demo_files(store, folder)
            lines += load_quality_snapshots(store, folder, manifest)
            _annotate(store, manifest)
        Path(f"{target}.wal").unlink(missing_ok=True)
        os.replace(building, target)
    return "\n".join([f"demo store written to {target}", *lines])
