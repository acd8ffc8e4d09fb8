"""SPEC §2 privacy rules end to end: raw PII and access tokens never reach the store file, its WAL, or the
CLI's output, whatever format carried them and whether the row was stored or quarantined.

Files with raw emails, phones, names, street addresses and an ``EAA...`` token are ingested through
``python -m capi_core``; then the store is checkpointed and closed, and its bytes (plus any ``.wal``) are
searched for every raw value and its normalized forms. Because DuckDB may compress strings on disk, the
same values are also searched for in every text column through SQL.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from capi_core import settings
from capi_core.store import Store

REPO = Path(__file__).resolve().parents[2]
SHOPIFY = REPO / "tests" / "fixtures" / "orders" / "shopify_orders.csv"

TOKEN = "EAAGm0PX4ZCpsBAKqZBv7ZCkYwZDZD7ZA3f9QzR8sVbN2x1LtY6uW"
EMAILS = ["Priya.Raman+ads@Example.ORG", "olaf.kowalski@example.net"]
#: Phones in several shapes, each with its digits-only form (what Meta's normalization keeps).
PHONES = {
    "+1 (415) 555-0143": "14155550143",
    "415.555.0198": "4155550198",
    "+44 7700 900461": "447700900461",
    "0049 30 9876543": "0049309876543",
}
NAMES = ["Zebulon", "Quixtanova", "Ottoline", "Wexcombe"]
STREETS = ["742 Evergreen Terrace", "17 Quillfeather Lane"]


def forbidden() -> list[str]:
    """Every raw value, its lowercase / normalized forms, and the phones' digits-only forms."""
    values = [TOKEN, *EMAILS, *PHONES, *PHONES.values(), *NAMES, *STREETS]
    values += [v.lower() for v in EMAILS + NAMES + STREETS]
    values += ["priya.raman@example.org", "4155550143", "7700900461", "309876543"]
    return sorted(set(values))


# --- helpers (duplicated from test_bad_input.py: test modules do not import each other)


