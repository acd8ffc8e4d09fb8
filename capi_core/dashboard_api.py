"""Small functions the dashboard pages call: store facts for the filters, the report's sections one at a
time, batch history, quarantine, the upload preview, the headline tiles, and the bytes of table downloads.

Pages stay thin by calling these (through the cached wrappers in ``ui/cached.py``); every figure here is
derived from the store or from a ``Report``, never computed differently from the report. A page asks only
for the sections it shows (``dedup_section``, ``recon_section``, ``quality_section``, ``findings`` ...):
each is built by the same function ``build_report`` calls, so a page and the report cannot disagree, and a
filter change recomputes only what the page shows. This module must not import streamlit or plotly, and
must not run SQL except through ``Store.query``.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from capi_core import units
from capi_core.canonical import canonical_event, canonical_truth
from capi_core.contracts import library as contracts
from capi_core.diagnostics import Finding, run_checks
from capi_core.metrics import count_range, memo, quality, reconcile
from capi_core.metrics.completeness import CompletenessRow
from capi_core.metrics.dedup import COVERAGE_GOAL, DedupEventStats, dedup_by_event
from capi_core.metrics.freshness import FreshnessRow
from capi_core.metrics.match_keys import EMQ_GOAL, MatchKeyCoverage
from capi_core.metrics.reconcile import ReconSummary, RecordVerdict
from capi_core.models import IncomingEvent, IncomingTruth, RowError, Scope, SourceKind
from capi_core.readers import (
    ReadOptions,
    ads_manager,
    detect,
    formats_for,
    generic_csv,
    get_reader,
    iter_records,
)
from capi_core.report import Counts, Window, window_and_counts
from capi_core.store import Store

PREVIEW_ROWS = 20
#: Leading characters a spreadsheet reads as a formula (OWASP "CSV injection"), plus tab and CR.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Canonical columns that say nothing to a user looking at a preview.
_PREVIEW_HIDDEN = {"line_no"}

Status = Literal["good", "bad", "unknown"]
PageKey = Literal["deduplication", "reconciliation", "signal_quality", "data", "overview", "lead_quality"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- store facts for the sidebar filters ----------------------------------------------------------


def data_version(store: Store) -> str:
    """A value that changes whenever the store's data changes (``memo.data_version``: batches, settings,
    annotations, saved contracts, Dataset Quality snapshots) or a contract file is edited: the pages'
    cache key, so no page has to clear a cache after a change."""
    return "-".join(str(v) for v in memo.data_version(store)) + "/" + contracts.files_version()


def pixels(store: Store) -> list[str]:
    """Pixel ids seen in the events, sorted."""
    rows = store.query(
        "pixels", "select distinct pixel_id from events where pixel_id is not null order by pixel_id"
    ).rows
    return [r[0] for r in rows]


def event_names(store: Store) -> list[str]:
    """Event names seen in the events (exactly as sent, variants included), sorted."""
    rows = store.query(
        "event names",
        "select distinct event_name from events where event_name is not null order by event_name",
    ).rows
    return [r[0] for r in rows]


def date_bounds(store: Store) -> tuple[dt.date | None, dt.date | None]:
    """First and last day holding an event (event_time) or a truth record (created_at)."""
    row = store.query(
        "date bounds",
        """select min(day), max(day)
        from (
          select min(event_time) as day from events
          union all select max(event_time) from events
          union all select min(created_at) from truth
          union all select max(created_at) from truth
        ) as bounds""",
    ).rows[0]
    first, last = row
    return (first.date() if first else None, last.date() if last else None)


# --- the report's sections, one at a time -------------------------------------------------------


class CountsSection(_Frozen):
    """The report's window and copy counts for a scope."""

    window: Window
    counts: Counts


def counts_section(store: Store, scope: Scope) -> CountsSection:
    """``Report.window`` and ``Report.counts`` for ``scope``, as ``build_report`` makes them."""
    window, counts = window_and_counts(store, scope)
    return CountsSection(window=window, counts=counts)


