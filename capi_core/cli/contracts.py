"""Subcommands of `capi-desk` for event contracts: `contracts validate` and `contracts fix` (the test
push commands `push` / `sandbox` that send what `fix` writes are in capi_core.cli.push).

`contracts fix` is the Event contracts page's "Fix and push" for every violating copy at once: the stored
copies that break the contract, with the automatic corrections (``contracts.editor.fix_copies``), written
as the JSON array `push --events` reads; what was corrected and what still fails goes to stderr."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capi_core.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    SEVERITIES,
    check_report_out,
    open_store,
    parse_date,
    scope_from,
    write_out,
)

if TYPE_CHECKING:
    from capi_core.contracts.editor import CopyFix
    from capi_core.contracts.library import ContractError, Violation
    from capi_core.contracts.models import Contract
    from capi_core.store import Store


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to the `capi-desk` parser."""
    _register_contracts(sub)


# --- capi-desk contracts validate ---------------------------------------------------------------------

_VALIDATE_EPILOG = """\
examples:
  capi-desk contracts validate --pixel-id 1234567890123456
  capi-desk contracts validate --file contracts/1234567890123456.yaml --fail-on high

Without --file the contract in force is used (the pixel's YAML file in $CAPI_DESK_CONTRACTS or
data/contracts, else its latest saved version, else default.yaml); without --pixel-id every pixel of the
store. Exit codes: 0 ok; 1 a violation at or above --fail-on; 2 a contract that does not validate.
"""


_FIX_EPILOG = """\
examples:
  capi-desk --db shop.duckdb contracts fix --out fixed.json
  capi-desk sandbox &
  META_ACCESS_TOKEN=any capi-desk --db shop.duckdb push --pixel-id 1234567890123456 \\
      --test-event-code TEST123 --events fixed.json --base-url http://127.0.0.1:8787

Hashed keys stay as their stored SHA-256 (raw values never reach the store); event_time is moved into
Meta's 7-day window, since the events are pushed as test events now.
"""


