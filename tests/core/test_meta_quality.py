"""Meta's Dataset Quality API: parsing, snapshots, fetching (token only in the header), the trend next to
our estimates, the CLI, and the schema migration that added the tables."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from factories import UA, copy, load

from capi_core.cli import main
from capi_core.errors import InputError, UnreadableFileError
from capi_core.meta import dataset_quality as dq
from capi_core.meta.graph_api import GraphError
from capi_core.meta.sandbox import Sandbox
from capi_core.metrics import quality
from capi_core.metrics.meta_quality import has_snapshots, meta_quality_trend
from capi_core.models import Scope
from capi_core.store import MIGRATIONS, SCHEMA_VERSION, Store

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "meta" / "dataset_quality.json"
TOKEN = "EAAsecretTokenValue1234567890abcdef"
AT = dt.datetime(2026, 11, 3, 9, 30)


def _body() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return loaded


def _everything_stored(store: Store) -> str:
    """Every text the store holds in the snapshot and quarantine tables (to look for a token)."""
    rows = store.query("all", "select * from meta_quality_snapshots").rows
    rows += store.query("all", "select * from quarantine").rows
    return json.dumps(rows, default=str)


# --- parsing -------------------------------------------------------------------------------------


def test_parse_fixture_as_shares() -> None:
    """Meta's percentages become shares: coverage 64.2 % -> 0.642, goal 75 -> 0.75; EMQ stays 0..10."""
    events = {e.event_name: e for e in dq.parse_body(_body())}
    assert set(events) == {"Purchase", "AddToCart", "PageView"}
    purchase = events["Purchase"]
    assert purchase.emq == 7.4
    assert purchase.event_coverage == pytest.approx(0.642) and purchase.coverage_goal == 0.75
    assert purchase.upload_frequency == "real_time" and purchase.acr == pytest.approx(0.183)
    assert purchase.diagnostics == 1
    assert {k.identifier: k.coverage for k in purchase.match_keys}["email"] == pytest.approx(0.962)
    event_id = purchase.dedupe_keys[0]
    assert (event_id.dedupe_key, event_id.browser_share, event_id.server_share) == ("event_id", 0.981, 1.0)
    assert event_id.browser_coverage == pytest.approx(0.63)
    page_view = events["PageView"]
    assert page_view.emq is None and page_view.match_keys == [] and page_view.event_coverage == 0.0


