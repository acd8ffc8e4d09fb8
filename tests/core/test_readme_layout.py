"""The README's floor plan matches the tree (issue 15): its Layout block names every package and every
module at the top of ``capi_core/``, and the table "Where a figure of the report is computed" names
figures the report shows and files that exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "capi_core"


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(title)
    end = text.find("\n#", start + len(title))
    return text[start:end]


def _layout_block() -> str:
    return _section("## Layout").split("```")[1]


def test_the_layout_names_every_package_and_top_level_module() -> None:
    block = _layout_block()
    packages = sorted(p.parent.name for p in CORE.glob("*/__init__.py"))
    modules = sorted(p.name for p in CORE.glob("*.py"))
    assert [name for name in packages if f"  {name}/" not in block] == []
    assert [name for name in modules if not re.search(rf"(?<![\w/]){re.escape(name)}\b", block)] == []
    for top in ("app.py", "pages/", "ui/", "capi_core/", "benchmarks/", "tests/"):
        assert re.search(rf"^{re.escape(top)}", block, re.M), top
        assert (ROOT / top).exists(), top


def test_every_name_in_the_layout_exists() -> None:
    block = _layout_block()
    named = set(re.findall(r"(?<![\w/.])([a-z_]+(?:\.py|/))", block))
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    paths = [Path(line) for line in tracked.stdout.splitlines()]
    names = {path.name for path in paths} | {f"{folder.name}/" for path in paths for folder in path.parents}
    assert sorted(n for n in named if n not in names) == []


def test_the_figure_table_names_what_the_report_shows_and_files_that_exist() -> None:
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in _section("### Where a figure of the report is computed").splitlines()
        if line.startswith("| ") and not line.startswith("| the report says")
    ]
    assert len(rows) >= 10
    report_text = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [*sorted((CORE / "report").glob("*.py")), CORE / "weekly_review.py"]
    )
    missing_names = [name for name, _, _ in rows if name not in report_text]
    missing_files = []
    for _, sql, python in rows:
        for path in re.findall(r"`([^`]+\.sql)`", sql):
            if not list((CORE / "queries").glob(path)):
                missing_files.append(path)
        for path in re.findall(r"`([\w/]+(?:\.py|/))`", python):
            if not (CORE / path).exists():
                missing_files.append(path)
    assert missing_names == []
    assert missing_files == []
