"""The Graph API client: one ``httpx`` client, the token in a header, retries only where Meta says so.

Owns: talking HTTP to ``graph.facebook.com`` (or the local sandbox): ``GraphClient.get`` for read
endpoints (Dataset Quality), ``GraphClient.post_events`` for the Conversions API ``/events`` edge
(batches of at most 1,000 events, reference §3.2), Graph error parsing into ``GraphError`` (§3.3–3.5)
and the retry policy (§3.6): network errors, HTTP 5xx without a Graph error code, and the codes Meta
says to wait and retry on (1, 2, 4, 17, 341, 368, 613) are retried with exponential backoff; code 100 (a
payload Meta refused) and other permanent codes never are, whatever the HTTP status. A retry is skipped
when an event of the request has meanwhile left its time window (7 days; 62 for physical_store events:
one stale event fails the whole request).

Token rules (SPEC §6 Push): the token travels only in the ``Authorization: Bearer`` header — never in a
URL, a log line, ``repr``, an exception text or a stored response. Every text that leaves this module
through an error is scrubbed of it, in case a proxy or a misbehaving server echoes it back.

Must not: validate events (``preflight``), touch the store (``push``), or import streamlit (a token
from the dashboard's secrets is handed to ``resolve_token`` by the page).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict

from capi_core.config import ENV_TOKEN, DeskConfig
from capi_core.errors import InputError, MetaApiError
from capi_core.privacy import SECRET_KEYS, mask_secrets

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_VERSION",
    "MAX_EVENTS_PER_REQUEST",
    "RETRYABLE_CODES",
    "GraphClient",
    "GraphError",
    "GraphErrorInfo",
    "PushBatchResult",
    "check_base_url",
    "resolve_token",
]

DEFAULT_VERSION = "v26.0"
DEFAULT_BASE_URL = "https://graph.facebook.com"
#: Meta's only documented CAPI limit (reference §3.2).
MAX_EVENTS_PER_REQUEST = 1000
#: Graph codes that mean "try again later" (reference §3.4/§3.6); everything else is permanent.
#: 368 and 613, Meta: wait and retry. 368 "Temporarily blocked for policies violations"
#: (https://developers.facebook.com/docs/graph-api/guides/error-handling, reference §3.4); 613 "Calls to
#: this api have exceeded the rate limit", Meta's custom-level throttling code
#: (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/), waited out like 4 and 17.
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 341, 368, 613})
#: Meta recommends 1.5 s for the events edge (§3.6); a desk tool pushing test events over office Wi-Fi
#: is better served by a looser limit than by retrying a request that was about to succeed.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
#: The 7-day window (§2.2): one stale event fails the whole request, so a retry must re-check it. Meta:
#: "The event_time can be up to 7 days before you send an event to Facebook. If any event_time in data is
#: greater than 7 days in the past, we return an error for the entire request and process no events."
#: (https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event)
MAX_EVENT_AGE_S = 7 * 24 * 3600
#: ``action_source = physical_store`` events may be uploaded within 62 days of the conversion (reference
#: §2.2, [D-USING] https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api).
MAX_PHYSICAL_STORE_AGE_S = 62 * 24 * 3600
_VERSION = re.compile(r"^v\d+\.\d+$")
_MASK = "***"
_BODY_EXCERPT = 300


class GraphErrorInfo(BaseModel):
    """The fields of a Graph error as data (for push results, the push log and pages)."""

    model_config = ConfigDict(frozen=True)

    status: int | None = None
    code: int | None = None
    subcode: int | None = None
    error_type: str | None = None
    title: str | None = None
    user_message: str | None = None
    message: str
    fbtrace_id: str | None = None
    retryable: bool = False


class GraphError(MetaApiError):
    """Graph API said no, or could not be reached. ``str()`` is one line and never contains the token.

    Attributes mirror Meta's error body (reference §3.3): ``code``, ``subcode`` (``error_subcode``),
    ``error_type`` (``type``), ``title`` (``error_user_title``), ``user_message`` (``error_user_msg``),
    ``message``, ``fbtrace_id``; ``status`` is the HTTP status (None for network errors) and
    ``retryable`` whether our policy retries it.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        title: str | None = None,
        user_message: str | None = None,
        fbtrace_id: str | None = None,
        retryable: bool = False,
    ) -> None:
        self.status = status
        self.error_type = error_type
        self.title = title
        self.user_message = user_message
        super().__init__(message, code=code, subcode=subcode, fbtrace_id=fbtrace_id, retryable=retryable)

    def _line(self) -> str:
        codes = "" if self.code is None else f" {self.code}" + (f"/{self.subcode}" if self.subcode else "")
        status = "" if self.status is None else f" (HTTP {self.status})"
        parts = [f"Graph API error{codes}{status}: {self.title or self.message}"]
        if self.user_message:
            parts.append(self.user_message)
        elif self.title and self.message != self.title:
            parts.append(self.message)
        if self.fbtrace_id:
            parts.append(f"fbtrace_id {self.fbtrace_id}")
        return " — ".join(parts)

    def __str__(self) -> str:
        return self._line()

    @property
    def info(self) -> GraphErrorInfo:
        """The error as a frozen model."""
        return GraphErrorInfo(
            status=self.status,
            code=self.code,
            subcode=self.subcode,
            error_type=self.error_type,
            title=self.title,
            user_message=self.user_message,
            message=self.message,
            fbtrace_id=self.fbtrace_id,
            retryable=self.retryable,
        )


