"""The local Meta sandbox: a stand-in for the Graph API ``/events`` edge on loopback.

Owns: an HTTP server bound to 127.0.0.1 only that answers like Meta (reference §2–3, §5):

- ``POST /{version}/{pixel_id}/events`` — token required (``Authorization: Bearer``, or an
  ``access_token`` query/form/JSON field as Meta accepts); body as JSON or form fields (``data`` as a
  JSON array); validated with Meta's documented rules (``capi_core.meta.preflight``: required fields, website
  rules, 7-day limit (62 days for ``physical_store`` events) rejecting the whole request, > 1,000
  events, baseline invalid key combinations, hashed/unhashed fields, currency, fbc/fbp format);
  answers ``{"events_received", "messages", "fbtrace_id"}`` or a Graph error body (``{"error":
  {"message", "type", "code", "error_subcode", "is_transient", "error_user_title", "error_user_msg",
  "fbtrace_id"}}``) with the codes of §3.
- ``GET /{version}/dataset_quality?dataset_id=ID`` — a canned Dataset Quality body shaped like Meta's
  documented examples (§5), so the Dataset Quality fetch is testable end to end.
- ``GET /_sandbox/requests`` — what it received (tokens never recorded: only how the token came);
  ``DELETE /_sandbox/requests`` clears it. ``POST /_sandbox/fail {"status": 500, "code": 17, "times": 2}``
  makes the next N Graph requests fail (5xx or throttling) to test retries.

Error subcodes: only those seen in real Meta answers (reference §3.5 and the sample responses):
2804003 (event too old), 2804050 (insufficient customer information), 2804016 (user parameter not
hashed), 2804009 (Purchase without value), 33 (unknown pixel id). Other refusals are code 100 without a
subcode, with a title and message naming the field — Meta documents no subcode for them.

Must not: bind anything but loopback, record or print a token, or send anything anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from capi_core.meta.graph_api import MAX_EVENTS_PER_REQUEST, RETRYABLE_CODES, scrub
from capi_core.meta.preflight import Problem, check_events
from capi_core.privacy import strip_secrets
from capi_core.readers import nests_deeper

__all__ = ["HOST", "FailureSpec", "Sandbox", "dataset_quality_body", "serve"]

HOST = "127.0.0.1"
_EVENTS_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/events/?$")
_QUALITY_PATH = re.compile(r"^/(v\d+\.\d+)/dataset_quality/?$")
_MAX_BODY = 32 * 1024 * 1024  # Meta's byte limit is undocumented (§3.2); this only guards the process
_MAX_DEPTH = 32  # a Graph request nests a handful of levels; deeper bodies are refused before any check
#: (subcode, error_user_title) per pre-flight rule, as Meta answers them where a real answer was seen.
_RULE_ERRORS: dict[str, tuple[int | None, str]] = {
    "event_time_too_old": (2804003, "Event Timestamp Too Old"),
    "insufficient_keys": (2804050, "Customer Information Parameters Insufficient"),
    "no_customer_information": (2804050, "Customer Information Parameters Insufficient"),
    "not_hashed": (2804016, "User Parameter Not Hashed"),
    "hash_case": (2804016, "User Parameter Not Hashed"),
}
_TRANSIENT_MESSAGES = {
    1: "An unknown error occurred",
    2: "Service temporarily unavailable",
    4: "Application request limit reached",
    17: "User request limit reached",
    341: "Application limit reached",
    368: "Temporarily blocked for policies violations",
    613: "Calls to this api have exceeded the rate limit",
}


@dataclass(frozen=True, slots=True)
class FailureSpec:
    """Answer the next ``times`` Graph requests with ``status`` (and a Graph error ``code`` when set;
    without a code, a plain-text 5xx as a proxy would answer)."""

    status: int = 500
    code: int | None = None
    subcode: int | None = None
    times: int = 1

    @classmethod
    def parse(cls, body: Any) -> FailureSpec:
        """From ``{"status": 500, "code": 17, "times": 2}``; raises ValueError when unusable."""
        if not isinstance(body, dict):
            raise ValueError('expected a JSON object like {"status": 500, "code": 17, "times": 2}')
        code = body.get("code")
        status = body.get("status", 500 if code is None or code in (1, 2) else 400)
        times = body.get("times", 1)
        subcode = body.get("subcode")
        for name, value in (("status", status), ("times", times), ("code", code), ("subcode", subcode)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} must be an integer")
        if not 400 <= status <= 599 or times < 1:
            raise ValueError("status must be 4xx/5xx and times at least 1")
        return cls(status=status, code=code, subcode=subcode, times=times)


def _trace() -> str:
    return "Sbx" + secrets.token_urlsafe(8)


def graph_error_body(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    title: str | None = None,
    user_message: str | None = None,
    error_type: str = "OAuthException",
    blame: list[list[str]] | None = None,
) -> dict[str, Any]:
    """A Graph error body as Meta shapes it (reference §3.3)."""
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["is_transient"] = code in RETRYABLE_CODES
    if title:
        error["error_user_title"] = title
    if user_message:
        error["error_user_msg"] = user_message
    if blame:
        error["error_data"] = {"blame_field_specs": blame}
    error["fbtrace_id"] = _trace()
    return {"error": error}


def _problem_error(problem: Problem) -> dict[str, Any]:
    subcode, title = _RULE_ERRORS.get(problem.rule, (problem.subcode, None))
    if problem.rule == "required" and problem.field == "custom_data.value":
        subcode, title = 2804009, "Missing Value for Purchase Event"
    if title is None:
        title = "Invalid Parameter" if problem.index is not None else "Invalid Request"
    blame = [problem.field.split(".")] if problem.field and problem.index is not None else None
    return graph_error_body(
        100,
        "Invalid parameter",
        subcode=subcode,
        title=title,
        user_message=f"{problem.reason} ({problem.path}).",
        blame=blame,
    )


def _first_problem(problems: list[Problem]) -> Problem:
    """The problem Meta would name: request-level first, then a whole-request one, then event order."""
    for wanted in (lambda p: p.index is None, lambda p: p.whole_request, lambda p: True):
        for problem in problems:
            if wanted(problem):
                return problem
    raise ValueError("no problems")


def dataset_quality_body() -> dict[str, Any]:
    """A Dataset Quality answer in the shape of Meta's documented examples (reference §5), with the
    fields of every ``web`` row filled; numbers are made up but plausible."""
    coverage_text = (
        "The percentage of events received from your Conversions API compared to unique browser events "
        "from the Meta Pixel."
    )
    freshness_text = "The average frequency with which instances of this event are received through the "
    freshness_text += "Conversions API."

    def dedupe(key: str, browser: float, server: float, covered: float) -> dict[str, Any]:
        return {
            "dedupe_key": key,
            "browser_events_with_dedupe_key": {
                "percentage": browser,
                "description": "The percentage of browser events that contain this dedupe key.",
            },
            "server_events_with_dedupe_key": {
                "percentage": server,
                "description": "The percentage of server events that contain this dedupe key.",
            },
            "overall_browser_coverage_from_dedupe_key": {
                "percentage": covered,
                "description": "The overall percentage of browser events that are deduped with Conversions "
                "API events using this key. This percentage is incremental for each dedupe key.",
            },
        }

    def row(
        name: str, emq: float, keys: dict[str, float], coverage: float, frequency: str, acr: float
    ) -> dict[str, Any]:
        return {
            "event_name": name,
            "event_match_quality": {
                "composite_score": emq,
                "match_key_feedback": [
                    {"identifier": key, "coverage": {"percentage": share}} for key, share in keys.items()
                ],
                "diagnostics": [],
            },
            "event_coverage": {"percentage": coverage, "goal_percentage": 75, "description": coverage_text},
            "dedupe_key_feedback": [
                dedupe("event_id", 96.4, 100, round(coverage * 0.9, 1)),
                dedupe("external_id", 41.2, 88.5, round(coverage * 0.05, 1)),
                dedupe("fbp", 99.1, 93.7, round(coverage * 0.02, 1)),
            ],
            "data_freshness": {"upload_frequency": frequency, "description": freshness_text},
            "acr": {
                "percentage": acr,
                "description": f"In the last 7 days, you saw about {acr}% more conversions reported for "
                f"{name} events by using the Conversions API alongside the Meta Pixel.",
            },
        }

    purchase = row(
        "Purchase",
        7.8,
        {"email": 92.1, "phone": 64.3, "ip_address": 99.8, "user_agent": 100, "fbp": 93.7, "fbc": 31.2},
        81.5,
        "real_time",
        18.4,
    )
    purchase["event_match_quality"]["diagnostics"] = [
        {
            "name": "Update your IPv4 IP addresses to IPv6 IP addresses",
            "description": "Your server is sending IPV4 IP addresses through the Conversions API. We "
            "recommend updating to IPV6 IP addresses because this is the industry standard and offers "
            "better durability for this integration.",
            "solution": "You can update your web server and DNS provider configuration to support IPv6.",
            "percentage": 59.5,
            "affected_event_count": 1893,
            "total_event_count": 3183,
        }
    ]
    rows = [
        purchase,
        row(
            "AddToCart",
            6.1,
            {"ip_address": 99.5, "user_agent": 100, "fbp": 95.0, "external_id": 40.2},
            62.0,
            "real_time",
            9.7,
        ),
        row("ViewContent", 5.4, {"ip_address": 99.9, "user_agent": 100, "fbp": 97.3}, 48.3, "hourly", 4.1),
    ]
    return {"web": rows}


class _State:
    """What the sandbox remembers: received requests, pending failures, the optional JSONL record."""

    def __init__(self, record: Path | None, token: str | None, clock: Callable[[], float]) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.failures: list[FailureSpec] = []
        self.record = record
        self.token = token
        self.clock = clock

    def next_failure(self) -> FailureSpec | None:
        with self.lock:
            if not self.failures:
                return None
            spec = self.failures[0]
            if spec.times <= 1:
                self.failures.pop(0)
            else:
                self.failures[0] = FailureSpec(spec.status, spec.code, spec.subcode, spec.times - 1)
            return spec

    def remember(self, entry: dict[str, Any]) -> None:
        with self.lock:
            entry["id"] = len(self.requests) + 1
            self.requests.append(entry)
            if self.record is not None:
                with self.record.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(entry, sort_keys=True, default=str) + "\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, state: _State, log: Callable[[str], None] | None) -> None:
        self.state = state
        self.log = log
        super().__init__((HOST, port), _Handler)


class _BodyRefused(Exception):
    """A request body the sandbox will not read (HTTP ``status``); the connection is closed after it."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def _loads(raw: str | bytes, refusal: str) -> Any:
    """JSON from a request, or ValueError(``refusal``) for invalid or too deeply nested JSON."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise ValueError(refusal) from err
    if nests_deeper(value, _MAX_DEPTH):
        raise ValueError(f"{refusal}: nested deeper than {_MAX_DEPTH} levels")
    return value


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "capi-desk-sandbox"
    protocol_version = "HTTP/1.1"

    # -- plumbing -------------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        """Never the request line as sent: its query string may carry an access_token."""

    def _send(self, status: int, body: Any, *, text: bool = False, close: bool = False) -> None:
        payload = (body if text else json.dumps(body)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:  # a body left unread would be parsed as the next request: end the connection
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)
        if self.server.log is not None:
            self.server.log(f"{self.command} {urlsplit(self.path).path} -> {status}")

    def _query(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(urlsplit(self.path).query).items()}

    def _safe_path(self) -> str:
        return scrub(self.path, None)

    def _read_body(self) -> bytes:
        """The request body; a ``_BodyRefused`` (never read) for a bad or too large Content-Length."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BodyRefused(400, "the Content-Length header is not a number") from None
        if length < 0:
            raise _BodyRefused(400, "the Content-Length header is negative")
        if length > _MAX_BODY:
            raise _BodyRefused(413, f"request body over {_MAX_BODY // (1024 * 1024)} MB")
        return self.rfile.read(length) if length > 0 else b""

    # -- routes ---------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_sandbox/requests":
            with self.server.state.lock:
                self._send(200, {"requests": list(self.server.state.requests)})
            return
        match = _QUALITY_PATH.match(path)
        if match:
            self._dataset_quality(match.group(1))
            return
        self._unknown()

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path == "/_sandbox/requests":
            with self.server.state.lock:
                self.server.state.requests.clear()
            self._send(200, {"success": True})
            return
        self._unknown()

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            raw = self._read_body()
        except _BodyRefused as err:
            self._send(err.status, graph_error_body(100, f"(#100) {err}"), close=True)
            return
        if path == "/_sandbox/fail":
            self._inject(raw)
            return
        match = _EVENTS_PATH.match(path)
        if match:
            self._events(match.group(1), match.group(2), raw)
            return
        self._unknown()

    def _unknown(self) -> None:
        path = urlsplit(self.path).path
        body = graph_error_body(
            100, f"Unsupported {self.command.lower()} request to {path}", error_type="GraphMethodException"
        )
        self._send(400, body)

    def _inject(self, raw: bytes) -> None:
        try:
            spec = FailureSpec.parse(_loads(raw or b"{}", "the body is not valid JSON"))
        except ValueError as err:
            self._send(400, {"error": str(err)})
            return
        with self.server.state.lock:
            self.server.state.failures.append(spec)
        self._send(
            200, {"success": True, "failure": {"status": spec.status, "code": spec.code, "times": spec.times}}
        )

    # -- Graph endpoints ------------------------------------------------------------------------------

    def _token(self, fields: dict[str, Any]) -> tuple[str | None, str | None]:
        """(token, where it came from) — header first, then query, then form/JSON body."""
        header = self.headers.get("Authorization") or ""
        if header.lower().startswith("bearer ") and header[7:].strip():
            return header[7:].strip(), "header"
        query = self._query().get("access_token")
        if query:
            return query, "query"
        body = fields.get("access_token")
        if isinstance(body, str) and body:
            return body, "body"
        return None, None

    def _auth_error(self, token: str | None) -> dict[str, Any] | None:
        if token is None:
            return graph_error_body(104, "An access token is required to request this resource.")
        expected = self.server.state.token
        if expected is not None and token != expected:
            return graph_error_body(190, "Invalid OAuth access token - Cannot parse access token")
        return None

    def _failure_answer(self) -> tuple[int, Any, bool] | None:
        spec = self.server.state.next_failure()
        if spec is None:
            return None
        if spec.code is None:
            return spec.status, "Internal Server Error", True
        message = _TRANSIENT_MESSAGES.get(spec.code, "Invalid parameter")
        return spec.status, graph_error_body(spec.code, message, subcode=spec.subcode), False

    def _answer(self, entry: dict[str, Any], status: int, body: Any, *, text: bool = False) -> None:
        entry.update(status=status, response=body)
        self.server.state.remember(entry)
        self._send(status, body, text=text)

    def _events(self, version: str, pixel_id: str, raw: bytes) -> None:
        entry: dict[str, Any] = {
            "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "method": "POST",
            "path": self._safe_path(),
            "version": version,
            "pixel_id": pixel_id,
        }
        try:
            fields = self._fields(raw)
        except ValueError as err:
            entry["token_via"] = self._token({})[1]
            self._answer(entry, 400, graph_error_body(100, f"(#100) {err}"))
            return
        token, entry["token_via"] = self._token(fields)
        clean, _removed = strip_secrets(fields)
        entry["test_event_code"] = clean.get("test_event_code")
        entry["events"] = clean.get("data")
        auth = self._auth_error(token)
        failure = self._failure_answer() if auth is None else None
        if auth is not None:
            self._answer(entry, 400, auth)
        elif failure is not None:
            self._answer(entry, failure[0], failure[1], text=failure[2])
        else:
            self._answer(entry, *self._judge_events(pixel_id, fields))

    def _judge_events(self, pixel_id: str, fields: dict[str, Any]) -> tuple[int, Any]:
        """(status, body) for an authenticated request that no injected failure answered."""
        if not pixel_id.isdigit():
            message = (
                f"Unsupported post request. Object with ID '{pixel_id[:40]}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation."
            )
            return 400, graph_error_body(100, message, subcode=33, error_type="GraphMethodException")
        data = fields.get("data")
        if data is None:
            return 400, graph_error_body(100, "(#100) The parameter data is required")
        if not isinstance(data, list):
            return 400, graph_error_body(100, "(#100) param data must be an array.")
        problems = check_events(data, now=self.server.state.clock(), max_per_request=MAX_EVENTS_PER_REQUEST)
        if problems:
            return 400, _problem_error(_first_problem(problems))
        return 200, {"events_received": len(data), "messages": [], "fbtrace_id": _trace()}

    def _fields(self, raw: bytes) -> dict[str, Any]:
        """Query parameters overlaid with the body's fields (JSON object or form-encoded)."""
        fields: dict[str, Any] = dict(self._query())
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw.lstrip()[:1] == b"{":  # JSON, whatever the header says (curl -d sends a form type)
            kind = "application/json"
        if raw and kind in ("application/json", "text/json", ""):
            body = _loads(raw, "the request body is not valid JSON")
            if not isinstance(body, dict):
                raise ValueError("the request body must be a JSON object with a data array")
            fields.update(body)
        elif raw and kind == "application/x-www-form-urlencoded":
            form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
            fields.update({key: values[-1] for key, values in form.items()})
        elif raw:
            raise ValueError(f"unsupported content type {kind!r}: send JSON or form fields")
        if isinstance(fields.get("data"), str):  # Meta's form examples post data as a JSON string
            fields["data"] = _loads(fields["data"], "param data must be a JSON array")
        return fields

    def _dataset_quality(self, version: str) -> None:
        entry: dict[str, Any] = {
            "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "method": "GET",
            "path": self._safe_path(),
            "version": version,
        }
        token, entry["token_via"] = self._token({})
        auth = self._auth_error(token)
        if auth is not None:
            self._answer(entry, 400, auth)
            return
        dataset_id = self._query().get("dataset_id", "")
        if not dataset_id.isdigit():
            self._answer(entry, 400, graph_error_body(100, "(#100) The parameter dataset_id is required"))
            return
        failure = self._failure_answer()
        if failure is not None:
            self._answer(entry, failure[0], failure[1], text=failure[2])
            return
        self._answer(entry, 200, dataset_quality_body())


