"""Browser (Pixel) readers: beacons, HAR, fbq JSONL, server-shape JSONL; detection, errors, samples.

Fixtures live in tests/fixtures/browser/ (hand-written); expected counts are read off those files, as
each test's docstring says.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.errors import UnreadableFileError
from capi_core.ingest import ingest_file
from capi_core.models import IncomingEvent, RowError
from capi_core.readers import ReadOptions, detect, get_reader
from capi_core.readers.browser import _multipart, _post_params, is_tr_url, query_params
from capi_core.store import Store
from tests.conftest import FIXTURES

FIX = FIXTURES / "browser"
EMAIL = "jane.doe@example.com"
EMAIL_SHA = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"  # sha256 of EMAIL
FBP = "fb.1.1793620000000.1234567890"
UA = "Mozilla/5.0 (Macintosh) TestBrowser/1.0"


def read(name: str | Path, fmt: str, **options: str) -> tuple[list[IncomingEvent], list[RowError]]:
    path = name if isinstance(name, Path) else FIX / name
    items = list(get_reader("browser", fmt).read(path, ReadOptions(**options)))  # type: ignore[arg-type]
    events = [i for i in items if isinstance(i, IncomingEvent)]
    errors = [i for i in items if isinstance(i, RowError)]
    assert all(e.channel == "browser" for e in events)
    return events, errors


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("beacons.txt", "pixel_beacons"),
        ("capture.har", "har"),
        ("fbq.jsonl", "fbq_jsonl"),
        ("browser_events.jsonl", "browser_events"),
        ("not_a_har.json", "har"),  # looks like a HAR; reading it is the error
    ],
)
def test_detection(name: str, fmt: str) -> None:
    assert detect(FIX / name, "browser").format == fmt


@pytest.mark.parametrize(
    ("name", "fmt", "events", "error_lines"),
    [
        # lines 1-2 comments, 3 blank; 4-6 beacons; 7 not a /tr URL; 8 no ev; 9 bad ts
        ("beacons.txt", "pixel_beacons", 3, [7, 8, 9]),
        # entry 1 is a shop page (ignored), 2 GET /tr, 3 POST /tr/
        ("capture.har", "har", 2, []),
        # 1 init (skipped), 2-4 events, 5 consent (skipped), 6 fbq a string, 7 bad JSON, 8 bad params
        ("fbq.jsonl", "fbq_jsonl", 3, [6, 7, 8]),
        ("browser_events.jsonl", "browser_events", 2, [3]),
    ],
)
def test_counts_and_error_lines(name: str, fmt: str, events: int, error_lines: list[int]) -> None:
    got, errors = read(name, fmt)
    assert len(got) == events
    assert [e.line_no for e in errors] == error_lines


def test_beacon_mapping() -> None:
    """Line 4: every mapped parameter; ts 1793620800123 ms = 2026-11-02 12:00:00.123 UTC."""
    (purchase, pageview, hostile), _ = read("beacons.txt", "pixel_beacons")
    moment = dt.datetime(2026, 11, 2, 12, 0, 0, 123000)
    assert (purchase.pixel_id, purchase.event_name, purchase.event_id) == ("111", "Purchase", "1001")
    assert purchase.event_time_raw == purchase.sent_at == moment
    assert purchase.event_source_url == "https://shop.example/thank-you"
    assert purchase.action_source == "website"
    assert purchase.custom_data == {
        "value": "59.90",
        "currency": "EUR",
        "content_ids": ["sku-1", "sku-2"],
        "contents": 'x[{"id":"sku-1"}]',  # corrupt JSON kept as sent, the row still read
    }
    assert purchase.user_data == {"em": EMAIL_SHA, "fbp": FBP, "fbc": "fb.1.1793620000000.AbCdEfGh"}
    assert "client_user_agent" not in purchase.user_data
    assert (pageview.event_name, pageview.event_id, pageview.line_no) == ("PageView", None, 5)
    assert hostile.event_name == "<script>alert(1)</script>"


def test_beacon_pixel_from_options(tmp_path: Path) -> None:
    path = tmp_path / "b.txt"
    path.write_text("https://www.facebook.com/tr?ev=Lead\n")
    (event,), _ = read(path, "pixel_beacons", pixel_id="42")
    assert event.pixel_id == "42"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.facebook.com/tr/?id=1", True),
        ("https://www.facebook.com/tr?id=1", True),
        ("https://facebook.com/tr", True),
        ("https://web.facebook.com/tr/", True),
        ("https://www.facebook.com/privacy_sandbox/pixel/register/trigger/?id=1", False),
        ("https://www.facebook.com/track/", False),
        ("https://notfacebook.com/tr/", False),
        ("https://facebook.com.evil.example/tr/", False),
    ],
)
def test_is_tr_url(url: str, expected: bool) -> None:
    assert is_tr_url(url) is expected


def test_har_get_and_post() -> None:
    """Entry 2 (GET): fbp from the _fbp cookie, UA from the header; entry 3 (POST multipart) mapped."""
    (pageview, purchase), _ = read("capture.har", "har")
    assert (pageview.line_no, pageview.event_name) == (2, "PageView")
    assert pageview.sent_at == dt.datetime(2026, 11, 2, 12, 0, 2, 500000)  # startedDateTime
    assert pageview.event_time_raw == dt.datetime(2026, 11, 2, 12, 0, 2, 400000)  # ts
    assert pageview.user_data == {"fbp": FBP, "client_user_agent": UA}
    assert (purchase.line_no, purchase.event_name, purchase.event_id, purchase.pixel_id) == (
        3,
        "Purchase",
        "1001",
        "111",
    )
    assert purchase.custom_data == {
        "value": "59.90",
        "currency": "EUR",
        "contents": [{"id": "sku-1", "quantity": 2}],
    }
    assert purchase.user_data == {"em": EMAIL_SHA, "fbp": FBP, "client_user_agent": UA}


@pytest.mark.parametrize(
    ("post", "expected"),
    [
        ({"mimeType": "application/x-www-form-urlencoded", "text": "id=1&ev=Lead&cd%5Bvalue%5D=2"},
         [("id", "1"), ("ev", "Lead"), ("cd[value]", "2")]),
        ({"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "ev", "value": "Lead%20X"}]},
         [("ev", "Lead X")]),
        ({"mimeType": "multipart/form-data; boundary=XX", "text": "--XX\nContent-Disposition: form-data; "
          'name="ev"\n\nLead\n--XX--\n'}, [("ev", "Lead")]),
        ({}, []),
    ],
)  # fmt: skip
def test_post_params(post: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert _post_params({"postData": post}) == expected


def test_multipart_without_boundary_in_mime() -> None:
    text = '--b1\r\nContent-Disposition: form-data; name="id"\r\n\r\n7\r\n--b1--\r\n'
    assert _multipart(text, "multipart/form-data") == [("id", "7")]


def test_fbq_calls() -> None:
    """Line 2 track with eventID; 3 trackCustom; 4 trackSingle names pixel 222 and a numeric eventID."""
    (purchase, quiz, lead), _ = read("fbq.jsonl", "fbq_jsonl")
    assert (purchase.event_name, purchase.event_id, purchase.pixel_id) == ("Purchase", "1001", "111")
    assert purchase.sent_at == purchase.event_time_raw == dt.datetime(2026, 11, 2, 12, 0, 0, 500000)
    assert purchase.user_data == {"fbp": FBP, "fbc": "fb.1.1793620000000.AbCdEfGh", "client_user_agent": UA}
    assert purchase.custom_data == {"value": 59.9, "currency": "EUR", "content_ids": ["sku-1"]}
    assert (purchase.consent, purchase.event_source_url) == ("granted", "https://shop.example/thank-you")
    assert (quiz.event_name, quiz.event_id, quiz.consent) == ("QuizDone", None, "denied")
    assert (lead.event_name, lead.event_id, lead.pixel_id) == ("Lead", "77", "222")
    assert all(EMAIL not in str(e.user_data) for e in (purchase, quiz, lead))  # init's em is not carried


def test_browser_events_default_website() -> None:
    (purchase, pageview), _ = read("browser_events.jsonl", "browser_events")
    assert purchase.action_source == "website"  # absent in the record
    assert purchase.custom_data == {"value": "59.90", "currency": "EUR"}
    assert pageview.action_source == "website"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "fmt", "message"),
    [
        (lambda p: FIX / "not_a_har.json", "har", "no log.entries"),
        (lambda p: _write(p, "cut.har", (FIX / "capture.har").read_bytes()[:700]), "har", "not valid JSON"),
        (lambda p: _write(p, "list.har", b"[1, 2]"), "har", "no log.entries"),
        (lambda p: _write(p, "empty.har", b""), "har", "empty"),
        (lambda p: _write(p, "empty.txt", b"  \n"), "pixel_beacons", "empty"),
        (lambda p: _write(p, "bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00"), "pixel_beacons", "binary"),
        (lambda p: _write(p, "bin.jsonl", b"\x00\x00"), "fbq_jsonl", "binary"),
        (
            lambda p: _write(p, "cut.json", b'[\n {"fbq": ["track", "A"]},\n {"fbq": '),
            "fbq_jsonl",
            "not valid JSON",
        ),
    ],
)
def test_whole_file_errors(tmp_path: Path, make, fmt: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnreadableFileError, match=message):
        read(make(tmp_path), fmt)


def test_not_a_har_leaves_store_unchanged(store: Store) -> None:
    with pytest.raises(UnreadableFileError):
        ingest_file(store, FIX / "not_a_har.json", "browser")
    assert store.query("batches", "select count(*) from batches").scalar() == 0


@pytest.mark.parametrize("name", ["beacons.txt", "capture.har", "fbq.jsonl", "browser_events.jsonl"])
def test_row_errors_hold_no_pii(name: str) -> None:
    _, errors = read(name, detect(FIX / name, "browser").format)
    for error in errors:
        assert "jane.doe" not in error.raw, error
        assert "jane.doe%40" not in error.raw, error


@pytest.mark.parametrize(
    ("name", "read_", "stored", "quarantined"),
    [
        ("beacons.txt", 6, 3, 3),
        ("capture.har", 2, 2, 0),  # the unrelated entry is not a record
        ("fbq.jsonl", 6, 3, 3),  # init and consent calls are not records
        ("browser_events.jsonl", 3, 2, 1),
    ],
)
def test_ingest_counts(
    tmp_path: Path, store: Store, name: str, read_: int, stored: int, quarantined: int
) -> None:
    """read = stored + quarantined, and the raw email never reaches the store file."""
    result = ingest_file(store, FIX / name, "browser")
    assert (result.rows_read, result.rows_stored, result.rows_quarantined) == (read_, stored, quarantined)
    store.query("checkpoint", "checkpoint")
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("store.duckdb"))
    assert EMAIL.encode() not in data


def test_browser_times_are_not_milliseconds_errors(store: Store) -> None:
    """A beacon's ms ts is passed as a datetime, so the stored event_time_format is 'datetime'."""
    ingest_file(store, FIX / "beacons.txt", "browser")
    formats = store.query("formats", "select distinct event_time_format from events").dicts()
    assert formats == [{"event_time_format": "datetime"}]


