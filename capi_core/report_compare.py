"""Where two reports differ: the one definition of "the same report" the engine parity checks use.

Owns: ``differences`` over two report JSON values (``json.loads(report.model_dump_json())``), used by the
Spark parity tests and ``benchmarks/spark.py``. Equal means the same keys, list lengths, ids, verdicts
and texts, and floats within ``TOLERANCE`` (relative or absolute): two engines may add a column of
doubles in another order.
"""

from __future__ import annotations

import math
from typing import Any

#: How far apart two floats may be and still be the same figure.
TOLERANCE = 1e-9


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every place (a JSON path) where ``actual`` differs from ``expected``; empty when they are equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{path}: keys {sorted(expected.keys() ^ actual.keys())}"]
        return [d for key in expected for d in differences(expected[key], actual[key], f"{path}/{key}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} items expected, {len(actual)} found"]
        pairs = enumerate(zip(expected, actual, strict=True))
        return [d for i, (a, b) in pairs for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(expected, float) or isinstance(actual, float):
        same = (
            isinstance(expected, int | float)
            and isinstance(actual, int | float)
            and math.isclose(expected, actual, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
        )
        return [] if same else [f"{path}: {expected!r} != {actual!r}"]
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]
