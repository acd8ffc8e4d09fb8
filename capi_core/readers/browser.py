"""Readers for browser (Meta Pixel) formats: beacon URLs, HAR captures, fbq call logs, server-shape JSONL.

Formats (source ``browser``, channel ``browser``, action_source ``website`` unless the record says):

- ``pixel_beacons``: one ``https://www.facebook.com/tr/?id=..&ev=..`` URL per line; the URL may sit
  inside other text (quotes, a ``GET`` prefix); blank lines and ``#`` / ``//`` comments are skipped.
- ``har``: a HAR 1.2 document; entries whose request goes to ``/tr`` or ``/tr/`` on a facebook.com host
  (GET query string, POST urlencoded or multipart body); every other entry is ignored. Record number =
  entry index + 1.
- ``fbq_jsonl``: ``{"ts", "pixel_id", "fbq": [..call..], "fbp", "fbc", "url", "user_agent", "consent"}``
  per line; ``track``/``trackCustom``/``trackSingle``/``trackSingleCustom`` are events, every other
  command (``init``, ``consent``, ``set`` ...) is not and is skipped without an error. ``init`` advanced
  matching is not carried to later lines: a log mixes users, and carrying it could attach one user's
  email to another's event.
- ``browser_events``: JSONL (or a JSON array) in server-event shape, read as browser copies.

Beacon mapping: ``id`` -> pixel_id, ``ev`` -> event_name, ``eid`` -> event_id, ``ts`` (epoch ms) ->
sent_at and event_time (as a datetime, so it is never taken for a server ``milliseconds`` error),
``dl`` -> event_source_url, ``cd[..]`` -> custom_data (``content_ids``/``contents`` JSON text parsed, a
corrupt one kept as text), ``ud[..]``/``udff[..]`` -> user_data, ``fbp``/``fbc`` -> user_data. A URL
carries no user agent, so client_user_agent stays absent except in HAR (the request's header).

Must not: normalize or hash (``canonical.py`` does), or keep a credential (``strip_secrets`` first).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, unquote_plus, urlsplit

import orjson

from capi_core.errors import UnreadableFileError
from capi_core.models import IncomingEvent, RowError, SourceKind
from capi_core.privacy import strip_secrets
from capi_core.readers._io import read_text, read_text_lines
from capi_core.readers._json import (
    head_keys,
    load_json_text,
    masked,
    masked_url,
    nul_line_error,
    parse_moment,
)
from capi_core.readers.server import CapiEventsReader, RecordError, consent_text

if TYPE_CHECKING:
    import datetime as dt

    from capi_core.readers import Reader, ReadOptions

Item = IncomingEvent | RowError
Params = list[tuple[str, str]]

_TR_URL = re.compile(
    r"(?:https?:)?//(?:[\w-]+\.)*facebook\.com/tr/?(?:\?[^\s\"'<>`]*)?(?=[\s\"'<>`]|$)", re.I
)
_BRACKET = re.compile(r"(cd|ud|udff)\[([^\]]*)\](.*)", re.S)
_JSON_CUSTOM = frozenset({"content_ids", "contents"})
_TRACK = {"track": 1, "trackCustom": 1, "trackSingle": 2, "trackSingleCustom": 2}
#: A beacon line starting with one of these (after whitespace) is a comment.
COMMENT = ("#", "//")


def is_tr_url(url: str) -> bool:
    """True for a Pixel endpoint URL: path ``/tr`` or ``/tr/`` on facebook.com or a subdomain of it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return (host == "facebook.com" or host.endswith(".facebook.com")) and parts.path in ("/tr", "/tr/")


def query_params(query: str) -> Params:
    """``parse_qsl(query, keep_blank_values=True)``, without its per-pair decoding calls when a pair
    has nothing to decode (beacons carry ~20 pairs, most of them plain)."""
    params: Params = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "+" in name or "%" in name:
            name = unquote(name.replace("+", " "))
        if "+" in value or "%" in value:
            value = unquote(value.replace("+", " "))
        params.append((name, value))
    return params