def test_hostile_event_name_stored_as_text(store: Store) -> None:
    ingest_file(store, FIX / "beacons.txt", "browser")
    names = {r["event_name"] for r in store.query("names", "select event_name from events").dicts()}
    assert "<script>alert(1)</script>" in names


def test_token_in_beacon_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "b.txt"
    path.write_text(
        "https://www.facebook.com/tr/?id=1&ev=Lead&access_token=EAAtestFAKEtokenDoNotUse0000000000\n"
    )
    (event,), _ = read(path, "pixel_beacons")
    assert event.secrets_stripped == 1


# --- real samples ----------------------------------------------------------------------------------


def test_sample_omnibug_beacons(samples: Path) -> None:
    """6 beacon lines after 3 comment lines: 4 Purchase, 1 PageView, 1 ViewContent; the last line's
    corrupt cd[contents] is kept as text."""
    path = samples / "meta_pixel" / "MisterPhilip_omnibug_facebook_pixel_beacons.txt"
    assert detect(path, "browser").format == "pixel_beacons"
    events, errors = read(path, "pixel_beacons")
    assert errors == []
    assert [e.event_name for e in events].count("Purchase") == 4
    assert {e.pixel_id for e in events} == {"123456"}
    assert [e.line_no for e in events] == [4, 5, 6, 7, 8, 9]
    assert isinstance(events[-1].custom_data["contents"], str)
    assert events[0].sent_at == dt.datetime(2018, 6, 26, 21, 56, 13, 791000)  # ts 1530050173791


def test_sample_rendered_fbq_calls_are_not_a_format(samples: Path) -> None:
    """esign's file is rendered JavaScript (path<TAB>fbq(...)), not JSONL: detection refuses it."""
    with pytest.raises(UnreadableFileError, match="not a recognised browser format"):
        detect(samples / "meta_pixel" / "esign_fbq_eventID_calls.txt", "browser")


_QUERY_PART = st.sampled_from([*"ab=&+%2F0éZ; ", "%41", "%C3%A9", "%E2", "%%", "=&"])
_QUERY = st.lists(_QUERY_PART, max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(query=_QUERY)
def test_query_params_is_parse_qsl(query: str) -> None:
    """The beacon query split equals parse_qsl(keep_blank_values=True), encodings and blanks included."""
    assert query_params(query) == parse_qsl(query, keep_blank_values=True)
