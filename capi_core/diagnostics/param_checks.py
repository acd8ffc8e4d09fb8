"""Parameter diagnostics (SPEC §5, PARAM_*): required parameters, event_time, value, currency, names.

Each rule follows what Meta states, with the page beside it: a requirement Meta does not state is at most a
low-severity hint (PARAM_VALUE_CURRENCY_UNPAIRED), never PARAM_MISSING_REQUIRED, unless the pixel's event
contract asks for it.

Every check reads ``capi_core.metrics.completeness`` (whose SQL holds the parameter rules, and which
marks as required what Meta or the pixel's event contract requires) or the
per-name counts of ``quality_event_names.sql``; none decides validity itself. Findings are per pixel x
event_name x channel ("<n> of <copies> <event> <channel> copies <what>", ``_copies_finding``). The
checks that count one completeness outcome of one parameter (milliseconds, stale or future event_time, a
malformed currency or value) are each one ``_outcome_check`` call. ``user_data`` without any key is left
to MATCH_INSUFFICIENT_KEYS, which covers it together with the too-broad combinations Meta rejects.

PARAM_NONSTANDARD_EVENT_NAME: a name is a near-miss of a standard event (reference §6) when it differs
from one only in case, spaces, underscores or hyphens (``purchase``, ``AddToCart ``, ``add_to_cart``,
``Add To Cart``) or is the GA4 name of one (``begin_checkout`` -> InitiateCheckout); other custom names
are fine.
"""

from __future__ import annotations

import re

from capi_core.diagnostics.registry import CHECKS, CheckFn, Finding, Severity, check
from capi_core.metrics.completeness import CompletenessRow, completeness
from capi_core.metrics.quality_sql import examples, run_quality
from capi_core.models import Scope
from capi_core.store import Store

#: Meta's standard events (reference §6).
STANDARD_EVENTS: tuple[str, ...] = (
    "AddPaymentInfo", "AddToCart", "AddToWishlist", "CompleteRegistration", "Contact", "CustomizeProduct",
    "Donate", "FindLocation", "InitiateCheckout", "Lead", "Purchase", "Schedule", "Search", "StartTrial",
    "SubmitApplication", "Subscribe", "ViewContent", "PageView",
)  # fmt: skip
#: GA4 event names a tag may forward unmapped (the mapping vendors apply, reference §2.7.4).
GA4_NAMES: dict[str, str] = {
    "purchase": "Purchase", "add_to_cart": "AddToCart", "begin_checkout": "InitiateCheckout",
    "add_payment_info": "AddPaymentInfo", "add_to_wishlist": "AddToWishlist", "generate_lead": "Lead",
    "view_item": "ViewContent", "sign_up": "CompleteRegistration", "page_view": "PageView",
    "search": "Search",
}  # fmt: skip
_SEPARATORS = re.compile(r"[\s_\-]+")


def _squash(name: str) -> str:
    return _SEPARATORS.sub("", name).lower()


_SQUASHED = {_squash(name): name for name in STANDARD_EVENTS}


def intended_standard_name(name: str) -> str | None:
    """The standard event a near-miss ``name`` stands for; None for standard names and other custom names."""
    if name in STANDARD_EVENTS:
        return None
    return GA4_NAMES.get(name.strip().lower()) or _SQUASHED.get(_squash(name))


def _copies_finding(code: str, row: CompletenessRow, count: int, found: list[str], what: str) -> Finding:
    """A finding on ``count`` of the copies of one parameter of one pixel x event x channel: "<count> of
    <copies> <event> <channel> copies <what>"."""
    return CHECKS[code].finding(
        f"{count} of {row.copies} {row.event_name} {row.channel} copies {what}",
        count=count,
        share=count / row.copies,
        examples=found,
        pixel_id=row.pixel_id,
        event_name=row.event_name,
        channel=row.channel,
    )


def _outcome_check(
    code: str, severity: Severity, description: str, fix: str, *, parameter: str, outcome: str, what: str
) -> CheckFn:
    """Register the check ``code`` that counts, per pixel x event x channel, the copies whose
    ``parameter`` has the completeness ``outcome``: "<n> of <copies> <event> <channel> copies <what>"."""

    @check(code, severity, description, fix)
    def copies_with_outcome(store: Store, scope: Scope) -> list[Finding]:
        return [
            _copies_finding(code, row, row.outcomes[outcome], row.examples.get(outcome, []), what)
            for row in completeness(store, scope, by_pixel=True)
            if row.parameter == parameter and row.outcomes.get(outcome)
        ]

    return copies_with_outcome


