"""Meta's normalization and SHA-256 rules for every hashed ``user_data`` key (reference §2.4–2.6).

Owns: turning one raw value into Meta's normalized form (``normalize``), hashing it (``hash_value``),
and judging one ``user_data`` value as sent on a channel (``assess_key``), plus the ``fbp``/``fbc``
format rules (§2.7). Pure functions only: no I/O, no logging, and never a raw value in an exception
message (raw values here are PII).

Conventions where Meta's sources diverge (official rule first, Parameter Builder [PB] for ambiguous
cases, our inference otherwise):

- Already-hashed values (64 hex, any case, trimmed; optionally followed by a PB ``.<appendix>``) pass
  through lowercased, appendix dropped. A 32-hex value (an MD5) is what the Python SDK's
  ``Normalize.is_already_hashed`` also calls hashed: ``normalize`` returns it lowercased, as the SDK
  sends it, and never hashes it again nor calls it raw PII. Meta documents SHA-256 only (reference §2.6,
  [D-CUST]), so where the SDK and Meta's words part ways we follow Meta's for the verdict: an MD5 has no
  SHA-256 form (``hash_value`` gives None) and ``assess_key`` judges it ``malformed`` (MATCH_MALFORMED_HASH),
  because it can never equal the SHA-256 the Pixel sends for the same person. Other all-hex strings of
  33+ characters (SHA-1, truncated hashes) are not a usable value for any key: the SDK would hash them as
  if they were a name, which matches nobody. ``external_id`` is exempt from both rules (any string ID,
  e.g. a ``uuid4().hex``, is legitimate).
- Excel artefacts: a leading apostrophe and surrounding whitespace are dropped for hashed keys; integral
  floats (``16505551212.0``) read as integers.
- ``em``: trim + lowercase only (Meta docs). Nothing is sanitized out, unlike the PHP SDK
  (``foo(.bar)@baz.com/`` is rejected, not rewritten). Local part: any non-space characters, quoted
  strings and backslash escapes; domain: two or more labels of letters/digits/hyphens (Unicode allowed).
- ``ph``: ``phonenumbers``, output E.164 digits without ``+``. ``+``, ``00`` (and ``+00``) mark an
  international number (kept when its length is possible for the plan); otherwise the record's country
  is the region (so its own international prefix, e.g. US ``011``, works) and the number must be valid
  there. Digits starting with the country's own calling code are read as international first (DE
  ``4915123456789`` is ``+49 151...``, not a national number; this also keeps ``normalize`` idempotent).
  An extension at the end (``ext. 123``, ``x12``, ``#12``) is dropped: it is not part of the number a
  person is matched on. Letters are removed, never read as keypad digits: Meta's rule for ``ph`` is to
  remove symbols, letters and any leading zeros (customer-information-parameters page, [D-CUST],
  reference §2.4), so ``1-800-FLOWERS`` keeps ``1800``, too short to be a phone (None). The Python SDK
  refuses any letter (its regex fails: ValueError); we follow Meta's words, as the PHP SDK and PB do,
  because a stray letter (``44-12390821300A``) does not make the digits less usable. Without a country
  and an international prefix, or when
  phonenumbers finds no valid number, we keep the digits as given (Meta SDK behaviour): digits only,
  leading zeros stripped, no calling code added, and at least 7 digits or None.
- ``fn``/``ln``: NFC, lowercase, drop whitespace/punctuation/symbols, keep letters of any script,
  accents and digits (Meta docs ``valéry``, ``정``; PB keeps digits too).
- ``ct``: NFC, lowercase, letters of any script only (Meta docs allow UTF-8). PB keeps ASCII only
  (``San José`` -> ``sanjos``, ``Москва`` -> null); we keep ``sanjosé``/``москва``.
- ``st``: US state / Canadian province names (pycountry) and ``US-CA`` style codes -> 2-letter codes;
  anything else letters only, kept whole (PB keeps only the first 2 letters: ``unknown`` -> ``un``).
- ``zp``: part before the first ``-`` (every Meta SDK and PB do this; ``98-121-4892`` -> ``98``), then
  lowercase letters/digits only; with country ``us``, first 5 digits and Excel-stripped 3-4 digit zips
  zero-padded. Fewer than 2 characters -> None.
- ``country``: ISO 3166-1 alpha-2 via pycountry (codes, alpha-3, names, a few common aliases). ``UK`` ->
  ``gb`` (ISO, as Meta's docs require; PB sends ``uk``). Unknown -> None (PHP keeps ``uu``).
- ``db``: ``YYYYMMDD``; three digit groups with a 4-digit year first or last (first group > 12 is the
  day, second > 12 is the day, else first = month as PB), or a bare ``YYYYMMDD``; trailing text/time
  ignored; 2-digit years rejected; year 1900..current year (Meta docs; PB allows 1800..current+1).
- ``ge``: English synonyms -> ``f``/``m`` (PB), else None.
- ``external_id``: surrounding whitespace trimmed, everything else kept as sent, case included. Meta's
  Python SDK sends ``external_id`` unchanged (``UserData.normalize`` only de-duplicates the list) and
  Meta's external-id page asks for the same value on every channel: "if you send a browser Pixel event
  with external_id set to 123, your Conversions API event for that same user should also have
  external_id set to 123"
  (https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/external-id).
  Lowercasing (PB does it) would merge ``USER-1`` and ``user-1``, which Meta receives as two values, and
  would store a hash other than the one an SDK sender's value yields. Trimming is ours: every Meta
  normalizer trims the other keys, and the whitespace around an ID is an export artefact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
import re
import unicodedata
from functools import lru_cache

import phonenumbers
import pycountry

from capi_core.models import HASHED_KEYS, PLAIN_KEYS

__all__ = [
    "assess_key",
    "fbc_created_at",
    "hash_value",
    "is_sha256",
    "normalize",
    "phone_with_calling_code",
]

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
#: PB appendix: a legacy 2-character language token or the current 8-character base64url block.
_APPENDIX = r"(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8})"
_HEX64_APPENDIX = re.compile(rf"^([0-9a-fA-F]{{64}})(?:\.{_APPENDIX})?$")
_HASHLIKE = re.compile(r"^[0-9a-fA-F]{32,}$")
#: What Meta's Python SDK calls an MD5 (``Normalize.is_already_hashed``: 32 hex after lower + strip).
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
#: A phone extension at the end of the text: ``ext. 123``, ``extension 12``, ``x12``, ``#12``.
_PHONE_EXTENSION = re.compile(r"(?:#|(?<![^\W\d_])(?:extension|ext|x))\.?\s*\d{1,6}\s*$", re.IGNORECASE)
#: Letters of any script (a word character that is neither a digit nor an underscore).
_LETTERS = re.compile(r"[^\W\d_]+")
_FBP = re.compile(rf"^fb\.\d\.\d{{13}}\.\d+(?:\.{_APPENDIX})?$")
_FBC = re.compile(rf"^fb\.\d\.\d{{13}}\.[^.\s]+(?:\.{_APPENDIX})?$")
_FBC_TIME = re.compile(r"^fb\.\d\.(\d{13})\.")
_EMAIL = re.compile(
    r"""^(?>"(?:[^"\\]|\\.)*"|\\.|[^\s@\\])+
    @(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_](?:[\w-]*[^\W_])?$""",
    re.VERBOSE,
)
#: Dotted-quad IPv4 without leading zeros: exactly what ``ipaddress`` accepts for IPv4, checked first
#: because nearly every client_ip_address is one (``ipaddress`` decides everything else).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_EXCEL_LEAD = re.compile(r"^[\s']+|\s+$")
_INTL_PREFIX = re.compile(r"^(?:\+|\(?00)[\s()\-.]*0*")
_DIGITS = re.compile(r"\d+")
_MIN_PHONE_DIGITS = 7

_GENDERS: dict[str, str] = {
    **dict.fromkeys(("f", "female", "woman", "women", "girl", "mrs", "ms", "miss", "lady"), "f"),
    **dict.fromkeys(("m", "male", "man", "men", "boy", "mr", "gentleman"), "m"),
}
#: Names pycountry does not resolve; ISO alpha-2 wins over PB's ``uk``.
_COUNTRY_ALIASES: dict[str, str] = {
    "uk": "gb",
    "great britain": "gb",
    "britain": "gb",
    "england": "gb",
    "scotland": "gb",
    "wales": "gb",
    "northern ireland": "gb",
    "russia": "ru",
    "korea": "kr",
    "turkey": "tr",
    "holland": "nl",
    "uae": "ae",
    "ivory coast": "ci",
    "macedonia": "mk",
    "palestine": "ps",
    "vatican": "va",
    "brunei": "bn",
    "cape verde": "cv",
    "swaziland": "sz",
    "burma": "mm",
    "dr congo": "cd",
}


def is_sha256(value: str) -> bool:
    """True for 64 hex characters (any case) after trimming."""
    return bool(_HEX64.match(value.strip()))


def normalize(key: str, value: object, *, country: str | None = None) -> str | None:
    """Meta's normalized form of ``value`` for user_data ``key``.

    Args:
        key: one of the hashed user_data keys (``em``, ``ph``, ``fn`` ... ``external_id``).
        value: the raw value as read (str, number, date).
        country: ISO alpha-2 (any case) of the record, used as the phone region.

    Returns:
        The normalized string, a lowercased hash if ``value`` was already hashed, or None when nothing
        usable remains.

    Raises:
        ValueError: ``key`` is not a hashed user_data key.
    """
    if key not in _NORMALIZERS:
        raise ValueError(f"not a hashed user_data key: {key!r}")
    if isinstance(value, dt.date) and key == "db":
        return _date_parts(value.year, value.month, value.day)
    text = _text(value)
    if text is None:
        return None
    hashed = _as_hash(text)
    if hashed is not None:
        return hashed
    if key != "external_id":
        if _MD5.match(text):
            return text.lower()  # the SDK's "already hashed": sent as is, never hashed again
        if _HASHLIKE.match(text):
            return None
    return _NORMALIZERS[key](text, _region(country))


def hash_value(key: str, value: object, *, country: str | None = None) -> str | None:
    """Normalize then SHA-256 (hex of the UTF-8 bytes); already-hashed values pass through lowercased.

    Args:
        key: hashed user_data key.
        value: raw value.
        country: ISO alpha-2 of the record (phone region).

    Returns:
        64 lowercase hex characters, or None when the value normalizes to nothing or is an MD5 (which has
        no SHA-256 form; Meta documents SHA-256 only).
    """
    normalized = normalize(key, value, country=country)
    if normalized is None or _HEX64.match(normalized):
        return normalized
    if _is_md5(key, value):
        return None
    return _sha256(normalized)


def assess_key(
    key: str, value: object, *, channel: str, country: str | None = None
) -> tuple[str | None, str]:
    """The value to store and the format verdict for one user_data key as sent on ``channel``.

    Hashed keys are stored only as SHA-256 (raw PII never leaves this function); plain keys as sent.

    Args:
        key: a hashed or plain user_data key (``capi_core.models.MATCH_KEYS``).
        value: the value as sent.
        channel: ``"browser"`` (the Pixel hashes advanced-matching values itself) or ``"server"``.
        country: ISO alpha-2 of the record (phone region).

    Returns:
        ``(stored, verdict)`` with verdict one of ``valid``, ``missing``, ``malformed``, ``raw_pii``,
        ``hashed_forbidden``.

    Raises:
        ValueError: unknown key or channel.
    """
    if channel not in ("browser", "server"):
        raise ValueError(f"unknown channel: {channel!r}")
    if key in PLAIN_KEYS:
        return _assess_plain(key, value)
    if key not in HASHED_KEYS:
        raise ValueError(f"unknown user_data key: {key!r}")
    text = _text(value)
    if text is None:
        return None, "missing"
    hashed = _as_hash(text)
    if hashed is not None:
        return hashed, "valid"
    normalized = normalize(key, text, country=country)
    if normalized is None or _is_md5(key, text):
        return None, "malformed"
    verdict = "valid" if channel == "browser" or key == "external_id" else "raw_pii"
    return _sha256(normalized), verdict


def fbc_created_at(fbc: str) -> dt.datetime | None:
    """Creation time of an ``fbc`` (its millisecond segment) as naive UTC, or None if unreadable."""
    match = _FBC_TIME.match(fbc.strip())
    if match is None:
        return None
    seconds = int(match.group(1)) / 1000
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


def phone_with_calling_code(value: object, country: str | None = None) -> str | None:
    """E.164 digits (no ``+``) when the phone's calling code is known, else None.

    The calling code is known from an international prefix (``+``, ``00``) or, failing that, from
    ``country``. Used by ``normalize('ph', ...)``; also tells a validator whether a phone can carry its
    country code.
    """
    text = _text(value)
    if text is None:
        return None
    text = _phone_text(text)
    prefix = _INTL_PREFIX.match(text)
    if prefix is not None:
        return _e164(_parse_phone("+" + text[prefix.end() :], None), valid_only=False)
    region = _region(country)
    if region is None:
        return None
    code = phonenumbers.country_code_for_region(region)
    if _only_digits(text).startswith(str(code)):
        # Digits that start with the country's own calling code are read as international first: national
        # numbers are written with a trunk 0 where plans are ambiguous (DE 4915123456789).
        international = _parse_phone("+" + text, None)
        if international is not None and international.country_code == code:
            found = _e164(international, valid_only=True)
            if found is not None:
                return found
    return _e164(_parse_phone(text, region), valid_only=True)


# -- shared helpers -------------------------------------------------------------------------------------


def _text(value: object) -> str | None:
    """Trimmed text of a raw value; Excel leading apostrophes dropped, integral floats as integers."""
    if value is None:
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            value = int(value)
    return _EXCEL_LEAD.sub("", str(value)) or None


def _is_md5(key: str, value: object) -> bool:
    """True for a raw value ``normalize`` passes through as an MD5 (an external_id is an ID, never that)."""
    text = _text(value)
    return key != "external_id" and text is not None and bool(_MD5.match(text))


def _phone_text(text: str) -> str:
    """The phone text without a trailing extension and without letters (Meta: remove letters; never
    read as keypad digits, which ``phonenumbers`` would otherwise do)."""
    return _LETTERS.sub("", _PHONE_EXTENSION.sub("", text))


def _as_hash(text: str) -> str | None:
    match = _HEX64_APPENDIX.match(text)
    return match.group(1).lower() if match else None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _only_digits(text: str) -> str:
    return "".join(_DIGITS.findall(text))


def _keep(text: str, categories: tuple[str, ...]) -> str:
    """NFC + lowercase, keeping only characters whose Unicode category starts with one of ``categories``."""
    lowered = unicodedata.normalize("NFC", text).lower()
    kept = "".join(ch for ch in lowered if unicodedata.category(ch)[0] in categories)
    return unicodedata.normalize("NFC", kept)


def _fold(text: str) -> str:
    """Letters only, accents removed: the lookup key for place names."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalpha())


