"""Parameter, match-key and signal diagnostics: each code fires on a fixture built to carry its defect
(``test_fires_<CODE>``), and a clean fixture fires none of them. Figures are hand-counted per test."""

from __future__ import annotations

import pytest

from capi_core.diagnostics import CHECKS, Finding, run_checks
from capi_core.diagnostics.match_checks import SHARED_IP_MIN_USERS
from capi_core.diagnostics.param_checks import intended_standard_name
from capi_core.models import Scope
from capi_core.store import Store
from tests.core.test_quality import FBC, OLD_FBC, T0_MS, rich, sha
from tests.factories import FBP, UA, copy, load

OWN_CODES = (
    "PARAM_MISSING_REQUIRED", "PARAM_EVENT_TIME_MS", "PARAM_EVENT_TIME_STALE", "PARAM_EVENT_TIME_FUTURE",
    "PARAM_INVALID_CURRENCY", "PARAM_INVALID_VALUE", "PARAM_NONSTANDARD_EVENT_NAME",
    "PARAM_EVENT_TIME_FORMAT", "PARAM_VALUE_CURRENCY_UNPAIRED",
    "MATCH_UNHASHED_PII", "MATCH_MALFORMED_HASH", "MATCH_HASHED_FORBIDDEN", "MATCH_INVALID_FBC",
    "MATCH_INVALID_FBP", "MATCH_INSUFFICIENT_KEYS", "MATCH_SHARED_IP", "MATCH_FBP_MISMATCH",
    "EMQ_LOW", "FRESHNESS_DELAYED", "CONSENT_DENIED_SENT", "TEST_CODE_IN_PRODUCTION", "SECRET_IN_LOGS",
)  # fmt: skip


def clean(event_id: str, n: int = 1, **fields: object) -> list:
    """A browser + server Purchase pair with every strong key, consent granted, sent a minute later."""
    return [
        copy(
            channel,
            event_id=event_id,
            line_no=n,
            sent_minute=1,
            user_data=rich(n),
            consent="granted",
            **fields,
        )
        for channel in ("browser", "server")
    ]


def fire(store: Store, code: str) -> list[Finding]:
    return CHECKS[code].run(store, Scope())


def one(store: Store, code: str) -> Finding:
    [finding] = fire(store, code)
    assert finding.code == code
    assert finding.fix == CHECKS[code].fix
    return finding


def test_clean_fixture_fires_none_of_these_checks(store: Store) -> None:
    load(store, clean("1001", 1) + clean("1002", 2))
    assert run_checks(store, Scope(), OWN_CODES) == []


def test_registered_codes() -> None:
    assert set(OWN_CODES) <= set(CHECKS)


def test_fires_PARAM_MISSING_REQUIRED(store: Store) -> None:
    """2 server Purchase copies, one without currency -> 1 of 2 (share 0.5), example its event_id."""
    load(store, [*clean("1", 1), copy("server", event_id="2", line_no=3, custom_data={"value": 5.0})])
    finding = one(store, "PARAM_MISSING_REQUIRED")
    assert (finding.count, finding.share, finding.examples) == (1, 0.5, ["2"])
    assert "currency" in finding.message
    assert (finding.event_name, finding.channel, finding.pixel_id) == ("Purchase", "server", "111")


def test_fires_PARAM_EVENT_TIME_MS(store: Store) -> None:
    ms = copy("server", event_id="2")
    ms.event_time_raw = T0_MS
    load(store, [ms])
    assert (one(store, "PARAM_EVENT_TIME_MS").count, one(store, "PARAM_EVENT_TIME_MS").examples) == (1, ["2"])


def test_fires_PARAM_EVENT_TIME_STALE(store: Store) -> None:
    """Sent 7 days + 1 minute after the event: stale; exactly 7 days is still accepted."""
    load(
        store,
        [
            copy("server", event_id="late", sent_minute=7 * 1440 + 1),
            copy("server", event_id="ok", sent_minute=7 * 1440),
        ],
    )
    finding = one(store, "PARAM_EVENT_TIME_STALE")
    assert (finding.count, finding.share, finding.examples) == (1, 0.5, ["late"])
    assert finding.severity == "critical"