@check(
    "PARAM_MISSING_REQUIRED",
    "high",
    "Copies without a parameter Meta requires where it applies (event_name, event_time, action_source on "
    "server copies, event_source_url and client_user_agent on server website copies, value and currency "
    "on Purchase), or that the pixel's event contract requires for the event (e.g. event_id, or value on "
    "an event optimized for value); one finding per parameter. Each requirement cites its Meta page "
    "(CompletenessRow.source).",
    "Name an owner for each required parameter in the event contract and have the sending code fill it "
    "from the order or page it already has; validate payloads against the contract before they are sent.",
)
def param_missing_required(store: Store, scope: Scope) -> list[Finding]:
    """One finding per pixel x event x channel x required parameter with missing copies."""
    findings = []
    for row in completeness(store, scope, by_pixel=True):
        missing = row.outcomes.get("missing", 0)
        if row.requirement != "required" or row.parameter == "user_data" or not missing:
            continue
        findings.append(
            _copies_finding(
                "PARAM_MISSING_REQUIRED",
                row,
                missing,
                row.examples.get("missing", []),
                f"lack {row.parameter} (required on {row.applies_to})",
            )
        )
    return findings


param_event_time_ms = _outcome_check(
    "PARAM_EVENT_TIME_MS",
    "critical",
    "event_time sent in milliseconds: Meta expects Unix seconds and reads the value as a time far in the "
    "future, so the event (and its whole request) fails.",
    "Fix the sender's event contract to send event_time as integer Unix seconds (divide JavaScript "
    "Date.now() by 1000 and floor it); the owner of the CAPI integration should add a unit test for it.",
    parameter="event_time",
    outcome="milliseconds",
    what="send event_time in milliseconds",
)


#: Meta's words on event_time's type, and where they are (PARAM_EVENT_TIME_FORMAT quotes them).
EVENT_TIME_TYPE_QUOTE = '"event_time integer Required. A Unix timestamp in seconds"'
SERVER_EVENT_PAGE = (
    "https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/server-event"
)
#: completeness outcomes of event_time that are not the integer Meta documents, and how to say so.
_TIME_FORMATS = {
    "iso_text": "ISO 8601 text",
    "epoch_text": "epoch digits as a JSON string",
    "malformed": "unreadable",
}


@check(
    "PARAM_EVENT_TIME_FORMAT",
    "critical",
    f"Server copies whose event_time is not the integer Meta documents ({EVENT_TIME_TYPE_QUOTE}, "
    f"{SERVER_EVENT_PAGE}): ISO 8601 text, epoch digits sent as a JSON string, or a value that reads as no "
    "time. Meta's Python Business SDK refuses them ('Event.event_time must be an int'); like milliseconds, "
    "the sandbox answers them with code 100 (invalid parameter), and 'If any event you send in a batch is "
    "invalid, we reject the entire batch' (using-the-api page). The copy is stored with the time read from "
    "it, as evidence.",
    "Have the sender's owner send event_time as a JSON integer of Unix seconds (not a string, not a date); "
    "write the type into the event contract and validate payloads before they are sent (capi-desk push "
    "runs the same check).",
)
def param_event_time_format(store: Store, scope: Scope) -> list[Finding]:
    """One finding per pixel x event x channel whose copies send event_time in a type Meta does not take."""
    findings = []
    for row in completeness(store, scope, by_pixel=True):
        found = {o: row.outcomes.get(o, 0) for o in _TIME_FORMATS if row.outcomes.get(o)}
        if row.parameter != "event_time" or not found:
            continue
        count = sum(found.values())
        kinds = ", ".join(f"{_TIME_FORMATS[o]}: {n}" for o, n in found.items())
        found_examples = [e for outcome in found for e in row.examples.get(outcome, [])]
        findings.append(
            _copies_finding(
                "PARAM_EVENT_TIME_FORMAT",
                row,
                count,
                sorted(found_examples),
                "send event_time as something other than an integer of Unix seconds "
                f"({kinds}); Meta documents {EVENT_TIME_TYPE_QUOTE}",
            )
        )
    return findings


