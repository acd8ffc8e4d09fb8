"""Pushing test events to Meta: pre-flight, send, and the push log.

Owns: ``push_test_events`` (the one way the editor and the CLI send events: pre-flight first, refuse
with the list of problems and send nothing; only with a ``test_event_code``; every request sent is
recorded in ``push_log``) and ``push_history`` (the log, newest first).

The push log keeps: when, pixel, test_event_code, the endpoint (base URL + version), how many events,
the HTTP status and Meta's answer (with ``fbtrace_id``) — never the token, never the events themselves
(they carry hashed customer data; the count is enough to find the push in Events Manager).

Must not: talk HTTP itself (``graph_api``) or re-implement Meta's rules (``preflight``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from capi_core.errors import InputError
from capi_core.meta.graph_api import (
    DEFAULT_BASE_URL,
    DEFAULT_VERSION,
    GraphClient,
    PushBatchResult,
    check_base_url,
    message_hint,
    scrub,
)
from capi_core.meta.preflight import Problem, check_events
from capi_core.store import Store

__all__ = ["PushOutcome", "push_history", "push_test_events"]

_TEST_CODE_HINT = "copy it from Events Manager > Data sources > your pixel > Test events"


class PushOutcome(BaseModel):
    """The result of one push: refused by pre-flight (``problems``, nothing sent) or one result per
    request of at most 1,000 events (``batches``)."""

    model_config = ConfigDict(frozen=True)

    pixel_id: str
    test_event_code: str
    endpoint: str
    events: int
    problems: list[Problem] = []
    batches: list[PushBatchResult] = []

    @property
    def refused(self) -> bool:
        """Pre-flight found problems; nothing was sent."""
        return bool(self.problems)

    @property
    def ok(self) -> bool:
        """Sent, and Meta accepted every request."""
        return not self.refused and bool(self.batches) and all(batch.ok for batch in self.batches)

    @property
    def events_received(self) -> int:
        """Events Meta said it received, summed over the requests."""
        return sum(batch.events_received or 0 for batch in self.batches)

    def summary(self) -> str:
        """One line for the CLI and the page."""
        if self.refused:
            return f"not sent: {len(self.problems)} problem(s) found before sending"
        if self.ok:
            traces = ", ".join(b.fbtrace_id for b in self.batches if b.fbtrace_id)
            return (
                f"Meta received {self.events_received:,} of {self.events:,} test event(s) "
                f"(test_event_code {self.test_event_code}; fbtrace_id {traces or 'none'})"
            )
        failed = next(batch for batch in self.batches if not batch.ok)
        detail = failed.error.message if failed.error else "no answer"
        return f"request {failed.index + 1} of {len(self.batches)} failed: {detail}"


def push_test_events(
    store: Store,
    *,
    pixel_id: str,
    events: Sequence[dict[str, Any]],
    test_event_code: str | None,
    token: str | None,
    base_url: str = DEFAULT_BASE_URL,
    version: str = DEFAULT_VERSION,
    transport: httpx.BaseTransport | None = None,
    now: float | None = None,
    max_retries: int = 3,
    backoff_s: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> PushOutcome:
    """Pre-flight ``events``, then send them to Meta's Test Events with ``test_event_code``.

    Raises:
        InputError: no test_event_code, no token, a pixel id that is not a number, or a base URL that is
            not a plain http(s) address (``graph_api.check_base_url``).
    """
    code = (test_event_code or "").strip()
    if not code:
        raise InputError("pushing needs a test_event_code (test events only)", hint=_TEST_CODE_HINT)
    if not token or not token.strip():
        raise InputError("no Meta access token", hint=message_hint())
    pixel = str(pixel_id).strip()
    if not pixel.isdigit():
        raise InputError(f"pixel id {pixel_id!r} is not a number", hint="copy it from Events Manager")
    endpoint = f"{check_base_url(base_url)}/{version}"  # before anything is sent or logged
    outcome = PushOutcome(pixel_id=pixel, test_event_code=code, endpoint=endpoint, events=len(events))
    clock_now = time.time() if now is None else now
    problems = check_events(events, now=clock_now)
    if problems:
        return outcome.model_copy(update={"problems": problems})
    with GraphClient(
        token,
        base_url=base_url,
        version=version,
        transport=transport,
        max_retries=max_retries,
        backoff_s=backoff_s,
        sleep=sleep,
        clock=(lambda: clock_now) if now is not None else time.time,
    ) as client:
        batches = client.post_events(pixel, list(events), test_event_code=code)
    _log(store, outcome, batches, token.strip())
    return outcome.model_copy(update={"batches": batches})


def _log(store: Store, outcome: PushOutcome, batches: list[PushBatchResult], token: str) -> None:
    pushed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.transaction() as tx:
        for batch in batches:
            if not batch.sent:
                continue
            tx.execute(
                "log push",
                """insert into push_log
                  (pushed_at, pixel_id, test_event_code, base_url, events, http_status, response)
                values ($pushed_at, $pixel_id, $code, $base_url, $events, $status, $response)""",
                {
                    "pushed_at": pushed_at,
                    "pixel_id": outcome.pixel_id,
                    "code": outcome.test_event_code,
                    "base_url": outcome.endpoint,
                    "events": batch.events,
                    "status": batch.http_status,
                    "response": scrub(json.dumps(_answer(batch), sort_keys=True), token),
                },
            )


def _answer(batch: PushBatchResult) -> dict[str, Any]:
    """What Meta answered: its body when there was one, else our error (network failures)."""
    if batch.response:
        return batch.response
    if batch.error is not None:
        return {"error": batch.error.model_dump(exclude_none=True)}
    return {}


def push_history(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """The latest pushes, newest first, with ``events_received``, ``fbtrace_id`` and the Graph error
    ``code``/``subcode``/``title``/``message`` read from the stored answer."""
    rows = store.query(
        "push history",
        """select pushed_at, pixel_id, test_event_code, base_url, events, http_status, response
        from push_log
        order by pushed_at desc
        limit $limit""",
        {"limit": max(1, int(limit))},
    ).dicts()
    return [{**row, **_answer_fields(row.get("response"))} for row in rows]


def _answer_fields(response: str | None) -> dict[str, Any]:
    try:
        body = json.loads(response or "{}")
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    answer = body if isinstance(body, dict) else {}
    return {
        "events_received": answer.get("events_received"),
        "fbtrace_id": answer.get("fbtrace_id") or error.get("fbtrace_id"),
        "error_code": error.get("code"),
        "error_subcode": error.get("error_subcode", error.get("subcode")),
        "error_title": error.get("error_user_title", error.get("title")),
        "error_message": error.get("message"),
    }
