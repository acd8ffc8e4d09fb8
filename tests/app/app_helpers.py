"""Small readers of an AppTest's last run, shared by the dashboard tests."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def problems(app: AppTest) -> list[str]:
    """Exceptions and error boxes the last run showed (an empty list is a clean run)."""
    return [str(e.value) for e in app.exception] + [str(e.value) for e in app.error]


def metrics(app: AppTest) -> dict[str, str]:
    """Metric label -> displayed value."""
    return {m.label: m.value for m in app.metric}


def texts(app: AppTest) -> list[str]:
    """Every st.text value."""
    return [t.value for t in app.text]
