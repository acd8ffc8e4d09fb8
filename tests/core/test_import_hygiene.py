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