# -- per-key normalizers: (trimmed non-empty text, phone region) -> normalized or None --------------------


def _email(text: str, region: str | None) -> str | None:
    lowered = text.lower()
    return lowered if _EMAIL.match(lowered) else None


def _phone(text: str, region: str | None) -> str | None:
    text = _phone_text(text)
    digits = _only_digits(text)
    # Stray characters can defeat phonenumbers where the bare digits parse; trying those too keeps the
    # result stable when it is normalized again.
    for candidate in (text, digits, digits.lstrip("0")):
        international = phone_with_calling_code(candidate, region)
        if international is not None:
            return international
    digits = digits.lstrip("0")
    return digits if len(digits) >= _MIN_PHONE_DIGITS else None


def _name(text: str, region: str | None) -> str | None:
    return _keep(text, ("L", "M", "N")) or None


def _city(text: str, region: str | None) -> str | None:
    return _keep(text, ("L", "M")) or None


def _state(text: str, region: str | None) -> str | None:
    coded = re.fullmatch(r"(?i)\s*(us|ca)\s*-\s*([a-z]{2})\s*", text)
    if coded is not None and coded.group(2).lower() in _subdivision_codes(coded.group(1)):
        return coded.group(2).lower()
    letters = _keep(text, ("L", "M"))
    return _subdivisions().get(_fold(letters), letters) or None


