"""``capi-desk inspect ID`` and ``capi-desk pairs``: the Event inspector and the Deduplication page's
problem pairs, without the browser.

``inspect`` finds every copy and backend record of one conversion (``inspector.search``) and prints them
as the page shows them: the records, a timeline of copies, and each copy's dedup verdict in a sentence.
An email is hashed by ``inspector`` before it reaches a query and only its SHA-256 is ever printed; ``-``
reads the value from stdin, so an email stays out of shell history and process lists. ``pairs`` prints
the pairs Meta counts twice (``inspector.problem_pairs``), each with why and the fields that differ.
Both only display: every figure and sentence comes from ``capi_core.inspector``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from capi_core.cli.common import EXIT_OK, open_store, parse_date, scope_from
from capi_core.errors import InputError

if TYPE_CHECKING:
    from capi_core.inspector import InspectorCopy, InspectorResult, ProblemPair

KIND_LABELS = {
    "auto": "anything",
    "event_id": "event_id",
    "order_id": "order id",
    "fbp": "fbp",
    "email": "email",
}
_TIMELINE = (
    "received_at", "channel", "event_name", "event_id", "order_id", "value", "currency", "verdict",
    "matched_on",
)  # fmt: skip
_RECORD = (
    "kind", "raw_id", "created_at", "paid_at", "status", "value", "currency", "verdict", "copies",
    "counted_copies", "flags",
)  # fmt: skip

_INSPECT_EPILOG = """\
examples:
  capi-desk --db shop.duckdb inspect 1042                 an order id (#1042 or 1042) or an event_id
  capi-desk --db shop.duckdb inspect fb.1.1793620000000.1234567890 --kind fbp
  echo 'jane@example.com' | capi-desk --db shop.duckdb inspect - --kind email
  capi-desk --db shop.duckdb inspect 1042 --payload       each copy's stored payload and key checks too
  capi-desk --db shop.duckdb inspect 1042 --json          everything, as JSON

An email is normalized and hashed (SHA-256) on the spot; only the hash is searched and printed. Give it
on stdin (ID -) to keep it out of your shell history.
"""
_PAIRS_EPILOG = """\
examples:
  capi-desk --db shop.duckdb pairs                        the 20 latest pairs Meta counts twice
  capi-desk --db shop.duckdb pairs --event Purchase --from 2026-11-01 --limit 100
  capi-desk --db shop.duckdb pairs --all-fields           every compared field, not only those that differ
  capi-desk --db shop.duckdb inspect 1042                 then every copy of one of them
"""


def _text(value: str) -> str:
    """Text from the store (names, ids, sentences quoting them) with control characters escaped."""
    from capi_core.weekly_review import plain

    return plain(value)


def _read_id(given: str) -> str:
    text = sys.stdin.readline() if given == "-" else given
    if not text.strip():
        raise InputError("nothing to look for", hint="give an event_id, an order id, an fbp or an email")
    return text.strip()


def cmd_inspect(args: argparse.Namespace) -> int:
    from capi_core.inspector import search

    text = _read_id(args.id)
    if args.limit < 1:
        raise InputError(f"--limit {args.limit} lists nothing", hint="give 1 or more, e.g. --limit 50")
    with open_store(args, read_only=True) as store:
        result = search(store, text, kind=args.kind, limit=args.limit)
    if args.json:
        print(result.model_dump_json(indent=2))
        return EXIT_OK
    _print_result(result, payload=args.payload)
    return EXIT_OK


def _print_result(result: InspectorResult, *, payload: bool) -> None:
    from capi_core.cli.output import print_table

    print(f"Searched {KIND_LABELS[result.kind]}: {_text(result.query)}")
    if not result.copies and not result.records:
        print("Nothing found: no copy or backend record carries this value.")
        return
    more = f" (the first {len(result.copies)} listed; --limit N for more)" if result.truncated else ""
    print(f"{result.total_copies:,} copies{more} and {len(result.records)} backend records found.")
    print("\nBackend record")
    if not result.records:
        print("none: no order or lead carries this value, and no copy found links to one")
    else:
        print_table(
            _RECORD,
            [
                [", ".join(r.flags) if c == "flags" else getattr(r, c) for c in _RECORD]
                for r in result.records
            ],
        )
    if not result.copies:
        return
    print("\nTimeline (earliest receipt first)")
    print_table(
        ("#", *_TIMELINE), [(i, *(getattr(c, n) for n in _TIMELINE)) for i, c in enumerate(result.copies, 1)]
    )
    print("\nDedup verdict of each copy")
    for index, copy in enumerate(result.copies, start=1):
        _print_copy(index, copy, payload=payload)


def _print_copy(index: int, copy: InspectorCopy, *, payload: bool) -> None:
    name = "(no name)" if copy.event_name is None else repr(copy.event_name)
    event_id = "no event_id" if copy.event_id is None else f"event_id {copy.event_id!r}"
    print(f"{index}. {copy.channel} · {_text(name)} · {_text(event_id)}")
    print(f"   {_text(copy.explanation)}")
    if copy.counted_twice:
        print(f"   {_text(copy.counted_twice)}")
    if payload:
        checks = ", ".join(f"{key} {verdict}" for key, verdict in copy.key_checks.items()) or "none"
        print(f"   match keys: {_text(checks)}")
        body = json.dumps(copy.payload, ensure_ascii=False, sort_keys=True, indent=2, default=str)
        print("   stored payload:")
        for line in body.splitlines():
            print(f"     {_text(line)}")


def cmd_pairs(args: argparse.Namespace) -> int:
    from capi_core.inspector import problem_pairs
    from capi_core.scope_check import check_scope

    scope = scope_from(args)
    if args.limit < 1:
        raise InputError(f"--limit {args.limit} lists nothing", hint="give 1 or more, e.g. --limit 50")
    with open_store(args, read_only=True) as store:
        check_scope(store, scope)
        pairs = problem_pairs(store, scope, limit=args.limit)
    if args.json:
        print(json.dumps([p.model_dump(mode="json") for p in pairs], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not pairs:
        print("No pair is counted twice in this scope: every conversion sent on both channels is merged.")
        return EXIT_OK
    more = f" (the latest {args.limit}; --limit N for more)" if len(pairs) == args.limit else ""
    print(f"{len(pairs):,} pairs Meta counts twice, latest first{more}.")
    for index, pair in enumerate(pairs, start=1):
        _print_pair(index, pair, every_field=args.all_fields)
    return EXIT_OK


def _print_pair(index: int, pair: ProblemPair, *, every_field: bool) -> None:
    from capi_core.cli.output import print_table

    p = pair.pair
    print(f"\n{index}. {p.browser_received_at:%Y-%m-%d %H:%M} · {p.reason} · found as one by {p.matched_on}")
    print(f"   {_text(pair.verdict)}")
    shown = pair.fields if every_field else pair.differing
    if not shown:
        print("   (no compared field differs)")
        return
    if every_field:
        print_table(
            ("field", "browser copy", "server copy", "differs"),
            [(d.field, d.a, d.b, "≠" if d.differs else "") for d in shown],
        )
    else:
        print_table(("field", "browser copy", "server copy"), [(d.field, d.a, d.b) for d in shown])


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``inspect`` and ``pairs`` to the `capi-desk` parser."""
    from capi_core.inspector import COPY_LIMIT, SEARCH_KINDS

    inspect = sub.add_parser(
        "inspect",
        help="everything about one conversion: its copies, backend record and dedup verdicts",
        description="The Event inspector: every copy (browser and server) and backend record of one "
        "conversion, found by event_id, order id, fbp or email, with each copy's dedup verdict in a "
        "sentence.",
        epilog=_INSPECT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.add_argument(
        "id",
        metavar="ID",
        help="an event_id, an order id (#1042 or 1042), an fbp, or an email; - reads stdin",
    )
    inspect.add_argument(
        "--kind",
        choices=SEARCH_KINDS,
        default="auto",
        help="what ID is (default auto: event_id, order id and fbp at once, or an email when it has an @)",
    )
    inspect.add_argument(
        "--limit", type=int, default=COPY_LIMIT, help="list at most this many copies (default %(default)s)"
    )
    inspect.add_argument("--payload", action="store_true", help="also print each copy's stored payload")
    inspect.add_argument("--json", action="store_true", help="print everything found as JSON")
    inspect.set_defaults(run=cmd_inspect)

    pairs = sub.add_parser(
        "pairs",
        help="the pairs Meta counts twice, each with why and the fields that differ",
        description="The Deduplication page's problem pairs: a browser and a server copy of one "
        "conversion that Meta counts twice, latest first, each with why in a sentence and the fields "
        "that differ between the two copies.",
        epilog=_PAIRS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pairs.add_argument("--from", dest="date_from", type=parse_date, help="first day (event time, UTC)")
    pairs.add_argument("--to", dest="date_to", type=parse_date, help="last day, inclusive")
    pairs.add_argument("--pixel-id", help="only this pixel")
    pairs.add_argument("--event", action="append", help="only these event names (repeatable)")
    pairs.add_argument("--limit", type=int, default=20, help="at most this many pairs (default %(default)s)")
    pairs.add_argument("--all-fields", action="store_true", help="show every compared field")
    pairs.add_argument("--json", action="store_true", help="print the pairs with every field as JSON")
    pairs.set_defaults(run=cmd_pairs)
