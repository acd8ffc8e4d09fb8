"""Lead quality: is Meta learning from raw form fills or from leads that qualify? The funnel from Lead
events Meta counted to won deals, per source / campaign and form, time to qualify, and both gaps (Lead
events with no CRM lead, CRM leads with no Lead event). "Lead event" is the store's lead event, picked
here ("Which event marks a lead?") and stored with the store (``capi_core.settings``)."""

from __future__ import annotations

import streamlit as st

import ui
from capi_core import dashboard_api as api
from capi_core import leads, md_text, plain, settings, units
from ui import lead_charts

ui.require_frame()

PERCENT = st.column_config.NumberColumn(format="percent")
HOURS = st.column_config.NumberColumn(format="%.1f h")

st.title("Lead quality")
ui.demo_banner()
scope = ui.scope()
lead_event: leads.LeadEventSetting = ui.cached_call(leads.lead_event_setting)
options = lead_event.options
picked = st.selectbox(
    "Which event marks a lead?",
    options,
    index=options.index(lead_event.event_name),
    key="lead_event_picker",
    format_func=lambda name: f"{plain(name)} (no copy yet)" if name not in lead_event.counts else plain(name),
    help="The event your lead form fires (Lead, or e.g. CompleteRegistration / SubmitApplication): it is "
    "reconciled to the CRM leads and judged here. Saved with this store; the CLI sets it with "
    "`capi-desk leads set-event NAME`.",
)
if picked != lead_event.event_name:
    settings.set_lead_event(ui.store(), picked)
    st.rerun()
report: leads.LeadReport | None = ui.cached_call(leads.lead_report, scope)
if report is None:
    ui.empty_state(
        "No CRM leads loaded: load a leads export (Salesforce, HubSpot, or a CSV with lead_id, created_at, "
        "email, stage, qualified_at, utm_source, utm_campaign) on the Data page to see which Lead events "
        "became qualified leads."
    )
    st.stop()

funnel = report.funnel
goal = report.qualification_goal
event = report.event_name
st.markdown(f"**{md_text(report.headline)}**")
st.caption(
    f"A {md_text(event)} event is one Meta counts after deduplication (a browser + server pair is one). It "
    "matches a CRM lead by lead_id, order_id or event_id, else by fbp / hashed email within 10 minutes. "
    f"Qualified = stage qualified or won, or a qualified date. Goal: at least {units.goal(goal)} of the "
    f"{md_text(event)} events Meta counts should become qualified leads (the qualified share; the CRM's "
    "qualification rate of matched leads is shown without a goal). The event-name filter does not apply "
    "here."
)
tiles = st.columns(6)
tiles[0].metric(
    "Lead events (Meta)",
    f"{funnel.lead_events:,}",
    help="Lead events Meta counts after its deduplication.",
    border=True,
)
tiles[1].metric(
    "Became CRM leads",
    units.share(funnel.match_rate),
    help=f"{funnel.matched_events:,} of {funnel.lead_events:,} Lead events match a CRM lead.",
    border=True,
)
tiles[2].metric(
    f"Qualified share (goal {units.goal(goal)})",
    units.share(funnel.qualified_event_share),
    help=f"{funnel.qualified_events:,} of the {funnel.lead_events:,} Lead events Meta counted became "
    "qualified CRM leads: what Meta's optimization learns from.",
    border=True,
)
tiles[3].metric(
    "CRM qualification rate",
    units.share(funnel.qualification_rate),
    help=f"{funnel.qualified_leads:,} of {funnel.matched_leads:,} matched CRM leads qualified (a CRM-side "
    "figure: Lead events with no CRM lead are not in it, so it has no goal here).",
    border=True,
)
tiles[4].metric(
    "Time to qualify",
    "—" if funnel.median_hours_to_qualify is None else f"{funnel.median_hours_to_qualify:,.1f} h",
    help="Median from the lead's creation to its qualified date, over matched leads that qualified; p90 "
    + ("—" if funnel.p90_hours_to_qualify is None else f"{funnel.p90_hours_to_qualify:,.1f} h."),
    border=True,
)
tiles[5].metric(
    "CRM leads, no event",
    f"{funnel.crm_leads_without_event:,}",
    help=f"Of {funnel.crm_leads:,} CRM leads created in this window (phone, referral, blocked tracking).",
    border=True,
)

st.plotly_chart(lead_charts.funnel(report), key="lead_funnel")

sources, forms, timing, gaps = st.tabs(["By source", "By form", "Time to qualify", "Unmatched"])
columns = {"qualified_event_share": PERCENT, "qualification_rate": PERCENT, "median_hours_to_qualify": HOURS}
with sources:
    chart = lead_charts.qualification_by_source(report)
    if chart is not None:
        st.plotly_chart(chart, key="lead_sources_chart")
    by_source = lead_charts.groups_frame(report.by_source)
    ui.table(by_source, "lead_quality_by_source", empty="No CRM lead here.", column_config=columns)
with forms:
    by_form = lead_charts.groups_frame(report.by_form)
    ui.table(by_form, "lead_quality_by_form", empty="No CRM lead here.", column_config=columns)
with timing:
    st.plotly_chart(lead_charts.time_to_qualify(report), key="lead_timing")
with gaps:
    st.subheader("Lead events with no CRM lead")
    st.caption(
        f"{funnel.unmatched_events:,} of {funnel.lead_events:,} Lead events Meta counted "
        f"({units.share(funnel.unmatched_share)}; at most {units.goal(report.unmatched_max_share)} "
        "expected): spam, "
        f"test or lost form fills Meta still optimizes on. Up to {leads.DEFAULT_LIMIT}, oldest first."
    )
    ui.table(
        api.frame(report.unmatched_events, exclude={"fingerprint", "occurrence"}),
        "lead_events_without_crm_lead",
        empty="Every Lead event matches a CRM lead.",
    )
    st.subheader("CRM leads with no Lead event")
    st.caption(
        f"Leads Meta never heard of: it cannot learn from them. Up to {leads.DEFAULT_LIMIT}, oldest first."
    )
    ui.table(
        api.frame(report.leads_without_event),
        "crm_leads_without_lead_event",
        empty="Every CRM lead in this window has a Lead event.",
    )
