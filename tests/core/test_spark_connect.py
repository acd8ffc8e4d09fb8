"""The report over Spark Connect equals the report on DuckDB: a real Spark Connect server on loopback
(``org.apache.spark.sql.connect.service.SparkConnectServer`` from the jars pyspark ships, ``local[2]``),
the demo store exported to Parquet, read through ``open_spark_store(remote="sc://127.0.0.1:PORT")`` and
through the CLI a new user runs (``capi-desk --engine spark --spark-remote ... --spark-path DIR report``).

Equal means the same JSON: every count, id and list equal, floats to 1e-9 (as in test_spark_parity.py).
The clients run in subprocesses: pyspark keeps one kind of session per process (a Connect client sets
``SPARK_CONNECT_MODE_ENABLED`` for the whole process), and the other Spark tests of the same pytest
process use local sessions.

Skipped with the reason when Java, pyspark's Connect client or its Connect server jar is missing, or when
the server does not start within ``START_TIMEOUT`` seconds (its log's last lines are in the skip reason).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capi_core.demo_store import build_demo_store
from capi_core.engines.export import export_store
from capi_core.report import build_report
from capi_core.report_compare import differences
from capi_core.store import Store

pytestmark = pytest.mark.slow

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_TIMEOUT = 240  # a JVM on 2 busy cores takes 15-60 s
CLIENT_TIMEOUT = 1200  # opening the store builds the derived tables on the server
TOKEN = "connect-test-secret-token-7f3a"
ROOT = Path(__file__).resolve().parents[2]
#: Variables that would turn a child process into another kind of Spark client than the test means.
_SPARK_CLIENT_VARS = ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE", "SPARK_API_MODE")


def _spark_home() -> Path | None:
    try:
        import pyspark
    except ImportError:
        return None
    return Path(pyspark.__file__).parent


def _skip_reason() -> str | None:
    if shutil.which("java") is None:
        return "Java is not installed (apt-get install openjdk-17-jre-headless)"
    home = _spark_home()
    if home is None:
        return "pyspark is not installed (pip install -e '.[spark]')"
    try:
        import grpc  # noqa: F401  (the Connect client's transport)
    except ImportError:
        return "pyspark's Spark Connect client is not installed (pip install 'pyspark[connect]')"
    if not list((home / "jars").glob("spark-connect_*.jar")):
        return f"no Spark Connect server jar under {home / 'jars'}"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _child_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _SPARK_CLIENT_VARS}
    env.pop("SPARK_CONNECT_AUTHENTICATE_TOKEN", None)  # the test server takes no token
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the server's process group (spark-submit and its JVM), the way it was started."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Spark Connect server on 127.0.0.1 (a free port, no token) for the module; stopped at its end."""
    reason = _skip_reason()
    if reason:
        pytest.skip(f"Spark Connect not tested: {reason}")
    home = _spark_home()
    assert home is not None
    port = _free_port()
    log_path = tmp_path_factory.mktemp("connect-server") / "server.log"
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        SERVER_CLASS,
        "--name",
        "capi-desk-connect-test",
        "--master",
        "local[2]",
        "--conf",
        "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf",
        f"spark.connect.grpc.binding.port={port}",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.sql.shuffle.partitions=4",
        "--conf",
        "spark.driver.memory=1g",
    ]
    env = {**_child_env(), "SPARK_HOME": str(home)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
                why = "exited" if process.poll() is not None else f"not up after {START_TIMEOUT} s"
                pytest.skip(f"the Spark Connect server did not start ({why}): {tail[-400:]}")
            time.sleep(1)
        yield f"sc://127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def demo_parquet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The demo store exported to Parquet, and its report on DuckDB (the expected JSON)."""
    folder = tmp_path_factory.mktemp("connect-demo")
    build_demo_store(folder / "demo.duckdb")
    with Store(folder / "demo.duckdb") as store:
        export_store(store, folder / "parquet")
        expected = json.loads(build_report(store).model_dump_json())
    return folder / "parquet", expected


_API_CLIENT = """
import sys, warnings
warnings.simplefilter("ignore")
from capi_core.engines.spark import SparkStore, is_connect, open_spark_store
from capi_core.report import build_report

store = open_spark_store(remote=sys.argv[1], location=sys.argv[2])
assert isinstance(store, SparkStore) and is_connect(store.session), type(store)
with open(sys.argv[3], "w", encoding="utf-8") as out:
    out.write(build_report(store).model_dump_json())
"""


def _run(command: list[str], timeout: int = CLIENT_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=_child_env(), cwd=ROOT, check=False
    )


def _capi_desk() -> list[str]:
    script = Path(sys.executable).parent / "capi-desk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "capi_core"]


def test_open_spark_store_over_connect_equals_duckdb(
    connect_url: str, demo_parquet: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """``open_spark_store(remote=sc://...)`` in a fresh process: a Connect session, derived tables built
    on the server, and the demo report equal to DuckDB's."""
    folder, expected = demo_parquet
    out = tmp_path / "report.json"
    done = _run([sys.executable, "-c", _API_CLIENT, connect_url, str(folder), str(out)])
    assert done.returncode == 0, done.stderr[-2000:]
    actual = json.loads(out.read_text(encoding="utf-8"))
    assert expected["counts"]["total"] > 0
    assert differences(expected, actual) == []


def test_cli_report_over_connect_equals_duckdb(
    connect_url: str, demo_parquet: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The README's command for a new user with a Spark Connect endpoint gives DuckDB's report."""
    folder, expected = demo_parquet
    out = tmp_path / "report.json"
    done = _run(
        [
            *_capi_desk(),
            "--engine",
            "spark",
            "--spark-remote",
            connect_url,
            "--spark-path",
            str(folder),
            "report",
            "--out",
            str(out),
        ]
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert differences(expected, json.loads(out.read_text(encoding="utf-8"))) == []


def test_unreachable_endpoint_fails_fast_without_showing_the_token(
    demo_parquet: tuple[Path, dict[str, Any]],
) -> None:
    """A URL carrying a token, pointed at a port nobody listens on: exit 2 with one line naming the
    problem within about half a minute (pyspark alone would retry for 10 minutes), and the token in
    neither stdout nor stderr. Needs no server, only the Connect client."""
    reason = _skip_reason()
    if reason:
        pytest.skip(f"Spark Connect not tested: {reason}")
    folder, _ = demo_parquet
    remote = f"sc://127.0.0.1:{_free_port()}/;token={TOKEN}"
    started = time.monotonic()
    done = _run(
        [*_capi_desk(), "--engine", "spark", "--spark-remote", remote, "--spark-path", str(folder), "report"],
        timeout=300,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr[-2000:]
    assert TOKEN not in done.stdout + done.stderr
    message = done.stderr.strip()
    assert "could not open the Spark Connect endpoint" in message and "\n" not in message
    assert elapsed < 180