def test_fires_PARAM_EVENT_TIME_FUTURE(store: Store) -> None:
    """event_time 6 min after the send fires; 4 min is within the 5-minute tolerance."""
    load(
        store,
        [
            copy("server", event_id="f", minute=6, sent_minute=0),
            copy("server", event_id="ok", minute=4, sent_minute=0),
        ],
    )
    finding = one(store, "PARAM_EVENT_TIME_FUTURE")
    assert (finding.count, finding.examples) == (1, ["f"])


def test_fires_PARAM_INVALID_CURRENCY(store: Store) -> None:
    load(store, [copy("server", event_id="9", custom_data={"value": 5, "currency": "US Dollar"})])
    assert one(store, "PARAM_INVALID_CURRENCY").examples == ["9"]


def test_fires_PARAM_INVALID_VALUE(store: Store) -> None:
    load(store, [copy("server", event_id="9", custom_data={"value": "-3", "currency": "USD"})])
    assert one(store, "PARAM_INVALID_VALUE").examples == ["9"]


def test_fires_PARAM_NONSTANDARD_EVENT_NAME(store: Store) -> None:
    """Browser: 1 'purchase' + 3 'Purchase' -> share 1/4; the message names 'Purchase'."""
    load(
        store,
        [copy("browser", "purchase", event_id="p1")]
        + [copy("browser", "Purchase", event_id=f"P{i}", line_no=i) for i in range(3)]
        + [copy("browser", "MyCustomThing", event_id="c1")],
    )
    finding = one(store, "PARAM_NONSTANDARD_EVENT_NAME")
    assert (finding.count, finding.share, finding.examples) == (1, 0.25, ["p1"])
    assert "'Purchase'" in finding.message


@pytest.mark.parametrize(
    ("name", "intended"),
    [
        ("purchase", "Purchase"),
        ("AddToCart ", "AddToCart"),
        ("add_to_cart", "AddToCart"),
        ("Add To Cart", "AddToCart"),
        ("begin_checkout", "InitiateCheckout"),
        ("view_item", "ViewContent"),
        ("PURCHASE", "Purchase"),
        ("Purchase", None),
        ("PageView", None),
        ("MyCustomThing", None),
        ("purchase_completed", None),
    ],
)
def test_intended_standard_name(name: str, intended: str | None) -> None:
    assert intended_standard_name(name) == intended


def test_fires_MATCH_UNHASHED_PII(store: Store) -> None:
    """Raw em on a server copy fires; raw em on the browser copy (the Pixel hashes it) does not."""
    raw = {"em": "jane@example.com", "fbp": FBP}
    load(store, [copy("server", event_id="s", user_data=raw), copy("browser", event_id="b", user_data=raw)])
    finding = one(store, "MATCH_UNHASHED_PII")
    assert (finding.channel, finding.count, finding.examples) == ("server", 1, ["s"])
    assert "jane" not in finding.message and "em" in finding.message


def test_fires_MATCH_MALFORMED_HASH(store: Store) -> None:
    """An em that is neither a hash nor an email: 1 of 2 server copies."""
    load(
        store,
        [
            copy("server", event_id="bad", user_data={"em": "not-an-email", "fbp": FBP}),
            copy("server", event_id="ok"),
        ],
    )
    finding = one(store, "MATCH_MALFORMED_HASH")
    assert (finding.count, finding.share, finding.examples) == (1, 0.5, ["bad"])


def test_fires_MATCH_HASHED_FORBIDDEN(store: Store) -> None:
    load(store, [copy("server", event_id="h", user_data={"fbp": sha(FBP), "client_user_agent": UA})])
    finding = one(store, "MATCH_HASHED_FORBIDDEN")
    assert (finding.count, finding.examples) == (1, ["h"])
    assert "fbp" in finding.message


def test_fires_MATCH_INVALID_FBC(store: Store) -> None:
    """One malformed fbc (10-digit seconds), one 100 days old, one fresh: 2 of 3."""
    load(
        store,
        [
            copy("server", event_id="m", user_data={"fbp": FBP, "fbc": "fb.1.1762000000.AbC"}),
            copy("server", event_id="x", user_data={"fbp": FBP, "fbc": OLD_FBC}),
            copy("server", event_id="ok", user_data={"fbp": FBP, "fbc": FBC}),
        ],
    )
    finding = one(store, "MATCH_INVALID_FBC")
    assert (finding.count, finding.examples) == (2, ["m", "x"])
    assert "1 malformed, 1 older than 90 days" in finding.message


