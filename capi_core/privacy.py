"""Keeping secrets and PII out of the store: token stripping, page-URL masking and masking of quarantined
raw text.

Quarantine keeps the raw text of a row so a user can see why it failed, but only after ``mask_text``
has replaced anything that looks like an email, a phone number or a credential (``access_token=`` in
any letter case, ``Bearer``/``OAuth`` header values, bare ``EAA`` tokens). Readers of CSV formats with
known PII columns blank those columns before building the raw text; this is the net under them.

Page URLs are stored with every query and fragment value masked except those of ``URL_KEYS_KEPT`` (keys
that carry no personal data), which a store may extend (``settings.url_keys``). The SQL ingest paths
(``queries/ingest_fast_*.sql``, ``queries/spark/*.sql``) keep a URL only when ``mask_url`` would leave it
as sent, and hand any other line to the Python reader: this module stays the only implementation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

_EMAIL = re.compile(r"[^\s@\"',;:<>()\[\]{}]+@[^\s@\"',;:<>()\[\]{}]+\.[A-Za-z]{2,}")
# access_token=..., "access_token": "...", and the percent-encoded access_token%3D... of a URL inside a URL
_TOKEN_PARAM = re.compile(r"(access_token(?:[\"']?\s*[=:]\s*[\"']?|%3D))[^&\"'\s,}]+", re.IGNORECASE)
# "Bearer <token>" / "OAuth <token>" anywhere, and an Authorization header's other values ("Basic ...")
_AUTH = re.compile(
    r"\b((?:bearer|oauth)(?:\s+|%20|\+)"
    r"|authorization[\"']?\s*[:=]\s*[\"']?(?:basic(?:\s+|%20|\+))?(?!(?:bearer|oauth)\b))"
    r"[^\s\"',;&}\]]+",
    re.IGNORECASE,
)
_BARE_TOKEN = re.compile(r"\bEAA[A-Za-z0-9]{20,}\b")  # Meta user/system-user tokens start with EAA
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{6,}\d(?![\w.])")
_ENCODED_EMAIL = re.compile(r"[^\s&=?/#]+%40[^\s&=?/#]+", re.IGNORECASE)
# one key=value item of a URL's query or fragment (items end at ? & # ;); the value is not empty
_URL_ITEM = re.compile(r"([?&#;])([^?&#;=]*)=([^?&#;]+)")
# the same inside free text (quarantined lines): a value also ends at quotes, spaces and backslashes
_TEXT_ITEM = re.compile(r"([?&#;])([^?&#;=\s\"'<>\\]*)=([^?&#;\s\"'<>\\]+)")
_URL_KEY = re.compile(r"[a-z0-9_.-]+\*?")
MASK = "***"

#: Keys that carry credentials in request envelopes and logs.
SECRET_KEYS = frozenset({"access_token", "appsecret_proof", "app_secret", "token"})

#: Page-URL query/fragment keys whose values carry no personal data: campaign tags, click ids, product
#: and variant ids, page state (``submitted``: a form's thank-you flag). Any other value is stored as
#: ``***``. Lowercase; a trailing ``*`` matches a prefix.
#: The one list: the SQL ingest paths receive it as a parameter (``url_keys_kept``).
URL_KEYS_KEPT: tuple[str, ...] = (
    "utm_*", "fbclid", "gclid", "gbraid", "wbraid", "dclid", "msclkid", "ttclid", "twclid", "li_fat_id",
    "product", "product_id", "variant", "variant_id", "sku", "content_id", "content_ids", "category",
    "collection", "page", "sort", "currency", "lang", "submitted",
)  # fmt: skip


@cache
def _keys_kept(extra: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*URL_KEYS_KEPT, *(key.strip().lower() for key in extra)]))


def url_keys_kept(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """``URL_KEYS_KEPT`` plus a store's own keys (``extra``), lowercased, without repeats."""
    return _keys_kept(tuple(extra))  # once per distinct list: masking calls it for every URL


