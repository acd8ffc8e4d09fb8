"""Shapes that cross module boundaries: what readers hand to ingest, the canonical columns, scopes.

Readers parse a file format into ``IncomingEvent`` / ``IncomingTruth`` (raw values, exactly as the file
had them); ``canonical.py`` turns those into canonical rows (normalized, hashed, checked). These are plain
slotted dataclasses rather than pydantic models because millions of them are built per ingest; the
pydantic models live where values are few (scope, report results).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

SourceKind = Literal["server", "browser", "orders", "leads", "meta"]  # meta = Ads Manager reporting
Channel = Literal["browser", "server"]
TruthKind = Literal["order", "lead"]

#: user_data keys Meta wants hashed (reference §2.4).
HASHED_KEYS: tuple[str, ...] = (
    "em", "ph", "fn", "ln", "ct", "st", "zp", "country", "db", "ge", "external_id",
)  # fmt: skip
#: user_data keys Meta wants as sent, never hashed.
PLAIN_KEYS: tuple[str, ...] = ("fbp", "fbc", "client_ip_address", "client_user_agent", "lead_id")
MATCH_KEYS: tuple[str, ...] = HASHED_KEYS + PLAIN_KEYS
#: Per-key format verdicts stored in ``<key>_check`` columns.
KEY_VERDICTS: tuple[str, ...] = ("valid", "missing", "malformed", "raw_pii", "hashed_forbidden")


@dataclass(slots=True)
class IncomingEvent:
    """One event copy as a reader found it (values raw, as sent)."""

    line_no: int
    channel: Channel
    event_name: str | None
    event_time_raw: Any = None
    event_id: str | None = None
    pixel_id: str | None = None
    sent_at: dt.datetime | None = None
    action_source: str | None = None
    event_source_url: str | None = None
    test_event_code: str | None = None
    consent: str | None = None
    data_processing_options: list[str] | None = None
    user_data: dict[str, Any] = field(default_factory=dict)
    custom_data: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] | None = None
    secrets_stripped: int = 0


@dataclass(slots=True)
class IncomingTruth:
    """One backend record (order or lead) as a reader found it (PII still raw here, never stored)."""

    line_no: int
    kind: TruthKind
    raw_id: str
    created_at: dt.datetime | None
    status_raw: str | None = None
    status: str | None = None
    paid_at: dt.datetime | None = None
    qualified_at: dt.datetime | None = None
    won_at: dt.datetime | None = None
    value: float | None = None
    subtotal: float | None = None
    currency: str | None = None
    email: str | None = None
    phone: str | None = None
    external_id: str | None = None
    fbp: str | None = None
    fbc: str | None = None
    country: str | None = None
    utm_source: str | None = None
    utm_campaign: str | None = None
    form: str | None = None
    sales_channel: str | None = None
    source_system: str | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be read: goes to quarantine. ``raw`` must already have PII masked;
    ``secrets`` counts the credentials masked or removed from it (they feed SECRET_IN_LOGS)."""

    line_no: int
    reason: str
    raw: str
    secrets: int = 0


#: Canonical ``events`` columns, in table order, with their DuckDB types.
EVENT_COLUMNS: dict[str, str] = {
    "batch_id": "integer",
    "fingerprint": "varchar",
    "occurrence": "integer",
    "line_no": "integer",
    "channel": "varchar",
    "pixel_id": "varchar",
    "event_name": "varchar",
    "event_id": "varchar",
    "event_time": "timestamp",
    # seconds | milliseconds | seconds_text | milliseconds_text (server: digits sent as a JSON string) |
    # iso | datetime (browser) | missing | invalid  (canonical.event_time_format)
    "event_time_format": "varchar",
    "sent_at": "timestamp",
    "received_at": "timestamp",
    "action_source": "varchar",
    "event_source_url": "varchar",
    "test_event_code": "varchar",
    "consent": "varchar",  # granted | denied | unknown
    "data_processing_options": "varchar",  # 'LDU', '' (explicitly none) or null (absent)
    "value": "double",
    "value_raw": "varchar",
    "value_check": "varchar",  # valid | missing | malformed
    "currency": "varchar",
    "currency_check": "varchar",  # valid | missing | malformed
    "order_id": "varchar",
    "content_ids": "varchar",  # JSON array text
    "num_items": "integer",
    "content_type": "varchar",
    "status": "varchar",
    "predicted_ltv": "double",
    **{key: "varchar" for key in MATCH_KEYS},
    **{f"{key}_check": "varchar" for key in MATCH_KEYS},
    "response_events_received": "integer",
    "response_error_code": "integer",
    "response_error_subcode": "integer",
    "fbtrace_id": "varchar",
}

#: Canonical ``truth`` columns, in table order, with their DuckDB types.
TRUTH_COLUMNS: dict[str, str] = {
    "batch_id": "integer",
    "fingerprint": "varchar",
    "occurrence": "integer",
    "line_no": "integer",
    "kind": "varchar",
    "truth_id": "varchar",
    "raw_id": "varchar",
    "created_at": "timestamp",
    "paid_at": "timestamp",
    "qualified_at": "timestamp",
    "won_at": "timestamp",
    "status": "varchar",
    "status_raw": "varchar",
    "value": "double",
    "subtotal": "double",
    "currency": "varchar",
    "em": "varchar",
    "ph": "varchar",
    "external_id": "varchar",
    "fbp": "varchar",
    "fbc": "varchar",
    "country": "varchar",
    "utm_source": "varchar",
    "utm_campaign": "varchar",
    "form": "varchar",
    "sales_channel": "varchar",
    "source_system": "varchar",
}

#: Normalized truth statuses (SPEC §2).
ORDER_STATUSES = ("paid", "pending", "refunded", "cancelled", "test")
LEAD_STATUSES = ("new", "qualified", "disqualified", "won", "lost")


class Scope(BaseModel):
    """Which slice of the store a metric looks at. Frozen: it is a cache key for pages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    pixel_id: str | None = None
    event_names: tuple[str, ...] = ()

    def params(self) -> dict[str, Any]:
        """SQL parameters every scoped query accepts ($date_from, $date_to, $pixel_id, $event_names)."""
        start = dt.datetime.combine(self.date_from, dt.time()) if self.date_from else None
        end = dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time()) if self.date_to else None
        return {
            "date_from": start,
            "date_to": end,
            "pixel_id": self.pixel_id,
            "event_names": list(self.event_names) or None,
        }