def dedup_section(store: Store, scope: Scope, *, key_usage: bool = True) -> list[DedupEventStats]:
    """``Report.dedup``: dedup outcomes per pixel and event name (``key_usage=False``: without the
    dedup-key usage of each row, which the Overview does not show and costs a pass of its own)."""
    return dedup_by_event(store, scope, key_usage=key_usage)


def recon_section(store: Store, scope: Scope) -> list[ReconSummary]:
    """``Report.reconciliation``: one summary per reconciled dataset in the store and in scope."""
    return reconcile.reconcile_all(store, scope)


class QualitySection(_Frozen):
    """The report's signal-quality sections for a scope."""

    completeness: list[CompletenessRow]
    match_keys: quality.MatchKeyReport
    freshness: list[FreshnessRow]
    consent: list[quality.ConsentRow]


def quality_section(store: Store, scope: Scope) -> QualitySection:
    """``Report.completeness``, ``match_keys``, ``freshness`` and ``consent``."""
    with memo.pinned(store):
        return QualitySection(
            completeness=quality.completeness(store, scope),
            match_keys=quality.match_key_report(store, scope),
            freshness=quality.freshness(store, scope),
            consent=quality.consent(store, scope),
        )


def findings(store: Store, scope: Scope) -> list[Finding]:
    """``Report.findings``: every registered check, most severe first (one data-version read for all)."""
    with memo.pinned(store):
        return run_checks(store, scope)


class OverviewFigures(_Frozen):
    """What the Overview shows, gathered from the sections (the report's fields of the same names; the
    dedup rows may come without their ``key_usage``)."""

    window: Window
    counts: Counts
    dedup: list[DedupEventStats]
    reconciliation: list[ReconSummary]
    match_keys: quality.MatchKeyReport
    freshness: list[FreshnessRow]
    findings: list[Finding]


def overview_figures(
    counts: CountsSection,
    dedup: list[DedupEventStats],
    recon: list[ReconSummary],
    signal: QualitySection,
    found: list[Finding],
) -> OverviewFigures:
    """The Overview's figures from sections that pages cache (and share) one by one."""
    return OverviewFigures(
        window=counts.window,
        counts=counts.counts,
        dedup=dedup,
        reconciliation=recon,
        match_keys=signal.match_keys,
        freshness=signal.freshness,
        findings=found,
    )


# --- batches and quarantine -----------------------------------------------------------------------


class Batch(_Frozen):
    """One ingested file."""

    batch_id: int
    source: str
    format: str
    file_name: str
    rows_read: int
    rows_stored: int
    rows_already_stored: int
    rows_quarantined: int
    secrets_stripped: int
    ingested_at: dt.datetime

    @property
    def summary(self) -> str:
        """One line for the batch history."""
        return (
            f"Batch {self.batch_id} · {self.file_name} · {self.source}/{self.format} · stored "
            f"{self.rows_stored:,}, quarantined {self.rows_quarantined:,} · {self.ingested_at:%Y-%m-%d %H:%M}"
        )


def batch_history(store: Store) -> list[Batch]:
    """Every batch, newest first."""
    rows = store.query(
        "batch history",
        """select batch_id, source, format, file_name, rows_read, rows_stored, rows_already_stored,
          rows_quarantined, secrets_stripped, ingested_at
        from batches
        order by batch_id desc""",
    ).dicts()
    return [Batch(**r) for r in rows]


class QuarantinedRow(_Frozen):
    """A row that could not be read, with its reason (raw text already masked at ingest)."""

    batch_id: int
    file_name: str | None
    line_no: int
    reason: str
    raw_masked: str | None


