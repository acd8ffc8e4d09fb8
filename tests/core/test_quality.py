"""Signal-quality metrics on hand-computed fixtures: completeness, match-key coverage, estimated EMQ and
its what-if, freshness, consent. Each test's docstring says how its figures were computed."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from capi_core.metrics.completeness import CompletenessRow, completeness
from capi_core.metrics.consent import consent
from capi_core.metrics.freshness import freshness
from capi_core.metrics.match_keys import (
    COVERAGE_KEYS,
    EMQ_LABEL,
    EmqWeights,
    emq_estimates,
    emq_what_if,
    match_key_coverage,
)
from capi_core.metrics.quality import match_key_report
from capi_core.models import Scope
from capi_core.store import Store
from tests.factories import FBP, T0, UA, copy, load

T0_MS = int(T0.replace(tzinfo=dt.UTC).timestamp() * 1000)
FBC = f"fb.1.{T0_MS - 86_400_000}.AbCdEfGhIj"  # created one day before T0
OLD_FBC = f"fb.1.{T0_MS - 100 * 86_400_000}.AbCdEfGhIj"  # 100 days before T0: expired


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rich(n: int = 1) -> dict[str, str]:
    """user_data with every strong key valid (hashed em / ph, as a server must send them)."""
    return {
        "em": sha(f"user{n}@example.com"),
        "ph": sha(f"1650555{n:04d}"),
        "external_id": f"cust-{n}",
        "fbp": FBP,
        "fbc": FBC,
        "client_ip_address": f"203.0.113.{n}",
        "client_user_agent": UA,
    }


def row(rows: list[CompletenessRow], event: str, channel: str, parameter: str) -> CompletenessRow:
    return next(r for r in rows if (r.event_name, r.channel, r.parameter) == (event, channel, parameter))


@pytest.fixture
def param_store(store: Store) -> Store:
    """Four server Purchase copies and one browser Lead copy (see test_completeness_figures)."""
    ms = copy("server", event_id="2", line_no=2, sent_minute=1)
    ms.event_time_raw = T0_MS  # milliseconds
    load(
        store,
        [
            copy("server", event_id="1", line_no=1, sent_minute=1, user_data=rich()),
            ms,
            copy("server", event_id="3", line_no=3, custom_data={"value": "abc"}, event_source_url="ftp://x"),
            copy("server", event_id="4", line_no=4, sent_minute=8 * 24 * 60),  # 8 days late
            copy("browser", "Lead", event_id=None, line_no=5, custom_data={}),
        ],
    )
    return store


def test_completeness_figures(param_store: Store) -> None:
    """Server Purchase, 4 copies: event_time valid on #1 and #3, ms on #2, stale on #4 -> 2/4 valid;
    value 'abc' on #3 -> 3/4 valid, 4/4 present; currency absent on #3 -> 3/4 present and valid;
    event_source_url 'ftp://x' on #3 -> 4/4 present, 3/4 valid; em/ph only on #1 -> 1/4."""
    rows = completeness(param_store, Scope())
    event_time = row(rows, "Purchase", "server", "event_time")
    assert (event_time.copies, event_time.present, event_time.valid) == (4, 4, 2)
    assert event_time.outcomes == {"valid": 2, "milliseconds": 1, "stale": 1}
    assert event_time.examples == {"milliseconds": ["2"], "stale": ["4"]}
    value = row(rows, "Purchase", "server", "value")
    assert (value.share_present, value.share_valid) == (1.0, 0.75)
    currency = row(rows, "Purchase", "server", "currency")
    assert (currency.share_present, currency.share_valid, currency.requirement) == (0.75, 0.75, "required")
    url = row(rows, "Purchase", "server", "event_source_url")
    assert (url.share_present, url.share_valid) == (1.0, 0.75)
    em_ph = row(rows, "Purchase", "server", "em/ph")
    assert (em_ph.valid, em_ph.requirement) == (1, "recommended")


def test_completeness_applicability(param_store: Store) -> None:
    """The browser Lead copy carries no value / currency and is no server payload: value, currency,
    action_source, event_source_url and client_user_agent do not apply to it; event_time does."""
    lead = {r.parameter for r in completeness(param_store, Scope()) if r.event_name == "Lead"}
    assert {"value", "currency", "action_source", "event_source_url", "client_user_agent"}.isdisjoint(lead)
    assert {"event_name", "event_time", "user_data", "event_id", "fbp", "em/ph"} <= lead


