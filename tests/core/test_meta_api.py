"""GraphClient against httpx.MockTransport: batching, retry policy, error parsing, token handling."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from capi_core.errors import CapiDeskError, InputError
from capi_core.meta.graph_api import (
    DEFAULT_BASE_URL,
    DEFAULT_VERSION,
    GraphClient,
    GraphError,
    check_base_url,
    parse_error,
    resolve_token,
    scrub,
)

TOKEN = "EAAtestTOKEN1234567890abcdefSECRET"
NOW = 1_795_000_000  # fixed clock for the 7-day re-check


def event(i: int = 0, when: int = NOW - 60) -> dict[str, Any]:
    return {"event_name": "Purchase", "event_time": when, "event_id": f"o{i}", "action_source": "email"}


def graph_error(code: int, subcode: int | None = None, status: int = 400) -> httpx.Response:
    body: dict[str, Any] = {
        "error": {
            "message": "Invalid parameter",
            "type": "OAuthException",
            "code": code,
            "error_subcode": subcode,
            "is_transient": False,
            "error_user_title": "Event Timestamp Too Old",
            "error_user_msg": "The timestamp for this event is too far in the past.",
            "fbtrace_id": "AbCtrace",
        }
    }
    return httpx.Response(status, json=body)


def ok(request: httpx.Request) -> httpx.Response:
    sent = json.loads(request.content)
    return httpx.Response(
        200, json={"events_received": len(sent["data"]), "messages": [], "fbtrace_id": "Ok1"}
    )


class Recorder:
    """A MockTransport handler that answers from a script and records requests and sleeps."""

    def __init__(self, answers: list[Callable[[httpx.Request], httpx.Response] | httpx.Response]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(request) if callable(answer) else answer

    def client(self, **kwargs: Any) -> GraphClient:
        return GraphClient(
            TOKEN,
            transport=httpx.MockTransport(self),
            sleep=self.sleeps.append,
            clock=lambda: NOW,
            **kwargs,
        )


def test_defaults() -> None:
    assert DEFAULT_VERSION == "v26.0"
    assert DEFAULT_BASE_URL == "https://graph.facebook.com"


def test_batches_of_at_most_1000() -> None:
    """2,501 events -> requests of 1000, 1000 and 501 (2501 = 2 x 1000 + 501)."""
    rec = Recorder([ok])
    with rec.client() as client:
        results = client.post_events("123", [event(i) for i in range(2501)], test_event_code="TEST1")
    sizes = [len(json.loads(r.content)["data"]) for r in rec.requests]
    assert sizes == [1000, 1000, 501]
    assert [r.events_received for r in results] == [1000, 1000, 501]
    assert all(r.ok and r.sent and r.attempts == 1 for r in results)
    first = rec.requests[0]
    assert first.url == "https://graph.facebook.com/v26.0/123/events"
    assert json.loads(first.content)["test_event_code"] == "TEST1"
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(first.url) and TOKEN not in first.content.decode()


def test_exactly_1000_is_one_request() -> None:
    rec = Recorder([ok])
    with rec.client() as client:
        client.post_events("123", [event(i) for i in range(1000)], test_event_code="T")
    assert len(rec.requests) == 1


def test_no_test_event_code_is_not_sent() -> None:
    rec = Recorder([ok])
    with rec.client() as client:
        client.post_events("123", [event()], test_event_code=None)
    assert "test_event_code" not in json.loads(rec.requests[0].content)


@pytest.mark.parametrize(
    ("failure", "label"),
    [
        (httpx.Response(500, text="<html>Internal</html>"), "500"),
        (httpx.Response(503, json={"error": {"message": "down", "code": 2}}), "503 code 2"),
        (graph_error(1, status=500), "code 1"),
        (graph_error(4), "code 4"),
        (graph_error(17), "code 17"),
        (graph_error(341), "code 341"),
        (graph_error(368), "code 368"),
        (graph_error(613), "code 613"),
    ],
)
def test_retries_then_succeeds_with_exponential_backoff(failure: httpx.Response, label: str) -> None:
    """Two failures then success: 3 attempts, waits 0.5 and 1.0 (backoff_s x 2^n)."""
    rec = Recorder([failure, failure, ok])
    with rec.client() as client:
        [result] = client.post_events("123", [event()], test_event_code="T")
    assert result.ok, label
    assert result.attempts == 3
    assert rec.sleeps == [0.5, 1.0]


def test_gives_up_after_max_retries() -> None:
    """max_retries=3 -> 4 attempts, waits 0.5, 1, 2; the last error is returned."""
    rec = Recorder([graph_error(17)])
    with rec.client() as client:
        [result] = client.post_events("123", [event()], test_event_code="T")
    assert not result.ok and result.attempts == 4
    assert rec.sleeps == [0.5, 1.0, 2.0]
    assert result.error is not None and result.error.code == 17 and result.error.retryable


@pytest.mark.parametrize("status", [400, 500])
def test_never_retries_code_100(status: int) -> None:
    rec = Recorder([graph_error(100, 2804003, status=status)])
    with rec.client() as client:
        [result] = client.post_events("123", [event()], test_event_code="T")
    assert len(rec.requests) == 1 and rec.sleeps == []
    err = result.error
    assert err is not None
    assert (err.status, err.code, err.subcode) == (status, 100, 2804003)
    assert err.title == "Event Timestamp Too Old"
    assert err.user_message == "The timestamp for this event is too far in the past."
    assert err.fbtrace_id == "AbCtrace" and result.fbtrace_id == "AbCtrace"
    assert err.error_type == "OAuthException"
    assert not err.retryable


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize("code", [3, 10, 190, 200])
def test_permanent_codes_are_not_retried_whatever_the_status(code: int, status: int) -> None:
    """Meta answers e.g. 190 with HTTP 500 (real sample): the code decides, not the status."""
    rec = Recorder([graph_error(code, status=status)])
    with rec.client() as client:
        [result] = client.post_events("123", [event()], test_event_code="T")
    assert len(rec.requests) == 1 and result.error is not None and result.error.code == code


def test_network_errors_are_retried() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if calls["n"] == 2:
            raise httpx.ReadTimeout("timed out", request=request)
        return ok(request)

    rec = Recorder([flaky])
    with rec.client() as client:
        [result] = client.post_events("123", [event()], test_event_code="T")
    assert result.ok and result.attempts == 3 and rec.sleeps == [0.5, 1.0]


def test_network_error_exhausted_is_reported() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    rec = Recorder([down])
    with rec.client(max_retries=1) as client:
        [result] = client.post_events("123", [event()], test_event_code="T")
    assert result.error is not None
    assert result.error.status is None and result.error.retryable
    assert "network error" in result.error.message and result.attempts == 2


def test_no_retry_once_an_event_left_the_7_day_window() -> None:
    """An event 7 days minus 1 s old at send time is stale at retry time only if the clock moves;
    with an event already 7 days + 1 s old (pre-flight bypassed) the 5xx is not retried."""
    rec = Recorder([httpx.Response(502, text="bad gateway")])
    with rec.client() as client:
        [result] = client.post_events("123", [event(when=NOW - 7 * 86400 - 1)], test_event_code="T")
    assert len(rec.requests) == 1 and not result.ok


def test_stops_at_first_failed_batch() -> None:
    rec = Recorder([ok, graph_error(190)])
    with rec.client() as client:
        results = client.post_events("123", [event(i) for i in range(2500)], test_event_code="T")
    assert [(r.sent, r.ok) for r in results] == [(True, True), (True, False), (False, False)]
    assert len(rec.requests) == 2


def test_get_returns_body_and_raises_graph_error() -> None:
    rec = Recorder([httpx.Response(200, json={"web": []}), graph_error(100, 33)])
    with rec.client() as client:
        assert client.get("dataset_quality", params={"dataset_id": "1"}) == {"web": []}
        with pytest.raises(GraphError) as caught:
            client.get("dataset_quality", params={"dataset_id": "1"})
    assert str(rec.requests[0].url) == "https://graph.facebook.com/v26.0/dataset_quality?dataset_id=1"
    assert caught.value.code == 100 and caught.value.subcode == 33
    assert isinstance(caught.value, CapiDeskError)


def test_get_retries_throttling() -> None:
    rec = Recorder([graph_error(4), httpx.Response(200, json={"ok": True})])
    with rec.client() as client:
        assert client.get("x") == {"ok": True}
    assert rec.sleeps == [0.5]


def test_error_text_is_one_line_with_codes_and_trace() -> None:
    err = parse_error(400, graph_error(100, 2804050).json())
    text = str(err)
    assert text.startswith("Graph API error 100/2804050 (HTTP 400): Event Timestamp Too Old")
    assert "fbtrace_id AbCtrace" in text and "\n" not in text


def test_non_graph_error_body() -> None:
    err = parse_error(502, "<html>Bad Gateway</html>")
    assert err.code is None and err.retryable and "HTTP 502" in str(err)


def test_token_never_in_repr_or_error_text() -> None:
    echo = {"error": {"message": f"bad token {TOKEN} access_token={TOKEN}", "code": 190, "fbtrace_id": "x"}}
    rec = Recorder([httpx.Response(401, json=echo)])
    client = rec.client()
    assert TOKEN not in repr(client)
    [result] = client.post_events("123", [event()], test_event_code="T")
    client.close()
    assert result.error is not None
    assert TOKEN not in result.model_dump_json()
    assert TOKEN not in str(parse_error(401, echo, token=TOKEN))


def test_bad_arguments() -> None:
    with pytest.raises(InputError):
        GraphClient("  ")
    with pytest.raises(InputError):
        GraphClient(TOKEN, version="26")
    with GraphClient(TOKEN, transport=httpx.MockTransport(ok)) as client, pytest.raises(InputError):
        client.post_events("12/../x", [event()], test_event_code="T")


def test_resolve_token_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("META_ACCESS_TOKEN", "from-env")
    assert resolve_token("  from-field ") == "from-field"
    assert resolve_token("") == "from-env"
    assert resolve_token(None) == "from-env"
    monkeypatch.delenv("META_ACCESS_TOKEN")
    assert os.environ.get("META_ACCESS_TOKEN") is None
    assert resolve_token(None) is None
    assert resolve_token(None, " from-secrets ") == "from-secrets"  # the page passes st.secrets' value
    monkeypatch.setenv("META_ACCESS_TOKEN", "from-env")
    assert resolve_token(None, "from-secrets") == "from-env"  # the environment wins over secrets


def test_real_graph_error_samples(samples: Path) -> None:
    """Real Graph answers (rudderlabs fixture): codes, subcodes and the retry verdict per code."""
    data = json.loads((samples / "meta_capi" / "rudderlabs_graph_api_responses.json").read_text("utf-8"))
    seen = {}
    for case in data["responses"]:
        body = case["body"]
        if case["status"] >= 400 and isinstance(body, dict) and "error" in body:
            err = parse_error(case["status"], body)
            seen[(err.code, err.subcode)] = err.retryable
    assert seen[(100, 2804003)] is False and seen[(100, 33)] is False
    assert seen[(17, None)] is True  # throttled, answered with HTTP 500
    assert seen[(190, None)] is False  # bad token, also answered with HTTP 500


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://graph.facebook.com/", "https://graph.facebook.com"),
        (" http://127.0.0.1:8787 ", "http://127.0.0.1:8787"),
        ("https://proxy.example/graph", "https://proxy.example/graph"),
    ],
)
def test_check_base_url_accepts_plain_http_addresses(url: str, expected: str) -> None:
    assert check_base_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x", "must start with http:// or https:// (got ftp://)"),
        ("graph.facebook.com", "must start with http:// or https:// (got a URL without http(s)://)"),
        ("", "must start with http"),
        ("https://", "names no host"),
        ("http://127.0.0.1:notaport", "not a valid URL"),
        ("https://me:SECRETPW@graph.facebook.com", "user name or password"),
        ("http://127.0.0.1:18787/?access_token=SECRETQ", "http://127.0.0.1:18787/ has a query string"),
        ("http://127.0.0.1:18787?", "has a query string"),
        ("https://graph.facebook.com#x", "has a #fragment"),
    ],
)
def test_check_base_url_refuses_without_echoing_secrets(url: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        check_base_url(url)
    assert message in str(caught.value)
    assert "SECRET" not in str(caught.value)


def test_client_refuses_a_bad_base_url_before_sending() -> None:
    recorder = Recorder([ok])
    with pytest.raises(InputError, match="query string"):
        recorder.client(base_url=f"http://127.0.0.1:1/?access_token={TOKEN}")
    assert recorder.requests == []


@pytest.mark.parametrize("token", ["t0k", "EAAtestTOKEN1234567890abcdefSECRET"])
def test_every_graph_error_field_is_scrubbed_whatever_the_token_length(token: str) -> None:
    """A server echoing the token in fbtrace_id, type, title, message: none of it survives, short or not."""
    body = {"error": {"message": f"m {token}", "type": token, "code": 190, "error_user_title": token,
                      "error_user_msg": token, "fbtrace_id": token}}  # fmt: skip
    err = parse_error(400, body, token=token)
    assert err.fbtrace_id == "***" and err.error_type == "***"
    assert token not in str(err) + repr(err) + err.info.model_dump_json()
    assert scrub(f"Authorization: Bearer {token}", None) == "Authorization: Bearer ***"
