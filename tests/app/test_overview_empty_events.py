"""The Overview on a store with orders but no events: the tiles about one event say what to load instead
of naming a placeholder event ("Event event coverage", issue 14)."""

from __future__ import annotations

from pathlib import Path

from app_helpers import metrics, problems
from conftest import AppFactory

from capi_core.ingest import ingest_file
from capi_core.store import Store

ORDERS = Path(__file__).resolve().parents[1] / "fixtures" / "orders" / "shopify_orders.csv"


def test_tiles_say_what_to_load_without_events(open_app: AppFactory, tmp_path: Path) -> None:
    db = tmp_path / "orders-only.duckdb"
    with Store(db) as store:
        ingest_file(store, ORDERS, "orders")
    app = open_app("pages/overview.py", db=db)
    assert problems(app) == []
    labels = list(metrics(app))
    assert "Event coverage — load Pixel and server events to see it" in labels
    assert "Estimated EMQ — load server events to see it" in labels
    assert not any(label.startswith("Event event") or "Event estimated" in label for label in labels)
