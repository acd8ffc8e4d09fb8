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
from capi_core.readers._csv import iter_records
from capi_core.readers._io import (
    MAX_LINE_BYTES,
    head_bytes,
    read_text,
    refuse_huge_line,
    require_regular_file,
)
from capi_core.readers._json import (
    head_record,
    line_record,
    masked,
    nests_deeper,
    nul_line_error,
    strip_record,
)

#: What the rest of capi_core takes from the readers' private helpers (the one face of this package for
#: file reading: a file checked before it is read, its text and lines, and the JSON line helpers the
#: DuckDB and Spark ingest paths share with the Python reader).
__all__ = [
    "MAX_LINE_BYTES",
    "READERS",
    "Item",
    "ReadOptions",
    "Reader",
    "detect",
    "formats_for",
    "get_reader",
    "iter_records",
    "line_record",
    "masked",
    "nests_deeper",
    "nul_line_error",
    "read_text",
    "refuse_huge_line",
    "require_regular_file",
    "server_marks",
    "strip_record",
]

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
    """The first reader of ``source`` whose ``sniff`` accepts the file's head.

    Raises:
        UnreadableFileError: no reader of ``source`` accepts the file; when a reader of another source
            does (a CAPI log given as ``browser``, a HAR given as ``server``, a CRM export given as
            ``orders``), the message names that source, so the file is never stored as the wrong channel.
    """
    head = head_bytes(path).decode("utf-8", errors="replace").lstrip("\ufeff")
    for reader in READERS:
        if reader.source == source and reader.sniff(head, path.name):
            _refuse_server_events_as_browser(reader, head, path.name)
            return reader
    for reader in READERS:
        explain = getattr(reader, "explain_refusal", None)
        reason = explain(head, path.name) if reader.source == source and explain is not None else None
        if reason:
            raise UnreadableFileError(f"{path.name}: {reason}", hint="nothing was stored")
    known = ", ".join(formats_for(source)) or "none yet"
    other = next((r for r in READERS if r.source != source and r.sniff(head, path.name)), None)
    if other is not None:
        raise UnreadableFileError(
            f"{path.name}: not a recognised {source} format; it looks like {other.format} "
            f"({other.source} data)",
            hint=f"ingest it with --source {other.source}; nothing was stored",
        )
    raise UnreadableFileError(
        f"{path.name}: not a recognised {source} format",
        hint=f"expected one of: {known}; pass --format to choose",
    )


def server_marks(record: object) -> list[str]:
    """What in one bare event object only a server (Conversions API) event carries: an ``action_source``
    other than ``website`` (a Pixel event is a website event) or a ``user_data.client_ip_address`` (the
    Pixel never sends one: Meta reads the IP from the browser's connection). Empty for anything else."""
    if not isinstance(record, dict):
        return []
    marks = []
    action = record.get("action_source")
    if isinstance(action, str) and action.strip() and action.strip().lower() != "website":
        marks.append(f"action_source {action.strip()[:40]!r}")
    user = record.get("user_data")
    if isinstance(user, dict) and user.get("client_ip_address") not in (None, "", []):
        marks.append("user_data.client_ip_address")
    return marks


def _refuse_server_events_as_browser(reader: Reader, head: str, file_name: str) -> None:
    """Bare events in server-event shape fit both sources (``capi_events`` and ``browser_events``): when
    ``browser`` was asked but the first event carries what only a server event carries, refuse rather
    than store server copies as browser copies. ``--format browser_events`` still reads the file."""
    if reader.format != "browser_events":
        return
    marks = server_marks(head_record(head))
    if marks:
        raise UnreadableFileError(
            f"{file_name}: these are server (Conversions API) events, not browser ones: the first "
            f"carries {' and '.join(marks)}",
            hint="ingest it with --source server (or force --format browser_events); nothing was stored",
        )
