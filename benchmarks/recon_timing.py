"""Reconciliation timing: derived refresh, every scoped reconcile query and the RECON checks on one store.

Builds a synthetic store directly in SQL (no readers, no ingest: seconds, not minutes) with ``--orders``
orders and about ``--events`` events, then times ``derived.refresh`` (whole, and per derived table),
``reconcile_summary``, ``record_verdicts``, ``phantoms``, ``daily``, ``weekly``, ``waterfall``,
``join_key`` (unscoped and on one week) and ``run_checks`` over the ``RECON_*`` codes. Each figure is the
best of ``--repeat`` runs; the RECON checks run on a cold cache each time (the summary they share is
cached per store and batches signature).

The Purchase copies per order (seeded, deterministic): 85 % a browser + server pair sharing the order
number as event_id (server also carries ``order_id``), 5 % browser ``purchase_<n>`` + server ``<n>`` (not
merged), 3 % a browser copy without event_id (the order's fbp) + a server copy, 4 % browser only, 3 %
nothing; 1 % of N phantom server copies; the rest of the events are PageView / AddToCart /
InitiateCheckout. Statuses (by 7n mod 100): 92 % paid, 3 % refunded, 3 % pending, 2 % cancelled.

Usage: ``python benchmarks/recon_timing.py [--orders 100000] [--events 1000000] [--repeat 3]
[--db PATH]`` (default: an in-memory store).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from capi_core import derived  # noqa: E402
from capi_core.diagnostics import CHECKS, recon_checks, run_checks  # noqa: E402
from capi_core.metrics import reconcile as rc  # noqa: E402
from capi_core.models import Scope  # noqa: E402
from capi_core.queries import load_query, quote_ident  # noqa: E402
from capi_core.store import Store  # noqa: E402

T0 = "2026-09-01 00:00:00"
DAYS = 60

_TRUTH = """
insert into truth (batch_id, fingerprint, occurrence, line_no, kind, truth_id, raw_id, created_at, status,
  value, subtotal, currency, em, fbp)
