"""The shape of an event contract (SPEC §6, reference §2.9): one pixel's rules for each event it sends.

A contract says, per event, which business milestone triggers it, which system is its canonical source,
how its ``event_id`` is built (a machine-usable rule plus a note), the parameters it must and should
carry, the match keys it should carry, its value policy and allowed currencies, its consent requirement
and the backend truth it maps to. Only the shape and its validation live here: loading, saving and
checking stored events against a contract are ``capi_core.contracts.library``.

Validation errors name the field the way a person finds it in the YAML, e.g.
``events.Purchase.allowed_currencies[1]: 'usd ' is not an ISO 4217 code`` (``field_errors``).
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from capi_core.models import MATCH_KEYS

#: Parameters the validator can check on stored copies, in the order the completeness report lists them
#: (the first 14 are Meta's required and recommended ones, reference §2.9), then further custom_data fields
#: and the single user_data keys.
PARAMETERS: tuple[str, ...] = (
    "event_name", "event_time", "action_source", "user_data", "event_source_url", "client_user_agent",
    "value", "currency", "event_id", "external_id", "fbp", "fbc", "client_ip_address", "em/ph",
    "order_id", "content_ids", "content_type", "num_items", "predicted_ltv", "status",
    "em", "ph", "fn", "ln", "ct", "st", "zp", "country", "db", "ge", "lead_id",
)  # fmt: skip
#: How an event's event_id is built (the dedup key both channels must share, reference §1.1).
EVENT_ID_RULES: dict[str, str] = {
    "order_id_without_hash": "event_id = the order number without '#' (order #1042 -> 1042)",
    "order_id": "event_id = custom_data.order_id exactly as sent",
    "lead_id": "event_id = the CRM lead id (user_data.lead_id when sent)",
    "uuid": "event_id = a UUID generated once per conversion and shared by Pixel and server",
    "any": "event_id present (any shared value)",
    "none": "no event_id rule",
}
EventIdRule = Literal["order_id_without_hash", "order_id", "lead_id", "uuid", "any", "none"]
Source = Literal["browser", "server", "crm"]
ValuePolicy = Literal["total", "subtotal"]
#: none: no rule; not_denied: never sent for a user who denied consent; granted: sent only with consent
#: logged as granted (unknown consent breaks it too).
Consent = Literal["none", "not_denied", "granted"]
Truth = Literal["order", "lead", "none"]

_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)
_PIXEL_ID = re.compile(r"[0-9]{1,32}")


def is_pixel_id(text: str) -> bool:
    """True for a Meta pixel (dataset) id: digits only. Logs carry placeholders such as ``dummyPixelId``."""
    return _PIXEL_ID.fullmatch(text) is not None


def _suggest(value: str, options: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(value.strip(), options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _currency(value: str) -> str:
    if value not in _CURRENCIES:
        hint = " (write it upper-case, without spaces)" if value.strip().upper() in _CURRENCIES else ""
        raise ValueError(f"{value!r} is not an ISO 4217 code{hint}")
    return value


def _parameter(value: str) -> str:
    if value not in PARAMETERS:
        raise ValueError(f"{value!r} is not a parameter the validator knows{_suggest(value, PARAMETERS)}")
    return value


def _match_key(value: str) -> str:
    if value not in MATCH_KEYS:
        raise ValueError(f"{value!r} is not a user_data match key{_suggest(value, MATCH_KEYS)}")
    return value


def _event_name(value: str) -> str:
    if not value.strip():
        raise ValueError("an event name cannot be empty")
    if value != value.strip():
        raise ValueError(f"{value!r} has spaces around it: Meta would treat it as another event")
    if len(value) > 50:
        raise ValueError(f"{value!r} is longer than 50 characters (Meta's limit for custom events)")
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"{value!r} holds a control character")
    return value


Currency = Annotated[str, AfterValidator(_currency)]
Parameter = Annotated[str, AfterValidator(_parameter)]
MatchKey = Annotated[str, AfterValidator(_match_key)]
EventName = Annotated[str, AfterValidator(_event_name)]


def _no_repeats(field: str, values: list[str]) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{field}[{index}]: {value!r} is listed twice")
        seen.add(value)


class EventContract(BaseModel):
    """What one event must look like."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    milestone: str = Field(min_length=1, description="the business moment that triggers the event")
    source: Source = Field(description="canonical source: browser | server | crm")
    event_id_rule: EventIdRule = "any"
    dedup_note: str = ""
    required: list[Parameter] = []
    recommended: list[Parameter] = []
    match_keys: list[MatchKey] = []
    value_policy: ValuePolicy | None = None
    allowed_currencies: list[Currency] = []
    consent: Consent = "not_denied"
    truth: Truth = "none"

    @model_validator(mode="after")
    def _consistent(self) -> EventContract:
        for field in ("required", "recommended", "match_keys", "allowed_currencies"):
            _no_repeats(field, getattr(self, field))
        for index, name in enumerate(self.recommended):
            if name in self.required:
                raise ValueError(f"recommended[{index}]: {name!r} is already required")
        if self.milestone.strip() != self.milestone:
            raise ValueError("milestone: remove the spaces around it")
        return self


