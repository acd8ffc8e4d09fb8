"""Lead quality (SPEC §4): how many Lead events Meta counted became CRM leads, qualified leads, won deals.

Owns the parameters, result models and Markdown lines of the ``leads_*.sql`` queries (each opening
with the CTEs of ``fragments/leads_base.sql``). Links between Lead events and CRM leads are the
reconciliation's (``derived_recon_links.sql``, the lead dataset of ``reconcile.datasets(store)``), so a
Lead event matches a CRM lead by the same keys and fallbacks as a Purchase matches an order. The lead event
is ``Lead`` unless the store names another (``settings.set_lead_event``: ``capi-desk leads set-event
CompleteRegistration``); "Lead event" below means that event. It must not touch DuckDB directly, nor
compute per-row facts in Python: only aggregates and bounded lists come back.

Decisions where the spec is silent (the report and the page repeat them):

- A Lead event is a copy Meta counts under the dedup model (a merged browser + server pair is one);
  name variants (``lead``) count, as in the reconciliation.
- Scope: Lead events by event_time and pixel; the event-name filter does not apply (the report is about
  one event). CRM leads without a Lead event by created_at. Matched leads are the CRM leads that the
  Lead events in scope link to, whatever their own created_at.
- Qualified: CRM stage qualified or won, or a qualified_at / won_at date (a lead that qualified and was
  later lost did qualify). Won: stage won or a won_at date.
- The goal (``QUALIFICATION_GOAL``) is on one ratio only, the qualified share of Lead events: of the Lead
  events Meta counted, the share whose CRM lead qualified. Meta optimizes on every counted Lead event, so
  this is what tells whether it learns from qualified leads; the headline, the page's goal tile, the
  Markdown report, the per-campaign judgement and LEAD_LOW_QUALIFICATION all use it. The qualification
  rate (qualified / matched CRM leads, SPEC) is a CRM-side figure: it is shown, labelled, without the
  goal. Per utm_source / utm_campaign, the Lead events are those linked to the campaign's CRM leads (a Lead
  event with no CRM lead carries no utm); a campaign is judged with at least ``MIN_GROUP_LEADS`` matched
  leads.
- Time to qualify: hours from created_at to qualified_at over matched leads that have both (and a
  qualified_at not before created_at); median and p90.
- A CRM lead without a Lead event: created in scope and linked to no counted copy of any date or pixel.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from capi_core import settings, units
from capi_core.errors import InputError
from capi_core.metrics import reconcile
from capi_core.models import Scope
from capi_core.queries import load_query
from capi_core.store import Results, Store

#: Goal for the qualified share of Lead events (counted Lead events whose CRM lead qualified / counted
#: Lead events). One in five is a common B2B benchmark for form fills that reach MQL; under it, Meta
#: optimizes on volume rather than quality (LEAD_LOW_QUALIFICATION).
QUALIFICATION_GOAL = 0.20
#: Share of counted Lead events with no CRM lead above which LEAD_UNMATCHED fires: a CRM's spam filter
#: and duplicate merging explain a few, more means Meta learns from fills the business never sees.
UNMATCHED_MAX_SHARE = 0.15
#: A source / campaign is judged on its own only with at least this many matched leads.
MIN_GROUP_LEADS = 20
DEFAULT_LIMIT = 500
#: (label, lower bound in hours) of the time-to-qualify buckets, as leads_time_to_qualify.sql numbers them.
TIME_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 day", 0), ("1-3 days", 24), ("3-7 days", 72), ("1-2 weeks", 168), ("2-4 weeks", 336),
    ("30+ days", 720),
)  # fmt: skip

_PARAM = re.compile(r"\$([a-z_]+)")
Optimizing = Literal["qualified_leads", "raw_form_fills", "unknown"]
GoalStatus = Literal["below_goal", "meets_goal", "too_few_leads", "no_matched_leads"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class FunnelStep(_Frozen):
    """One step of Lead events -> matched CRM leads -> qualified -> won."""

    step: Literal["lead_events", "matched_leads", "qualified_leads", "won_leads"]
    label: str
    count: int
    share_of_previous: float | None
    share_of_first: float | None


class LeadFunnel(_Frozen):
    """The lead funnel over the scope, with its event-level shares and gaps."""

    lead_events: int  # counted copies of the lead event (Meta's count)
    matched_events: int  # ... linked to a CRM lead
    unmatched_events: int  # ... linked to none
    qualified_events: int  # ... whose CRM lead qualified
    matched_leads: int  # distinct CRM leads those events link to
    qualified_leads: int
    won_leads: int
    match_rate: float | None  # matched_events / lead_events
    qualified_event_share: float | None  # qualified_events / lead_events: judged against the goal
    unmatched_share: float | None  # unmatched_events / lead_events
    qualification_rate: float | None  # qualified_leads / matched_leads (CRM-side, no goal)
    win_rate: float | None  # won_leads / matched_leads
    median_hours_to_qualify: float | None
    p90_hours_to_qualify: float | None
    crm_leads: int  # CRM leads created in scope
    crm_leads_without_event: int
    steps: list[FunnelStep]


class LeadGroupRow(_Frozen):
    """The funnel of one utm_source + utm_campaign (dimension ``source``) or one form (``form``)."""

    dimension: Literal["source", "form"]
    utm_source: str | None
    utm_campaign: str | None
    form: str | None
    lead_events: int  # counted Lead events linked to the group's CRM leads
    qualified_events: int  # ... whose lead qualified
    matched_leads: int
    qualified_leads: int
    won_leads: int
    qualified_event_share: float | None  # qualified_events / lead_events: judged against the goal
    qualification_rate: float | None  # qualified_leads / matched_leads (CRM-side, no goal)
    median_hours_to_qualify: float | None
    crm_leads_without_event: int
    below_goal: bool  # judged (at least MIN_GROUP_LEADS matched leads) and qualified_event_share < goal
    goal_status: GoalStatus

    @property
    def label(self) -> str:
        """``facebook / broad_audience``, or the form name; ``(not set)`` for empty parts."""
        if self.dimension == "form":
            return self.form or "(not set)"
        return f"{self.utm_source or '(not set)'} / {self.utm_campaign or '(not set)'}"


class TimeBucket(_Frozen):
    """Matched leads that qualified within one span of time after they were created."""

    label: str
    min_hours: float
    leads: int


class UnmatchedLeadEvent(_Frozen):
    """A counted Lead event that links to no CRM lead."""

    fingerprint: str
    occurrence: int
    channel: str
    pixel_id: str | None
    event_name: str | None
    event_id: str | None
    event_time: dt.datetime | None
    test_event_code: str | None
    reason: str | None  # the reconciliation's phantom reason (test_code, reused_id, ...)


class LeadWithoutEvent(_Frozen):
    """A CRM lead created in scope that no counted Lead event links to."""

    truth_id: str
    raw_id: str | None
    created_at: dt.datetime | None
    status: str | None
    qualified: bool
    utm_source: str | None
    utm_campaign: str | None
    form: str | None


class LeadReport(_Frozen):
    """The ``leads`` block of the report (SPEC §6): funnel, groups, time to qualify, both gaps."""

    event_name: str
    qualification_goal: float
    unmatched_max_share: float
    min_group_leads: int
    funnel: LeadFunnel
    optimizing_on: Optimizing
    headline: str
    by_source: list[LeadGroupRow]
    by_form: list[LeadGroupRow]
    time_to_qualify: list[TimeBucket]
    unmatched_events: list[UnmatchedLeadEvent]  # at most ``limit``, oldest first
    leads_without_event: list[LeadWithoutEvent]  # at most ``limit``, oldest first


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def lead_dataset(store: Store, event_name: str | None = None) -> str:
    """The store's reconciled lead event that ``event_name`` names (``lead`` -> ``Lead``); the store's
    lead event when ``event_name`` is None.

    Raises:
        InputError: the event is not the store's lead dataset (links exist only there).
    """
    pairs = reconcile.datasets(store)
    lead_events = [name for name, kind in pairs if kind == "lead"]
    if event_name is None:
        return lead_events[0]
    canonical = reconcile.dataset_event(event_name, pairs)
    if (canonical, "lead") not in pairs:
        raise InputError(
            f"{event_name!r} is not the lead event of this store",
            hint=f"lead quality reads {', '.join(lead_events)} events; change it with "
            "`capi-desk leads set-event NAME`",
        )
    return canonical


def _run(store: Store, name: str, scope: Scope, event_name: str | None, **extra: Any) -> Results:
    sql = load_query(name)
    params: dict[str, Any] = {**scope.params(), "event_name": lead_dataset(store, event_name), **extra}
    used = set(_PARAM.findall(sql))  # DuckDB rejects parameters the statement does not use
    return store.query(name, sql, {k: v for k, v in params.items() if k in used})


class EventChoice(_Frozen):
    """An event name in the store, with its copies: a candidate for the store's lead event."""

    event_name: str
    copies: int


