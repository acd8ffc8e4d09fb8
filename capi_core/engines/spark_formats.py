"""Which file formats Spark ingests with its own readers, and the contract their SQL keeps.

Owns: the map from a reader format (``capi_core.readers``) to the Spark SQL file under
``capi_core/queries/spark/`` that turns the file's lines into canonical event rows, and the statement of
what such a query reads and returns (below). ``engines/spark_ingest.py`` runs them; the formats not
listed are read by the Python readers: orders and CRM exports, and HAR captures (one JSON document per
browser session, never lake-sized, so not line-based work for Spark).

Why Spark SQL files of their own rather than sqlglot translations of ``ingest_fast_*.sql``: the DuckDB
fast path is built on DuckDB macros, lambdas and ``json_type``, none of which sqlglot maps to Spark;
Spark's ``parse_json`` / VARIANT functions say the same things differently. Both are tested against the
Python reader, which stays the reference (``tests/core/test_spark_ingest*.py``).

The contract of a mapping query
-------------------------------
Reads the temp view ``_spark_lines(line_no bigint, text string)``: every line of the file, numbered from 1
as Python numbers lines, ``text`` without its line break (blank lines included).

Parameters (Spark named markers, always bound, never spliced): ``:pixel_id`` (``ReadOptions.pixel_id``,
may be null; bound as an untyped NULL literal, so cast it), ``:default_country``
(``ReadOptions.default_country``, may be null, likewise), ``:max_line`` (the longest line in characters
the Python reader accepts; longer lines must not be ``line_ok``), ``:format`` (the reader format, so one
query can serve several formats; a query may ignore it).

Returns one row per event with ``line_no``, ``pos`` (1-based position of the event in its line),
``line_ok`` (boolean, the same for every row of a line), ``secrets`` (credentials stripped from the
line, counted on ``pos`` 1 only), then every content column of ``models.EVENT_COLUMNS`` (all but
``batch_id``, ``fingerprint``, ``occurrence``, ``line_no``) with the value and type the Python reader
plus ``canonical.canonical_event`` would give it. A line the query decides holds no event (blank, a
comment, an ``fbq('init')`` call) gets one row with ``pos`` 0, ``line_ok`` true and null content.

A line with no ``line_ok`` row is read by the Python reader on the driver (as the DuckDB fast path
does): the query sets ``line_ok`` false whenever it cannot reproduce the Python result exactly (raw PII
it cannot normalize in SQL, odd JSON types, invalid JSON, anything that would be quarantined). That keeps
quarantine reasons identical and makes the SQL safe to be conservative; at scale such lines are rare.
"""

from __future__ import annotations

#: reader format -> query name (``capi_core/queries/<name>.sql``) of its Spark mapping query.
SPARK_SQL_FORMATS: dict[str, str] = {
    "pixel_beacons": "spark/ingest_pixel_beacons",
    "browser_events": "spark/ingest_browser_events",
    "fbq_jsonl": "spark/ingest_fbq_jsonl",
    # one query for the three server formats: it also takes :format (the reader format)
    "capi_log": "spark/ingest_server",
    "capi_request": "spark/ingest_server",
    "capi_events": "spark/ingest_server",
}