def test_completeness_scope_and_pixel(param_store: Store) -> None:
    """Scoping to Lead leaves only the one Lead copy; by_pixel fills pixel_id from the copies."""
    rows = completeness(param_store, Scope(event_names=("Lead",)), by_pixel=True)
    assert {r.event_name for r in rows} == {"Lead"}
    assert {r.pixel_id for r in rows} == {"111"}
    assert all(r.copies == 1 for r in rows)


def test_match_key_coverage(store: Store) -> None:
    """4 server copies: em hashed on 2, raw on 1 (raw_pii: not valid), absent on 1 -> em 2/4 = 0.5;
    fbc valid on 1, expired on 1 -> 1/4; fbp (factory default) valid on all 4 -> 1.0; ge nowhere -> 0."""
    load(
        store,
        [
            copy("server", event_id="1", user_data={"em": sha("a@b.co"), "fbc": FBC, "fbp": FBP}),
            copy("server", event_id="2", user_data={"em": sha("c@d.co"), "fbc": OLD_FBC, "fbp": FBP}),
            copy("server", event_id="3", user_data={"em": "raw@example.com", "fbp": FBP}),
            copy("server", event_id="4", user_data={"fbp": FBP}),
        ],
    )
    [coverage] = match_key_coverage(store, Scope())
    assert coverage.copies == 4
    assert set(coverage.coverage) == set(COVERAGE_KEYS)
    assert (coverage.coverage["em"], coverage.coverage["fbc"], coverage.coverage["fbp"]) == (0.5, 0.25, 1.0)
    assert coverage.coverage["ge"] == 0.0


@pytest.fixture
def emq_store(store: Store) -> Store:
    """Two server website Purchase copies (A: fbp + UA; B: every strong key), plus copies EMQ ignores."""
    load(
        store,
        [
            copy("server", event_id="A"),
            copy("server", event_id="B", user_data=rich()),
            copy("browser", event_id="A"),
            copy("server", event_id="C", action_source="physical_store"),
        ],
    )
    return store


def test_emq_default_weights(emq_store: Store) -> None:
    """Calibrated points (Meta's scale), 10 in all. A: fbp 2 + UA 1.4 = 3.4;
    B: em 2 + ph 1 + external_id 0.5 + fbc 0.7 + fbp 2 + ip 1.8 + UA 1.4 = 9.4; mean 6.4.
    The browser copy and the physical_store copy are not scored."""
    assert EmqWeights().total == pytest.approx(10.0)
    [estimate] = emq_estimates(emq_store, Scope())
    assert estimate.label == EMQ_LABEL == "Estimated EMQ (not Meta's score)"
    assert estimate.copies == 2
    assert estimate.score == pytest.approx((3.4 + 9.4) / 2)
    assert estimate.weights == "calibrated"


def test_emq_custom_weights(emq_store: Store) -> None:
    """Only fbp weighs, 1 point: both copies carry fbp -> 1 each (points are a score, never rescaled)."""
    zero = dict.fromkeys(EmqWeights.model_fields, 0.0)
    weights = EmqWeights(**{**zero, "fbp": 1.0})
    [estimate] = emq_estimates(emq_store, Scope(), weights)
    assert estimate.score == pytest.approx(1.0)
    assert estimate.weights == "custom"


def test_emq_first_and_last_name_count_together(store: Store) -> None:
    """fn alone adds nothing; fn + ln add the pair's 0.3: fbp 2 + UA 1.4 = 3.4, and 3.4 + 0.3 = 3.7."""
    base = {"fbp": FBP, "client_user_agent": UA}
    load(
        store,
        [
            copy("server", "Lead", event_id="1", user_data={**base, "fn": sha("mary")}),
            copy(
                "server", "Purchase", event_id="2", user_data={**base, "fn": sha("mary"), "ln": sha("smith")}
            ),
        ],
    )
    scores = {e.event_name: e.score for e in emq_estimates(store, Scope())}
    assert scores == pytest.approx({"Lead": 3.4, "Purchase": 3.7})


