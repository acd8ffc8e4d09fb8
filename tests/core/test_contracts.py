"""Event contracts: YAML <-> model round trips, field-named validation errors, saved versions, violations
of hand-built stores (hand-computed counts), and the contract feeding parameter completeness."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capi_core.contracts import editor as ce
from capi_core.contracts import library as contracts
from capi_core.contracts.library import (
    ContractError,
    contract_history,
    contract_violations,
    current_contract,
    default_contract,
    diff_bodies,
    dump_contract,
    parse_contract,
    read_contract_file,
    save_contract,
    violations_preview,
)
from capi_core.contracts.models import Contract, EventContract, contract_from_rows, event_rows
from capi_core.diagnostics.param_checks import param_missing_required
from capi_core.metrics import completeness as completeness_module
from capi_core.metrics.completeness import completeness
from capi_core.models import Scope
from capi_core.store import PROJECT_ROOT, Store
from tests.factories import FBP, PIXEL, UA, copy, load, load_truth, order

NOW_S = dt.datetime(2026, 11, 2, 13, 0, tzinfo=dt.UTC).timestamp()  # an hour after the fixtures' T0
SHIPPED = PROJECT_ROOT / "data" / "contracts"
BASE_REQUIRED = [
    "event_name",
    "event_time",
    "action_source",
    "user_data",
    "event_source_url",
    "client_user_agent",
    "value",
    "currency",
]


@pytest.fixture(autouse=True)
def contracts_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test reads and writes contracts in its own folder (the shipped default still applies)."""
    folder = tmp_path / "contracts"
    monkeypatch.setenv("CAPI_DESK_CONTRACTS", str(folder))
    yield folder


def purchase(**fields: Any) -> EventContract:
    base: dict[str, Any] = {"milestone": "order paid", "source": "server", "required": BASE_REQUIRED}
    return EventContract.model_validate({**base, **fields})


def contract(**fields: Any) -> Contract:
    return Contract(pixel_id=PIXEL, events={"Purchase": purchase(**fields)})


# --- YAML <-> model ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["default.yaml", "1234567890123456.yaml"])
def test_shipped_contracts_round_trip(name: str) -> None:
    """The shipped files parse, dump and parse back to the same contract, header comments included."""
    parsed = read_contract_file(SHIPPED / name)
    text = dump_contract(parsed)
    assert parse_contract(text) == parsed
    assert parsed.header.startswith("# ")
    assert text.startswith(parsed.header + "\n")


def test_default_contract_holds_metas_parameters() -> None:
    """reference §2.9: every event requires the base parameters; Purchase also value and currency."""
    default = default_contract()
    assert set(default.events) == {
        "Purchase",
        "Lead",
        "AddToCart",
        "InitiateCheckout",
        "ViewContent",
        "PageView",
    }
    assert default.events["Purchase"].required == BASE_REQUIRED
    for name, event in default.events.items():
        assert event.required[:6] == BASE_REQUIRED[:6], name
        assert {"event_id", "external_id", "fbp", "fbc", "client_ip_address", "em/ph"} <= set(
            event.recommended
        )


def test_dump_keeps_a_readable_key_order() -> None:
    text = dump_contract(contract(allowed_currencies=["USD", "EUR"]))
    keys = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
    assert keys == ["schema_version", "pixel_id", "description", "events"]
    assert "    allowed_currencies: [USD, EUR]" in text.splitlines()
    assert text.index("milestone") < text.index("source") < text.index("required") < text.index("truth")


def test_unquoted_pixel_id_is_read_as_text() -> None:
    assert parse_contract("pixel_id: 1234567890123456\nevents: {}\n").pixel_id == "1234567890123456"


# --- validation errors name their field ----------------------------------------------------------------

_GOOD: dict[str, Any] = {"milestone": "order paid", "source": "server"}


