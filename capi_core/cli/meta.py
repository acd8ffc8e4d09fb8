"""``capi-desk meta-quality load|fetch|list``: Meta's Dataset Quality answers as dated snapshots.

``load FILE`` stores a saved answer of ``GET /{version}/dataset_quality``; ``fetch`` asks Meta now with
the token in ``META_ACCESS_TOKEN`` (sent in the Authorization header only, never on the command line or
in a URL); ``list`` shows the stored snapshots. The figures are trended on the dashboard's "Meta's view".
(Ads Manager exports, the other half of that page, are ingested with ``capi-desk ingest --source meta``.)
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from capi_core.cli.common import EXIT_OK, open_store
from capi_core.config import ENV_TOKEN, DeskConfig
from capi_core.errors import InputError
from capi_core.meta import dataset_quality
from capi_core.store import Store

TOKEN_ENV = ENV_TOKEN


def _when(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time like 2026-11-20T09:30") from err
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _pixel(store: Store, given: str | None) -> str:
    """The pixel named, else the store's only pixel."""
    if given:
        return given
    pixels = [
        str(row[0])
        for row in store.query(
            "pixels", "select distinct pixel_id from events where pixel_id is not null order by 1"
        ).rows
    ]
    if len(pixels) == 1:
        return pixels[0]
    known = ", ".join(pixels[:5]) or "none in the store"
    raise InputError("which dataset (pixel) is this?", hint=f"pass --pixel-id (pixels: {known})")


def cmd_load(args: argparse.Namespace) -> int:

    with open_store(args, create=True) as store:
        snapshot = dataset_quality.load_file(
            store, Path(args.file), pixel_id=_pixel(store, args.pixel_id), fetched_at=args.at
        )
    print(snapshot.summary)
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    from capi_core.meta.graph_api import check_base_url

    if args.base_url:
        check_base_url(args.base_url)  # a bad URL is a usage error, whatever the token
    token = DeskConfig.load().token()
    if not token:
        raise InputError(
            f"no access token: set {TOKEN_ENV}",
            hint="a system-user token with ads_read on the dataset (Events Manager -> Settings)",
        )
    with open_store(args, create=True) as store:
        snapshot = dataset_quality.fetch(
            store, pixel_id=args.pixel_id, token=token, base_url=args.base_url, version=args.api_version
        )
    print(snapshot.summary)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:

    with open_store(args) as store:
        found = dataset_quality.snapshots(store, args.pixel_id)
    if not found:
        print(
            "no Dataset Quality snapshots yet: run `capi-desk meta-quality load FILE` "
            "or `capi-desk meta-quality fetch --pixel-id ID`"
        )
        return EXIT_OK
    from capi_core.cli.output import print_table

    print_table(
        ("snapshot_id", "fetched_at", "pixel_id", "source", "source_name", "events"),
        [
            (snap.snapshot_id, f"{snap.fetched_at:%Y-%m-%d %H:%M}", snap.pixel_id, snap.source,
             snap.source_name, snap.events)
            for snap in found
        ],
    )  # fmt: skip
    return EXIT_OK


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``meta-quality`` with its ``load``, ``fetch`` and ``list`` subcommands."""
    parser = sub.add_parser(
        "meta-quality",
        help="Meta's own Dataset Quality figures (EMQ, event coverage, dedup keys, freshness) as snapshots",
        description="Store Meta's Dataset Quality API answers as dated snapshots, to trend them next to "
        "this tool's estimates.",
    )
    actions = parser.add_subparsers(dest="meta_quality_command", required=True, metavar="ACTION")

    load = actions.add_parser("load", help="store a saved answer of GET /{version}/dataset_quality")
    load.add_argument("file", metavar="FILE", help="the JSON answer, saved from Graph API Explorer or curl")
    load.add_argument("--pixel-id", help="the dataset (pixel) it is for (default: the store's only pixel)")
    load.add_argument(
        "--at", type=_when, help="when it was fetched, e.g. 2026-11-20T09:30 (default: the file's time)"
    )
    load.set_defaults(run=cmd_load)

    fetch = actions.add_parser(
        "fetch", help=f"ask Meta now (token from ${TOKEN_ENV}, sent in the Authorization header)"
    )
    fetch.add_argument("--pixel-id", required=True, help="the dataset (pixel) id")
    fetch.add_argument(
        "--base-url", help="Graph API base URL (default https://graph.facebook.com; or the local sandbox)"
    )
    fetch.add_argument("--api-version", help="Graph API version, e.g. v26.0 (default: the push's)")
    fetch.set_defaults(run=cmd_fetch)

    listing = actions.add_parser("list", help="the stored snapshots, newest first")
    listing.add_argument("--pixel-id", help="only this dataset (pixel)")
    listing.set_defaults(run=cmd_list)
