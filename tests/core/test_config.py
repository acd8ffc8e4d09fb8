"""One settings object: a flag over the environment over the dashboard's secrets; blank means unset; a
token is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from capi_core.config import ENV_CONTRACTS, ENV_DB, ENV_TOKEN, DeskConfig
from capi_core.contracts.library import DEFAULT_DIR, contracts_dir
from capi_core.meta.graph_api import resolve_token
from capi_core.store import DEFAULT_DB, default_db_path

SECRETS = {ENV_TOKEN: "from-secrets", "engine": {"name": "spark", "spark_path": "/lake"}}


def test_a_flag_wins_over_the_environment_which_wins_over_secrets() -> None:
    env = {ENV_TOKEN: "from-env", ENV_DB: "/env.duckdb"}
    config = DeskConfig.load(SECRETS, env=env, db=Path("/flag.duckdb"))
    assert config.db == Path("/flag.duckdb")
    assert config.token() == "from-env"
    assert (config.engine, config.spark_path) == ("spark", "/lake")
    assert DeskConfig.load(SECRETS, env={}).token() == "from-secrets"
    assert DeskConfig.load(SECRETS, env=env).token(" typed ") == "typed"  # the page's password field


def test_blank_values_set_nothing() -> None:
    config = DeskConfig.load({ENV_TOKEN: "   "}, env={ENV_TOKEN: "", ENV_DB: " "})
    assert (config.token(), config.db) == (None, None)


def test_a_token_is_never_in_the_repr() -> None:
    config = DeskConfig.load(env={ENV_TOKEN: "EAAB-secret", "SPARK_REMOTE": "sc://h:1/;token=abc"})
    assert "EAAB-secret" not in repr(config) and "abc" not in repr(config) and "abc" not in str(config)
    assert config.remote() == "sc://h:1/;token=abc"


def test_the_modules_read_their_settings_through_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_DB, raising=False)
    monkeypatch.delenv(ENV_CONTRACTS, raising=False)
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    assert (default_db_path(), contracts_dir(), resolve_token(None)) == (DEFAULT_DB, DEFAULT_DIR, None)
    monkeypatch.setenv(ENV_DB, str(tmp_path / "s.duckdb"))
    monkeypatch.setenv(ENV_CONTRACTS, str(tmp_path))
    monkeypatch.setenv(ENV_TOKEN, " env-token ")
    assert default_db_path() == tmp_path / "s.duckdb"
    assert contracts_dir() == tmp_path
    assert resolve_token(None, "from-secrets") == "env-token"


def test_a_setting_that_is_not_text_is_refused_without_its_value() -> None:
    """A table or a list where the secrets file should hold text is a one-line error naming the key,
    never pydantic's message (which repeats the value: it may be a token); a number reads as its digits."""
    from capi_core.engines import resolve_engine
    from capi_core.errors import InputError

    with pytest.raises(InputError) as raised:
        DeskConfig.load({ENV_TOKEN: ["EAAsecretTOKEN"]}, env={})
    assert "EAAsecret" not in str(raised.value) and ENV_TOKEN in str(raised.value)
    remote = {"name": "spark", "spark_path": "/x", "spark_remote": {"url": "sc://h/;token=SECRETXYZ"}}
    with pytest.raises(InputError) as raised:
        resolve_engine({}, remote)
    assert "SECRETXYZ" not in str(raised.value) and "[engine] spark_remote" in str(raised.value)
    assert resolve_engine({}, {"name": "spark", "spark_path": 5}).spark_path == "5"


def test_an_unknown_engine_is_named_only_when_it_is_a_plain_word() -> None:
    from capi_core.engines import resolve_engine
    from capi_core.errors import InputError

    with pytest.raises(InputError, match="unknown engine 'hive'"):
        resolve_engine({"CAPI_DESK_ENGINE": "hive"})
    with pytest.raises(InputError) as raised:
        resolve_engine({"CAPI_DESK_ENGINE": "sc://h/;token=SECRETXYZ"})
    assert "secretxyz" not in str(raised.value).lower()


def test_the_cli_global_options_come_from_the_settings_object(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A flag, else the environment, else the default: the CLI's global options go through DeskConfig."""
    import argparse

    from capi_core.cli.main import _settle_global_options
    from capi_core.errors import InputError

    def settled(**flags: object) -> argparse.Namespace:
        args = argparse.Namespace(db=None, engine=None, spark_path=None, spark_remote=None)
        for name, value in flags.items():
            setattr(args, name, value)
        _settle_global_options(args)
        return args

    for name in ("CAPI_DESK_DB", "CAPI_DESK_ENGINE", "CAPI_DESK_SPARK_PATH", "SPARK_REMOTE"):
        monkeypatch.delenv(name, raising=False)
    assert (settled().db, settled().engine) == (DEFAULT_DB, "duckdb")
    monkeypatch.setenv("CAPI_DESK_DB", str(tmp_path / "env.duckdb"))
    monkeypatch.setenv("CAPI_DESK_ENGINE", "Spark")
    monkeypatch.setenv("CAPI_DESK_SPARK_PATH", str(tmp_path))
    from_env = settled()
    assert (from_env.db, from_env.engine, from_env.spark_path) == (
        tmp_path / "env.duckdb",
        "spark",
        str(tmp_path),
    )
    flagged = settled(db=tmp_path / "flag.duckdb", engine="duckdb")
    assert (flagged.db, flagged.engine) == (tmp_path / "flag.duckdb", "duckdb")
    monkeypatch.setenv("CAPI_DESK_ENGINE", "sc://h:1/;token=EAAsecret")
    with pytest.raises(InputError) as err:
        settled()
    assert "EAAsecret" not in str(err.value) and "unknown engine" in str(err.value)


def test_an_explicit_db_means_duckdb_whatever_the_environment_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``CAPI_DESK_ENGINE=spark`` set for the dashboard must not send ``capi-desk --db shop.duckdb ingest``
    to the Spark tables: a ``--db`` without ``--engine`` names a DuckDB file."""
    import argparse

    from capi_core.cli.main import _settle_global_options

    monkeypatch.setenv("CAPI_DESK_ENGINE", "spark")
    monkeypatch.setenv("CAPI_DESK_SPARK_PATH", str(tmp_path))
    args = argparse.Namespace(db=tmp_path / "shop.duckdb", engine=None, spark_path=None, spark_remote=None)
    _settle_global_options(args)
    assert (args.db, args.engine) == (tmp_path / "shop.duckdb", "duckdb")


def test_the_cli_starts_with_the_demo_store_outside_the_project(tmp_path: Path) -> None:
    """``CAPI_DESK_DEMO_DB`` may point anywhere (the package folder may be read-only): ``--help`` names it."""
    import os
    import subprocess
    import sys

    elsewhere = tmp_path / "elsewhere" / "demo.duckdb"
    env = {**os.environ, "CAPI_DESK_DEMO_DB": str(elsewhere)}
    done = subprocess.run(
        [sys.executable, "-m", "capi_core", "--help"], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "demo.duckdb" in done.stdout and "Traceback" not in done.stderr
