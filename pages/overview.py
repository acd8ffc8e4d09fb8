"""Overview: the headline figures against their goals, the daily Meta-vs-backend trend, the top findings."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import streamlit as st

import ui
from capi_core import dashboard_api as api
from ui import charts

ui.require_frame()

COLORS: dict[str, Literal["green", "red", "gray"]] = {"good": "green", "bad": "red", "unknown": "gray"}

st.title("Overview")
ui.demo_banner()
scope = ui.scope()
if ui.counts(scope).counts.total == 0 and not ui.recon_summaries(scope):
    ui.empty_state(
        "Nothing to show yet for these filters. Load a CAPI log, a Pixel export and a shop export on the "
        "Data page (or widen the filters in the sidebar)."
    )
    st.stop()
report = ui.overview(scope)  # the report's sections the Overview shows, each cached on its own

window = report.window


def _minute(moment: dt.datetime | None) -> str:
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


st.caption(
    f"{report.counts.total:,} copies received (browser {report.counts.per_channel.get('browser', 0):,}, "
    f"server {report.counts.per_channel.get('server', 0):,}) with event times from "
    f"{_minute(window.first_event_time)} to {_minute(window.last_event_time)} (UTC)."
)

#: Tiles about one event, and what to load when the store has no event to speak about (else the tile
#: would read "Event event coverage").
EVENT_TILES = {
    "event_coverage": "Event coverage — load Pixel and server events to see it",
    "emq": "Estimated EMQ — load server events to see it",
}
tiles = api.headlines(report)
if api.headline_event(report) is None:
    tiles = [
        t.model_copy(update={"label": EVENT_TILES[t.key], "display": "—", "goal": "no events yet"})
        if t.key in EVENT_TILES
        else t
        for t in tiles
    ]
columns = [column for _ in range(0, len(tiles), 3) for column in st.columns(3)]  # rows of 3: labels fit
for column, tile in zip(columns, tiles, strict=False):
    column.metric(
        tile.label,
        tile.display,
        delta=tile.goal,
        delta_color=COLORS[tile.status],
        delta_arrow="off",
        help=tile.help,
        border=True,
    )

st.subheader("Meta vs backend, day by day")
recon = report.reconciliation[0] if report.reconciliation else None
if recon is None:
    ui.empty_state("Load your orders (or CRM leads) on the Data page to compare Meta with the backend.")
else:
    days = api.frame(ui.periods(scope, "day", recon.event_name, recon.kind))
    if days.empty:
        st.caption("No days with backend records or Meta copies in this window.")
    else:
        st.plotly_chart(charts.meta_vs_backend(days, recon.event_name), key="trend")

st.subheader("Top findings")
st.caption("Most severe first. Each row says what is wrong, how many copies it touches, and the fix.")
findings = api.findings_frame(report.findings[:15])
ui.table(
    findings,
    "findings",
    empty="No findings: nothing in this window breaks a rule we check.",
    column_config={"share": st.column_config.NumberColumn("share", format="percent")},
)
pages = [p for p in dict.fromkeys(api.finding_page(f.code) for f in report.findings[:15])]
for page in pages:
    ui.page_link(page, label=f"Explained on the {ui.PAGES[page][1]} page")
