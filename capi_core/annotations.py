"""Annotations: dated notes ("checkout redeploy") that the weekly drift shows next to a shift.

Owns add / list / delete on the ``annotations`` table and the validation of a day and a note. A note is
stored exactly as given (no trimming, no escaping) and is only ever displayed as text: the renderers
escape it for Markdown and HTML, the dashboard shows it through text-only widgets. It must not compute
any metric.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from capi_core.errors import InputError
from capi_core.store import Store

#: Longest note accepted: a sentence or two, not a file pasted by mistake.
MAX_NOTE_CHARS = 500
DAY_HINT = "give the day as YYYY-MM-DD, e.g. 2026-11-04"


class Annotation(BaseModel):
    """One dated note."""

    model_config = ConfigDict(frozen=True)

    annotation_id: int
    day: dt.date
    note: str
    created_at: dt.datetime


def parse_day(value: dt.date | str) -> dt.date:
    """A calendar day from a date or an ISO ``YYYY-MM-DD`` string; InputError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text[:40]!r} is not a day", hint=DAY_HINT) from None


def _check_note(note: str) -> str:
    if not isinstance(note, str) or not note.strip():
        raise InputError("the note is empty", hint='say what happened, e.g. "checkout redeploy"')
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(
            f"the note has {len(note)} characters", hint=f"keep it under {MAX_NOTE_CHARS} characters"
        )
    return note


def add(store: Store, day: dt.date | str, note: str) -> Annotation:
    """Store a note for ``day``; returns it with its new id."""
    when = parse_day(day)
    text = _check_note(note)
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with store.transaction() as tx:
        next_id = int(
            tx.execute(
                "next annotation id", "select coalesce(max(annotation_id), 0) + 1 from annotations"
            ).scalar()
        )
        tx.execute(
            "add annotation",
            "insert into annotations (annotation_id, day, note, created_at) values ($id, $day, $note, $at)",
            {"id": next_id, "day": when, "note": text, "at": created},
        )
    return Annotation(annotation_id=next_id, day=when, note=text, created_at=created)


def list_annotations(
    store: Store, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> list[Annotation]:
    """Notes by day (then id), optionally only those from ``date_from`` to ``date_to`` inclusive."""
    rows = store.query(
        "list annotations",
        """select annotation_id, day, note, created_at
        from annotations
        where (cast($date_from as date) is null or day >= $date_from)
          and (cast($date_to as date) is null or day <= $date_to)
        order by day, annotation_id""",
        {"date_from": date_from, "date_to": date_to},
    ).dicts()
    return [Annotation(**row) for row in rows]


def delete(store: Store, annotation_id: int) -> bool:
    """Remove one note; False when there is no note with that id."""
    with store.transaction() as tx:
        found = tx.execute(
            "find annotation",
            "select count(*) from annotations where annotation_id = $id",
            {"id": annotation_id},
        ).scalar()
        if not found:
            return False
        tx.execute(
            "delete annotation", "delete from annotations where annotation_id = $id", {"id": annotation_id}
        )
    return True
