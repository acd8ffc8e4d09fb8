"""CAPI Signal Desk core: readers, canonical DuckDB store, Meta's dedup model, metrics and report.

This package never imports streamlit; pages and the CLI sit on top of it.

The face: code outside the package (the dashboard's ``pages/`` and ``ui/``, ``app.py``) imports only the
names in ``__all__``, straight from ``capi_core`` (``from capi_core import Scope, dashboard_api``); a test
reads their imports to hold them to it. Each name is loaded from the module that owns it on first use
(``FACE`` says which) at each use, so ``import capi_core.units`` stays as cheap as that one module. Inside the
package, modules import the owner directly. The ``TYPE_CHECKING`` imports give mypy and editors the
same names with their types (a test holds them to ``FACE``).
"""

# no ``from __future__ import annotations`` here: it would bind the name ``annotations`` in this
# module, and ``from capi_core import annotations`` would get that instead of the annotations module
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the face's types for mypy and editors; FACE below is what runs
    from capi_core import annotations as annotations
    from capi_core import dashboard_api as dashboard_api
    from capi_core import demo_store as demo_store
    from capi_core import inspector as inspector
    from capi_core import settings as settings
    from capi_core import units as units
    from capi_core.annotations import Annotation as Annotation
    from capi_core.contracts import editor as contract_editor  # noqa: F401 (exported by FACE)
    from capi_core.contracts import library as contract_library  # noqa: F401 (exported by FACE)
    from capi_core.contracts.library import Violation as Violation
    from capi_core.contracts.models import (
        Contract as Contract,
    )
    from capi_core.contracts.models import (
        contract_from_rows as contract_from_rows,
    )
    from capi_core.contracts.models import (
        event_rows as event_rows,
    )
    from capi_core.contracts.models import (
        is_pixel_id as is_pixel_id,
    )
    from capi_core.diagnostics import Finding as Finding
    from capi_core.engines import (
        EngineConfig as EngineConfig,
    )
    from capi_core.engines import (
        open_configured_store as open_configured_store,
    )
    from capi_core.engines import (
        resolve_engine as resolve_engine,
    )
    from capi_core.errors import CapiDeskError as CapiDeskError
    from capi_core.errors import StoreBusyError as StoreBusyError
    from capi_core.ingest import delete_batch as delete_batch
    from capi_core.ingest import ingest_file as ingest_file
    from capi_core.meta import dataset_quality as dataset_quality
    from capi_core.meta import push as push
    from capi_core.meta.graph_api import DEFAULT_BASE_URL as DEFAULT_BASE_URL
    from capi_core.meta.graph_api import resolve_token as resolve_token
    from capi_core.metrics import dedup as dedup
    from capi_core.metrics import leads as leads
    from capi_core.metrics import meta_quality as meta_quality
    from capi_core.metrics import meta_view as meta_view
    from capi_core.metrics import quality as quality
    from capi_core.metrics import recon_views as recon_views
    from capi_core.metrics import reconcile as reconcile
    from capi_core.metrics.dedup import DedupEventStats as DedupEventStats
    from capi_core.metrics.drift import (
        DriftReport as DriftReport,
    )
    from capi_core.metrics.drift import (
        MetricDrift as MetricDrift,
    )
    from capi_core.metrics.drift import (
        drift_report as drift_report,
    )
    from capi_core.metrics.drift import (
        format_change as format_change,
    )
    from capi_core.metrics.drift import (
        format_value as format_value,
    )
    from capi_core.models import Scope as Scope
    from capi_core.models import SourceKind as SourceKind
    from capi_core.readers import ReadOptions as ReadOptions
    from capi_core.report import recon_notes as recon_notes
    from capi_core.store import DEFAULT_DB as DEFAULT_DB
    from capi_core.store import Store as Store
    from capi_core.store import default_db_path as default_db_path
    from capi_core.weekly_review import md_text as md_text
    from capi_core.weekly_review import plain as plain

__version__ = "0.1.0"