@pytest.mark.parametrize(
    ("events", "errors"),
    [
        (
            {"Purchase": {**_GOOD, "allowed_currencies": ["USD", "usd "]}},
            [
                "events.Purchase.allowed_currencies[1]: 'usd ' is not an ISO 4217 code (write it upper-case, "
                "without spaces)"
            ],
        ),
        (
            {"Purchase": {**_GOOD, "allowed_currencies": ["XYZ"]}},
            ["events.Purchase.allowed_currencies[0]: 'XYZ' is not an ISO 4217 code"],
        ),
        (
            {"Purchase": {**_GOOD, "required": ["event_name", "vaule"]}},
            [
                "events.Purchase.required[1]: 'vaule' is not a parameter the validator knows (did you mean "
                "'value'?)"
            ],
        ),
        (
            {"Purchase": {**_GOOD, "match_keys": ["email"]}},
            ["events.Purchase.match_keys[0]: 'email' is not a user_data match key"],
        ),
        (
            {"Purchase": {**_GOOD, "source": "web"}},
            ["events.Purchase.source: Input should be 'browser', 'server' or 'crm'"],
        ),
        (
            {"Purchase": {**_GOOD, "event_id_rule": "order"}},
            [
                "events.Purchase.event_id_rule: Input should be 'order_id_without_hash', 'order_id', "
                "'lead_id', 'uuid', 'any' or 'none'"
            ],
        ),
        (
            {"Purchase": {**_GOOD, "value_policy": "net"}},
            ["events.Purchase.value_policy: Input should be 'total' or 'subtotal'"],
        ),
        (
            {"Purchase": {**_GOOD, "consent": "yes"}},
            ["events.Purchase.consent: Input should be 'none', 'not_denied' or 'granted'"],
        ),
        (
            {"Purchase": {**_GOOD, "truth": "sale"}},
            ["events.Purchase.truth: Input should be 'order', 'lead' or 'none'"],
        ),
        ({"Purchase": {"source": "server"}}, ["events.Purchase.milestone: this field is required"]),
        (
            {"Purchase": {**_GOOD, "milestone": ""}},
            ["events.Purchase.milestone: String should have at least 1 character"],
        ),
        ({"Purchase": {**_GOOD, "owner": "me"}}, ["events.Purchase.owner: unknown field"]),
        (
            {"Purchase": {**_GOOD, "required": ["value"], "recommended": ["event_id", "value"]}},
            ["events.Purchase.recommended[1]: 'value' is already required"],
        ),
        (
            {"Purchase": {**_GOOD, "required": ["value", "value"]}},
            ["events.Purchase.required[1]: 'value' is listed twice"],
        ),
        (
            {"AddToCart ": _GOOD},
            ["events['AddToCart ']: 'AddToCart ' has spaces around it: Meta would treat it as another event"],
        ),
        (
            {"Purchase": _GOOD, "purchase": _GOOD},
            ["events: 'purchase' and 'Purchase' differ only in case (one event, one name)"],
        ),
    ],
)
def test_every_error_names_its_field(events: dict[str, Any], errors: list[str]) -> None:
    """The whole error list is compared: each names the YAML path of the field at fault."""
    with pytest.raises(ContractError) as caught:
        contracts.parse_contract(dump_plain({"pixel_id": "1", "events": events}))
    assert caught.value.errors == errors


def dump_plain(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        ("pixel_id: '12ab'\n", ["pixel_id: '12ab' is not a pixel id (digits only)"]),
        ("pixel_id: '1'\nowner: me\n", ["owner: unknown field"]),
        ("- a list\n", ["(contract): expected a mapping with pixel_id and events"]),
        (
            "pixel_id: '1'\nevents: [\n",
            ["line 3: not valid YAML (expected the node content, but found '<stream end>')"],
        ),
        ("schema_version: 2\n", ["schema_version: Input should be 1"]),
    ],
)
def test_document_level_errors(text: str, errors: list[str]) -> None:
    with pytest.raises(ContractError) as caught:
        parse_contract(text)
    assert caught.value.errors == errors


def test_yaml_is_read_safely() -> None:
    """safe_load only: a Python object tag is refused as invalid YAML, never constructed."""
    with pytest.raises(ContractError, match="not valid YAML"):
        parse_contract("pixel_id: !!python/object/apply:os.system ['true']\n")