param_event_time_stale = _outcome_check(
    "PARAM_EVENT_TIME_STALE",
    "critical",
    "event_time more than 7 days before Meta received the copy: Meta rejects the whole request that "
    "carries it (subcode 2804003).",
    "Send events as they happen (within an hour); the owner of retries and backfills must drop events "
    "older than 7 days before sending, as the event contract's time rule says, so one stale event cannot "
    "sink a batch.",
    parameter="event_time",
    outcome="stale",
    what="reached Meta more than 7 days after their event_time",
)
param_event_time_future = _outcome_check(
    "PARAM_EVENT_TIME_FUTURE",
    "medium",
    "event_time more than 5 minutes after the copy was received (Meta documents no future limit; 5 "
    "minutes of clock skew are tolerated): a time zone or clock bug in the sender.",
    "Have the sender's owner build event_time from a UTC clock (Unix seconds), never from a local time "
    "string; add the rule to the event contract.",
    parameter="event_time",
    outcome="future",
    what="carry an event_time more than 5 minutes after they were sent",
)
param_invalid_currency = _outcome_check(
    "PARAM_INVALID_CURRENCY",
    "high",
    "custom_data.currency present but not an ISO 4217 code: Meta cannot value the conversion.",
    "Send the order's ISO 4217 code (USD, EUR) from the shop's order record, not a symbol or a display "
    "name; pin the allowed codes in the event contract.",
    parameter="currency",
    outcome="malformed",
    what="carry a currency that is not ISO 4217",
)
param_invalid_value = _outcome_check(
    "PARAM_INVALID_VALUE",
    "high",
    "custom_data.value present but not a non-negative number (text, a formatted amount, a negative or "
    "non-finite number): value optimization and ROAS break.",
    "Send value as a plain non-negative number (12.5, not '12,50 €') taken from the order total the event "
    "contract names; the integration's owner should validate it before sending.",
    parameter="value",
    outcome="malformed",
    what="carry a value that is not a non-negative number",
)


VALUE_OPTIMIZATION_QUOTE = (
    '"Value and currency should be added to existing events you want to use value optimization for"'
)
VALUE_OPTIMIZATION_PAGE = (
    "https://developers.facebook.com/documentation/ads-commerce/conversions-api/guides/value-optimization"
)


@check(
    "PARAM_VALUE_CURRENCY_UNPAIRED",
    "low",
    "Copies of an event other than Purchase that carry currency without value, or value without currency. "
    "Meta requires both only on Purchase and on events used for value optimization "
    f"({VALUE_OPTIMIZATION_QUOTE}, {VALUE_OPTIMIZATION_PAGE}); no Meta source says such a copy is rejected, "
    "so this is a hint. A pixel's event contract that requires value (or currency) on the event turns it "
    "into PARAM_MISSING_REQUIRED.",
    "If the event is used for value optimization, have its owner send value and currency together (the "
    "same on the Pixel and the server copy) and require both in the event contract; otherwise drop the "
    "lone currency or value.",
)
def param_value_currency_unpaired(store: Store, scope: Scope) -> list[Finding]:
    """One finding per pixel x event x channel x parameter: the missing half of a value/currency pair."""
    findings = []
    for row in completeness(store, scope, by_pixel=True):
        missing = row.outcomes.get("missing", 0)
        if row.parameter not in ("value", "currency") or row.requirement != "recommended" or not missing:
            continue
        other = "currency" if row.parameter == "value" else "value"
        findings.append(
            _copies_finding(
                "PARAM_VALUE_CURRENCY_UNPAIRED",
                row,
                missing,
                row.examples.get("missing", []),
                f"carrying a value or a currency send {other} without {row.parameter}; Meta requires the "
                "pair only on Purchase and on events used for value optimization "
                f"({VALUE_OPTIMIZATION_QUOTE})",
            )
        )
    return findings


@check(
    "PARAM_NONSTANDARD_EVENT_NAME",
    "high",
    "An event name that is a near-miss of a standard event (case, spacing, underscores, or a GA4 name such "
    "as purchase / add_to_cart / begin_checkout): Meta treats it as a custom event, so it neither "
    "optimizes as the standard event nor deduplicates with copies under the right name.",
    "Map the name to the standard event in the tag or server code that owns it, and write the exact name "
    "into the event contract so the Pixel and CAPI copies share event_name and event_id.",
)
def param_nonstandard_event_name(store: Store, scope: Scope) -> list[Finding]:
    """One finding per pixel x channel x near-miss name, naming the intended standard event."""
    rows = run_quality(store, "quality_event_names", scope)
    families: dict[tuple[str | None, str, str], int] = {}
    for row in rows:
        intended = intended_standard_name(row["event_name"]) or row["event_name"]
        key = (row["pixel_id"], row["channel"], intended)
        families[key] = families.get(key, 0) + row["copies"]
    findings = []
    for row in rows:
        intended = intended_standard_name(row["event_name"])
        if intended is None:
            continue
        total = families[(row["pixel_id"], row["channel"], intended)]
        findings.append(
            CHECKS["PARAM_NONSTANDARD_EVENT_NAME"].finding(
                f"{row['copies']} {row['channel']} copies are named {row['event_name']!r}; "
                f"the standard event is {intended!r}",
                count=row["copies"],
                share=row["copies"] / total,
                examples=examples(row["examples"]),
                pixel_id=row["pixel_id"],
                event_name=row["event_name"],
                channel=row["channel"],
            )
        )
    return findings