def _custom_value(key: str, value: str) -> Any:
    if key in _JSON_CUSTOM and value.lstrip()[:1] in ("[", "{"):
        parsed = load_json_text(value)
        return value if parsed is None else parsed
    return value


def _split_params(params: Params) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """(plain fields, custom_data, user_data) of a beacon's parameters; ``ud`` wins over ``udff``."""
    fields: dict[str, str] = {}
    custom: dict[str, Any] = {}
    user: dict[str, Any] = {}
    for key, value in params:
        match = _BRACKET.fullmatch(key)
        if match is None:
            fields.setdefault(key, value)
        elif match[1] == "cd":
            custom[match[2] + match[3]] = _custom_value(match[2], value)
        elif match[1] == "ud" or match[2] not in user:
            user[match[2] + match[3]] = value
    return fields, custom, user


def _moment(raw: str | None, what: str) -> dt.datetime | None:
    if raw in (None, ""):
        return None
    try:
        return parse_moment(raw)
    except ValueError:
        raise RecordError(f"{what} is not a time") from None


def beacon_event(
    params: Params,
    line_no: int,
    *,
    sent_at: dt.datetime | None = None,
    user_agent: str | None = None,
    cookies: dict[str, str] | None = None,
    default_pixel: str | None = None,
) -> IncomingEvent:
    """One Pixel beacon's parameters as a browser ``IncomingEvent`` (see the module docstring).

    Raises:
        RecordError: no ``ev`` parameter, or a ``ts`` that is not a time.
    """
    fields, custom, user = _split_params(params)
    name = fields.get("ev")
    if not name:
        raise RecordError("no ev (event name) parameter")
    fired = _moment(fields.get("ts"), "ts")
    cookies = cookies or {}
    for key in ("fbp", "fbc"):
        value = fields.get(key) or cookies.get(f"_{key}")
        if value and key not in user:
            user[key] = value
    if user_agent:
        user.setdefault("client_user_agent", user_agent)
    return IncomingEvent(
        line_no=line_no,
        channel="browser",
        event_name=name,
        event_time_raw=fired or sent_at,
        event_id=fields.get("eid") or None,
        pixel_id=fields.get("id") or default_pixel,
        sent_at=sent_at or fired,
        action_source="website",
        event_source_url=fields.get("dl") or None,
        user_data=user,
        custom_data=custom,
    )


class PixelBeaconReader:
    """Pixel beacon URLs to facebook.com/tr, one per line."""

    source: SourceKind = "browser"
    format = "pixel_beacons"
    description = "Pixel beacon URLs https://www.facebook.com/tr/?id=..&ev=.., one per line"

    def sniff(self, head: str, file_name: str) -> bool:
        """The first line that is not blank or a comment holds a /tr URL."""
        for line in head.splitlines():
            text = line.strip()
            if text and not text.startswith(COMMENT):
                return _TR_URL.search(text) is not None
        return False

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        """Every beacon line as an event; a line without a /tr URL as a ``RowError``."""
        for line_no, line in read_text_lines(path):
            yield from self.line_items(line_no, line, options)

    def line_items(self, line_no: int, line: str, options: ReadOptions) -> Iterator[Item]:
        """One line of a beacon file: nothing for a blank or comment line, else its event or error
        (the fast path and the Spark ingest read the lines their SQL leaves through here)."""
        text = line.strip()
        if not text or text.startswith(COMMENT):
            return
        yield nul_line_error(line_no, text) if "\x00" in text else self._line(text, line_no, options)

    @staticmethod
    def _line(text: str, line_no: int, options: ReadOptions) -> Item:
        clean, secrets = strip_secrets(text)
        match = _TR_URL.search(clean)
        if match is None:
            return RowError(line_no, "no facebook.com/tr URL on the line", masked_url(clean), secrets)
        try:
            params = query_params(urlsplit(match[0]).query)
            event = beacon_event(params, line_no, default_pixel=options.pixel_id)
        except (RecordError, ValueError) as err:
            return RowError(line_no, str(err), masked_url(clean), secrets)
        event.secrets_stripped = secrets
        return event


