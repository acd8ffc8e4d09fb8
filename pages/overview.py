"""Overview: the headline figures against their goals, and the top findings."""

from __future__ import annotations

import streamlit as st

from capi_core.models import Scope
from pages import _shared

st.title("Overview")
_shared.demo_banner()

report = _shared.report(str(_shared.store().path), Scope())
if report.counts.total == 0:
    st.info(
        "The store is empty. Ingest a CAPI log, a Pixel export and a shop export with `capi-desk ingest`."
    )
    st.stop()

purchase = next((d for d in report.dedup if d.event_name == "Purchase"), None)
recon = next((r for r in report.reconciliation if r.event_name == "Purchase"), None)
cols = st.columns(4)
cols[0].metric("Copies received (browser + server)", f"{report.counts.total:,}")
if purchase is not None:
    health = purchase.dedup_health
    cols[1].metric("Purchase dedup health (goal 100 %)", "—" if health is None else f"{health:.1%}")
    coverage = purchase.event_coverage
    cols[2].metric("Purchase event coverage (goal 75 %)", "—" if coverage is None else f"{coverage:.1%}")
if recon is not None and recon.gap_pct is not None:
    cols[3].metric("Meta vs shop, Purchases (goal 0 %)", f"{recon.gap_pct:+.1%}")

st.subheader("Top findings")
st.dataframe(
    [
        {
            "severity": f.severity,
            "code": f.code,
            "event": f.event_name,
            "count": f.count,
            "message": f.message,
            "fix": f.fix,
        }
        for f in report.findings[:15]
    ],
    hide_index=True,
    width="stretch",
)