def event_choices(store: Store, limit: int = 200) -> list[EventChoice]:
    """Event names in the store, most copies first (the choices for "which event marks a lead?")."""
    rows = store.query_file("leads_event_names", {"limit": limit}).dicts()
    return [EventChoice(event_name=str(r["event_name"]), copies=int(r["copies"])) for r in rows]


class LeadEventSetting(_Frozen):
    """The store's lead event, whether it was set (else the default), and the event names to pick from."""

    event_name: str
    configured: bool
    choices: list[EventChoice]

    @property
    def options(self) -> list[str]:
        """Event names for a picker: the current lead event first when no copy carries it yet."""
        names = [c.event_name for c in self.choices]
        return names if self.event_name in names else [self.event_name, *names]

    @property
    def counts(self) -> dict[str, int]:
        """Copies per event name in the store."""
        return {c.event_name: c.copies for c in self.choices}


def lead_event_setting(store: Store, scope: Scope | None = None) -> LeadEventSetting:
    """Which event marks a lead in ``store`` and the candidates (``scope`` is not used: the setting is
    per store; the argument lets the dashboard cache the call like the others)."""
    return LeadEventSetting(
        event_name=settings.lead_event(store),
        configured=settings.get(store, settings.LEAD_EVENT_SETTING) is not None,
        choices=event_choices(store),
    )