# --- HAR -----------------------------------------------------------------------------------------


def _pairs(items: Any) -> Params:
    """HAR ``[{"name", "value"}]`` lists as (name, value) pairs."""
    if not isinstance(items, list):
        return []
    return [
        (str(item["name"]), str(item.get("value", "")))
        for item in items
        if isinstance(item, dict) and "name" in item
    ]


def _multipart(text: str, mime: str) -> Params:
    """Fields of a multipart/form-data body as HAR stores it (text, CRLF or LF line ends)."""
    text = text.replace("\r\n", "\n")
    found = re.search(r'boundary="?([^";]+)"?', mime)
    boundary = found[1] if found else text.split("\n", 1)[0].removeprefix("--")
    params: Params = []
    for part in text.split(f"--{boundary}"):
        head, sep, body = part.lstrip("\n").partition("\n\n")
        name = re.search(r'name="([^"]*)"', head)
        if sep and name:
            params.append((name[1], body.removesuffix("\n")))
    return params


def _post_params(request: dict[str, Any]) -> Params:
    post = request.get("postData")
    if not isinstance(post, dict):
        return []
    mime = str(post.get("mimeType", "")).lower()
    text = post.get("text")
    if isinstance(text, str) and text:
        if "multipart/form-data" in mime:
            return _multipart(text, str(post.get("mimeType", "")))
        return query_params(text)
    return [(unquote_plus(k), unquote_plus(v)) for k, v in _pairs(post.get("params"))]


def _header(request: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in _pairs(request.get("headers")) if k.lower() == name), None)


def _har_entry(entry: Any, index: int, options: ReadOptions) -> Item | None:
    """One HAR entry: an event for a /tr request, ``None`` for any other request."""
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict) or not isinstance(request.get("url"), str):
        return RowError(index, "HAR entry without a request URL", masked(entry))
    if not is_tr_url(request["url"]):
        return None
    clean, secrets = strip_secrets(request)
    try:
        params = query_params(urlsplit(clean["url"]).query) + _post_params(clean)
        event = beacon_event(
            params,
            index,
            sent_at=_moment(entry.get("startedDateTime"), "startedDateTime"),
            user_agent=_header(clean, "user-agent"),
            cookies=dict(_pairs(clean.get("cookies"))),
            default_pixel=options.pixel_id,
        )
    except RecordError as err:
        return RowError(index, str(err), masked_url(str(clean.get("url"))), secrets)
    event.secrets_stripped = secrets
    return event


class HarReader:
    """A HAR 1.2 capture (DevTools export): the /tr requests, GET and POST."""

    source: SourceKind = "browser"
    format = "har"
    description = "HAR 1.2 capture from browser DevTools: the facebook.com/tr requests"

    def sniff(self, head: str, file_name: str) -> bool:
        """A ``.har`` name, or a JSON document whose first key is ``log``."""
        if file_name.lower().endswith(".har"):
            return True
        return re.match(r'\s*\{\s*"log"\s*:\s*\{', head) is not None

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        """Every /tr entry as an event, in entry order."""
        try:
            doc = orjson.loads(read_text(path))
        except orjson.JSONDecodeError as err:
            raise UnreadableFileError(
                f"{path.name} is not valid JSON (line {err.lineno}), so not a HAR file",
                hint="export the HAR again from DevTools (Network > Export HAR)",
            ) from None
        log = doc.get("log") if isinstance(doc, dict) else None
        entries = log.get("entries") if isinstance(log, dict) else None
        if not isinstance(entries, list):
            raise UnreadableFileError(
                f"{path.name} has no log.entries: not a HAR file", hint="check --format"
            )
        for index, entry in enumerate(entries, start=1):
            item = _har_entry(entry, index, options)
            if item is not None:
                yield item


# --- fbq call logs and server-shape JSONL --------------------------------------------------------


