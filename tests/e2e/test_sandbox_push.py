"""The push against the sandbox as a real HTTP server on loopback, and the push/sandbox CLI commands.

Events are built relative to the real clock (the sandbox and pre-flight both use it); hashes are
SHA-256 of fixed strings.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from capi_core.cli import main
from capi_core.meta.graph_api import GraphClient, GraphError
from capi_core.meta.push import push_history, push_test_events
from capi_core.meta.sandbox import Sandbox
from capi_core.store import Store

TOKEN = "sandbox-test-token"
EM = hashlib.sha256(b"jane@example.com").hexdigest()
GE = hashlib.sha256(b"f").hexdigest()
FN = hashlib.sha256(b"jane").hexdigest()
UA = "Mozilla/5.0 (X11; Linux x86_64)"


def event(i: int = 0, **changes: Any) -> dict[str, Any]:
    """A valid website Purchase one hour old; ``changes`` replace top-level fields (None deletes)."""
    body: dict[str, Any] = {
        "event_name": "Purchase",
        "event_time": int(time.time()) - 3600,
        "event_id": f"order-{i}",
        "action_source": "website",
        "event_source_url": "https://shop.example/thanks",
        "user_data": {"em": EM, "client_user_agent": UA, "fbp": "fb.1.1596403881668.1116446470"},
        "custom_data": {"value": 42.5, "currency": "EUR"},
    }
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(port=0) as sb:
        yield sb


def push(store: Store, sb: Sandbox, events: list[dict[str, Any]], **kwargs: Any) -> Any:
    return push_test_events(
        store,
        pixel_id="1234567890123456",
        events=events,
        test_event_code="TEST123",
        token=TOKEN,
        base_url=sb.base_url,
        backoff_s=0.01,
        **kwargs,
    )


def raw_post(sb: Sandbox, body: Any, *, path: str = "/v26.0/123/events", **kwargs: Any) -> httpx.Response:
    headers = kwargs.pop("headers", {"Authorization": f"Bearer {TOKEN}"})
    return httpx.post(sb.base_url + path, json=body, headers=headers, **kwargs)


def test_binds_loopback_only(sandbox: Sandbox) -> None:
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert sandbox.port > 0


def test_push_success_is_logged(store: Store, sandbox: Sandbox) -> None:
    outcome = push(store, sandbox, [event(0), event(1), event(2)])
    assert outcome.ok and outcome.events_received == 3
    [batch] = outcome.batches
    assert batch.http_status == 200 and batch.fbtrace_id and batch.messages == []
    [received] = sandbox.requests
    assert received["test_event_code"] == "TEST123" and received["token_via"] == "header"
    assert len(received["events"]) == 3 and received["path"] == "/v26.0/1234567890123456/events"
    [logged] = push_history(store)
    assert (logged["pixel_id"], logged["test_event_code"], logged["events"]) == (
        "1234567890123456",
        "TEST123",
        3,
    )
    assert logged["base_url"] == f"{sandbox.base_url}/v26.0" and logged["http_status"] == 200
    assert logged["events_received"] == 3 and logged["fbtrace_id"] == batch.fbtrace_id


def test_push_splits_into_requests_of_1000(store: Store, sandbox: Sandbox) -> None:
    """1,001 events -> requests of 1,000 and 1; two push_log rows."""
    outcome = push(store, sandbox, [event(i) for i in range(1001)])
    assert outcome.ok and [b.events_received for b in outcome.batches] == [1000, 1]
    assert [len(r["events"]) for r in sandbox.requests] == [1000, 1]
    assert sorted(row["events"] for row in push_history(store)) == [1, 1000]


def test_preflight_refusal_sends_nothing(store: Store, sandbox: Sandbox) -> None:
    outcome = push(store, sandbox, [event(0), event(1, event_time=int(time.time()) - 8 * 86400)])
    assert outcome.refused and not outcome.ok
    assert [p.path for p in outcome.problems] == ["data[1].event_time"]
    assert sandbox.requests == [] and push_history(store) == []


def test_push_requires_test_event_code(store: Store, sandbox: Sandbox) -> None:
    from capi_core.errors import InputError

    with pytest.raises(InputError, match="test_event_code"):
        push_test_events(
            store, pixel_id="1", events=[event()], test_event_code=" ", token=TOKEN, base_url=sandbox.base_url
        )
    assert sandbox.requests == []


UNHASHED = {"em": "jane@example.com", "client_user_agent": UA}


@pytest.mark.parametrize(
    ("events", "subcode", "title"),
    [
        ([event(event_time=int(time.time()) - 8 * 86400)], 2804003, "Event Timestamp Too Old"),
        ([event(action_source="email", user_data={"fn": FN, "ge": GE})], 2804050, None),
        ([event(user_data=UNHASHED)], 2804016, "User Parameter Not Hashed"),
        ([event(custom_data={"currency": "EUR"})], 2804009, "Missing Value for Purchase Event"),
        ([event(event_name=None)], None, None),
        ([event(event_source_url=None)], None, None),
        ([event(user_data={"em": EM})], None, None),  # website without client_user_agent
        ([event(action_source="web")], None, None),
        ([event(custom_data={"value": 1, "currency": "EURO"})], None, None),
        ([event(user_data={"em": EM, "client_user_agent": UA, "fbc": "AbCdEf"})], None, None),
        ([event(user_data={"em": EM, "client_user_agent": UA, "fbp": EM})], None, None),
        ([event(event_time=int(time.time()) * 1000)], None, None),
        ([event(i) for i in range(1001)], None, "Invalid Request"),
    ],
)
def test_validation_errors_are_meta_shaped(
    sandbox: Sandbox, events: list[dict[str, Any]], subcode: int | None, title: str | None
) -> None:
    response = raw_post(sandbox, {"data": events, "test_event_code": "T"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100 and error["type"] == "OAuthException"
    assert error.get("error_subcode") == subcode
    assert error["is_transient"] is False and error["fbtrace_id"]
    assert error["error_user_msg"] and error["error_user_title"]
    if title:
        assert error["error_user_title"] == title


def test_one_stale_event_rejects_the_whole_request(sandbox: Sandbox) -> None:
    stale = event(9, event_time=int(time.time()) - 7 * 86400 - 120)
    with GraphClient(TOKEN, base_url=sandbox.base_url, backoff_s=0.01) as client:
        [result] = client.post_events("123", [event(0), event(1), event(2), stale], test_event_code="T")
    assert not result.ok and result.events_received is None
    assert result.error is not None and result.error.subcode == 2804003
    assert "data[3].event_time" in (result.error.user_message or "")
    assert result.attempts == 1  # never retried


@pytest.mark.parametrize(("days", "accepted"), [(30, True), (62, True), (63, False)])
def test_physical_store_events_may_be_62_days_old(sandbox: Sandbox, days: int, accepted: bool) -> None:
    """Meta: physical_store events within 62 days of the conversion (website events: 7 days, above)."""
    offline = event(0, action_source="physical_store", event_source_url=None)
    offline["event_time"] = int(time.time()) - days * 86400 + 60  # a minute inside the day count
    answer = raw_post(sandbox, {"data": [offline]})
    assert (answer.status_code == 200) == accepted, answer.text
    if not accepted:
        assert answer.json()["error"]["error_subcode"] == 2804003


@pytest.mark.parametrize(
    ("body", "path", "headers", "code", "subcode"),
    [
        ({"data": [event()]}, "/v26.0/123/events", {}, 104, None),  # no token
        ({"data": [event()]}, "/v26.0/not-a-pixel/events", None, 100, 33),
        ({"test_event_code": "T"}, "/v26.0/123/events", None, 100, None),  # no data
        ({"data": "nope"}, "/v26.0/123/events", None, 100, None),
        ([event()], "/v26.0/123/events", None, 100, None),  # not an object
    ],
)
def test_request_errors(
    sandbox: Sandbox, body: Any, path: str, headers: dict[str, str] | None, code: int, subcode: int | None
) -> None:
    kwargs: dict[str, Any] = {} if headers is None else {"headers": headers}
    response = raw_post(sandbox, body, path=path, **kwargs)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error.get("error_subcode")) == (code, subcode)


def test_wrong_token_is_190() -> None:
    with Sandbox(token="the-right-one") as sb:
        response = raw_post(sb, {"data": [event()]})
        assert response.json()["error"]["code"] == 190
        ok = raw_post(sb, {"data": [event()]}, headers={"Authorization": "Bearer the-right-one"})
        assert ok.status_code == 200


def test_token_as_query_or_form_field_like_meta(sandbox: Sandbox) -> None:
    """Meta also takes access_token in the query string or as a form field (our client never does)."""
    query = httpx.post(f"{sandbox.base_url}/v26.0/123/events?access_token={TOKEN}", json={"data": [event()]})
    form = httpx.post(
        f"{sandbox.base_url}/v26.0/123/events",
        data={"access_token": TOKEN, "data": json.dumps([event()]), "test_event_code": "T"},
    )
    assert query.json()["events_received"] == 1 and form.json()["events_received"] == 1
    first, second = sandbox.requests
    assert first["token_via"] == "query" and "access_token=***" in first["path"]
    assert second["token_via"] == "body" and second["test_event_code"] == "T"
    assert TOKEN not in json.dumps(sandbox.requests)


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, None), (503, None), (500, 2), (400, 4), (400, 17), (500, 17), (400, 341), (400, 368), (400, 613)],
)
def test_retries_injected_failures_then_succeeds(
    store: Store, sandbox: Sandbox, status: int, code: int | None
) -> None:
    sandbox.fail_next(status, code=code, times=2)
    outcome = push(store, sandbox, [event()])
    assert outcome.ok
    [batch] = outcome.batches
    assert batch.attempts == 3 and batch.events_received == 1
    assert [r["status"] for r in sandbox.requests] == [status, status, 200]
    [logged] = push_history(store)
    assert logged["http_status"] == 200


def test_gives_up_after_retries(store: Store, sandbox: Sandbox) -> None:
    """max_retries=3: 4 attempts, all throttled, the Graph error is logged."""
    sandbox.fail_next(400, code=17, times=10)
    outcome = push(store, sandbox, [event()])
    assert not outcome.ok and outcome.batches[0].attempts == 4
    [logged] = push_history(store)
    assert logged["error_code"] == 17 and logged["http_status"] == 400 and logged["fbtrace_id"]


def test_never_retries_code_100(store: Store, sandbox: Sandbox) -> None:
    sandbox.fail_next(400, code=100, times=5)
    outcome = push(store, sandbox, [event()])
    assert len(sandbox.requests) == 1
    err = outcome.batches[0].error
    assert err is not None and (err.code, err.status) == (100, 400)


def test_fail_endpoint(sandbox: Sandbox) -> None:
    answer = httpx.post(f"{sandbox.base_url}/_sandbox/fail", json={"status": 500, "code": 17, "times": 2})
    assert answer.json()["success"] is True
    bad = httpx.post(f"{sandbox.base_url}/_sandbox/fail", json={"status": "x"})
    assert bad.status_code == 400
    statuses = [raw_post(sandbox, {"data": [event()]}).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    recorded = httpx.get(f"{sandbox.base_url}/_sandbox/requests").json()["requests"]
    assert [r["status"] for r in recorded] == [500, 500, 200]
    httpx.delete(f"{sandbox.base_url}/_sandbox/requests")
    assert sandbox.requests == []


def test_dataset_quality_end_to_end(sandbox: Sandbox) -> None:
    with GraphClient(TOKEN, base_url=sandbox.base_url) as client:
        body = client.get("dataset_quality", params={"dataset_id": "1234567890123456", "fields": "web{...}"})
        with pytest.raises(GraphError) as missing:
            client.get("dataset_quality")
    names = [row["event_name"] for row in body["web"]]
    assert names == ["Purchase", "AddToCart", "ViewContent"]
    purchase = body["web"][0]
    assert purchase["event_match_quality"]["composite_score"] == 7.8
    assert purchase["event_coverage"]["goal_percentage"] == 75
    assert [k["dedupe_key"] for k in purchase["dedupe_key_feedback"]] == ["event_id", "external_id", "fbp"]
    assert purchase["data_freshness"]["upload_frequency"] == "real_time"
    assert missing.value.code == 100


def test_record_file(tmp_path: Path) -> None:
    record = tmp_path / "received.jsonl"
    with Sandbox(record=record) as sb:
        raw_post(sb, {"data": [event()], "access_token": TOKEN})
    lines = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1 and lines[0]["status"] == 200
    assert TOKEN not in record.read_text(encoding="utf-8")


# -- CLI ---------------------------------------------------------------------------------------------


def write_events(path: Path, events: list[dict[str, Any]], *, jsonl: bool = False) -> Path:
    if jsonl:
        path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    else:
        path.write_text(json.dumps({"data": events}), encoding="utf-8")
    return path


def test_cli_push_success_and_refusal(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    db = str(tmp_path / "s.duckdb")
    good = write_events(tmp_path / "good.jsonl", [event(0), event(1)], jsonl=True)
    args = [
        "--db",
        db,
        "push",
        "--pixel-id",
        "123",
        "--test-event-code",
        "TEST9",
        "--base-url",
        sandbox.base_url,
    ]
    assert main([*args, "--events", str(good)]) == 0
    out = capsys.readouterr().out
    assert "events_received 2" in out and "Meta received 2 of 2" in out
    bad = write_events(tmp_path / "bad.json", [event(0, action_source="web")])
    assert main([*args, "--events", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "data[0].action_source" in err
    assert len(sandbox.requests) == 1


def test_cli_push_prints_graph_error(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    sandbox.fail_next(400, code=100, times=1)
    good = write_events(tmp_path / "good.json", [event()])
    args = ["--db", str(tmp_path / "s.duckdb"), "push", "--pixel-id", "123", "--test-event-code", "T"]
    code = main([*args, "--base-url", sandbox.base_url, "--events", str(good)])
    out = capsys.readouterr()
    assert code == 2
    assert "Graph error code 100" in out.out and "fbtrace_id: Sbx" in out.out
    assert "None" not in out.out  # only the parts Meta gave are printed


def test_cli_push_network_error_prints_no_missing_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A closed port: no HTTP status, no Graph code, subcode or title exist, so none is printed (the 3
    retries wait 0.5 + 1 + 2 s)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    good = write_events(tmp_path / "good.json", [event()])
    args = ["--db", str(tmp_path / "s.duckdb"), "push", "--pixel-id", "123", "--test-event-code", "T"]
    assert main([*args, "--base-url", f"http://127.0.0.1:{port}", "--events", str(good)]) == 2
    out = capsys.readouterr().out
    assert "after 4 attempt(s)" in out and "message:" in out
    assert "None" not in out and "HTTP" not in out and "subcode" not in out and "title" not in out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x", "must start with http:// or https:// (got ftp://)"),
        ("127.0.0.1:8787", "must start with http:// or https://"),
        ("http://", "names no host"),
        ("http://user:pw@127.0.0.1:8787", "user name or password"),
        ("http://127.0.0.1:8787/?access_token=SECRETQ", "has a query string"),
        ("http://127.0.0.1:8787/#frag", "has a #fragment"),
    ],
)
def test_cli_push_refuses_a_bad_base_url_up_front(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    message: str,
) -> None:
    """Refused before the token or the events are read: exit 2, nothing sent, retried or logged, and the
    query or password is not repeated."""
    monkeypatch.delenv("META_ACCESS_TOKEN", raising=False)
    db = tmp_path / "s.duckdb"
    args = ["--db", str(db), "push", "--pixel-id", "123", "--test-event-code", "T", "--base-url", url]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "SECRETQ" not in err and "pw@" not in err
    if db.exists():
        with Store(db) as store:
            assert push_history(store) == []


def test_cli_push_without_token_or_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("META_ACCESS_TOKEN", raising=False)
    args = ["--db", str(tmp_path / "s.duckdb"), "push", "--pixel-id", "1", "--test-event-code", "T"]
    assert main(args) == 2
    assert "META_ACCESS_TOKEN is not set" in capsys.readouterr().err
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    assert main(args) == 2
    assert "--events FILE" in capsys.readouterr().err
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"event_name": "Purchase"}\n{oops\n', encoding="utf-8")
    assert main([*args, "--events", str(broken)]) == 2
    assert "line 2 is not JSON" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"sandbox exited early: {process.stderr.read() if process.stderr else ''}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("sandbox did not start")


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``capi-desk sandbox`` in a subprocess on a free port, failing the first request with code 17."""
    port = free_port()
    record = tmp_path / "sandbox.jsonl"
    command = [sys.executable, "-m", "capi_core", "sandbox", "--port", str(port), "--record", str(record)]
    command += ["--fail-code", "17", "--fail-times", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/_sandbox/requests", process)
        yield base, record
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_cli_sandbox_and_push_in_subprocesses(tmp_path: Path, sandbox_process: tuple[str, Path]) -> None:
    """The throttled first request is retried (0.5 s backoff), the second succeeds."""
    base, record = sandbox_process
    good = write_events(tmp_path / "good.json", [event(0), event(1)])
    env = {**os.environ, "META_ACCESS_TOKEN": TOKEN}
    command = [sys.executable, "-m", "capi_core", "--db", str(tmp_path / "s.duckdb"), "push"]
    command += ["--pixel-id", "123", "--test-event-code", "TEST1", "--base-url", base, "--events", str(good)]
    out = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "events_received 2" in out.stdout
    statuses = [json.loads(line)["status"] for line in record.read_text(encoding="utf-8").splitlines()]
    assert statuses == [400, 200]
    assert TOKEN not in record.read_text(encoding="utf-8")


def test_cli_sandbox_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(port=0) as sb:
        assert main(["sandbox", "--port", str(sb.port)]) == 2
    assert "pick another --port" in capsys.readouterr().err


def test_json_body_sent_with_a_form_content_type(sandbox: Sandbox) -> None:
    """``curl -d '{...}'`` labels JSON as a form; the sandbox reads it as JSON anyway."""
    response = httpx.post(
        f"{sandbox.base_url}/v26.0/123/events",
        content=json.dumps({"data": [event()]}),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json()["events_received"] == 1


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (json.dumps([{"a": 1}, {"a": 2}]), 2),
        (json.dumps({"data": [{"a": 1}], "access_token": "x"}), 1),
        (json.dumps({"event_name": "Purchase"}), 1),
        ('{"event_name": "A"}\n\n{"data": [{"b": 1}, {"b": 2}]}\n', 3),
    ],
)
def test_read_events_shapes(tmp_path: Path, text: str, count: int) -> None:
    from capi_core.cli.push import read_events

    path = tmp_path / "events.json"
    path.write_text(text, encoding="utf-8")
    assert len(read_events(str(path))) == count
