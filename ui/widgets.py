"""What pages draw the same way: the demo banner, errors, empty states, tables with downloads, uploads.

Owns the one way a page shows an error (``show_error``: the message and what to do next; a busy store is a
note, not a failure), tables whose cells are text and never HTML, and an upload's bytes on disk only for
the ``with`` block that ingests them.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from capi_core import CapiDeskError, StoreBusyError
from capi_core import dashboard_api as api
from ui.frame import PAGES, page_link
from ui.store_handle import BUSY_KEY, WATCH_AFTER_BUSY, WATCH_UNTIL_KEY, is_demo, watch_store


def demo_banner() -> None:
    """The banner that says the numbers are demo numbers."""
    if is_demo():
        st.info("You are looking at demo data — load your own on the Data page.", icon=":material/science:")


def show_error(err: CapiDeskError) -> None:
    """The one way pages show an error: the message and what to do next."""
    if isinstance(err, StoreBusyError):  # not a failure: a scheduled ingest is writing
        st.warning(
            "An ingest is running on this store (another capi-desk is writing to it); this page shows its "
            "figures when it ends.",
            icon=":material/hourglass_top:",
        )
        st.session_state[BUSY_KEY] = dt.datetime.now()  # the watch reruns the page once the store is free
        st.session_state[WATCH_UNTIL_KEY] = time.monotonic() + WATCH_AFTER_BUSY
        watch_store()
        return
    st.error(str(err), icon=":material/error:")


def empty_state(message: str, page: str | None = "data") -> None:
    """A helpful empty state: what is missing and where to go next."""
    st.info(message, icon=":material/info:")
    if page is not None:
        page_link(page, label=f"Go to the {PAGES[page][1]} page")


def downloads(df: pd.DataFrame, name: str, key: str) -> None:
    """CSV (formula-escaped) and Parquet download buttons for one table."""
    left, right = st.columns(2, width=360)
    left.download_button(
        "CSV",
        api.to_csv_bytes(df),
        f"{name}.csv",
        "text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    right.download_button(
        "Parquet",
        api.to_parquet_bytes(df),
        f"{name}.parquet",
        "application/octet-stream",
        key=f"{key}_parquet",
        on_click="ignore",
        icon=":material/download:",
    )


def table(df: pd.DataFrame, name: str, *, empty: str, **config: Any) -> None:
    """A table (cells are text, never HTML) with its downloads, or ``empty`` when it has no rows."""
    if df.empty:
        st.caption(empty)
        return
    st.dataframe(df, hide_index=True, **config)
    downloads(df, name, key=f"dl_{name}")


@contextmanager
def upload_on_disk(file: Any) -> Iterator[Path]:
    """An uploaded file's bytes as a file (readers take paths) in a private temporary folder, for the
    ``with`` block only: the folder is deleted when the block ends, whatever the outcome (success, a
    CapiDeskError, any exception, ``st.stop``). Uploads hold raw exports (raw emails): nothing of them
    stays on disk between runs, after an ingest or after the dashboard exits."""
    with tempfile.TemporaryDirectory(prefix="capi-upload-") as folder:
        target = Path(folder) / api.safe_file_name(file.name)
        target.write_bytes(file.getvalue())
        yield target