def test_rows_round_trip_and_name_the_row() -> None:
    """The editor's table: rows -> contract -> rows; a bad cell is named by event and field."""
    shipped = read_contract_file(SHIPPED / "1234567890123456.yaml")
    rows = event_rows(shipped)
    rebuilt, errors = contract_from_rows(shipped.pixel_id, rows, description=shipped.description)
    assert errors == []
    assert rebuilt is not None and rebuilt.events == shipped.events
    rows[0]["allowed_currencies"] = "USD, EURO"
    rows[1]["event"] = None
    broken, errors = contract_from_rows(shipped.pixel_id, rows)
    assert broken is None
    assert errors == [
        "row 2.event: an event name is required",
        "events.Purchase.allowed_currencies[1]: 'EURO' is not an ISO 4217 code",
    ]


# --- saved versions -----------------------------------------------------------------------------------


def test_save_writes_the_file_and_a_version(store: Store, contracts_folder: Path) -> None:
    first = save_contract(store, contract())
    second = save_contract(store, contract(allowed_currencies=["USD"]))
    assert (first.version, second.version) == (1, 2)
    assert read_contract_file(contracts_folder / f"{PIXEL}.yaml").events["Purchase"].allowed_currencies == [
        "USD"
    ]
    history = contract_history(store, PIXEL)
    assert [v.version for v in history] == [2, 1]
    assert parse_contract(history[1].body) == contract()
    diff = diff_bodies(history[1].body, history[0].body)
    assert "+    allowed_currencies: [USD]" in diff and "-    allowed_currencies: []" in diff


def test_save_refuses_a_contract_without_pixel(store: Store) -> None:
    with pytest.raises(ContractError, match="pixel_id"):
        save_contract(store, Contract(events={"Purchase": purchase()}))
    assert store.query("versions", "select count(*) from contracts").scalar() == 0


def test_current_contract_precedence(store: Store, contracts_folder: Path) -> None:
    """The pixel's file, else its latest saved version, else the default (adopted by the pixel)."""
    found = current_contract(store, PIXEL)
    assert (found.origin, found.contract.pixel_id) == ("default", PIXEL)
    assert found.contract.events == default_contract().events
    save_contract(store, contract(allowed_currencies=["EUR"]))
    assert current_contract(store, PIXEL).origin == "file"
    (contracts_folder / f"{PIXEL}.yaml").unlink()
    stored = current_contract(store, PIXEL)
    assert (stored.origin, stored.version) == ("store", 1)
    assert stored.contract.events["Purchase"].allowed_currencies == ["EUR"]


# --- violations on hand-built stores ----------------------------------------------------------------------


@pytest.fixture
def violation_store(store: Store) -> Store:
    """One browser and three server Purchase copies, one AddToCart (no contract rule for it):

    b1 browser Purchase eid '#1001' (fbp, UA; no order_id, no em)
    s1 server Purchase eid '1001', order_id '#1001', em raw (stored as hash, verdict raw_pii)
    s2 server 'purchase' eid '1002', order_id '1002', currency 'usd', consent denied
    s3 server Purchase no eid, order_id '1003', value '12,50', currency EUR
    """
    load(
        store,
        [
            copy("browser", event_id="#1001", line_no=1),
            copy(
                "server",
                event_id="1001",
                line_no=2,
                user_data={"fbp": FBP, "client_user_agent": UA, "em": "Buyer@Example.com"},
                custom_data={"value": 50.0, "currency": "USD", "order_id": "#1001"},
            ),
            copy(
                "server",
                "purchase",
                event_id="1002",
                minute=5,
                line_no=3,
                consent="denied",
                custom_data={"value": 20.0, "currency": "usd", "order_id": "1002"},
            ),
            copy(
                "server",
                event_id=None,
                minute=9,
                line_no=4,
                custom_data={"value": "12,50", "currency": "EUR", "order_id": "1003"},
            ),
            copy("browser", "AddToCart", event_id="c1", minute=1, line_no=5),
        ],
    )
    return store


RULED = {
    "recommended": ["event_id", "order_id"],
    "match_keys": ["em"],
    "event_id_rule": "order_id_without_hash",
    "allowed_currencies": ["USD"],
    "consent": "not_denied",
}