class PushBatchResult(BaseModel):
    """What happened to one request of at most 1,000 events.

    ``sent`` is False for batches after a failed one (we stop at the first failure: a token, permission
    or payload problem would fail the rest the same way). ``response`` is Meta's body as answered
    (scrubbed of the token), kept for the push log.
    """

    model_config = ConfigDict(frozen=True)

    index: int
    events: int
    sent: bool
    ok: bool
    attempts: int = 0
    http_status: int | None = None
    events_received: int | None = None
    messages: list[str] = []
    fbtrace_id: str | None = None
    error: GraphErrorInfo | None = None
    response: dict[str, Any] | None = None


def is_retryable(status: int | None, code: int | None) -> bool:
    """Our retry policy (reference §3.6): network errors (no status), 5xx, throttling codes; never 100.

    A Graph error code decides over the HTTP status: Meta answers some permanent errors (190 expired
    token, 3 missing capability) with HTTP 500, and retrying those only delays the real message.
    """
    if code is not None:
        return code in RETRYABLE_CODES
    return status is None or status >= 500


def scrub(text: str, token: str | None) -> str:
    """``text`` without the token: the literal value (however short: a toy token shreds the message, a
    leaked one would be worse), ``access_token=...`` pairs, ``Bearer ...`` values and bare EAA tokens."""
    literal = (token or "").strip()
    if literal:
        text = text.replace(literal, _MASK)
    return mask_secrets(text)[0]


