"""Meta's normalization and SHA-256 rules for every user_data key (reference §2.4–2.6).

PROVISIONAL minimal version: the full implementation (phonenumbers, pycountry, dates, genders, states)
replaces this module with the same public functions.
"""

from __future__ import annotations

import hashlib
import re

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def is_sha256(value: str) -> bool:
    """True for 64 hex characters (any case) after trimming."""
    return bool(_HEX64.match(value.strip()))


def normalize(key: str, value: object, *, country: str | None = None) -> str | None:
    """Meta's normalized form of ``value`` for user_data ``key``; None when nothing usable remains."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    if is_sha256(text):
        return text
    if key == "em":
        return text if re.match(r".+@.+\..+", text) else None
    if key == "ph":
        digits = re.sub(r"\D", "", text).lstrip("0")
        return digits or None
    return re.sub(r"[\s\W]", "", text) or None


def hash_value(key: str, value: object, *, country: str | None = None) -> str | None:
    """normalize then SHA-256 hex; already-hashed 64-hex values pass through lowercased."""
    normalized = normalize(key, value, country=country)
    if normalized is None:
        return None
    if is_sha256(normalized):
        return normalized
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def assess_key(key: str, value: object, *, channel: str, country: str | None = None) -> tuple[str | None, str]:
    """(value to store, verdict) for one user_data key as sent on ``channel``."""
    if value is None or str(value).strip() == "":
        return None, "missing"
    text = str(value).strip()
    if key in ("fbp", "fbc", "client_ip_address", "client_user_agent", "lead_id"):
        if is_sha256(text) and key != "client_user_agent":
            return text.lower(), "hashed_forbidden"
        return text, "valid"
    if is_sha256(text):
        return text.lower(), "valid"
    hashed = hash_value(key, text, country=country)
    if hashed is None:
        return None, "malformed"
    return hashed, "valid" if channel == "browser" or key == "external_id" else "raw_pii"
