"""A text file's lines on Spark, numbered exactly as Python numbers them, without a global sort.

Owns: ``numbered_lines``, the ``(line_no bigint, text string)`` frame the Spark mapping queries read
(``engines/spark_formats.py``). Spark reads a text file in splits (byte ranges; a line belongs to the
split it starts in) and keeps each split's lines in file order inside one partition, where
``monotonically_increasing_id`` numbers them consecutively. So one small aggregate (per split: its
first id and its line count, a row per split) gives every split's first line number, and a broadcast
join turns each line's id into its line number: the file is never sorted or moved to one partition.

Must not: read more than one file as one batch (a folder or a glob is refused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from capi_core.errors import InputError, UnreadableFileError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def numbered_lines(session: SparkSession, uri: str, name: str) -> tuple[DataFrame, bool]:
    """(lines, clean) of the one text file at ``uri``; ``name`` is how errors call it.

    Line breaks are Spark's (LF, CR, CRLF), as Python's universal newlines. ``clean`` is False when
    Spark and Python could see different text: bytes that are not UTF-8 (Python refuses the file), NUL
    (Python calls the file binary) or a byte-order mark (Python drops it); the same aggregate finds it.
    The numbering is deterministic because the file scan's
    splits and their order in partitions are the same in every job reading this frame.
    """
    from pyspark.sql import functions as F

    raw = session.read.text(uri).select(
        F.col("value").alias("text"),
        F.col("_metadata.file_path").alias("_file"),
        F.col("_metadata.file_block_start").alias("_block"),
        F.monotonically_increasing_id().alias("_seq"),
    )
    splits = (
        raw.groupBy("_file", "_block")
        .agg(
            F.count(F.lit(1)).alias("lines"),
            F.min("_seq").alias("first"),
            F.bool_and(
                F.expr("is_valid_utf8(text)")
                & ~F.col("text").contains("\x00")
                & ~F.col("text").startswith("\ufeff")
            ).alias("clean"),
        )
        .collect()
    )
    if len({row["_file"] for row in splits}) > 1:
        raise InputError(f"{name} names more than one file", hint="ingest one file per batch")
    if not splits:
        raise UnreadableFileError(f"{name} is empty", hint="export the file again")
    offsets, before = [], 0
    for row in sorted(splits, key=lambda row: int(row["_block"])):
        # line number = lines in earlier splits + position in this split (ids are consecutive in it)
        offsets.append((int(row["_block"]), before + 1 - int(row["first"])))
        before += int(row["lines"])
    bases = session.createDataFrame(offsets, "_block bigint, _base bigint")
    lines = raw.join(F.broadcast(bases), "_block").select(
        (F.col("_seq") + F.col("_base")).cast("bigint").alias("line_no"), F.col("text")
    )
    return lines, all(bool(row["clean"]) for row in splits)
