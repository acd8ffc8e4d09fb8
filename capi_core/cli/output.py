"""What the CLI draws beyond plain lines: aligned tables and the ingest progress bar (both with rich).

Tables: a header row, then one row per line, columns aligned (numbers to the right). When stdout is not
a terminal they are plain text, never wrapped, without colour or trailing spaces, so a script can still
read them line by line (skip the first). Values from files (names, notes) are shown as text, never as
rich markup, with control characters escaped (``weekly_review.plain``).

The progress bar: one bar for a whole ``ingest``, through every phase of every file (reading, storing,
each derived table brought up to date), fed by ``ingest_file``'s ``progress`` and ``stage`` callbacks.
``IngestPhases`` turns those callbacks into a share of the work done; ``IngestProgress`` draws it on
stderr, only when stderr is a terminal (SPEC: off otherwise). Neither computes anything about the data.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import IO, Any

from capi_core.derived import ALL_TABLES

#: Share of a file's bar for reading its records; the rest is storing and the derived tables.
READ_SHARE = 0.75
#: Steps after reading: "stored", "linked copies", then each derived table (an update may skip some).
AFTER_READ_STEPS = len(ALL_TABLES) + 2
_WIDE = 10_000  # columns of a table that is not drawn on a terminal: never wrapped


def cell(value: object) -> str:
    """One value as table text: empty for None, times to the second, control characters escaped."""
    from capi_core.weekly_review import plain

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    return plain(str(value))


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, file: IO[str] | None = None
) -> None:
    """Print ``rows`` under the header ``columns``, aligned; numeric columns are right-aligned."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = file if file is not None else sys.stdout
    rows = [list(row) for row in rows]
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for index, name in enumerate(columns):
        values = [row[index] for row in rows if row[index] is not None]
        numeric = bool(values) and all(isinstance(v, int | float) for v in values)
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell(value)) for value in row))
    if out.isatty():
        Console(file=out, highlight=False).print(table)
        return
    buffer = io.StringIO()
    Console(file=buffer, width=_WIDE, no_color=True, highlight=False, force_terminal=False).print(table)
    out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


class IngestPhases:
    """Where one ``ingest`` is, as a share of its whole work (0..1) and a line saying what it does.

    Each file gets a part of the bar proportional to its estimated records (``sizes``); within it,
    reading fills ``READ_SHARE`` as records come in, and each later step (the ``stage`` callback: stored,
    then every derived table) an equal part of the rest. The share never goes back.
    """

    def __init__(
        self, names: Sequence[str], sizes: Sequence[int], show: Callable[[float, str], None]
    ) -> None:
        total = sum(max(size, 1) for size in sizes) or 1
        self._names = list(names)
        self._sizes = [max(size, 1) for size in sizes]
        self._starts = [sum(self._sizes[:i]) / total for i in range(len(self._sizes))]
        self._weights = [size / total for size in self._sizes]
        self._show = show
        self._file = 0
        self._steps = 0
        self.done = 0.0

    def _at(self, share: float, text: str) -> None:
        self.done = max(self.done, min(share, 1.0))
        self._show(self.done, f"{self._names[self._file]}: {text}")

    def start(self, index: int) -> None:
        """Reading of file ``index`` begins."""
        self._file, self._steps = index, 0
        self._at(self._starts[index], "reading")

    def rows(self, read: int) -> None:
        """``ingest_file``'s ``progress``: records read so far."""
        part = min(read / self._sizes[self._file], 1.0) * READ_SHARE
        self._at(self._starts[self._file] + part * self._weights[self._file], f"reading, {read:,} records")

    def stage(self, text: str) -> None:
        """``ingest_file``'s ``stage``: a step after reading (storing, a derived table)."""
        self._steps += 1
        part = READ_SHARE + (1 - READ_SHARE) * min(self._steps / AFTER_READ_STEPS, 1.0)
        self._at(self._starts[self._file] + part * self._weights[self._file], text)

    def finish(self, index: int) -> None:
        """File ``index`` is ingested (or was already)."""
        self._file = index
        self._at(self._starts[index] + self._weights[index], "done")


class IngestProgress:
    """The one progress bar of ``capi-desk ingest`` on stderr (drawn only when stderr is a terminal).

    Lines the command prints while the bar is drawn go through ``say``: above the bar when they go to the
    same terminal, else straight to their stream, so stdout stays the command's output when it is a pipe.
    """

    def __init__(self, names: Sequence[str], sizes: Sequence[int]) -> None:
        self._bar: Any = None
        self._task: Any = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._bar.add_task("starting", total=1.0)
        self.phases = IngestPhases(names, sizes, self._update)

    def _update(self, done: float, text: str) -> None:
        if self._bar is not None:
            from rich.markup import escape

            self._bar.update(self._task, completed=done, description=escape(cell(text)))

    def say(self, line: str, *, err: bool = False) -> None:
        """Print one line to stdout (``err``: stderr) without breaking the bar."""
        stream = sys.stderr if err else sys.stdout
        if self._bar is not None and stream.isatty():
            from rich.text import Text

            self._bar.console.print(Text(line), soft_wrap=True, highlight=False)
        else:
            print(line, file=stream, flush=True)

    def __enter__(self) -> IngestProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
