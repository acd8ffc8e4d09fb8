"""The ``capi-desk`` command line: ``main`` is the entry point (``capi-desk = "capi_core.cli:main"``).

Layout: ``main`` (the parser, the core commands: ingest, report, demo, app, batches, undo, rebuild),
``common`` (what the subcommand modules share: exit codes, severities, ``open_store``), ``output`` (tables
and progress on the terminal) and one module per family of subcommands, each with ``register(sub)``:
``contracts``, ``push`` (push and sandbox), ``drift``, ``meta``, ``leads``, ``url_keys``, ``truth``,
``inspect``, ``spark``. The subcommand modules import from ``common``, never from ``main``.
"""

from __future__ import annotations

from capi_core.cli.main import main

__all__ = ["main"]
