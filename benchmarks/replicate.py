"""Grow an ingested store by replicating its shop inside DuckDB, for the 10-million-event report target.

Generating and ingesting 10 M events through the readers would measure the readers again and take long;
the report only needs a realistic store of that size. Each replica ``r`` (1 .. factor-1) is a copy of
every ``events`` and ``truth`` row with the identifying values suffixed ``~r``: event_id, order_id, the
dedup fallback keys (fbp, fbc, external_id) and the hashed em / ph on events; truth_id, raw_id and the
same keys on truth; and the fingerprint (the primary key). Times, names, values and statuses are kept.
So every replica is an independent shop on the same dates: the same dedup windows, pairs, defects and
per-order verdicts, ``factor`` times over, and per-day aggregates ``factor`` times larger. The dedup
model (``copy_verdicts``) is then recomputed over the whole store, as an ingest would.

All values are bound; column names come only from ``EVENT_COLUMNS`` / ``TRUTH_COLUMNS``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from capi_core import derived
from capi_core.models import EVENT_COLUMNS, TRUTH_COLUMNS
from capi_core.queries import quote_ident
from capi_core.store import Store

EVENT_SUFFIXED = ("fingerprint", "event_id", "order_id", "fbp", "fbc", "external_id", "em", "ph")
TRUTH_SUFFIXED = ("fingerprint", "truth_id", "raw_id", "fbp", "fbc", "external_id", "em", "ph")


def replica_sql(table: str, columns: dict[str, str], suffixed: tuple[str, ...]) -> str:
    """``insert ... select`` that adds replicas 1 .. $factor-1 of every row of ``table``."""
    names = list(columns)
    target = quote_ident(table, ["events", "truth"])
    exprs = [
        # null || text is null in SQL, so absent ids stay absent.
        f"t.{quote_ident(c, names)} || '~' || cast(r.i as varchar)"
        if c in suffixed
        else f"t.{quote_ident(c, names)}"
        for c in names
    ]
    cols = ", ".join(quote_ident(c, names) for c in names)
    return (
        f"insert into {target} ({cols})\n"  # noqa: S608 - identifiers from the column allow-lists only
        f"select {', '.join(exprs)}\n"
        f"from {target} as t\n"
        "cross join (select range as i from range(1, $factor)) as r"
    )


def count_events(db: Path) -> int:
    """Rows in ``events`` of the store at ``db``."""
    with Store(db, read_only=True) as store:
        return int(store.query("count events", "select count(*) from events").scalar())


def replicate(db: Path, factor: int) -> dict[str, Any]:
    """Multiply the store's events and truth by ``factor`` and recompute the dedup model."""
    with Store(db) as store:
        with store.transaction() as tx:
            for table, columns, suffixed in (
                ("events", EVENT_COLUMNS, EVENT_SUFFIXED),
                ("truth", TRUTH_COLUMNS, TRUTH_SUFFIXED),
            ):
                tx.execute(f"replicate {table}", replica_sql(table, columns, suffixed), {"factor": factor})
        start = time.perf_counter()
        with store.transaction() as tx:
            derived.refresh(tx)
        derive_s = time.perf_counter() - start
        events = int(store.query("count events", "select count(*) from events").scalar())
        truth = int(store.query("count truth", "select count(*) from truth").scalar())
    return {"events": events, "truth": truth, "derive_s": derive_s}
