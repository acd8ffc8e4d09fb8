"""The report as Markdown, the way it is forwarded: the layout's sections with every text escaped.

Lays out ``layout.document`` only (no figure is chosen or formatted here). Every text goes through
``weekly_review.md_text``: values from files or browsers cannot open markup, links or HTML, nor drive a
terminal. Charts are HTML only; the Markdown keeps their tables.
"""

from __future__ import annotations

from capi_core.report.layout import Block, Chart, Item, Section, Table, document, window_line
from capi_core.report.model import Report
from capi_core.weekly_review import md_text


def _table(table: Table) -> list[str]:
    if not table.rows:
        return [md_text(table.empty), ""]
    lines = ["| " + " | ".join(md_text(c) for c in table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(md_text(cell) or " " for cell in row) + " |" for row in table.rows]
    return [*lines, ""]


def _item(item: Item) -> list[str]:
    stake = f" — {md_text(item.stake)}" if item.stake else ""
    lines = [
        f"{item.number}. [{item.severity}] {md_text(item.event)}: {md_text(item.sentence)}{stake}  ",
        f"   Fix: {md_text(item.fix)}  ",
    ]
    examples = f"; e.g. {md_text(item.examples)}" if item.examples else ""
    return [*lines, f"   Check {item.code}{examples}"]


def _block(block: Block) -> list[str]:
    if isinstance(block, str):
        return [md_text(block), ""]
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Chart):
        return []
    if block and isinstance(block[0], Item):
        return [line for item in block if isinstance(item, Item) for line in _item(item)] + [""]
    return [*(f"- {md_text(str(line))}" for line in block), ""]


def _section(section: Section) -> list[str]:
    lines = [f"{'#' * section.level} {md_text(section.title)}", ""]
    if section.verdict is not None:
        lines += [f"> {md_text(section.verdict.text)}", ""]
    return lines + [line for block in section.blocks for line in _block(block)]


def render_markdown(report: Report) -> str:
    """The report as Markdown (no images: the charts' figures are in the tables)."""
    lines = ["# CAPI Signal Desk report", "", md_text(window_line(report)), ""]
    lines += [line for section in document(report) for line in _section(section)]
    return "\n".join(lines).rstrip("\n") + "\n"
