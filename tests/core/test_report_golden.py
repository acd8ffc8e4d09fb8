"""Golden files of the report on the demo store, one per format: the bytes a user forwards, pinned.

The demo is deterministic (seeded), and so are the charts (matplotlib's SVG with a fixed hash salt and no
date), and the JSON's floats are kept to a fixed precision (DuckDB may add a column of doubles in
another order, which moves only the last digits), so every format is compared whole, byte for byte, with
only the tool version masked (issue 15: nothing a user sees changes).
Regenerate after a deliberate change with ``UPDATE_GOLDEN=1 .venv/bin/pytest
tests/core/test_report_golden.py`` and read the diff (and the page, once, by eye) before committing it.

Beside the goldens: the rules of issue 14 checked on the same report — one formatter per kind of
figure, no raw column names or fractions, verdicts on every section, findings ordered by cost, event
names that differ by spacing shown apart, and the escaping of names from files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest

from capi_core import __version__, dashboard_api, units
from capi_core.diagnostics import Finding
from capi_core.models import Scope
from capi_core.report import REPORT_SCHEMA_VERSION, Report, build_report, render, text, verdicts
from capi_core.store import Store

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "report_golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
FORMATS = {"md": "demo_report.md", "html": "demo_report.html", "json": "demo_report.json"}


@pytest.fixture
def report(demo_report: Report) -> Report:
    return demo_report


def _masked(rendered: str) -> str:
    """The output with what changes between releases (the tool's version) replaced by a marker."""
    return rendered.replace(__version__, "<version>")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_report_equals_its_golden_file(report: Report, fmt: str) -> None:
    path = GOLDEN / FORMATS[fmt]
    rendered = _masked(render(report, fmt))
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert rendered == expected, f"{path.name} differs: review the change, then UPDATE_GOLDEN=1"


def test_rendering_twice_gives_the_same_bytes(report: Report) -> None:
    """The charts are deterministic (the goldens depend on it)."""
    assert render(report, "html") == render(report, "html")


def test_json_gains_the_pages_sections_and_keeps_its_keys(report: Report) -> None:
    data = json.loads(render(report, "json"))
    assert data["schema_version"] == REPORT_SCHEMA_VERSION == 5
    kept = ("window", "counts", "dedup", "reconciliation", "meta_count_ranges", "completeness", "match_keys",
            "freshness", "drift", "leads", "consent", "findings", "assumptions")  # fmt: skip
    assert set(kept) <= set(data)
    assert data["meta_view"]["totals"]["reported_purchases"] > 0  # the demo loads an Ads Manager export
    assert data["meta_quality"] and data["meta_quality"][0]["meta_emq"] is not None
    assert {d["event_name"] for d in data["daily"]} == {r["event_name"] for r in data["reconciliation"]}
    assert [v["section"] for v in data["verdicts"]][:2] == ["reconciliation", "waterfall"]
    assert len(data["highlights"]) == 3


def test_every_section_opens_with_its_verdict(report: Report) -> None:
    md = render(report, "md")
    for verdict in report.verdicts:
        assert f"> {verdict.text}".split(" (")[0] in md
        assert verdict.text.endswith(("— on track", "— needs work", "— no data"))
    page = render(report, "html")
    assert page.count('<p class="verdict ') == len(report.verdicts)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_numbers_read_one_way(report: Report, fmt: str) -> None:
    """No raw column name, no fraction beside a percentage, no bare 0.xxxx figure."""
    shown = re.sub(r"<svg.*?</svg>", "", render(report, fmt), flags=re.S)  # coordinates are not figures
    for raw in (
        "gap_pct",
        "join_match_rate",
        "truth_count",
        "dedup_health",
        "event_coverage |",
        "accuracy |",
    ):
        assert raw not in shown
    assert not re.search(r"(?<![\w.#-])0\.\d{3,}(?![\d])", shown), "a raw fraction is shown"
    assert (
        "Delivered to Meta (our 'accuracy')" in shown
        or "Delivered to Meta (our &#x27;accuracy&#x27;)" in shown
    )


def test_the_window_is_in_both_formats(report: Report) -> None:
    assert "Window: 2026-10-05 00:52 to 2026-11-15 22:35" in render(report, "md")
    assert "Window: 2026-10-05 00:52 to 2026-11-15 22:35" in render(report, "html")


def test_findings_are_ordered_by_cost_and_each_has_its_fix(report: Report) -> None:
    ranked = verdicts.by_cost(report)
    values = [price.value or 0.0 for _, price in ranked]
    assert values == sorted(values, reverse=True)
    assert ranked[0][0].code == "RECON_DOUBLE_COUNTED"
    md = render(report, "md")
    assert md.count("   Fix: ") == len(report.findings)


def test_a_findings_count_is_shown_only_where_its_sentence_says_it(report: Report) -> None:
    """LEAD_LOW_QUALIFICATION counts 321 leads in a sentence about "73 of 394": 321 is never shown."""
    (lead,) = [f for f in report.findings if f.code == "LEAD_LOW_QUALIFICATION" and f.count == 321]
    assert "73 of 394" in lead.message
    for rendered in (render(report, "md"), render(report, "html")):
        shown = re.sub(r"<svg.*?</svg>", "", rendered, flags=re.S)
        assert not re.search(r"(?<![\d,.#-])321(?![\d,])", shown)


def test_names_that_differ_by_spacing_are_shown_apart(report: Report) -> None:
    md = render(report, "md")
    assert '| "AddToCart " |' in md and "| AddToCart |" in md
    assert "&quot;AddToCart &quot;" in render(report, "html")


def test_severity_is_one_word_per_finding(report: Report) -> None:
    page = render(report, "html")
    assert page.count('<span class="badge ') == len(report.findings)
    assert 'class="critical"' not in page  # no table cell painted by severity


@pytest.mark.parametrize(
    ("value", "shown"),
    [("Purchase", "Purchase"), ("AddToCart ", '"AddToCart "'), ("Add\u200bToCart", '"Add\\u200bToCart"'),
     (None, "(no name)"), ("", '""')],
)  # fmt: skip
def test_event_names_are_shown_apart(value: str | None, shown: str) -> None:
    assert text.name(value) == shown


@pytest.mark.parametrize(
    ("fn", "value", "shown"),
    [(units.share, 0.4234, "42.3 %"), (units.signed_share, 0.4234, "+42.3 %"), (units.count, 1391, "1,391"),
     (units.score, 6.04, "6.0 / 10"), (units.goal, 0.75, "75 %"), (units.share, None, "—")],
)  # fmt: skip
def test_one_formatter_per_kind(fn: object, value: object, shown: str) -> None:
    assert fn(value) == shown  # type: ignore[operator]
    assert (
        units.money(1234.5, "USD") == "USD 1,234.50" and units.money(1234.5, "USD", whole=True) == "USD 1,234"
    )


def test_the_gap_tolerance_is_the_overviews() -> None:
    assert verdicts.GAP_TOLERANCE == dashboard_api.GAP_TOLERANCE


def test_a_store_without_data_says_what_to_load(store: Store) -> None:
    report = build_report(store)
    md = render(report, "md")
    assert "Nothing to report yet" in md
    assert all(v.status == "no data" for v in report.verdicts)
    assert "capi-desk ingest --source orders" in md
    assert render(report, "html").count("<svg") == 0


def test_hostile_names_stay_text_in_charts_and_tables(store: Store, tmp_path: Path) -> None:
    from capi_core.ingest import ingest_file

    hostile = "<script>alert(1)</script> $x$ \x1b[31m"
    event = {"event_name": hostile, "event_time": 1793620801, "event_id": "h-1", "action_source": "website",
             "event_source_url": "https://shop.example/",
             "user_data": {"client_user_agent": "Mozilla/5.0"}}  # fmt: skip
    server = tmp_path / "s.jsonl"
    server.write_text(json.dumps(event) + "\n", encoding="utf-8")
    ingest_file(store, server, "server")
    report = build_report(store)
    page = render(report, "html")
    assert "<script" not in page.lower() and "\x1b" not in page
    md = render(report, "md")
    assert re.search(r"(?<!\\)<script", md) is None and "\x1b" not in md
    assert "\\<script\\>" in md


def test_a_hostile_pixel_id_in_a_chart_stays_text_and_says_nothing_on_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Pixel ids are read as sent: with several pixels the coverage chart labels carry them, escaped like
    names (no raw ESC in the file, no markup), and matplotlib's missing-glyph warning never reaches the
    terminal."""
    from capi_core.metrics.dedup import DedupEventStats
    from capi_core.report import charts

    rows = [
        DedupEventStats.model_construct(event_name="Purchase", pixel_id=pixel, event_coverage=0.5)
        for pixel in ("111", "222\x1b[31m<x>&")
    ]
    svg = charts.coverage(rows)
    assert "<svg" in svg and "\x1b" not in svg and "<x>" not in svg
    assert "\\x1b[31m&lt;x&gt;&amp;" in svg
    assert "\x1b" not in capfd.readouterr().err


def test_finding_costs_use_the_average_eligible_order(report: Report) -> None:
    recon = report.reconciliation[0]
    finding = Finding(
        code="X", severity="high", message="10 of 20 orders", fix="f", event_name="purchase", count=10
    )
    price = verdicts.cost(finding, report)
    assert price.value == pytest.approx(10 * recon.truth_value / recon.truth_count) and price.shown


def test_json_and_markdown_never_import_matplotlib() -> None:
    """matplotlib is the HTML's alone: the CLI's JSON and Markdown, and the dashboard, never load it."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom capi_core.report import render_markdown, build_report\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_narrowed_report_shows_its_days_and_filters(demo_db: Path) -> None:
    scope = Scope(date_from=dt.date(2026, 11, 9), date_to=dt.date(2026, 11, 15), event_names=("Purchase",))
    with Store(demo_db) as store:
        report = build_report(store, scope)
    for shown in (render(report, "md"), render(report, "html")):
        assert "Window: 2026-11-09 to 2026-11-15 (UTC); events from 2026-11-09" in shown
        assert "events: Purchase ·" in shown
    md = render(report, "md")
    assert "<svg" not in md and "![" not in md  # Markdown: tables and text only


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (127449.90000000017, 127449.9),
        (127449.89999999995, 127449.9),
        (0.40870867689970536, 0.4087086769),
        (9.188900647100592, 9.188900647),
        (123456789.123, 123456789.12),  # above 100 million an amount keeps its cents
        (1.23456789012345e-07, 1.23456789e-07),
        (0.0, 0.0),
        (-3.3333333333333335, -3.333333333),
        (7, 7),
        ("0.333333333333", "0.333333333333"),
    ],
)
def test_json_floats_keep_a_fixed_precision(value: object, kept: object) -> None:
    from capi_core.report import fixed_precision

    assert fixed_precision({"a": [value, (value,)]}) == {"a": [kept, [kept]]}