#: Public name -> (owning module, attribute; None when the name is the module itself).
FACE: dict[str, tuple[str, str | None]] = {
    # what the dashboard computes through: one module of page-shaped calls, and the report
    "dashboard_api": ("capi_core.dashboard_api", None),
    "recon_notes": ("capi_core.report", "recon_notes"),
    # the store, its scope, its engines and its errors
    "Store": ("capi_core.store", "Store"),
    "DEFAULT_DB": ("capi_core.store", "DEFAULT_DB"),
    "default_db_path": ("capi_core.store", "default_db_path"),
    "Scope": ("capi_core.models", "Scope"),
    "SourceKind": ("capi_core.models", "SourceKind"),
    "EngineConfig": ("capi_core.engines", "EngineConfig"),
    "open_configured_store": ("capi_core.engines", "open_configured_store"),
    "resolve_engine": ("capi_core.engines", "resolve_engine"),
    "CapiDeskError": ("capi_core.errors", "CapiDeskError"),
    "StoreBusyError": ("capi_core.errors", "StoreBusyError"),
    "demo_store": ("capi_core.demo_store", None),
    # ingest and undo
    "ingest_file": ("capi_core.ingest", "ingest_file"),
    "delete_batch": ("capi_core.ingest", "delete_batch"),
    "ReadOptions": ("capi_core.readers", "ReadOptions"),
    # the metrics, one module per report section
    "dedup": ("capi_core.metrics.dedup", None),
    "DedupEventStats": ("capi_core.metrics.dedup", "DedupEventStats"),
    "reconcile": ("capi_core.metrics.reconcile", None),
    "recon_views": ("capi_core.metrics.recon_views", None),
    "quality": ("capi_core.metrics.quality", None),
    "leads": ("capi_core.metrics.leads", None),
    "meta_quality": ("capi_core.metrics.meta_quality", None),
    "meta_view": ("capi_core.metrics.meta_view", None),
    "DriftReport": ("capi_core.metrics.drift", "DriftReport"),
    "MetricDrift": ("capi_core.metrics.drift", "MetricDrift"),
    "drift_report": ("capi_core.metrics.drift", "drift_report"),
    "format_change": ("capi_core.metrics.drift", "format_change"),
    "format_value": ("capi_core.metrics.drift", "format_value"),
    "Finding": ("capi_core.diagnostics", "Finding"),
    "inspector": ("capi_core.inspector", None),
    # what people set and write beside the data
    "settings": ("capi_core.settings", None),
    "annotations": ("capi_core.annotations", None),
    "Annotation": ("capi_core.annotations", "Annotation"),
    "contract_library": ("capi_core.contracts.library", None),
    "contract_editor": ("capi_core.contracts.editor", None),
    "Contract": ("capi_core.contracts.models", "Contract"),
    "Violation": ("capi_core.contracts.library", "Violation"),
    "contract_from_rows": ("capi_core.contracts.models", "contract_from_rows"),
    "event_rows": ("capi_core.contracts.models", "event_rows"),
    "is_pixel_id": ("capi_core.contracts.models", "is_pixel_id"),
    # Meta
    "push": ("capi_core.meta.push", None),
    "dataset_quality": ("capi_core.meta.dataset_quality", None),
    "resolve_token": ("capi_core.meta.graph_api", "resolve_token"),
    "DEFAULT_BASE_URL": ("capi_core.meta.graph_api", "DEFAULT_BASE_URL"),
    # showing figures and browser strings
    "units": ("capi_core.units", None),
    "md_text": ("capi_core.weekly_review", "md_text"),
    "plain": ("capi_core.weekly_review", "plain"),
}

__all__ = sorted(FACE)


def __getattr__(name: str) -> Any:
    """A face name, read from its owner at each use (PEP 562): never a copy, so what the owner holds now
    (a test's stand-in included) is what every importer gets."""
    try:
        module_name, attribute = FACE[name]
    except KeyError:
        raise AttributeError(f"module 'capi_core' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
