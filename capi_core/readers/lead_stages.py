"""CRM stage -> normalized lead status: the default table of each CRM, the user's ``--stage-map``, and the
rule that lets a record's dates overrule its current stage. Used by every lead reader.

Stages are compared loosely (``stage_key``: case, spaces, punctuation and underscores ignored), so
``Closed - Converted``, ``closed_converted`` and HubSpot's internal ``marketingqualifiedlead`` match the
labels ``Closed Converted`` and ``Marketing Qualified Lead``. The user's entries
(``ReadOptions.stage_map``, CRM stage as exported -> new|qualified|disqualified|won|lost) win over the
defaults; a stage in neither is ``new`` (no evidence that it went further).

How the status of one lead is decided (``decide_status``), in this order:

1. a ``won_at`` date (HubSpot "Became a Customer Date") makes it ``won``, whatever the stage says now;
2. a stage that means ``won`` or ``lost`` is kept (a lost lead reached the pipeline; its ``qualified_at``
   stays, so a lead-quality count of "qualified" should include ``lost`` and ``won``);
3. a ``qualified_at`` date, or a CRM conversion flag (Salesforce ``IsConverted``), makes it ``qualified``
   even when the stage has since moved to ``new``-like or ``disqualified`` stages: it did qualify, which is
   what lead quality measures; ``status_raw`` keeps the current stage;
4. otherwise the stage's status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from capi_core.errors import MappingError
from capi_core.models import LEAD_STATUSES

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def stage_key(stage: str | None) -> str:
    """A stage compared loosely: lowercase letters and digits only (``Closed - Won`` -> ``closedwon``)."""
    return _NOT_ALNUM.sub("", (stage or "").lower())


def _table(entries: Mapping[str, str]) -> dict[str, str]:
    return {stage_key(stage): status for stage, status in entries.items()}


#: Spellings any CRM (or a hand-made CSV) uses: MQL/SQL -> qualified, Closed Won -> won ...
GENERIC: dict[str, str] = _table(
    {
        "MQL": "qualified", "SQL": "qualified", "Qualified": "qualified",
        "Marketing Qualified Lead": "qualified", "Sales Qualified Lead": "qualified",
        "Opportunity": "qualified", "Closed - Converted": "qualified", "Converted": "qualified",
        "Won": "won", "Closed Won": "won", "Customer": "won",
        "Unqualified": "disqualified", "Disqualified": "disqualified",
        "Closed - Not Converted": "disqualified", "Junk": "disqualified", "Spam": "disqualified",
        "Lost": "lost", "Closed Lost": "lost",
    }
)  # fmt: skip
#: Salesforce Lead ``Status`` picklist (default values and common custom ones). Leads are never ``won``
#: in Salesforce: a converted lead becomes a contact/opportunity, so conversion means ``qualified``.
SALESFORCE: dict[str, str] = {
    **GENERIC,
    **_table(
        {
            "Open - Not Contacted": "new", "Working - Contacted": "new", "Working": "new", "New": "new",
            "Nurturing": "new", "Prospect": "new", "Open": "new",
            "Closed - Converted": "qualified", "Converted": "qualified",
            "Closed - Not Converted": "disqualified",
        }
    ),
}  # fmt: skip
#: HubSpot ``Lifecycle Stage`` (labels and internal values).
HUBSPOT_LIFECYCLE: dict[str, str] = _table(
    {
        "Subscriber": "new", "Lead": "new", "Other": "new",
        "Marketing Qualified Lead": "qualified", "Sales Qualified Lead": "qualified",
        "Opportunity": "qualified",
        "Customer": "won", "Evangelist": "won",
    }
)  # fmt: skip
#: HubSpot ``Lead Status`` (labels and internal values); it refines a contact still at a ``new`` stage.
HUBSPOT_LEAD_STATUS: dict[str, str] = _table(
    {
        "New": "new", "Open": "new", "In Progress": "new", "Attempted to Contact": "new",
        "Connected": "new", "Bad Timing": "new",
        "Open Deal": "qualified",
        "Unqualified": "disqualified",
    }
)  # fmt: skip


class StageMap:
    """Stage -> status for one CRM table: the user's entries first, then the table's defaults."""

    def __init__(self, defaults: Mapping[str, str], overrides: Mapping[str, str] | None = None) -> None:
        self.defaults = dict(defaults)
        self.overrides = validate_overrides(overrides or {})

    def lookup(self, stage: str | None) -> str | None:
        """The status a stage maps to, or None when neither the user nor the defaults know it."""
        key = stage_key(stage)
        if not key:
            return None
        return self.overrides.get(key) or self.defaults.get(key)

    def status(self, stage: str | None) -> str:
        """The status a stage maps to; ``new`` for an unknown or empty stage."""
        return self.lookup(stage) or "new"


def validate_overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    """The user's ``--stage-map`` entries keyed by ``stage_key``.

    Raises:
        MappingError: a status outside new|qualified|disqualified|won|lost, or an empty stage.
    """
    checked: dict[str, str] = {}
    allowed = ", ".join(LEAD_STATUSES)
    for stage, status in overrides.items():
        normalized = status.strip().lower()
        if normalized not in LEAD_STATUSES:
            raise MappingError(
                f"--stage-map {stage}={status}: {status!r} is not a lead status",
                hint=f"use one of: {allowed}",
            )
        key = stage_key(stage)
        if not key:
            raise MappingError(f"--stage-map {stage}={status}: the stage is empty", hint="e.g. SQL=qualified")
        checked[key] = normalized
    return checked


def decide_status(
    stage_status: str,
    *,
    qualified_at: dt.datetime | None = None,
    won_at: dt.datetime | None = None,
    converted: bool = False,
) -> str:
    """A lead's status from its stage's status and its dates (rules 1-4 of the module docstring)."""
    if won_at is not None:
        return "won"
    if stage_status in ("won", "lost"):
        return stage_status
    if qualified_at is not None or converted:
        return "qualified"
    return stage_status