def _fbq_parts(call: Any, pixel: Any) -> tuple[Any, Any, Any, Any] | None:
    """(pixel, event name, custom data, options) of a tracking call; ``None`` for other commands.

    ``pixel`` is the record's own pixel_id; ``trackSingle`` calls name theirs as the 2nd element.
    """
    if not isinstance(call, list) or not call or not isinstance(call[0], str):
        raise RecordError('fbq is not a call list like ["track", "Purchase", {...}]')
    shift = _TRACK.get(call[0])
    if shift is None:
        return None
    args = [*call[1:], None, None, None, None]
    if shift == 2:
        pixel, args = args[0], args[1:]
    return pixel, args[0], args[1], args[2]


def fbq_event(value: Any, line_no: int, options: ReadOptions) -> IncomingEvent | None:
    """One logged fbq call as a browser event; ``None`` when the call is not an event.

    Raises:
        RecordError: the record or its call cannot be read.
    """
    if not isinstance(value, dict) or "fbq" not in value:
        raise RecordError("no fbq call in the record")
    parts = _fbq_parts(value["fbq"], value.get("pixel_id"))
    if parts is None:
        return None
    pixel, name, custom, extra = parts
    if not isinstance(name, str) or not name:
        raise RecordError("the fbq call has no event name")
    if not isinstance(custom, dict | None) or not isinstance(extra, dict | None):
        raise RecordError("fbq parameters or options are not objects")
    given = value.get("user_data")
    user: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    for key, source_key in (("fbp", "fbp"), ("fbc", "fbc"), ("client_user_agent", "user_agent")):
        if value.get(source_key) not in (None, ""):
            user.setdefault(key, value[source_key])
    fired = _moment(value.get("ts"), "ts")
    event_id = (extra or {}).get("eventID")
    return IncomingEvent(
        line_no=line_no,
        channel="browser",
        event_name=name,
        event_time_raw=fired,
        event_id=None if event_id in (None, "") else str(event_id),
        pixel_id=options.pixel_id if pixel in (None, "") else str(pixel),
        sent_at=fired,
        action_source="website",
        event_source_url=value.get("url") or None,
        consent=consent_text(value.get("consent")),
        user_data=user,
        custom_data=dict(custom or {}),
    )


class FbqJsonlReader(CapiEventsReader):
    """JSONL of logged fbq calls."""

    source: SourceKind = "browser"
    format = "fbq_jsonl"
    description = 'JSONL of fbq calls {"ts", "pixel_id", "fbq": ["track", "Purchase", {..}, {"eventID": ..}]}'
    expected = 'objects with "fbq"'

    def sniff(self, head: str, file_name: str) -> bool:
        """A first record with ``fbq``."""
        return "fbq" in head_keys(head)

    def fits(self, value: Any) -> bool:
        """An object with fbq."""
        return isinstance(value, dict) and "fbq" in value

    def record_items(self, value: Any, line_no: int, secrets: int, options: ReadOptions) -> Iterator[Item]:
        """The tracking call's event, or nothing for init/consent/set calls."""
        event = fbq_event(value, line_no, options)
        if event is not None:
            event.secrets_stripped = secrets
            yield event


class BrowserEventsReader(CapiEventsReader):
    """JSONL (or a JSON array) in server-event shape, read as browser copies."""

    source: SourceKind = "browser"
    format = "browser_events"
    description = "Browser events in server-event shape (JSONL or JSON array), channel browser"
    channel = "browser"

    def record_items(self, value: Any, line_no: int, secrets: int, options: ReadOptions) -> Iterator[Item]:
        """One browser copy; a Pixel event is a website event unless the record says otherwise."""
        for item in super().record_items(value, line_no, secrets, options):
            if isinstance(item, IncomingEvent) and item.action_source is None:
                item.action_source = "website"
            yield item


READERS: list[Reader] = [HarReader(), PixelBeaconReader(), FbqJsonlReader(), BrowserEventsReader()]