def test_emq_weights_validation() -> None:
    with pytest.raises(ValidationError):
        EmqWeights(em=-1)
    with pytest.raises(ValidationError):
        EmqWeights(**dict.fromkeys(EmqWeights.model_fields, 0.0))
    with pytest.raises(ValidationError):
        EmqWeights().em = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("coverage", "expected"),
    [
        # without em: A 3.4, B 7.4, mean 5.4; with em (2 points): A 5.4, B 9.4, mean 7.4
        (0.0, 5.4),
        (1.0, 7.4),
        (0.5, 0.5 * 5.4 + 0.5 * 7.4),
    ],
)
def test_emq_what_if(emq_store: Store, coverage: float, expected: float) -> None:
    """estimate = (1 - c) x mean(score without em) + c x mean(score with em); em coverage today 1/2."""
    [what_if] = emq_what_if(emq_store, Scope(), "em", coverage)
    assert what_if.estimate == pytest.approx(expected)
    assert what_if.current_coverage == 0.5
    assert what_if.current == pytest.approx(6.4)
    assert what_if.label == EMQ_LABEL


def test_emq_what_if_rejects_bad_input(emq_store: Store) -> None:
    with pytest.raises(ValueError, match="unknown match key"):
        emq_what_if(emq_store, Scope(), "fn_ln; drop table events", 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        emq_what_if(emq_store, Scope(), "em", 1.5)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["em", "ph", "external_id", "fbc", "client_ip_address"]), max_size=5))
def test_emq_bounded_and_monotone(keys: list[str]) -> None:
    """Invariant: the estimate stays within 0..10 and adding a valid key never lowers it."""
    with Store() as store:
        user = {k: v for k, v in rich().items() if k in keys} | {"fbp": FBP}
        load(store, [copy("server", event_id="1", user_data=user)])
        [what_if] = emq_what_if(store, Scope(), "ph", 1.0)
    assert 0.0 <= what_if.current <= what_if.estimate <= 10.0


def test_match_key_report(emq_store: Store) -> None:
    report = match_key_report(emq_store, Scope())
    assert report.emq_weights == EmqWeights()
    assert [e.event_name for e in report.emq_estimate] == ["Purchase"]
    assert {(c.event_name, c.channel) for c in report.coverage} == {
        ("Purchase", "browser"),
        ("Purchase", "server"),
    }


def test_freshness_buckets(store: Store) -> None:
    """Server delays 30 min, 90 min, 3 h, 25 h and one copy without sent_at: one per bucket.
    Known delays 1800, 5400, 10800, 90000 s: median (5400 + 10800) / 2 = 8100; p95 at rank
    0.95 x 3 = 2.85 -> 10800 + 0.85 x (90000 - 10800) = 78120. The browser copy is ignored."""
    unsent = copy("server", event_id="5")
    unsent.sent_at = None
    load(
        store,
        [
            copy("server", event_id="1", sent_minute=30),
            copy("server", event_id="2", sent_minute=90),
            copy("server", event_id="3", sent_minute=180),
            copy("server", event_id="4", sent_minute=25 * 60),
            unsent,
            copy("browser", event_id="1", sent_minute=5000),
        ],
    )
    [event, total] = freshness(store, Scope())
    assert (event.event_name, event.is_total, total.is_total) == ("Purchase", False, True)
    counts = (event.copies, event.real_time, event.within_2h, event.within_24h, event.later, event.unknown)
    assert counts == (5, 1, 1, 1, 1, 1)
    assert (event.median_delay_s, event.p95_delay_s) == pytest.approx((8100.0, 78120.0))
    assert (event.examples_2h, event.examples_24h) == (["3"], ["4"])
    assert total.copies == 5


def test_consent_figures(store: Store) -> None:
    """Server Purchase: #1 denied; #2 unknown with hashed em (identifiable); #3 unknown with fbp only
    (not identifiable); #4 granted with LDU; #5 granted with data_processing_options [] -> denied 1,
    identifiable_unknown 1, ldu 1."""
    load(
        store,
        [
            copy("server", event_id="1", consent="denied"),
            copy("server", event_id="2", user_data={"em": sha("a@b.co")}),
            copy("server", event_id="3"),
            copy("server", event_id="4", consent="granted", data_processing_options=["LDU"]),
            copy("server", event_id="5", consent="granted", data_processing_options=[]),
        ],
    )
    [server] = consent(store, Scope())
    assert (server.copies, server.denied, server.identifiable_unknown, server.ldu) == (5, 1, 1, 1)
    assert server.denied_examples == ["1"]


def test_empty_store_has_no_rows(store: Store) -> None:
    scope = Scope()
    assert completeness(store, scope) == []
    assert match_key_coverage(store, scope) == []
    assert emq_estimates(store, scope) == []
    assert consent(store, scope) == []
    assert freshness(store, scope) == []
