"""Input formats -> ``IncomingEvent`` / ``IncomingTruth`` / ``RowError``, and format detection.

One module per family of formats. Each exposes ``READERS``, a list of objects satisfying ``Reader``;
this module collects them. A reader only parses: normalization, hashing and storage happen in
``canonical.py`` and ``ingest.py``, so every format gets exactly the same rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from capi_core.errors import UnreadableFileError
from capi_core.models import IncomingEvent, IncomingTruth, RowError, SourceKind
from capi_core.readers import (
    browser,
    generic_csv,
    hubspot,
    salesforce,
    server,
    shopify,
    woocommerce,
)
from capi_core.readers._io import head_bytes

Item = IncomingEvent | IncomingTruth | RowError


@dataclass(frozen=True)
class ReadOptions:
    """What the user told us beyond the file itself."""

    column_map: dict[str, str] = field(default_factory=dict)  # file column -> canonical field
    pixel_id: str | None = None  # for formats that do not carry one
    default_country: str | None = None  # ISO alpha-2, for phones without a calling code
    stage_map: dict[str, str] = field(default_factory=dict)  # CRM stage (as exported) -> truth status
    url_keys: tuple[str, ...] = ()  # page-URL keys kept besides privacy.URL_KEYS_KEPT (settings.url_keys)


class Reader(Protocol):
    """A file format: how to recognise it and how to read it."""

    source: SourceKind
    format: str  # stable name, accepted by ``--format``
    description: str

    def sniff(self, head: str, file_name: str) -> bool:
        """True when the first bytes (decoded leniently) look like this format."""
        ...

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        """Every record of the file, in file order, or a RowError for a record that cannot be read."""
        ...


#: Detection order: within a source the first reader whose ``sniff`` accepts the file wins, so specific
#: formats (Shopify, WooCommerce, Salesforce, HubSpot) come before the generic CSV readers.
READERS: tuple[Reader, ...] = (
    *server.READERS,
    *browser.READERS,
    *shopify.READERS,
    *woocommerce.READERS,
    *salesforce.READERS,
    *hubspot.READERS,
    *generic_csv.READERS,
)


def formats_for(source: SourceKind) -> list[str]:
    """The format names a source accepts, in detection order."""
    return [reader.format for reader in READERS if reader.source == source]


def get_reader(source: SourceKind, fmt: str) -> Reader:
    """The reader for an explicit ``--format``."""
    for reader in READERS:
        if reader.source == source and reader.format == fmt:
            return reader
    known = ", ".join(formats_for(source)) or "none yet"
    raise UnreadableFileError(f"unknown format {fmt!r} for source {source}", hint=f"use one of: {known}")


def detect(path: Path, source: SourceKind) -> Reader:
    """The first reader of ``source`` whose ``sniff`` accepts the file's head."""
    head = head_bytes(path).decode("utf-8", errors="replace").lstrip("\ufeff")
    for reader in READERS:
        if reader.source == source and reader.sniff(head, path.name):
            return reader
    for reader in READERS:
        explain = getattr(reader, "explain_refusal", None)
        reason = explain(head, path.name) if reader.source == source and explain is not None else None
        if reason:
            raise UnreadableFileError(f"{path.name}: {reason}", hint="nothing was stored")
    known = ", ".join(formats_for(source)) or "none yet"
    raise UnreadableFileError(
        f"{path.name}: not a recognised {source} format",
        hint=f"expected one of: {known}; pass --format to choose",
    )