def check_url_key(key: str) -> str:
    """``key`` lowercased and trimmed when it can be an allow-list entry, else ``ValueError``.

    Entries are ASCII letters, digits, ``_ . -``, with an optional trailing ``*`` (a prefix).
    """
    entry = key.strip().lower()
    if not _URL_KEY.fullmatch(entry):
        raise ValueError(f"{key!r} is not a URL key (letters, digits, _ . - and an optional trailing *)")
    return entry


def key_kept(key: str, keep: tuple[str, ...] = URL_KEYS_KEPT) -> bool:
    """Whether a URL query key's value is stored (an entry of ``keep`` equal to it or, ending in ``*``,
    a prefix of it); the key is compared lowercased."""
    if not key.isascii():
        return False
    name = key.lower()
    return any(name.startswith(entry[:-1]) if entry.endswith("*") else name == entry for entry in keep)


def mask_secrets(text: str) -> tuple[str, int]:
    """``text`` with access tokens, Authorization values and bare Meta tokens masked, and how many."""
    text, params = _TOKEN_PARAM.subn(lambda m: m.group(1) + MASK, text)
    text, headers = _AUTH.subn(lambda m: m.group(1) + MASK, text)
    text, bare = _BARE_TOKEN.subn(MASK, text)
    return text, params + headers + bare


def mask_text(text: str) -> str:
    """``text`` with emails, phone-like digit runs and credentials replaced by ``***``."""
    text, _ = mask_secrets(text)
    text = _EMAIL.sub(MASK, text)
    return _PHONE.sub(MASK, text)


def mask_url(url: str, extra_keys: Iterable[str] = ()) -> str:
    """A page URL as stored: query and fragment values masked, emails (plain or percent-encoded) masked.

    Every ``key=value`` item after the first ``?`` or ``#`` (items end at ``? & # ;``) keeps its value only
    when its key is in ``URL_KEYS_KEPT`` or ``extra_keys`` (case-insensitive); items without a value and
    ``#anchors`` stay. Shops put the buyer's email, phone or name in thank-you page URLs; the URL is
    stored, those values must not be.
    """
    start = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=-1)
    if start >= 0:
        keep = url_keys_kept(extra_keys)
        tail = _URL_ITEM.sub(lambda m: m[0] if key_kept(m[2], keep) else f"{m[1]}{m[2]}={MASK}", url[start:])
        url = url[:start] + tail
    return _ENCODED_EMAIL.sub(MASK, _EMAIL.sub(MASK, url))


def mask_query_values(text: str, extra_keys: Iterable[str] = ()) -> str:
    """``text`` (a quarantined line) with the value of every ``key=value`` parameter that follows one of
    ``? & # ;`` masked, unless its key is kept (``URL_KEYS_KEPT``, ``extra_keys``): the page URLs and
    request URLs a raw line holds."""
    keep = url_keys_kept(extra_keys)
    return _TEXT_ITEM.sub(lambda m: m[0] if key_kept(m[2], keep) else f"{m[1]}{m[2]}={MASK}", text)


def strip_secrets(obj: Any) -> tuple[Any, int]:
    """A copy of a parsed JSON value without credential keys, and how many were removed.

    Credential keys (``SECRET_KEYS``, any letter case) are dropped; a text holding ``access_token=``
    (any letter case, or percent-encoded) keeps the text with the token masked and counts once.
    """
    if isinstance(obj, dict):
        removed = 0
        clean: dict[str, Any] = {}
        for key, value in obj.items():
            if isinstance(key, str) and key.lower() in SECRET_KEYS:
                removed += 1
                continue
            clean[key], inner = strip_secrets(value)
            removed += inner
        return clean, removed
    if isinstance(obj, list):
        items = [strip_secrets(value) for value in obj]
        return [item for item, _ in items], sum(count for _, count in items)
    if isinstance(obj, str):
        masked, found = _TOKEN_PARAM.subn(lambda m: m.group(1) + MASK, obj)
        if found:
            return masked, 1
    return obj, 0