def quarantine(store: Store, limit: int = 1000, batch_id: int | None = None) -> list[QuarantinedRow]:
    """Up to ``limit`` quarantined rows, newest batch first, optionally of one batch."""
    rows = store.query(
        "quarantine",
        """select q.batch_id, b.file_name, q.line_no, q.reason, q.raw_masked
        from quarantine q
        left join batches b on b.batch_id = q.batch_id
        where $batch_id is null or q.batch_id = $batch_id
        order by q.batch_id desc, q.line_no
        limit $limit""",
        {"batch_id": batch_id, "limit": limit},
    ).dicts()
    return [QuarantinedRow(**r) for r in rows]


# --- upload preview -------------------------------------------------------------------------------


class MappedField(_Frozen):
    """Where a canonical field comes from, and how often the preview rows fill it."""

    field: str
    column: str | None  # the file column (CSV formats with a mapping), else None: the format defines it
    filled: int
    rows: int


class FilePreview(_Frozen):
    """What ingesting a file would store, shown before anything is written."""

    file_name: str
    source: str
    format: str
    description: str
    mapping: list[MappedField]
    rows: list[dict[str, Any]]  # canonical rows: identifiers already normalized and hashed
    problems: list[tuple[int, str]]  # (line, reason) of preview rows that would go to quarantine


def _csv_columns(path: Path, fmt: str, options: ReadOptions) -> dict[str, str]:
    kinds = {"generic_orders": "order", "generic_leads": "lead"}
    if fmt not in kinds:
        return {}
    header = [name.strip() for name in next(iter_records(path))[1]]
    mapping = generic_csv.resolve_columns(header, options.column_map, kinds[fmt])  # type: ignore[arg-type]
    return {field: header[position] for field, position in mapping.items()}


def preview_file(
    path: Path,
    source: SourceKind,
    fmt: str | None = None,
    options: ReadOptions | None = None,
    limit: int = PREVIEW_ROWS,
) -> FilePreview:
    """Detect (or use) the format, and canonicalise the first ``limit`` records without storing them.

    Raises:
        UnreadableFileError / MappingError: the same errors ingesting the file would raise.
    """
    options = options or ReadOptions()
    path = Path(path)
    if source == "meta":
        return _preview_meta(path, fmt, options, limit)
    reader = get_reader(source, fmt) if fmt else detect(path, source)
    rows: list[dict[str, Any]] = []
    problems: list[tuple[int, str]] = []
    for item in itertools.islice(reader.read(path, options), limit):
        if isinstance(item, RowError):
            problems.append((item.line_no, item.reason))
        elif isinstance(item, IncomingEvent):
            rows.append(
                canonical_event(item, default_country=options.default_country, url_keys=options.url_keys)
            )
        elif isinstance(item, IncomingTruth):
            rows.append(canonical_truth(item, default_country=options.default_country))
    columns = _csv_columns(path, reader.format, options)
    fields = [k for k in (rows[0] if rows else {}) if k not in _PREVIEW_HIDDEN]
    mapping = [
        MappedField(
            field=name,
            column=columns.get(name),
            filled=sum(1 for r in rows if r.get(name) not in (None, "")),
            rows=len(rows),
        )
        for name in fields
    ]
    shown = [{k: v for k, v in r.items() if k in fields} for r in rows]
    return FilePreview(
        file_name=path.name,
        source=source,
        format=reader.format,
        description=reader.description,
        mapping=mapping,
        rows=shown,
        problems=problems,
    )


def source_formats(source: SourceKind) -> list[str]:
    """The format names a source accepts, in detection order (``meta``: the Ads Manager readers)."""
    if source == "meta":
        return [reader.format for reader in ads_manager.READERS]
    return formats_for(source)


