"""The one exception tree of capi_core. Every error carries a message a user can act on.

    CapiDeskError                 base; ``str(err)`` is the one-line user-facing message
    ├── InputError                a file or argument we cannot use (CLI exit code 2)
    │   ├── UnreadableFileError   empty, binary, wrong encoding, truncated, unknown format
    │   └── MappingError          a --map COL=FIELD that names no column or no field
    ├── StoreError                DuckDB failed; names the query that failed
    │   ├── SchemaVersionError    the store file was written by a newer tool
    │   └── StoreBusyError        another process held the store for longer than we were told to wait
    └── MetaApiError              Graph API said no (code, subcode, fbtrace_id)

Lower-library errors (duckdb.Error, UnicodeDecodeError, orjson.JSONDecodeError) are translated once, at
the edge where they happen, and never leak to pages or the CLI.
"""

from __future__ import annotations


class CapiDeskError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} — {hint}")


class InputError(CapiDeskError):
    """A file or argument that cannot be used as given."""


class UnreadableFileError(InputError):
    """The file cannot be read at all; nothing was written to the store."""


class MappingError(InputError):
    """A column mapping that does not fit the file or the canonical fields."""


class StoreError(CapiDeskError):
    """A DuckDB failure, translated; carries the name of the query that failed."""

    def __init__(self, query_name: str, detail: str) -> None:
        self.query_name = query_name
        super().__init__(f"store query {query_name!r} failed: {detail}")


class SchemaVersionError(StoreError):
    """The store file was created by a newer version of the tool."""


class StoreBusyError(StoreError):
    """Another process (an ingest, a report) held the store file for the whole wait.

    DuckDB lets one process write a file and, while it does, no other open it at all; its lock message is
    never shown: this error says what it means and what to do.
    """

    def __init__(self, waited: float) -> None:
        self.query_name = "open store"
        self.waited = waited
        CapiDeskError.__init__(
            self,
            f"the store is busy: another capi-desk is writing to it (waited {waited:.0f} s)",
            hint="try again when it has finished, or wait longer with --wait SECONDS",
        )


class MetaApiError(CapiDeskError):
    """An error answered by Meta's Graph API (or the sandbox), never containing the token."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        retryable: bool = False,
    ) -> None:
        self.code = code
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        self.retryable = retryable
        super().__init__(message)
