"""Lead quality: is Meta learning from raw form fills or from leads that qualify? The funnel from Lead
events Meta counted to won deals, per source / campaign and form, time to qualify, and both gaps (Lead
events with no CRM lead, CRM leads with no Lead event)."""

from __future__ import annotations

import streamlit as st

from capi_core import dashboard_api as api
from capi_core.metrics import leads
from pages import _lead_charts, _shared

_shared.require_frame()

PERCENT = st.column_config.NumberColumn(format="percent")
HOURS = st.column_config.NumberColumn(format="%.1f h")

st.title("Lead quality")
_shared.demo_banner()
scope = _shared.scope()
report: leads.LeadReport | None = _shared.cached_call(leads.lead_report, scope)
if report is None:
    _shared.empty_state(
        "No CRM leads loaded: load a leads export (Salesforce, HubSpot, or a CSV with lead_id, created_at, "
        "email, stage, qualified_at, utm_source, utm_campaign) on the Data page to see which Lead events "
        "became qualified leads."
    )
    st.stop()

funnel = report.funnel
goal = report.qualification_goal
st.markdown(f"**{report.headline}**")
st.caption(
    f"A Lead event is one Meta counts after deduplication (a browser + server pair is one). It matches a CRM "
    f"lead by lead_id, order_id or event_id, else by fbp / hashed email within 10 minutes. Qualified = "
    f"stage qualified or won, or a qualified date. Goal: at least {goal:.0%} of the Lead events Meta "
    "counts should qualify. The event-name filter does not apply here."
)
tiles = st.columns(5)
tiles[0].metric(
    "Lead events (Meta)",
    f"{funnel.lead_events:,}",
    help="Lead events Meta counts after its deduplication.",
    border=True,
)
tiles[1].metric(
    "Became CRM leads",
    api.fmt_pct(funnel.match_rate),
    help=f"{funnel.matched_events:,} of {funnel.lead_events:,} Lead events match a CRM lead.",
    border=True,
)
tiles[2].metric(
    f"Qualified (goal {goal:.0%})",
    api.fmt_pct(funnel.qualification_rate),
    help=f"Qualification rate: {funnel.qualified_leads:,} of {funnel.matched_leads:,} matched CRM leads "
    "qualified.",
    border=True,
)
tiles[3].metric(
    "Time to qualify",
    "—" if funnel.median_hours_to_qualify is None else f"{funnel.median_hours_to_qualify:,.1f} h",
    help="Median from the lead's creation to its qualified date, over matched leads that qualified; p90 "
    + ("—" if funnel.p90_hours_to_qualify is None else f"{funnel.p90_hours_to_qualify:,.1f} h."),
    border=True,
)
tiles[4].metric(
    "CRM leads, no event",
    f"{funnel.crm_leads_without_event:,}",
    help=f"Of {funnel.crm_leads:,} CRM leads created in this window (phone, referral, blocked tracking).",
    border=True,
)

st.plotly_chart(_lead_charts.funnel(report), key="lead_funnel")

sources, forms, timing, gaps = st.tabs(["By source", "By form", "Time to qualify", "Unmatched"])
columns = {"qualification_rate": PERCENT, "median_hours_to_qualify": HOURS}
with sources:
    chart = _lead_charts.qualification_by_source(report)
    if chart is not None:
        st.plotly_chart(chart, key="lead_sources_chart")
    by_source = _lead_charts.groups_frame(report.by_source)
    _shared.table(by_source, "lead_quality_by_source", empty="No CRM lead here.", column_config=columns)
with forms:
    by_form = _lead_charts.groups_frame(report.by_form)
    _shared.table(by_form, "lead_quality_by_form", empty="No CRM lead here.", column_config=columns)
with timing:
    st.plotly_chart(_lead_charts.time_to_qualify(report), key="lead_timing")
with gaps:
    st.subheader("Lead events with no CRM lead")
    st.caption(
        f"{funnel.unmatched_events:,} of {funnel.lead_events:,} Lead events Meta counted "
        f"({api.fmt_pct(funnel.unmatched_share)}; at most {report.unmatched_max_share:.0%} expected): spam, "
        f"test or lost form fills Meta still optimizes on. Up to {leads.DEFAULT_LIMIT}, oldest first."
    )
    _shared.table(
        api.frame(report.unmatched_events, exclude={"fingerprint", "occurrence"}),
        "lead_events_without_crm_lead",
        empty="Every Lead event matches a CRM lead.",
    )
    st.subheader("CRM leads with no Lead event")
    st.caption(
        f"Leads Meta never heard of: it cannot learn from them. Up to {leads.DEFAULT_LIMIT}, oldest first."
    )
    _shared.table(
        api.frame(report.leads_without_event),
        "crm_leads_without_lead_event",
        empty="Every CRM lead in this window has a Lead event.",
    )