def _zip(text: str, region: str | None) -> str | None:
    head = text.split("-", 1)[0]
    code = "".join(ch for ch in head.lower() if ch.isalnum())
    if region == "US" and code.isdigit():
        code = code.zfill(5) if len(code) in (3, 4) else code[:5]
    return code if len(code) >= 2 else None


def _country(text: str, region: str | None) -> str | None:
    return _country_code(text)


def _birth_date(text: str, region: str | None) -> str | None:
    groups = _DIGITS.findall(text)
    if len(groups) == 1 and len(groups[0]) == 8:
        year, month, day = groups[0][:4], groups[0][4:6], groups[0][6:]
        return _date_parts(int(year), int(month), int(day))
    if len(groups) < 3:
        return None
    first, second, third = groups[:3]
    if len(first) == 4:
        month, day = int(second), int(third)
        if month > 12 >= day:
            month, day = day, month
        return _date_parts(int(first), month, day)
    if len(third) != 4:
        return None
    a, b = int(first), int(second)
    month, day = (b, a) if a > 12 else (a, b)
    return _date_parts(int(third), month, day)


def _gender(text: str, region: str | None) -> str | None:
    return _GENDERS.get(_keep(text, ("L",)))


def _external_id(text: str, region: str | None) -> str | None:
    return text  # already trimmed; case kept, as the SDK sends it (module docstring)