def test_violations_hand_computed(violation_store: Store) -> None:
    """Each violation counted by hand from the fixture's docstring (of_copies: 1 browser, 3 server Purchase
    copies, 'purchase' counted as a Purchase copy). The browser copy's action_source / user agent are not
    held against it (the Pixel adds them); s2's 'usd' is USD, which is allowed."""
    found = contract_violations(violation_store, Scope(), contract(**RULED))
    got = {(v.channel, v.rule, v.parameter, v.detail, v.copies, v.of_copies) for v in found}
    assert got == {
        ("browser", "event_id_rule", "event_id", "contains #", 1, 1),
        ("browser", "missing_recommended", "order_id", "", 1, 1),
        ("browser", "missing_match_key", "em", "missing", 1, 1),
        ("server", "event_name_variant", "event_name", "purchase", 1, 3),
        ("server", "consent", "consent", "denied", 1, 3),
        ("server", "currency_not_allowed", "currency", "EUR", 1, 3),
        ("server", "invalid_parameter", "value", "malformed", 1, 3),
        ("server", "event_id_rule", "event_id", "missing", 1, 3),
        ("server", "missing_recommended", "event_id", "", 1, 3),
        ("server", "missing_match_key", "em", "raw_pii", 1, 3),
        ("server", "missing_match_key", "em", "missing", 2, 3),
    }
    severities = [v.severity for v in found]
    assert severities == sorted(severities, key=contracts.SEVERITY_ORDER.index)
    variant = next(v for v in found if v.rule == "event_name_variant")
    assert variant.share == pytest.approx(1 / 3)
    assert variant.message == "1 of 3 server copies are named 'purchase'"
    assert [(e.channel, e.event_id) for e in variant.examples] == [("server", "1002")]
    stored = violation_store.query(
        "ref",
        "select event_name from events where fingerprint = $f and occurrence = $o",
        {"f": variant.examples[0].fingerprint, "o": variant.examples[0].occurrence},
    ).scalar()
    assert stored == "purchase"


def test_missing_required_and_examples_capped(store: Store) -> None:
    """7 server Purchase copies without event_source_url: one violation of 7, examples capped at 5 and
    ordered by fingerprint; a rule the contract does not name (event_id) is not reported."""
    load(
        store, [copy("server", event_id=str(n), minute=n, line_no=n, event_source_url=None) for n in range(7)]
    )
    found = contract_violations(store, Scope(), contract())
    assert [(v.rule, v.parameter, v.copies, v.of_copies) for v in found] == [
        ("missing_required", "event_source_url", 7, 7)
    ]
    refs = [e.fingerprint for e in found[0].examples]
    assert len(refs) == 5 and refs == sorted(refs)


def test_event_id_rules(store: Store) -> None:
    """order_id: '1001' vs order_id '#1001' differs (1); uuid: '1001' and '#1002' are not UUIDs (2) and the
    UUID copy passes; lead_id: event_id '55' vs lead_id '56' differs (1)."""
    uid = "6f1c2a7e-0b1d-4c55-9a8e-3b2f4e5d6c7a"
    load(
        store,
        [
            copy("server", event_id="1001", custom_data={"value": 1, "currency": "USD", "order_id": "#1001"}),
            copy("server", event_id="#1002", minute=3, line_no=2),
            copy("server", event_id=uid, minute=6, line_no=3),
            copy(
                "server",
                "Lead",
                event_id="55",
                minute=9,
                line_no=4,
                user_data={"fbp": FBP, "client_user_agent": UA, "lead_id": "56"},
                custom_data={},
            ),
        ],
    )

    def rule_counts(rule: str) -> list[tuple[str, int]]:
        ruled = Contract(
            pixel_id=PIXEL,
            events={
                "Purchase": purchase(event_id_rule=rule, required=[]),
                "Lead": purchase(event_id_rule=rule, required=[]),
            },
        )
        return [
            (v.detail, v.copies)
            for v in contract_violations(store, Scope(), ruled)
            if v.rule == "event_id_rule"
        ]

    assert rule_counts("order_id") == [("differs from order_id", 1)]
    assert rule_counts("uuid") == [("not a UUID", 1), ("not a UUID", 2)]  # Lead '55', then Purchase
    assert rule_counts("lead_id") == [("differs from lead_id", 1)]
    assert rule_counts("none") == []


