"""Query engines behind the ``Store`` interface: DuckDB (the default, ``capi_core.store``) and Spark.

Owns: the one way a front end opens the store its settings name (``open_configured_store``), the engine
settings the dashboard reads from its environment or Streamlit secrets (``resolve_engine``), and how an
engine and its location are described to a user (``EngineConfig.description``, never a token).

Must not: import pyspark or ``engines.spark`` at import time (DuckDB users need neither: it is loaded only
when a Spark store is opened). ``spark.py`` takes nothing from this module (``remote_host`` and the
settings live in ``capi_core.config``), so the two never import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from capi_core.config import ENV_ENGINE, ENV_SPARK_PATH, ENV_SPARK_REMOTE, DeskConfig, remote_host
from capi_core.errors import InputError
from capi_core.store import Store

ENGINES = ("duckdb", "spark")
#: The environment variables the dashboard reads (``capi-desk app`` sets them from its global options).
__all__ = [
    "ENGINES",
    "ENV_ENGINE",
    "ENV_SPARK_PATH",
    "ENV_SPARK_REMOTE",
    "EngineConfig",
    "open_configured_store",
    "remote_host",
    "resolve_engine",
]


@dataclass(frozen=True)
class EngineConfig:
    """Which engine answers the queries and, for Spark, where its tables are and which cluster reads them.

    ``spark_remote`` may carry a token (``sc://host:443/;token=...``): it is passed to Spark and never
    shown; ``repr`` hides it so a logged config cannot leak it.
    """

    name: str = "duckdb"
    spark_path: str | None = None
    spark_remote: str | None = None

    def __repr__(self) -> str:
        remote = "None" if self.spark_remote is None else repr(remote_host(self.spark_remote))
        return f"EngineConfig(name={self.name!r}, spark_path={self.spark_path!r}, spark_remote={remote})"

    @property
    def is_spark(self) -> bool:
        return self.name == "spark"

    def description(self) -> str:
        """One line for a user: the engine and where it reads (a remote shown as host and port only)."""
        if not self.is_spark:
            return "DuckDB"
        where = f"Spark Connect {remote_host(self.spark_remote)}" if self.spark_remote else "local session"
        return f"Spark ({where}) over {_without_credentials(self.spark_path or '')}"


def _without_credentials(location: str) -> str:
    """A Parquet location as shown to a user: ``scheme://user:secret@bucket/...`` loses the userinfo."""
    parts = urlsplit(location)
    if parts.scheme and "@" in parts.netloc:
        return location.replace(parts.netloc, parts.netloc.rsplit("@", 1)[-1], 1)
    return location


def engine_name(config: DeskConfig) -> str:
    """The engine ``config`` names (``duckdb`` when none); InputError for any other name (named only when
    it is a plain word: other text may be a token)."""
    name = (config.engine or "duckdb").lower()
    if name not in ENGINES:
        shown = f" {name!r}" if name.isalpha() and len(name) <= 20 else ""
        raise InputError(
            f"unknown engine{shown}",
            hint=f"set {ENV_ENGINE} (or [engine] name in secrets) to duckdb or spark, or pass --engine",
        )
    return name


def resolve_engine(
    env: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> EngineConfig:
    """The engine settings from the environment, each falling back to the secrets' ``[engine]`` table
    (read through ``config.DeskConfig``).

    ``env`` (``os.environ`` when None): ``CAPI_DESK_ENGINE`` (``duckdb`` | ``spark``),
    ``CAPI_DESK_SPARK_PATH``, ``SPARK_REMOTE``;
    ``secrets``: the ``[engine]`` table (``name``, ``spark_path``, ``spark_remote``). The environment wins
    per setting (``capi-desk app --engine spark`` overrides a secrets file); nothing set means DuckDB.
    Raises InputError for an unknown engine, Spark without a location, or a remote that is not ``sc://``
    (the value is not repeated: it may carry a token).
    """
    config = DeskConfig.load({"engine": secrets} if secrets else None, env=env)
    name = engine_name(config)
    if name == "duckdb":
        return EngineConfig()
    path, remote = config.spark_path, config.remote()
    if not path:
        raise InputError(
            "the Spark engine needs the location of its tables",
            hint=f"set {ENV_SPARK_PATH} (or [engine] spark_path in secrets) to the folder "
            "`capi-desk export-spark --to DIR` wrote, or table:CATALOG.SCHEMA",
        )
    if remote and not remote.startswith("sc://"):
        raise InputError(
            "the Spark remote is not a Spark Connect URL",
            hint=f"set {ENV_SPARK_REMOTE} (or [engine] spark_remote) like sc://host:15002",
        )
    return EngineConfig("spark", path, remote)


def open_configured_store(
    config: EngineConfig,
    db: str | Path | None = None,
    *,
    read_only: bool = False,
    create: bool = True,
    wait: float = 0.0,
    on_wait: Callable[[float], None] | None = None,
    on_rebuild: Callable[[str], None] | None = None,
) -> Store:
    """The store ``config`` names: the DuckDB file ``db`` or, for Spark, its tables (read-only).

    A Spark config without a remote leaves the choice to ``engines.spark`` (``$SPARK_REMOTE``, else a
    local session), as the CLI always did. ``create=False``: a missing DuckDB file is an InputError.
    ``wait`` / ``on_wait``: see ``Store`` (a DuckDB file another process holds); ``on_rebuild``: see
    ``Store`` (derived tables rebuilt after an upgrade).
    """
    if config.is_spark:
        from capi_core.engines.spark import open_spark_store

        return open_spark_store(remote=config.spark_remote, location=config.spark_path)
    if db is None:
        raise InputError("no store file given", hint="pass --db FILE or set CAPI_DESK_DB")
    return Store(db, read_only=read_only, create=create, wait=wait, on_wait=on_wait, on_rebuild=on_rebuild)