select
  1, md5('order' || i), 1, i, 'order', cast(i as varchar), '#' || cast(i as varchar),
  timestamp '{t0}' + to_seconds(cast(i as bigint) * {span} // $orders),
  case when i * 7 % 100 < 92 then 'paid' when i * 7 % 100 < 95 then 'refunded'
    when i * 7 % 100 < 98 then 'pending' else 'cancelled' end,
  20.0 + i % 180, 18.0 + i % 180, 'USD', sha256('buyer' || cast(i % ($orders // 2) as varchar)),
  case when i % 2 = 0 then 'fb.1.1756000000000.' || cast(i as varchar) end
from range(1, $orders + 1) r(i)
"""

# one row per (order, copy kind); kinds: b = browser, s = server, v = browser purchase_<n>, k = keyless
_PURCHASES = """
insert into events (batch_id, fingerprint, occurrence, line_no, channel, pixel_id, event_name, event_id,
  event_time, sent_at, received_at, value, currency, order_id, fbp, em, consent, test_event_code)
with orders as (
  select i, timestamp '{t0}' + to_seconds(cast(i as bigint) * {span} // $orders) as created,
    i % 100 as bucket, 20.0 + i % 180 as value
  from range(1, $orders + 1) r(i)
),
planned as (
  select i, created, value, 'b' as kind from orders where bucket < 85 or bucket between 95 and 98
  union all select i, created, value, 's' from orders where bucket < 97
  union all select i, created, value, 'v' from orders where bucket between 85 and 89
  union all select i, created, value, 'k' from orders where bucket between 90 and 92
)
select
  2, md5('p' || kind || cast(i as varchar)), 1, i,
  case when kind = 's' then 'server' else 'browser' end,
  '111', 'Purchase',
  case kind when 'k' then null when 'v' then 'purchase_' || cast(i as varchar) else cast(i as varchar) end,
  created,
  created + case when kind = 's' then interval '40' second else interval '2' second end,
  created + case when kind = 's' then interval '40' second else interval '2' second end,
  value, 'USD',
  case when kind = 's' then '#' || cast(i as varchar) end,
  'fb.1.1756000000000.' || cast(i as varchar),
  case when kind = 's' then sha256('buyer' || cast(i % ($orders // 2) as varchar)) end,
  case when i % 50 = 0 then 'denied' else 'granted' end,
  null
from planned
union all
select
  2, md5('ghost' || cast(j as varchar)), 1, j, 'server', '111', 'Purchase', 'ghost' || cast(j as varchar),
  timestamp '{t0}' + to_seconds(cast(j as bigint) * {span} // ($orders // 100)),
  timestamp '{t0}' + to_seconds(cast(j as bigint) * {span} // ($orders // 100)),
  timestamp '{t0}' + to_seconds(cast(j as bigint) * {span} // ($orders // 100)),
  30.0, 'USD', null, 'fb.1.1756000000000.g' || cast(j as varchar), null, 'granted',
  case when j % 10 = 0 then 'TEST123' end
from range(1, $orders // 100 + 1) r(j)
"""

_FILLER = """
insert into events (batch_id, fingerprint, occurrence, line_no, channel, pixel_id, event_name, event_id,
  event_time, sent_at, received_at, fbp, consent)
select
  3, md5('f' || cast(j as varchar)), 1, j,
  case when j % 2 = 0 then 'browser' else 'server' end, '111',
  case j % 10 when 0 then 'AddToCart' when 1 then 'AddToCart' when 2 then 'InitiateCheckout'
    else 'PageView' end,
  'ev' || cast(j // 2 as varchar),
  timestamp '{t0}' + to_seconds(cast(j as bigint) * {span} // $filler),
  timestamp '{t0}' + to_seconds(cast(j as bigint) * {span} // $filler),
  timestamp '{t0}' + to_seconds(cast(j as bigint) * {span} // $filler),
  'fb.1.1756000000000.u' || cast(j // 20 as varchar), 'granted'
from range(1, $filler + 1) r(j)
"""

_BATCH = """
insert into batches values ($id, $source, 'synthetic', $name, $sha, 0, 0, 0, 0, 0, now(), 'bench')
"""


def build(store: Store, orders: int, events: int) -> int:
    """Fill ``store`` with the synthetic shop (module docstring); returns the number of events."""
    span = DAYS * 86400
    with store.transaction() as tx:
        for batch_id, source in ((1, "orders"), (2, "server"), (3, "browser")):
            name = f"synthetic-{source}"
            tx.execute("batch", _BATCH, {"id": batch_id, "source": source, "name": name, "sha": name})
        tx.execute("truth", _TRUTH.format(t0=T0, span=span), {"orders": orders})
        tx.execute("purchases", _PURCHASES.format(t0=T0, span=span), {"orders": orders})
        purchases = int(tx.execute("count", "select count(*) from events").scalar())
        filler = max(events - purchases, 0)
        if filler:
            tx.execute("filler", _FILLER.format(t0=T0, span=span), {"filler": filler})
    return int(store.query("count", "select count(*) from events").scalar())


def best(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def time_refresh(store: Store) -> dict[str, float]:
    """Seconds per derived table (in dependency order) and for ``derived.refresh`` as a whole."""
    out: dict[str, float] = {}
    with store.transaction() as tx:
        for table, query in derived.DERIVED_TABLES.items():
            name = quote_ident(table, list(derived.DERIVED_TABLES))
            start = time.perf_counter()
            tx.execute(f"drop {table}", f"drop table if exists {name}")
            tx.execute(f"derive {table}", f"create table {name} as\n{load_query(query)}")
            out[table] = time.perf_counter() - start
    start = time.perf_counter()
    with store.transaction() as tx:
        derived.refresh(tx)
    out["refresh (all)"] = time.perf_counter() - start
    return out


def main() -> None:
    """Build, time, print a table of seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default=":memory:")
    args = parser.parse_args()

    with Store(args.db) as store:
        start = time.perf_counter()
        n = build(store, args.orders, args.events)
        print(f"built {n} events, {args.orders} orders in {time.perf_counter() - start:.1f} s")
        timings: dict[str, float] = {f"refresh: {k}": v for k, v in time_refresh(store).items()}
        week = Scope(date_from=dt.date(2026, 9, 14), date_to=dt.date(2026, 9, 20))
        recon_codes = [c for c in CHECKS if c.startswith("RECON_")]

        def checks() -> None:
            recon_checks._SUMMARIES.clear()  # cold: the shared summary is part of the run
            run_checks(store, Scope(), recon_codes)

        for label, scope in (("all", Scope()), ("week", week)):
            calls: dict[str, Callable[[], Any]] = {
                "reconcile_summary": lambda s=scope: rc.reconcile_summary(store, s),
                "record_verdicts": lambda s=scope: rc.record_verdicts(store, s),
                "record_verdicts(flag)": lambda s=scope: rc.record_verdicts(store, s, flag="value_mismatch"),
                "phantoms": lambda s=scope: rc.phantoms(store, s),
                "daily": lambda s=scope: rc.daily(store, s),
                "weekly": lambda s=scope: rc.weekly(store, s),
                "waterfall": lambda s=scope: rc.waterfall(store, s),
                "join_key": lambda s=scope: rc.join_key(store, s),
            }
            for name, fn in calls.items():
                timings[f"{name} [{label}]"] = best(fn, args.repeat)
        timings["run_checks(RECON_*) [all]"] = best(checks, args.repeat)
        summary = rc.reconcile_summary(store, Scope())
        print(
            f"summary: key {summary.join_key} ({summary.join_match_rate:.3f}), truth {summary.truth_count}, "
            f"meta {summary.meta_count}, phantoms {summary.phantom_count}, verdicts {summary.verdicts}"
        )
    width = max(len(k) for k in timings)
    for name, seconds in timings.items():
        print(f"{name:<{width}}  {seconds:7.3f} s")


if __name__ == "__main__":
    main()
