"""capi_core never imports streamlit (STYLE practice 1), checked in a clean interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.source_lines import lines_matching

CORE_MODULES = [
    "capi_core.cli", "capi_core.ingest", "capi_core.report", "capi_core.diagnostics", "capi_core.demo_store",
    "capi_core.dashboard_api",
]  # fmt: skip


def test_core_does_not_import_streamlit() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE_MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'streamlit', 'plotly'})\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_core_module_imports_streamlit_even_lazily() -> None:
    """A lazy ``import streamlit`` inside a function would pass the test above: read every source."""
    import ast
    from pathlib import Path

    core = Path(__file__).resolve().parents[2] / "capi_core"
    offenders = []
    for source in sorted(core.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] in {"streamlit", "plotly"} for n in names):
                offenders.append(f"{source.relative_to(core)}:{node.lineno}")
    assert offenders == []


def test_settings_are_read_from_the_environment_in_one_place() -> None:
    """``capi_core.config`` is the one reader of environment variables (issue 15 case 4): a module that
    reads one itself would skip the secrets file and the flags (handing the whole environment on to a
    child process is not a read)."""
    read = re.compile(r"os\.getenv\(|os\.environ\.get\(|os\.environ\[|environ\.get\(")
    offenders = lines_matching(read, owner="config.py")
    assert offenders == []


def _import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Module -> the project modules it imports at run time, anywhere in its body (a lazy import inside a
    function is an edge too; an import under ``if TYPE_CHECKING:`` is not: it never runs)."""
    import ast

    files = {}
    for package in packages:
        for source in (root / package).rglob("*.py"):
            parts = source.relative_to(root).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = source
    graph: dict[str, set[str]] = {}
    for name, source in files.items():
        tree = ast.parse(source.read_text(encoding="utf-8"))
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        edges = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names if alias.name in files}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    edges.add(full if full in files else node.module)
        graph[name] = {edge for edge in edges if edge in files and edge != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles() -> None:
    """No two project modules import each other, directly or round a longer loop (issue 15 case 5)."""
    root = Path(__file__).resolve().parents[2]
    graph = _import_graph(root, ("capi_core", "pages"))
    assert len(graph) > 50 and "capi_core.derived" in graph["capi_core.store"]
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