_NORMALIZERS = {
    "em": _email,
    "ph": _phone,
    "fn": _name,
    "ln": _name,
    "ct": _city,
    "st": _state,
    "zp": _zip,
    "country": _country,
    "db": _birth_date,
    "ge": _gender,
    "external_id": _external_id,
}


def _date_parts(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= dt.date.today().year:
        return None
    try:
        return dt.date(year, month, day).strftime("%Y%m%d")
    except ValueError:
        return None


def _parse_phone(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _e164(number: phonenumbers.PhoneNumber | None, *, valid_only: bool) -> str | None:
    if number is None:
        return None
    if valid_only:
        usable = phonenumbers.is_valid_number(number)
    else:
        # Numbers dialable only inside their own area are not matchable identifiers.
        reason = phonenumbers.is_possible_number_with_reason(number)
        usable = reason == phonenumbers.ValidationResult.IS_POSSIBLE
    digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
    # Some plans call 2-4 digit strings "possible"; nobody is matched on those.
    return digits if usable and len(digits) >= _MIN_PHONE_DIGITS else None


@lru_cache(maxsize=512)
def _region(country: str | None) -> str | None:
    """Phone region (upper alpha-2 known to phonenumbers) for a record's country, or None."""
    if not country:
        return None
    code = _country_code(country)
    region = code.upper() if code else None
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


@lru_cache(maxsize=4096)
def _country_code(text: str) -> str | None:
    cleaned = " ".join(text.replace(".", "").lower().split()).strip(" ,;:-_*/'\"()")
    letters = "".join(ch for ch in cleaned if ch.isalpha())
    for candidate in (cleaned, letters):
        if candidate in _COUNTRY_ALIASES:
            return _COUNTRY_ALIASES[candidate]
    for candidate in (cleaned, letters if len(letters) in (2, 3) else ""):
        if not candidate:
            continue
        try:
            return str(pycountry.countries.lookup(candidate).alpha_2).lower()
        except LookupError:
            continue
    return None


def _subdivision_pairs(country: str) -> list[tuple[str, str]]:
    """(name, lowercase 2-letter code) for each subdivision of ``country`` in pycountry."""
    subs = pycountry.subdivisions.get(country_code=country)  # type: ignore[no-untyped-call]
    return [(str(sub.name), str(sub.code).split("-")[1].lower()) for sub in subs]


@lru_cache(maxsize=1)
def _subdivisions() -> dict[str, str]:
    """Folded US state / Canadian province names -> lowercase 2-letter codes."""
    return {_fold(name): code for country in ("US", "CA") for name, code in _subdivision_pairs(country)}


@lru_cache(maxsize=2)
def _subdivision_codes(country: str) -> frozenset[str]:
    return frozenset(code for _, code in _subdivision_pairs(country.upper()))


def _assess_plain(key: str, value: object) -> tuple[str | None, str]:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None, "missing"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        return None, "missing"
    if key in ("fbp", "fbc", "client_ip_address") and is_sha256(text):
        return text, "hashed_forbidden"
    return text, "valid" if _plain_ok(key, text) else "malformed"


def _plain_ok(key: str, text: str) -> bool:
    if key == "fbp":
        return bool(_FBP.match(text))
    if key == "fbc":
        return bool(_FBC.match(text))
    if key == "client_ip_address":
        if _IPV4.fullmatch(text):
            return True
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return False
        return True
    if key == "lead_id":
        return text.isascii() and text.isdigit()
    return True
