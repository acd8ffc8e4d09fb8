"""Pre-flight rules, one hand-written event per rule (reference §2.2–2.9, §3.2)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from capi_core.meta.preflight import FUTURE_SKEW_S, Problem, check_event, check_events

NOW = 1_795_000_000
DAY = 86_400
EM = hashlib.sha256(b"jane@example.com").hexdigest()
FN = hashlib.sha256(b"jane").hexdigest()
GE = hashlib.sha256(b"f").hexdigest()
DB = hashlib.sha256(b"19900101").hexdigest()
CT = hashlib.sha256(b"paris").hexdigest()
UA = "Mozilla/5.0 (X11; Linux x86_64)"


def good(**changes: Any) -> dict[str, Any]:
    """A valid website Purchase; ``changes`` replace top-level fields (None deletes)."""
    event: dict[str, Any] = {
        "event_name": "Purchase",
        "event_time": NOW - 3600,
        "event_id": "order-1",
        "action_source": "website",
        "event_source_url": "https://shop.example/thanks",
        "user_data": {
            "em": [EM],
            "client_user_agent": UA,
            "client_ip_address": "203.0.113.7",
            "fbp": "fb.1.1596403881668.1116446470",
            "fbc": "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890",
        },
        "custom_data": {"value": 42.5, "currency": "EUR"},
    }
    for key, value in changes.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def with_user_data(**user_data: Any) -> dict[str, Any]:
    event = good()
    event["user_data"] = user_data
    return event


def rules(event: Any) -> list[tuple[str, str]]:
    return [(p.field, p.rule) for p in check_event(event, now=NOW)]


def test_a_good_event_has_no_problem() -> None:
    assert check_event(good(), now=NOW) == []
    offline = good(action_source="physical_store", event_source_url=None)
    offline["user_data"] = {"ph": hashlib.sha256(b"16505551212").hexdigest()}
    assert check_event(offline, now=NOW) == []


@pytest.mark.parametrize("field", ["event_name", "event_time", "action_source", "user_data"])
def test_required_fields(field: str) -> None:
    event = good(**{field: None})
    assert (field, "required") in rules(event)


def test_required_means_not_empty() -> None:
    assert ("event_name", "required") in rules(good(event_name="  "))


def test_not_an_object() -> None:
    [problem] = check_event("Purchase", index=4, now=NOW)
    assert problem.rule == "not_an_object" and problem.path == "data[4]"


def test_website_needs_url_and_user_agent() -> None:
    event = good(event_source_url=None)
    del event["user_data"]["client_user_agent"]
    assert rules(event) == [
        ("event_source_url", "required"),
        ("user_data.client_user_agent", "required"),
    ]
    assert rules(good(event_source_url="shop.example/thanks")) == [("event_source_url", "url")]


def test_non_website_does_not_need_url() -> None:
    assert rules(good(action_source="email", event_source_url=None)) == []


def test_app_events_need_app_data() -> None:
    assert ("app_data", "required") in rules(good(action_source="app"))
    app = good(action_source="app", event_source_url=None, app_data={"extinfo": []})
    assert rules(app) == [
        ("app_data.advertiser_tracking_enabled", "required"),
        ("app_data.extinfo", "required"),
    ]
    app["app_data"] = {"advertiser_tracking_enabled": 1, "extinfo": ["a2"] + [""] * 15}
    assert rules(app) == []


def test_action_source_enum() -> None:
    assert rules(good(action_source="web")) == [("action_source", "action_source_enum")]


@pytest.mark.parametrize(
    ("event_time", "rule"),
    [
        ("1795000000", "event_time_type"),
        (1_795_000_000.5, "event_time_type"),
        (True, "event_time_type"),
        (1_794_999_000_000, "event_time_milliseconds"),
        (NOW - 7 * DAY - 1, "event_time_too_old"),
        (NOW + FUTURE_SKEW_S + 1, "event_time_future"),
    ],
)
def test_event_time(event_time: Any, rule: str) -> None:
    assert rules(good(event_time=event_time)) == [("event_time", rule)]


def test_event_time_edges_pass() -> None:
    """Exactly 7 days old and exactly the skew allowance ahead are still accepted."""
    assert rules(good(event_time=NOW - 7 * DAY)) == []
    assert rules(good(event_time=NOW + FUTURE_SKEW_S)) == []


def test_too_old_fails_the_whole_request() -> None:
    [problem] = check_event(good(event_time=NOW - 8 * DAY), now=NOW)
    assert problem.whole_request and problem.subcode == 2804003
    assert "8.0 days old" in problem.reason


@pytest.mark.parametrize(
    "user_data",
    [
        {"ct": CT, "country": CT, "st": CT, "zp": CT, "ge": GE, "client_user_agent": UA},
        {"db": DB, "client_user_agent": UA},
        {"fn": FN, "ge": GE},
        {"ln": FN, "ge": GE},
        {"ge": GE},  # a subset of combination 3
        {"client_user_agent": UA},  # a subset of combinations 1 and 2
    ],
)
def test_baseline_invalid_combinations(user_data: dict[str, Any]) -> None:
    event = good(action_source="email", event_source_url=None)
    event["user_data"] = user_data
    [problem] = check_event(event, now=NOW)
    assert (problem.field, problem.rule, problem.subcode) == ("user_data", "insufficient_keys", 2804050)


def test_combination_plus_a_strong_key_is_fine() -> None:
    event = good(action_source="email", event_source_url=None)
    event["user_data"] = {"fn": FN, "ge": GE, "em": EM}
    assert rules(event) == []


def test_no_customer_information() -> None:
    event = good(action_source="email", event_source_url=None, user_data={"em": ""})
    assert rules(event) == [("user_data.em", "empty"), ("user_data", "no_customer_information")]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("jane@example.com", "not_hashed"),
        (EM.upper(), "hash_case"),
        (f" {EM}", "hash_case"),
        (EM[:63], "not_hashed"),
        (12345, "not_hashed"),
    ],
)
def test_hashed_keys_must_be_lowercase_sha256(value: Any, rule: str) -> None:
    event = good()
    event["user_data"]["em"] = value
    assert rules(event) == [("user_data.em", rule)]


def test_list_values_are_checked_one_by_one() -> None:
    event = good()
    event["user_data"]["ph"] = [EM, "+1 650 555 1212"]
    [problem] = check_event(event, index=2, now=NOW)
    assert problem.path == "data[2].user_data.ph[1]" and problem.rule == "not_hashed"


def test_reasons_never_contain_the_value() -> None:
    event = good()
    event["user_data"]["em"] = "jane@example.com"
    assert all("jane" not in str(p) for p in check_event(event, now=NOW))


def test_parameter_builder_appendix_is_accepted() -> None:
    event = good()
    event["user_data"]["em"] = f"{EM}.AQ"
    assert rules(event) == []


def test_external_id_may_be_unhashed() -> None:
    event = good()
    event["user_data"]["external_id"] = "customer-42"
    assert rules(event) == []


@pytest.mark.parametrize("key", ["fbp", "fbc", "client_ip_address", "client_user_agent"])
def test_plain_keys_must_not_be_hashed(key: str) -> None:
    event = good()
    event["user_data"][key] = EM
    assert rules(event) == [(f"user_data.{key}", "hashed_forbidden")]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("fbp", "fb.1.1596403881.1116446470"),  # seconds, not milliseconds
        ("fbc", "AbCdEfGhIjKlMnOp"),  # a bare fbclid
        ("client_ip_address", "203.0.113"),
    ],
)
def test_fbp_fbc_ip_format(key: str, value: str) -> None:
    event = good()
    event["user_data"][key] = value
    assert rules(event) == [(f"user_data.{key}", "format")]


def test_purchase_needs_value_and_currency() -> None:
    assert rules(good(custom_data={})) == [
        ("custom_data.value", "required"),
        ("custom_data.currency", "required"),
    ]
    assert rules(good(custom_data=None)) == rules(good(custom_data={}))


def test_other_events_do_not_need_value() -> None:
    assert rules(good(event_name="ViewContent", custom_data=None)) == []


@pytest.mark.parametrize(
    ("custom_data", "expected"),
    [
        ({"value": "42.50", "currency": "usd"}, []),  # Meta's own examples use both cases
        ({"value": -1, "currency": "EUR"}, [("custom_data.value", "value")]),
        ({"value": "forty", "currency": "EUR"}, [("custom_data.value", "value")]),
        ({"value": 1, "currency": "EURO"}, [("custom_data.currency", "currency")]),
        ({"value": 1, "currency": "XYZ"}, [("custom_data.currency", "currency")]),
        ({"value": 1, "currency": 978}, [("custom_data.currency", "currency")]),
    ],
)
def test_value_and_currency_format(custom_data: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert rules(good(custom_data=custom_data)) == expected


def test_ldu_options() -> None:
    assert rules(good(data_processing_options=["LDU"], data_processing_options_country=1)) == []
    assert rules(good(data_processing_options=[])) == []
    assert rules(good(data_processing_options=["GDPR"])) == [("data_processing_options", "ldu")]
    assert rules(good(data_processing_options=["LDU"])) == [("data_processing_options_country", "required")]


def test_batch_size_only_when_asked() -> None:
    """1,001 good events: one request-level problem with max_per_request=1000, none without."""
    events = [copy.deepcopy(good()) for _ in range(1001)]
    [problem] = check_events(events, now=NOW, max_per_request=1000)
    assert problem.index is None and problem.rule == "too_many_events" and problem.path == "data"
    assert check_events(events, now=NOW) == []
    assert check_events(events[:1000], now=NOW, max_per_request=1000) == []


def test_empty_list() -> None:
    assert [p.rule for p in check_events([], now=NOW)] == ["no_events"]


def test_problems_in_event_order_with_paths() -> None:
    problems = check_events([good(), good(action_source="x"), good(event_name=None)], now=NOW)
    assert [str(p) for p in problems] == [
        "data[1].action_source: action_source must be one of email, website, app, phone_call, chat, "
        "physical_store, system_generated, business_messaging, other",
        "data[2].event_name: event_name is required",
    ]
    assert isinstance(problems[0], Problem)