def _preview_meta(path: Path, fmt: str | None, options: ReadOptions, limit: int) -> FilePreview:
    """The first Ads Manager rows as ``meta_reported`` would store them (what ``ingest --source meta`` reads).

    Ads Manager rows carry no personal data (per ad and day totals), so they are shown as read.
    """
    reader = ads_manager.get_reader(fmt) if fmt else ads_manager.detect(path)
    rows: list[dict[str, Any]] = []
    problems: list[tuple[int, str]] = []
    for item in itertools.islice(reader.read(path, options), limit):
        if isinstance(item, RowError):
            problems.append((item.line_no, item.reason))
        else:
            rows.append(item.as_row())
    fields = [k for k in (rows[0] if rows else {}) if k not in _PREVIEW_HIDDEN]
    return FilePreview(
        file_name=path.name,
        source="meta",
        format=reader.format,
        description=reader.description,
        mapping=[
            MappedField(
                field=name,
                column=None,
                filled=sum(1 for r in rows if r.get(name) not in (None, "")),
                rows=len(rows),
            )
            for name in fields
        ],
        rows=[{k: v for k, v in r.items() if k in fields} for r in rows],
        problems=problems,
    )


def safe_file_name(name: str) -> str:
    """A browser-sent file name reduced to letters, digits, ``._-`` and spaces (no path, no markup)."""
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return base[:120] or "upload"


def estimate_records(path: Path) -> int:
    """Lines in the file: an upper bound of its records, to scale a progress bar."""
    count = 0
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            count += chunk.count(b"\n")
    return max(count, 1)


# --- headline tiles -------------------------------------------------------------------------------


class Headline(_Frozen):
    """One tile of the Overview: a figure, its goal, and whether it meets it."""

    key: str
    label: str
    value: float | None
    display: str
    goal: str
    status: Status
    help: str


def _status(value: float | None, ok: Callable[[float], bool]) -> Status:
    if value is None:
        return "unknown"
    return "good" if ok(value) else "bad"


class HasDedup(Protocol):
    """Anything with the report's dedup rows (a ``Report``, ``OverviewFigures``)."""

    @property
    def dedup(self) -> Sequence[DedupEventStats]: ...


class HeadlineSource(HasDedup, Protocol):
    """What the tiles read: a ``Report`` or the Overview's ``OverviewFigures``."""

    @property
    def counts(self) -> Counts: ...

    @property
    def reconciliation(self) -> Sequence[ReconSummary]: ...

    @property
    def match_keys(self) -> quality.MatchKeyReport: ...

    @property
    def freshness(self) -> Sequence[FreshnessRow]: ...


def headline_event(report: HeadlineSource) -> str | None:
    """The conversion the tiles speak about: Purchase if present, else the most-copied server event."""
    if any(d.event_name == "Purchase" for d in report.dedup):
        return "Purchase"
    server = [c for c in report.counts.per_event if c.channel == "server" and c.event_name]
    return max(server, key=lambda c: c.copies).event_name if server else None


def overall_dedup_health(report: HasDedup | Sequence[DedupEventStats]) -> float | None:
    """Merged pairs / (merged pairs + would-be pairs) over every event (of a report or a dedup section)."""
    rows = report if isinstance(report, Sequence) else report.dedup
    merged = sum(d.merged_pairs for d in rows)
    failed = sum(d.would_be_pairs for d in rows)
    return merged / (merged + failed) if merged + failed else None


def real_time_share(report: HeadlineSource) -> float | None:
    """Server copies sent less than an hour after the event / server copies with both times known."""
    total = next((f for f in report.freshness if f.is_total), None)
    timed = total.copies - total.unknown if total else 0
    return total.real_time / timed if total and timed else None


GAP_TOLERANCE = 0.05  # a Meta-vs-backend gap within ±5 % counts as healthy on the tiles


def _coverage_help(dedup: DedupEventStats | None) -> str:
    """The coverage tile's help: Meta's definition, the event_id share and the 7-day figure beside it."""
    text = (
        "Meta's event coverage: unique browser events that share event_id, external_id or fbp with a "
        "server copy Meta accepted (same pixel and event name); Meta asks for 75 % or more."
    )
    if dedup is None:
        return text
    text += f" By event_id alone: {units.share(dedup.event_id_coverage)}."
    if dedup.event_coverage_7d_to is not None:
        text += (
            f" 7-day figure as Events Manager shows it (to {dedup.event_coverage_7d_to:%Y-%m-%d}): "
            f"{units.share(dedup.event_coverage_7d)}."
        )
    return text


