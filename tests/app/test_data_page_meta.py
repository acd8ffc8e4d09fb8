"""The Data page takes Ads Manager exports (source meta, as ``capi-desk ingest --source meta``): preview,
ingest as one batch, undo."""

from __future__ import annotations

from pathlib import Path

from app_helpers import problems, texts
from conftest import AppFactory

from capi_core import dashboard_api as api
from capi_core.store import Store
from tests.conftest import FIXTURES


def test_ads_manager_export_preview_ingest_and_undo(open_app: AppFactory, scratch_db: Path) -> None:
    """ads_manager_daily.csv holds 5 per-ad-per-day rows (Ad A and Ad B on 2-4 Nov): the preview lists
    the 5 rows as read (Ad A first), the ingest stores the 5 as batch 8 (the demo store holds 7 files),
    and undo removes it again."""
    app = open_app("pages/data.py", db=scratch_db)
    app.selectbox(key="data_source").set_value("meta").run()
    assert app.selectbox(key="data_format").options == ["detect automatically", "ads_manager"]
    content = (FIXTURES / "meta" / "ads_manager_daily.csv").read_bytes()
    app.file_uploader[0].set_value(("ads.csv", content, "text/csv")).run()
    assert problems(app) == []
    assert any(line.startswith("Detected format: ads_manager") for line in texts(app))
    preview = next(df.value for df in app.dataframe if "ad" in df.value.columns)
    assert len(preview) == 5 and preview["ad"].iloc[0] == "Ad A"

    app.button(key="ingest").click().run()
    assert problems(app) == []
    (message,) = [s.value for s in app.success]
    assert message.startswith("ads.csv (ads_manager) -> batch 8: read 5, stored 5")
    app.button(key="undo_8").click().run()
    with Store(scratch_db) as store:
        assert [b.batch_id for b in api.batch_history(store)] == [7, 6, 5, 4, 3, 2, 1]
