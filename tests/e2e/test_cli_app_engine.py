"""`capi-desk app` passes the global engine options to the dashboard through its environment (issue 6);
the streamlit process is not started: ``subprocess.call`` is replaced by a recorder."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from capi_core import cli

TOKEN = "tok-xyz-secret"


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def record(command: list[str], env: dict[str, str]) -> int:
        calls.append({"command": command, "env": env})
        return 0

    monkeypatch.setattr(subprocess, "call", record)  # the one capi_core.cli.main calls
    for name in ("CAPI_DESK_ENGINE", "CAPI_DESK_SPARK_PATH", "SPARK_REMOTE"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_app_passes_spark_options_by_environment(launched: list[dict[str, Any]], tmp_path: Path) -> None:
    remote = f"sc://h:443/;token={TOKEN}"
    args = ["--db", str(tmp_path / "s.duckdb"), "--engine", "spark", "--spark-path", "/lake"]
    assert cli.main([*args, "--spark-remote", remote, "app"]) == 0
    (call,) = launched
    assert call["env"]["CAPI_DESK_ENGINE"] == "spark"
    assert call["env"]["CAPI_DESK_SPARK_PATH"] == "/lake"
    assert call["env"]["SPARK_REMOTE"] == remote
    assert not any(TOKEN in part for part in call["command"]), "the remote stays off the command line"


def test_app_on_duckdb_sets_no_engine(launched: list[dict[str, Any]], tmp_path: Path) -> None:
    assert cli.main(["--db", str(tmp_path / "s.duckdb"), "app"]) == 0
    env = launched[0]["env"]
    assert env["CAPI_DESK_DB"] == str(tmp_path / "s.duckdb")
    assert "CAPI_DESK_ENGINE" not in env and "SPARK_REMOTE" not in env


def test_app_spark_without_path_fails_before_starting(
    launched: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--engine", "spark", "app"]) == 2
    assert launched == []
    assert "the Spark engine needs --spark-path" in capsys.readouterr().err
