"""Subcommands of `capi-desk` for lead quality: ``leads show`` and ``leads set-event NAME``.

``capi-desk leads set-event CompleteRegistration`` makes that event the store's lead event (the event
reconciled to CRM leads and judged by lead quality; ``Lead`` until set) and rebuilds the derived links
in the same transaction. ``capi-desk leads show`` prints the lead event and the event names in the store
with their copies (a table under a header), so the right name can be picked. Names from files are printed with
control characters escaped.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from capi_core.cli.common import EXIT_OK, open_store

if TYPE_CHECKING:
    from capi_core.store import Store

SHOWN_NAMES = 20


def cmd_leads_show(args: argparse.Namespace) -> int:
    from capi_core import settings
    from capi_core.cli.output import print_table
    from capi_core.metrics import leads
    from capi_core.weekly_review import plain

    with open_store(args, read_only=True) as store:
        event = settings.lead_event(store)
        configured = settings.get(store, settings.LEAD_EVENT_SETTING) is not None
        choices = leads.event_choices(store, SHOWN_NAMES)
    origin = "set for this store" if configured else "the default"
    print(f"lead event: {plain(event)} ({origin}; change it with `capi-desk leads set-event NAME`)")
    if not choices:
        print("no events in the store yet")
        return EXIT_OK
    # a name with outer spaces is shown quoted: "AddToCart " and "AddToCart" are two events to Meta
    names = [name if name == name.strip() else repr(name) for name in (c.event_name for c in choices)]
    print_table(("event_name", "copies"), [(name, c.copies) for name, c in zip(names, choices, strict=True)])
    return EXIT_OK


def _require_stored_event(store: Store, name: str) -> None:
    """A lead event no stored copy carries is most likely a typo: refuse it, listing the store's events
    (a store without events yet accepts any name, so the setting can come first)."""
    from capi_core import settings
    from capi_core.errors import InputError
    from capi_core.scope_check import listed, stored_values

    if not name.strip() or settings.same_event(name, settings.ORDER_EVENT):
        return  # settings.set_lead_event says what is wrong with these
    names = stored_values(store, "event_name")  # every name: a capped list would refuse a real one
    if names and not any(settings.same_event(name, stored) for stored in names):
        raise InputError(
            f"no event {listed([name.strip()])!r} in the store; events: {listed(names)}",
            hint="give one of them (case and spaces do not matter); see `capi-desk leads show`",
        )


def cmd_leads_set_event(args: argparse.Namespace) -> int:
    from capi_core import settings
    from capi_core.weekly_review import plain

    with open_store(args) as store:
        _require_stored_event(store, args.event_name)
        name = settings.set_lead_event(store, args.event_name)
        copies = store.query(
            "lead event copies",
            "select count(*) from copy_truth_links where kind = 'lead'",
        ).scalar()
    print(f"lead event set to {plain(name)}: {copies or 0} copies in the store; reconciliation rebuilt")
    if not copies:
        print("no copy of that event is stored yet: check the name with `capi-desk leads show`")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``leads show|set-event`` to the `capi-desk` parser."""
    leads = sub.add_parser("leads", help="which event marks a lead (reconciled to CRM leads)")
    actions = leads.add_subparsers(dest="leads_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print the lead event and the event names in the store")
    show.set_defaults(run=cmd_leads_show)
    set_event = actions.add_parser(
        "set-event", help="make NAME the lead event, e.g. leads set-event CompleteRegistration"
    )
    set_event.add_argument(
        "event_name", metavar="NAME", help="the event your lead form fires, as sent to Meta"
    )
    set_event.set_defaults(run=cmd_leads_set_event)
