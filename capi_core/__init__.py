"""CAPI Signal Desk core: readers, canonical DuckDB store, Meta's dedup model, metrics and report.

This package never imports streamlit; pages and the CLI sit on top of it.
"""

__version__ = "0.1.0"