def has_leads(store: Store) -> bool:
    """Whether the store holds CRM leads and the derived link tables (else there is nothing to judge)."""
    return reconcile.has_truth(store, "lead") and reconcile.derived_ready(store)


def _steps(row: dict[str, Any], event: str) -> list[FunnelStep]:
    counts = [
        ("lead_events", f"{event} events Meta counted", int(row["lead_events"])),
        ("matched_leads", "Matched CRM leads", int(row["matched_leads"])),
        ("qualified_leads", "Qualified", int(row["qualified_leads"])),
        ("won_leads", "Won", int(row["won_leads"])),
    ]
    first = counts[0][2]
    steps: list[FunnelStep] = []
    previous: int | None = None
    for step, label, count in counts:
        steps.append(
            FunnelStep(
                step=step,  # type: ignore[arg-type]
                label=label,
                count=count,
                share_of_previous=None if previous is None else _ratio(count, previous),
                share_of_first=_ratio(count, first),
            )
        )
        previous = count
    return steps


def lead_funnel(store: Store, scope: Scope, event_name: str | None = None) -> LeadFunnel:
    """Lead events Meta counted -> matched CRM leads -> qualified -> won, with rates and both gaps."""
    row = _run(store, "leads_funnel", scope, event_name).dicts()[0]
    events, leads = int(row["lead_events"]), int(row["matched_leads"])
    return LeadFunnel(
        lead_events=events,
        matched_events=int(row["matched_events"]),
        unmatched_events=int(row["unmatched_events"]),
        qualified_events=int(row["qualified_events"]),
        matched_leads=leads,
        qualified_leads=int(row["qualified_leads"]),
        won_leads=int(row["won_leads"]),
        match_rate=_ratio(int(row["matched_events"]), events),
        qualified_event_share=_ratio(int(row["qualified_events"]), events),
        unmatched_share=_ratio(int(row["unmatched_events"]), events),
        qualification_rate=_ratio(int(row["qualified_leads"]), leads),
        win_rate=_ratio(int(row["won_leads"]), leads),
        median_hours_to_qualify=row["median_hours_to_qualify"],
        p90_hours_to_qualify=row["p90_hours_to_qualify"],
        crm_leads=int(row["crm_leads"]),
        crm_leads_without_event=int(row["crm_leads_without_event"]),
        steps=_steps(row, lead_dataset(store, event_name)),
    )


