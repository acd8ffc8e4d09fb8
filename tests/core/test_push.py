"""push_test_events and push_history with a MockTransport: what is sent, refused and logged."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from capi_core.errors import InputError
from capi_core.meta.push import push_history, push_test_events
from capi_core.store import Store

NOW = 1_795_000_000
TOKEN = "token-for-push-tests"
EVENT = {
    "event_name": "Lead",
    "event_time": NOW - 60,
    "action_source": "system_generated",
    "user_data": {"em": hashlib.sha256(b"a@b.co").hexdigest()},
}


def run(store: Store, handler: Any, events: list[dict[str, Any]] | None = None, **kwargs: Any) -> Any:
    return push_test_events(
        store,
        pixel_id="42",
        events=[EVENT] if events is None else events,
        test_event_code="TEST7",
        token=TOKEN,
        transport=httpx.MockTransport(handler),
        now=NOW,
        sleep=lambda _s: None,
        **kwargs,
    )


def accepted(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"events_received": 1, "messages": [], "fbtrace_id": "T1"})


def test_success_is_logged_with_the_answer(store: Store) -> None:
    outcome = run(store, accepted)
    assert outcome.ok and outcome.events_received == 1
    assert outcome.summary() == "Meta received 1 of 1 test event(s) (test_event_code TEST7; fbtrace_id T1)"
    [row] = push_history(store)
    assert row["base_url"] == "https://graph.facebook.com/v26.0" and row["events"] == 1
    assert json.loads(row["response"]) == {"events_received": 1, "fbtrace_id": "T1", "messages": []}
    assert (row["events_received"], row["fbtrace_id"], row["error_code"]) == (1, "T1", None)


def test_refusal_sends_and_logs_nothing(store: Store) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return accepted(request)

    outcome = run(store, record, events=[{**EVENT, "event_time": NOW - 8 * 86400}])
    assert outcome.refused and sent == [] and push_history(store) == []
    assert outcome.summary() == "not sent: 1 problem(s) found before sending"


def test_network_failure_is_logged_without_status(store: Store) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    outcome = run(store, down, max_retries=1)
    assert not outcome.ok and outcome.batches[0].attempts == 2
    [row] = push_history(store)
    assert row["http_status"] is None and "network error" in row["error_message"]
    assert outcome.summary().startswith("request 1 of 1 failed: network error")


def test_graph_error_is_logged(store: Store) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": "Invalid parameter", "code": 100, "error_subcode": 2804050,
                          "error_user_title": "Too broad", "fbtrace_id": "F9"}}  # fmt: skip
        return httpx.Response(400, json=body)

    run(store, refused)
    [row] = push_history(store)
    assert (row["http_status"], row["error_code"], row["error_subcode"]) == (400, 100, 2804050)
    assert (row["error_title"], row["fbtrace_id"]) == ("Too broad", "F9")


def test_history_newest_first_and_limited(store: Store) -> None:
    for _ in range(3):
        run(store, accepted)
    assert len(push_history(store, limit=2)) == 2


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"test_event_code": None}, "test_event_code"),
        ({"test_event_code": "  "}, "test_event_code"),
        ({"token": None}, "access token"),
        ({"pixel_id": "my pixel"}, "not a number"),
    ],
)
def test_input_errors(store: Store, changes: dict[str, Any], match: str) -> None:
    kwargs: dict[str, Any] = {
        "pixel_id": "42", "events": [EVENT], "test_event_code": "T", "token": TOKEN, "now": NOW,
    }  # fmt: skip
    with pytest.raises(InputError, match=match):
        push_test_events(store, **{**kwargs, **changes})


@pytest.mark.parametrize(
    "base_url", ["ftp://x", "http://127.0.0.1:18787/?access_token=TOKENINURL", "http://u:p@127.0.0.1:1"]
)
def test_a_bad_base_url_is_refused_before_sending_or_logging(store: Store, base_url: str) -> None:
    """Not retried as a network error: refused at once, nothing sent, nothing in the push log."""
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return accepted(request)

    with pytest.raises(InputError, match="base URL") as caught:
        run(store, record, base_url=base_url)
    assert "TOKENINURL" not in str(caught.value)
    assert sent == [] and push_history(store) == []


def test_error_lines_print_only_the_parts_that_exist() -> None:
    """A network error has a message only; a Graph error without subcode or title names code and HTTP."""
    from capi_core.cli.push import error_lines
    from capi_core.meta.graph_api import GraphErrorInfo

    network = error_lines("request 1/1 (1 events)", GraphErrorInfo(message="connection refused"), 4)
    assert network == "request 1/1 (1 events): after 4 attempt(s)\n  message: connection refused"
    graph = error_lines("r", GraphErrorInfo(status=400, code=100, message="Invalid", fbtrace_id="T"), 1)
    assert (
        graph == "r: Graph error code 100, HTTP 400, after 1 attempt(s)\n  message: Invalid\n  fbtrace_id: T"
    )