def _count_gap(recon: ReconSummary | None, dedup: Sequence[DedupEventStats]) -> tuple[str, Status, str]:
    """The count-gap tile's display, status and help: a range where Meta's count is one (issue 13, case 3).

    Good only when both bounds are within ``GAP_TOLERANCE``, bad when both are outside; in between the
    tile cannot say (unknown) and its help says why.
    """
    help_text = (
        "(estimated Meta count − eligible backend records) / eligible backend records. Positive: Meta "
        "counts more conversions than the backend had."
    )
    if recon is None:
        return "—", "unknown", help_text
    bounds = count_range.recon_range(recon, dedup)
    low, high = bounds.gap_pct_low, bounds.gap_pct_high
    if not bounds.is_range or low is None or high is None:
        return units.signed_share(recon.gap_pct), _status(recon.gap_pct, _within_tolerance), help_text
    statuses = {_status(low, _within_tolerance), _status(high, _within_tolerance)}
    status: Status = statuses.pop() if len(statuses) == 1 else "unknown"
    help_text += (
        f" Meta's {recon.event_name} count is between {bounds.meta_count_low:,} and "
        f"{bounds.meta_count_high:,} (our point estimate): {bounds.key_merges:,} server copies carry an "
        "event_id but share fbp or "
        "external_id with an earlier browser copy, and Meta does not document whether it merges those "
        "(lower bound: it does; upper: it does not). Details on the Deduplication page."
    )
    return units.share_range(low, high), status, help_text


def _within_tolerance(gap: float) -> bool:
    return abs(gap) <= GAP_TOLERANCE


def count_text(low: int, high: int) -> str:
    """Meta's count for display: one number when the bounds agree, else ``low–high``."""
    return f"{high:,}" if low == high else f"{low:,}–{high:,}"


def meta_count_range(recon: ReconSummary, dedup: Sequence[DedupEventStats]) -> count_range.MetaCountRange:
    """``recon``'s Meta count as a range (``count_range.recon_range``), for the Reconciliation page."""
    return count_range.recon_range(recon, dedup)


