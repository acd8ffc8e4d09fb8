"""Tables and charts of the Lead quality page: typed lead results -> display frames and plotly figures.

Display shaping only (labels, goal text); every figure comes from ``capi_core.metrics.leads``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from capi_core import dashboard_api as api
from capi_core import leads, units
from ui import charts

GOAL_TEXT = {
    "below_goal": "below goal",
    "meets_goal": "meets goal",
    "too_few_leads": f"too few leads to judge (< {leads.MIN_GROUP_LEADS})",
    "no_matched_leads": "no matched lead",
}


def groups_frame(groups: list[leads.LeadGroupRow]) -> pd.DataFrame:
    """One row per source / campaign (or form), the goal status in words, the label first."""
    rows = api.frame(groups, exclude={"dimension", "below_goal"})
    if rows.empty:
        return rows
    dimension = groups[0].dimension
    own = ["form"] if dimension == "source" else ["utm_source", "utm_campaign", "form"]
    rows = rows.drop(columns=own)  # the label column below says the same
    rows.insert(0, "source / campaign" if dimension == "source" else "form", [g.label for g in groups])
    rows["goal_status"] = rows["goal_status"].map(GOAL_TEXT)
    return rows


def funnel(report: leads.LeadReport) -> go.Figure:
    """Lead events -> matched CRM leads -> qualified -> won."""
    steps = api.frame(report.funnel.steps)
    # the first label names the store's lead event; plotly renders some HTML in labels: generic words
    steps.loc[steps["step"] == "lead_events", "label"] = "Lead events Meta counted"
    return charts.funnel(
        steps,
        "label",
        "count",
        title="Lead events -> CRM leads -> qualified -> won — good: most Lead events end up qualified",
    )


def qualification_by_source(report: leads.LeadReport) -> go.Figure | None:
    """Qualified share of Lead events per source / campaign with matched leads, against the goal (the
    ratio the goal is on; None without any)."""
    rows = groups_frame([g for g in report.by_source if g.matched_leads])
    if rows.empty:
        return None
    goal = report.qualification_goal
    return charts.bars(
        rows,
        "source / campaign",
        "qualified_event_share",
        # generic words, not the event name: plotly renders some HTML in titles and the name comes from files
        title="Qualified share of Lead events per utm_source / utm_campaign — good: every bar above "
        + units.goal(goal),
        x_title="utm_source / utm_campaign",
        y_title="Lead events whose lead qualified / Lead events",
        goal=goal,
        goal_label=f"goal {units.goal(goal)}",
        hover=["lead_events", "qualified_events", "qualification_rate"],
        percent=True,
    )


def time_to_qualify(report: leads.LeadReport) -> go.Figure:
    """Matched leads that qualified, per time-to-qualify bucket."""
    return charts.bars(
        api.frame(report.time_to_qualify),
        "label",
        "leads",
        title="Time from lead to qualified — good: most leads are qualified within days",
        x_title="time to qualify",
        y_title="matched leads that qualified",
    )
