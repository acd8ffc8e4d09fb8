"""Uploads on the Data page (issue 12, case 6): an uploaded export's bytes (raw emails, tokens) are on disk
only while a preview or an ingest reads them, and are deleted as soon as it ends, whatever the outcome
(success, a refused file, an unexpected exception): nothing is left in the temporary folder between runs
or after the session. Also the dashboard's share of the privacy sweep (tests/e2e/test_privacy.py): no
planted value in the temporary folder or the store."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from app_helpers import problems, texts
from conftest import AppFactory

from capi_core import ingest
from capi_core.errors import UnreadableFileError
from capi_core.store import Store

EMAIL = "upload.person@example.org"
PHONE = "4155550177"
NAME = "Quillanora"
TOKEN = "upTok3nZ9q"
PLANTED = [EMAIL, PHONE, NAME, TOKEN]


def _export() -> bytes:
    """A server log with a raw email and phone, a PII page URL, an Access_Token and a malformed line."""
    event = {
        "event_name": "Purchase",
        "event_time": 1793620800,
        "event_id": "up1",
        "event_source_url": f"https://shop.example/ty?phone={PHONE}&first_name={NAME}&Access_Token={TOKEN}",
        "user_data": {"em": EMAIL, "ph": PHONE},
    }
    good = json.dumps({"sent_at": "2026-11-02T12:00:00Z", "pixel_id": "111", "request": {"data": [event]}})
    bad = f'{{"headers": "Authorization: Bearer {TOKEN}", "note": "{EMAIL}", "data": ['
    return f"{good}\n{bad}\n".encode()


def _left_behind(temp: Path) -> list[str]:
    """Upload folders still on disk, and any file under ``temp`` holding a planted value."""
    found = [str(path) for path in temp.glob("capi-upload-*")]
    for path in temp.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {value}" for value in PLANTED if value.encode() in data]
    return found


def test_uploaded_bytes_deleted_whatever_the_outcome(
    open_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    db = tmp_path / "store.duckdb"
    app = open_app("pages/data.py", db=db)
    app.file_uploader[0].set_value(("export.jsonl", _export(), "application/jsonl")).run()
    assert problems(app) == []
    assert any(line.startswith("Detected format: capi_log") for line in texts(app))
    assert _left_behind(temp) == [], "nothing stays on disk after the preview"

    seen: list[Path] = []
    real_ingest = ingest.ingest_file

    def refuse(store: Store, path: Path, *args: Any, **kwargs: Any) -> Any:
        seen.append(path)
        assert path.read_bytes() == _export()  # the ingest reads the upload's bytes...
        raise UnreadableFileError("refused on purpose")

    def explode(store: Store, path: Path, *args: Any, **kwargs: Any) -> Any:
        seen.append(path)
        raise RuntimeError("unexpected")

    monkeypatch.setattr(ingest, "ingest_file", refuse)
    app.button(key="ingest").click().run()
    assert any("refused on purpose" in problem for problem in problems(app))
    monkeypatch.setattr(ingest, "ingest_file", explode)
    app.button(key="ingest").click().run()
    assert [str(e.value) for e in app.exception] and "unexpected" in str(app.exception[0].value)
    assert seen and not any(path.exists() or path.parent.exists() for path in seen)  # ...then they are gone
    assert _left_behind(temp) == []

    monkeypatch.setattr(ingest, "ingest_file", real_ingest)
    app.button(key="ingest").click().run()
    assert problems(app) == []
    assert [s.value for s in app.success] == [
        "export.jsonl (capi_log) -> batch 1: read 2, stored 1, quarantined 1, access tokens stripped 2"
    ]
    assert _left_behind(temp) == []
    with Store(db) as store:
        store.query("checkpoint", "checkpoint")
        urls = store.query("url", "select event_source_url from events").rows
    assert urls == [("https://shop.example/ty?phone=***&first_name=***&Access_Token=***",)]
    for path in db.parent.glob(db.name + "*"):
        data = path.read_bytes()
        assert not [value for value in PLANTED if value.encode() in data], path.name
