"""Engine settings (issue 6): environment over secrets, DuckDB by default, clear errors for bad values,
a token never in what is shown; ``open_configured_store`` opens what the settings name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from capi_core.engines import EngineConfig, open_configured_store, remote_host, resolve_engine, spark
from capi_core.errors import InputError
from capi_core.store import Store

TOKEN = "tok-123-secret"


def test_nothing_set_is_duckdb() -> None:
    assert resolve_engine({}, None) == EngineConfig()
    assert resolve_engine({}, {}).description() == "DuckDB"


def test_env_spark() -> None:
    config = resolve_engine(
        {"CAPI_DESK_ENGINE": "Spark", "CAPI_DESK_SPARK_PATH": " s3a://b/capi ", "SPARK_REMOTE": "sc://h:1"}
    )
    assert config == EngineConfig("spark", "s3a://b/capi", "sc://h:1")


def test_secrets_spark() -> None:
    secrets = {"name": "spark", "spark_path": "/lake", "spark_remote": "sc://cluster:15002"}
    assert resolve_engine({}, secrets) == EngineConfig("spark", "/lake", "sc://cluster:15002")


def test_env_wins_per_setting_over_secrets() -> None:
    secrets = {"name": "spark", "spark_path": "/from-secrets", "spark_remote": "sc://secrets:1"}
    env = {"CAPI_DESK_SPARK_PATH": "/from-env"}
    assert resolve_engine(env, secrets) == EngineConfig("spark", "/from-env", "sc://secrets:1")
    assert resolve_engine({"CAPI_DESK_ENGINE": "duckdb"}, secrets) == EngineConfig()


def test_blank_values_count_as_unset() -> None:
    assert resolve_engine({"CAPI_DESK_ENGINE": " "}, None) == EngineConfig()


def test_duckdb_ignores_spark_settings() -> None:
    assert resolve_engine({"CAPI_DESK_SPARK_PATH": "/x", "SPARK_REMOTE": "sc://h:1"}) == EngineConfig()


def test_unknown_engine() -> None:
    with pytest.raises(InputError, match="unknown engine 'hive'") as err:
        resolve_engine({"CAPI_DESK_ENGINE": "hive"})
    assert "duckdb or spark" in (err.value.hint or "")


def test_spark_without_location() -> None:
    with pytest.raises(InputError, match="location of its tables") as err:
        resolve_engine({"CAPI_DESK_ENGINE": "spark"})
    assert "CAPI_DESK_SPARK_PATH" in (err.value.hint or "")


def test_bad_remote_is_not_echoed() -> None:
    env = {
        "CAPI_DESK_ENGINE": "spark",
        "CAPI_DESK_SPARK_PATH": "/x",
        "SPARK_REMOTE": f"http://h/;token={TOKEN}",
    }
    with pytest.raises(InputError) as err:
        resolve_engine(env)
    assert TOKEN not in str(err.value) and TOKEN not in (err.value.hint or "")


@pytest.mark.parametrize(
    ("remote", "shown"),
    [
        ("sc://h:15002", "sc://h:15002"),
        (f"sc://h:443/;use_ssl=true;token={TOKEN}", "sc://h:443"),
        (f"sc://h:443;token={TOKEN}", "sc://h:443"),
        (f"sc://user:{TOKEN}@h:443/", "sc://h:443"),
    ],
)
def test_remote_shown_without_token(remote: str, shown: str) -> None:
    assert remote_host(remote) == shown
    config = EngineConfig("spark", "/lake", remote)
    assert TOKEN not in config.description() and TOKEN not in repr(config)
    assert config.description() == f"Spark (Spark Connect {shown}) over /lake"


def test_location_shown_without_credentials() -> None:
    config = EngineConfig("spark", f"s3a://key:{TOKEN}@bucket/capi", None)
    assert config.description() == "Spark (local session) over s3a://bucket/capi"


def test_open_configured_duckdb(tmp_path: Path) -> None:
    with open_configured_store(EngineConfig(), tmp_path / "s.duckdb") as store:
        assert type(store) is Store
    with pytest.raises(InputError, match="no store file"):
        open_configured_store(EngineConfig())


def test_open_configured_spark_goes_through_open_spark_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []

    def fake(*, remote: str | None, location: str | None) -> Store:
        calls.append({"remote": remote, "location": location})
        return Store(tmp_path / "fake.duckdb")

    monkeypatch.setattr(spark, "open_spark_store", fake)
    with open_configured_store(EngineConfig("spark", "/lake", None), tmp_path / "ignored.duckdb"):
        pass
    assert calls == [{"remote": None, "location": "/lake"}]
