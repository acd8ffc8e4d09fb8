"""The ``capi-desk push`` and ``capi-desk sandbox`` subcommands (registered by capi_core.cli.main).

Owns: reading server events from a JSON/JSONL file, pushing them as test events with the token from
``META_ACCESS_TOKEN`` (never a flag: flags end up in shell history and process lists), printing Meta's
answer or the Graph error; and starting the local Meta sandbox in the foreground.

Exit codes: 0 Meta accepted every request; 2 refused before sending, Graph error, or bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from capi_core.cli.common import EXIT_OK, EXIT_USAGE, open_store
from capi_core.config import DeskConfig
from capi_core.errors import InputError, UnreadableFileError
from capi_core.meta.graph_api import DEFAULT_BASE_URL, DEFAULT_VERSION, GraphErrorInfo, check_base_url

EXIT_REFUSED = EXIT_USAGE  # Meta refused the events: the exit of unusable input
DEFAULT_SANDBOX_PORT = 8787


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add `push` and `sandbox` to the `capi-desk` parser."""
    register_push(sub)
    register_sandbox(sub)


def register_push(sub: argparse._SubParsersAction[Any]) -> None:
    """``capi-desk push``: send test events to Meta (or the sandbox) after pre-flight."""
    push = sub.add_parser(
        "push",
        help="send test events to Meta's Test Events (pre-flight first; token from META_ACCESS_TOKEN)",
        description="Validate server events with Meta's rules, then send them with a test_event_code. "
        "The access token is read from the META_ACCESS_TOKEN environment variable only.",
    )
    push.add_argument("--pixel-id", required=True, help="the pixel (dataset) id")
    push.add_argument(
        "--test-event-code",
        required=True,
        help="from Events Manager > your pixel > Test events, e.g. TEST123",
    )
    push.add_argument(
        "--base-url",
        default=DEFAULT_BASE_URL,
        help="Graph API base URL (default %(default)s; the sandbox: http://127.0.0.1:8787)",
    )
    push.add_argument("--version", default=DEFAULT_VERSION, help="Graph API version (default %(default)s)")
    push.add_argument(
        "--events",
        metavar="FILE",
        help='server events in Meta\'s shape: a JSON array, a request {"data": [...]}, or JSONL '
        "('-' = stdin)",
    )
    push.add_argument("--json", action="store_true", help="print the outcome as JSON")
    push.set_defaults(run=run_push)


def register_sandbox(sub: argparse._SubParsersAction[Any]) -> None:
    """``capi-desk sandbox``: a local stand-in for the Graph API /events endpoint."""
    sandbox = sub.add_parser(
        "sandbox",
        help="serve a local Meta /events endpoint on 127.0.0.1 that validates like Meta and records requests",
    )
    sandbox.add_argument(
        "--port", type=int, default=DEFAULT_SANDBOX_PORT, help="port on 127.0.0.1 (default %(default)s)"
    )
    sandbox.add_argument("--record", metavar="FILE", help="also append every request to this JSONL file")
    sandbox.add_argument(
        "--fail-status", type=int, metavar="STATUS", help="answer the first requests with this HTTP status"
    )
    sandbox.add_argument(
        "--fail-code", type=int, metavar="CODE", help="... and this Graph error code (e.g. 17 = throttled)"
    )
    sandbox.add_argument("--fail-times", type=int, default=1, metavar="N", help="how many (default 1)")
    sandbox.set_defaults(run=run_sandbox)


_EVENTS_HINT = "use a JSON array of events or one JSON event per line"


def read_events(name: str) -> list[dict[str, Any]]:
    """Server events from a JSON array, a request envelope ``{"data": [...]}``, one event object, or
    JSONL (one event or envelope per line). Credentials in the file are ignored."""
    text = _read_text(name)
    stripped = text.strip()
    if not stripped:
        raise UnreadableFileError(f"{name} is empty", hint="give it a JSON array of server events")
    try:
        return _events_of(json.loads(stripped), name)
    except json.JSONDecodeError:
        pass
    except RecursionError:
        raise UnreadableFileError(f"{name} nests too deeply to be events", hint=_EVENTS_HINT) from None
    events: list[dict[str, Any]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.extend(_events_of(json.loads(line), f"{name} line {line_no}"))
        except json.JSONDecodeError as err:
            raise UnreadableFileError(
                f"{name} line {line_no} is not JSON ({err.msg})", hint=_EVENTS_HINT
            ) from None
        except RecursionError:
            raise UnreadableFileError(f"{name} line {line_no} nests too deeply", hint=_EVENTS_HINT) from None
    return events


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    from capi_core.readers import require_regular_file

    path = Path(name)
    if path.exists():
        require_regular_file(path)  # a device such as /dev/zero would be read forever
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"no such file: {name}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UnreadableFileError(
            f"cannot read {name}: {err.__class__.__name__}", hint="UTF-8 JSON"
        ) from None