def run_cli(db: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m capi_core --db DB ARGS`` in a real subprocess, from the repo root."""
    return subprocess.run(
        [sys.executable, "-m", "capi_core", "--db", str(db), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=300,
    )


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one read query on the store file."""
    with Store(db, read_only=True) as store:
        return store.query("test", sql).rows


def assert_clean_text(text: str, where: str) -> None:
    """None of the forbidden values in ``text`` (case-insensitive)."""
    lowered = text.lower()
    leaks = [value for value in forbidden() if value.lower() in lowered]
    assert not leaks, f"{where} holds {leaks}"


def assert_store_clean(db: Path) -> None:
    """Checkpoint and close, then search the file bytes (and any WAL) and every text column."""
    with Store(db) as store:
        store.query("checkpoint", "checkpoint")
    files = [path for path in db.parent.iterdir() if path.name.startswith(db.name)]
    assert db in files
    for path in files:
        data = path.read_bytes()
        for value in forbidden():
            for encoded in {value.encode(), value.lower().encode()}:
                assert encoded not in data, f"{value!r} found in the bytes of {path.name}"
    with Store(db, read_only=True) as store:
        columns = store.query(
            "text columns",
            """select table_name, column_name from information_schema.columns
            where table_schema = 'main' and data_type = 'VARCHAR'""",
        ).rows
        for table, column in columns:
            rows = store.query("column", f'select distinct "{column}" from "{table}"').rows
            assert_clean_text("\n".join(str(value) for (value,) in rows), f"{table}.{column}")


def ingest_clean(db: Path, source: str, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Ingest through the CLI; assert exit 0 and no PII in its stdout/stderr."""
    out = run_cli(db, "ingest", "--source", source, *extra, path)
    assert out.returncode == 0, out.stderr
    assert_clean_text(out.stdout + out.stderr, f"CLI output for {path.name}")
    return out


# --- files carrying PII -------------------------------------------------------------------------------


def _server_log(newline: str) -> bytes:
    """Log lines: raw PII in user_data (stored rows), tokens in URL and body, PII in quarantined lines."""
    phones = list(PHONES)
    user = {
        "em": EMAILS[0],
        "ph": [phones[0], phones[1]],
        "fn": NAMES[0],
        "ln": NAMES[1],
        "ct": "Springfield",
        "zp": "94105",
        "country": "US",
        "external_id": EMAILS[1],
    }
    event = {"event_name": "Purchase", "event_time": 1793620800, "event_id": "p1", "action_source": "website"}
    url = f"https://graph.facebook.com/v26.0/111/events?access_token={TOKEN}"
    lines = [
        {  # 2 tokens (URL parameter + body key)
            "sent_at": "2026-11-02T12:00:00Z",
            "pixel_id": "111",
            "request": {"url": url, "body": {"data": [{**event, "user_data": user}], "access_token": TOKEN}},
        },
        {  # 1 token
            "sent_at": "2026-11-02T12:01:00Z",
            "pixel_id": "111",
            "request": {
                "data": [{**event, "event_id": "p2", "user_data": {"em": EMAILS[1], "ph": phones[2]}}],
                "access_token": TOKEN,
            },
        },
        {  # quarantined: event without event_name, PII in user_data and in a free-text custom field
            "sent_at": "2026-11-02T12:02:00Z",
            "pixel_id": "111",
            "request": {
                "data": [
                    {
                        "event_time": 1793620800,
                        "user_data": {"em": EMAILS[0], "ph": phones[3], "fn": NAMES[2], "ln": NAMES[3]},
                        "custom_data": {"note": f"mail {EMAILS[1]} or call {phones[0]}"},
                    }
                ]
            },
        },
    ]
    text = [json.dumps(line) for line in lines]
    # quarantined: truncated JSON holding PII keys
    text.append(
        f'{{"sent_at": "2026-11-02T12:03:00Z", "request": {{"data": [{{"user_data": {{"em": "{EMAILS[1]}"'
    )
    text.append(f'{{"ph": "{phones[1]}", "fn": "{NAMES[0]}", "email": "{EMAILS[0]}"')
    return (newline.join(text) + newline).encode()


def _quarantined_token_log() -> bytes:
    """A log whose only token sits in a line that cannot be parsed (quarantined, masked)."""
    good = {
        "sent_at": "2026-11-02T12:00:00Z",
        "pixel_id": "111",
        "request": {"data": [{"event_name": "Lead"}]},
    }
    bad = f'{{"request": {{"url": "https://graph.facebook.com/v26.0/1/events?access_token={TOKEN}", "data": ['
    bare = f'{{"oops": "{TOKEN}", '
    return f"{json.dumps(good)}\n{bad}\n{bare}\n".encode()


def _shopify_with_pii(*, short_row: bool = False) -> bytes:
    """The Shopify fixture with our PII in Email, phones, names and addresses, plus a row with a bad
    Created at; ``short_row`` adds a row with too few fields (so its columns do not line up)."""
    rows = list(csv.reader(io.StringIO(SHOPIFY.read_text(encoding="utf-8"))))
    header = rows[0]
    phones = list(PHONES)
    values = {
        "Email": EMAILS[0],
        "Billing Name": f"{NAMES[0]} {NAMES[1]}",
        "Shipping Name": f"{NAMES[2]} {NAMES[3]}",
        "Billing Street": STREETS[0],
        "Billing Address1": STREETS[0],
        "Shipping Street": STREETS[1],
        "Shipping Address1": STREETS[1],
        "Billing Phone": phones[0],
        "Shipping Phone": phones[1],
        "Phone": phones[2],
    }
    for row in rows[1:]:
        for column, value in values.items():
            index = header.index(column)
            if index < len(row) and row[index]:
                row[index] = value
    bad = [""] * len(header)
    bad[header.index("Name")] = "#9001"
    bad[header.index("Email")] = EMAILS[1]
    bad[header.index("Billing Name")] = f"{NAMES[2]} {NAMES[3]}"
    bad[header.index("Billing Street")] = STREETS[1]
    bad[header.index("Billing Phone")] = phones[3]
    bad[header.index("Financial Status")] = "paid"
    bad[header.index("Created at")] = "yesterday"
    short = ["#9002", EMAILS[0], "paid", phones[1], f"{NAMES[0]} {NAMES[1]}", STREETS[0]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([*rows, bad, *([short] if short_row else [])])
    return out.getvalue().encode()


def _har_with_pii(indent: int | None = 2) -> bytes:
    """A HAR whose beacons carry ud[em]/ud[ph]/ud[fn]/ud[ln] raw (GET query and POST form)."""
    phones = list(PHONES)
    query_string = (
        f"id=111&ev=Purchase&eid=h1&ts=1793620800000&ud[em]={quote(EMAILS[0])}&ud[ph]={quote(phones[0])}"
        f"&ud[fn]={NAMES[0]}&ud[ln]={NAMES[1]}&dl={quote('https://shop.example/ty?order=1')}"
    )
    post = f"id=111&ev=Lead&eid=h2&ts=1793620801000&ud[em]={quote(EMAILS[1])}&ud[ph]={quote(phones[2])}"
    entries = [
        {
            "startedDateTime": "2026-11-02T12:00:00.000Z",
            "request": {
                "method": "GET",
                "url": f"https://www.facebook.com/tr/?{query_string}",
                "headers": [{"name": "User-Agent", "value": "Mozilla/5.0 TestBrowser/1.0"}],
                "queryString": [],
                "cookies": [],
            },
            "response": {"status": 200},
        },
        {
            "startedDateTime": "2026-11-02T12:00:01.000Z",
            "request": {
                "method": "POST",
                "url": "https://www.facebook.com/tr/",
                "headers": [],
                "queryString": [],
                "cookies": [],
                "postData": {"mimeType": "application/x-www-form-urlencoded", "text": post},
            },
            "response": {"status": 200},
        },
        {  # quarantined: a /tr beacon with no event name, PII in the URL
            "startedDateTime": "2026-11-02T12:00:02.000Z",
            "request": {
                "method": "GET",
                "url": f"https://www.facebook.com/tr/?id=111&ud[em]={quote(EMAILS[0])}&ud[fn]={NAMES[2]}",
                "headers": [],
                "queryString": [],
                "cookies": [],
            },
            "response": {"status": 200},
        },
    ]
    return json.dumps(
        {"log": {"version": "1.2", "creator": {"name": "test"}, "entries": entries}}, indent=indent
    ).encode()


def _generic_orders() -> bytes:
    """A generic orders CSV with email/phone/name/address columns and two bad rows holding PII."""
    phones = list(PHONES)
    rows = [
        [
            "order_id",
            "created_at",
            "email",
            "phone",
            "first_name",
            "last_name",
            "address",
            "total",
            "currency",
        ],
        ["G-1", "2026-11-02T10:00:00Z", EMAILS[0], phones[0], NAMES[0], NAMES[1], STREETS[0], "10.00", "USD"],
        ["G-2", "2026-11-02T11:00:00Z", EMAILS[1], phones[2], NAMES[2], NAMES[3], STREETS[1], "12.00", "EUR"],
        ["G-3", "not a date", EMAILS[1], phones[1], NAMES[0], NAMES[3], STREETS[0], "5.00", "USD"],
        ["", "2026-11-02T12:00:00Z", EMAILS[0], phones[3], NAMES[2], NAMES[1], STREETS[1], "7.00", "USD"],
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


# --- tests --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["fast-path", "python-path"])
def test_server_log_pii_and_tokens_never_stored(tmp_path: Path, newline: str) -> None:
    """Hand count: 3 tokens stripped (URL + body on line 1, body on line 2); 2 events stored; 3 lines
    quarantined (line 3 has no event_name, lines 4 and 5 are not valid JSON)."""
    path = tmp_path / "capi_log.jsonl"
    path.write_bytes(_server_log(newline))
    db = tmp_path / "store.duckdb"
    ingest_clean(db, "server", path)
    assert query(db, "select rows_read, rows_stored, rows_quarantined, secrets_stripped from batches") == [
        (5, 2, 3, 3)
    ]
    assert query(db, "select line_no from quarantine order by 1") == [(3,), (4,), (5,)]
    # the raw values were hashed, not dropped: em/ph/fn/ln are stored as 64-hex with a raw_pii verdict
    rows = query(db, "select em, ph, fn, ln, em_check from events where event_id = 'p1'")
    assert len(rows) == 1 and all(len(value) == 64 for value in rows[0][:4]) and rows[0][4] == "raw_pii"
    report = run_cli(db, "report", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert_clean_text(report.stdout + report.stderr, "report")
    assert_store_clean(db)


def test_token_in_quarantined_line_is_masked(tmp_path: Path) -> None:
    path = tmp_path / "token_log.jsonl"
    path.write_bytes(_quarantined_token_log())
    db = tmp_path / "store.duckdb"
    ingest_clean(db, "server", path)
    assert query(db, "select rows_stored, rows_quarantined from batches") == [(1, 2)]
    assert_store_clean(db)


def test_shopify_csv_pii_never_stored(tmp_path: Path) -> None:
    path = tmp_path / "orders_export.csv"
    path.write_bytes(_shopify_with_pii())
    db = tmp_path / "store.duckdb"
    ingest_clean(db, "orders", path)
    # the fixture's own two bad rows plus our bad "Created at" row
    assert query(db, "select count(*) from quarantine") == [(3,)]
    assert query(db, "select count(*) from truth where em is not null and length(em) = 64")[0][0] > 0
    assert_store_clean(db)


def test_har_with_raw_user_data_never_stored(tmp_path: Path) -> None:
    """Hand count: 2 beacons stored (GET Purchase, POST Lead), 1 quarantined (no ev)."""
    path = tmp_path / "checkout.har"
    path.write_bytes(_har_with_pii())
    db = tmp_path / "store.duckdb"
    ingest_clean(db, "browser", path)
    assert query(db, "select rows_read, rows_stored, rows_quarantined from batches") == [(3, 2, 1)]
    # the Pixel hashes advanced-matching values itself, so raw ud[em] is "valid" on the browser channel
    assert query(db, "select event_name, length(em), em_check from events order by 1") == [
        ("Lead", 64, "valid"),
        ("Purchase", 64, "valid"),
    ]
    assert_store_clean(db)


def test_generic_orders_csv_pii_never_stored(tmp_path: Path) -> None:
    """Hand count: 2 orders stored, 2 quarantined (bad date on line 4, empty id on line 5)."""
    path = tmp_path / "orders.csv"
    path.write_bytes(_generic_orders())
    db = tmp_path / "store.duckdb"
    ingest_clean(db, "orders", path)
    assert query(db, "select rows_read, rows_stored, rows_quarantined from batches") == [(4, 2, 2)]
    assert query(db, "select line_no from quarantine order by 1") == [(4,), (5,)]
    assert_store_clean(db)


def test_unreadable_file_error_never_shows_pii(tmp_path: Path) -> None:
    """A file of PII only (no record readable) fails with exit 2; the message must not echo the values."""
    path = tmp_path / "contacts.jsonl"
    lines = [json.dumps({"email": EMAILS[0], "phone": next(iter(PHONES)), "name": NAMES[0]}), "{" + EMAILS[1]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    for source in ("server", "browser", "orders"):
        out = run_cli(db, "ingest", "--source", source, path)
        assert out.returncode == 2
        assert_clean_text(out.stdout + out.stderr, f"error for --source {source}")


def test_shopify_misaligned_row_quarantine_masks_pii(tmp_path: Path) -> None:
    """A short row (6 fields) holding a name and a street: its quarantine text must not keep them."""
    path = tmp_path / "orders_export.csv"
    path.write_bytes(_shopify_with_pii(short_row=True))
    db = tmp_path / "store.duckdb"
    ingest_clean(db, "orders", path)
    assert query(db, "select count(*) from quarantine where reason like 'row has 6 fields%'") == [(1,)]
    assert_store_clean(db)


@pytest.mark.parametrize("source", ["browser", "server"])
def test_email_in_page_url_is_not_stored(tmp_path: Path, source: str) -> None:
    page = f"https://shop.example/thank-you?email={EMAILS[1]}&order=1"
    if source == "browser":
        text = f"https://www.facebook.com/tr/?id=111&ev=Purchase&ts=1793620800000&dl={quote(page)}\n"
    else:
        text = (
            json.dumps({"event_name": "Purchase", "event_time": 1793620800, "event_source_url": page}) + "\n"
        )
    path = tmp_path / "page_url.txt"
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "store.duckdb"
    ingest_clean(db, source, path)
    assert query(db, "select count(*) from events") == [(1,)]
    assert_store_clean(db)


# --- issue 12: tokens in any letter case, PII in page-URL parameters, Authorization values ------------

#: Token values planted in one place each (the place is in the name), so a leak says where it came from.
TOKENS = {
    "url": "swpTokUrlQ7z",
    "request_url": "swpTokReqW3x",
    "body_key": "swpTokKeyE5c",
    "header_bearer": "swpTokHdrR8v",
    "header_referer": "swpTokRefT2b",
    "fragment": "swpTokFrgY6n",
    "quarantine_bearer": "swpTokQbrU4m",
    "quarantine_url": "swpTokQurI9k",
    "beacon_dl": "swpTokBdlO1j",
    "beacon_param": "swpTokBprP5h",
    "beacon_quarantine": "swpTokBqrA3g",
}
URL_PHONE = "4155550199"
URL_FIRST = "Quillonza"
URL_LAST = "Brackwater"
URL_EMAIL = "sweep.person@example.net"
URL_PII = [URL_PHONE, URL_FIRST, URL_LAST, URL_EMAIL]


def _swept_values() -> list[str]:
    return sorted({*TOKENS.values(), *URL_PII, URL_EMAIL.replace("@", "%40")})


def _pii_page(token_key: str = "", token: str = "") -> str:
    """A thank-you page URL with a phone, names and allow-listed campaign keys (+ a token parameter)."""
    extra = f"&{token_key}={token}" if token_key else ""
    return (
        f"https://shop.example/thanks?phone={URL_PHONE}&first_name={URL_FIRST}&last_name={URL_LAST}"
        f"&utm_source=fb&fbclid=IwAR9{extra}"
    )


def _swept_server_log(newline: str) -> bytes:
    """3 stored events, 2 quarantined lines; 7 credentials counted: 5 in stored lines (URL, request URL,
    body key, Referer header text, fragment), 2 in the malformed line (Bearer + URL parameter). The Bearer
    header of line 2 is in no stored field (and not counted: only quarantined text is searched for
    Authorization values)."""
    event = {"event_name": "Purchase", "event_time": 1793620800, "action_source": "website",
             "user_data": {"em": "a" * 64}}  # fmt: skip
    lines = [
        {"sent_at": "2026-11-02T12:00:00Z", "pixel_id": "111", "request": {"data": [
            {**event, "event_id": "u1", "event_source_url": _pii_page("Access_Token", TOKENS["url"])}]}},
        {"sent_at": "2026-11-02T12:01:00Z", "pixel_id": "111",
         "headers": f"Authorization: Bearer {TOKENS['header_bearer']}\n"
                    f"Referer: https://shop.example/?access_TOKEN={TOKENS['header_referer']}",
         "request": {"url": f"https://graph.facebook.com/v26.0/111/events?ACCESS_TOKEN={TOKENS['request_url']}",
                     "body": {"data": [{**event, "event_id": "u2"}], "Access_Token": TOKENS["body_key"]}}},
        {"sent_at": "2026-11-02T12:02:00Z", "pixel_id": "111", "request": {"data": [
            {**event, "event_id": "u3", "event_source_url":
             f"https://shop.example/#/thanks?name={URL_FIRST}&Access_token={TOKENS['fragment']}&gclid=1"}]}},
        {"sent_at": "2026-11-02T12:03:00Z", "pixel_id": "111", "request": {"data": [
            {"event_time": 1793620800, "event_source_url": _pii_page(),
             "custom_data": {"note": URL_EMAIL}}]}},
    ]  # fmt: skip
    text = [json.dumps(line) for line in lines]
    text.append(  # malformed: cut short after an Authorization header and a request URL
        f'{{"headers": "authorization: bearer {TOKENS["quarantine_bearer"]}", "request": {{"url": '
        f'"https://graph.facebook.com/v26.0/1/events?Access_Token={TOKENS["quarantine_url"]}&phone={URL_PHONE}"'
    )
    return (newline.join(text) + newline).encode()


def _swept_beacons() -> bytes:
    """2 stored beacons, 1 quarantined (no ev); 3 credentials (encoded in dl, a parameter, quarantined)."""
    tr = "https://www.facebook.com/tr/?id=111&ts=1793620800000"
    lines = [
        f"{tr}&ev=Purchase&eid=b1&dl={quote(_pii_page('ACCESS_TOKEN', TOKENS['beacon_dl']), safe='')}",
        f"{tr}&ev=Lead&eid=b2&Access_Token={TOKENS['beacon_param']}&dl={quote(_pii_page(), safe='')}",
        f"{tr}&eid=b3&access_token={TOKENS['beacon_quarantine']}&dl={quote(_pii_page(), safe='')}",
    ]
    return ("\n".join(lines) + "\n").encode()


def _scan(data: bytes, where: str) -> None:
    for value in _swept_values():
        for encoded in {value.encode(), value.lower().encode(), value.upper().encode()}:
            assert encoded not in data, f"{value!r} found in {where}"


def _scan_store(db: Path) -> None:
    """The store file and its WAL (after a checkpoint) and every text column: no planted value."""
    with Store(db) as store:
        store.query("checkpoint", "checkpoint")
    for path in db.parent.iterdir():
        if path.name.startswith(db.name):
            _scan(path.read_bytes(), path.name)
    with Store(db, read_only=True) as store:
        columns = store.query(
            "text columns",
            """select table_name, column_name from information_schema.columns
            where table_schema = 'main' and data_type = 'VARCHAR'""",
        ).rows
        for table, column in columns:
            rows = store.query("column", f'select distinct "{column}" from "{table}"').rows
            _scan("\n".join(str(value) for (value,) in rows).encode(), f"{table}.{column}")


def _secret_finding(db: Path) -> int:
    """SECRET_IN_LOGS's count in ``report --format json`` (0 when not reported)."""
    out = run_cli(db, "report", "--format", "json")
    assert out.returncode == 0, out.stderr
    _scan((out.stdout + out.stderr).encode(), "the report")
    findings = [f for f in json.loads(out.stdout)["findings"] if f["code"] == "SECRET_IN_LOGS"]
    return int(findings[0]["count"]) if findings else 0


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["fast-path", "python-path"])
def test_tokens_in_any_letter_case_are_stripped_and_reported(tmp_path: Path, newline: str) -> None:
    """Case 4: Access_Token= / ACCESS_TOKEN= / access_TOKEN= in page URLs, a request URL, a body key,
    header text and a quarantined line: none stored, all 7 counted, SECRET_IN_LOGS reports them."""
    path = tmp_path / "capi_log.jsonl"
    path.write_bytes(_swept_server_log(newline))
    db = tmp_path / "store.duckdb"
    out = run_cli(db, "ingest", "--source", "server", path)
    assert out.returncode == 0, out.stderr
    _scan((out.stdout + out.stderr).encode(), "the ingest output")
    assert "access tokens stripped 7" in out.stdout
    assert query(db, "select rows_stored, rows_quarantined, secrets_stripped from batches") == [(3, 2, 7)]
    assert _secret_finding(db) == 7
    _scan_store(db)


def test_beacon_tokens_in_any_letter_case_are_stripped_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "beacons.txt"
    path.write_bytes(_swept_beacons())
    db = tmp_path / "store.duckdb"
    out = run_cli(db, "ingest", "--source", "browser", path)
    assert out.returncode == 0, out.stderr
    _scan((out.stdout + out.stderr).encode(), "the ingest output")
    assert query(db, "select rows_stored, rows_quarantined, secrets_stripped from batches") == [(2, 1, 3)]
    assert _secret_finding(db) == 3
    _scan_store(db)


MASKED_PAGE = "https://shop.example/thanks?phone=***&first_name=***&last_name=***&utm_source=fb&fbclid=IwAR9"


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["fast-path", "python-path"])
def test_pii_in_page_url_parameters_is_masked(tmp_path: Path, newline: str) -> None:
    """Case 5: phone and names in a page URL's query and fragment are stored as ***; utm_*/fbclid/gclid
    keep their values; a key the store added (ref_code, set through settings) keeps its value too."""
    lines = [
        {"event_name": "Purchase", "event_time": 1793620800, "event_id": "q1",
         "event_source_url": _pii_page()},
        {"event_name": "Purchase", "event_time": 1793620801, "event_id": "q2",
         "event_source_url": f"https://shop.example/#/ty?first_name={URL_FIRST}&gclid=G1&ref_code=R7"},
        {"event_name": "PageView", "event_time": 1793620802, "event_id": "q3",
         "event_source_url": "https://shop.example/?utm_campaign=spring&fbclid=F1#reviews"},
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_bytes((newline.join(json.dumps(line) for line in lines) + newline).encode())
    db = tmp_path / "store.duckdb"
    ingest_clean(db, "server", path)
    assert query(db, "select event_source_url from events order by event_id") == [
        (MASKED_PAGE,),
        ("https://shop.example/#/ty?first_name=***&gclid=G1&ref_code=***",),
        ("https://shop.example/?utm_campaign=spring&fbclid=F1#reviews",),
    ]
    _scan_store(db)

    kept = tmp_path / "kept.duckdb"
    with Store(kept) as store:
        settings.set_url_keys(store, ["ref_code"])
    ingest_clean(kept, "server", path)
    assert query(kept, "select event_source_url from events where event_id = 'q2'") == [
        ("https://shop.example/#/ty?first_name=***&gclid=G1&ref_code=R7",)
    ]


def test_pii_in_beacon_page_url_is_masked(tmp_path: Path) -> None:
    path = tmp_path / "beacons.txt"
    tr = "https://www.facebook.com/tr/?id=111&ev=Purchase&ts=1793620800000"
    path.write_text(f"{tr}&dl={quote(_pii_page(), safe='')}\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    ingest_clean(db, "browser", path)
    assert query(db, "select event_source_url from events") == [(MASKED_PAGE,)]
    _scan_store(db)


def test_authorization_values_in_quarantined_lines_are_masked(tmp_path: Path) -> None:
    """Case 7: Bearer / bearer / OAuth / a bare Authorization value in malformed lines never reach the
    quarantine; each is counted as a credential."""
    secrets = ["qBearerTok1", "qbearerTok2", "qOAuthTok3", "qBareAuth4"]
    lines = [
        '{"sent_at": "2026-11-02T12:00:00Z", "pixel_id": "1", "request": {"data": [{"event_name": "Lead"}]}}',
        f'{{"headers": "Authorization: Bearer {secrets[0]}", "request": {{',
        f'{{"headers": "authorization: bearer {secrets[1]}\\nX-Other: OAuth {secrets[2]}", ',
        f'{{"headers": {{"Authorization": "{secrets[3]}"}}, "request": ',
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    out = run_cli(db, "ingest", "--source", "server", path)
    assert out.returncode == 0, out.stderr
    assert query(db, "select rows_stored, rows_quarantined, secrets_stripped from batches") == [(1, 3, 4)]
    raw = "\n".join(text for (text,) in query(db, "select raw_masked from quarantine order by line_no"))
    assert "Bearer ***" in raw and "bearer ***" in raw and "OAuth ***" in raw
    with Store(db) as store:
        store.query("checkpoint", "checkpoint")
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(db.name))
    assert not [s for s in secrets if s.encode() in blob or s in raw or s in out.stdout + out.stderr]


# --- the sweep: every byte the tool wrote -------------------------------------------------------------


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_privacy_sweep_every_byte_written(tmp_path: Path) -> None:
    """Tokens in any letter case and PII in URL parameters, bodies, headers and quarantined lines, ingested
    through the CLI (fast and Python paths, beacons) with a private TMPDIR, then reported: the planted
    values are in none of the store file, its WAL, the temporary folder, stdout/stderr or the report.
    (The dashboard upload's share of the sweep: tests/app/test_upload_privacy.py.)"""
    temp = tmp_path / "tmp"
    temp.mkdir()
    db = tmp_path / "store.duckdb"
    files = {
        "fast.jsonl": ("server", _swept_server_log("\n")),
        "python.jsonl": ("server", _swept_server_log("\r\n")),
        "beacons.txt": ("browser", _swept_beacons()),
    }
    outputs = []
    env = {**os.environ, "TMPDIR": str(temp)}
    for name, (source, data) in files.items():
        path = tmp_path / "in" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        out = subprocess.run(
            [sys.executable, "-m", "capi_core", "--db", str(db), "ingest", "--source", source, str(path)],
            capture_output=True, check=False, cwd=REPO, timeout=300, env=env,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        outputs.append(out.stdout + out.stderr)
    report = tmp_path / "report.md"
    command = ["report", "--format", "md", "--out", str(report)]
    out = subprocess.run(
        [sys.executable, "-m", "capi_core", "--db", str(db), *command],
        capture_output=True, check=False, cwd=REPO, timeout=300, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    outputs.append(out.stdout + out.stderr)
    for index, output in enumerate(outputs):
        _scan(output, f"CLI output {index}")
    for path in [report, *_files_under(temp)]:
        _scan(path.read_bytes(), str(path.relative_to(tmp_path)))
    assert query(db, "select sum(secrets_stripped) from batches") == [(17,)]
    _scan_store(db)
