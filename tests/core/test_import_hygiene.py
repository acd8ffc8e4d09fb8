"""capi_core never imports streamlit (STYLE practice 1), checked in a clean interpreter."""

from __future__ import annotations

import subprocess
import sys

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
