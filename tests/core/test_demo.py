"""The demo shop generator: determinism, the real file formats, and a manifest that matches the files.

Every expected figure here is recomputed independently from the written files (csv / json / urllib
parsing, no demo code), then compared with the manifest the generator computed while writing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capi_core.demo import DemoConfig, DemoManifest, generate, scaled_config
from capi_core.demo.copies import BrowserCopy, ServerCopy
from capi_core.demo.meta_tally import MetaTally, counted_purchases
from capi_core.demo.shop import from_ms, shop_time, to_ms
from capi_core.demo.wire import quote as demo_quote

ENVELOPE_KEYS = {"sent_at", "pixel_id", "consent", "request", "response"}
PAID = ("paid", "partially_refunded")
SMALL = DemoConfig(orders=200)


@dataclass(frozen=True)
class Demo:
    """The parsed files of one generated demo shop."""

    folder: Path
    manifest: DemoManifest
    header: list[str]
    rows: list[dict[str, str]]
    envelopes: list[dict[str, Any]]
    beacons: list[dict[str, list[str]]]

    @property
    def events(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(envelope, server event) pairs."""
        return [(env, event) for env in self.envelopes for event in env["request"]["data"]]


def _read(folder: Path, manifest: DemoManifest) -> Demo:
    with (folder / "orders_export.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [dict(zip(header, row, strict=True)) for row in reader]
    lines = (folder / "capi_log.jsonl").read_text(encoding="utf-8").splitlines()
    urls = (folder / "pixel_beacons.txt").read_text(encoding="utf-8").splitlines()
    beacons = [parse_qs(urlsplit(url).query, keep_blank_values=True) for url in urls]
    return Demo(folder, manifest, header, rows, [json.loads(line) for line in lines], beacons)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The default demo shop (1,500 orders, seed 42), generated once for the module."""
    folder = tmp_path_factory.mktemp("demo")
    return _read(folder, generate(folder))


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_same_seed_writes_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    generate(tmp_path / "a", SMALL)
    generate(tmp_path / "b", SMALL)
    generate(tmp_path / "c", DemoConfig(orders=200, seed=7))
    first, again, other = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    # the shop's three files, the lead forms' three (lead_beacons, lead_capi_log, crm_leads), Meta's view
    # (the Ads Manager export, three Dataset Quality answers), the manifest
    assert list(first) == [
        "ads_manager_export.csv", "capi_log.jsonl", "crm_leads.csv", "dataset_quality_2026-10-26.json",
        "dataset_quality_2026-11-09.json", "dataset_quality_2026-11-16.json", "lead_beacons.txt",
        "lead_capi_log.jsonl", "manifest.json", "orders_export.csv", "pixel_beacons.txt",
    ]  # fmt: skip
    assert first == again
    assert all(first[name] != other[name] for name in first)


def test_orders_export_has_shopify_layout(demo: Demo) -> None:
    """79 columns, one row per line item, order columns on the first row only, ``#1001``-style names."""
    assert len(demo.header) == 79
    assert demo.header[:3] == ["Name", "Email", "Financial Status"]
    assert demo.header[-1] == "Payment References"
    names = [row["Name"] for row in demo.rows]
    assert len(set(names)) == demo.manifest.counts["orders"] == 1500
    assert len(demo.rows) == demo.manifest.counts["order_rows"]
    assert all(name.startswith("#") and name[1:].isdigit() for name in names)
    seen: set[str] = set()
    for row in demo.rows:
        first = row["Name"] not in seen
        seen.add(row["Name"])
        assert bool(row["Financial Status"]) == first and bool(row["Total"]) == first
        assert row["Lineitem sku"] and row["Created at"]
    statuses = {row["Financial Status"] for row in demo.rows if row["Financial Status"]}
    assert statuses == {"paid", "pending", "refunded", "partially_refunded", "voided"}


def test_orders_export_header_matches_real_shopify_export(demo: Demo, samples: Path) -> None:
    with (samples / "shopify" / "paramxjyot_orders_export_1.csv").open(
        encoding="utf-8", newline=""
    ) as handle:
        assert demo.header == next(csv.reader(handle))


def test_created_at_crosses_the_dst_change(demo: Demo) -> None:
    """US Eastern: -0400 until 2026-11-01 06:00 UTC, -0500 after; both parse back to UTC in the period."""
    offsets = {}
    for row in demo.rows:
        moment = dt.datetime.strptime(row["Created at"], "%Y-%m-%d %H:%M:%S %z")
        utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
        assert demo.manifest.period_start <= utc < demo.manifest.period_end
        expected = "-0400" if utc < dt.datetime(2026, 11, 1, 6) else "-0500"
        assert row["Created at"].endswith(expected)
        offsets[expected] = True
    assert set(offsets) == {"-0400", "-0500"}


def test_orders_carry_messy_but_fake_contact_shapes(demo: Demo) -> None:
    firsts = [row for row in demo.rows if row["Financial Status"]]
    emails = [row["Email"] for row in firsts if row["Email"]]
    phones = [row["Billing Phone"] for row in firsts if row["Billing Phone"]]
    assert all(
        e.strip().lower().split("@")[1] in ("example.com", "example.net", "example.org") for e in emails
    )
    assert all("555" in p or "7946" in p for p in phones)
    assert any(p.startswith("'+1 ") for p in phones) and any(p.startswith("(") for p in phones)
    assert any(e != e.strip() for e in emails) and any(e != e.lower() for e in emails)
    with_fbp = [row for row in firsts if row["Note Attributes"].startswith("_fbp: fb.1.")]
    assert len(with_fbp) > 0.8 * len(firsts)


def test_capi_log_lines_are_envelopes_in_send_order(demo: Demo) -> None:
    assert len(demo.envelopes) == demo.manifest.counts["capi_log_lines"]
    sent = [env["sent_at"] for env in demo.envelopes]
    assert sent == sorted(sent)
    for env in demo.envelopes:
        assert set(env) == ENVELOPE_KEYS
        assert env["consent"] in ("granted", "denied", "unknown")
        assert env["sent_at"].endswith("Z")
        assert ("events_received" in env["response"]) != ("error" in env["response"])
        (event,) = env["request"]["data"]
        assert event["action_source"] == "website"
        assert isinstance(event["event_time"], int) and isinstance(event["user_data"], dict)


def test_beacon_lines_are_pixel_urls(demo: Demo) -> None:
    urls = (demo.folder / "pixel_beacons.txt").read_text(encoding="utf-8").splitlines()
    assert len(urls) == demo.manifest.counts["pixel_beacon_lines"]
    assert all(url.startswith("https://www.facebook.com/tr/?id=") for url in urls)
    assert all(b["id"] == ["1234567890123456"] and len(b["ev"]) == 1 for b in demo.beacons)
    stamps = [int(b["ts"][0]) for b in demo.beacons]
    assert stamps == sorted(stamps)


def test_event_volume_and_copy_counts(demo: Demo) -> None:
    """~10–15k copies at 1,500 orders; the manifest's per-event counts add up to the file lines (the shop's
    files, plus the lead forms' files, whose copies are all ``Lead``)."""
    server = sum(n for key, n in demo.manifest.copies.items() if key.startswith("server:"))
    browser = sum(n for key, n in demo.manifest.copies.items() if key.startswith("browser:"))
    lead_server = len((demo.folder / "lead_capi_log.jsonl").read_text(encoding="utf-8").splitlines())
    lead_browser = len((demo.folder / "lead_beacons.txt").read_text(encoding="utf-8").splitlines())
    assert (server, browser) == (len(demo.envelopes) + lead_server, len(demo.beacons) + lead_browser)
    assert (lead_server, lead_browser) == (
        demo.manifest.copies["server:Lead"],
        demo.manifest.copies["browser:Lead"],
    )
    assert 10_000 <= server + browser <= 15_000
    purchases = sum(1 for b in demo.beacons if b["ev"] == ["Purchase"])
    assert purchases == demo.manifest.copies["browser:Purchase"]


def _server_ids(demo: Demo) -> set[str]:
    ids = set()
    for _, event in demo.events:
        if event["event_name"].lower() == "purchase":
            ids.add(str(event.get("custom_data", {}).get("order_id", "")))
            ids.add(str(event.get("event_id", "")))
    return ids


def _sent_ms(env: dict[str, Any]) -> int:
    return to_ms(dt.datetime.fromisoformat(env["sent_at"].removesuffix("Z")))


def _event_ms(event: dict[str, Any]) -> int:
    seconds = event["event_time"]
    return seconds if seconds > 100_000_000_000 else seconds * 1000


def _drift_eidless_purchases(demo: Demo) -> int:
    """Purchase beacons without eid from the deploy day on: the redeploy is never rolled back, so the
    window runs to the end of the period (no upper bound)."""
    start = to_ms(dt.datetime(2026, 11, 4))
    return sum(
        1 for b in demo.beacons if b["ev"] == ["Purchase"] and "eid" not in b and start <= int(b["ts"][0])
    )


def _missing_orders(demo: Demo) -> int:
    reached = _server_ids(demo) | {b["eid"][0].lstrip("#") for b in demo.beacons if "eid" in b}
    paid = {row["Name"][1:] for row in demo.rows if row["Financial Status"] in PAID}
    return len(paid - reached)


def _phantoms(demo: Demo) -> int:
    known = {row["Name"][1:] for row in demo.rows}
    return sum(
        1
        for _, event in demo.events
        if event["event_name"] == "Purchase" and event["custom_data"]["order_id"] not in known
    )


def _server_count(predicate: Callable[[dict[str, Any], dict[str, Any]], bool]) -> Callable[[Demo], int]:
    return lambda demo: sum(1 for env, event in demo.events if predicate(env, event))


#: code -> how to count it from the files alone (each a direct reading of the injection).
RECOUNTS: dict[str, Callable[[Demo], int]] = {
    "DEDUP_EVENT_NAME_MISMATCH": _server_count(lambda env, ev: ev["event_name"] == "purchase"),
    "SECRET_IN_LOGS": _server_count(lambda env, ev: "access_token" in env["request"]),
    "RECON_SPIKE": _drift_eidless_purchases,
    "DEDUP_PIXEL_MISMATCH": _server_count(lambda env, ev: env["pixel_id"] == "6543210987654321"),
    "PARAM_INVALID_CURRENCY": _server_count(
        lambda env, ev: ev.get("custom_data", {}).get("currency") == "US$"
    ),
    "PARAM_INVALID_VALUE": _server_count(
        lambda env, ev: isinstance(ev.get("custom_data", {}).get("value"), str)
    ),
    "PARAM_EVENT_TIME_MS": _server_count(lambda env, ev: ev["event_time"] > 100_000_000_000),
    "MATCH_SHARED_IP": _server_count(lambda env, ev: ev["user_data"].get("client_ip_address") == "10.0.0.5"),
    "CONSENT_DENIED_SENT": _server_count(lambda env, ev: env["consent"] == "denied"),
    "TEST_CODE_IN_PRODUCTION": _server_count(lambda env, ev: "test_event_code" in env["request"]),
    "EMQ_LOW": _server_count(
        lambda env, ev: (
            ev["event_name"] == "InitiateCheckout"
            and set(ev["user_data"]) == {"fbp", "client_ip_address", "client_user_agent"}
        )
    ),
    "FRESHNESS_DELAYED": _server_count(lambda env, ev: _sent_ms(env) - _event_ms(ev) > 2 * 3_600_000),
    "PARAM_EVENT_TIME_STALE": _server_count(lambda env, ev: _sent_ms(env) - _event_ms(ev) > 7 * 86_400_000),
    "MATCH_INSUFFICIENT_KEYS": _server_count(
        lambda env, ev: set(ev["user_data"]) == {"ct", "country", "st", "zp", "ge", "client_user_agent"}
    ),
    "DEDUP_REUSED_EVENT_ID": lambda demo: (
        sum(1 for _, ev in demo.events if ev.get("event_id") == "undefined")
        + sum(1 for b in demo.beacons if b.get("eid") == ["undefined"])
    ),
    "PARAM_NONSTANDARD_EVENT_NAME": lambda demo: (
        sum(1 for _, ev in demo.events if ev["event_name"] in ("purchase", "AddToCart "))
        + sum(1 for b in demo.beacons if b["ev"] == ["AddToCart "])
    ),
    "DEDUP_EVENT_ID_MISMATCH": lambda demo: sum(
        1 for b in demo.beacons if b.get("eid", [""])[0].startswith("#")
    ),
    "RECON_MISSING": _missing_orders,
    "RECON_PHANTOM": _phantoms,
}


@pytest.mark.parametrize("code", sorted(RECOUNTS))
def test_manifest_counts_equal_counts_recomputed_from_files(demo: Demo, code: str) -> None:
    """Each figure is a plain count over the parsed files, e.g. envelopes whose event_name is "purchase"."""
    record = demo.manifest.defect(code)
    assert record.count == RECOUNTS[code](demo)
    assert record.count > 0
    assert 1 <= len(record.examples) <= 5


def test_deploy_day_is_the_only_time_purchase_beacons_lose_their_eid(demo: Demo) -> None:
    eidless = sum(1 for b in demo.beacons if b["ev"] == ["Purchase"] and "eid" not in b)
    assert eidless == _drift_eidless_purchases(demo) == demo.manifest.defect("RECON_SPIKE").count
    spike = demo.manifest.defect("RECON_SPIKE").details
    assert (spike["deploy_day"], spike["note"]) == ("2026-11-04", "checkout redeploy")
    assert demo.manifest.annotations == [(dt.date(2026, 11, 4), "checkout redeploy")]


def test_raw_email_appears_only_where_unhashed_pii_was_injected(demo: Demo) -> None:
    raw = sum(1 for _, ev in demo.events if any("@" in value for value in ev["user_data"].get("em", [])))
    assert raw == demo.manifest.defect("MATCH_UNHASHED_PII").details.get("em", 0)


def test_coverage_ground_truth_for_browser_only_events(demo: Demo) -> None:
    """AddToCart coverage = browser copies whose eid has a server copy of the same name / browser copies."""
    server_ids = {ev.get("event_id") for _, ev in demo.events if ev["event_name"] == "AddToCart"}
    carts = [b for b in demo.beacons if b["ev"] == ["AddToCart"]]
    covered = sum(1 for b in carts if b["eid"][0] in server_ids)
    details = demo.manifest.defect("COVERAGE_BELOW_GOAL").details
    assert details["AddToCart:browser"] == len(carts)
    assert details["AddToCart:coverage"] == round(covered / len(carts), 4) < 0.75


def test_every_paid_tracked_order_sends_purchase_with_its_number(demo: Demo) -> None:
    """Server Purchase event_id and order_id are the order number without '#', when both are present."""
    for _, event in demo.events:
        if event["event_name"] == "Purchase" and "event_id" in event:
            assert event["event_id"] == event["custom_data"]["order_id"]


def test_manifest_json_round_trips(demo: Demo) -> None:
    text = (demo.folder / "manifest.json").read_text(encoding="utf-8")
    assert DemoManifest.model_validate_json(text) == demo.manifest
    assert {record.code for record in demo.manifest.defects} >= set(RECOUNTS)


def test_scaled_config_generates_at_a_small_size(tmp_path: Path) -> None:
    config = scaled_config(300, seed=3)
    assert (config.orders, config.seed, config.weeks) == (300, 3, 6)
    manifest = generate(tmp_path, config)
    assert manifest.counts["orders"] == 300
    with (tmp_path / "orders_export.csv").open(encoding="utf-8", newline="") as handle:
        assert len({row["Name"] for row in csv.DictReader(handle)}) == 300


@pytest.mark.parametrize(
    "changes",
    [
        {"orders": 0},
        {"seed": -1},
        {"refunded_rate": 1.5},
        {"dedup_missing_event_id": 0.6, "recon_missing": 0.5},
        {"refunded_rate": 0.5, "voided_rate": 0.5},
    ],
)
def test_config_rejects_impossible_values(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        DemoConfig(**changes)


@given(st.integers(min_value=to_ms(dt.datetime(2025, 1, 1)), max_value=to_ms(dt.datetime(2028, 12, 31))))
def test_shop_time_parses_back_to_the_same_instant(ms: int) -> None:
    text = shop_time(ms)
    moment = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").astimezone(dt.UTC).replace(tzinfo=None)
    assert moment == from_ms(ms - ms % 1000)
    assert text[-5:] in ("-0400", "-0500")


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_beacon_quoting_matches_urllib(text: str) -> None:
    assert demo_quote(text) == quote(text, safe="")


def test_workers_write_the_same_bytes_as_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Part files merged by receive time and concatenated newest range first equal the one-pass output."""
    monkeypatch.setattr("capi_core.demo.writer._MIN_ORDERS_PER_WORKER", 1)
    one = generate(tmp_path / "one", SMALL)
    two = generate(tmp_path / "two", SMALL, workers=2)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    assert one == two


# --- the lead-gen forms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFiles:
    """The lead forms' parsed files: CRM export rows, Lead envelopes, Lead beacons."""

    crm: list[dict[str, str]]
    envelopes: list[dict[str, Any]]
    beacons: list[dict[str, list[str]]]


def _lead_files(folder: Path) -> LeadFiles:
    with (folder / "crm_leads.csv").open(encoding="utf-8", newline="") as handle:
        crm = list(csv.DictReader(handle))
    lines = (folder / "lead_capi_log.jsonl").read_text(encoding="utf-8").splitlines()
    urls = (folder / "lead_beacons.txt").read_text(encoding="utf-8").splitlines()
    beacons = [parse_qs(urlsplit(url).query, keep_blank_values=True) for url in urls]
    return LeadFiles(crm, [json.loads(line) for line in lines], beacons)


def test_lead_files_match_the_lead_manifest(demo: Demo) -> None:
    """Recounted from the files: every server Lead is one form post (web fill or spam), every beacon one
    unblocked web fill; a Lead whose event_id is not a CRM lead_id is unmatched (spam, sync loss); the
    matched ones are the web leads; CRM rows with no Lead event are the offline leads; qualified = a
    qualified_at date; the facebook / broad_audience campaign qualifies under 20 %."""
    files, leads = _lead_files(demo.folder), demo.manifest.leads
    assert leads is not None
    crm_ids = {row["lead_id"] for row in files.crm}
    server_ids = [env["request"]["data"][0]["event_id"] for env in files.envelopes]
    beacon_ids = {b["eid"][0] for b in files.beacons}
    assert len(files.crm) == leads.crm_leads == demo.manifest.counts["crm_leads"]
    assert len(server_ids) == len(set(server_ids)) == leads.lead_events == leads.web_fills + leads.spam_fills
    assert beacon_ids <= set(server_ids)  # every beacon has its server twin: one counted Lead per fill
    unmatched = [i for i in server_ids if i not in crm_ids]
    assert len(unmatched) == leads.unmatched_events == demo.manifest.defect("LEAD_UNMATCHED").count
    assert leads.matched_leads == len(crm_ids & set(server_ids))
    assert leads.crm_leads_without_event == len(crm_ids - set(server_ids)) == leads.offline_leads
    assert leads.server_only == len(crm_ids & set(server_ids) - beacon_ids)
    matched_rows = [row for row in files.crm if row["lead_id"] in set(server_ids)]
    assert leads.qualified_leads == sum(1 for row in matched_rows if row["qualified_at"])
    assert leads.won_leads == sum(1 for row in matched_rows if row["won_at"])
    broad = [
        r for r in matched_rows if (r["utm_source"], r["utm_campaign"]) == ("facebook", "broad_audience")
    ]
    figures = leads.by_campaign["facebook / broad_audience"]
    assert (figures.matched_leads, figures.qualified_leads) == (
        len(broad),
        sum(1 for r in broad if r["qualified_at"]),
    )
    assert figures.qualified_leads / figures.matched_leads < 0.2
    assert (
        demo.manifest.defect("LEAD_LOW_QUALIFICATION").count
        == figures.matched_leads - figures.qualified_leads
    )
    assert 0.65 <= leads.matched_events / leads.lead_events <= 0.75  # "~70 % of Lead events match a CRM lead"


def test_lead_events_are_spread_over_the_period_and_sorted(demo: Demo) -> None:
    files = _lead_files(demo.folder)
    sent = [env["sent_at"] for env in files.envelopes]
    assert sent == sorted(sent)
    stamps = [int(b["ts"][0]) for b in files.beacons]
    assert stamps == sorted(stamps)
    first, last = to_ms(demo.manifest.period_start), to_ms(demo.manifest.period_end)
    assert all(first <= stamp < last for stamp in stamps)
    assert all(event["event_name"] == "Lead" for env in files.envelopes for event in env["request"]["data"])


def test_leads_leave_the_shop_files_unchanged(tmp_path: Path) -> None:
    """The lead forms draw from their own random stream: without them the shop's files are the same bytes."""
    generate(tmp_path / "with", SMALL)
    generate(tmp_path / "without", DemoConfig(orders=200, form_slots_per_order=0.0))
    with_leads, without = _files(tmp_path / "with"), _files(tmp_path / "without")
    for name in ("orders_export.csv", "capi_log.jsonl", "pixel_beacons.txt"):
        assert with_leads[name] == without[name]
    assert without["lead_capi_log.jsonl"] == b"" and with_leads["lead_capi_log.jsonl"]


# --- Meta's own view: the Ads Manager export and the Dataset Quality answers --------------------------

OTHER_FILES = (
    "orders_export.csv", "capi_log.jsonl", "pixel_beacons.txt", "crm_leads.csv", "lead_capi_log.jsonl",
    "lead_beacons.txt",
)  # fmt: skip


def test_meta_view_leaves_every_other_file_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Meta's side reads the copies and draws from its own streams: without it the other files are the
    same bytes."""
    generate(tmp_path / "with", SMALL)
    monkeypatch.setattr(MetaTally, "add", lambda self, config, index, copies: None)
    monkeypatch.setattr(
        "capi_core.demo.writer.write_meta_reporting", lambda out_dir, config, tally: ({}, None)
    )
    manifest = generate(tmp_path / "without", SMALL)
    with_meta, without = _files(tmp_path / "with"), _files(tmp_path / "without")
    assert manifest.meta is None and "ads_manager_export.csv" not in without
    for name in OTHER_FILES:
        assert with_meta[name] == without[name], name


def _export(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (folder / "ads_manager_export.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_ads_export_has_the_real_export_layout(demo: Demo, samples: Path) -> None:
    """Every column but the purchase value (a column a user adds in Ads Manager) is a column of the real
    export, with the same spelling, and the header is quoted the way Ads Manager quotes it."""
    header, _ = _export(demo.folder)
    (sample,) = (samples / "meta_ads_reporting").glob("*.csv")
    with sample.open(encoding="utf-8", newline="") as handle:
        real = next(csv.reader(handle))
    assert set(header) - set(real) == {"Purchases conversion value"}
    first_line = (demo.folder / "ads_manager_export.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith('"Reporting starts","Reporting ends","Campaign name"')
    assert ',Results,"Result indicator"' in first_line


def test_ads_export_equals_the_meta_manifest(demo: Demo) -> None:
    """Recounted with csv only: 5 ads x 42 days, one day per row, newest day first; purchases and value per
    day and in total as the manifest says; Results = Purchases on the purchase-optimised ads."""
    meta = demo.manifest.meta
    assert meta is not None
    _, rows = _export(demo.folder)
    assert len(rows) == meta.export_rows == demo.manifest.counts["ads_manager_rows"] == 5 * 42
    assert all(r["Reporting starts"] == r["Reporting ends"] for r in rows)
    days = [r["Reporting starts"] for r in rows]
    assert days == sorted(days, reverse=True)
    assert (days[-1], days[0]) == (meta.first_day.isoformat(), meta.last_day.isoformat())
    per_day: Counter[str] = Counter()
    for row in rows:
        per_day[row["Reporting starts"]] += int(row["Purchases"] or 0)
        if row["Result indicator"] == "actions:offsite_conversion.fb_pixel_purchase":
            assert row["Results"] == row["Purchases"]
        assert row["Attribution setting"] == "7-day click, 1-day view, or 1-day engaged-view"
    assert dict(per_day) == meta.reported_per_day
    assert sum(per_day.values()) == meta.reported_purchases
    value = sum(float(r["Purchases conversion value"] or 0) for r in rows)
    assert value == pytest.approx(meta.reported_value)
    assert sum(float(r["Amount spent (USD)"]) for r in rows) == pytest.approx(meta.spend)


def test_reported_purchases_follow_what_meta_counts(demo: Demo) -> None:
    """About ATTRIBUTED_SHARE (60 %) of the Purchases Meta counts are reported, before and after the
    redeploy; the redeploy doubles what Meta counts, so the daily reported purchases jump with it."""
    meta = demo.manifest.meta
    assert meta is not None
    deploy = demo.manifest.config.deploy_day.isoformat()
    before = [d for d in meta.reported_per_day if d < deploy]
    after = [d for d in meta.reported_per_day if d >= deploy]
    for days in (before, after):
        share = sum(meta.reported_per_day[d] for d in days) / sum(meta.counted_per_day[d] for d in days)
        assert 0.55 <= share <= 0.65
    mean_before = sum(meta.reported_per_day[d] for d in before) / len(before)
    mean_after = sum(meta.reported_per_day[d] for d in after) / len(after)
    assert mean_after > 1.6 * mean_before
    counted_before = sum(meta.counted_per_day[d] for d in before) / len(before)
    counted_after = sum(meta.counted_per_day[d] for d in after) / len(after)
    assert 1.7 < counted_after / counted_before < 2.1  # every order twice, bar the blocked buyers


def test_quality_snapshots_equal_the_meta_manifest(demo: Demo) -> None:
    """Parsed with json only: Meta's EMQ, event coverage and event_id feedback per event as the manifest
    records them; the Purchase coverage by event_id drops from above the 75 % goal to nothing after the
    redeploy, because the beacons lose their event_id, while Meta's event coverage (any dedup key) stays
    above it: the beacons still share their fbp with the server copies."""
    meta = demo.manifest.meta
    assert meta is not None
    assert [s.file for s in meta.snapshots] == [
        f"dataset_quality_2026-{day}.json" for day in ("10-26", "11-09", "11-16")
    ]
    for snapshot in meta.snapshots:
        body = json.loads((demo.folder / snapshot.file).read_text(encoding="utf-8"))
        by_event = {item["event_name"]: item for item in body["web"]}
        assert set(by_event) == set(snapshot.events)
        for name, figures in snapshot.events.items():
            item = by_event[name]
            assert item["event_match_quality"]["composite_score"] == figures.emq
            assert item["event_coverage"]["percentage"] / 100 == figures.event_coverage
            (eid,) = [k for k in item["dedupe_key_feedback"] if k["dedupe_key"] == "event_id"]
            assert eid["browser_events_with_dedupe_key"]["percentage"] / 100 == figures.browser_event_id_share
    first, last = (s.events["Purchase"] for s in (meta.snapshots[0], meta.snapshots[-1]))
    assert first.event_id_coverage > 0.75 and first.browser_event_id_share == 1.0
    assert last.event_id_coverage < 0.1 and last.browser_event_id_share == 0.0
    assert first.event_coverage > 0.75 and last.event_coverage > 0.75


# --- Meta's counting of one order's Purchase copies (meta_tally.counted_purchases) ---------------------

_CONFIG = DemoConfig()
_T = 1_793_000_000_000  # some instant in the demo period, in ms


def _beacon(eid: str | None, ts: int = _T, fbp: str = "fb.1.1.1") -> BrowserCopy:
    return BrowserCopy(
        event_name="Purchase", event_id=eid, ts_ms=ts, pixel_id=_CONFIG.pixel_id, url="https://x/ty",
        fbp=fbp, fbc=None, custom=[("value", "10")], em_hash=None, counter=0, example="1",
    )  # fmt: skip


def _server(
    eid: str | None, sent: int = _T + 5_000, *, fbp: str = "fb.1.1.1", pixel: str = _CONFIG.pixel_id
) -> ServerCopy:
    return ServerCopy(
        event_name="Purchase", event_time=sent // 1000, event_id=eid, sent_ms=sent, pixel_id=pixel,
        consent="granted", url="https://x/ty", user_data={"fbp": fbp}, custom_data={"value": 12.5},
        trace="A", example="1",
    )  # fmt: skip


_HOUR = 3_600_000


@pytest.mark.parametrize(
    ("copies", "expected"),
    [
        ([_beacon("1"), _server("1")], 1),  # merged pair
        ([_beacon(None), _server("1")], 2),  # the redeploy: the beacon has no eid
        ([_beacon("1"), _server(None)], 1),  # eid-less server after a beacon with its fbp: dropped
        ([_beacon("1", _T + 60_000), _server(None, _T)], 2),  # eid-less server before the beacon
        ([_beacon("1"), _server(None, fbp="fb.1.2.2")], 2),  # eid-less server, another fbp
        ([_beacon("1"), _server("1", _T + 49 * _HOUR)], 2),  # outside Meta's 48 h window
        ([_server("1"), _server("1", _T + 35_000)], 2),  # webhook retry of a Pixel-blocked buyer
        ([_beacon("1"), _server("1", pixel="6543210987654321")], 1),  # the server copy on another dataset
        ([_beacon("#1"), _server("1")], 2),  # '#1' vs '1'
    ],
)
def test_counted_purchases_follow_meta_dedup(copies: list[Any], expected: int) -> None:
    """Hand-counted under Meta's documented rules (one count per merged pair, each unmerged copy counts)."""
    assert len(counted_purchases(_CONFIG, copies)) == expected


def test_rejected_and_phantom_copies_are_not_counted() -> None:
    rejected = _server("2")
    rejected.error = (2804003, "Event Timestamp Too Old", "too old")
    phantom = _server("STG-ABCDEF")
    phantom.tags.append(("RECON_PHANTOM", "no_truth"))
    assert counted_purchases(_CONFIG, [_beacon("2"), rejected, phantom]) == [_beacon("2")]
