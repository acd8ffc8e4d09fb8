"""Reader of Meta Ads Manager exports (``ingest --source meta``): what Meta *reported*, per ad per day.

An Ads Manager CSV export (Reports -> Export table data, broken down by day) has one row per ad per day:
``Day`` or ``Reporting starts`` / ``Reporting ends``, ``Campaign name``, ``Ad set name``, ``Ad name``,
``Results`` with its ``Result indicator`` (``actions:offsite_conversion.fb_pixel_purchase``),
``Purchases``, ``Purchases conversion value`` (or only ``Purchase ROAS``), ``Amount spent (EUR)``,
``Attribution setting`` and many columns this tool does not need (they are ignored). Columns are found
by their English names compared loosely (``_csv.header_key``); the spend column names the account
currency in parentheses.

Decisions:

- One row must be one day: a row whose ``Reporting starts`` differs from ``Reporting ends`` (an export
  without the daily breakdown) is quarantined, saying how to export by day.
- A count or value column that exists but is empty means 0 (Ads Manager leaves cells empty when nothing
  happened); a column that is absent stays unknown (None).
- Purchase value: ``Purchases conversion value`` when exported, else ``Purchase ROAS x Amount spent``
  (basis ``roas_x_spend``, rounded to cents), so a default export still gives a value.
- Numbers: ``_csv.parse_number`` spellings; in a semicolon- or tab-separated export (a European locale)
  a comma is the decimal mark (``1.234,5`` and ``0,297083`` alike).
- ``Attribution setting`` ``-`` (no delivery) is stored as no setting.

It only parses; storage is ``ingest.py``'s (table ``meta_reported``, ``store.META_REPORTED_COLUMNS``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capi_core.errors import UnreadableFileError
from capi_core.models import RowError, SourceKind
from capi_core.privacy import mask_text
from capi_core.readers._csv import (
    NULL_TEXTS,
    clean,
    head_records,
    header_key,
    is_blank,
    iter_records,
    masked_row,
    parse_datetime,
    parse_number,
    value_error_reason,
)
from capi_core.readers._io import head_bytes

if TYPE_CHECKING:
    from capi_core.readers import ReadOptions

#: Reported field -> header names (compared with ``header_key``) that hold it, most specific first.
ALIASES: dict[str, tuple[str, ...]] = {
    "day": ("day", "date"),
    "reporting_starts": ("reporting_starts",),
    "reporting_ends": ("reporting_ends",),
    "campaign": ("campaign_name", "campaign"),
    "adset": ("ad_set_name", "ad_set", "adset_name"),
    "ad": ("ad_name", "ad"),
    "ad_id": ("ad_id",),
    "result_indicator": ("result_indicator", "result_type"),
    "results": ("results",),
    "attribution_setting": ("attribution_setting",),
    "purchases": ("purchases", "website_purchases"),
    "purchase_value": (
        "purchases_conversion_value", "purchase_conversion_value", "website_purchases_conversion_value",
        "purchases_value",
    ),
    "roas": (
        "purchase_roas_return_on_ad_spend", "website_purchase_roas_return_on_ad_spend", "purchase_roas",
    ),
    "leads": ("leads", "meta_leads", "website_leads"),
    "impressions": ("impressions",),
    "currency": ("currency",),
}  # fmt: skip
_COUNT_FIELDS = ("results", "purchases", "purchase_value", "roas", "leads", "impressions")
#: ``Amount spent (EUR)`` -> the spend column and the account currency.
_SPEND = re.compile(r"^amount spent(?:\s*\(([A-Za-z]{3})\))?$", re.IGNORECASE)
#: Header keys only an Ads Manager export has (one of them, plus a day column, identifies the format).
_MARKERS = ("reporting_starts", "result_indicator", "attribution_setting", "cost_per_result", "ad_set_name")
_LOCAL_DECIMAL = re.compile(r"^-?[\d.\s\u00a0]*\d,\d+$")


@dataclass(slots=True)
class ReportedRow:
    """One Ads Manager row (one ad, one day) as the export had it."""

    line_no: int
    day: dt.datetime
    pixel_id: str | None = None
    campaign: str | None = None
    adset: str | None = None
    ad: str | None = None
    ad_id: str | None = None
    result_indicator: str | None = None
    results: float | None = None
    attribution_setting: str | None = None
    purchases: float | None = None
    purchase_value: float | None = None
    purchase_value_basis: str | None = None
    leads: float | None = None
    spend: float | None = None
    impressions: float | None = None
    currency: str | None = None

    def as_row(self) -> dict[str, Any]:
        """The ``meta_reported`` columns of this row (without batch bookkeeping)."""
        return asdict(self)


def _columns(header: list[str]) -> tuple[dict[str, int], int | None, str | None]:
    """(field -> column index, spend column index, currency named in the spend header)."""
    keys = [header_key(name) for name in header]
    found: dict[str, int] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            if alias in keys:
                found[field] = keys.index(alias)
                break
    for index, name in enumerate(header):
        if match := _SPEND.match(name.strip()):
            return found, index, match.group(1).upper() if match.group(1) else None
    return found, None, None


def looks_like_ads_manager(header: list[str]) -> bool:
    """True for a header with a day column and a column only Ads Manager exports have."""
    keys = {header_key(name) for name in header}
    has_day = bool(keys & {"day", "reporting_starts"})
    has_spend = any(_SPEND.match(name.strip()) for name in header)
    return has_day and (bool(keys & set(_MARKERS)) or has_spend)


class AdsManagerReader:
    """Ads Manager export CSV, one row per ad per day."""

    source: SourceKind = "meta"
    format = "ads_manager"
    description = "Meta Ads Manager export CSV (per ad per day: Results, Purchases, Attribution setting)"

    def sniff(self, head: str, file_name: str) -> bool:
        rows = head_records(head, limit=2)
        return bool(rows) and looks_like_ads_manager(rows[0])

    def read(self, path: Path, options: ReadOptions) -> Iterator[ReportedRow | RowError]:
        records = iter_records(path)
        first = next(records, None)
        if first is None or not looks_like_ads_manager(first[1]):
            raise UnreadableFileError(
                f"{path.name}: not an Ads Manager export (no Day or Reporting starts column)",
                hint="in Ads Manager, Reports -> Export table data -> CSV, with Breakdown -> By time -> Day",
            )
        header = first[1]
        columns, spend_at, spend_currency = _columns(header)
        decimal_comma = _delimiter_is_local(head_bytes(path).decode("utf-8", errors="replace"))
        for line_no, fields in records:
            if is_blank(fields):
                continue
            if len(fields) != len(header):
                yield RowError(
                    line_no,
                    f"{len(fields)} fields where the header has {len(header)}",
                    masked_row(fields, frozenset(), len(header)),
                )
                continue
            try:
                yield _row(line_no, fields, columns, spend_at, spend_currency, decimal_comma, options)
            except ValueError as err:
                yield RowError(line_no, mask_text(str(err)), masked_row(fields, frozenset(), len(header)))


def _delimiter_is_local(head: str) -> bool:
    first_line = head.lstrip("\ufeff").split("\n", 1)[0]
    return max(first_line.count(";"), first_line.count("\t")) > first_line.count(",")


def _number(text: str | None, decimal_comma: bool) -> float | None:
    value = (clean(text) or "").replace("\u00a0", "").replace(" ", "")
    if value.lower() in NULL_TEXTS:
        return None
    if decimal_comma and _LOCAL_DECIMAL.match(value):
        return float(value.replace(".", "").replace(",", "."))
    return parse_number(value)


def _row(
    line_no: int,
    fields: list[str],
    columns: dict[str, int],
    spend_at: int | None,
    spend_currency: str | None,
    decimal_comma: bool,
    options: ReadOptions,
) -> ReportedRow:
    """One row, or ValueError naming the column that could not be read."""

    def text(field: str) -> str | None:
        return clean(fields[columns[field]]) if field in columns else None

    def number(field: str, index: int | None = None) -> float | None:
        at = columns.get(field) if index is None else index
        if at is None:
            return None  # the export has no such column: unknown, not 0
        try:
            found = _number(fields[at], decimal_comma)
        except ValueError:
            raise ValueError(value_error_reason(field, fields[at], "not a number")) from None
        return 0.0 if found is None else found

    day = _day(text)
    spend = number("spend", spend_at) if spend_at is not None else None
    figures = {field: number(field) for field in _COUNT_FIELDS}
    value, basis = figures["purchase_value"], "reported" if "purchase_value" in columns else None
    if value is None and figures["roas"] is not None and spend is not None:
        value, basis = round(figures["roas"] * spend, 2), "roas_x_spend"
    setting = text("attribution_setting")
    return ReportedRow(
        line_no=line_no,
        day=day,
        pixel_id=options.pixel_id,
        campaign=text("campaign"),
        adset=text("adset"),
        ad=text("ad"),
        ad_id=text("ad_id"),
        result_indicator=text("result_indicator"),
        results=figures["results"],
        attribution_setting=None if setting is None or setting.lower() in NULL_TEXTS else setting,
        purchases=figures["purchases"],
        purchase_value=value,
        purchase_value_basis=basis if value is not None else None,
        leads=figures["leads"],
        spend=spend,
        impressions=figures["impressions"],
        currency=(text("currency") or spend_currency or "").upper() or None,
    )


def _day(text: Callable[[str], str | None]) -> dt.datetime:
    """The row's day: ``Day`` when exported, else ``Reporting starts`` when it equals ``Reporting ends``."""
    field = "day" if text("day") is not None else "reporting_starts"
    raw = text(field)
    try:
        start = parse_datetime(raw)
        end = parse_datetime(text("reporting_ends")) if field == "reporting_starts" else start
    except ValueError as err:
        raise ValueError(value_error_reason(field, raw, f"not a day ({err})")) from None
    if start is None:
        raise ValueError(f"{field}: no day on this row")
    if end is not None and end.date() != start.date():
        raise ValueError(
            f"row covers {start.date()} to {end.date()}, not one day: export with Breakdown -> By time -> Day"
        )
    return dt.datetime.combine(start.date(), dt.time())


READER = AdsManagerReader()
READERS: tuple[AdsManagerReader, ...] = (READER,)


def get_reader(fmt: str) -> AdsManagerReader:
    """The reader for ``--format`` (only ``ads_manager`` so far)."""
    for reader in READERS:
        if reader.format == fmt:
            return reader
    known = ", ".join(reader.format for reader in READERS)
    raise UnreadableFileError(f"unknown format {fmt!r} for source meta", hint=f"use one of: {known}")


def detect(path: Path) -> AdsManagerReader:
    """The reader whose ``sniff`` accepts the file, or an error saying what a meta file looks like."""
    head = head_bytes(path).decode("utf-8", errors="replace").lstrip("\ufeff")
    for reader in READERS:
        if reader.sniff(head, path.name):
            return reader
    raise UnreadableFileError(
        f"{path.name}: not a recognised meta format (an Ads Manager export CSV)",
        hint="in Ads Manager, Reports -> Export table data -> CSV, with Breakdown -> By time -> Day",
    )
