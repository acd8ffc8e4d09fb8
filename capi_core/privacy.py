"""Keeping secrets and PII out of the store: token stripping and masking of quarantined raw text.

Quarantine keeps the raw text of a row so a user can see why it failed, but only after ``mask_text``
has replaced anything that looks like an email, a phone number or an access token. Readers of CSV
formats with known PII columns blank those columns before building the raw text; this is the net under
them.
"""

from __future__ import annotations

import re
from typing import Any

_EMAIL = re.compile(r"[^\s@\"',;:<>()\[\]{}]+@[^\s@\"',;:<>()\[\]{}]+\.[A-Za-z]{2,}")
_TOKEN_PARAM = re.compile(r"(access_token[\"']?\s*[=:]\s*[\"']?)[^&\"'\s,}]+", re.IGNORECASE)
_BARE_TOKEN = re.compile(r"\bEAA[A-Za-z0-9]{20,}\b")  # Meta user/system-user tokens start with EAA
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{6,}\d(?![\w.])")
_ENCODED_EMAIL = re.compile(r"[^\s&=?/#]+%40[^\s&=?/#]+", re.IGNORECASE)
MASK = "***"

#: Keys that carry credentials in request envelopes and logs.
SECRET_KEYS = frozenset({"access_token", "appsecret_proof", "app_secret", "token"})


def mask_text(text: str) -> str:
    """``text`` with emails, phone-like digit runs and access tokens replaced by ``***``."""
    text = _TOKEN_PARAM.sub(lambda m: m.group(1) + MASK, text)
    text = _BARE_TOKEN.sub(MASK, text)
    text = _EMAIL.sub(MASK, text)
    return _PHONE.sub(MASK, text)


def mask_url(url: str) -> str:
    """A page URL with email addresses (plain or percent-encoded, e.g. ``?email=a%40b.com``) masked.

    Shops put the buyer's email in thank-you page URLs; the URL is stored, the email must not be.
    """
    return _ENCODED_EMAIL.sub(MASK, _EMAIL.sub(MASK, url))


def strip_secrets(obj: Any) -> tuple[Any, int]:
    """A copy of a parsed JSON value without credential keys, and how many were removed."""
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
    if isinstance(obj, str) and "access_token=" in obj:
        return _TOKEN_PARAM.sub(lambda m: m.group(1) + MASK, obj), 1
    return obj, 0
