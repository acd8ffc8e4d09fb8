"""Reader of the HubSpot contacts export (CSV, "all properties" or a chosen view): one ``IncomingTruth``
per contact.

Columns are found by their UI labels (``Record ID``, ``Create Date``, ``Lifecycle Stage``, ``Lead Status``,
``Email``, ``Phone Number`` ...) or their internal names (``hs_object_id``, ``createdate``,
``lifecyclestage`` ...), see ``PRESET``. Duplicate column names (the all-properties export writes
``Billing Contact`` twice) are all read; a field takes the first non-empty one (``_preset``).

Status (``lead_stages``):

* ``Lifecycle Stage`` through ``HUBSPOT_LIFECYCLE`` and ``--stage-map`` (subscriber/lead/other -> new,
  MQL/SQL/opportunity -> qualified, customer/evangelist -> won);
* ``Lead Status`` refines a contact whose lifecycle stage is still ``new``-like: ``Unqualified`` ->
  disqualified, ``Open Deal`` -> qualified (and any ``--stage-map`` entry for its value);
* ``qualified_at`` is the earliest of the dates the contact became an MQL, an SQL or an opportunity
  (``Became a Marketing Qualified Lead Date`` or ``Date entered "Marketing Qualified Lead (Lifecycle Stage
  Pipeline)"`` ...); ``won_at`` the date it became a customer (or, failing that, an evangelist). These
  dates overrule the current stage as ``lead_stages`` documents.

``status_raw`` is the lifecycle stage, followed by `` / <Lead Status>`` when that is filled.

Traffic fields: ``utm_source`` from a UTM source property when the portal has one, else ``Original Traffic
Source`` (``Paid Social``, ``Organic Social`` ...); ``utm_campaign`` from a UTM campaign property, else,
for ``Paid Social`` contacts only, ``Original Traffic Source Drill-Down 2`` (which HubSpot fills with the
ad campaign for paid social); ``form`` is ``First Conversion`` (the form that created the contact), else
``Recent Conversion``; ``value`` is ``Total Revenue``.

Meta keys: ``Facebook click id`` (HubSpot's fbclid property; else an ``fbclid`` in ``First Page Seen``)
becomes the lead's ``fbc`` as Meta builds it from a click id (``_meta_keys``), dated by ``Time First Seen``
(the contact's first visit, when HubSpot saw the click), else ``Create Date``.

HubSpot's two built-in sample contacts (``Original Traffic Source Drill-Down 2`` = ``sample-contact``)
are quarantined with that reason: they are not leads, and quarantine keeps read = stored + quarantined.

Export times carry no offset (they are in the exporting user's time zone) and are taken as UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from capi_core.errors import UnreadableFileError
from capi_core.models import IncomingTruth, RowError, SourceKind
from capi_core.readers._csv import head_records, header_key, is_blank, iter_records
from capi_core.readers._preset import Columns, day_first_of
from capi_core.readers.lead_stages import (
    HUBSPOT_LEAD_STATUS,
    HUBSPOT_LIFECYCLE,
    StageMap,
    decide_status,
    stage_key,
)

if TYPE_CHECKING:
    from capi_core.readers import ReadOptions


def _entered(stage: str) -> str:
    return f'Date entered "{stage} (Lifecycle Stage Pipeline)"'


#: field -> header names (UI label, internal name, ...), best first. ``lead_status`` and
#: ``source_detail`` are this reader's own inputs, not IncomingTruth fields.
PRESET: dict[str, tuple[str, ...]] = {
    "raw_id": ("Record ID", "hs_object_id", "Contact ID", "vid"),
    "created_at": ("Create Date", "createdate"),
    "status_raw": ("Lifecycle Stage", "lifecyclestage"),
    "lead_status": ("Lead Status", "hs_lead_status"),
    "qualified_at": (
        "Became a Marketing Qualified Lead Date", _entered("Marketing Qualified Lead"),
        "hs_lifecyclestage_marketingqualifiedlead_date",
        "Became a Sales Qualified Lead Date", _entered("Sales Qualified Lead"),
        "hs_lifecyclestage_salesqualifiedlead_date",
        "Became an Opportunity Date", _entered("Opportunity"), "hs_lifecyclestage_opportunity_date",
    ),
    "won_at": (
        "Became a Customer Date", _entered("Customer"), "hs_lifecyclestage_customer_date",
        "Became an Evangelist Date", _entered("Evangelist"), "hs_lifecyclestage_evangelist_date",
    ),
    "email": ("Email", "email"),
    "phone": (
        "Phone Number", "phone", "Mobile Phone Number", "mobilephone", "WhatsApp Phone Number",
    ),
    "country": ("Country/Region Code", "Country/Region", "Country", "IP Country Code", "ip_country_code"),
    "utm_source": (
        "UTM Source", "utm_source", "Original Traffic Source", "Original Source", "hs_analytics_source",
    ),
    "utm_campaign": ("UTM Campaign", "utm_campaign"),
    "source_detail": (
        "Original Traffic Source Drill-Down 2", "Original Source Drill-Down 2", "hs_analytics_source_data_2",
    ),
    "form": (
        "First Conversion", "first_conversion_event_name",
        "Recent Conversion", "recent_conversion_event_name",
    ),
    "value": ("Total Revenue", "total_revenue"),
    "fbc": ("fbc", "_fbc"),
    "fbclid": ("Facebook click id", "hs_facebook_click_id", "fbclid"),
    "landing_url": ("First Page Seen", "hs_analytics_first_url"),
    "click_seen": ("Time First Seen", "hs_analytics_first_timestamp", "Time of First Session"),
}  # fmt: skip
_DATE_FIELDS = ("created_at", "qualified_at", "won_at", "click_seen")
_ID_KEYS = frozenset(header_key(name) for name in ("Record ID", "hs_object_id", "Contact ID"))
_CREATED_KEYS = frozenset(header_key(name) for name in PRESET["created_at"])
_LIFECYCLE_KEYS = frozenset(header_key(name) for name in PRESET["status_raw"])
_PAID_SOCIAL = stage_key("Paid Social")
_SAMPLE_CONTACT = "sample-contact"


class HubSpotContactsReader:
    """HubSpot contacts export: labels or internal property names."""

    source: SourceKind = "leads"
    format: str = "hubspot_contacts"
    description: str = "HubSpot contacts export (CSV; Record ID, Create Date, Lifecycle Stage)"

    def sniff(self, head: str, file_name: str) -> bool:
        """A header with a contact id, a create date and a lifecycle stage column."""
        rows = head_records(head, limit=1)
        if not rows:
            return False
        keys = {header_key(name) for name in rows[0]}
        return bool(keys & _ID_KEYS and keys & _CREATED_KEYS and keys & _LIFECYCLE_KEYS)

    def read(self, path: Path, options: ReadOptions) -> Iterator[IncomingTruth | RowError]:
        """One IncomingTruth per contact row; RowError for rows that cannot be read."""
        records = iter_records(path)
        _, header = next(records)
        cols = Columns.resolve(header, PRESET, options.column_map)
        cols.require(("raw_id", "created_at"), path.name, "HubSpot contacts export")
        lifecycle = StageMap(HUBSPOT_LIFECYCLE, options.stage_map)
        lead_statuses = StageMap(HUBSPOT_LEAD_STATUS, options.stage_map)
        day_first = day_first_of(path, cols, _DATE_FIELDS)
        count = 0
        for line_no, fields in records:
            if is_blank(fields):
                continue
            count += 1
            yield _contact(line_no, fields, cols, (lifecycle, lead_statuses), day_first)
        if count == 0:
            raise UnreadableFileError(
                f"{path.name} has a header but no contacts", hint="export the file again"
            )


def _contact(
    line_no: int,
    fields: list[str],
    cols: Columns,
    stages: tuple[StageMap, StageMap],
    day_first: bool | None,
) -> IncomingTruth | RowError:
    """One contact row, or the reason it cannot be read."""
    if len(fields) != len(cols.header):
        reason = f"row has {len(fields)} fields, the header has {len(cols.header)}"
        return RowError(line_no, reason, cols.masked(fields))
    raw_id = cols.value(fields, "raw_id")
    if raw_id is None:
        return RowError(line_no, f"empty contact id ({cols.name('raw_id')!r})", cols.masked(fields))
    detail = cols.value(fields, "source_detail")
    if detail == _SAMPLE_CONTACT:
        reason = f"contact {raw_id} is one of HubSpot's sample contacts ({detail}), not a lead"
        return RowError(line_no, reason, cols.masked(fields))
    try:
        created_at = cols.date(fields, "created_at", day_first)
        qualified_at = cols.earliest(fields, "qualified_at", day_first)
        won_at = cols.earliest(fields, "won_at", day_first)
        value = cols.number(fields, "value")
    except ValueError as err:
        return RowError(line_no, str(err), cols.masked(fields))
    if created_at is None:
        return RowError(line_no, f"empty creation date ({cols.name('created_at')!r})", cols.masked(fields))
    stage, refinement = cols.value(fields, "status_raw"), cols.value(fields, "lead_status")
    lifecycle, lead_statuses = stages
    stage_status = lifecycle.status(stage)
    refined = lead_statuses.lookup(refinement)
    if stage_status == "new" and refined is not None:
        stage_status = refined
    source = cols.value(fields, "utm_source")
    campaign = cols.value(fields, "utm_campaign")
    if campaign is None and stage_key(source) == _PAID_SOCIAL:
        campaign = detail
    return IncomingTruth(
        line_no=line_no,
        kind="lead",
        raw_id=raw_id,
        created_at=created_at,
        status_raw=" / ".join(text for text in (stage, refinement) if text) or None,
        status=decide_status(stage_status, qualified_at=qualified_at, won_at=won_at),
        qualified_at=qualified_at,
        won_at=won_at,
        value=value,
        email=cols.value(fields, "email"),
        phone=cols.value(fields, "phone"),
        country=cols.value(fields, "country"),
        utm_source=source,
        utm_campaign=campaign,
        form=cols.value(fields, "form"),
        fbc=cols.fbc(fields, created_at, day_first),
        source_system="hubspot",
    )


READERS: list[HubSpotContactsReader] = [HubSpotContactsReader()]