def lead_groups(store: Store, scope: Scope, event_name: str | None = None) -> list[LeadGroupRow]:
    """The funnel per utm_source + utm_campaign, then per form (of the CRM lead), largest first."""
    rows = _run(store, "leads_groups", scope, event_name).dicts()
    out: list[LeadGroupRow] = []
    for r in rows:
        matched, qualified = int(r["matched_leads"]), int(r["qualified_leads"])
        events, qualified_events = int(r["lead_events"]), int(r["qualified_events"])
        share = _ratio(qualified_events, events)
        status: GoalStatus = (
            "no_matched_leads"
            if not matched or share is None
            else "too_few_leads"
            if matched < MIN_GROUP_LEADS
            else "below_goal"
            if share < QUALIFICATION_GOAL
            else "meets_goal"
        )
        out.append(
            LeadGroupRow(
                dimension=r["dimension"],
                utm_source=r["utm_source"],
                utm_campaign=r["utm_campaign"],
                form=r["form"],
                lead_events=events,
                qualified_events=qualified_events,
                matched_leads=matched,
                qualified_leads=qualified,
                won_leads=int(r["won_leads"]),
                qualified_event_share=share,
                qualification_rate=_ratio(qualified, matched),
                median_hours_to_qualify=r["median_hours_to_qualify"],
                crm_leads_without_event=int(r["crm_leads_without_event"]),
                below_goal=status == "below_goal",
                goal_status=status,
            )
        )
    return out


def time_to_qualify(store: Store, scope: Scope, event_name: str | None = None) -> list[TimeBucket]:
    """Matched leads that qualified, per time-to-qualify bucket (every bucket, empty ones as 0)."""
    rows = _run(store, "leads_time_to_qualify", scope, event_name).dicts()
    found = {int(r["bucket"]): int(r["leads"]) for r in rows}
    return [
        TimeBucket(label=label, min_hours=low, leads=found.get(number, 0))
        for number, (label, low) in enumerate(TIME_BUCKETS, start=1)
    ]


def unmatched_events(
    store: Store, scope: Scope, event_name: str | None = None, limit: int = DEFAULT_LIMIT
) -> list[UnmatchedLeadEvent]:
    """Up to ``limit`` counted Lead events with no CRM lead, oldest first."""
    rows = _run(store, "leads_unmatched_events", scope, event_name, limit=limit).dicts()
    return [UnmatchedLeadEvent(**r) for r in rows]


def leads_without_event(
    store: Store, scope: Scope, event_name: str | None = None, limit: int = DEFAULT_LIMIT
) -> list[LeadWithoutEvent]:
    """Up to ``limit`` CRM leads created in scope that no counted Lead event links to, oldest first."""
    rows = _run(store, "leads_without_event", scope, event_name, limit=limit).dicts()
    return [LeadWithoutEvent(**r) for r in rows]


def unqualified_lead_ids(
    store: Store, scope: Scope, event_name: str | None = None, limit: int = DEFAULT_LIMIT
) -> list[str]:
    """Up to ``limit`` matched CRM leads that did not qualify (their CRM ids), oldest first."""
    rows = _run(store, "leads_unqualified", scope, event_name, limit=limit).rows
    return [str(row[0]) for row in rows]


def verdict(funnel: LeadFunnel, event: str = "Lead") -> tuple[Optimizing, str]:
    """What Meta learns from, and the one sentence a marketer reads first (the goal is on the qualified
    share of ``event`` events, see the module docstring)."""
    if not funnel.lead_events:
        return "unknown", f"Meta counted no {event} event in this window: there is nothing to judge yet."
    opening = (
        f"Of {funnel.lead_events:,} {event} events Meta counted, {units.share(funnel.match_rate)} became CRM "
        "leads "
        f"and {units.share(funnel.qualified_event_share)} became qualified leads "
        f"(goal {units.goal(QUALIFICATION_GOAL)})"
    )
    if not funnel.matched_events:
        return (
            "unknown",
            f"{opening}: no {event} event matches a CRM lead, so their quality cannot be judged.",
        )
    if (funnel.qualified_event_share or 0.0) < QUALIFICATION_GOAL:
        return "raw_form_fills", f"{opening}: Meta is optimizing on raw form fills."
    return "qualified_leads", f"{opening}: Meta is learning mostly from leads that qualify."


