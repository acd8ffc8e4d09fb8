"""The Event contracts page on the demo store: it renders with the demo pixel's contract and its
violations; a bad currency typed in the editor is named by field and blocks Save; a valid edit saves a
version; the new-user flow fixes a violating Purchase and pushes it to a real sandbox with a test code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from app_helpers import problems
from conftest import AppFactory
from streamlit.testing.v1 import AppTest

from capi_core.contracts.library import contract_violations, read_contract_file
from capi_core.meta.corrections import RAW_HIDDEN
from capi_core.meta.sandbox import Sandbox
from capi_core.models import Scope
from capi_core.normalize import hash_value
from capi_core.store import PROJECT_ROOT, Store

PAGE = "pages/contracts.py"
PIXEL = "1234567890123456"
EDITOR = f"contracts_editor_{PIXEL}_None"  # keyed by pixel and saved version (none saved yet)


@pytest.fixture(autouse=True)
def contracts_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The page reads and writes contracts in a private folder holding a copy of the demo pixel's."""
    folder = tmp_path / "contracts"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "data" / "contracts" / f"{PIXEL}.yaml", folder)
    monkeypatch.setenv("CAPI_DESK_CONTRACTS", str(folder))
    return folder


def _edit(app: AppTest, row: int, **cells: Any) -> AppTest:
    app.session_state[EDITOR] = {"edited_rows": {row: cells}, "added_rows": [], "deleted_rows": []}
    return app.run()


def _errors(app: AppTest) -> list[str]:
    return [str(e.value).replace("\\", "") for e in app.error]


def test_renders_on_the_demo_store(open_app: AppFactory, demo_db: Path, contracts_folder: Path) -> None:
    """The violations table shows what contract_violations finds, e.g. the browser Purchase copies whose
    event_id carries '#' (the demo's injected defect)."""
    with Store(demo_db) as store:
        contract = read_contract_file(contracts_folder / f"{PIXEL}.yaml")
        expected = [
            v.copies for v in contract_violations(store, Scope(), contract) if v.detail == "contains #"
        ]
    assert expected and expected[0] > 0
    app = open_app(PAGE)
    assert problems(app) == []
    assert [t.value for t in app.title] == ["Event contracts"]
    assert app.selectbox(key="contracts_pixel").value == PIXEL
    editor = app.data_editor[0]
    assert list(editor.value["event"]) == [
        "Purchase",
        "Lead",
        "AddToCart",
        "InitiateCheckout",
        "ViewContent",
        "PageView",
    ]
    table = next(df.value for df in app.dataframe if "rule" in df.value.columns)
    hashes = table[(table["event"] == "Purchase") & (table["detail"] == "contains #")]
    assert list(hashes["copies"]) == expected
    assert int(app.metric[1].value) > 0  # high-severity rules broken
    assert not app.button(key="contracts_save").disabled


def test_invalid_currency_is_named_and_save_refused(open_app: AppFactory, contracts_folder: Path) -> None:
    before = (contracts_folder / f"{PIXEL}.yaml").read_text()
    app = _edit(open_app(PAGE), 0, allowed_currencies="USD, usd")
    assert any(
        "events.Purchase.allowed_currencies[1]: 'usd' is not an ISO 4217 code" in e for e in _errors(app)
    )
    assert app.button(key="contracts_save").disabled
    assert (contracts_folder / f"{PIXEL}.yaml").read_text() == before


def test_a_valid_edit_saves_a_version(open_app: AppFactory, scratch_db: Path, contracts_folder: Path) -> None:
    app = _edit(open_app(PAGE, db=scratch_db), 0, allowed_currencies="USD")
    assert problems(app) == []
    table = next(df.value for df in app.dataframe if "rule" in df.value.columns)
    # the preview follows the unsaved draft: CAD orders now break the currency rule
    assert "CAD" in set(table[table["rule"] == "currency_not_allowed"]["detail"])
    app = app.button(key="contracts_save").click().run()
    assert problems(app) == []
    assert [s.value for s in app.success] == ["Saved as version 1."]
    assert "allowed_currencies: [USD]" in (contracts_folder / f"{PIXEL}.yaml").read_text()
    with Store(scratch_db) as store:
        assert (
            store.query("v", "select count(*) from contracts where pixel_id = $p", {"p": PIXEL}).scalar() == 1
        )


