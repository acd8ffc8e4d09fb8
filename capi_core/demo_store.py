"""Build the demo store: generate the demo shop's files, ingest them as a user would, annotate.

Meta's own view comes last, as a user adds it after the logs: the Ads Manager export is ingested with
source ``meta`` (after the shop's and lead forms' files, so their batch ids stay 1-6), then each saved
Dataset Quality answer is loaded with the time it was fetched (``capi-desk meta-quality load FILE --at``).

With ``files``, the generated input files (and ``manifest.json``, the ground truth of every injected
defect) are also copied into that folder, with the commands that ingest them into a practice store
(``practice_commands``): what ``capi-desk demo --files DIR`` prints.

The store is built in a temporary file beside the target and moved into place only when complete, so an
interrupted build never leaves a half-filled demo store that the dashboard would then open. Builds hold a
lock file beside the target (``demo.duckdb.lock``, ``flock``): several dashboard tabs, or a tab and
``capi-desk demo``, asking at once build it exactly once; the others wait and then open the result.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from capi_core.demo import DemoConfig, DemoManifest, generate, scaled_config
from capi_core.errors import InputError, StoreBusyError
from capi_core.ingest import ingest_file
from capi_core.meta import dataset_quality
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
    """True when ``target`` is missing or holds no ingested file (e.g. left empty by an interrupted run).

    Reads only: a store another process is writing to (an ingest) is a store in use, not one to build.
    """
    if not Path(target).exists():
        return True
    try:
        with Store(target, read_only=True) as store:
            return not store.query("any batch", "select count(*) from batches").scalar()
    except StoreBusyError:
        return False


@contextmanager
def build_lock(target: Path) -> Iterator[None]:
    """Hold the demo store's build lock (``<target>.lock``), waiting while another thread or process has
    it. ``flock`` belongs to the open file, so threads of one process exclude each other too, and the
    lock ends with its holder, even when that process is killed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def ensure_demo_store(target: Path) -> str | None:
    """Build the demo store at ``target`` unless it holds data; returns the summary, or None when it was
    there already (or another caller built it while this one waited for the build lock)."""
    target = Path(target)
    if not needs_build(target):
        return None
    with build_lock(target):
        return _build(target, None, 42) if needs_build(target) else None


def build_demo_store(
    target: Path, *, orders: int | None = None, seed: int = 42, files: Path | None = None
) -> str:
    """Generate and ingest the demo shop into ``target`` (replacing it); returns a summary. With
    ``files``, the input files are kept in that folder too (see the module docstring).

    Raises:
        InputError: ``files`` is a file, or already holds a file of the demo's names (nothing is built).
    """
    target = Path(target)
    with build_lock(target):
        return _build(target, orders, seed, files)


def practice_commands(folder: Path, manifest: DemoManifest, db: str = "practice.duckdb") -> list[str]:
    """The commands that load the demo files in ``folder`` into the store ``db``, as a user would: each
    file with its ``--source``, then each Dataset Quality answer with the pixel and time it is for."""
    prefix = f"capi-desk --db {shlex.quote(db)}"
    lines = [
        f"{prefix} ingest --source {source} {shlex.quote(str(folder / name))}" for source, name in DEMO_FILES
    ]
    for snapshot in manifest.meta.snapshots if manifest.meta is not None else []:
        lines.append(
            f"{prefix} meta-quality load {shlex.quote(str(folder / snapshot.file))} "
            f"--pixel-id {manifest.config.pixel_id} --at {snapshot.fetched_at:%Y-%m-%dT%H:%M}"
        )
    return lines


def _keep_files(generated: Path, folder: Path) -> list[Path]:
    """Copy every generated file into ``folder`` (created if missing); never over an existing file."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--files {folder} is a file", hint="give a folder, e.g. --files demo-files")
    names = sorted(path.name for path in generated.iterdir() if path.is_file())
    taken = [name for name in names if (folder / name).exists()]
    if taken:
        raise InputError(
            f"--files {folder} already holds {', '.join(taken[:3])}{' …' if len(taken) > 3 else ''}",
            hint="give a new or empty folder; nothing was built",
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return [Path(shutil.copy2(generated / name, folder / name)) for name in names]
    except OSError as err:
        raise InputError(
            f"cannot write to --files {folder}: {err.strerror}", hint="check that it is writable"
        ) from None


def _build(target: Path, orders: int | None, seed: int, files: Path | None = None) -> str:
    config = scaled_config(orders, seed) if orders else DemoConfig(seed=seed)
    kept: list[str] = []
    with tempfile.TemporaryDirectory(prefix="capi-demo-") as tmp:
        folder = Path(tmp)
        manifest = generate(folder, config)
        if files is not None:
            _keep_files(folder, files)
            kept = [
                f"input files kept in {files} (manifest.json: the ground truth of every injected defect); "
                "practise with:",
                *(f"  {line}" for line in practice_commands(files, manifest)),
            ]
        building = target.with_name(target.name + ".building")
        for stale in (building, Path(f"{building}.wal")):
            stale.unlink(missing_ok=True)
        with Store(building) as store:
            lines = ingest_demo_files(store, folder)
            lines += load_quality_snapshots(store, folder, manifest)
            _annotate(store, manifest)
        Path(f"{target}.wal").unlink(missing_ok=True)
        os.replace(building, target)
    return "\n".join([f"demo store written to {target}", *lines, *kept])