def test_parse_accepts_the_older_spelling_and_ignores_junk() -> None:
    body = {
        "web": [
            {"event_name": "Lead", "dedup_key_feedback": [{"dedupe_key": "fbp", "x": 1}], "new_field": {}},
            {"no_name": True},
            "junk",
        ]
    }
    (lead,) = dq.parse_body(body)
    assert lead.dedupe_keys[0].dedupe_key == "fbp" and lead.dedupe_keys[0].browser_share is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": {"code": 190, "message": "Invalid OAuth access token."}}, "Graph API error"),
        ({"data": []}, 'no "web" list'),
        ([1, 2], 'no "web" list'),
    ],
)
def test_parse_refuses_other_shapes(body: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        dq.parse_body(body)


# --- snapshots -----------------------------------------------------------------------------------


def test_load_stores_a_snapshot_once(store: Store) -> None:
    snap = dq.load_file(store, FIXTURE, pixel_id="111", fetched_at=AT)
    assert (snap.snapshot_id, snap.events, snap.source, snap.source_name) == (
        1,
        3,
        "file",
        "dataset_quality.json",
    )
    again = dq.load_file(store, FIXTURE, pixel_id="111", fetched_at=AT)
    assert again.already_stored and again.snapshot_id == 1
    counts = store.query(
        "t",
        """select (select count(*) from meta_quality_snapshots), (select count(*) from meta_quality_events),
          (select count(*) from meta_quality_dedupe_keys), (select count(*) from meta_quality_match_keys)""",
    ).rows[0]
    assert counts == (1, 3, 4, 6)  # Purchase 3 + AddToCart 1 dedupe keys; 4 + 2 match keys
    assert [s.snapshot_id for s in dq.snapshots(store)] == [1] and has_snapshots(store)


def test_same_body_on_another_day_is_a_new_snapshot(store: Store, tmp_path: Path) -> None:
    """The same answer with --at a week later: a second trend point (snapshot 2); again on that day
    (another hour): a no-op naming snapshot 2; without --at (the file's time) any stored copy is a no-op."""
    dq.load_file(store, FIXTURE, pixel_id="111", fetched_at=AT)
    week_later = dq.load_file(store, FIXTURE, pixel_id="111", fetched_at=AT + dt.timedelta(days=7))
    assert (week_later.snapshot_id, week_later.already_stored) == (2, False)
    same_day = dq.load_file(store, FIXTURE, pixel_id="111", fetched_at=AT + dt.timedelta(days=7, hours=1))
    assert (same_day.snapshot_id, same_day.already_stored) == (2, True)
    saved = tmp_path / "dq.json"
    saved.write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    assert dq.load_file(store, saved, pixel_id="111").already_stored
    assert [s.snapshot_id for s in dq.snapshots(store)] == [2, 1]


def test_load_without_time_uses_the_file_time(store: Store, tmp_path: Path) -> None:
    saved = tmp_path / "dq.json"
    saved.write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    stamp = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC).timestamp()
    import os

    os.utime(saved, (stamp, stamp))
    assert dq.load_file(store, saved, pixel_id="111").fetched_at == dt.datetime(2026, 11, 20, 8, 0)


def test_a_token_in_a_saved_file_is_not_stored(store: Store, tmp_path: Path) -> None:
    body = {**_body(), "paging": {"next": f"https://graph.facebook.com/v26.0/x?access_token={TOKEN}&a=1"}}
    saved = tmp_path / "with_token.json"
    saved.write_text(json.dumps(body), encoding="utf-8")
    dq.load_file(store, saved, pixel_id="111", fetched_at=AT)
    assert TOKEN not in _everything_stored(store)


@pytest.mark.parametrize(
    ("text", "error"),
    [("{not json", UnreadableFileError), ("", UnreadableFileError), ('{"data": []}', InputError)],
)
def test_bad_files_leave_the_store_unchanged(store: Store, tmp_path: Path, text: str, error: type) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(error):
        dq.load_file(store, bad, pixel_id="111", fetched_at=AT)
    assert not has_snapshots(store)


def test_pixel_must_be_a_number(store: Store) -> None:
    with pytest.raises(InputError, match="not a number"):
        dq.load_file(store, FIXTURE, pixel_id="my pixel", fetched_at=AT)


# --- fetching ------------------------------------------------------------------------------------


def test_fetch_sends_the_token_in_the_header_only(store: Store) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_body())

    snap = dq.fetch(
        store,
        pixel_id="111",
        token=TOKEN,
        transport=httpx.MockTransport(answer),
        now=AT.replace(tzinfo=dt.UTC),
    )
    (request,) = seen
    assert request.method == "GET" and request.url.path == "/v26.0/dataset_quality"
    assert request.url.params["dataset_id"] == "111" and request.url.params["fields"] == dq.FIELDS
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(request.url)
    assert (snap.source, snap.events, snap.fetched_at) == ("api", 3, AT)
    assert snap.source_name == "https://graph.facebook.com/v26.0/dataset_quality"
    assert TOKEN not in _everything_stored(store)
    # every fetch is a new observation, even with the same answer
    dq.fetch(
        store,
        pixel_id="111",
        token=TOKEN,
        transport=httpx.MockTransport(answer),
        now=AT.replace(tzinfo=dt.UTC),
    )
    assert len(dq.snapshots(store)) == 2