class Sandbox:
    """The sandbox on a background thread, for tests and notebooks::

        with Sandbox(port=0) as sb:
            client = GraphClient(token, base_url=sb.base_url)

    Args:
        port: TCP port on 127.0.0.1 (0 = a free one).
        record: also append every received request to this JSONL file (tokens never written).
        token: accept only this token (others get code 190); None accepts any non-empty token.
        clock: the current Unix time (tests pin it for the 7-day rule).
        log: called with one line per request (method, path without query, status).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        record: Path | None = None,
        token: str | None = None,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._state = _State(record, token, clock)
        self._server = _Server(port, self._state, log)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound."""
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` — pass it as ``base_url`` to the client."""
        return f"http://{HOST}:{self.port}"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of what it received so far."""
        with self._state.lock:
            return json.loads(json.dumps(self._state.requests, default=str))  # type: ignore[no-any-return]

    def fail_next(self, status: int = 500, *, code: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` Graph requests with ``status`` (and Graph error ``code``)."""
        spec = FailureSpec.parse({"status": status, "code": code, "times": times})
        with self._state.lock:
            self._state.failures.append(spec)

    def clear(self) -> None:
        """Forget received requests and pending failures."""
        with self._state.lock:
            self._state.requests.clear()
            self._state.failures.clear()

    def start(self) -> Sandbox:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="capi-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted (the CLI)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()


def serve(
    port: int,
    *,
    record: Path | None = None,
    failure: FailureSpec | None = None,
    out: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> None:
    """Run the sandbox in the foreground (``capi-desk sandbox``) until Ctrl-C."""
    sandbox = Sandbox(port, record=record, log=out)
    if failure is not None:
        sandbox.fail_next(failure.status, code=failure.code, times=failure.times)
    out(f"Meta sandbox listening on {sandbox.base_url} (POST /v26.0/<pixel_id>/events; Ctrl-C stops)")
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        out("sandbox stopped")
