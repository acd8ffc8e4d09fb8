"""Subcommands of `capi-desk` for the page-URL allow-list: ``url-keys list|add KEY...|remove KEY...``.

Page URLs are stored with every query value masked except those of keys that carry no personal data: the
built-in list (``privacy.URL_KEYS_KEPT``) and the store's own (``settings.url_keys``), e.g. a shop's
``ref_code``. Keys changed here apply to files ingested afterwards; stored URLs stay as they were masked.
Only the store's own keys can be removed: the built-in list is the same for every store.
"""

from __future__ import annotations

import argparse
from typing import Any

from capi_core.cli.common import EXIT_OK, open_store


def _show(keys: tuple[str, ...]) -> str:
    return ", ".join(keys) if keys else "none"


def cmd_url_keys_list(args: argparse.Namespace) -> int:
    from capi_core import privacy, settings

    with open_store(args, read_only=True) as store:
        own = settings.url_keys(store)
    print(f"built in: {_show(privacy.URL_KEYS_KEPT)}")
    print(f"this store: {_show(own)}")
    if not own:
        print("add a key whose values carry no personal data with `capi-desk url-keys add KEY`")
    return EXIT_OK


def cmd_url_keys_add(args: argparse.Namespace) -> int:
    from capi_core import privacy, settings

    with open_store(args) as store:
        kept = settings.set_url_keys(store, [*settings.url_keys(store), *args.keys])
    built_in = [key for key in args.keys if privacy.key_kept(key.strip())]
    if built_in:
        print(f"already built in: {_show(tuple(built_in))}")
    print(f"this store keeps: {_show(kept)} (files ingested from now on keep these keys' values)")
    return EXIT_OK


def cmd_url_keys_remove(args: argparse.Namespace) -> int:
    from capi_core import privacy, settings
    from capi_core.errors import InputError

    with open_store(args) as store:
        own = settings.url_keys(store)
        wanted = {key.strip().lower() for key in args.keys}
        unknown = sorted(wanted - set(own))
        if unknown:
            built_in = [key for key in unknown if privacy.key_kept(key)]
            raise InputError(
                f"{_show(tuple(unknown))}: not among this store's keys ({_show(own)})",
                hint="the built-in keys cannot be removed" if built_in else "see `capi-desk url-keys list`",
            )
        kept = settings.set_url_keys(store, [key for key in own if key not in wanted])
    print(f"this store keeps: {_show(kept)} (files ingested from now on mask the others' values)")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``url-keys list|add|remove`` to the `capi-desk` parser."""
    url_keys = sub.add_parser(
        "url-keys", help="page-URL query keys whose values are stored (all others are masked)"
    )
    actions = url_keys.add_subparsers(dest="url_keys_command", required=True, metavar="ACTION")
    listed = actions.add_parser("list", help="print the built-in keys and this store's own")
    listed.set_defaults(run=cmd_url_keys_list)
    add = actions.add_parser(
        "add",
        help="keep these keys' values in URLs ingested from now on, e.g. url-keys add ref_code 'promo_*'",
    )
    add.add_argument("keys", nargs="+", metavar="KEY", help="a key, or a prefix ending in * (promo_*)")
    add.set_defaults(run=cmd_url_keys_add)
    remove = actions.add_parser("remove", help="mask these keys' values again (the store's own keys only)")
    remove.add_argument("keys", nargs="+", metavar="KEY")
    remove.set_defaults(run=cmd_url_keys_remove)
