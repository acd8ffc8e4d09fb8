"""The access token never leaves the Authorization header: not in the store, logs, output, exception
texts, or what the sandbox records — through success, refusal, Graph-error, echo and network-error paths.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from capi_core.cli import main
from capi_core.errors import InputError
from capi_core.meta.graph_api import GraphClient, GraphError
from capi_core.meta.push import push_history, push_test_events
from capi_core.meta.sandbox import Sandbox
from capi_core.store import Store

CANARY = "zzCanaryTok3n-7f3a9c1e5b"
EM = hashlib.sha256(b"jane@example.com").hexdigest()


def event(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_name": "Purchase",
        "event_time": int(time.time()) - 600,
        "action_source": "email",
        "user_data": {"em": EM},
        "custom_data": {"value": 10, "currency": "EUR"},
    }
    body.update(changes)
    return body


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def echo_token(request: httpx.Request) -> httpx.Response:
    """A hostile server that echoes the bearer token in its error (a proxy might)."""
    token = request.headers["authorization"].removeprefix("Bearer ")
    body = {
        "error": {"message": f"bad token {token}", "error_user_msg": f"access_token={token}", "code": 190}
    }
    return httpx.Response(401, json=body)


def store_text(path: Path) -> str:
    """Every cell of every table of the store file, as text, plus the file's raw bytes."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()
        ]
        cells = []
        for table in tables:
            for row in con.execute(f'select * from "{table}"').fetchall():
                cells.append(json.dumps(row, default=str))
    finally:
        con.close()
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return "\n".join(cells) + raw.decode("latin-1")


def test_token_appears_nowhere(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "store.duckdb"
    record = tmp_path / "sandbox.jsonl"
    texts: list[str] = []
    with Sandbox(record=record) as sb, Store(db) as store:

        def push(**kwargs: Any) -> Any:
            defaults: dict[str, Any] = {
                "pixel_id": "123",
                "events": [event()],
                "test_event_code": "TEST1",
                "token": CANARY,
                "base_url": sb.base_url,
                "backoff_s": 0.01,
            }
            return push_test_events(store, **{**defaults, **kwargs})

        outcomes = [push()]  # success
        outcomes.append(push(events=[event(action_source="web")]))  # pre-flight refusal
        sb.fail_next(400, code=100)
        outcomes.append(push())  # Graph error, not retried
        sb.fail_next(500, times=4)
        outcomes.append(push())  # 5xx until we give up
        outcomes.append(push(transport=httpx.MockTransport(echo_token)))  # token echoed back
        outcomes.append(push(base_url=f"http://127.0.0.1:{closed_port()}", max_retries=1))  # network
        # a token pasted into the base URL's query string: refused up front, never sent, logged or echoed
        with pytest.raises(InputError, match="query string") as refused:
            push(base_url=f"{sb.base_url}/?access_token={CANARY}")
        texts += [str(refused.value), repr(refused.value)]
        texts += [outcome.model_dump_json() for outcome in outcomes]
        texts += [outcome.summary() for outcome in outcomes]
        texts.append(json.dumps(push_history(store), default=str))
        # raw posts the way other people's code does it (query string, form field): the sandbox must not
        # record the token; httpx's own log of that URL is theirs, not ours, so it is kept out of caplog
        with caplog.at_level(logging.WARNING):
            httpx.post(f"{sb.base_url}/v26.0/123/events?access_token={CANARY}", json={"data": [event()]})
            httpx.post(f"{sb.base_url}/v26.0/123/events", data={"access_token": CANARY, "data": "[]"})
        with GraphClient(CANARY, base_url=sb.base_url) as client:
            texts.append(repr(client))
            for call in (
                lambda: client.get("dataset_quality"),
                lambda: GraphClient(CANARY, transport=httpx.MockTransport(echo_token)).get("me"),
            ):
                with pytest.raises(GraphError) as caught:
                    call()
                texts += [str(caught.value), repr(caught.value), caught.value.info.model_dump_json()]
        texts.append(json.dumps(sb.requests))
        monkeypatch.setenv("META_ACCESS_TOKEN", CANARY)
        events_file = tmp_path / "events.json"
        events_file.write_text(json.dumps([event()]), encoding="utf-8")
        cli = ["--db", str(tmp_path / "cli.duckdb"), "push", "--pixel-id", "123", "--test-event-code", "T"]
        assert main([*cli, "--base-url", sb.base_url, "--events", str(events_file)]) == 0
        query_url = f"{sb.base_url}/?access_token={CANARY}"
        assert main([*cli, "--base-url", query_url, "--events", str(events_file)]) == 2
        sb.fail_next(400, code=17, times=9)
        assert main([*cli, "--base-url", sb.base_url, "--events", str(events_file), "--json"]) == 2
    assert outcomes[0].ok and outcomes[1].refused and not any(o.ok for o in outcomes[2:])
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    texts += [str(r.args) + r.getMessage() for r in caplog.records]
    texts += [record.read_text(encoding="utf-8"), store_text(db), store_text(tmp_path / "cli.duckdb")]
    assert any("httpx" in r.name for r in caplog.records)  # the HTTP layer did log, at DEBUG/INFO
    leaks = [text[max(0, text.find(CANARY) - 150) :][:200] for text in texts if CANARY in text]
    assert leaks == []


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """A hostile Graph stand-in: echoes the bearer token in every field of its answer, fbtrace_id and type
    included; the first POST is refused (Graph error), the next ones are accepted."""

    answered = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        token = self.headers["Authorization"].split(" ", 1)[1]
        type(self).answered += 1
        if type(self).answered == 1:
            status, body = 400, {"error": {
                "message": f"bad {token}", "type": token, "code": 100, "error_subcode": 1,
                "error_user_title": token, "error_user_msg": token, "fbtrace_id": token}}  # fmt: skip
        else:
            status, body = 200, {"events_received": 1, "messages": [token], "fbtrace_id": token}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return


@pytest.mark.parametrize("token", ["k9Tz2", "EchoedTok3n-long-enough"], ids=["short", "long"])
def test_cli_push_to_an_echoing_server_never_prints_the_token(tmp_path: Path, token: str) -> None:
    """Case 7: `capi-desk push` (a subprocess) against a server that echoes the token as fbtrace_id,
    type, title and messages: the token (5 characters or more) is in no output, the push log or the store
    file; the Graph error and the accepted answer are still shown (with *** for the token)."""
    _EchoHandler.answered = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    events = tmp_path / "events.json"
    events.write_text(json.dumps([event()]), encoding="utf-8")
    db = tmp_path / "store.duckdb"
    base = f"http://127.0.0.1:{server.server_address[1]}"
    outputs = []
    try:
        for flags in ([], ["--json"]):
            out = subprocess.run(
                [sys.executable, "-m", "capi_core", "--db", str(db), "push", "--pixel-id", "123",
                 "--test-event-code", "T1", "--base-url", base, "--events", str(events), *flags],
                capture_output=True, text=True, check=False, timeout=120,
                env={**os.environ, "META_ACCESS_TOKEN": token},
            )  # fmt: skip
            outputs.append(out.stdout + out.stderr)
    finally:
        server.shutdown()
        server.server_close()
    assert "Graph error code 100" in outputs[0] and "fbtrace_id: ***" in outputs[0]
    (accepted,) = json.loads(outputs[1])["batches"]
    assert accepted["ok"] and accepted["fbtrace_id"] == "***" and accepted["messages"] == ["***"]
    leaks = [text for text in [*outputs, store_text(db)] if token in text]
    assert leaks == []