def test_fetch_refuses_a_base_url_that_is_not_http(store: Store) -> None:
    with pytest.raises(InputError, match="must start with http:// or https://"):
        dq.fetch(store, pixel_id="111", token=TOKEN, base_url="graph.facebook.com")


def test_fetch_error_never_shows_the_token(store: Store) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        error = {"message": f"Invalid OAuth access token {TOKEN}", "code": 190, "fbtrace_id": "AbC"}
        return httpx.Response(400, json={"error": error})

    with pytest.raises(GraphError) as caught:
        dq.fetch(store, pixel_id="111", token=TOKEN, transport=httpx.MockTransport(refuse))
    assert caught.value.code == 190
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value.args)
    assert not has_snapshots(store)


def test_cli_fetch_against_the_sandbox(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The local Graph stand-in (capi_core.meta.sandbox) answers GET dataset_quality on loopback: its canned
    Purchase row has EMQ 7.8 and coverage 81.5 % -> stored as 7.8 and 0.815."""
    db = store.path
    store.close()
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    with Sandbox(token=TOKEN) as sandbox:
        code = main(
            ["--db", db, "meta-quality", "fetch", "--pixel-id", "111", "--base-url", sandbox.base_url]
        )
        (request,) = sandbox.requests
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "snapshot 1: pixel 111, 3 events" in out.out and TOKEN not in out.out + out.err
    assert request["token_via"] == "header" and TOKEN not in json.dumps(request)
    assert main(["--db", db, "meta-quality", "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["snapshot_id", "fetched_at", "pixel_id", "source", "source_name", "events"]
    assert row.split()[3:5] == ["111", "api"]
    with Store(db) as reopened:
        assert TOKEN not in _everything_stored(reopened)
        row = reopened.query(
            "t", "select emq, event_coverage from meta_quality_events where event_name = 'Purchase'"
        ).rows
        assert row == [(7.8, 0.815)]


def test_cli_fetch_refused_by_the_sandbox(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token the sandbox does not accept: Graph code 190, exit 2, the token nowhere in the message."""
    db = store.path
    store.close()
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    with Sandbox(token="EAAanotherTokenThatIsAccepted12345") as sandbox:
        code = main(
            ["--db", db, "meta-quality", "fetch", "--pixel-id", "111", "--base-url", sandbox.base_url]
        )
    err = capsys.readouterr().err
    assert code == 2 and "190" in err and TOKEN not in err
    with Store(db) as reopened:
        assert not has_snapshots(reopened)


def test_cli_fetch_needs_the_token_variable(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store.close()
    monkeypatch.delenv("META_ACCESS_TOKEN", raising=False)
    assert main(["--db", store.path, "meta-quality", "fetch", "--pixel-id", "111"]) == 2
    assert "set META_ACCESS_TOKEN" in capsys.readouterr().err


def test_cli_load_and_list(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    store.close()
    db = store.path
    assert main(["--db", db, "meta-quality", "list"]) == 0
    assert "no Dataset Quality snapshots yet" in capsys.readouterr().out
    assert (
        main(["--db", db, "meta-quality", "load", str(FIXTURE)]) == 2
    )  # no pixel in the store to default to
    assert "--pixel-id" in capsys.readouterr().err
    args = ["--db", db, "meta-quality", "load", str(FIXTURE), "--pixel-id", "111", "--at", "2026-11-03T09:30"]
    assert main(args) == 0
    assert "snapshot 1: pixel 111, 3 events, 2026-11-03 09:30 UTC" in capsys.readouterr().out
    assert main(args) == 0
    assert "already stored as snapshot 1" in capsys.readouterr().out
    later = [*args[:-1], "2026-11-29T09:00"]
    assert main(later) == 0
    assert "snapshot 2: pixel 111, 3 events, 2026-11-29 09:00 UTC" in capsys.readouterr().out


# --- the trend next to our estimates -------------------------------------------------------------


def _ud(n: int) -> dict[str, Any]:
    return {"fbp": f"fb.1.1762000000000.{n}", "client_user_agent": UA}


def _copies(store: Store) -> None:
    """Pixel 111 on 2026-11-02: browser copies 1001 and 1003; server copies 1001 (1 min later), 1002 and one
    without event_id (another fbp). Event coverage = browser copies with a server copy of the same id = 1/2;
    event_id on 2/2 browser and 2/3 server copies; every server copy sent within 1 h: real-time share 3/3."""
    load(
        store,
        [
            copy("browser", event_id="1001", minute=0, user_data=_ud(1)),
            copy("server", event_id="1001", minute=0, sent_minute=1, user_data=_ud(1)),
            copy("server", event_id="1002", minute=60, user_data=_ud(2)),
            copy("browser", event_id="1003", minute=120, user_data=_ud(3)),
            copy("server", event_id=None, minute=120, user_data=_ud(33)),
        ],
    )


def test_trend_sets_meta_figures_next_to_ours(store: Store) -> None:
    _copies(store)
    dq.load_file(store, FIXTURE, pixel_id="111", fetched_at=AT)
    rows = {r.event_name: r for r in meta_quality_trend(store, Scope())}
    purchase = rows["Purchase"]
    assert (purchase.meta_emq, purchase.meta_event_coverage, purchase.coverage_goal) == (7.4, 0.642, 0.75)
    # our window: 7 days ending on the last event day (11-02, before the snapshot day 11-03)
    assert (purchase.our_from, purchase.our_to) == (dt.date(2026, 10, 27), dt.date(2026, 11, 2))
    assert purchase.our_event_coverage == pytest.approx(0.5)
    window = Scope(date_from=dt.date(2026, 10, 27), date_to=dt.date(2026, 11, 2), pixel_id="111")
    (ours,) = [e for e in quality.emq_estimates(store, window) if e.event_name == "Purchase"]
    assert purchase.our_emq == ours.score
    assert purchase.our_real_time_share == 1.0 and purchase.meta_upload_frequency == "real_time"
    keys = {k.key: k for k in purchase.dedupe_keys}
    assert (keys["event_id"].meta_browser_share, keys["event_id"].our_browser_share) == (0.981, 1.0)
    assert keys["event_id"].our_server_share == pytest.approx(2 / 3)
    assert keys["event_id"].meta_browser_coverage == pytest.approx(0.63)
    assert rows["AddToCart"].our_emq is None and rows["AddToCart"].our_event_coverage is None


def test_trend_filters(store: Store) -> None:
    _copies(store)
    dq.load_file(store, FIXTURE, pixel_id="111", fetched_at=AT)
    dq.load_file(store, FIXTURE, pixel_id="222", fetched_at=AT + dt.timedelta(days=7))
    assert {r.pixel_id for r in meta_quality_trend(store, Scope(pixel_id="222"))} == {"222"}
    assert {r.event_name for r in meta_quality_trend(store, Scope(event_names=("Purchase",)))} == {"Purchase"}
    later = meta_quality_trend(store, Scope(date_from=dt.date(2026, 11, 5)))
    assert {r.snapshot_id for r in later} == {2}
    assert all(r.our_from is None and r.our_emq is None for r in later)  # no events of pixel 222


# --- migration -----------------------------------------------------------------------------------


def test_a_version_1_store_migrates_to_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    for statement in MIGRATIONS[1]:
        con.execute(statement)
    con.execute("insert into schema_info values (1, now())")
    con.execute("insert into meta_quality_snapshots values (timestamp '2026-11-01 10:00', '111', '{}')")
    con.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION  # v2 added the snapshot ids, later versions keep them
        row = store.query("t", "select snapshot_id, source, pixel_id from meta_quality_snapshots").rows
        assert row == [(1, "unknown", "111")]
        assert store.query("t", "select count(*) from meta_reported").scalar() == 0
        assert dq.load_file(store, FIXTURE, pixel_id="111", fetched_at=AT).snapshot_id == 2
