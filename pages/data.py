"""Data: upload files (detected format and a preview of what would be stored before anything is written),
ingest them with a progress bar, see and undo batches, and download the quarantine."""

from __future__ import annotations

import streamlit as st

import ui
from capi_core import CapiDeskError, ReadOptions, SourceKind, delete_batch, ingest_file
from capi_core import dashboard_api as api

ui.require_frame()

SOURCES: dict[SourceKind, str] = {
    "server": "Conversions API (server) events",
    "browser": "Pixel (browser) events",
    "orders": "Shop orders (backend truth)",
    "leads": "CRM leads (backend truth)",
    "meta": "Ads Manager export (what Meta reported)",
}

st.title("Data")
for line in st.session_state.pop("data_messages", []):
    st.success(line, icon=":material/check_circle:")
if ui.is_demo():
    st.warning(
        "This is the demo store: files you load here are added to the demo data. To keep your own data "
        "apart, start the dashboard on a store of your own: `capi-desk --db my_shop.duckdb app`.",
        icon=":material/science:",
    )

# lake-scale files are not uploaded through a browser, and this process holds the tables it read at start
read_only = ui.engine().is_spark
if read_only:
    st.info(
        "This dashboard reads Spark tables, so uploads are off here: Spark ingests files where they live. "
        "Run `capi-desk --engine spark --spark-path LOCATION ingest --source server s3a://.../capi/*.jsonl` "
        "(add `--spark-remote sc://HOST:PORT` for a cluster), then restart the dashboard to see the new "
        "batches. `capi-desk --engine spark --spark-path LOCATION batches` lists them; `undo N` hides one.",
        icon=":material/info:",
    )

st.subheader("Load files")
left, middle, right = st.columns(3)
source: SourceKind = left.selectbox(
    "The files hold", list(SOURCES), format_func=SOURCES.__getitem__, key="data_source"
)
fmt = middle.selectbox(
    "Format",
    [None, *api.source_formats(source)],
    key="data_format",
    format_func=lambda f: "detect automatically" if f is None else f,
)
pixel = right.text_input("Pixel id", key="data_pixel", help="Only for files that do not name their pixel.")
options = ReadOptions(pixel_id=pixel.strip() or None)
round_no = st.session_state.setdefault("upload_round", 0)
uploads = st.file_uploader(
    "Drop one or more files (JSONL, JSON, CSV, HAR, TXT)",
    accept_multiple_files=True,
    key=f"upload_{round_no}",
    disabled=read_only,
    help="Ingest runs on the DuckDB store (see above)." if read_only else None,
)

ready = []
for upload in uploads or []:
    with st.expander(f"Preview: {upload.name}", expanded=True):
        try:
            with ui.upload_on_disk(upload) as path:
                preview = api.preview_file(path, source, fmt, options)
        except CapiDeskError as err:
            ui.show_error(err)
            continue
        st.text(f"Detected format: {preview.format} — {preview.description}")
        st.caption("What each stored field is read from, and how many preview rows fill it:")
        st.dataframe(api.frame(preview.mapping), hide_index=True, key=f"mapping_{upload.file_id}")
        st.caption(
            "The first rows as they would be stored (Ads Manager rows: per ad and day, as exported)."
            if source == "meta"
            else "The first rows as they would be stored (emails, phones and names already hashed):"
        )
        st.dataframe(preview.rows, hide_index=True, key=f"rows_{upload.file_id}")
        for line_no, reason in preview.problems:
            st.text(f"Line {line_no} would go to quarantine: {reason}")
        ready.append((upload, preview.format))

if ready and st.button(f"Ingest {len(ready)} file(s)", type="primary", key="ingest"):
    messages = []
    for upload, detected in ready:
        bar = st.progress(0.0, text=f"Reading {upload.name}…")
        try:
            # the upload's bytes exist on disk only inside this block (deleted however it ends)
            with ui.upload_on_disk(upload) as path:
                total = api.estimate_records(path)

                def advance(
                    read: int, bar: st.delta_generator.DeltaGenerator = bar, total: int = total
                ) -> None:
                    bar.progress(min(read / total, 1.0), text=f"{read:,} records read")

                def step(text: str, bar: st.delta_generator.DeltaGenerator = bar) -> None:
                    bar.progress(1.0, text=text)

                result = ingest_file(
                    ui.store(), path, source, fmt=detected, options=options, progress=advance,
                    stage=step,
                )  # fmt: skip
        except CapiDeskError as err:
            ui.show_error(err)
            st.stop()
        messages.append(result.summary)
    st.session_state["data_messages"] = messages
    st.session_state["upload_round"] = round_no + 1  # a new uploader key empties the drop zone
    st.rerun()

st.subheader("Batch history")
batches = api.batch_history(ui.store())
if not batches:
    st.caption("No file loaded yet. Drop your CAPI log, Pixel export and shop export above.")
for batch in batches[:50]:
    text, button = st.columns([5, 1], vertical_alignment="center")
    text.text(batch.summary)
    if button.button(
        "Undo",
        key=f"undo_{batch.batch_id}",
        help="Undo runs on the DuckDB store the batch was loaded into."
        if read_only
        else "Remove this file's rows from the store.",
        disabled=read_only,
    ):
        with st.status(f"Removing batch {batch.batch_id}…") as removing:
            delete_batch(ui.store(), batch.batch_id, stage=lambda text, box=removing: box.update(label=text))
        st.session_state["data_messages"] = [f"Batch {batch.batch_id} ({batch.file_name}) removed."]
        st.rerun()
if batches:
    ui.downloads(api.frame(batches), "batches", key="dl_batches")

st.subheader("Quarantine")
st.caption("Rows that could not be read, with the reason (personal data masked). Good: empty.")
ui.table(api.frame(api.quarantine(ui.store())), "quarantine", empty="No quarantined rows.")
