"""The tool's settings from outside the store, in one object: command-line flags, the environment, and the
dashboard's ``.streamlit/secrets.toml`` (which the dashboard hands in: capi_core never imports streamlit).

Owns: the name of every environment variable the tool reads, and which source wins — a flag, then the
environment, then the secrets — and the one place a Meta access token is resolved.
Must not: read a store's own settings (``settings.py`` owns those), or show a token: it is a ``SecretStr``
and no repr, log or error message carries its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from capi_core.errors import InputError

ENV_DB = "CAPI_DESK_DB"
ENV_DEMO_DB = "CAPI_DESK_DEMO_DB"
ENV_CONTRACTS = "CAPI_DESK_CONTRACTS"
ENV_ENGINE = "CAPI_DESK_ENGINE"
ENV_SPARK_PATH = "CAPI_DESK_SPARK_PATH"
ENV_SPARK_REMOTE = "SPARK_REMOTE"  # the variable pyspark itself honours
ENV_TOKEN = "META_ACCESS_TOKEN"
ENV_PORT = "STREAMLIT_SERVER_PORT"

#: Where each setting may come from in the secrets file: a top-level key, or a key of the ``[engine]``
#: table (the layout the README documents).
_SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "meta_access_token": (ENV_TOKEN,),
    "engine": ("engine", "name"),
    "spark_path": ("engine", "spark_path"),
    "spark_remote": ("engine", "spark_remote"),
}


def _env(name: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(name))


class DeskConfig(BaseSettings):
    """Every outside setting; ``None`` where nothing sets it. Build it with ``load``."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=True)

    db: Path | None = _env(ENV_DB)
    demo_db: Path | None = _env(ENV_DEMO_DB)
    contracts_dir: Path | None = _env(ENV_CONTRACTS)
    engine: str | None = _env(ENV_ENGINE)
    spark_path: str | None = _env(ENV_SPARK_PATH)
    spark_remote: SecretStr | None = _env(ENV_SPARK_REMOTE)  # an sc:// URL may carry a token
    meta_access_token: SecretStr | None = _env(ENV_TOKEN)
    streamlit_port: str | None = _env(ENV_PORT)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        """``FOO=`` or a secret of spaces sets nothing (as an unset variable); other text is stripped."""
        if isinstance(value, str):
            return value.strip() or None
        return value

    @classmethod
    def load(
        cls, secrets: Mapping[str, Any] | None = None, *, env: Mapping[str, str] | None = None, **flags: Any
    ) -> DeskConfig:
        """The settings now: ``flags`` (given, not None) over the environment (``os.environ``, or ``env``
        when given) over ``secrets`` (the dashboard's ``st.secrets`` as a mapping)."""
        from_env = (
            cls()
            if env is None
            else cls.model_validate({_alias(name): env.get(_alias(name)) for name in cls.model_fields})
        )
        values = {name: getattr(from_env, name) for name in cls.model_fields}
        for name, path in _SECRET_KEYS.items():
            if values[name] is None and secrets:
                values[name] = _secret_text(secrets, path)
        values.update({name: value for name, value in flags.items() if value is not None})
        try:
            return cls.model_validate({_alias(name): _plain(value) for name, value in values.items()})
        except ValidationError as err:  # pydantic's message repeats the value: it may be a token
            fields = ", ".join(str(e["loc"][0]) for e in err.errors(include_input=False) if e["loc"])
            raise InputError(f"unusable setting: {fields}", hint="give it as text") from None

    def token(self, session_token: str | None = None) -> str | None:
        """The access token to use: this session's password-field value, else the configured one."""
        for candidate in (session_token, _plain(self.meta_access_token)):
            if candidate and candidate.strip():
                return str(candidate).strip()
        return None

    def remote(self) -> str | None:
        """The Spark Connect URL, as text (only for handing to Spark)."""
        return None if self.spark_remote is None else self.spark_remote.get_secret_value()


def remote_host(remote: str | None) -> str:
    """``sc://HOST:PORT`` of a Spark Connect URL, without its ``/;token=...`` parameters or any userinfo."""
    if not remote:
        return ""
    rest = remote.removeprefix("sc://")
    host = rest.split("/", 1)[0].split(";", 1)[0].rsplit("@", 1)[-1]
    return f"sc://{host}"


def _alias(name: str) -> str:
    alias = DeskConfig.model_fields[name].validation_alias
    assert isinstance(alias, AliasChoices)  # every field is declared with _env
    return str(alias.choices[0])


def _plain(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _secret_text(secrets: Mapping[str, Any], path: tuple[str, ...]) -> str | None:
    """The secret at ``path`` as text (a number in the TOML is read as its digits); anything else, such as
    a table where a value belongs, is refused naming the key only (its content may be a token)."""
    found: Any = secrets
    for key in path:
        if not isinstance(found, Mapping):
            return None
        found = found.get(key)
    if found is None or isinstance(found, str):
        return found
    if isinstance(found, int | float) and not isinstance(found, bool):
        return str(found)
    where = "[" + "] [".join(path[:-1]) + f"] {path[-1]}" if len(path) > 1 else path[0]
    raise InputError(f"the secret {where} is not text", hint="write it as a quoted string in secrets.toml")
