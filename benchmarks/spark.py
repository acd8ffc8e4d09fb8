"""The Spark column of the benchmark: the same report on local Spark (2 cores) next to DuckDB.

For each size (orders of the demo shop), the DuckDB store is taken from ``benchmarks/out/stores`` when
``run.py`` left one there (else built with ``capi_core.demo_store.build_demo_store``); a size above
``--base-orders`` is that base store grown by ``benchmarks/replicate.py`` (independent copies of the shop,
as run.py's ``--events-only`` does), so 1 M orders need no hour-long ingest. The store is exported to
Parquet (``capi-desk export-spark``) and measured:

* ``export s``: DuckDB ``COPY`` of the canonical tables to Parquet (once per dataset);
* ``session s``: starting a local Spark session (``local[2]``, 4 shuffle partitions, no UI);
* ``derived s``: building the derived tables on Spark (dedup model, signal checks, reconciliation links),
  which DuckDB does inside every ingest;
* ``report s``: ``build_report`` on Spark, and on DuckDB for comparison (same process, warm);
* ``equal``: the two report JSONs are equal (floats to 1e-9), as in tests/core/test_spark_parity.py.

Usage: ``python benchmarks/spark.py [--sizes 10000,1000000] [--base-orders 100000] [--out benchmarks/out]
[--master local[2]] [--driver-memory 2g]``.
Results are printed as Markdown and appended to ``<out>/results_spark.md`` (raw: ``results_spark.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]


def _store_for(size: int, out: Path, base_orders: int) -> Path:
    """A store of ``size`` orders with this version's schema and derived tables: a copy of run.py's cached
    store (opened writable, so it migrates and rebuilds its derived tables), else a new demo store; above
    ``base_orders``, the base store replicated ``size // base_orders`` times."""
    target = out / "spark" / f"orders-{size}.duckdb"
    done = Path(f"{target}.complete")
    if done.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    if size > base_orders:
        if size % base_orders:
            raise SystemExit(f"--sizes {size} is not a multiple of --base-orders {base_orders}")
        shutil.copyfile(_store_for(base_orders, out, base_orders), target)
        import replicate

        replicate.replicate(target, size // base_orders)
    else:
        cached = sorted((out / "stores").glob(f"orders-{size}-seed-42-demo-*.duckdb"))
        complete = [path for path in cached if Path(f"{path}.complete").exists()]
        if complete:
            shutil.copyfile(complete[-1], target)
        else:
            from capi_core.demo_store import build_demo_store

            build_demo_store(target, orders=size)
    from capi_core.store import Store

    with Store(target):  # migrate + rebuild derived tables when their SQL changed
        pass
    done.write_text("complete\n", encoding="utf-8")
    return target


def measure(size: int, out: Path, master: str, base_orders: int, driver_memory: str) -> dict[str, Any]:
    """One size: export, session, derived tables and report on Spark; the report on DuckDB."""
    from capi_core.engines.export import export_store
    from capi_core.engines.spark import open_spark_store, spark_session
    from capi_core.report import build_report
    from capi_core.report_compare import differences
    from capi_core.store import Store

    store_path = _store_for(size, out, base_orders)
    parquet = out / "spark" / f"parquet-{size}"
    shutil.rmtree(parquet, ignore_errors=True)
    row: dict[str, Any] = {"orders": size}
    with Store(store_path) as duck:
        row["events"] = int(duck.query("events", "select count(*) from events").scalar())
        start = time.perf_counter()
        export_store(duck, parquet)
        row["export_s"] = time.perf_counter() - start
        start = time.perf_counter()
        duck_report = json.loads(build_report(duck).model_dump_json())
        row["duckdb_report_s"] = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        session = spark_session(master=master, conf={"spark.driver.memory": driver_memory})
    row["session_s"] = time.perf_counter() - start
    try:
        start = time.perf_counter()
        on_spark = open_spark_store(remote=None, location=str(parquet), session=session)
        row["derived_s"] = time.perf_counter() - start
        start = time.perf_counter()
        spark_report = json.loads(build_report(on_spark).model_dump_json())
        row["spark_report_s"] = time.perf_counter() - start
        on_spark.close()
    finally:
        session.stop()
    for engine, report in (("duckdb", duck_report), ("spark", spark_report)):
        path = out / "spark" / f"report-{size}-{engine}.json"
        path.write_text(json.dumps(report, indent=1, sort_keys=True), encoding="utf-8")
    found = differences(duck_report, spark_report)
    row["equal"] = not found
    row["differences"] = found[:50]
    return row


def _markdown(rows: list[dict[str, Any]], master: str) -> str:
    lines = [
        f"# Spark column ({master}; {platform.platform()}, {time.strftime('%Y-%m-%d %H:%M')})",
        "",
        "| orders | events | export s | session s | derived s (Spark) | report s (Spark) | report s (DuckDB) "
        "| equal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['orders']:,} | {r['events']:,} | {r['export_s']:.1f} | {r['session_s']:.1f} | "
            f"{r['derived_s']:.1f} | {r['spark_report_s']:.1f} | {r['duckdb_report_s']:.1f} | "
            f"{'yes' if r['equal'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated order counts (default 10000)")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--master", default="local[2]", help="Spark master of the local session")
    parser.add_argument(
        "--base-orders", type=int, default=100_000, help="larger sizes replicate this store (default 100000)"
    )
    parser.add_argument("--driver-memory", default="2g", help="JVM heap of the local Spark session")
    args = parser.parse_args()
    rows = [
        measure(int(size), args.out, args.master, args.base_orders, args.driver_memory)
        for size in args.sizes.split(",")
    ]
    text = _markdown(rows, args.master)
    print(text)
    for row in rows:
        for line in row["differences"]:
            print(f"{row['orders']:,} orders differ at {line}")
    (args.out / "spark").mkdir(parents=True, exist_ok=True)
    with (args.out / "results_spark.md").open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    (args.out / "results_spark.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0 if all(r["equal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
