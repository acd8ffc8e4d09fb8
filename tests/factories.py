"""Builders for hand-computed fixtures: copies and truth records with sensible defaults.

Times are given as offsets in minutes from ``T0`` so a test reads like a timeline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from capi_core.ingest import IngestResult, ingest_records
from capi_core.models import IncomingEvent, IncomingTruth
from capi_core.store import Store

T0 = dt.datetime(2026, 11, 2, 12, 0, 0)  # a Monday, UTC
PIXEL = "111"
FBP = "fb.1.1762000000000.1234567890"
UA = "Mozilla/5.0 (X11; Linux x86_64)"


def at(minutes: float) -> dt.datetime:
    """T0 plus ``minutes``."""
    return T0 + dt.timedelta(minutes=minutes)


def copy(
    channel: str,
    event_name: str = "Purchase",
    event_id: str | None = "1001",
    minute: float = 0,
    *,
    sent_minute: float | None = None,
    line_no: int = 1,
    user_data: dict[str, Any] | None = None,
    custom_data: dict[str, Any] | None = None,
    **fields: Any,
) -> IncomingEvent:
    """One event copy; ``minute`` is the event time, ``sent_minute`` when Meta received it."""
    received = at(sent_minute if sent_minute is not None else minute)
    return IncomingEvent(
        line_no=line_no,
        channel=channel,  # type: ignore[arg-type]
        event_name=event_name,
        event_time_raw=int(at(minute).replace(tzinfo=dt.UTC).timestamp()),
        event_id=event_id,
        pixel_id=fields.pop("pixel_id", PIXEL),
        sent_at=received,
        action_source=fields.pop("action_source", "website"),
        event_source_url=fields.pop("event_source_url", "https://shop.example/checkout"),
        user_data={"fbp": FBP, "client_user_agent": UA} if user_data is None else user_data,
        custom_data={"value": 50.0, "currency": "USD"} if custom_data is None else custom_data,
        **fields,
    )


def order(
    raw_id: str = "#1001", minute: float = 0, *, value: float = 50.0, status: str = "paid", **fields: Any
) -> IncomingTruth:
    """One shop order created at ``minute``."""
    return IncomingTruth(
        line_no=fields.pop("line_no", 1),
        kind="order",
        raw_id=raw_id,
        created_at=at(minute),
        status=status,
        value=value,
        currency=fields.pop("currency", "USD"),
        **fields,
    )


def load(store: Store, events: list[IncomingEvent], label: str = "events") -> IngestResult:
    """Ingest copies (browser and server may be mixed) as one batch."""
    return ingest_records(store, events, "server", label=label)


def load_truth(store: Store, records: list[IncomingTruth], label: str = "truth") -> IngestResult:
    """Ingest truth records as one batch."""
    kind = "leads" if records and records[0].kind == "lead" else "orders"
    return ingest_records(store, records, kind, label=label)


def lead(
    raw_id: str = "L-1",
    minute: float = 0,
    *,
    status: str = "new",
    qualified_minute: float | None = None,
    won_minute: float | None = None,
    **fields: Any,
) -> IncomingTruth:
    """One CRM lead created at ``minute`` (qualified / won at the given minutes, when given)."""
    return IncomingTruth(
        line_no=fields.pop("line_no", 1),
        kind="lead",
        raw_id=raw_id,
        created_at=at(minute),
        status=status,
        qualified_at=at(qualified_minute) if qualified_minute is not None else None,
        won_at=at(won_minute) if won_minute is not None else None,
        **fields,
    )
