"""The login gate (``[auth]`` in ``.streamlit/secrets.toml``) and the dashboard's other secrets."""

from __future__ import annotations

from typing import Any

import streamlit as st


def _auth_settings() -> dict[str, Any] | None:
    try:
        auth = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets.toml: login is off
        return None
    return dict(auth) if auth else None


def secret(name: str) -> str | None:
    """A top-level string in ``.streamlit/secrets.toml`` (None without the file or the key)."""
    try:
        value = st.secrets.get(name)
    except FileNotFoundError:  # no secrets.toml
        return None
    return value if isinstance(value, str) else None


def login_required() -> bool:
    """True when ``[auth]`` is configured in the secrets and nobody is logged in yet."""
    return _auth_settings() is not None and not st.user.get("is_logged_in", False)


def login_screen() -> None:
    """The only page shown until the user logs in through the configured provider."""
    auth = _auth_settings() or {}
    providers = [name for name, value in auth.items() if hasattr(value, "keys")]
    provider = None if "client_id" in auth or not providers else providers[0]
    st.title("CAPI Signal Desk")
    st.write("This dashboard needs a login.")
    st.button("Log in", on_click=st.login, args=(provider,), type="primary", key="login")


def logout_button() -> None:
    """A logout button in the sidebar when someone is logged in."""
    if _auth_settings() is not None and st.user.get("is_logged_in", False):
        st.sidebar.button("Log out", on_click=st.logout, key="logout")