def headlines(report: HeadlineSource) -> list[Headline]:
    """The Overview tiles, each against its goal (SPEC §4 definitions, figures taken from ``report``)."""
    event = headline_event(report) or "Event"
    dedup = next((d for d in report.dedup if d.event_name == event), None)
    recon = report.reconciliation[0] if report.reconciliation else None
    emq = next((e for e in report.match_keys.emq_estimate if e.event_name == event), None)
    health = overall_dedup_health(report)
    coverage = dedup.event_coverage if dedup else None
    gap = recon.gap_pct if recon else None
    value_gap = recon.value_gap_pct if recon else None
    score = emq.score if emq else None
    fresh = real_time_share(report)
    truth = recon.event_name if recon else "backend"
    gap_display, gap_status, gap_help = _count_gap(recon, report.dedup)
    return [
        Headline(
            key="dedup_health",
            label="Dedup health, all events",
            value=health,
            display=units.share(health),
            goal="goal 100 %",
            status=_status(health, lambda v: v >= 1),
            help="Merged browser+server pairs / (merged pairs + pairs Meta will count twice). 100 % means "
            "every conversion sent on both channels is counted once.",
        ),
        Headline(
            key="event_coverage",
            label=f"{event} event coverage",
            value=coverage,
            display=units.share(coverage),
            goal=f"goal ≥ {units.goal(COVERAGE_GOAL)}",
            status=_status(coverage, lambda v: v >= COVERAGE_GOAL),
            help=_coverage_help(dedup),
        ),
        Headline(
            key="gap_count",
            label=f"Meta vs backend, {truth} count",
            value=gap,
            display=gap_display,
            goal="goal 0 % (±5 % is fine)",
            status=gap_status,
            help=gap_help,
        ),
        Headline(
            key="gap_value",
            label=f"Meta vs backend, {truth} value",
            value=value_gap,
            display=units.signed_share(value_gap),
            goal="goal 0 % (±5 % is fine)",
            status=_status(value_gap, lambda v: abs(v) <= GAP_TOLERANCE),
            help="The same gap in money: conversion value Meta would book vs the backend's total.",
        ),
        Headline(
            key="emq",
            label=f"{event} estimated EMQ",
            value=score,
            display="—" if score is None else f"{score:.1f} / 10",
            goal=f"goal ≥ {EMQ_GOAL:.1f}",
            status=_status(score, lambda v: v >= EMQ_GOAL),
            help="Our transparent estimate from the match keys each server copy carries — not Meta's own "
            "Event Match Quality score. Each valid key is worth points on Meta's 0–10 scale, calibrated to "
            "published measurements of Meta's score and fitted per pixel to Meta's own EMQ when Dataset "
            "Quality snapshots are loaded. The points, and how close the estimate is to Meta's EMQ, are on "
            "the Signal quality page.",
        ),
        Headline(
            key="freshness",
            label="Server copies sent within 1 h",
            value=fresh,
            display=units.share(fresh),
            goal="goal 100 %; Meta warns past 2 h",
            status=_status(fresh, lambda v: v >= 0.99),
            help="Share of server copies sent less than an hour after the event happened.",
        ),
    ]


#: Which page explains the findings of each code family.
_FINDING_PAGES: tuple[tuple[str, PageKey], ...] = (
    ("DEDUP_", "deduplication"),
    ("COVERAGE_", "deduplication"),
    ("RECON_", "reconciliation"),
    ("LEAD_", "lead_quality"),  # lead findings (qualified/won rates, signal lag) are explained there
    ("SECRET_", "data"),
)


def finding_page(code: str) -> PageKey:
    """The page that explains a finding's code (signal quality for parameter, match, EMQ, freshness...)."""
    return next((page for prefix, page in _FINDING_PAGES if code.startswith(prefix)), "signal_quality")


#: The finding fields the Overview's table shows as they are, in order (``event_name`` shown as ``event``).
_FINDING_FIELDS = ("severity", "code", "event_name", "channel", "count", "share", "message", "fix")


def findings_frame(findings: Sequence[Finding]) -> pd.DataFrame:
    """Findings as a table for the Overview: severity, code, where, how many, message, fix, examples."""
    rows = [
        {
            **{name: getattr(f, name) for name in _FINDING_FIELDS},
            "examples": ", ".join(f.examples),
            "explained on": finding_page(f.code).replace("_", " "),
        }
        for f in findings
    ]
    columns = [*_FINDING_FIELDS, "examples", "explained on"]
    return pd.DataFrame(rows, columns=columns).rename(columns={"event_name": "event"})


# --- signal quality shapes ------------------------------------------------------------------------


def coverage_frame(rows: Iterable[MatchKeyCoverage]) -> pd.DataFrame:
    """Match-key coverage in long form: event_name, channel, key, coverage (0..1), copies."""
    records = [
        {"event_name": r.event_name, "channel": r.channel, "key": key, "coverage": share, "copies": r.copies}
        for r in rows
        for key, share in r.coverage.items()
    ]
    return pd.DataFrame(records, columns=["event_name", "channel", "key", "coverage", "copies"])