def test_fires_MATCH_INVALID_FBP(store: Store) -> None:
    load(
        store, [copy("browser", event_id="b", user_data={"fbp": "GA1.2.3456.7890", "client_user_agent": UA})]
    )
    assert one(store, "MATCH_INVALID_FBP").examples == ["b"]


@pytest.mark.parametrize(
    ("user_data", "fires"),
    [
        ({}, True),
        ({"client_user_agent": UA}, True),
        ({"ct": sha("paris"), "country": sha("fr"), "zp": sha("75018"), "client_user_agent": UA}, True),
        ({"db": sha("19970216"), "client_user_agent": UA}, True),
        ({"fn": sha("mary"), "ge": sha("f")}, True),
        ({"fn": sha("mary"), "ln": sha("smith"), "ge": sha("f")}, False),  # no combination holds fn + ln
        ({"db": sha("19970216"), "ge": sha("f")}, False),
        ({"em": sha("a@b.co")}, False),
        ({"client_ip_address": "203.0.113.9"}, False),
    ],
)
def test_insufficient_key_combinations(store: Store, user_data: dict[str, str], fires: bool) -> None:
    load(store, [copy("server", event_id="1", user_data=user_data)])
    assert bool(fire(store, "MATCH_INSUFFICIENT_KEYS")) is fires


def test_fires_MATCH_INSUFFICIENT_KEYS(store: Store) -> None:
    """Server copies with only UA (insufficient) and with fbp (fine); the browser copy is not checked."""
    load(
        store,
        [
            copy("server", event_id="ua", user_data={"client_user_agent": UA}),
            copy("server", event_id="ok"),
            copy("browser", event_id="b", user_data={}),
        ],
    )
    finding = one(store, "MATCH_INSUFFICIENT_KEYS")
    assert (finding.count, finding.share, finding.examples, finding.severity) == (1, 0.5, ["ua"], "critical")


def _shared_ip_store(store: Store, users: int) -> None:
    shared = [
        copy(
            "server",
            event_id=f"s{i:02d}",
            line_no=i,
            user_data={"external_id": f"u{i}", "client_ip_address": "10.0.0.1"},
        )
        for i in range(users)
    ]
    own = copy("server", event_id="own", user_data={"external_id": "x", "client_ip_address": "198.51.100.7"})
    load(store, [*shared, own])


def test_fires_MATCH_SHARED_IP(store: Store) -> None:
    """20 users on 10.0.0.1 (20 of 21 server copies); the IP is not in the finding."""
    _shared_ip_store(store, SHARED_IP_MIN_USERS)
    finding = one(store, "MATCH_SHARED_IP")
    assert (finding.count, finding.share) == (20, pytest.approx(20 / 21))
    assert finding.examples == ["s00", "s01", "s02", "s03", "s04"]
    assert "10.0.0.1" not in finding.message


def test_shared_ip_below_threshold(store: Store) -> None:
    _shared_ip_store(store, SHARED_IP_MIN_USERS - 1)
    assert fire(store, "MATCH_SHARED_IP") == []


def _fbp_pair(store: Store) -> None:
    """Browser + server Purchase 1001 a minute apart (merged by Meta), each with a different fbp."""
    other = "fb.1.1762000000000.999"
    load(
        store,
        [
            copy("browser", event_id="1001", user_data={"fbp": FBP, "client_user_agent": UA}),
            copy("server", event_id="1001", minute=1, user_data={"fbp": other, "client_user_agent": UA}),
            copy("browser", event_id="1002", line_no=2, user_data={"fbp": FBP, "client_user_agent": UA}),
            copy(
                "server",
                event_id="1002",
                line_no=2,
                minute=1,
                user_data={"fbp": FBP, "client_user_agent": UA},
            ),
        ],
    )


