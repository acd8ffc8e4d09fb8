"""Subcommands of `capi-desk` for the weekly drift: ``drift`` and ``annotate add|list|delete``.

``capi-desk drift [--week 2026-W46] [--format json|md]`` prints one week's drift (default: the latest
complete ISO week in the data); ``capi-desk annotate add 2026-11-04 "checkout redeploy"`` records a dated
note the drift shows next to a shift, ``annotate list`` prints them (id, day, note: a table under a
header) and ``annotate delete ID`` removes one. Bad days, weeks and ids are user errors (exit 2 with a
hint). Notes are printed with control characters escaped, so a note cannot drive the terminal.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from capi_core.cli.common import EXIT_OK, open_store
from capi_core.errors import InputError


def cmd_drift(args: argparse.Namespace) -> int:
    from capi_core.metrics.drift import drift_report
    from capi_core.models import Scope
    from capi_core.scope_check import check_scope
    from capi_core.weekly_review import markdown_lines

    scope = Scope(pixel_id=args.pixel_id, event_names=tuple(args.event or ()))
    with open_store(args) as store:
        check_scope(store, scope)
        drift = drift_report(store, scope, args.week)
    if args.format == "md":
        sys.stdout.write("\n".join(markdown_lines(drift, level=1)) + "\n")
    else:
        sys.stdout.write(drift.model_dump_json(indent=2) + "\n")
    return EXIT_OK


def cmd_annotate_add(args: argparse.Namespace) -> int:
    from capi_core import annotations

    with open_store(args, create=True) as store:
        added = annotations.add(store, args.day, args.note)
    print(f"annotation {added.annotation_id} added for {added.day.isoformat()}")
    return EXIT_OK


def cmd_annotate_list(args: argparse.Namespace) -> int:
    from capi_core import annotations
    from capi_core.cli.output import print_table

    with open_store(args) as store:
        rows = annotations.list_annotations(store)
    if not rows:
        print('no annotations yet: add one with `capi-desk annotate add 2026-11-04 "checkout redeploy"`')
        return EXIT_OK
    print_table(("id", "day", "note"), [(row.annotation_id, row.day.isoformat(), row.note) for row in rows])
    return EXIT_OK


def cmd_annotate_delete(args: argparse.Namespace) -> int:
    from capi_core import annotations

    with open_store(args) as store:
        if not annotations.delete(store, args.annotation_id):
            raise InputError(
                f"no annotation {args.annotation_id}", hint="list them with `capi-desk annotate list`"
            )
    print(f"annotation {args.annotation_id} deleted")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``drift`` and ``annotate`` to the `capi-desk` parser."""
    drift = sub.add_parser(
        "drift", help="this ISO week vs last week and the trailing 4 weeks, and the day a shift started"
    )
    drift.add_argument(
        "--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W46 (default: the latest complete week)"
    )
    drift.add_argument("--format", choices=["json", "md"], default="json")
    drift.add_argument("--pixel-id", help="only this pixel")
    drift.add_argument("--event", action="append", help="only these event names (repeatable)")
    drift.set_defaults(run=cmd_drift)

    annotate = sub.add_parser("annotate", help="dated notes (deploys, campaigns) shown next to drift")
    actions = annotate.add_subparsers(dest="annotate_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help='add a note: annotate add 2026-11-04 "checkout redeploy"')
    add.add_argument("day", help="UTC day, YYYY-MM-DD")
    add.add_argument("note", help="what happened that day")
    add.set_defaults(run=cmd_annotate_add)
    listing = actions.add_parser("list", help="list every note (id, day, note)")
    listing.set_defaults(run=cmd_annotate_list)
    delete = actions.add_parser("delete", help="delete one note by its id")
    delete.add_argument("annotation_id", type=int, metavar="ID")
    delete.set_defaults(run=cmd_annotate_delete)
