"""Readers for generic_csv formats (placeholder until implemented)."""

from __future__ import annotations

from typing import Any

READERS: list[Any] = []
