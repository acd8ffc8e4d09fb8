"""The seconds-or-milliseconds threshold is ``canonical.EPOCH_MS_THRESHOLD``: the ingest SQL (DuckDB and
Spark) cannot import it, so every epoch comparison it makes is read here and must use the same value."""

from __future__ import annotations

import re
from importlib import resources

from capi_core.canonical import EPOCH_MS_THRESHOLD

# a comparison with a power of ten between 1e9 and 1e13 (`< 100000000000`, `>= 1e11`): the shape of a
# seconds-or-milliseconds threshold (other bounds, like year 9999 in milliseconds, are not powers of ten)
_COMPARED = re.compile(r"(?:<|>|<=|>=)\s*(10{9,13}|1e1[0-3]|1e9)\b", re.IGNORECASE)


def test_every_epoch_literal_in_the_sql_is_the_one_threshold() -> None:
    queries = resources.files("capi_core") / "queries"
    found: dict[str, list[float]] = {}
    for folder in (queries, queries / "spark", queries / "fragments"):
        for entry in folder.iterdir():
            if entry.name.endswith(".sql"):
                values = [float(v) for v in _COMPARED.findall(entry.read_text(encoding="utf-8"))]
                if values:
                    found[entry.name] = values
    assert found, "the ingest SQL compares epochs with the threshold somewhere"
    assert {name: [v for v in values if v != EPOCH_MS_THRESHOLD] for name, values in found.items()} == {
        name: [] for name in found
    }
