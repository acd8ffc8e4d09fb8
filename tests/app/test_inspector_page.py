"""The Event inspector on the demo store: searching by event_id, order id (with and without '#'), fbp and
email; an email is hashed on the spot and kept neither in the session nor in the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import problems, texts
from conftest import AppFactory
from streamlit.testing.v1 import AppTest

from capi_core import inspector
from capi_core.store import Store

PAGE = "pages/inspector.py"


@pytest.fixture(scope="module")
def demo_order(demo_db: Path) -> dict[str, str]:
    """The first demo order that reached Meta on both channels: raw_id ('#1001'), truth_id, fbp, event_id.

    (The demo store holds only hashed emails, so the email flow ingests its own address in a scratch store.)
    """
    with Store(demo_db) as store:
        row = store.query(
            "a demo order",
            """select r.raw_id, r.truth_id, r.fbp, l.event_id
            from truth_current r
            join copy_truth_links l on l.truth_id = r.truth_id and l.channel = 'server'
            join truth_verdicts v on v.truth_id = r.truth_id and v.verdict = 'both_channels'
            where r.fbp is not null and l.event_id is not null
            order by r.created_at
            limit 1""",
        ).dicts()[0]
    return row


def _search(app: AppTest, text: str, kind: str = "auto") -> AppTest:
    app.text_input(key="inspector_text").input(text)
    app.selectbox(key="inspector_kind").set_value(kind)
    return app.button(key="inspector_go").click().run()


def _copies(app: AppTest) -> list[tuple[str, str]]:
    table = next(df.value for df in app.dataframe if "explanation" in df.value.columns)
    return list(zip(table["channel"], table["event_id"], strict=True))


def test_opens_with_a_hint(open_app: AppFactory) -> None:
    app = open_app(PAGE)
    assert problems(app) == []
    assert [t.value for t in app.title] == ["Event inspector"]
    assert app.info


@pytest.mark.parametrize(
    ("field", "kind"),
    [("event_id", "event_id"), ("raw_id", "order_id"), ("truth_id", "order_id"), ("truth_id", "auto"),
     ("fbp", "fbp")],
)  # fmt: skip
def test_search_by_every_kind(
    open_app: AppFactory, demo_db: Path, demo_order: dict[str, str], field: str, kind: str
) -> None:
    """Each search shows what inspector.search returns: the order's record and at least its two copies
    (the order id with '#' is raw_id, without it truth_id)."""
    app = _search(open_app(PAGE), demo_order[field], kind)
    assert problems(app) == []
    with Store(demo_db) as store:
        expected = inspector.search(store, demo_order[field], kind=kind)  # type: ignore[arg-type]
    assert _copies(app) == [(c.channel, c.event_id) for c in expected.copies]
    assert {"browser", "server"} <= {channel for channel, _ in _copies(app)}
    records = next(df.value for df in app.dataframe if "flags" in df.value.columns)
    assert demo_order["truth_id"] in set(records["truth_id"])
    assert any(line.startswith(("Counted", "Discarded")) for line in texts(app))  # the verdict explained
    assert len(app.get("plotly_chart")) == 1
    assert app.get("json"), "the payload is shown"


def test_pick_another_copy(open_app: AppFactory, demo_order: dict[str, str]) -> None:
    app = _search(open_app(PAGE), demo_order["raw_id"], "order_id")
    app.selectbox(key="inspector_copy").set_value(1).run()
    assert problems(app) == []


def test_nothing_found(open_app: AppFactory) -> None:
    app = _search(open_app(PAGE), "no-such-id-anywhere")
    assert problems(app) == []
    assert "Nothing found" in app.info[0].value


EMAIL = "Ann.Alpha@Example.com"


def test_search_by_email_keeps_no_email(open_app: AppFactory, scratch_db: Path) -> None:
    """An order ingested with this email (hashed at ingest) is found by the email; afterwards neither the
    session state nor any table or byte of the store holds the address."""
    from tests.factories import copy, load, load_truth, order

    with Store(scratch_db) as store:
        load(store, [copy("server", "Purchase", "inspector-1", user_data={"em": EMAIL, "fbp": "fb.1.1.9"})])
        load_truth(store, [order("#inspector-1", email=EMAIL)])
    app = _search(open_app(PAGE, db=scratch_db), EMAIL.upper())
    assert problems(app) == []
    assert _copies(app) == [("server", "inspector-1")]
    assert app.text_input(key="inspector_text").value == ""
    held = repr(dict(app.session_state.items()))
    assert "inspector_search" in held
    assert "alpha" not in held.lower()
    assert app.session_state["inspector_search"][0] == "email"
    assert all("alpha" not in line.lower() for line in texts(app))

    with Store(scratch_db) as store:
        for table in ("events", "truth", "quarantine", "batches"):
            frame = store.query(table, f"select * from {table}").df()
            assert "alpha" not in frame.to_string().lower(), table
    assert b"alpha@example" not in scratch_db.read_bytes().lower()


def test_empty_store(open_app: AppFactory, tmp_path: Path) -> None:
    app = _search(open_app(PAGE, db=tmp_path / "empty.duckdb"), "1001")
    assert problems(app) == []
    assert app.info
