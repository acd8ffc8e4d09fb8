"""The dashboard beside a running ingest: while another process holds the store file the pages keep the
last figures under a note (never DuckDB's lock text), and the next run after the ingest shows new data."""

from __future__ import annotations

from pathlib import Path

from app_helpers import metrics, problems
from conftest import AppFactory
from streamlit.testing.v1 import AppTest

from capi_core.ingest import ingest_file
from capi_core.store import Store
from tests.conftest import FIXTURES
from tests.holder import held_by_another_process

LOCK_WORDS = ("Could not set lock", "Conflicting lock", "IO Error", "different configuration")


def _shown(app: AppTest) -> str:
    """Every message box and markdown text of the last run, joined."""
    boxes = [*app.warning, *app.error, *app.info, *app.exception, *app.markdown, *app.caption]
    return "\n".join(str(box.value) for box in boxes)


def test_running_ingest_keeps_the_last_figures_under_a_note(open_app: AppFactory, scratch_db: Path) -> None:
    app = open_app(db=scratch_db)
    before = metrics(app)
    assert before and problems(app) == []

    with held_by_another_process(scratch_db):
        app.run()
        assert problems(app) == []
        notes = [w.value for w in app.warning]
        assert any(
            note.startswith("An ingest is running on this store; these figures are from ") for note in notes
        )
        assert metrics(app) == before
        assert not any(word in _shown(app) for word in LOCK_WORDS)

        app.switch_page("pages/reconciliation.py").run()  # computed before: served from the cache
        assert problems(app) == []

    with Store(scratch_db) as store:  # what the ingest stored
        ingest_file(store, FIXTURES / "orders" / "generic_orders.csv", "orders")
    app.switch_page("pages/overview.py").run()
    assert not app.warning, "the note goes once the ingest has ended"
    assert metrics(app) != before, "the new data version is read"


def test_first_open_while_an_ingest_runs_says_so(open_app: AppFactory, scratch_db: Path) -> None:
    with held_by_another_process(scratch_db):
        app = open_app(db=scratch_db)
        assert not app.exception and not app.error
        assert any("An ingest is running on this store" in w.value for w in app.warning)
        assert not any(word in _shown(app) for word in LOCK_WORDS)
    app.run()
    assert problems(app) == [] and not app.warning
    assert metrics(app)