def format_errors(rows: Iterable[CompletenessRow]) -> pd.DataFrame:
    """Parameters present but malformed (every outcome other than valid or missing), largest first."""
    records = [
        {
            "event_name": r.event_name,
            "channel": r.channel,
            "parameter": r.parameter,
            "problem": outcome,
            "copies": count,
            "share": count / r.copies if r.copies else None,
            "examples": ", ".join(r.examples.get(outcome, [])),
        }
        for r in rows
        for outcome, count in r.outcomes.items()
        if outcome not in ("valid", "missing") and count
    ]
    frame = pd.DataFrame(
        records, columns=["event_name", "channel", "parameter", "problem", "copies", "share", "examples"]
    )
    return frame.sort_values("copies", ascending=False, ignore_index=True)


def value_deltas(verdicts: Iterable[RecordVerdict]) -> list[float]:
    """Meta's booked value minus the backend value, per record that reached Meta with both values."""
    return [
        v.meta_value - v.truth_value
        for v in verdicts
        if v.meta_value is not None and v.truth_value is not None and v.counted_copies
    ]


# --- tables and downloads -------------------------------------------------------------------------


def frame(items: Iterable[BaseModel], exclude: set[str] | None = None) -> pd.DataFrame:
    """Typed results as a DataFrame (one row per item, nested values kept as they are)."""
    return pd.DataFrame([item.model_dump(exclude=exclude) for item in items])


def emq_weights_frame(match_keys: quality.MatchKeyReport) -> pd.DataFrame:
    """The estimate's points per key: the calibrated ones, and one column per pixel whose points were
    fitted to Meta's EMQ; most points first."""
    table = pd.DataFrame({"key": list(match_keys.emq_weights.model_dump())})
    table["calibrated"] = list(match_keys.emq_weights.model_dump().values())
    for fit in match_keys.emq_fits:
        if fit.applied:
            table[f"fitted, pixel {fit.pixel_id}"] = list(fit.weights.model_dump().values())
    return table.sort_values("calibrated", ascending=False, kind="stable").reset_index(drop=True)


def emq_fit_frame(fit: quality.EmqFit) -> pd.DataFrame:
    """One pixel's fit, one row per (snapshot, event): Meta's EMQ and our estimate, calibrated and fitted."""
    return pd.DataFrame(
        [
            {
                "fetched": p.fetched_at.date(),
                "event_name": p.event_name,
                "our days": f"{p.our_from:%Y-%m-%d} to {p.our_to:%Y-%m-%d}",
                "copies": p.copies,
                "Meta's EMQ": p.meta_emq,
                "calibrated estimate": p.calibrated,
                "fitted estimate": p.fitted,
            }
            for p in fit.points
        ]
    )


def option_label(value: str | None) -> str:
    """A filter option for display: ``None`` is "any", underscores become spaces."""
    return "any" if value is None else value.replace("_", " ")


def frame_from_counts(counts: dict[str, int], key: str, value: str) -> pd.DataFrame:
    """A ``{name: count}`` dict as a two-column table, largest first."""
    rows = sorted(counts.items(), key=lambda kv: -kv[1])
    return pd.DataFrame(rows, columns=[key, value])


def _escape_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV (UTF-8) with every text cell a spreadsheet would run as a formula prefixed by ``'``."""
    escaped = df.copy()
    for column in escaped.columns:
        if not pd.api.types.is_numeric_dtype(escaped[column]):
            escaped[column] = escaped[column].map(_escape_cell)
    escaped.columns = [_escape_cell(str(c)) for c in escaped.columns]
    # RFC 4180 line ends make the csv writer quote any cell holding a bare CR or LF
    return escaped.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """Parquet bytes of ``df`` (values unchanged: Parquet is not run as formulas)."""
    buffer = io.BytesIO()
    try:
        df.to_parquet(buffer, index=False)
    except (pa.ArrowException, ValueError, TypeError):
        # mixed-type object columns (e.g. dicts next to None) have no Arrow type: store them as text
        buffer = io.BytesIO()
        text = {
            c: df[c].map(lambda v: v if v is None else str(v)) for c in df.columns if df[c].dtype == object
        }
        df.assign(**text).to_parquet(buffer, index=False)
    return buffer.getvalue()
