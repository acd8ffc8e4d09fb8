"""The project's own source lines, for tests that forbid a pattern outside the one module that owns it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lines_matching(
    pattern: re.Pattern[str], *, owner: str, folders: tuple[str, ...] = ("capi_core", "pages")
) -> list[str]:
    """``path:line`` of every line of the Python under ``folders`` that ``pattern`` finds, except in the
    file named ``owner`` (the one place the pattern belongs)."""
    return [
        f"{source.relative_to(ROOT)}:{number}"
        for folder in folders
        for source in sorted((ROOT / folder).rglob("*.py"))
        if source.name != owner
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
