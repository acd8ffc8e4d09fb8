"""The real headless browser for the e2e tests: Debian's chromium driven by playwright, skipped (with
what to install) where either is missing, and a free loopback port for the dashboard it opens."""

from __future__ import annotations

import shutil
import socket

import pytest

#: Chromium's switches for a container without a GPU, a sandbox or a network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]  # fmt: skip


def chromium_path() -> str:
    """The chromium executable; the test is skipped when it or the playwright package is missing."""
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[dev]')")
    return path


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
