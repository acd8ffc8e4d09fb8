"""Derived tables rebuilt inside the ingest / undo transaction: the per-copy dedup verdicts.

Meta's dedup model needs every copy of a key across all dates (a 48 h window can straddle any filter),
so it is computed once per change of the store, not per page view. Each entry is a query in
``capi_core/queries/`` whose result replaces one table.
"""

from __future__ import annotations

from capi_core.store import Transaction, load_query, quote_ident

#: derived table -> query that computes it, in dependency order.
DERIVED_TABLES: dict[str, str] = {
    "copy_verdicts": "dedup_model",
}


def refresh(tx: Transaction) -> None:
    """Recompute every derived table from the canonical tables."""
    for table, query in DERIVED_TABLES.items():
        name = quote_ident(table, list(DERIVED_TABLES))
        tx.execute(f"drop {table}", f"drop table if exists {name}")
        tx.execute(f"derive {table}", f"create table {name} as\n{load_query(query)}")
