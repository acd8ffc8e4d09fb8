"""The two kinds of event copy the demo writes, and the defect tags each carries.

A copy is built by the funnel, maybe altered by one defect, then serialised by ``wire.py``. ``tags`` are
the ground truth: ``(code, detail)`` pairs the manifest tallies, one per diagnostic the copy should fire.
Data only: no randomness, no file access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Tag = tuple[str, str]


@dataclass(slots=True)
class ServerCopy:
    """One CAPI server event inside its log envelope."""

    event_name: str
    event_time: int | str  # epoch seconds normally; milliseconds for PARAM_EVENT_TIME_MS
    event_id: str | None
    sent_ms: int
    pixel_id: str
    consent: str
    url: str | None
    user_data: dict[str, Any]
    custom_data: dict[str, Any] | None
    trace: str
    example: str  # the id the manifest shows: order number for Purchase, event_id otherwise
    tags: list[Tag] = field(default_factory=list)
    test_event_code: str | None = None
    access_token: str | None = None
    error: tuple[int, str, str] | None = None  # (subcode, user title, user message) under code 100

    @property
    def sort_ms(self) -> int:
        """When Meta receives it: the log's ``sent_at``."""
        return self.sent_ms


@dataclass(slots=True)
class BrowserCopy:
    """One Pixel beacon (GET /tr/)."""

    event_name: str
    event_id: str | None
    ts_ms: int
    pixel_id: str
    url: str
    fbp: str
    fbc: str | None
    custom: list[tuple[str, str]]  # cd[...] parameters, values as text before URL-encoding
    em_hash: str | None
    counter: int
    example: str
    tags: list[Tag] = field(default_factory=list)

    @property
    def sort_ms(self) -> int:
        """When Meta receives it: the beacon's ``ts``."""
        return self.ts_ms


Copy = ServerCopy | BrowserCopy
