"""``capi-desk url-keys list|add|remove``: a store's own page-URL keys whose values are kept, through the CLI
in a real subprocess; keys added apply to the files ingested afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from capi_core.privacy import URL_KEYS_KEPT
from capi_core.store import Store

REPO = Path(__file__).resolve().parents[2]
URL = "https://shop.example/thanks?ref_code=R42&promo_spring=1&phone=4155550199&utm_source=fb"


def run_cli(db: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "capi_core", "--db", str(db), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def _log(folder: Path, event_id: str) -> Path:
    event = {"event_name": "Purchase", "event_time": 1793620800, "event_id": event_id, "pixel_id": "555",
             "action_source": "website", "event_source_url": URL,
             "user_data": {"client_user_agent": "Mozilla/5.0"}}  # fmt: skip
    path = folder / f"{event_id}.jsonl"
    path.write_text(json.dumps(event) + "\n", encoding="utf-8")
    return path


def _stored_url(db: Path, event_id: str) -> str:
    with Store(db, read_only=True) as store:
        return str(
            store.query(
                "url", "select event_source_url from events where event_id = $id", {"id": event_id}
            ).scalar()
        )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    target = tmp_path / "shop.duckdb"
    assert run_cli(target, "ingest", "--source", "server", _log(tmp_path, "before")).returncode == 0
    return target


def test_added_keys_are_kept_in_urls_ingested_afterwards(db: Path, tmp_path: Path) -> None:
    listed = run_cli(db, "url-keys", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[:2] == [f"built in: {', '.join(URL_KEYS_KEPT)}", "this store: none"]

    added = run_cli(db, "url-keys", "add", "Ref_Code", "promo_*")
    assert added.returncode == 0, added.stderr
    assert "this store keeps: ref_code, promo_*" in added.stdout
    assert run_cli(db, "url-keys", "list").stdout.splitlines()[1] == "this store: ref_code, promo_*"

    assert run_cli(db, "ingest", "--source", "server", _log(tmp_path, "after")).returncode == 0
    assert _stored_url(db, "before") == (
        "https://shop.example/thanks?ref_code=***&promo_spring=***&phone=***&utm_source=fb"
    )  # stored before the keys were added: stays as it was masked
    assert _stored_url(db, "after") == (
        "https://shop.example/thanks?ref_code=R42&promo_spring=1&phone=***&utm_source=fb"
    )

    removed = run_cli(db, "url-keys", "remove", "ref_code")
    assert removed.returncode == 0, removed.stderr
    assert run_cli(db, "url-keys", "list").stdout.splitlines()[1] == "this store: promo_*"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("add", "phone number"), "is not a URL key"),
        (("remove", "utm_*"), "the built-in keys cannot be removed"),
        (("remove", "ref_code"), "not among this store's keys"),
    ],
)
def test_bad_keys_are_refused_with_one_line(db: Path, args: tuple[str, ...], needle: str) -> None:
    done = run_cli(db, "url-keys", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("capi-desk: error:") and needle in lines[0], done.stderr
    assert run_cli(db, "url-keys", "list").stdout.splitlines()[1] == "this store: none"


def test_a_key_a_built_in_prefix_covers_is_not_added_again(db: Path) -> None:
    """``utm_source`` is kept by the built-in ``utm_*``: it is reported as built in, not stored."""
    added = run_cli(db, "url-keys", "add", "utm_source")
    assert added.returncode == 0, added.stderr
    assert "this store: none" in run_cli(db, "url-keys", "list").stdout
