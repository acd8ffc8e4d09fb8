"""The ``capi-desk`` command (placeholder until the CLI lands)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    return 0