def _scrub_obj(obj: Any, token: str | None) -> Any:
    if isinstance(obj, str):
        return scrub(obj, token)
    if isinstance(obj, dict):
        return {
            key: (_MASK if str(key).lower() in SECRET_KEYS else _scrub_obj(value, token))
            for key, value in obj.items()
        }
    if isinstance(obj, list):
        return [_scrub_obj(value, token) for value in obj]
    return obj


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_error(status: int, body: Any, *, token: str | None = None) -> GraphError:
    """A ``GraphError`` from an HTTP error answer (a Graph ``{"error": {...}}`` body or anything else)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = body if isinstance(body, str) else ""
        excerpt = scrub(" ".join(text.split())[:_BODY_EXCERPT], token)
        return GraphError(
            f"HTTP {status} without a Graph error body" + (f": {excerpt}" if excerpt else ""),
            status=status,
            retryable=is_retryable(status, None),
        )
    code = _int_or_none(error.get("code"))
    # every text field is scrubbed: a proxy or a hostile server may echo the token in any of them
    return GraphError(
        scrub(_str_or_none(error.get("message")) or f"HTTP {status}", token),
        status=status,
        code=code,
        subcode=_int_or_none(error.get("error_subcode")),
        error_type=_optional_scrub(error.get("type"), token),
        title=_optional_scrub(error.get("error_user_title"), token),
        user_message=_optional_scrub(error.get("error_user_msg"), token),
        fbtrace_id=_optional_scrub(error.get("fbtrace_id"), token),
        retryable=is_retryable(status, code),
    )


def _optional_scrub(value: Any, token: str | None) -> str | None:
    text = _str_or_none(value)
    return None if text is None else scrub(text, token)


def _body(response: httpx.Response) -> Any:
    """The JSON body, or the text when the answer is not JSON (a proxy's HTML 502 page)."""
    try:
        return response.json()
    except ValueError:
        return response.text


def max_event_age_s(event: dict[str, Any]) -> int:
    """How old an event may be at send time: 62 days for ``physical_store`` events, else 7 days (§2.2)."""
    return MAX_PHYSICAL_STORE_AGE_S if event.get("action_source") == "physical_store" else MAX_EVENT_AGE_S


def _stale(events: Sequence[dict[str, Any]], now: float) -> bool:
    """True when an event has left its time window: a retry would be refused as a whole (§2.2)."""
    for event in events:
        when = event.get("event_time")
        if not isinstance(when, int | float) or isinstance(when, bool):
            continue
        if now - when > max_event_age_s(event):
            return True
    return False


def resolve_token(session_token: str | None = None, secret: str | None = None) -> str | None:
    """The access token to use: this session's password-field value, else ``META_ACCESS_TOKEN``, else
    ``secret`` (the dashboard passes ``st.secrets["META_ACCESS_TOKEN"]``; capi_core never reads secrets
    itself, so it never imports streamlit)."""
    return DeskConfig.load({ENV_TOKEN: secret}).token(session_token)


_BASE_URL_HINT = (
    f"give the API's address only, e.g. {DEFAULT_BASE_URL} or the sandbox's http://127.0.0.1:8787"
)


def check_base_url(base_url: str) -> str:
    """``base_url`` checked before anything is sent or stored, without its trailing ``/``.

    http(s) only, with a host; no user:password, query string or fragment: the token travels in the
    Authorization header only, and a URL is logged (push log, snapshot source), so a secret in it would
    be stored. The messages never repeat the part that may hold a secret.

    Raises:
        InputError: what is wrong with the URL.
    """
    text = (base_url or "").strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise InputError("the base URL is not a valid URL", hint=_BASE_URL_HINT) from None
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"{parts.scheme}://" if parts.scheme else "a URL without http(s)://"
        raise InputError(
            f"the base URL must start with http:// or https:// (got {scheme})", hint=_BASE_URL_HINT
        )
    if parts.username is not None or parts.password is not None:
        raise InputError(
            "the base URL holds a user name or password (user:secret@host); it would be stored in logs",
            hint=_BASE_URL_HINT,
        )
    if not parts.hostname:
        raise InputError("the base URL names no host", hint=_BASE_URL_HINT)
    where = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if "?" in text:
        raise InputError(
            f"the base URL {where} has a query string (not repeated here): it would be stored in logs, "
            "and a token never goes in a URL (it is sent in the Authorization header)",
            hint=_BASE_URL_HINT,
        )
    if "#" in text:
        raise InputError(f"the base URL {where} has a #fragment", hint=_BASE_URL_HINT)
    return text.rstrip("/")


class GraphClient:
    """A Graph API client for one token. Use as a context manager or call ``close()``.

    Args:
        token: the access token (sent only as ``Authorization: Bearer``).
        base_url: ``https://graph.facebook.com`` or the sandbox's ``http://127.0.0.1:PORT``.
        version: Graph API version, e.g. ``v26.0`` (reference §3.8).
        transport: an ``httpx`` transport (tests pass ``httpx.MockTransport``).
        max_retries: retries after the first attempt for retryable failures.
        backoff_s: first wait; doubled on every retry.
        sleep: how to wait (tests inject a recorder).
        clock: the current Unix time (tests pin it for the 7-day re-check before a retry).
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if not token or not token.strip():
            raise InputError("no Meta access token", hint=message_hint())
        if not _VERSION.match(version):
            raise InputError(f"{version!r} is not a Graph API version", hint=f"e.g. {DEFAULT_VERSION}")
        self._token = token.strip()
        self.base_url = check_base_url(base_url)
        self.version = version
        self.max_retries = max(0, max_retries)
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            base_url=f"{self.base_url}/{version}/",
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {self._token}"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"GraphClient(base_url={self.base_url!r}, version={self.version!r}, token='***')"

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``{base}/{version}/{path}``; the JSON object answered, or ``GraphError`` after retries."""
        body, _status, _attempts = self._request("GET", path.lstrip("/"), params=params)
        if not isinstance(body, dict):
            raise GraphError("the Graph API answered something that is not a JSON object")
        return body

    def post_events(
        self, pixel_id: str, events: Sequence[dict[str, Any]], *, test_event_code: str | None
    ) -> list[PushBatchResult]:
        """POST the events to ``/{pixel_id}/events`` in requests of at most 1,000 events.

        Returns one result per request; stops at the first failed request (later ones are ``sent=False``).
        Graph errors are returned in the results, not raised.
        """
        pixel = str(pixel_id).strip()
        if not pixel.isdigit():
            raise InputError(f"pixel id {pixel_id!r} is not a number", hint="copy it from Events Manager")
        batches = [
            list(events[start : start + MAX_EVENTS_PER_REQUEST])
            for start in range(0, len(events), MAX_EVENTS_PER_REQUEST)
        ]
        results: list[PushBatchResult] = []
        failed = False
        for index, batch in enumerate(batches):
            if failed:
                results.append(PushBatchResult(index=index, events=len(batch), sent=False, ok=False))
                continue
            result = self._post_batch(index, pixel, batch, test_event_code)
            failed = not result.ok
            results.append(result)
        return results

    def _post_batch(
        self, index: int, pixel: str, batch: list[dict[str, Any]], test_event_code: str | None
    ) -> PushBatchResult:
        payload: dict[str, Any] = {"data": batch}
        if test_event_code:
            payload["test_event_code"] = test_event_code
        try:
            body, status, attempts = self._request("POST", f"{pixel}/events", json=payload, events=batch)
        except _Failed as failed:
            err = failed.error
            return PushBatchResult(
                index=index,
                events=len(batch),
                sent=True,
                ok=False,
                attempts=failed.attempts,
                http_status=err.status,
                fbtrace_id=err.fbtrace_id,
                error=err.info,
                response=failed.body,
            )
        answer = _scrub_obj(body, self._token) if isinstance(body, dict) else {}
        messages = answer.get("messages")
        return PushBatchResult(
            index=index,
            events=len(batch),
            sent=True,
            ok=True,
            attempts=attempts,
            http_status=status,
            events_received=_int_or_none(answer.get("events_received")),
            messages=[str(m) for m in messages] if isinstance(messages, list) else [],
            fbtrace_id=_str_or_none(answer.get("fbtrace_id")),
            response=answer,
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        events: Sequence[dict[str, Any]] = (),
    ) -> tuple[Any, int, int]:
        """(body, status, attempts) of a successful answer; raises ``_Failed`` (push) / ``GraphError``."""
        attempt = 0
        while True:
            attempt += 1
            error, body, status = self._attempt(method, path, params=params, json=json)
            if error is None:
                return body, status, attempt
            give_up = (
                not error.retryable
                or attempt > self.max_retries
                or (bool(events) and _stale(events, self._clock()))
            )
            if give_up:
                if method == "GET":
                    raise error
                raise _Failed(error, attempt, _scrub_obj(body, self._token) if body is not None else None)
            self._sleep(self.backoff_s * 2 ** (attempt - 1))

    def _attempt(
        self, method: str, path: str, *, params: dict[str, Any] | None, json: dict[str, Any] | None
    ) -> tuple[GraphError | None, Any, int]:
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.TransportError as err:
            kind = "timed out" if isinstance(err, httpx.TimeoutException) else "network error"
            detail = scrub(str(err), self._token)
            return GraphError(f"{kind} reaching {self.base_url}: {detail}", retryable=True), None, 0
        body = _body(response)
        if response.is_success:
            return None, body, response.status_code
        return parse_error(response.status_code, body, token=self._token), body, response.status_code


def message_hint() -> str:
    """Where a token comes from (for errors about a missing one)."""
    return "set META_ACCESS_TOKEN (a system-user token from Events Manager) or enter it in the dashboard"


class _Failed(Exception):
    """Internal: a request that failed for good, with the attempts made and the body answered."""

    def __init__(self, error: GraphError, attempts: int, body: Any) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts
        self.body = body if isinstance(body, dict) else ({"text": body[:_BODY_EXCERPT]} if body else None)
