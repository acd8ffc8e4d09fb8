"""Server (CAPI) readers: every format, detection, bad rows, whole-file errors, secrets, real samples.

Fixtures live in tests/fixtures/server/ (hand-written); expected counts are read off those files line by
line, as each test's docstring says.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.errors import UnreadableFileError
from capi_core.ingest import ingest_file
from capi_core.models import IncomingEvent, RowError
from capi_core.readers import ReadOptions, detect, get_reader
from capi_core.store import Store
from tests.conftest import FIXTURES

FIX = FIXTURES / "server"
TOKEN = "EAAtestFAKEtokenDoNotUse0000000000"
EMAIL = "jane.doe@example.com"


def read(name: str | Path, fmt: str, **options: str) -> tuple[list[IncomingEvent], list[RowError]]:
    path = name if isinstance(name, Path) else FIX / name
    items = list(get_reader("server", fmt).read(path, ReadOptions(**options)))  # type: ignore[arg-type]
    events = [i for i in items if isinstance(i, IncomingEvent)]
    errors = [i for i in items if isinstance(i, RowError)]
    assert len(events) + len(errors) == len(items)
    return events, errors


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("request_single.json", "capi_request"),
        ("requests_array.json", "capi_request"),
        ("requests.jsonl", "capi_request"),
        ("request_form.json", "capi_request"),
        ("events.jsonl", "capi_events"),
        ("events_array.json", "capi_events"),
        ("log.jsonl", "capi_log"),
        ("stape.jsonl", "capi_log"),
        ("flat.csv", "capi_flat"),
    ],
)
def test_detection(name: str, fmt: str) -> None:
    assert detect(FIX / name, "server").format == fmt


@pytest.mark.parametrize(
    ("name", "fmt", "events", "error_lines"),
    [
        # 2 events in data
        ("request_single.json", "capi_request", 2, []),
        # item 1: 1 event, item 2: 2 events, item 3 is an error record
        ("requests_array.json", "capi_request", 3, [3]),
        # line 1: 2 events; 2: bad JSON; 3: one event without name + 1 event; 4 blank; 5: data not array;
        # 6: not an object
        ("requests.jsonl", "capi_request", 3, [2, 3, 5, 6]),
        # envelope 1: 2 good JSON strings + "{not json"; item 2 is a RudderStack error record
        ("request_form.json", "capi_request", 2, [1, 2]),
        # lines 1-3 and 8 good; 4 no name; 5 a string; 6 user_data a string; 7 truncated JSON
        ("events.jsonl", "capi_events", 4, [4, 5, 6, 7]),
        ("events_array.json", "capi_events", 2, [3]),
        # line 1: 2 events; 2-4: 1 each; 5: bad sent_at; 6: no request
        ("log.jsonl", "capi_log", 5, [5, 6]),
        # line 1 request, line 2 a response record (skipped), line 3 BigQuery-style row
        ("stape.jsonl", "capi_log", 2, []),
        # data rows start on lines 2, 3 (two physical lines), 5, 6, 8; 5 has no name, 6 is short
        ("flat.csv", "capi_flat", 3, [5, 6]),
    ],
)
def test_counts_and_error_lines(name: str, fmt: str, events: int, error_lines: list[int]) -> None:
    got, errors = read(name, fmt)
    assert len(got) == events
    assert [e.line_no for e in errors] == error_lines


def test_request_document_passes_raw_values() -> None:
    """Numbers sent as strings stay raw; a numeric event_id becomes text; request fields reach each event."""
    (purchase, cart), _ = read("request_single.json", "capi_request", pixel_id="777")
    assert purchase.event_id == "1001"
    assert purchase.event_time_raw == 1793620800
    assert cart.event_time_raw == "1793620500"
    assert cart.custom_data == {"value": "123", "currency": "EUR"}
    assert purchase.user_data["em"] == [EMAIL]
    assert purchase.data_processing_options == []
    assert cart.data_processing_options is None
    assert {purchase.test_event_code, cart.test_event_code} == {"TEST12345"}
    assert {purchase.pixel_id, cart.pixel_id} == {"777"}
    assert {purchase.channel, cart.channel} == {"server"}


def test_form_envelope_pixel_from_url_and_token_stripped() -> None:
    """RudderStack-style envelope: pixel from /v21.0/987654321/events, one token (the URL) on event 1."""
    events, errors = read("request_form.json", "capi_request")
    assert [e.pixel_id for e in events] == ["987654321", "987654321"]
    assert [e.secrets_stripped for e in events] == [1, 0]
    assert [e.test_event_code for e in events] == ["TEST555", "TEST555"]
    assert errors[0].reason == "data[2]: not a JSON object"
    assert all(TOKEN not in e.raw for e in errors)


@pytest.mark.parametrize(
    ("index", "sent_at"),
    [
        (0, dt.datetime(2026, 11, 2, 12, 0)),  # "2026-11-02T13:00:00+01:00"
        (2, dt.datetime(2026, 11, 2, 13, 0)),  # epoch seconds 1793624400 = T0 + 1 h
        (3, dt.datetime(2026, 11, 2, 13, 0)),  # the same instant in epoch milliseconds
        (4, dt.datetime(2026, 11, 2, 12, 30)),  # "...Z"
    ],
)
def test_log_sent_at_forms(index: int, sent_at: dt.datetime) -> None:
    events, _ = read("log.jsonl", "capi_log")
    assert events[index].sent_at == sent_at


def test_log_envelope_fields() -> None:
    """Line 1: token in URL and body (2 stripped, on its first event); line 2: token in body (1)."""
    events, _ = read("log.jsonl", "capi_log", pixel_id="999")
    first, second, lead = events[0], events[1], events[2]
    assert (first.pixel_id, first.consent, first.secrets_stripped) == ("111", "granted", 2)
    assert second.secrets_stripped == 0
    assert (
        second.response == first.response == {"events_received": 2, "messages": [], "fbtrace_id": "AbCdEf123"}
    )
    assert (lead.pixel_id, lead.consent, lead.test_event_code, lead.secrets_stripped) == (
        "999",
        "denied",
        "TEST42",
        1,
    )
    assert lead.response is not None
    assert lead.response["error"]["error_subcode"] == 2804003


def test_stape_records() -> None:
    events, _ = read("stape.jsonl", "capi_log")
    assert [(e.event_name, e.pixel_id, e.line_no) for e in events] == [
        ("Purchase", "333", 1),
        ("Lead", "333", 3),
    ]
    assert events[0].secrets_stripped == 1
    assert events[1].response == {"events_received": 1, "fbtrace_id": "B2"}


def test_flat_csv_nesting() -> None:
    events, errors = read("flat.csv", "capi_flat")
    purchase, lead, cart = events
    assert purchase.user_data == {
        "em": EMAIL,
        "fn": "Jane",
        "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
    }
    assert purchase.custom_data == {"value": "59.90", "currency": "EUR", "content_ids": ["sku-1", "sku-2"]}
    assert purchase.response == {"events_received": "1"}
    assert purchase.sent_at == dt.datetime(2026, 11, 2, 12, 1)
    assert lead.event_id == "lead\n-7"
    assert cart.custom_data == {"value": "1,5", "currency": "EUR"}
    assert errors[0].reason == "event_name is missing"
    assert errors[1].reason == "4 fields, the header has 14"


def test_flat_parquet(tmp_path: Path) -> None:
    """Parquet with dotted columns and typed values reads like the CSV (explicit --format: detection
    refuses binary heads)."""
    path = tmp_path / "events.parquet"
    table = pa.table(
        {
            "event_name": ["Purchase", None],
            "event_time": [1793620800, 1793620900],
            "event_id": ["1001", "1002"],
            "user_data.em": [EMAIL, None],
            "custom_data.value": [59.9, 1.0],
        }
    )
    pq.write_table(table, path)
    events, errors = read(path, "capi_flat")
    assert [(e.event_name, e.event_time_raw, e.custom_data) for e in events] == [
        ("Purchase", 1793620800, {"value": 59.9})
    ]
    assert [(e.line_no, e.reason) for e in errors] == [(2, "event_name is missing")]


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(UnreadableFileError, match="not a readable Parquet"):
        read(path, "capi_flat")


def test_jsonl_with_corrupt_first_line(tmp_path: Path) -> None:
    """A corrupt first line does not turn the file into one broken document: 1 error, 2 events."""
    path = tmp_path / "events.jsonl"
    path.write_text('{"event_name": "Purchase", "event_ti\n{"event_name": "A"}\n{"event_name": "B"}\n')
    events, errors = read(path, "capi_events")
    assert [e.event_name for e in events] == ["A", "B"]
    assert [e.line_no for e in errors] == [1]


def _truncated(tmp_path: Path) -> Path:
    text = (FIX / "request_single.json").read_text()
    path = tmp_path / "truncated.json"
    path.write_text(text[: len(text) // 2])
    return path


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "fmt", "message"),
    [
        (_truncated, "capi_request", "not valid JSON"),
        (lambda p: _write(p, "empty.json", b""), "capi_request", "empty"),
        (lambda p: _write(p, "blank.jsonl", b"\n  \n"), "capi_events", "empty"),
        (lambda p: _write(p, "bin.json", b"\x00\x01\x02PK"), "capi_events", "binary"),
        (
            lambda p: _write(p, "latin.jsonl", '{"event_name": "Café"}'.encode("cp1252")),
            "capi_events",
            "UTF-8",
        ),
        (lambda p: _write(p, "shape.json", b'{\n  "foo": 1\n}'), "capi_request", "not a capi_request file"),
        (lambda p: _write(p, "shape2.json", b'{\n  "foo": 1\n}'), "capi_log", "not a capi_log file"),
        (lambda p: _write(p, "shape3.json", b'{\n  "data": []\n}'), "capi_events", "not a capi_events file"),
        (lambda p: _write(p, "nohead.csv", b"a,b\n1,2\n"), "capi_flat", "no event_name column"),
    ],
)
def test_whole_file_errors(tmp_path: Path, make, fmt: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(UnreadableFileError, match=message):
        read(path, fmt)


@pytest.mark.parametrize("make", [_truncated, lambda p: _write(p, "empty.json", b"")])
def test_whole_file_errors_leave_store_unchanged(tmp_path: Path, store: Store, make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnreadableFileError):
        ingest_file(store, make(tmp_path), "server", fmt="capi_request")
    assert store.query("batches", "select count(*) from batches").scalar() == 0
    assert store.query("events", "select count(*) from events").scalar() == 0


@pytest.mark.parametrize("name", sorted(p.name for p in FIX.iterdir()))
def test_row_errors_hold_no_pii_or_token(name: str) -> None:
    fmt = detect(FIX / name, "server").format
    _, errors = read(name, fmt)
    for error in errors:
        for secret in (EMAIL, "jane.doe", "Jane", "7700 900123", TOKEN):
            assert secret not in error.raw, (name, error)


def _store_bytes(store: Store, folder: Path) -> bytes:
    store.query("checkpoint", "checkpoint")
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.name.startswith("store.duckdb"))


@pytest.mark.parametrize(
    ("name", "read_", "stored", "quarantined", "secrets"),
    [
        ("log.jsonl", 7, 5, 2, 3),  # 5 events + 2 bad lines; tokens: 2 on line 1, 1 on line 2
        ("request_form.json", 4, 2, 2, 1),  # 2 events + bad data[2] + error record; URL token
        ("stape.jsonl", 2, 2, 0, 1),  # the Response record is not an event; URL token in line 1
        ("events.jsonl", 8, 4, 4, 0),
        ("flat.csv", 5, 3, 2, 0),
    ],
)
def test_ingest_strips_tokens_and_pii(
    tmp_path: Path, store: Store, name: str, read_: int, stored: int, quarantined: int, secrets: int
) -> None:
    """read = stored + quarantined; neither the token nor the raw email reaches the store file."""
    result = ingest_file(store, FIX / name, "server")
    assert (result.rows_read, result.rows_stored, result.rows_quarantined) == (read_, stored, quarantined)
    assert result.rows_read == result.rows_stored + result.rows_quarantined
    assert result.secrets_stripped == secrets
    data = _store_bytes(store, tmp_path)
    assert TOKEN.encode() not in data
    assert EMAIL.encode() not in data


def test_hostile_strings_stored_as_plain_text(store: Store) -> None:
    ingest_file(store, FIX / "events.jsonl", "server")
    names = store.query("names", "select event_name, event_id from events order by line_no").dicts()
    assert {"event_name": "<script>alert(1)</script>", "event_id": "x1"} in names
    assert {"event_name": "'); drop table events;--", "event_id": "'); drop table events;--"} in names
    assert store.query("still there", "select count(*) from events").scalar() == 4


_EVENT = st.fixed_dictionaries(
    {"event_name": st.text(min_size=1, max_size=20), "event_time": st.integers(0, 2_000_000_000)},
    optional={
        "event_id": st.one_of(st.integers(), st.text(max_size=10)),
        "user_data": st.just({"em": EMAIL}),
    },
)
_GARBAGE = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30
).filter(lambda text: text.strip() != "")
_LINE = st.one_of(_EVENT.map(json.dumps), _GARBAGE, st.just(f'{{"user_data": {{"em": "{EMAIL}"}}'))


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(_LINE, min_size=0, max_size=12))
def test_every_jsonl_line_gives_one_item(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    """Invariant: each non-blank JSONL line yields exactly one item, in line order, never with raw PII.

    The first line is always a valid event so the file is JSONL (a garbage first line makes it a
    document, tested above).
    """
    lines = [json.dumps({"event_name": "First"}), *lines]
    path = tmp_path_factory.mktemp("jsonl") / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(get_reader("server", "capi_events").read(path, ReadOptions()))
    assert [item.line_no for item in items] == list(range(1, len(lines) + 1))
    assert all(EMAIL not in item.raw for item in items if isinstance(item, RowError))


# --- real samples (not copied into the repo; skipped when absent) ---------------------------------


def test_sample_rudderstack_output(samples: Path) -> None:
    """35 REST envelopes with one FORM.data event each + 13 RudderStack validation errors (README)."""
    path = samples / "meta_capi" / "rudderlabs_facebook_pixel_output.json"
    assert detect(path, "server").format == "capi_request"
    events, errors = read(path, "capi_request")
    assert (len(events), len(errors)) == (35, 13)
    assert {e.pixel_id for e in events} == {"dummyPixelId"}
    assert sum(e.secrets_stripped for e in events) == 35
    assert any(e.test_event_code for e in events)
    assert all("09876" not in e.raw for e in errors)


def test_sample_rudderstack_output_ingest(samples: Path, store: Store, tmp_path: Path) -> None:
    result = ingest_file(store, samples / "meta_capi" / "rudderlabs_facebook_pixel_output.json", "server")
    assert (result.rows_read, result.rows_stored, result.rows_quarantined) == (48, 35, 13)
    assert b"access_token=09876" not in _store_bytes(store, tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        "facebookincubator_capi_gtm_template_test_fixture.json",  # a test-fixture wrapper, not a request
        "github_issues_capi_payloads_and_errors.json",  # quoted snippets wrapped in {"items": [...]}
        "rudderlabs_facebook_pixel_input.json",  # RudderStack's own event format
        "rudderlabs_graph_api_responses.json",  # responses only: no event in it
    ],
)
def test_samples_not_in_a_server_format_are_refused(samples: Path, name: str) -> None:
    with pytest.raises(UnreadableFileError, match="not a recognised server format"):
        detect(samples / "meta_capi" / name, "server")


def test_sample_gtm_expected_request(samples: Path, tmp_path: Path) -> None:
    """The GTM tag fixture's expected_request is an envelope we read: 1 event, pixel 123 from the URL."""
    doc = json.loads(
        (samples / "meta_capi" / "facebookincubator_capi_gtm_template_test_fixture.json").read_text()
    )
    path = tmp_path / "request.json"
    path.write_bytes(orjson.dumps(doc["expected_request"]))
    (event,), errors = read(path, "capi_request")
    assert errors == []
    assert (event.pixel_id, event.test_event_code, event.secrets_stripped) == ("123", "test123", 1)
    assert (event.event_time_raw, event.custom_data["value"]) == ("123456789", "123")
    assert event.data_processing_options == ["LDU"]


def test_sample_issue_request_body(samples: Path, tmp_path: Path) -> None:
    """segmentio#903's body: a numeric event_id 12345 is read as the text "12345"."""
    doc = json.loads((samples / "meta_capi" / "github_issues_capi_payloads_and_errors.json").read_text())
    path = tmp_path / "body.json"
    path.write_bytes(orjson.dumps(doc["items"][0]["body"]))
    (event,), _ = read(path, "capi_request")
    assert (event.event_id, event.test_event_code) == ("12345", "TEST41541")
