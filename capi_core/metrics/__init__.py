"""Thin Python over the metric SQL: each module returns typed results for pages and the report."""
