"""Automatic corrections before a test push: one test per correction, the stored copy's payload, and the
rule that a raw user_data value never appears in what is reported back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest

from capi_core.contracts.models import EventContract
from capi_core.errors import InputError
from capi_core.meta.corrections import (
    RAW_HIDDEN,
    TEST_USER_AGENT,
    Change,
    LinkedRecord,
    correct,
    linked_record,
    parse_payload,
    payload_from_row,
    stored_payload,
    stored_row,
)
from capi_core.normalize import hash_value
from capi_core.store import Store
from tests.factories import FBP, T0, UA, copy, load, load_truth, order

NOW = T0.replace(tzinfo=dt.UTC).timestamp() + 3600  # an hour after T0: T0 is inside the 7-day window
T0_S = int(T0.replace(tzinfo=dt.UTC).timestamp())
HASH = hashlib.sha256(b"buyer@example.com").hexdigest()


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_name": "Purchase",
        "event_time": T0_S,
        "event_id": "1001",
        "action_source": "website",
        "event_source_url": "https://shop.example/thank-you",
        "user_data": {"em": HASH, "fbp": FBP, "client_user_agent": UA},
        "custom_data": {"value": 50.0, "currency": "USD", "order_id": "1001"},
    }
    return {**base, **fields}


def rule(**fields: Any) -> EventContract:
    return EventContract.model_validate({"milestone": "order paid", "source": "server", **fields})


def changes(payload: dict[str, Any], **kwargs: Any) -> dict[str, Change]:
    result = correct(payload, now=NOW, **kwargs)
    return {c.field: c for c in result.changes}


def test_a_clean_event_is_left_alone() -> None:
    result = correct(
        event(), now=NOW, contract_event="Purchase", rule=rule(event_id_rule="order_id_without_hash")
    )
    assert result.changes == []
    assert result.after == result.before == event()


@pytest.mark.parametrize(
    ("sent", "contract_event", "fixed"),
    [
        ("purchase", "Purchase", "Purchase"),
        ("AddToCart ", None, "AddToCart"),
        ("add_to_cart", None, "AddToCart"),
        ("PURCHASE", None, "Purchase"),
    ],
)
def test_event_name_case(sent: str, contract_event: str | None, fixed: str) -> None:
    found = changes(event(event_name=sent), contract_event=contract_event)
    assert (found["event_name"].before, found["event_name"].after) == (sent, fixed)


def test_custom_names_stay() -> None:
    assert "event_name" not in changes(event(event_name="WishlistShared"))


def test_milliseconds_to_seconds() -> None:
    found = changes(event(event_time=T0_S * 1000 + 250))
    assert (found["event_time"].before, found["event_time"].after) == (T0_S * 1000 + 250, T0_S)
    assert "milliseconds" in found["event_time"].why


def test_iso_text_to_seconds() -> None:
    found = changes(event(event_time="2026-11-02T12:00:00Z"))
    assert found["event_time"].after == T0_S


def test_stale_time_moved_into_the_window_for_a_test_push() -> None:
    """8 days old: moved to now, and the diff says it is for the test push only."""
    stale = T0_S - 8 * 86400 + 3600
    result = correct(event(event_time=stale), now=NOW)
    [change] = result.changes
    assert (change.before, change.after, result.after["event_time"]) == (stale, int(NOW), int(NOW))
    assert "test push only" in change.why and "7-day window" in change.why
    assert correct(event(event_time=stale), now=NOW, test_push=False).changes == []


def test_future_time_moved_too() -> None:
    assert changes(event(event_time=int(NOW) + 3600))["event_time"].after == int(NOW)


@pytest.mark.parametrize(("sent", "fixed"), [("usd", "USD"), (" eur ", "EUR"), ("US$", "USD"), ("€", "EUR")])
def test_currency_upper_case(sent: str, fixed: str) -> None:
    found = changes(event(custom_data={"value": 5, "currency": sent}))
    assert (found["custom_data.currency"].before, found["custom_data.currency"].after) == (sent, fixed)


def test_ambiguous_currency_is_left_for_a_person() -> None:
    assert "custom_data.currency" not in changes(event(custom_data={"value": 5, "currency": "$"}))


@pytest.mark.parametrize(("sent", "fixed"), [("24,23", 24.23), ("12.5", 12.5)])
def test_value_text_to_number(sent: str, fixed: float) -> None:
    assert changes(event(custom_data={"value": sent, "currency": "USD"}))["custom_data.value"].after == fixed


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"event_id": None, "custom_data": {"order_id": "#1042"}}, "1042"),
        ({"event_id": "#1042", "custom_data": {}}, "1042"),
        ({"event_id": "purchase_1042", "custom_data": {"order_id": "1042"}}, "1042"),
    ],
)
def test_event_id_filled_by_the_order_rule(fields: dict[str, Any], expected: str) -> None:
    found = changes(event(**fields), rule=rule(event_id_rule="order_id_without_hash"))
    assert found["event_id"].after == expected
    assert "without '#'" in found["event_id"].why


def test_event_id_uuid_and_lead_rules() -> None:
    generated = changes(event(event_id=None), rule=rule(event_id_rule="uuid"))["event_id"].after
    assert len(generated) == 36 and generated.count("-") == 4
    lead = event(event_id="x", user_data={"lead_id": "778899", "fbp": FBP})
    assert changes(lead, rule=rule(event_id_rule="lead_id"))["event_id"].after == "778899"
    assert "event_id" not in changes(event(event_id=None), rule=rule(event_id_rule="none"))


def test_raw_pii_is_hashed_and_never_echoed() -> None:
    """A raw email and phone typed into an edited payload: normalized and hashed (Meta's rules); the
    change shows neither raw value."""
    payload = event(user_data={"em": " Buyer@Example.com ", "ph": "+1 (650) 555-1212", "fbp": FBP})
    result = correct(payload, now=NOW)
    found = {c.field: c for c in result.changes}
    assert result.after["user_data"]["em"] == HASH
    assert result.after["user_data"]["ph"] == hash_value("ph", "16505551212")
    assert found["user_data.em"].before == found["user_data.ph"].before == RAW_HIDDEN
    reported = json.dumps([c.model_dump() for c in result.changes])
    assert "Buyer" not in reported and "555-1212" not in reported


def test_upper_case_hash_is_lowered() -> None:
    found = changes(event(user_data={"em": HASH.upper(), "fbp": FBP}))
    assert found["user_data.em"].after == HASH


def test_hashed_fbp_ip_and_agent_are_dropped() -> None:
    hashed = hashlib.sha256(b"x").hexdigest()
    payload = event(
        user_data={"em": HASH, "fbp": hashed, "client_ip_address": hashed, "client_user_agent": hashed}
    )
    result = correct(payload, now=NOW)
    assert result.after["user_data"] == {"em": HASH}
    dropped = {c.field for c in result.changes if c.after is None}
    assert dropped == {"user_data.fbp", "user_data.client_ip_address", "user_data.client_user_agent"}


def test_action_source_filled_for_a_page_event() -> None:
    payload = event()
    del payload["action_source"]
    assert changes(payload)["action_source"].after == "website"


def test_the_input_is_not_modified() -> None:
    payload = event(event_name="purchase", event_time=T0_S * 1000)
    snapshot = json.dumps(payload, sort_keys=True)
    correct(payload, now=NOW)
    assert json.dumps(payload, sort_keys=True) == snapshot


# --- the stored copy as a payload ---------------------------------------------------------------------------


def test_payload_of_a_stored_copy(store: Store) -> None:
    """A server copy sent with event_time in milliseconds, value '24,23', a raw email (stored hashed) and
    a hashed fbp: the payload rebuilds what was sent (ms, the value text, hashes as stored)."""
    sent = copy(
        "server",
        "purchase",
        event_id="#1001",
        user_data={
            "em": "Buyer@Example.com",
            "fbp": hashlib.sha256(b"x").hexdigest(),
            "client_user_agent": UA,
        },
        custom_data={"value": "24,23", "currency": "usd", "order_id": "#1001", "content_ids": ["A", "B"]},
    )
    sent.event_time_raw = T0_S * 1000
    load(store, [sent])
    ref = store.query("ref", "select fingerprint, occurrence from events").rows[0]
    payload = stored_payload(store, ref[0], ref[1])
    assert payload == {
        "event_name": "purchase",
        "event_time": T0_S * 1000,
        "event_id": "#1001",
        "action_source": "website",
        "event_source_url": "https://shop.example/checkout",
        "user_data": {"em": HASH, "fbp": hashlib.sha256(b"x").hexdigest(), "client_user_agent": UA},
        "custom_data": {"value": "24,23", "currency": "usd", "order_id": "#1001", "content_ids": ["A", "B"]},
    }
    result = correct(
        payload, now=NOW, contract_event="Purchase", rule=rule(event_id_rule="order_id_without_hash")
    )
    assert [c.field for c in result.changes] == [
        "event_name",
        "event_time",
        "user_data.fbp",
        "custom_data.currency",
        "custom_data.value",
        "event_id",
    ]
    assert result.after["event_time"] == T0_S
    assert payload_from_row(stored_row(store, ref[0], ref[1])) == payload


def test_unknown_copy(store: Store) -> None:
    with pytest.raises(InputError, match="not in the store"):
        stored_row(store, "nope", 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        ("[1]", "one JSON object"),
    ],
)
def test_parse_payload_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_payload(text)


def test_browser_copy_gets_a_stand_in_agent_for_a_test_push() -> None:
    """A Pixel copy has no user agent in the logs: a test push gets a labelled stand-in; a server copy
    does not (its missing agent is a real defect for pre-flight to report)."""
    payload = event(user_data={"em": HASH, "fbp": FBP})
    found = changes(payload, channel="browser")["user_data.client_user_agent"]
    assert found.after == TEST_USER_AGENT and "test push only" in found.why
    assert "user_data.client_user_agent" not in changes(payload, channel="server")
    assert correct(payload, now=NOW, channel="browser", test_push=False).changes == []


# --- event_id from the linked backend record ----------------------------------------------------------------


def test_event_id_from_the_linked_order() -> None:
    """No order_id in the payload, no event_id: the linked order's raw id '#2296' gives '2296' under
    order_id_without_hash, as-is under order_id; the diff says where it came from."""
    payload = event(event_id=None, custom_data={"value": 50.0, "currency": "USD"})
    linked = LinkedRecord(kind="order", raw_id="#2296")
    found = changes(payload, rule=rule(event_id_rule="order_id_without_hash"), linked=linked)["event_id"]
    assert found.after == "2296"
    assert "from the order this copy is linked to" in found.why
    as_sent = changes(payload, rule=rule(event_id_rule="order_id"), linked=linked)["event_id"]
    assert as_sent.after == "#2296"
    # an order_id of the payload's own wins over the link
    own = event(event_id=None, custom_data={"order_id": "#7"})
    assert (
        changes(own, rule=rule(event_id_rule="order_id_without_hash"), linked=linked)["event_id"].after == "7"
    )
    # a lead link does not name an order
    lead_link = LinkedRecord(kind="lead", raw_id="L-9")
    assert "event_id" not in changes(
        payload, rule=rule(event_id_rule="order_id_without_hash"), linked=lead_link
    )


def test_event_id_from_the_linked_lead() -> None:
    payload = event(event_name="Lead", event_id=None, user_data={"fbp": FBP}, custom_data={})
    found = changes(
        payload, rule=rule(event_id_rule="lead_id"), linked=LinkedRecord(kind="lead", raw_id="L-778")
    )["event_id"]
    assert found.after == "L-778"
    assert "from the lead this copy is linked to" in found.why


def test_linked_record_of_a_stored_copy(store: Store) -> None:
    """A browser Purchase with no event_id and no order_id, 2 minutes after order #2296 was created with
    the same fbp: reconciliation links it by fbp (within 10 minutes), so linked_record gives '#2296'."""
    load_truth(store, [order("#2296", 0, fbp=FBP)])
    load(store, [copy("browser", event_id=None, minute=2)])
    ref = store.query("ref", "select fingerprint, occurrence from events").rows[0]
    assert linked_record(store, ref[0], ref[1]) == LinkedRecord(kind="order", raw_id="#2296")
    assert linked_record(store, "nope", 1) is None
