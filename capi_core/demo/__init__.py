"""Deterministic demo shop: a few weeks of orders, Pixel beacons and CAPI logs in the real formats,
with each diagnostic's defect injected at a known rate and recorded as exact ground truth.

Modules: ``config`` (parameters and rates), ``catalog`` (fixed fake vocabulary), ``shop`` (orders as a
pure function of seed and index), ``orders_csv`` (Shopify export rows), ``funnel`` (visitors -> copies),
``purchase_defects`` (one function per Purchase defect), ``leadgen`` (lead-gen forms -> Lead copies and
CRM rows), ``lead_writer`` (their three files), ``wire`` (envelope JSON, beacon URLs),
``ad_account`` (the Meta ad account and Meta's random streams), ``meta_tally`` (what Meta counts and sees
per day), ``meta_reporting`` (Meta's own view: Ads Manager export, Dataset Quality answers),
``manifest`` (tally and models), ``writer`` (``generate``: streaming, optionally parallel). The package
never reads the store: ingesting the files is the caller's job (``capi_core.demo_store``).
"""

from capi_core.demo.config import DemoConfig, scaled_config
from capi_core.demo.lead_writer import CRM_FILE, LEAD_BROWSER_FILE, LEAD_SERVER_FILE
from capi_core.demo.manifest import DefectRecord, DemoManifest, LeadManifest
from capi_core.demo.writer import BROWSER_FILE, MANIFEST_FILE, ORDERS_FILE, SERVER_FILE, generate

__all__ = [
    "BROWSER_FILE",
    "CRM_FILE",
    "LEAD_BROWSER_FILE",
    "LEAD_SERVER_FILE",
    "MANIFEST_FILE",
    "ORDERS_FILE",
    "SERVER_FILE",
    "DefectRecord",
    "DemoConfig",
    "DemoManifest",
    "LeadManifest",
    "generate",
    "scaled_config",
]
