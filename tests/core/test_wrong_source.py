"""A file given with the wrong ``--source`` is refused naming the right one (never stored as the wrong
channel), and a generic CSV says which columns it does not read and which ``--map`` would read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from capi_core.errors import MappingError, UnreadableFileError
from capi_core.ingest import ingest_file
from capi_core.readers import detect, server_marks
from capi_core.readers.generic_csv import MappingNotes, file_mapping_notes, mapping_notes
from capi_core.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize(
    ("name", "given", "right", "looks_like"),
    [
        ("server/log.jsonl", "browser", "server", "capi_log"),
        ("server/requests.jsonl", "browser", "server", "capi_request"),
        ("server/stape.jsonl", "browser", "server", "capi_log"),
        ("server/flat.csv", "browser", "server", "capi_flat"),
        ("e2e/capi_log.jsonl", "browser", "server", "capi_log"),
        ("browser/beacons.txt", "server", "browser", "pixel_beacons"),
        ("browser/capture.har", "server", "browser", "har"),
        ("browser/fbq.jsonl", "server", "browser", "fbq_jsonl"),
        ("crm/hubspot_contacts.csv", "orders", "leads", "hubspot_contacts"),
        ("orders/shopify_orders.csv", "leads", "orders", "shopify_orders"),
    ],
)
def test_a_file_of_another_source_names_it(name: str, given: str, right: str, looks_like: str) -> None:
    with pytest.raises(UnreadableFileError) as caught:
        detect(FIXTURES / name, given)  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"not a recognised {given} format" in message
    assert f"looks like {looks_like} ({right} data)" in message
    assert f"ingest it with --source {right}" in message
    assert "\n" not in message


SERVER_EVENT = (
    '{"event_name": "Purchase", "event_time": 1793620800, "action_source": "website", '
    '"user_data": {"client_ip_address": "203.0.113.9", "client_user_agent": "UA"}}\n'
)


def test_bare_server_events_are_not_stored_as_browser_copies(tmp_path: Path, store: Store) -> None:
    """Bare events fit both sources; one carrying a client IP (which the Pixel never sends) is refused
    as browser and read as server; ``--format browser_events`` still forces it."""
    path = tmp_path / "events.jsonl"
    path.write_text(SERVER_EVENT, encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"server \(Conversions API\) events.*--source server"):
        ingest_file(store, path, "browser")
    assert store.query("batches", "select count(*) from batches").scalar() == 0
    assert detect(path, "server").format == "capi_events"
    forced = ingest_file(store, path, "browser", fmt="browser_events")
    assert forced.rows_stored == 1


def test_browser_events_without_server_marks_are_still_browser() -> None:
    assert detect(FIXTURES / "browser" / "browser_events.jsonl", "browser").format == "browser_events"


@pytest.mark.parametrize(
    ("record", "marks"),
    [
        ({"event_name": "Purchase", "action_source": "website", "user_data": {"fbp": "x"}}, []),
        ({"event_name": "Purchase"}, []),
        ({"action_source": "physical_store"}, ["action_source 'physical_store'"]),
        ({"action_source": " Website "}, []),
        ({"user_data": {"client_ip_address": "203.0.113.9"}}, ["user_data.client_ip_address"]),
        ({"user_data": {"client_ip_address": ""}}, []),
        ({"action_source": "app", "user_data": {"client_ip_address": "::1"}},
         ["action_source 'app'", "user_data.client_ip_address"]),
        (["not", "an", "event"], []),
        (None, []),
    ],
)  # fmt: skip
def test_server_marks(record: object, marks: list[str]) -> None:
    assert server_marks(record) == marks


@pytest.mark.parametrize(
    ("header", "column_map", "kind", "expected"),
    [
        (  # every column read: nothing to say
            ["order_id", "created_at", "email", "total"], {}, "order",
            MappingNotes(
                (), ("paid_at", "status_raw", "currency", "phone", "external_id", "fbp", "fbc", "country"), ()
            ),
        ),
        (  # unknown spellings: each gets the --map that would read it; a note column gets none
            ["order_id", "created_at", "Kunden E-Mail", "Bestellsumme Total", "Notiz"], {}, "order",
            MappingNotes(
                ("Kunden E-Mail", "Bestellsumme Total", "Notiz"),
                ("paid_at", "status_raw", "value", "currency", "email", "phone", "external_id", "fbp", "fbc",
                 "country"),
                (("Kunden E-Mail", "email"), ("Bestellsumme Total", "value")),
            ),
        ),
        (  # mapped by hand: read, so no longer listed; a click id column suggests fbclid, not fbc
            ["lead_id", "created_at", "Kunden E-Mail", "Ad Click ID"], {"Kunden E-Mail": "email"}, "lead",
            MappingNotes(
                ("Ad Click ID",),
                ("status_raw", "qualified_at", "won_at", "phone", "external_id", "fbp", "fbc", "country",
                 "utm_source", "utm_campaign", "form"),
                (("Ad Click ID", "fbclid"),),
            ),
        ),
    ],
)  # fmt: skip
def test_mapping_notes(
    header: list[str], column_map: dict[str, str], kind: str, expected: MappingNotes
) -> None:
    assert mapping_notes(header, column_map, kind) == expected  # type: ignore[arg-type]


def test_mapping_notes_of_a_file_and_a_bad_map(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("order_id,created_at,Notiz\n1,2026-11-02,hi\n", encoding="utf-8")
    assert file_mapping_notes(path, {}, "order").unread == ("Notiz",)
    with pytest.raises(MappingError, match="no column 'Nope'"):
        file_mapping_notes(path, {"Nope": "email"}, "order")
