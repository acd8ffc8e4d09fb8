"""The Signal quality page's EMQ tab on the demo store: how close the estimate is to Meta's EMQ (issue 13,
case 4). The demo holds three Dataset Quality snapshots of its main pixel, so that pixel's points are
fitted to Meta's EMQ and the page shows the fit beside the calibrated points."""

from __future__ import annotations

from app_helpers import problems
from conftest import AppFactory

from capi_core import dashboard_api as api
from capi_core.report import Report

PAGE = "pages/signal_quality.py"


def test_the_emq_tab_shows_the_fit_to_meta(open_app: AppFactory, demo_report: Report) -> None:
    """One fit (the main pixel, 3 snapshots x 5 web events = 15 pairs), applied: its summary, one row per
    pair with Meta's EMQ and our two estimates, and the points table with a fitted column."""
    (fit,) = demo_report.match_keys.emq_fits
    assert (fit.observations, fit.applied) == (15, True)
    assert fit.fitted_mae is not None and fit.calibrated_mae is not None
    assert fit.fitted_mae <= fit.calibrated_mae
    app = open_app(PAGE)
    assert problems(app) == []
    assert fit.summary() in [c.value for c in app.caption]
    tables = {tuple(df.value.columns): df.value for df in app.dataframe}
    pairs = tables[tuple(api.emq_fit_frame(fit).columns)]
    assert pairs["Meta's EMQ"].tolist() == [p.meta_emq for p in fit.points]
    assert pairs["fitted estimate"].tolist() == [p.fitted for p in fit.points]
    weights = tables[("key", "calibrated", f"fitted, pixel {fit.pixel_id}")]
    assert weights.set_index("key")["calibrated"].to_dict() == demo_report.match_keys.emq_weights.model_dump()
    purchase = next(e for e in demo_report.match_keys.emq_estimate if e.event_name == "Purchase")
    assert purchase.weights == "mixed"  # the main pixel fitted, the mis-sent pixel calibrated
