"""The dashboard reads a push token from .streamlit/secrets.toml and hands it to capi_core."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "from capi_core.meta.graph_api import resolve_token\n"
    "import ui\n"
    "print(resolve_token(None, ui.secret('META_ACCESS_TOKEN')))\n"
)


def _probe(cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "META_ACCESS_TOKEN"}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def test_token_from_secrets(tmp_path: Path) -> None:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('META_ACCESS_TOKEN = "from-secrets"\n', "utf-8")
    assert _probe(tmp_path) == "from-secrets"


def test_no_secrets_file_means_no_token(tmp_path: Path) -> None:
    assert _probe(tmp_path) == "None"