def test_value_policy_against_the_linked_order(store: Store) -> None:
    """Order #1001: total 50, subtotal 40. The server copy sends 50: fine under `total`, one violation
    under `subtotal` (|50 - 40| = 10 > max(0.01, 1 % of 40))."""
    load_truth(store, [order("#1001", value=50.0, subtotal=40.0)])
    load(
        store,
        [copy("server", event_id="1001", custom_data={"value": 50.0, "currency": "USD", "order_id": "1001"})],
    )
    total = contract(value_policy="total", truth="order")
    subtotal = contract(value_policy="subtotal", truth="order")
    assert [v.rule for v in contract_violations(store, Scope(), total)] == []
    found = contract_violations(store, Scope(), subtotal)
    assert [(v.rule, v.detail, v.copies) for v in found] == [("value_policy", "subtotal", 1)]


def test_consent_granted_counts_unknown(violation_store: Store) -> None:
    """consent: granted -> every copy not logged as granted breaks it: b1 (unknown) 1 of 1; s1, s2 (denied),
    s3 3 of 3 server."""
    found = contract_violations(violation_store, Scope(), contract(consent="granted", required=[]))
    assert sorted((v.channel, v.detail, v.copies) for v in found if v.rule == "consent") == [
        ("browser", "unknown", 1),
        ("server", "denied", 1),
        ("server", "unknown", 2),
    ]


def test_scope_and_empty_contract(violation_store: Store) -> None:
    """The scope's date filter applies (nothing on the day before T0); a contract with no events finds
    nothing; the preview is the same function on an unsaved draft."""
    day_before = Scope(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 1))
    assert contract_violations(violation_store, day_before, contract(**RULED)) == []
    assert contract_violations(violation_store, Scope(), Contract(pixel_id=PIXEL)) == []
    draft = contract(**RULED)
    assert violations_preview(violation_store, Scope(), draft) == contract_violations(
        violation_store, Scope(), draft
    )


def test_other_pixels_are_not_judged(violation_store: Store) -> None:
    other = Contract(pixel_id="999", events={"Purchase": purchase(**RULED)})
    assert contract_violations(violation_store, Scope(), other) == []


# --- the contract feeds parameter completeness -------------------------------------------------------------


def test_contract_makes_a_parameter_required(store: Store) -> None:
    """Two server Purchase copies, one without event_id: Meta only recommends event_id, so no finding;
    once the pixel's contract requires it, completeness marks it required and PARAM_MISSING_REQUIRED
    reports the 1 of 2 copies."""
    load(store, [copy("server", event_id="1"), copy("server", event_id=None, minute=3, line_no=2)])

    def event_id_row() -> Any:
        return next(
            r
            for r in completeness(store, Scope(), by_pixel=True)
            if (r.parameter, r.channel) == ("event_id", "server")
        )

    assert event_id_row().requirement == "recommended"
    assert [f for f in param_missing_required(store, Scope()) if "event_id" in f.message] == []
    save_contract(store, contract(required=[*BASE_REQUIRED, "event_id"]))
    assert event_id_row().requirement == "required"
    [finding] = [f for f in param_missing_required(store, Scope()) if "event_id" in f.message]
    assert (finding.count, finding.share) == (1, 0.5)
    assert "required by the event contract" in finding.message


def test_a_contract_cannot_lower_metas_requirements(store: Store) -> None:
    """value and currency stay required on Purchase even when the contract names neither."""
    load(store, [copy("server", custom_data={"currency": "USD"})])
    save_contract(store, contract(required=["event_name"]))
    rows = completeness(store, Scope())
    assert {r.parameter: r.requirement for r in rows if r.parameter in ("value", "currency")} == {
        "value": "required",
        "currency": "required",
    }