def test_fix_a_purchase_and_push_it_to_the_sandbox(open_app: AppFactory, scratch_db: Path) -> None:
    """A new user's flow: pick the Purchase copies whose event_id carries '#', see the corrections (event_id
    without '#', event_time moved into the 7-day window), edit the payload (a raw email typed in is
    hashed), push with a test code to a real sandbox on loopback, read Meta's answer and find the push in
    the history (without the token)."""
    app = open_app(PAGE, db=scratch_db)
    picker = app.selectbox(key="contracts_fix_violation")
    index = next(i for i, label in enumerate(picker.options) if "Purchase" in label and "contains #" in label)
    app = picker.select_index(index).run()
    assert problems(app) == []
    changes = next(df.value for df in app.dataframe if "why" in df.value.columns)
    fixed = changes[changes["field"] == "event_id"].iloc[0]
    assert fixed["before"].startswith("#") and fixed["after"] == fixed["before"][1:]
    assert "7-day window" in " ".join(changes["why"])
    assert len(app.json) == 2

    # edit the corrected payload: broken JSON is named by line, a raw email typed in is hashed
    area = app.text_area[0]
    corrected = json.loads(area.value)
    app = area.input(area.value.replace("{", "{,", 1)).run()
    assert any("not JSON" in e and "line 1" in e for e in _errors(app))
    corrected["user_data"]["em"] = "New.Buyer@Example.com"
    app = app.text_area[0].input(json.dumps(corrected)).run()
    assert problems(app) == []
    again = next(df.value for df in app.dataframe if "why" in df.value.columns and len(df.value) == 1)
    assert list(again["field"]) == ["user_data.em"] and list(again["before"]) == [RAW_HIDDEN]
    assert "New.Buyer" not in " ".join(str(df.value.to_numpy().ravel()) for df in app.dataframe)

    app = app.button(key="contracts_push").click().run()
    assert any("test_event_code" in e for e in _errors(app))  # no code: nothing sent

    with Sandbox(port=0) as sandbox:
        app.text_input(key="contracts_test_code").input("TEST4242")
        app.text_input(key="contracts_base_url").input(sandbox.base_url)
        app.text_input(key="contracts_token").input("EAAtesttokenfortheappflow12345")
        app = app.button(key="contracts_push").click().run()
        received = sandbox.requests
    assert problems(app) == []
    [answer] = [s.value for s in app.success]
    assert "received 1 of 1" in answer and "TEST4242" in answer
    [sent] = received[0]["events"]
    assert sent["event_id"] == fixed["after"]
    assert sent["user_data"]["em"] == hash_value("em", "New.Buyer@Example.com")
    history = next(df.value for df in app.dataframe if "test_event_code" in df.value.columns)
    assert list(history["test_event_code"]) == ["TEST4242"]
    assert list(history["events_received"]) == [1]
    assert "EAAtesttoken" not in " ".join(str(v) for v in history.to_numpy().ravel())


def test_fixing_the_missing_event_id_and_warning_on_denied_consent(open_app: AppFactory) -> None:
    """The demo's main defect, browser Purchase copies with no event_id: the fix fills it from the order
    the copy is linked to, and no contract warning is left. A copy sent with consent denied is offered
    too, and its contract warning is shown before any push."""
    app = open_app(PAGE)
    picker = app.selectbox(key="contracts_fix_violation")
    missing = next(
        i for i, label in enumerate(picker.options) if "browser" in label and "event_id missing" in label
    )
    app = picker.select_index(missing).run()
    assert problems(app) == []
    changes = next(df.value for df in app.dataframe if "why" in df.value.columns)
    fixed = changes[changes["field"] == "event_id"].iloc[0]
    assert fixed["before"] == "(absent)" and fixed["after"].isdigit()
    assert "from the order this copy is linked to" in fixed["why"]
    assert not [w for w in app.warning if "event_id" in str(w.value)]

    picker = app.selectbox(key="contracts_fix_violation")
    denied = next(
        i for i, label in enumerate(picker.options) if "Purchase" in label and "consent denied" in label
    )
    app = picker.select_index(denied).run()
    assert problems(app) == []
    warnings = [str(w.value).replace("\\", "") for w in app.warning]
    assert any("Still breaks the contract: consent denied" in w and "your call" in w for w in warnings)


def test_an_empty_store_points_to_the_data_page(open_app: AppFactory, tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    Store(empty).close()
    app = open_app(PAGE, db=empty)
    assert problems(app) == []
    assert any("No events yet" in i.value for i in app.info)


def test_history_diff_of_a_saved_version(
    open_app: AppFactory, scratch_db: Path, contracts_folder: Path
) -> None:
    """A version saved, then the file edited by hand: the diff of version 1 against the contract in force
    shows the edited line."""
    app = _edit(open_app(PAGE, db=scratch_db), 0, allowed_currencies="USD")
    app = app.button(key="contracts_save").click().run()
    path = contracts_folder / f"{PIXEL}.yaml"
    path.write_text(
        path.read_text().replace("allowed_currencies: [USD]", "allowed_currencies: [USD, EUR]", 1)
    )
    app = app.run()
    assert problems(app) == []
    [diff] = [c.value for c in app.code]
    assert "-    allowed_currencies: [USD]" in diff and "+    allowed_currencies: [USD, EUR]" in diff


@pytest.mark.parametrize("with_demo", [True, False], ids=["beside-the-demo-pixel", "alone"])
def test_a_pixel_id_that_is_not_a_number(
    open_app: AppFactory, scratch_db: Path, tmp_path: Path, with_demo: bool
) -> None:
    """``dummyPixelId`` (left in place by a sender, as in rudderlabs' real sample) is named in a warning,
    never offered for a contract, and never crashes the page."""
    from capi_core.ingest import ingest_file

    db = scratch_db if with_demo else tmp_path / "dummy.duckdb"
    log = tmp_path / "dummy.jsonl"
    log.write_text(
        json.dumps({"pixel_id": "dummyPixelId", "request": {"data": [
            {"event_name": "Purchase", "event_time": 1793620800, "event_id": "d1", "action_source": "website"}
        ]}}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    with Store(db) as store:
        assert ingest_file(store, log, "server").rows_stored == 1
    app = open_app(PAGE, db=db)
    assert problems(app) == []
    assert any("dummyPixelId" in str(w.value) and "digits only" in str(w.value) for w in app.warning)
    pickers = [box for box in app.selectbox if box.key == "contracts_pixel"]
    if with_demo:
        assert PIXEL in pickers[0].options and "dummyPixelId" not in pickers[0].options
    else:
        assert pickers == []