class Contract(BaseModel):
    """One pixel's event contract (``pixel_id`` None: the default contract every pixel starts from)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    pixel_id: str | None = None
    description: str = ""
    events: dict[EventName, EventContract] = {}
    #: comment lines kept above the YAML body (not part of the contract itself)
    header: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _pixel(self) -> Contract:
        if self.pixel_id is not None and not _PIXEL_ID.fullmatch(self.pixel_id):
            raise ValueError(f"pixel_id: {self.pixel_id!r} is not a pixel id (digits only)")
        seen: dict[str, str] = {}
        for name in self.events:
            other = seen.setdefault(name.lower(), name)
            if other != name:
                raise ValueError(f"events: {name!r} and {other!r} differ only in case (one event, one name)")
        return self

    def for_pixel(self, pixel_id: str | None) -> Contract:
        """This contract applied to ``pixel_id`` (the default contract adopted by a pixel)."""
        return self.model_copy(update={"pixel_id": pixel_id})


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_/]*")


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for an error in a dict key: the key itself is named
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_NAME.fullmatch(part):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text


def field_errors(err: ValidationError) -> list[str]:
    """``path: message`` per error, the path written as in the YAML (``events.Purchase.required[2]``)."""
    lines = []
    for item in err.errors():
        loc = tuple(item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        if item["type"] == "missing":
            message = "this field is required"
        # errors raised by a model validator name their own field inside the message ("required[2]: ...")
        inner, sep, rest = message.partition(": ")
        named = re.fullmatch(r"([a-z_]+)(?:\[(\d+)\])?", inner) if sep else None
        if named:
            index = () if named[2] is None else (int(named[2]),)
            loc, message = (*loc, named[1], *index), rest
        lines.append(f"{_path(loc) or '(contract)'}: {message}")
    return lines


def event_rows(contract: Contract) -> list[dict[str, Any]]:
    """One flat row per event (lists as comma-separated text) for an editable table."""
    rows = []
    for name, event in contract.events.items():
        row: dict[str, Any] = {"event": name}
        for field, value in event.model_dump().items():
            row[field] = ", ".join(value) if isinstance(value, list) else (value or "")
        rows.append(row)
    return rows


_LIST_FIELDS = ("required", "recommended", "match_keys", "allowed_currencies")


def _split(text: Any) -> list[str]:
    """Comma-separated items of a table cell, each trimmed (people type ``"USD, EUR"``)."""
    return [part.strip() for part in str(text).split(",") if part.strip()]


def contract_from_rows(
    pixel_id: str | None, rows: list[dict[str, Any]], *, description: str = "", header: str = ""
) -> tuple[Contract | None, list[str]]:
    """A contract from editable rows, or the field-named errors that stop it (rows named by event)."""
    events: dict[str, Any] = {}
    errors: list[str] = []
    for index, row in enumerate(rows):
        name = row.get("event")
        if name is None or (isinstance(name, float) and name != name) or str(name) == "":
            if any(_filled(v) for k, v in row.items() if k != "event"):
                errors.append(f"row {index + 1}.event: an event name is required")
            continue
        name = str(name)
        if name in events:
            errors.append(f"events.{name}: listed twice")
            continue
        fields: dict[str, Any] = {}
        for field, value in row.items():
            if field == "event" or not _filled(value):
                continue
            fields[field] = _split(value) if field in _LIST_FIELDS else value
        events[name] = fields
    data = {"pixel_id": pixel_id, "description": description, "events": events, "header": header}
    try:
        contract = Contract.model_validate(data)
    except ValidationError as err:
        return None, errors + field_errors(err)
    return (None, errors) if errors else (contract, [])


def _filled(value: Any) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return False
    return str(value) != ""