def _events_of(value: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(value, dict) and isinstance(value.get("data"), list):
        value = value["data"]
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return list(value)  # non-objects are reported by pre-flight with their position
    raise UnreadableFileError(f'{where} is not an event, a list of events or a {{"data": [...]}} request')


def run_push(args: argparse.Namespace) -> int:
    from capi_core.meta.push import push_test_events

    check_base_url(args.base_url)  # a bad URL is a usage error, before the token or the events are read
    token = DeskConfig.load().token()
    if not token:
        raise InputError(
            "META_ACCESS_TOKEN is not set",
            hint="export META_ACCESS_TOKEN=<system-user token from Events Manager> "
            "(any value works against the sandbox)",
        )
    if not args.events:
        raise InputError(
            "no events to push", hint="pass --events FILE (JSON array or JSONL of server events)"
        )
    events = read_events(args.events)
    with open_store(args, create=True) as store:
        outcome = push_test_events(
            store,
            pixel_id=args.pixel_id,
            events=events,
            test_event_code=args.test_event_code,
            token=token,
            base_url=args.base_url,
            version=args.version,
        )
    if args.json:
        print(outcome.model_dump_json(indent=2, exclude={"batches": {"__all__": {"response"}}}))
    else:
        _print_outcome(outcome)
    return EXIT_OK if outcome.ok else EXIT_REFUSED


def _print_outcome(outcome: Any) -> None:
    if outcome.refused:
        print(f"capi-desk: not sent: {len(outcome.problems)} problem(s) Meta would refuse:", file=sys.stderr)
        for problem in outcome.problems:
            print(f"  {problem}", file=sys.stderr)
        return
    for batch in outcome.batches:
        label = f"request {batch.index + 1}/{len(outcome.batches)} ({batch.events} events)"
        if batch.ok:
            print(f"{label}: events_received {batch.events_received}, fbtrace_id {batch.fbtrace_id}")
            for message in batch.messages:
                print(f"  message: {message}")
        elif not batch.sent:
            print(f"{label}: not sent (an earlier request failed)")
        elif batch.error is not None:
            print(error_lines(label, batch.error, batch.attempts))
    print(outcome.summary(), file=sys.stdout if outcome.ok else sys.stderr)


def error_lines(label: str, err: GraphErrorInfo, attempts: int) -> str:
    """A failed request's Graph error, naming only the parts Meta (or the network) gave: a network error
    has no HTTP status or code, many Graph errors no subcode or title."""
    facts = [
        f"{name} {value}"
        for name, value in (("Graph error code", err.code), ("subcode", err.subcode), ("HTTP", err.status))
        if value is not None
    ]
    head = ", ".join([*facts, f"after {attempts} attempt(s)"])
    lines = [f"{label}: {head}"]
    for name, value in (
        ("title", err.title),
        ("message", err.message),
        ("user message", err.user_message),
        ("fbtrace_id", err.fbtrace_id),
    ):
        if value not in (None, ""):
            lines.append(f"  {name}: {value}")
    return "\n".join(lines)


def run_sandbox(args: argparse.Namespace) -> int:
    from capi_core.meta.sandbox import FailureSpec, serve

    if not 0 <= args.port <= 65535:  # checked here: the socket layer raises OverflowError, not OSError
        raise InputError(f"--port {args.port} is not a port", hint="give 1024-65535, e.g. --port 8787")
    failure = None
    if args.fail_status is not None or args.fail_code is not None:
        spec: dict[str, Any] = {"times": args.fail_times}
        if args.fail_status is not None:
            spec["status"] = args.fail_status
        if args.fail_code is not None:
            spec["code"] = args.fail_code
        try:
            failure = FailureSpec.parse(spec)
        except ValueError as err:
            raise InputError(f"--fail-*: {err}") from None
    try:
        serve(args.port, record=Path(args.record) if args.record else None, failure=failure)
    except OSError as err:
        raise InputError(
            f"cannot listen on 127.0.0.1:{args.port} ({err.strerror})", hint="pick another --port"
        ) from None
    return EXIT_OK
