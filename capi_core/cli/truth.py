"""Subcommands of `capi-desk` for how the backend truth is read: ``channels list|exclude|include|reset``
and ``currency show|set|clear``.

An order from a sales channel no pixel sees (Point of Sale, staff-created drafts, subscription renewals,
TikTok Shop, WooCommerce admin orders) cannot reach Meta and is not eligible; ``channels`` shows the
store's channels with their orders and rule, excludes more (a marketplace's app id) or puts a built-in one
back, and rebuilds the reconciliation in the same transaction. ``currency set USD --rate CAD=0.73`` makes
the reconciliation report values in USD and convert CAD into it; without a rate another currency is
listed apart, never added. Channel names come from files and are printed with control characters escaped.
"""

from __future__ import annotations

import argparse
from typing import Any

from capi_core.cli.common import EXIT_OK, open_store

_RULES = {
    "web": "eligible (a web checkout)",
    "no_pixel": "not eligible (no pixel sees this channel)",
    "store_excluded": "not eligible (excluded for this store)",
    "store_included": "eligible (put back for this store)",
    "unplaced": "eligible (unknown channel: exclude it if no pixel sees it)",
}


def cmd_channels_list(args: argparse.Namespace) -> int:
    from capi_core import settings
    from capi_core.cli.output import print_table
    from capi_core.metrics import reconcile
    from capi_core.models import Scope
    from capi_core.weekly_review import plain

    with open_store(args) as store:  # writable: a store of an older version rebuilds its tables once
        found = reconcile.sales_channels(store, Scope())
        excluded, included = settings.order_channels(store)
    print(f"no pixel sees (built in): {', '.join(reconcile.NON_PIXEL_CHANNELS)}")
    print(f"this store excludes: {', '.join(excluded) or 'none'}; puts back: {', '.join(included) or 'none'}")
    if not found:
        print("no order in the store names a sales channel")
        return EXIT_OK
    print_table(
        ("channel", "orders", "paid", "rule"),
        [(plain(c.channel), c.records, c.orders, _RULES[c.rule]) for c in found],
    )
    return EXIT_OK


def _changed(args: argparse.Namespace, **wishes: list[str]) -> int:
    from capi_core import settings

    with open_store(args) as store:
        excluded, included = settings.set_order_channels(store, **wishes)
    print(f"this store excludes: {', '.join(excluded) or 'none'}; puts back: {', '.join(included) or 'none'}")
    print("reconciliation rebuilt")
    return EXIT_OK


def cmd_channels_exclude(args: argparse.Namespace) -> int:
    return _changed(args, exclude=args.channels)


def cmd_channels_include(args: argparse.Namespace) -> int:
    return _changed(args, include=args.channels)


def cmd_channels_reset(args: argparse.Namespace) -> int:
    return _changed(args, reset=args.channels)


def cmd_currency_show(args: argparse.Namespace) -> int:
    from capi_core import settings

    with open_store(args, read_only=True) as store:
        currency, rates = settings.report_currency(store)
    if currency is None:
        print("values are reported in the currency most orders carry; other currencies are listed apart")
        return EXIT_OK
    listed = ", ".join(f"1 {code} = {rate:g} {currency}" for code, rate in rates.items()) or "none"
    print(f"values are reported in {currency}; rates: {listed}")
    return EXIT_OK


def _rate(text: str) -> tuple[str, float]:
    code, _, rate = text.partition("=")
    try:
        return code, float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not CODE=RATE, e.g. CAD=0.73") from None


def cmd_currency_set(args: argparse.Namespace) -> int:
    from capi_core import settings

    with open_store(args) as store:
        settings.set_report_currency(store, args.currency, dict(args.rate or []))
    return cmd_currency_show(args)


def cmd_currency_clear(args: argparse.Namespace) -> int:
    from capi_core import settings

    with open_store(args) as store:
        settings.set_report_currency(store, None)
    return cmd_currency_show(args)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``channels list|exclude|include|reset`` and ``currency show|set|clear`` to the parser."""
    channels = sub.add_parser("channels", help="order sales channels: which ones a pixel can see")
    actions = channels.add_subparsers(dest="channels_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="the store's channels, their orders and rule").set_defaults(
        run=cmd_channels_list
    )
    for name, run, text in (
        ("exclude", cmd_channels_exclude, "no pixel sees these channels: their orders are not eligible"),
        ("include", cmd_channels_include, "a pixel sees these built-in exclusions after all (e.g. pos)"),
        ("reset", cmd_channels_reset, "back to the built-in rule for these channels"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("channels", nargs="+", metavar="CHANNEL", help="as the export writes it")
        action.set_defaults(run=run)
    currency = sub.add_parser("currency", help="the currency reconciliation values are reported in")
    steps = currency.add_subparsers(dest="currency_command", required=True, metavar="ACTION")
    steps.add_parser("show", help="the report currency and rates").set_defaults(run=cmd_currency_show)
    chosen = steps.add_parser("set", help="report in CURRENCY, converting others at the given rates")
    chosen.add_argument("currency", metavar="CURRENCY", help="ISO 4217 code, e.g. USD")
    chosen.add_argument(
        "--rate", action="append", type=_rate, metavar="CODE=RATE",
        help="one unit of CODE in CURRENCY, e.g. --rate CAD=0.73 (repeatable)",
    )  # fmt: skip
    chosen.set_defaults(run=cmd_currency_set)
    steps.add_parser("clear", help="back to the orders' own currency").set_defaults(run=cmd_currency_clear)
