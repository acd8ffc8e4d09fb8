"""Meta's Dataset Quality API (reference §4, §5): parse its answer, fetch it, keep dated snapshots.

``GET /{version}/dataset_quality?dataset_id=<PIXEL>&fields=web{...}`` answers ``{"web": [{"event_name",
"event_match_quality": {"composite_score", "match_key_feedback": [{"identifier", "coverage":
{"percentage"}}], "diagnostics": [...]}, "event_coverage": {"percentage", "goal_percentage"},
"dedupe_key_feedback": [{"dedupe_key", "browser_events_with_dedupe_key": {"percentage"},
"server_events_with_dedupe_key": {...}, "overall_browser_coverage_from_dedupe_key": {...}}],
"data_freshness": {"upload_frequency"}, "acr": {"percentage"}}, ...]}``.

Owns: parsing that body (``parse_body``; lenient: a field Meta did not send is None, unknown fields are
ignored), reading it from a saved file, fetching it through ``graph_api.GraphClient`` (the push's client:
token in the ``Authorization`` header only), and storing each answer as one snapshot: the token-free body
in ``meta_quality_snapshots`` and its figures per event and per key in ``meta_quality_events`` /
``meta_quality_dedupe_keys`` / ``meta_quality_match_keys``. Trending them next to our estimates is
``metrics/meta_quality.py``'s job.

Decisions: Meta's percentages (0-100) are stored as shares (0-1), like every share in this tool; the
EMQ ``composite_score`` stays on its 0-10 scale. A saved file's snapshot time is ``--at`` if given, else
the file's modification time (when it was saved, usually right after it was fetched). Loading the same
body for the same pixel twice is a no-op, unless an explicit ``--at`` falls on another day than every
stored snapshot of that body (identical answers on different weeks are two trend points); every fetch is
a new snapshot (a new observation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from capi_core.errors import InputError, UnreadableFileError
from capi_core.privacy import strip_secrets
from capi_core.readers import read_text
from capi_core.store import Store

#: The web fields requested (reference §5, SDK field list); sub-fields are Meta's defaults.
FIELDS = "web{event_name,event_match_quality,event_coverage,dedupe_key_feedback,data_freshness,acr}"
ENDPOINT = "dataset_quality"
_HINT_FORMAT = 'save the answer of GET /{version}/dataset_quality (a JSON object with a "web" list)'


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class MatchKeyFeedback(_Frozen):
    """Meta's coverage of one match key (``identifier``: email, ip_address, user_agent, ...)."""

    identifier: str
    coverage: float | None  # share 0..1


class DedupeKeyFeedback(_Frozen):
    """Meta's dedup-key feedback for one key (event_id, external_id, fbp)."""

    dedupe_key: str
    browser_share: float | None  # browser events carrying the key
    server_share: float | None  # server events carrying the key
    browser_coverage: float | None  # browser events deduplicated with server events by this key


class EventQuality(_Frozen):
    """Meta's figures for one web event of the dataset."""

    event_name: str
    emq: float | None  # composite_score, 0..10
    match_keys: list[MatchKeyFeedback]
    diagnostics: int  # EMQ diagnostics listed
    event_coverage: float | None  # share 0..1
    coverage_goal: float | None  # share 0..1 (Meta: 75 %)
    dedupe_keys: list[DedupeKeyFeedback]
    upload_frequency: str | None  # real_time | hourly | daily | weekly
    acr: float | None  # additional conversions reported, share


class Snapshot(_Frozen):
    """One stored Dataset Quality answer."""

    snapshot_id: int
    fetched_at: dt.datetime
    pixel_id: str
    source: str  # file | api
    source_name: str | None  # the file name, or the base URL (never with a token)
    events: int
    already_stored: bool = False

    @property
    def summary(self) -> str:
        """One line for the CLI."""
        if self.already_stored:
            return f"already stored as snapshot {self.snapshot_id}; nothing changed"
        return (
            f"snapshot {self.snapshot_id}: pixel {self.pixel_id}, {self.events} events, "
            f"{self.fetched_at:%Y-%m-%d %H:%M} UTC, from {self.source} {self.source_name or ''}".rstrip()
        )


# --- parsing -------------------------------------------------------------------------------------