def test_demo_report_unchanged_by_the_shipped_contracts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped default and demo-pixel contracts require what Meta requires, so the demo report (every
    figure and finding) is the same as without contracts."""
    from capi_core.demo_store import build_demo_store
    from capi_core.report import build_report

    monkeypatch.delenv("CAPI_DESK_CONTRACTS")  # the shipped contracts
    target = tmp_path / "demo.duckdb"
    build_demo_store(target)
    with Store(target) as demo:
        with_contracts = build_report(demo, Scope()).model_dump_json()
        monkeypatch.setattr(completeness_module, "_with_contract_requirements", lambda _store, rows: rows)
        without = build_report(demo, Scope()).model_dump_json()
    assert with_contracts == without


# --- capi-desk contracts validate ------------------------------------------------------------------------


def test_cli_validate(violation_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid file: the violations are listed, exit 0; with --fail-on high exit 1 (a high one exists);
    no contract rule is critical, so --fail-on critical exits 0."""
    from capi_core.cli import main

    path = tmp_path / "contract.yaml"
    path.write_text(dump_contract(contract(**RULED)), encoding="utf-8")
    db = ["--db", violation_store.path]
    violation_store.close()
    assert main([*db, "contracts", "validate", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"contract of pixel {PIXEL}: valid, 1 events" in out
    assert "1 of 3 server copies are named 'purchase'" in out
    assert main([*db, "contracts", "validate", "--file", str(path), "--fail-on", "high"]) == 1
    assert main([*db, "contracts", "validate", "--file", str(path), "--fail-on", "critical"]) == 0


def test_cli_invalid_contract_exits_2(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("pixel_id: '1'\nevents:\n  Purchase:\n    source: web\n    allowed_currencies: [usd]\n")
    db = ["--db", store.path]
    store.close()
    assert main_quiet([*db, "contracts", "validate", "--file", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "capi-desk: error: bad.yaml: events.Purchase.milestone: this field is required",
        "capi-desk: error: bad.yaml: events.Purchase.source: Input should be 'browser', 'server' or 'crm'",
        "capi-desk: error: bad.yaml: events.Purchase.allowed_currencies[0]: 'usd' is not an ISO 4217 code "
        "(write it upper-case, without spaces)",
    ]


def test_cli_uses_the_contract_in_force(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --file: the pixel's contract in force (here the default, adopted by pixel 111)."""
    load(store, [copy("server", event_id=None, event_source_url=None)])
    db = ["--db", store.path]
    store.close()
    assert main_quiet([*db, "contracts", "validate", "--pixel-id", PIXEL, "--fail-on", "high"]) == 1
    out = capsys.readouterr().out
    assert "1 of 1 server copies lack event_source_url, which the contract requires" in out


def main_quiet(argv: list[str]) -> int:
    from capi_core.cli import main

    return main(argv)


def test_invalid_parameters_name_the_reason(store: Store) -> None:
    """Three server Purchase copies: event_time in milliseconds (1), received 8 days after its event_time
    (stale, 1), and a hashed fbp (hashed_forbidden, 1, as a required parameter and as a match key)."""
    ms = copy("server", event_id="1")
    ms.event_time_raw = int(ms.event_time_raw) * 1000
    stale = copy("server", event_id="2", minute=0, sent_minute=8 * 24 * 60, line_no=2)
    hashed = copy(
        "server", event_id="3", minute=5, line_no=3, user_data={"fbp": "a" * 64, "client_user_agent": UA}
    )
    load(store, [ms, stale, hashed])
    found = contract_violations(store, Scope(), contract(required=["event_time", "fbp"], match_keys=["fbp"]))
    assert sorted((v.rule, v.parameter, v.detail, v.copies) for v in found) == [
        ("invalid_parameter", "event_time", "milliseconds", 1),
        ("invalid_parameter", "event_time", "stale", 1),
        ("invalid_parameter", "fbp", "hashed_forbidden", 1),
        ("missing_match_key", "fbp", "hashed_forbidden", 1),
    ]
    assert "carry an invalid event_time (milliseconds)" in found[0].message + found[1].message


# --- fixing a violating copy: event_id from the linked order, contract re-checked -------------------------


def test_fix_fills_event_id_from_the_linked_order_and_rechecks_the_contract(store: Store) -> None:
    """b1: a browser Purchase with no event_id and no order_id, 2 minutes after order #2296 (same fbp:
    linked by fbp). s1: a server Purchase, order_id '77', consent denied, currency EUR (USD only).
    Fixing b1's 'event_id missing' fills '2296' and leaves no contract warning; fixing s1 keeps two
    warnings (consent denied, EUR not allowed), and an edited payload keeps the stored consent."""
    load_truth(store, [order("#2296", 0, fbp=FBP)])
    load(
        store,
        [
            copy("browser", event_id=None, minute=2, line_no=1),
            copy(
                "server",
                event_id="77",
                minute=30,
                line_no=2,
                consent="denied",
                user_data={"fbp": "fb.1.1.2", "client_user_agent": UA},
                custom_data={"value": 9.0, "currency": "EUR", "order_id": "77"},
            ),
        ],
    )
    rules = contract(**RULED)
    found = ce.fixable(contract_violations(store, Scope(), rules))
    missing = next(v for v in found if v.channel == "browser" and v.parameter == "event_id")
    fix = ce.prepare_fix(store, rules, missing, 0, now=NOW_S)
    assert fix.correction.after["event_id"] == "2296"
    change = next(c for c in fix.correction.changes if c.field == "event_id")
    assert "from the order this copy is linked to" in change.why
    assert fix.contract_warnings == []
    denied = next(v for v in found if v.rule == "consent")
    denied_fix = ce.prepare_fix(store, rules, denied, 0, now=NOW_S)
    assert [w.split(":")[0] for w in denied_fix.contract_warnings] == [
        "consent denied",
        "currency EUR is not allowed by the contract (allowed",
    ]
    edited = ce.refix(
        ce.pretty(denied_fix.correction.after),
        rules,
        "Purchase",
        "server",
        now=NOW_S,
        linked=denied_fix.linked,
        consent=denied_fix.consent,
    )
    assert edited.contract_warnings == denied_fix.contract_warnings


def test_contract_warnings_name_what_is_still_broken() -> None:
    """A payload with no event_id and no value, under the order rule with value required."""
    rule = purchase(event_id_rule="order_id_without_hash")
    payload = {
        "event_name": "Purchase",
        "event_time": 1,
        "action_source": "website",
        "user_data": {"fbp": FBP},
    }
    warnings = ce.contract_warnings(payload, rule, consent="granted")
    assert warnings[0].startswith("event_id still missing (rule: order_id_without_hash)")
    assert "value missing: the contract requires it" in warnings
    assert ce.contract_warnings(payload, None) == []
    granted_only = purchase(consent="granted", event_id_rule="none")
    assert ce.contract_warnings(payload, granted_only, consent="unknown")[0].startswith("consent unknown")


@pytest.mark.parametrize(
    "text", ["", "pixel_id: '111'\n", "pixel_id: '111'\nevents: {}\n", "# only a comment\n"]
)
def test_cli_empty_contract_file_exits_2(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """A file naming no event is an error (it would check nothing), named by field."""
    path = tmp_path / "empty.yaml"
    path.write_text(text, encoding="utf-8")
    db = ["--db", store.path]
    store.close()
    assert main_quiet([*db, "contracts", "validate", "--file", str(path)]) == 2
    captured = capsys.readouterr()
    assert "valid" not in captured.out
    assert captured.err.startswith(
        "capi-desk: error: empty.yaml: events: a contract names at least one event"
    )


def test_save_refuses_an_empty_contract(store: Store, contracts_folder: Path) -> None:
    with pytest.raises(ContractError, match="names at least one event"):
        save_contract(store, Contract(pixel_id=PIXEL))
    assert not (contracts_folder / f"{PIXEL}.yaml").exists()


def test_cli_missing_file_says_what_to_do(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", store.path]
    store.close()
    assert main_quiet([*db, "contracts", "validate", "--file", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert "no such file; check the path" in err and "<pixel_id>.yaml" in err
    assert "FileNotFoundError" not in err
    assert main_quiet([*db, "contracts", "validate", "--file", str(tmp_path)]) == 2
    assert "a folder, not a file" in capsys.readouterr().err


def test_cli_pixel_without_copies(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    """Pixel 999 has no copies in a store holding pixel 111's: say so and list 111; exit 2."""
    load(store, [copy("server")])
    db = ["--db", store.path]
    store.close()
    assert main_quiet([*db, "contracts", "validate", "--pixel-id", "999"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        f"capi-desk: error: the store has no copies for pixel 999 — its pixels: {PIXEL}"
    )
    assert captured.out == ""


@pytest.mark.parametrize("command", ["validate", "fix"])
def test_cli_contracts_refuse_from_after_to(
    store: Store, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--from`` after ``--to`` is a one-line usage error (exit 2), as for report and pairs, not an empty
    list of violations."""
    from capi_core.cli import main

    db = ["--db", store.path]
    store.close()
    assert main([*db, "contracts", command, "--from", "2026-11-10", "--to", "2026-11-01"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--from 2026-11-10 is after --to 2026-11-01" in err
