"""The Spark engine (placeholder until the scale-out feature lands)."""

from __future__ import annotations

from capi_core.errors import InputError
from capi_core.store import Store


def open_spark_store(*, remote: str | None, location: str | None) -> Store:
    """A store whose queries run on Spark."""
    raise InputError("the Spark engine is not available in this build", hint="use --engine duckdb")
