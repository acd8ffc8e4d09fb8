"""Opening input files as text: encoding, emptiness, binary content, line length. Shared by readers.

Readers never call ``open`` on user files themselves; they go through ``read_text_lines`` /
``read_text`` so that every unreadable file fails the same way, with an ``UnreadableFileError`` that
says what to do next, before anything reaches the store.
"""

from __future__ import annotations

import codecs
import stat
from collections.abc import Iterator
from pathlib import Path

from capi_core.errors import UnreadableFileError

#: A line longer than this is not a log line; reading it would only exhaust memory.
MAX_LINE_BYTES = 16 * 1024 * 1024
_SNIFF_BYTES = 64 * 1024
PARQUET_MAGIC = b"PAR1"


def require_regular_file(path: Path) -> None:
    """Refuse a path that is not a regular file (missing, a folder, a device such as /dev/zero, a pipe)
    before anything reads it: reading a device would never end."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        raise UnreadableFileError(
            f"cannot open {path.name}: {err.strerror}", hint="check the path; nothing was stored"
        ) from None
    if stat.S_ISDIR(mode):
        raise UnreadableFileError(
            f"{path.name} is a folder", hint="give the files inside it, e.g. folder/*.jsonl"
        )
    if not stat.S_ISREG(mode):
        raise UnreadableFileError(
            f"{path.name} is not a regular file (a device or a pipe)", hint="save the data to a file first"
        )


def head_bytes(path: Path, size: int = _SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes, or an error for a missing, empty or binary file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(size)
    except OSError as err:
        raise UnreadableFileError(f"cannot open {path.name}: {err.strerror}") from err
    if not head.strip():
        raise UnreadableFileError(f"{path.name} is empty", hint="export the file again")
    if head.startswith(PARQUET_MAGIC):
        return head  # binary by design; readers that accept Parquet check the magic themselves
    if _looks_binary(head):
        raise UnreadableFileError(
            f"{path.name} looks binary (NUL bytes)", hint="give a text export: CSV, JSON or JSONL"
        )
    return head


def _looks_binary(head: bytes) -> bool:
    """NUL bytes in the first line, or in a head that is not UTF-8 text: a binary file (or UTF-16).

    NUL bytes after a clean first line are a text log a crash zero-filled at its end: it is read, and
    the readers quarantine the lines holding NUL bytes (``_json.NUL_LINE_REASON``).
    """
    if b"\x00" not in head:
        return False
    if b"\x00" in head.lstrip().split(b"\n", 1)[0]:
        return True
    try:  # final=False: the head may cut a multi-byte character short
        codecs.getincrementaldecoder("utf-8")().decode(head.replace(b"\x00", b""), final=False)
    except UnicodeDecodeError:
        return True
    return False


def detect_encoding(path: Path, *, allow_legacy: bool = False) -> str:
    """``utf-8-sig`` when the file decodes as UTF-8; ``cp1252`` for legacy CSV exports when allowed."""
    head_bytes(path)
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            for _ in iter(lambda: handle.read(1 << 20), ""):
                pass
    except UnicodeDecodeError as err:
        if allow_legacy:
            return "cp1252"
        raise UnreadableFileError(
            f"{path.name} is not UTF-8 (byte {err.start} of a chunk)", hint="re-export the file as UTF-8"
        ) from err
    return "utf-8-sig"


def read_text(path: Path, *, allow_legacy: bool = False) -> str:
    """The whole file as text (for small whole-document formats such as HAR or a JSON array)."""
    encoding = detect_encoding(path, allow_legacy=allow_legacy)
    return path.read_text(encoding=encoding)


def refuse_huge_line(file_name: str, line_no: int) -> None:
    """Raise the error for a line over ``MAX_LINE_BYTES`` (not a log line; reading it exhausts memory)."""
    raise UnreadableFileError(
        f"{file_name} line {line_no} is longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB",
        hint="split the file into one record per line",
    )


def read_text_lines(path: Path, *, allow_legacy: bool = False) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its newline) for each line, refusing huge lines."""
    encoding = detect_encoding(path, allow_legacy=allow_legacy)
    with path.open("r", encoding=encoding, newline="") as handle:
        for line_no, line in enumerate(handle, start=1):
            if len(line) > MAX_LINE_BYTES:
                refuse_huge_line(path.name, line_no)
            yield line_no, line.rstrip("\r\n")