def _register_contracts(sub: argparse._SubParsersAction[Any]) -> None:
    """`capi-desk contracts validate` and `capi-desk contracts fix`."""
    contracts = sub.add_parser(
        "contracts",
        help="event contracts: validate them, list the copies that break them, fix those copies for a push",
    )
    actions = contracts.add_subparsers(dest="contracts_command", required=True, metavar="ACTION")
    validate = actions.add_parser(
        "validate",
        help="validate a contract (YAML) and list the stored copies that break it",
        epilog=_VALIDATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("--pixel-id", help="the pixel whose contract to check (default: every pixel)")
    validate.add_argument("--file", type=Path, help="a contract YAML file (default: the contract in force)")
    validate.add_argument(
        "--from", dest="date_from", type=parse_date, help="first day (UTC), e.g. 2026-11-02"
    )
    validate.add_argument("--to", dest="date_to", type=parse_date, help="last day (UTC), inclusive")
    validate.add_argument(
        "--fail-on", choices=SEVERITIES, help="exit 1 when a violation is at or above this severity"
    )
    validate.set_defaults(run=cmd_contracts_validate)
    fix = actions.add_parser(
        "fix",
        help="the violating copies with the automatic corrections, as the JSON `push --events` takes",
        description="Every stored copy that breaks the contract (most severe first), corrected the way "
        "the Event contracts page corrects one (event name, event_time in seconds and within Meta's "
        "7 days, action_source, hashing, currency, value, event_id by the contract's rule ...), written "
        "as a JSON array of server events for `capi-desk push --events`. Each copy's corrections, and "
        "what Meta's pre-flight or the contract still finds, are listed on stderr. Copies pre-flight "
        "still refuses are left out unless --include-refused (push sends nothing if one is refused).",
        epilog=_FIX_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fix.add_argument("--pixel-id", help="the pixel whose copies to fix (default: the store's only pixel)")
    fix.add_argument("--file", type=Path, help="a contract YAML file (default: the contract in force)")
    fix.add_argument("--from", dest="date_from", type=parse_date, help="first day (UTC), e.g. 2026-11-02")
    fix.add_argument("--to", dest="date_to", type=parse_date, help="last day (UTC), inclusive")
    fix.add_argument("--limit", type=int, default=100, help="at most this many copies (default %(default)s)")
    fix.add_argument("--out", type=Path, help="write the JSON to this file instead of stdout")
    fix.add_argument(
        "--include-refused", action="store_true", help="also write copies pre-flight still refuses"
    )
    fix.set_defaults(run=cmd_contracts_fix)


def _contracts_to_check(store: Store, args: argparse.Namespace) -> list[Contract]:
    from capi_core.contracts.library import current_contract, read_contract_file, require_pixel_id
    from capi_core.contracts.models import is_pixel_id
    from capi_core.dashboard_api import pixels
    from capi_core.errors import InputError
    from capi_core.weekly_review import plain

    if args.file is not None:
        found = read_contract_file(args.file)
        pixel = args.pixel_id or found.pixel_id
        if pixel:
            require_pixel_id(pixel)
            _require_pixel(store, pixel)
        return [found.for_pixel(pixel) if pixel else found]
    if args.pixel_id:
        require_pixel_id(args.pixel_id)
        _require_pixel(store, args.pixel_id)
    targets = [args.pixel_id] if args.pixel_id else pixels(store)
    # a placeholder such as dummyPixelId has no contract: said, never checked silently
    valid = [pixel for pixel in targets if is_pixel_id(pixel)]
    invalid = ", ".join(repr(plain(pixel[:40])) for pixel in targets if not is_pixel_id(pixel))
    if targets and not valid:
        raise InputError(
            f"no contract could be checked: pixel {invalid} is not a Meta pixel id (digits only)",
            hint="Meta refuses its events; fix the pixel id the sender uses, then ingest its logs again",
        )
    if invalid:
        print(
            f"capi-desk: warning: pixel {invalid} skipped: not a Meta pixel id (digits only); Meta refuses "
            "its events — fix the pixel id the sender uses",
            file=sys.stderr,
        )
    return [current_contract(store, pixel).contract for pixel in valid]


def _require_pixel(store: Store, pixel: str) -> None:
    """A pixel with no stored copy has nothing to check: saying "no violation" would mislead.

    Raises:
        InputError: naming the pixels the store has (or saying it has none).
    """
    from capi_core.dashboard_api import pixels
    from capi_core.errors import InputError

    known = pixels(store)
    if pixel in known:
        return
    hint = f"its pixels: {', '.join(known)}" if known else "ingest events first (capi-desk ingest)"
    raise InputError(f"the store has no copies for pixel {pixel}", hint=hint)


def cmd_contracts_validate(args: argparse.Namespace) -> int:
    """Validate the contract(s), print the violations; exit 2 on an invalid contract, 1 with --fail-on."""
    from capi_core.contracts.library import ContractError, at_or_above, contract_violations

    scope = scope_from(args, dates_only=True)  # --pixel-id picks the contract; it names its pixel
    with open_store(args) as store:
        try:
            checked = _contracts_to_check(store, args)
        except ContractError as err:
            return _contract_error(err)
        found = [v for contract in checked for v in contract_violations(store, scope, contract)]
    for contract in checked:
        print(
            f"contract of pixel {contract.pixel_id or '(every pixel)'}: valid, {len(contract.events)} events"
        )
    _print_violations(found)
    failing = at_or_above(found, args.fail_on) if args.fail_on else []
    return EXIT_FINDINGS if failing else EXIT_OK


def _contract_error(err: ContractError) -> int:
    """An invalid contract: each of its errors on its own line (the field named), then exit 2."""
    for line in err.errors:
        print(f"capi-desk: error: {err.source}: {line}", file=sys.stderr)
    return EXIT_USAGE


def _print_violations(found: list[Violation]) -> None:
    if not found:
        print("no stored copy breaks the contract")
        return
    print(f"{len(found)} violations (severity, pixel, event, channel: what; up to 3 example event_ids)")
    for v in found:
        ids = ", ".join(
            repr(e.event_id) if e.event_id is not None else "(no event_id)" for e in v.examples[:3]
        )
        pixel = v.pixel_id or "(every pixel)"
        print(f"  {v.severity:<8} {pixel} {v.event_name} {v.channel}: {v.message}  e.g. {ids}")


def cmd_contracts_fix(args: argparse.Namespace) -> int:
    """Write the corrected violating copies as JSON; report each copy's corrections on stderr."""
    from capi_core.contracts.editor import fix_copies
    from capi_core.contracts.library import ContractError, contract_violations
    from capi_core.errors import InputError

    if args.limit < 1:
        raise InputError(f"--limit {args.limit} fixes nothing", hint="give 1 or more, e.g. --limit 20")
    target = check_report_out(str(args.out), Path(args.db)) if args.out else None
    scope = scope_from(args, dates_only=True)  # --pixel-id picks the contract; it names its pixel
    with open_store(args) as store:
        try:
            checked = _contracts_to_check(store, args)
        except ContractError as err:
            return _contract_error(err)
        if len(checked) != 1:
            listed = ", ".join(str(c.pixel_id) for c in checked)
            raise InputError(
                f"which pixel? the store has {len(checked)}: {listed}",
                hint="pass --pixel-id (a push sends one pixel's events)",
            )
        contract = checked[0]
        fixes = fix_copies(store, contract, contract_violations(store, scope, contract), limit=args.limit)
    kept = [f for f in fixes if args.include_refused or not f.fix.problems]
    for fixed in fixes:
        _print_fix(fixed, kept=fixed in kept)
    text = json.dumps([f.fix.correction.after for f in kept], indent=2, ensure_ascii=False) + "\n"
    if target is not None:
        write_out(target, text)
    else:
        sys.stdout.write(text)
    print(_fix_summary(fixes, kept, contract.pixel_id, args.out), file=sys.stderr)
    return EXIT_OK


def _print_fix(fixed: CopyFix, *, kept: bool) -> None:
    """One copy's corrections and what still fails, on stderr."""
    from capi_core.weekly_review import plain

    fix = fixed.fix
    event_id = "no event_id" if fixed.event_id is None else f"event_id {fixed.event_id!r}"
    head = f"{fixed.event_name} {fixed.channel} copy, {event_id}"
    print(plain(f"{head} ({'; '.join(fixed.broken)})"), file=sys.stderr)
    for change in fix.correction.changes:
        line = f"  fixed {change.field}: {_shown(change.before)} -> {_shown(change.after)} ({change.why})"
        print(plain(line), file=sys.stderr)
    if not fix.correction.changes:
        print("  nothing to correct automatically", file=sys.stderr)
    for problem in fix.problems:
        print(plain(f"  pre-flight still refuses it: {problem}"), file=sys.stderr)
    for warning in fix.contract_warnings:
        print(plain(f"  still breaks the contract: {warning}"), file=sys.stderr)
    if not kept:
        print("  left out of the JSON (--include-refused writes it too)", file=sys.stderr)


def _shown(value: Any) -> str:
    if value is None:
        return "(absent)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _fix_summary(fixes: list[CopyFix], kept: list[CopyFix], pixel: str | None, out: Path | None) -> str:
    """The last stderr line: how many copies were fixed and written, and the push to run next."""
    if not fixes:
        return "no stored copy breaks the contract: nothing to fix (an empty JSON array was written)"
    where = str(out) if out else "stdout"
    events = shlex.quote(str(out)) if out else "FILE"
    return (
        f"{len(fixes)} violating copies corrected, {len(kept)} written to {where}; push them as test events: "
        f"META_ACCESS_TOKEN=... capi-desk push --pixel-id {pixel or 'ID'} --test-event-code CODE "
        f"--events {events}"
    )
