"""Issue 16 acceptance: the 83 Conversions API request bodies another project's tests send to Meta
(``../shared/samples/thirdparty/segment_capi_bodies.jsonl``, sources in ``SOURCES.md`` beside it).

Every body is stored (none quarantined, the DuckDB fast path storing what the Python reader stores), and
no finding contradicts Meta's stated rules: each PARAM_* / MATCH_* finding is the one the file's lines call
for (hand-counted below, with the line numbers), every parameter reported as required is one a cited Meta
page requires for that event, and every other finding is one whose rule a Meta page states. The samples
are read where they are, never copied into the repo; the test is skipped when the folder is absent.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from capi_core.diagnostics import Finding, run_checks
from capi_core.ingest import ingest_file
from capi_core.metrics.completeness import completeness
from capi_core.models import Scope
from capi_core.store import Store
from tests.conftest import REPO
from tests.core.test_fast_ingest import assert_parity

THIRDPARTY = REPO.parent / "shared" / "samples" / "thirdparty"
BODIES = THIRDPARTY / "segment_capi_bodies.jsonl"
META_DOCS = "https://developers.facebook.com/documentation/ads-commerce/conversions-api/"

#: (code, event_name, severity) -> count, read off the file by hand (line numbers of the jsonl).
EXPECTED_PARAM_AND_MATCH = {
    # every event_time is a JSON string: digits on 76 lines, ISO 8601 on the 7 identify lines
    # (11-13, 47-49, 79); Meta documents "event_time integer Required"
    ("PARAM_EVENT_TIME_FORMAT", "AddToCart", "critical"): 21,  # 1-10, 38-46, 75, 78
    ("PARAM_EVENT_TIME_FORMAT", "Purchase", "critical"): 13,  # 24-29, 61-66, 81
    ("PARAM_EVENT_TIME_FORMAT", "InitiateCheckout", "critical"): 11,  # 14-18, 51-55, 80
    ("PARAM_EVENT_TIME_FORMAT", "PageView", "critical"): 10,  # 19-23, 56-60
    ("PARAM_EVENT_TIME_FORMAT", "Search", "critical"): 10,  # 30-33, 67-70, 76, 82
    ("PARAM_EVENT_TIME_FORMAT", "ViewContent", "critical"): 10,  # 34-37, 71-74, 77, 83
    ("PARAM_EVENT_TIME_FORMAT", "identify", "critical"): 7,  # 11-13, 47-49, 79
    ("PARAM_EVENT_TIME_FORMAT", "custom_event", "critical"): 1,  # 50
    # currency without value off Purchase (the eleven): a hint, not a requirement
    ("PARAM_VALUE_CURRENCY_UNPAIRED", "AddToCart", "low"): 7,  # 7-9, 42-44, 75
    ("PARAM_VALUE_CURRENCY_UNPAIRED", "Search", "low"): 3,  # 31, 68, 70
    ("PARAM_VALUE_CURRENCY_UNPAIRED", "ViewContent", "low"): 1,  # 74
    # identify is sent with action_source website: Meta requires event_source_url (none of the 7 has one)
    # and client_user_agent (11 and 47 lack it)
    ("PARAM_MISSING_REQUIRED", "identify", "high"): 9,  # 7 event_source_url + 2 client_user_agent
    # 11 and 47 carry only partner_id / partner_name, which Meta's list does not name
    ("MATCH_INSUFFICIENT_KEYS", "identify", "critical"): 2,
}
#: Every other code the file may fire, with the Meta rule it rests on (a new code here needs a rule).
OTHER_RULES = {
    "TEST_CODE_IN_PRODUCTION": "test events are processed like any other: remove test_event_code in "
    "production (best practices; reference §3.7)",
    "DEDUP_SAME_CHANNEL_REPEAT": '"If you send us two consecutive server events with the same information, '
    'we do not discard either" (deduplicate-pixel-and-server-events)',
    "EMQ_LOW": '"aim for an Event Match Quality score of 6.0 or higher" (verifying-setup); an estimate',
}
#: Parameters Meta requires, by scope (quality_completeness.sql's table and its sources).
META_REQUIRED = {"event_name", "event_time", "action_source", "user_data"}
WEBSITE_REQUIRED = {"event_source_url", "client_user_agent"}
PURCHASE_REQUIRED = {"value", "currency"}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    if not BODIES.is_file():
        pytest.skip(f"third-party samples not present at {THIRDPARTY}")
    with Store(tmp_path_factory.mktemp("thirdparty") / "store.duckdb") as store:
        result = ingest_file(store, BODIES, "server")
        assert (result.rows_read, result.rows_stored, result.rows_quarantined) == (83, 83, 0)
        return run_checks(store, Scope())


def test_every_body_is_stored_alike_on_both_paths(tmp_path: Path) -> None:
    """83 lines, one event each: read 83 = stored 83, nothing quarantined, fast path = Python reader."""
    if not BODIES.is_file():
        pytest.skip(f"third-party samples not present at {THIRDPARTY}")
    fast, slow = assert_parity(tmp_path, BODIES)
    assert (fast.rows_read, fast.rows_stored, fast.rows_quarantined) == (83, 83, 0)
    assert slow.rows_quarantined == 0


def test_param_and_match_findings_are_the_hand_counted_ones(findings: list[Finding]) -> None:
    got: Counter[tuple[str, str | None, str]] = Counter()
    for finding in findings:
        if finding.code.startswith(("PARAM_", "MATCH_")):
            got[(finding.code, finding.event_name, finding.severity)] += finding.count
    assert dict(got) == EXPECTED_PARAM_AND_MATCH


def test_hand_counts_agree_with_the_file() -> None:
    """The hand counts above, recounted from the file with orjson only."""
    if not BODIES.is_file():
        pytest.skip(f"third-party samples not present at {THIRDPARTY}")
    events = [orjson.loads(line)["data"][0] for line in BODIES.read_text(encoding="utf-8").splitlines()]
    assert len(events) == 83
    assert all(isinstance(e["event_time"], str) for e in events)
    per_event = Counter(e["event_name"] for e in events)
    assert {
        k[1]: v for k, v in EXPECTED_PARAM_AND_MATCH.items() if k[0] == "PARAM_EVENT_TIME_FORMAT"
    } == per_event
    lone = Counter(
        e["event_name"]
        for e in events
        if e["event_name"] != "Purchase" and "currency" in e.get("custom_data", {})
        and "value" not in e["custom_data"]
    )  # fmt: skip
    assert {
        k[1]: v for k, v in EXPECTED_PARAM_AND_MATCH.items() if k[0] == "PARAM_VALUE_CURRENCY_UNPAIRED"
    } == lone
    partner_only = [e for e in events if set(e["user_data"]) == {"partner_id", "partner_name"}]
    assert [e["event_name"] for e in partner_only] == ["identify", "identify"]


def test_no_requirement_beyond_metas(findings: list[Finding], tmp_path: Path) -> None:
    """Every parameter reported as required is one Meta requires for that event and channel, on a page
    the requirements table cites; value and currency are never required off Purchase."""
    with Store(tmp_path / "store.duckdb") as store:
        ingest_file(store, BODIES, "server")
        rows = completeness(store, Scope())
    required = [r for r in rows if r.requirement == "required" and r.outcomes.get("missing")]
    assert required, "the file lacks required parameters (identify's event_source_url)"
    for row in required:
        allowed = META_REQUIRED | (WEBSITE_REQUIRED if "website" in row.applies_to else set())
        allowed |= PURCHASE_REQUIRED if row.event_name == "Purchase" else set()
        assert row.parameter in allowed, (row.event_name, row.parameter)
        assert row.source.startswith(META_DOCS), row.source
    value_rows = [r for r in rows if r.parameter in PURCHASE_REQUIRED and r.event_name != "Purchase"]
    assert value_rows and {r.requirement for r in value_rows} == {"recommended"}


def test_every_other_finding_rests_on_a_meta_rule(findings: list[Finding]) -> None:
    others = {f.code for f in findings if not f.code.startswith(("PARAM_", "MATCH_"))}
    assert others <= set(OTHER_RULES), others - set(OTHER_RULES)


def test_the_partner_key_finding_quotes_metas_list(findings: list[Finding]) -> None:
    [finding] = [f for f in findings if f.code == "MATCH_INSUFFICIENT_KEYS"]
    assert META_DOCS + "parameters" in finding.message
    assert '"em: Email — Hashing required … ig_sid: Click to Instagram ID — Do not hash"' in finding.message
    assert "partner_id" in finding.message
