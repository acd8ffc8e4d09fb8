"""The report's typed model: what ``capi-desk report`` says, as JSON (``Report.model_dump_json()``) and as
the source the Markdown and HTML are rendered from. Holds no logic: ``building`` fills it.

Keys are stable (scripts read them): a change adds keys and bumps ``REPORT_SCHEMA_VERSION`` with a line
below saying what changed; it never renames or removes one.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel

from capi_core import __version__
from capi_core.diagnostics import Finding
from capi_core.metrics import count_range, leads, quality, reconcile
from capi_core.metrics.dedup import KEY_MERGE_REASON, DedupEventStats
from capi_core.metrics.drift import DriftReport
from capi_core.metrics.meta_quality import QualityTrendRow
from capi_core.metrics.meta_view import MetaView

#: 2: ``drift`` became the weekly drift object and ``leads`` the lead-quality object (both were placeholders).
#: 3: ``dedup[].event_coverage`` is Meta's definition (any dedup key, accepted server copies, unique browser
#: events), beside ``browser_events``, ``event_id_coverage``, ``event_coverage_7d`` and its end day;
#: ``key_usage[].overlap`` counts events, not distinct key values (docs/meta-definitions.md).
#: 4: Meta's count as a range (``dedup[].estimated_meta_count_range``, ``key_merges``, ``key_merge_examples``,
#: ``meta_count_ranges``); the EMQ estimate on Meta's scale, fitted per pixel to Meta's own EMQ when the
#: store holds Dataset Quality snapshots (``match_keys.emq_estimate[].weights``, ``match_keys.emq_fits``).
#: 4 (also, issue 13 cases 6-11): ``reconciliation[]`` never adds two currencies (``currency``,
#: ``values_by_currency``), counts orders per sales channel (``channels``) and the pair's disagreements,
#: phantoms gain the ``no_order_key`` reason; ``drift`` marks partial weeks (``weekly[].partial``, never a
#: baseline) and ``too_little_history``.
#: 5 (issue 14): what the pages show and the report lacked: ``daily`` (Meta vs backend per day, per
#: reconciled event), ``meta_view`` (Ads Manager's reported purchases vs backend vs our estimate, null
#: without an export), ``meta_quality`` (Meta's EMQ and coverage per Dataset Quality snapshot beside ours,
#: empty without one); ``verdicts`` (each section's one line against its goal) and ``highlights`` (the
#: three things that matter, the opening paragraph).
REPORT_SCHEMA_VERSION = 5
ASSUMPTIONS = (
    "Meta's documented rules do not merge two copies from the same channel: repeats on one channel are "
    "each counted (and flagged as DEDUP_SAME_CHANNEL_REPEAT).",
    "event_name matching for dedup is exact and case-sensitive (Meta does not document otherwise).",
    "Estimated EMQ is our transparent estimate, not Meta's Event Match Quality score: points per valid key "
    "calibrated to published reference points on Meta's 0-10 scale, fitted per pixel to Meta's own EMQ when "
    "Dataset Quality snapshots are loaded (docs/meta-definitions.md).",
    "Meta's count is a range where it depends on behaviour Meta does not document. " + KEY_MERGE_REASON,
    "Event coverage follows Meta's definition (a browser event is covered when an accepted server copy of "
    "the same pixel and event name shares event_id, external_id or fbp); Meta does not define a 'unique "
    "browser event': we count the copies of one event_id from one browser (fbp) within 48 h once, and look "
    "for the server copy anywhere in the store.",
)

Status = Literal["on track", "needs work", "no data"]


class Window(BaseModel):
    """The slice the report covers."""

    date_from: dt.date | None
    date_to: dt.date | None
    pixel_id: str | None
    event_names: list[str]
    first_event_time: dt.datetime | None
    last_event_time: dt.datetime | None


class EventCount(BaseModel):
    """Copies of one event name on one channel."""

    event_name: str | None
    channel: str
    copies: int


class Counts(BaseModel):
    """How many copies the report looked at."""

    total: int
    per_channel: dict[str, int]
    per_event: list[EventCount]


class DailySeries(BaseModel):
    """Backend records vs what Meta counts, per UTC day, for one reconciled event (the Overview's chart)."""

    event_name: str
    kind: str
    days: list[reconcile.PeriodRow]


class Verdict(BaseModel):
    """One section's line against its goal: ``text`` is what the report prints under the heading."""

    section: str
    status: Status
    text: str


class Report(BaseModel):
    """Everything the report says (SPEC §6 "Report JSON")."""

    schema_version: int = REPORT_SCHEMA_VERSION
    tool_version: str = __version__
    window: Window
    counts: Counts
    dedup: list[DedupEventStats]
    reconciliation: list[reconcile.ReconSummary]
    meta_count_ranges: list[count_range.MetaCountRange]
    completeness: list[quality.CompletenessRow]
    match_keys: quality.MatchKeyReport
    freshness: quality.FreshnessReport
    drift: DriftReport
    leads: leads.LeadReport | None  # None when the store holds no CRM lead
    consent: quality.ConsentReport
    findings: list[Finding]
    assumptions: list[str] = list(ASSUMPTIONS)
    daily: list[DailySeries] = []
    meta_view: MetaView | None = None  # None when no Ads Manager export is loaded
    meta_quality: list[QualityTrendRow] = []
    verdicts: list[Verdict] = []
    highlights: list[str] = []