def test_fires_MATCH_FBP_MISMATCH(store: Store) -> None:
    """Against the copy_verdicts contract written by hand (browser kept, server discarded and merged):
    2 merged pairs, 1 with differing fbp -> count 1, share 0.5, example 1001."""
    _fbp_pair(store)
    with store.transaction() as tx:
        tx.execute("drop", "drop table if exists copy_verdicts")
        tx.execute(
            "contract",
            """create table copy_verdicts as
            select s.fingerprint, s.occurrence,
              case when s.channel = 'server' then 'discarded' else 'counted' end as verdict,
              true as merged, b.fingerprint as kept_fingerprint, b.occurrence as kept_occurrence
            from events s join events b on b.event_id = s.event_id and b.channel = 'browser'""",
        )
    finding = one(store, "MATCH_FBP_MISMATCH")
    assert (finding.count, finding.share, finding.examples) == (1, 0.5, ["1001"])


def test_fbp_mismatch_with_the_dedup_model(store: Store) -> None:
    _fbp_pair(store)
    assert one(store, "MATCH_FBP_MISMATCH").count == 1


def test_fbp_mismatch_without_the_contract_columns(store: Store) -> None:
    """An older copy_verdicts (no merged / kept_* columns) means no finding, not an error."""
    _fbp_pair(store)
    with store.transaction() as tx:
        tx.execute("drop", "drop table if exists copy_verdicts")
        tx.execute(
            "old",
            "create table copy_verdicts as select fingerprint, occurrence, 'counted' as verdict from events",
        )
    assert fire(store, "MATCH_FBP_MISMATCH") == []


def test_fires_EMQ_LOW(store: Store) -> None:
    """fbp + UA only: 2 + 1.4 = 3.4 points < 6.0 over 1 server website copy; the rich event (9.4) is fine."""
    load(store, [copy("server", "Lead", event_id="1"), *clean("2")])
    finding = one(store, "EMQ_LOW")
    assert (finding.event_name, finding.count) == ("Lead", 1)
    assert "3.4" in finding.message and "not Meta's score" in finding.message


def test_fires_FRESHNESS_DELAYED(store: Store) -> None:
    """Server delays 30 min, 3 h, 5 h, 30 h: high for 2 of 4 (2-24 h), critical for 1 of 4."""
    load(
        store,
        [
            copy("server", event_id=f"{i}", line_no=i, sent_minute=minutes)
            for i, minutes in enumerate((30, 180, 300, 1800))
        ],
    )
    findings = {f.severity: f for f in fire(store, "FRESHNESS_DELAYED")}
    assert set(findings) == {"high", "critical"}
    assert (findings["high"].count, findings["high"].share, findings["high"].examples) == (2, 0.5, ["1", "2"])
    assert (findings["critical"].count, findings["critical"].share, findings["critical"].examples) == (
        1,
        0.25,
        ["3"],
    )


def test_fires_CONSENT_DENIED_SENT(store: Store) -> None:
    """Denied on 1 of 2 server copies; a denied browser copy is not this check's business."""
    load(
        store,
        [
            copy("server", event_id="d", consent="denied"),
            copy("server", event_id="g", consent="granted"),
            copy("browser", event_id="d", consent="denied"),
        ],
    )
    finding = one(store, "CONSENT_DENIED_SENT")
    assert (finding.count, finding.share, finding.examples) == (1, 0.5, ["d"])


def test_fires_TEST_CODE_IN_PRODUCTION(store: Store) -> None:
    """1 of 3 copies on pixel 111 carries a test code (1/3 < 50 %); pixel 222 is all test (a test set)."""
    load(
        store,
        [
            copy("server", event_id="t", test_event_code="TEST123"),
            copy("server", event_id="a"),
            copy("browser", event_id="a"),
            copy("server", event_id="z", pixel_id="222", test_event_code="TEST9"),
        ],
    )
    finding = one(store, "TEST_CODE_IN_PRODUCTION")
    assert (finding.pixel_id, finding.count, finding.share, finding.examples) == (
        "111",
        1,
        pytest.approx(1 / 3),
        ["t"],
    )


def test_fires_SECRET_IN_LOGS(store: Store) -> None:
    load(store, [copy("server", secrets_stripped=2)], label="capi_requests.log")
    finding = one(store, "SECRET_IN_LOGS")
    assert (finding.count, finding.examples, finding.severity) == (2, ["capi_requests.log"], "critical")
