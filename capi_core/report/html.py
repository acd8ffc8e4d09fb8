"""The report as one self-contained HTML file: inline CSS and inline SVG charts, no scripts, no external
resources (email clients strip scripts; the file renders offline).

Lays out ``layout.document`` only. Every text is escaped (``html.escape`` after ``weekly_review.plain``),
so an event name or URL holding markup shows as text; charts come from ``charts`` (matplotlib's SVG,
which escapes its text). Severity is a word in a badge, once per finding; each section opens with its
verdict, coloured by its status.
"""

from __future__ import annotations

import html
import re

from capi_core.report.layout import Block, Chart, Item, Section, Table, document, window_line
from capi_core.report.model import Report
from capi_core.weekly_review import plain

CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:72rem;
padding:1.5rem 2rem;color:#1f2933;line-height:1.45}h1{margin:0 0 .25rem}h2{margin:2rem 0 .5rem;
border-bottom:1px solid #e4e7eb;padding-bottom:.25rem}h3{margin:1.5rem 0 .5rem}.window{color:#52606d;
margin:0 0 1rem}.lede{font-size:1.05rem;background:#f5f7fa;border-left:4px solid #3e4c59;padding:.75rem 1rem}
table{border-collapse:collapse;margin:.25rem 0 1rem;font-size:.9rem}th,td{border:1px solid #cbd2d9;
padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f0f4f8}td.n{text-align:right;
white-space:nowrap;font-variant-numeric:tabular-nums}.verdict{padding:.4rem .75rem;border-radius:4px;
margin:.25rem 0 .75rem}
.on-track{background:#e3f9e5;border-left:4px solid #31a24c}.needs-work{background:#fff3e0;
border-left:4px solid #c05621}.no-data{background:#f0f4f8;border-left:4px solid #9aa5b1}
.badge{display:inline-block;font-size:.75rem;font-weight:600;text-transform:uppercase;border-radius:3px;
padding:0 .35rem;margin-right:.35rem;border:1px solid #9aa5b1;color:#3e4c59}
.badge.critical{border-color:#b00020;color:#b00020}.badge.high{border-color:#c05621;color:#c05621}
ol.findings li{margin:0 0 .6rem}.fix,.code{color:#52606d;font-size:.9rem}.stake{color:#8d2b0b}
figure{margin:.5rem 0 1.25rem}figure svg{max-width:100%;height:auto}
figcaption{color:#52606d;font-size:.85rem}"""


def _e(value: str) -> str:
    return html.escape(plain(value))


#: A figure (count, share, score, money with its currency code): right-aligned, never wrapped.
_FIGURE = re.compile(r"([A-Z]{3} )?[+-]?\d")


def _cell(value: str) -> str:
    numeric = _FIGURE.match(value) is not None
    return f'<td class="n">{_e(value)}</td>' if numeric else f"<td>{_e(value)}</td>"


def _table(table: Table) -> str:
    if not table.rows:
        return f"<p><em>{_e(table.empty)}</em></p>"
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _item(item: Item) -> str:
    stake = f' — <span class="stake">{_e(item.stake)}</span>' if item.stake else ""
    examples = f"; e.g. {_e(item.examples)}" if item.examples else ""
    return (
        f'<li><span class="badge {_e(item.severity)}">{_e(item.severity)}</span>'
        f"<strong>{_e(item.event)}</strong>: {_e(item.sentence)}{stake}"
        f'<div class="fix">Fix: {_e(item.fix)}</div>'
        f'<div class="code">Check {_e(item.code)}{examples}</div></li>'
    )


def _block(block: Block) -> str:
    if isinstance(block, str):
        return f"<p>{_e(block)}</p>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Chart):
        svg = block.draw(*block.args)
        return f"<figure>{svg}<figcaption>{_e(block.caption)}</figcaption></figure>" if svg else ""
    if block and isinstance(block[0], Item):
        return '<ol class="findings">' + "".join(_item(i) for i in block if isinstance(i, Item)) + "</ol>"
    return "<ul>" + "".join(f"<li>{_e(str(line))}</li>" for line in block) + "</ul>"


def _section(section: Section) -> str:
    tag = f"h{section.level}"
    parts = [f"<{tag}>{_e(section.title)}</{tag}>"]
    if section.verdict is not None:
        status = section.verdict.status.replace(" ", "-")
        parts.append(f'<p class="verdict {status}">{_e(section.verdict.text)}</p>')
    if section.title == "This week":
        return parts[0] + "".join(
            f'<p class="lede">{_e(b)}</p>' for b in section.blocks if isinstance(b, str)
        )
    return "\n".join([*parts, *(_block(b) for b in section.blocks)])


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (no scripts, every value escaped, charts inline)."""
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>CAPI Signal Desk report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>CAPI Signal Desk report</h1>",
        f'<p class="window">{_e(window_line(report))}</p>',
        *(_section(s) for s in document(report)),
        f'<p class="window">CAPI Signal Desk {_e(report.tool_version)} · report schema '
        f"{report.schema_version}</p>",
        "</body></html>\n",
    ]
    return "\n".join(parts)
