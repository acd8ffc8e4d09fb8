"""Subcommands of `capi-desk` added by this module (placeholder: filled in by its feature)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to the `capi-desk` parser."""
