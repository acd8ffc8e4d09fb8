"""The Spark column of the benchmark: the same report on local Spark (2 cores) next to DuckDB.

For each size (orders of the demo shop), the DuckDB store is taken from ``benchmarks/out/stores`` when
``run.py`` left one there (else built with ``capi_core.demo_store.build_demo_store``), exported to Parquet
(``capi-desk export-spark``), and measured:

* ``export s``: DuckDB ``COPY`` of the canonical tables to Parquet (once per dataset);
* ``session s``: starting a local Spark session (``local[2]``, 4 shuffle partitions, no UI);
* ``derived s``: building the derived tables on Spark (dedup model, signal checks, reconciliation links),
  which DuckDB does inside every ingest;
* ``report s``: ``build_report`` on Spark, and on DuckDB for comparison (same process, warm);
* ``equal``: the two report JSONs are equal (floats to 1e-9), as in tests/core/test_spark_parity.py.

Usage: ``python benchmarks/spark.py [--sizes 10000] [--out benchmarks/out] [--master local[2]]``.
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
sys.path[:0] = [str(HERE.parent)]


def _store_for(size: int, out: Path) -> Path:
    """A store of ``size`` orders with this version's schema and derived tables: a copy of run.py's cached
    store (opened writable, so it migrates and rebuilds its derived tables), else a new demo store."""
    target = out / "spark" / f"orders-{size}.duckdb"
    cached = sorted((out / "stores").glob(f"orders-{size}-seed-42-demo-*.duckdb"))
    complete = [path for path in cached if Path(f"{path}.complete").exists()]
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        if complete:
            shutil.copyfile(complete[-1], target)
        else:
            from capi_core.demo_store import build_demo_store

            build_demo_store(target, orders=size)
    from capi_core.store import Store

    with Store(target):  # migrate + rebuild derived tables when their SQL changed
        pass
    return target


def _equal(duck: Any, spark: Any) -> bool:
    if isinstance(duck, dict) and isinstance(spark, dict):
        return duck.keys() == spark.keys() and all(_equal(duck[k], spark[k]) for k in duck)
    if isinstance(duck, list) and isinstance(spark, list):
        return len(duck) == len(spark) and all(_equal(a, b) for a, b in zip(duck, spark, strict=True))
    if isinstance(duck, float) or isinstance(spark, float):
        return (
            isinstance(duck, int | float)
            and isinstance(spark, int | float)
            and abs(duck - spark) <= 1e-9 * max(1.0, abs(duck))
        )
    return bool(duck == spark)


def measure(size: int, out: Path, master: str) -> dict[str, Any]:
    """One size: export, session, derived tables and report on Spark; the report on DuckDB."""
    from capi_core.engines.export import export_store
    from capi_core.engines.spark import open_spark_store, spark_session
    from capi_core.report import build_report
    from capi_core.store import Store

    store_path = _store_for(size, out)
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
        session = spark_session(master=master)
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
    row["equal"] = _equal(duck_report, spark_report)
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
    args = parser.parse_args()
    rows = [measure(int(size), args.out, args.master) for size in args.sizes.split(",")]
    text = _markdown(rows, args.master)
    print(text)
    (args.out / "spark").mkdir(parents=True, exist_ok=True)
    with (args.out / "results_spark.md").open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    (args.out / "results_spark.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0 if all(r["equal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