def lead_report(
    store: Store, scope: Scope, event_name: str | None = None, *, limit: int = DEFAULT_LIMIT
) -> LeadReport | None:
    """The lead-quality block of the report, or None when the store holds no CRM lead.

    Args:
        store: the store to read.
        scope: Lead events by event_time and pixel; CRM leads without an event by created_at.
        event_name: the lead event (the store's lead dataset, ``Lead`` unless set otherwise; name
            variants count); None: the store's.
        limit: at most this many unmatched events and leads without an event are listed.
    """
    event = lead_dataset(store, event_name)
    if not has_leads(store):
        return None
    funnel = lead_funnel(store, scope, event)
    groups = lead_groups(store, scope, event)
    optimizing_on, headline = verdict(funnel, event)
    return LeadReport(
        event_name=event,
        qualification_goal=QUALIFICATION_GOAL,
        unmatched_max_share=UNMATCHED_MAX_SHARE,
        min_group_leads=MIN_GROUP_LEADS,
        funnel=funnel,
        optimizing_on=optimizing_on,
        headline=headline,
        by_source=[g for g in groups if g.dimension == "source"],
        by_form=[g for g in groups if g.dimension == "form"],
        time_to_qualify=time_to_qualify(store, scope, event),
        unmatched_events=unmatched_events(store, scope, event, limit),
        leads_without_event=leads_without_event(store, scope, event, limit),
    )


def _md(text: str) -> str:
    # CRM and browser strings: no table breaks, no HTML, no Markdown emphasis or links, no terminal codes
    # (the report's one escaper; weekly_review imports the diagnostics, which import this module)
    from capi_core.weekly_review import md_text

    return md_text(text)


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} h"


def markdown_lines(report: LeadReport) -> list[str]:
    """The ``## Lead quality`` section of the Markdown report (every CRM-sent string escaped)."""
    f = report.funnel
    event = _md(report.event_name)
    lines = [
        "## Lead quality",
        "",
        _md(report.headline),
        "",
        "| step | count | share of previous |",
        "|---|---|---|",
        *[f"| {s.label} | {s.count:,} | {units.share(s.share_of_previous)} |" for s in f.steps],
        "",
        f"Qualified share of {event} events: {units.share(f.qualified_event_share)} (goal "
        f"{units.goal(report.qualification_goal)}: {f.qualified_events:,} of the {f.lead_events:,} {event} "
        "events "
        f"Meta counted became qualified CRM leads); qualification rate of matched CRM leads (CRM-side, no "
        f"goal): {units.share(f.qualification_rate)} ({f.qualified_leads:,} of {f.matched_leads:,}); "
        f"time to qualify: median {_hours(f.median_hours_to_qualify)}, p90 {_hours(f.p90_hours_to_qualify)}; "
        f"{event} events with no CRM lead: {f.unmatched_events:,} ({units.share(f.unmatched_share)}); "
        f"CRM leads with no {event} event: {f.crm_leads_without_event:,}.",
        "",
    ]
    if report.by_source:
        lines += [
            f"| utm_source / utm_campaign | {event} events | matched leads | qualified | won | "
            f"qualified share of {event} events (goal {units.goal(report.qualification_goal)}) | "
            f"qualification rate | CRM leads without {event} event |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for g in report.by_source:
            flag = " (below goal)" if g.below_goal else ""
            lines.append(
                f"| {_md(g.label)} | {g.lead_events:,} | {g.matched_leads:,} | {g.qualified_leads:,} | "
                f"{g.won_leads:,} | {units.share(g.qualified_event_share)}{flag} | "
                f"{units.share(g.qualification_rate)} | {g.crm_leads_without_event:,} |"
            )
        lines.append("")
    return lines
