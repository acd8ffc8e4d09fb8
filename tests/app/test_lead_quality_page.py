"""The Lead quality page: renders on the demo store with the figures of ``lead_report``, and explains
what to load on an empty store or one with events but no CRM export."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import metrics, problems
from conftest import AppFactory
from factories import copy, lead, load, load_truth

from capi_core import settings
from capi_core.metrics.leads import LeadReport, lead_report
from capi_core.models import Scope
from capi_core.store import Store
from capi_core.units import share as fmt_share
from capi_core.weekly_review import md_text

PAGE = "pages/lead_quality.py"


@pytest.fixture(scope="module")
def demo_leads(demo_db: Path) -> LeadReport:
    """The lead report over the whole demo store (the page's default scope)."""
    with Store(demo_db) as store:
        report = lead_report(store, Scope())
    assert report is not None
    return report


def test_renders_on_the_demo_store_with_the_report_figures(
    open_app: AppFactory, demo_leads: LeadReport
) -> None:
    """The one-sentence verdict and the tiles are the core's figures, formatted; the goal tile shows the
    same ratio as the headline (the qualified share of Lead events), the CRM's rate has no goal."""
    app = open_app(PAGE)
    assert problems(app) == []
    assert any(md_text(demo_leads.headline) in m.value for m in app.markdown)
    assert demo_leads.optimizing_on == "raw_form_fills"  # the demo's broad_audience campaign drags it down
    funnel = demo_leads.funnel
    shown = metrics(app)
    assert shown["Lead events (Meta)"] == f"{funnel.lead_events:,}"
    assert shown["Became CRM leads"] == fmt_share(funnel.match_rate)
    assert shown["Qualified share (goal 20 %)"] == fmt_share(funnel.qualified_event_share)
    assert fmt_share(funnel.qualified_event_share) in demo_leads.headline
    assert shown["CRM qualification rate"] == fmt_share(funnel.qualification_rate)
    assert shown["Time to qualify"] == f"{funnel.median_hours_to_qualify:,.1f} h"
    assert shown["CRM leads, no event"] == f"{funnel.crm_leads_without_event:,}"


def test_tables_hold_the_report_rows(open_app: AppFactory, demo_leads: LeadReport) -> None:
    """By source, by form, unmatched Lead events and CRM leads without event: one table each, with the
    report's rows (the lists are bounded by the report's limit), and the below-goal campaign named."""
    app = open_app(PAGE)
    frames = [d.value for d in app.dataframe]
    assert [len(f) for f in frames] == [
        len(demo_leads.by_source),
        len(demo_leads.by_form),
        len(demo_leads.unmatched_events),
        len(demo_leads.leads_without_event),
    ]
    by_source = frames[0].set_index("source / campaign")
    assert by_source.loc["facebook / broad_audience", "goal_status"] == "below goal"
    assert int(by_source["matched_leads"].sum()) == demo_leads.funnel.matched_leads
    assert len(app.get("plotly_chart")) == 3  # funnel, qualification per source, time to qualify


def test_empty_store_says_what_to_load(open_app: AppFactory, tmp_path: Path) -> None:
    app = open_app(PAGE, db=tmp_path / "empty.duckdb")
    assert problems(app) == []
    assert any("No CRM leads loaded" in i.value for i in app.info)
    assert not app.metric


def test_lead_events_without_crm_export_show_the_empty_state(open_app: AppFactory, tmp_path: Path) -> None:
    """Lead events alone cannot be judged: every one would look unmatched, so the page asks for the CRM."""
    db = tmp_path / "events.duckdb"
    with Store(db) as store:
        load(store, [copy("server", "Lead", "L-1", custom_data={})])
    app = open_app(PAGE, db=db)
    assert problems(app) == []
    assert any("No CRM leads loaded" in i.value for i in app.info)


def test_picking_the_lead_event_stores_it_and_recomputes(open_app: AppFactory, tmp_path: Path) -> None:
    """A store whose form fires CompleteRegistration: with the default (Lead) one Lead copy counts; picking
    CompleteRegistration stores the setting and the tiles count its 2 copies (R-1 and 'junk'): 1 of 2
    matched (50 %)."""
    db = tmp_path / "registration.duckdb"
    with Store(db) as store:
        load_truth(store, [lead("R-1", 0)])
        load(
            store,
            [
                copy("server", "CompleteRegistration", "R-1", 0, custom_data={}),
                copy("server", "CompleteRegistration", "junk", 30, custom_data={}, user_data={"fbp": "x"}),
                copy("server", "Lead", "R-1", 60, custom_data={}, user_data={"fbp": "y"}),
            ],
        )
    app = open_app(PAGE, db=db)
    assert problems(app) == []
    picker = app.selectbox(key="lead_event_picker")
    assert picker.label == "Which event marks a lead?"
    assert (picker.value, metrics(app)["Lead events (Meta)"]) == ("Lead", "1")
    picker.set_value("CompleteRegistration").run()
    assert problems(app) == []
    assert app.selectbox(key="lead_event_picker").value == "CompleteRegistration"
    assert (metrics(app)["Lead events (Meta)"], metrics(app)["Became CRM leads"]) == ("2", "50.0 %")
    with Store(db) as store:  # the app holds a writable handle: the same configuration
        assert settings.lead_event(store) == "CompleteRegistration"
