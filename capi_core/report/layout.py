"""The report as a neutral document: sections of paragraphs, tables, charts and findings, all plain text.

``document(report)`` decides what the report says and in which order; ``markdown`` and ``html`` only lay it
out and escape it, so the two formats say the same words. Every figure is formatted here through
``text`` (one formatter per kind), every event name through ``text.name``. Charts are deferred (a
function and its arguments) so that the Markdown never imports matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from capi_core import units, weekly_review
from capi_core.metrics.dedup import KEY_MERGE_REASON
from capi_core.metrics.match_keys import EMQ_GOAL
from capi_core.metrics.reconcile import ReconSummary
from capi_core.report import charts, text, verdicts
from capi_core.report.model import Report, Verdict

#: Match keys shown in the coverage table (the ones Meta weighs most; the JSON has all of them).
KEY_COLUMNS = ("em", "ph", "external_id", "fbp", "fbc", "client_ip_address", "client_user_agent")
MAX_PARAMETER_ROWS = 20


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    empty: str = "None."


@dataclass(frozen=True)
class Chart:
    """A chart drawn only in the HTML: ``draw(*args)`` returns an ``<svg>`` (or "" for nothing)."""

    caption: str
    draw: Callable[..., str]
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Item:
    """One finding as the report shows it."""

    number: int
    severity: str
    event: str
    sentence: str
    stake: str
    fix: str
    code: str
    examples: str


Block = str | Table | Chart | list[Item] | list[str]  # a paragraph, a table, a chart, findings, bullets


@dataclass
class Section:
    title: str
    verdict: Verdict | None = None
    blocks: list[Block] = field(default_factory=list)
    level: int = 2


def _verdict(report: Report, section: str) -> Verdict | None:
    return next((v for v in report.verdicts if v.section == section), None)


def window_line(report: Report) -> str:
    """The date window, pixel, events and copies the report covers."""
    w = report.window
    first = f"{w.first_event_time:%Y-%m-%d %H:%M}" if w.first_event_time else units.DASH
    last = f"{w.last_event_time:%Y-%m-%d %H:%M}" if w.last_event_time else units.DASH
    days = (
        f"{w.date_from or 'the first day'} to {w.date_to or 'the last day'} (UTC); "
        f"events from {first} to {last}"
        if w.date_from or w.date_to
        else f"{first} to {last} (UTC, every day in the store)"
    )
    names = ", ".join(text.name(n) for n in w.event_names) or "all events"
    channels = ", ".join(f"{k} {units.count(v)}" for k, v in report.counts.per_channel.items()) or "none"
    return (
        f"Window: {days} · pixel: {w.pixel_id or 'all'} · events: {names} · "
        f"{units.count(report.counts.total)} copies ({channels})"
    )


def _opening(report: Report) -> str:
    if not report.highlights:
        return "Nothing to report yet: " + verdicts.HOW_TO_LOAD["events"] + "."
    numbered = " ".join(f"({n}) {h}" for n, h in enumerate(report.highlights, 1))
    return f"The {len(report.highlights)} things that matter this week: {numbered}"


def _findings(report: Report) -> list[Item]:
    items: list[Item] = []
    fixes: dict[str, int] = {}
    for number, (finding, price) in enumerate(verdicts.by_cost(report), 1):
        earlier = fixes.setdefault(finding.fix, number)
        items.append(
            Item(
                number=number,
                severity=finding.severity,
                event=text.name(finding.event_name) if finding.event_name is not None else "all events",
                sentence=finding.message,
                stake=price.sentence(verdicts.recon_kind(report, finding.event_name)),
                fix=finding.fix if earlier == number else f"as for #{earlier}",
                code=finding.code,
                examples=", ".join(finding.examples[:3]),
            )
        )
    return items


def _values(recon: ReconSummary) -> list[str]:
    """Backend and Meta value, or dashes for a dataset without values (CRM leads)."""
    if not recon.truth_value and not recon.meta_value:
        return [units.DASH, units.DASH]
    return [units.money(recon.truth_value, recon.currency), units.money(recon.meta_value, recon.currency)]


def _recon(report: Report) -> list[Section]:
    section = Section("Meta vs backend (reconciliation)", _verdict(report, "reconciliation"))
    if not report.reconciliation:
        return [section]
    ranges = {r.event_name: r for r in report.meta_count_ranges}
    rows = []
    for r in report.reconciliation:
        bounds = ranges[r.event_name]
        rows.append([
            text.name(r.event_name),
            f"{r.join_key or 'nothing'} ({units.share(r.join_match_rate)} of copies linked)",
            units.count(r.truth_count),
            units.count_range(bounds.meta_count_low, bounds.meta_count_high),
            units.share_range(bounds.gap_pct_low, bounds.gap_pct_high),
            *_values(r),
            units.signed_share(r.value_gap_pct),
            units.share(r.accuracy),
        ])  # fmt: skip
    section.blocks.append(
        Table(
            ["Conversion", "Joined on", "Backend (eligible)", "Meta counts (our estimate)", "Count gap",
             "Backend value", "Meta value (our estimate)", "Value gap", "Delivered to Meta (our 'accuracy')"],
            rows,
        )
    )  # fmt: skip
    section.blocks.append(
        "Count gap: how many more (+) or fewer (−) conversions Meta counts than the backend had. "
        "Delivered to Meta: eligible records that reached Meta at least once; it says nothing about double "
        "counting, so a high delivery can sit beside a large overcount."
    )
    section.blocks += [note for r in report.reconciliation for note in text.recon_notes(r)]
    for series in report.daily:
        section.blocks.append(
            Chart(
                f"{text.name(series.event_name)}: backend {series.kind}s vs what Meta counts, per day (UTC)",
                charts.daily,
                (series, report.meta_view),
            )
        )
    recon = report.reconciliation[0]
    waterfall = Section(
        f"Waterfall: from backend {recon.kind}s to conversions Meta counts once",
        _verdict(report, "waterfall"),
        level=3,
    )  # fmt: skip
    waterfall.blocks += [
        Table(
            ["Step", f"{recon.kind.capitalize()}s", "Share of the step before", "Share of backend records"],
            [[text.step_name(s.step, recon.kind), units.count(s.count), units.share(s.share_of_previous),
              units.share(s.share_of_truth)] for s in recon.waterfall],
        ),
        Chart(f"{text.name(recon.event_name)} waterfall", charts.waterfall, (recon,)),
    ]  # fmt: skip
    return [section, waterfall]


def _meta_view(report: Report) -> list[Section]:
    section = Section("Meta's view: what Ads Manager reported", _verdict(report, "meta_view"))
    view = report.meta_view
    totals = view.totals if view else None
    if view is not None and totals is not None:
        currency = next((b.currency for b in view.bases if b.currency), None)
        section.blocks += [
            Table(
                ["Figure", "Meta reported (Ads Manager)", "Backend (eligible orders)",
                 "Meta counts (our estimate)"],
                [
                    ["Purchases", units.count(totals.reported_purchases), units.count(totals.backend_orders),
                     units.count(totals.estimated_meta_count)],
                    ["Purchase value", units.money(totals.reported_value, currency),
                     units.money(totals.backend_value, currency),
                     units.money(totals.estimated_meta_value, currency)],
                    ["Meta reported, as a share of this column", "", units.share(totals.reported_vs_backend),
                     units.share(totals.reported_vs_estimate)],
                ],
            ),
            view.caveat,
        ]  # fmt: skip
        bases = "; ".join(
            f"{b.attribution_setting or 'no delivery'} ({units.count(b.ad_rows)} ad rows)" for b in view.bases
        )
        if bases:
            section.blocks.append(f"Attribution settings in the export: {bases}.")
    quality = Section(
        "Meta's view: Dataset Quality (Meta's EMQ and coverage)", _verdict(report, "meta_quality"), level=3
    )
    if report.meta_quality:
        latest: dict[tuple[str, str], Any] = {}
        for row in sorted(report.meta_quality, key=lambda r: (r.fetched_at, r.snapshot_id)):
            latest[(row.pixel_id, row.event_name)] = row
        quality.blocks += [
            "The latest snapshot per pixel and event; ours cover the 7 days up to it.",
            Table(
                ["Event", "Fetched", "Meta's EMQ", "Our estimated EMQ", "Meta's event coverage",
                 "Our event coverage", "Meta's freshness", "Ours: sent within 1 h", "Our days"],
                [[text.name(r.event_name), f"{r.fetched_at:%Y-%m-%d}", units.score(r.meta_emq),
                  units.score(r.our_emq), units.share(r.meta_event_coverage),
                  units.share(r.our_event_coverage),
                  (r.meta_upload_frequency or units.DASH).replace("_", " "),
                  units.share(r.our_real_time_share),
                  f"{r.our_from} to {r.our_to}" if r.our_from else units.DASH]
                 for r in latest.values()],
            ),
        ]  # fmt: skip
        event = verdicts.main_event(report)
        quality.blocks.append(
            Chart(f"{text.name(event)}: Meta's EMQ vs our estimate per snapshot (goal {EMQ_GOAL:.1f})",
                  charts.emq_history, (report.meta_quality, event))
        )  # fmt: skip
    return [section, quality]


def _dedup(report: Report) -> Section:
    section = Section("Deduplication", _verdict(report, "dedup"))
    pixels = len({d.pixel_id for d in report.dedup}) > 1
    rows = [
        [text.name(d.event_name), *([d.pixel_id or units.DASH] if pixels else []), units.count(d.browser),
         units.count(d.server), units.count(d.merged_pairs), units.count(d.would_be_pairs),
         units.share(d.dedup_health), units.share(d.event_coverage), units.share(d.event_id_coverage),
         units.count_range(*d.estimated_meta_count_range)]
        for d in report.dedup
    ]  # fmt: skip
    section.blocks.append(
        Table(
            ["Event", *(["Pixel"] if pixels else []), "Browser copies", "Server copies", "Pairs merged",
             "Pairs counted twice", "Share of pairs merged (our dedup health)",
             "Share of browser events with a server copy (Meta: event coverage)", "By event_id alone",
             "Meta counts (our estimate)"],
            rows,
        )
    )  # fmt: skip
    merges = sum(d.key_merges for d in report.dedup)
    if merges:
        section.blocks.append(
            f"Meta's count is shown as lower–upper where it depends on behaviour Meta does not document: "
            f"{units.count(merges)} server copies carry an event_id but share fbp or external_id with an "
            f"earlier browser copy left unmerged. {KEY_MERGE_REASON}"
        )
    section.blocks.append(
        Chart("Share of browser events with a server copy, per event", charts.coverage, (report.dedup,))
    )
    return section


def _match_keys(report: Report) -> Section:
    keys = report.match_keys
    section = Section("Match keys and estimated EMQ", _verdict(report, "emq"))
    section.blocks += [
        f"{keys.emq_label}: each valid key a server copy carries is worth points on Meta's 0–10 scale; Meta "
        f"advises {EMQ_GOAL:.1f} or more.",
        Table(
            ["Event", "Server copies scored", "Estimated EMQ (Meta: Event Match Quality)", "Points"],
            [[text.name(e.event_name), units.count(e.copies), units.score(e.score), e.weights]
             for e in keys.emq_estimate],
        ),
        "Share of server copies carrying each valid key:",
        Table(
            ["Event", *KEY_COLUMNS],
            [[text.name(c.event_name), *(units.share(c.coverage.get(k)) for k in KEY_COLUMNS)]
             for c in keys.coverage if c.channel == "server"],
        ),
    ]  # fmt: skip
    for fit in keys.emq_fits:
        section.blocks += [
            f"Estimated EMQ against Meta's EMQ — {fit.summary()}",
            Table(
                ["Fetched", "Event", "Our days", "Copies", "Meta's EMQ", "Calibrated estimate",
                 "Fitted estimate"],
                [[f"{p.fetched_at:%Y-%m-%d}", text.name(p.event_name), f"{p.our_from} to {p.our_to}",
                  units.count(p.copies), units.score(p.meta_emq), units.score(p.calibrated),
                  units.score(p.fitted)]
                 for p in fit.points],
            ),
        ]  # fmt: skip
    return section


def _completeness(report: Report) -> Section:
    section = Section("Parameter completeness", _verdict(report, "completeness"))
    short = [r for r in report.completeness if r.copies and r.valid < r.copies]
    short.sort(key=lambda r: (r.requirement != "required", -(r.copies - r.valid), text.name(r.event_name)))
    rows = [
        [text.name(r.event_name), r.channel, r.parameter, r.requirement, units.count(r.copies),
         units.share(r.share_present), units.share(r.share_valid)]
        for r in short[:MAX_PARAMETER_ROWS]
    ]  # fmt: skip
    section.blocks += [
        "Parameters that are not present and valid on every copy they apply to, required first:",
        Table(["Event", "Channel", "Parameter", "Meta / contract", "Copies", "Present", "Valid"], rows,
              empty="Every parameter is present and valid."),
    ]  # fmt: skip
    if len(short) > MAX_PARAMETER_ROWS:
        section.blocks.append(f"… and {len(short) - MAX_PARAMETER_ROWS} more (all in the JSON report).")
    return section


def _freshness(report: Report) -> Section:
    section = Section("Freshness", _verdict(report, "freshness"))
    rows = [
        ["All events" if f.is_total else text.name(f.event_name), units.count(f.copies),
         units.count(f.real_time), units.count(f.within_2h), units.count(f.within_24h), units.count(f.later),
         units.count(f.unknown),
         units.seconds(f.median_delay_s), units.seconds(f.p95_delay_s)]
        for f in report.freshness
    ]  # fmt: skip
    section.blocks.append(
        Table(["Event", "Server copies", "Within 1 h", "1–2 h", "2–24 h", "24 h or more", "No send time",
               "Median delay", "95th percentile"], rows)
    )  # fmt: skip
    return section


def _consent(report: Report) -> Section:
    section = Section("Consent", _verdict(report, "consent"))
    rows = [
        [text.name(c.event_name), c.channel, units.count(c.copies), units.count(c.denied),
         units.count(c.identifiable_unknown), units.count(c.ldu)]
        for c in report.consent
        if c.denied or c.identifiable_unknown or c.ldu
    ]  # fmt: skip
    section.blocks.append(
        Table(["Event", "Channel", "Copies", "Sent although consent was denied",
               "Identifiable, no consent logged", "Limited Data Use"], rows,
              empty="No copy sent against consent or without it.")
    )  # fmt: skip
    return section


def _leads(report: Report) -> Section | None:
    found = report.leads
    if found is None:
        return None
    section = Section("Lead quality", _verdict(report, "leads"))
    section.blocks += [
        found.headline,
        Table(["Step", "Count", "Share of the step before"],
              [[s.label, units.count(s.count), units.share(s.share_of_previous)]
               for s in found.funnel.steps]),
    ]  # fmt: skip
    if found.by_source:
        section.blocks.append(
            Table(
                ["utm_source / utm_campaign", f"{text.name(found.event_name)} events", "Matched leads",
                 "Qualified", "Won", f"Qualified share (goal {units.goal(found.qualification_goal)})",
                 "CRM leads without an event"],
                [[g.label, units.count(g.lead_events), units.count(g.matched_leads),
                  units.count(g.qualified_leads), units.count(g.won_leads),
                  units.share(g.qualified_event_share) + (" (below goal)" if g.below_goal else ""),
                  units.count(g.crm_leads_without_event)] for g in found.by_source],
            )
        )  # fmt: skip
    return section


def _drift(report: Report) -> Section:
    drift = report.drift
    section = Section(weekly_review.heading(drift), _verdict(report, "drift"))
    section.blocks.append(drift.summary)
    if drift.metrics:
        section.blocks.append(
            Table(weekly_review.METRIC_COLUMNS, [weekly_review.metric_row(m) for m in drift.metrics])
        )
        section.blocks.append("What changed, largest first:")
        section.blocks.append([c.sentence for c in drift.what_changed] or ["Nothing passed its threshold."])
    if drift.annotations:
        section.blocks.append([f"Annotation {a.day}: {a.note}" for a in drift.annotations])
    return section


def document(report: Report) -> list[Section]:
    """The report's sections in reading order: the week in one paragraph, what to fix, then the evidence."""
    sections = [
        Section("This week", blocks=[_opening(report)]),
        *_recon(report),
        Section("What to fix, costliest first", blocks=[
            "Ordered by what each costs: orders (and their value at the average order) first, then "
            "conversions, then the rest by severity.",
            _findings(report) or ["No findings: nothing in this window breaks a rule we check."],
        ]),
        *_meta_view(report),
        _dedup(report),
        _match_keys(report),
        _completeness(report),
        _freshness(report),
        _consent(report),
        _leads(report),
        _drift(report),
        Section("What the figures mean", blocks=[[f"{term}: {meaning}" for term, meaning in text.GLOSSARY]]),
        Section("Assumptions", blocks=[list(report.assumptions)]),
    ]  # fmt: skip
    return [s for s in sections if s is not None]