def _share(node: Any) -> float | None:
    """``{"percentage": 34.1}`` -> 0.341 (None when absent or not a number)."""
    value = node.get("percentage") if isinstance(node, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value) / 100
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _event(item: dict[str, Any]) -> EventQuality:
    emq = _dict(item.get("event_match_quality"))
    coverage = _dict(item.get("event_coverage"))
    goal = _number(coverage.get("goal_percentage"))
    return EventQuality(
        event_name=str(item.get("event_name")),
        emq=_number(emq.get("composite_score")),
        match_keys=[
            MatchKeyFeedback(identifier=str(k["identifier"]), coverage=_share(k.get("coverage")))
            for k in _list(emq.get("match_key_feedback"))
            if isinstance(k, dict) and k.get("identifier")
        ],
        diagnostics=len(_list(emq.get("diagnostics"))),
        event_coverage=_share(coverage),
        coverage_goal=None if goal is None else goal / 100,
        dedupe_keys=[
            DedupeKeyFeedback(
                dedupe_key=str(k["dedupe_key"]),
                browser_share=_share(k.get("browser_events_with_dedupe_key")),
                server_share=_share(k.get("server_events_with_dedupe_key")),
                browser_coverage=_share(k.get("overall_browser_coverage_from_dedupe_key")),
            )
            # older answers spell it dedup_key_feedback
            for k in _list(item.get("dedupe_key_feedback", item.get("dedup_key_feedback")))
            if isinstance(k, dict) and k.get("dedupe_key")
        ],
        upload_frequency=_text(_dict(item.get("data_freshness")).get("upload_frequency")),
        acr=_share(item.get("acr")),
    )


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_body(body: Any, *, name: str = "the answer") -> list[EventQuality]:
    """Meta's per-event figures from a Dataset Quality answer, or an ``InputError`` saying what is wrong."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        raise InputError(
            f"{name} is a Graph API error, not a Dataset Quality answer: "
            f"{error.get('code', '?')} {str(error.get('message', ''))[:200]}",
            hint="fetch it again with a token that has ads_read on the dataset",
        )
    if not isinstance(body, dict) or not isinstance(body.get("web"), list):
        raise InputError(f'{name} has no "web" list of events', hint=_HINT_FORMAT)
    items = [item for item in body["web"] if isinstance(item, dict) and _text(item.get("event_name"))]
    return [_event(item) for item in items]


# --- storing -------------------------------------------------------------------------------------


def _canonical(body: Any) -> tuple[str, str]:
    """The token-free body as JSON text and its SHA-256."""
    clean, _removed = strip_secrets(body)
    text = json.dumps(clean, sort_keys=True, ensure_ascii=False)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_pixel(pixel_id: str | None) -> str:
    pixel = (pixel_id or "").strip()
    if not pixel.isdigit():
        raise InputError(
            f"dataset (pixel) id {pixel_id!r} is not a number", hint="copy it from Events Manager"
        )
    return pixel


def save_snapshot(
    store: Store,
    body: Any,
    *,
    pixel_id: str,
    fetched_at: dt.datetime,
    source: str,
    source_name: str | None,
    name: str = "the answer",
    dated: bool = False,
) -> Snapshot:
    """Store one answer as a snapshot (one transaction); a file body already stored is a no-op.

    ``dated``: ``fetched_at`` was given by the user (``--at``), so the same body is a no-op only when
    stored with a snapshot on the same UTC day; on another day it is a new snapshot.
    """
    pixel = _check_pixel(pixel_id)
    events = parse_body(body, name=name)
    text, sha = _canonical(body)
    when = fetched_at.astimezone(dt.UTC).replace(tzinfo=None) if fetched_at.tzinfo else fetched_at
    if source == "file":
        found = store.query(
            "find quality snapshot",
            """select snapshot_id, fetched_at, source_name
            from meta_quality_snapshots
            where pixel_id = $pixel and body_sha256 = $sha and source = 'file'
              and ($dated = false or cast(fetched_at as date) = cast($at as date))
            order by fetched_at, snapshot_id""",
            {"pixel": pixel, "sha": sha, "dated": dated, "at": when},
        ).rows
        if found:
            snapshot_id, at, stored_name = found[0]
            return Snapshot(
                snapshot_id=snapshot_id, fetched_at=at, pixel_id=pixel, source=source,
                source_name=stored_name, events=len(events), already_stored=True,
            )  # fmt: skip
    with store.transaction() as tx:
        snapshot_id = int(tx.execute("next snapshot id", "select nextval('meta_snapshot_ids')").scalar())
        tx.execute(
            "record quality snapshot",
            """insert into meta_quality_snapshots
              (fetched_at, pixel_id, body, snapshot_id, source, source_name, body_sha256)
            values ($at, $pixel, $body, $id, $source, $name, $sha)""",
            {"at": when, "pixel": pixel, "body": text, "id": snapshot_id, "source": source,
             "name": source_name, "sha": sha},
        )  # fmt: skip
        for event in events:
            _store_event(tx, snapshot_id, event)
    return Snapshot(
        snapshot_id=snapshot_id, fetched_at=when, pixel_id=pixel, source=source, source_name=source_name,
        events=len(events),
    )  # fmt: skip


def _store_event(tx: Any, snapshot_id: int, event: EventQuality) -> None:
    tx.execute(
        "record quality event",
        """insert into meta_quality_events
        values ($id, $event, $emq, $coverage, $goal, $freshness, $acr, $diag)""",
        {"id": snapshot_id, "event": event.event_name, "emq": event.emq, "coverage": event.event_coverage,
         "goal": event.coverage_goal, "freshness": event.upload_frequency, "acr": event.acr,
         "diag": event.diagnostics},
    )  # fmt: skip
    for key in event.dedupe_keys:
        tx.execute(
            "record dedupe key feedback",
            "insert into meta_quality_dedupe_keys values ($id, $event, $key, $browser, $server, $coverage)",
            {"id": snapshot_id, "event": event.event_name, "key": key.dedupe_key,
             "browser": key.browser_share, "server": key.server_share, "coverage": key.browser_coverage},
        )  # fmt: skip
    for match in event.match_keys:
        tx.execute(
            "record match key feedback",
            "insert into meta_quality_match_keys values ($id, $event, $identifier, $coverage)",
            {"id": snapshot_id, "event": event.event_name, "identifier": match.identifier,
             "coverage": match.coverage},
        )  # fmt: skip


def load_file(store: Store, path: Path, *, pixel_id: str, fetched_at: dt.datetime | None = None) -> Snapshot:
    """Store a saved Dataset Quality answer (JSON file) as a snapshot (``fetched_at``: the user's
    ``--at``; the same body on another day is another snapshot)."""
    path = Path(path)
    text = read_text(path)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as err:
        raise UnreadableFileError(
            f"{path.name} is not valid JSON (line {err.lineno})", hint=_HINT_FORMAT
        ) from None
    dated = fetched_at is not None
    if fetched_at is None:
        fetched_at = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    return save_snapshot(
        store, body, pixel_id=pixel_id, fetched_at=fetched_at, source="file", source_name=path.name,
        name=path.name, dated=dated,
    )  # fmt: skip


def fetch(
    store: Store,
    *,
    pixel_id: str,
    token: str,
    base_url: str | None = None,
    version: str | None = None,
    transport: httpx.BaseTransport | None = None,
    now: dt.datetime | None = None,
) -> Snapshot:
    """Fetch the dataset's quality now (token in the Authorization header only) and store the snapshot.

    Raises ``graph_api.GraphError`` when Meta says no (its text never holds the token).
    """
    from capi_core.meta import (
        graph_api,  # the push's client; imported here so parsing works without httpx use
    )

    pixel = _check_pixel(pixel_id)
    options: dict[str, Any] = {"transport": transport, "max_retries": 2}
    if base_url:
        options["base_url"] = graph_api.check_base_url(base_url)  # before the token is checked
    if version:
        options["version"] = version
    with graph_api.GraphClient(token, **options) as client:
        body = client.get(ENDPOINT, {"dataset_id": pixel, "fields": FIELDS})
        source_name = f"{client.base_url}/{client.version}/{ENDPOINT}"
    return save_snapshot(
        store, body, pixel_id=pixel, fetched_at=now or dt.datetime.now(dt.UTC), source="api",
        source_name=source_name, name="Meta's answer",
    )  # fmt: skip


def snapshots(store: Store, pixel_id: str | None = None) -> list[Snapshot]:
    """Every stored snapshot (newest first), optionally of one pixel."""
    rows = store.query(
        "list quality snapshots",
        """select s.snapshot_id, s.fetched_at, s.pixel_id, coalesce(s.source, 'unknown') as source,
          s.source_name, count(e.event_name) as events
        from meta_quality_snapshots s
        left join meta_quality_events e
          on e.snapshot_id = s.snapshot_id
        where cast($pixel as varchar) is null or s.pixel_id = $pixel
        group by s.snapshot_id, s.fetched_at, s.pixel_id, s.source, s.source_name
        order by s.fetched_at desc, s.snapshot_id desc""",
        {"pixel": pixel_id},
    ).dicts()
    return [Snapshot(**row) for row in rows]


def snapshot_version(store: Store) -> str:
    """A value that changes whenever a snapshot is stored (snapshots are not batches: the store's data
    version does not see them, so pages add this to their cache key)."""
    row = store.query(
        "snapshot version", "select count(*), coalesce(max(snapshot_id), 0) from meta_quality_snapshots"
    ).rows[0]
    return "-".join(str(v) for v in row)
