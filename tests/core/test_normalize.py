"""Normalization, hashing and per-key verdicts against Meta's published vectors (reference §8).

Expected values are copied from the reference tables (§8.1 docs, §8.2 Python SDK, §8.3 PHP SDK, §8.4
Parameter Builder); hashes are ``hashlib.sha256(normalized.encode('utf-8')).hexdigest()`` as published
in §8.1. Where we deliberately differ from an SDK, the test pins our output and says why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capi_core.models import HASHED_KEYS, PLAIN_KEYS
from capi_core.normalize import (
    assess_key,
    fbc_created_at,
    hash_value,
    is_sha256,
    normalize,
    phone_with_calling_code,
)

SEEDED = settings(derandomize=True, max_examples=300, deadline=None)
HEX64 = "a" * 64
MD5_LIKE = "d41d8cd98f00b204e9800998ecf8427e"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- §8.1 Meta documentation vectors ---------------------------------------------------------------

DOC_VECTORS = [
    # (key, input, country, normalized, published SHA-256)
    ("em", "John_Smith@gmail.com", None, "john_smith@gmail.com",
     "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"),
    ("ph", "(650)555-1212", "US", "16505551212",
     "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"),
    ("fn", "Mary", None, "mary", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"),
    ("fn", "정", None, "정", "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14"),
    ("fn", "Valéry", None, "valéry", "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"),
    ("db", "2/16/1997", None, "19970216", "01acdbf6ec7b4f478a225f1a246e5d6767eeab1a7ffa17f025265b5b94f40f0c"),
    ("country", "United States", None, "us",
     "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"),
    ("ge", "female", None, "f", "252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111"),
    ("ge", "male", None, "m", "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "raw", "country", "normalized", "digest"), DOC_VECTORS)
def test_meta_doc_vectors(key: str, raw: str, country: str | None, normalized: str, digest: str) -> None:
    """§8.1: normalized value and Meta's published hash."""
    assert normalize(key, raw, country=country) == normalized
    assert hash_value(key, raw, country=country) == digest


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("ct", "Paris", "paris"),
        ("ct", "London", "london"),
        ("ct", "New York", "newyork"),
        ("st", "AZ", "az"),
        ("st", "CA", "ca"),
        ("zp", "94035", "94035"),
        ("zp", "1987", "1987"),
        ("zp", "75018", "75018"),
        ("zp", "M1 1AE", "m11ae"),
    ],
)
def test_meta_doc_examples(key: str, raw: str, expected: str) -> None:
    """§8.1 #8-#10: documented example outputs for city, state and zip."""
    assert normalize(key, raw) == expected


# -- §8.2 Python SDK -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["a", "abc", "a@b", "@b.c", ".c", "@"])
def test_sdk_rejected_emails(raw: str) -> None:
    """§8.2 #30: the SDK raises; we return None."""
    assert normalize("em", raw) is None


@pytest.mark.parametrize(
    "raw", ["a@b.c", "foo@bar.co", "foo@bar.com", '"a b"@c.d', "a\\@b@c.d", "f`oo@bar.com", "fo'o@bar.com"]
)
def test_sdk_accepted_emails(raw: str) -> None:
    """§8.2 #31: accepted unchanged (already lowercase)."""
    assert normalize("em", raw) == raw
    assert hash_value("em", raw) == sha(raw)


@pytest.mark.parametrize("raw", [HEX64, f" {HEX64} ", HEX64.upper(), f"{HEX64}.AQ", f"{HEX64}.ABcDEFGh"])
@pytest.mark.parametrize("key", HASHED_KEYS)
def test_hashed_values_pass_through(key: str, raw: str) -> None:
    """§8.2 #27-#28 and §8.4 #88: 64-hex passes through trimmed and lowercased; a PB appendix is dropped."""
    assert normalize(key, raw) == HEX64
    assert hash_value(key, raw) == HEX64


@pytest.mark.parametrize(
    ("key", "raw", "country", "expected"),
    [
        ("ph", "+1 (650) 555-1212", None, "16505551212"),
        ("ph", "001 650 555 1212", None, "16505551212"),
        ("ph", "0044-20-7946-0958", None, "442079460958"),
        ("ct", "St. Louis", None, "stlouis"),
        ("ct", "New York 10001", None, "newyork"),
        ("zp", "94035-1234", None, "94035"),
        ("zp", " NR9 5AL ", None, "nr95al"),
        # SDK keeps the apostrophe (it removes only digits, dots, spaces, dashes, brackets); Meta's docs
        # say "no punctuation" and PB gives ofallon.
        ("ct", "O'Fallon", None, "ofallon"),
        # SDK adds no calling code (6505551212); the docs' value is 16505551212 (§2.5 note).
        ("ph", "(650)555-1212", None, "6505551212"),
        ("ph", "(650)555-1212", "us", "16505551212"),
        # SDK: no name -> code mapping (newyork); docs want the 2-letter code.
        ("st", "New York", None, "ny"),
        # SDK raises for names; the docs' own example maps United States -> us.
        ("country", "USA", None, "us"),
    ],
)
def test_sdk_observed_behaviour(key: str, raw: str, country: str | None, expected: str) -> None:
    """§8.2, behaviour observed by running the SDK (first rows agree; the rest are deliberate)."""
    assert normalize(key, raw, country=country) == expected


# -- §8.3 PHP SDK ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("em", "324342@@@@bar.com", None),
        ("ph", "123-456-7890", "1234567890"),
        ("ph", "777 747 (3515)", "7777473515"),
        ("ph", "+442071838750", "442071838750"),
        ("ph", "44-12390821300A", "4412390821300"),
        ("zp", "  98121", "98121"),
        ("zp", "98121-4892", "98121"),
        ("zp", "NR9 5AL", "nr95al"),
        ("zp", "98-121-4892", "98"),
        ("ct", "Menlo Park", "menlopark"),
        ("ct", "Seattle-98121", "seattle"),
        ("ct", "Washington D.C", "washingtondc"),
        ("country", "   US   ", "us"),
        # PHP sanitizes with FILTER_SANITIZE_EMAIL (-> foo.bar@baz.com, foo@bar.com); Meta's rule is
        # trim + lowercase only, so we do not rewrite addresses: '/' is not a domain character...
        ("em", "foo(.bar)@baz.com/", None),
        # ...and these are plausible enough to hash as typed.
        ("em", 'foo"@bar.com', 'foo"@bar.com'),
        ("em", "foo()@bar.com", "foo()@bar.com"),
        # PHP keeps any 2 letters; Meta's docs require ISO 3166-1 alpha-2.
        ("country", "*****UU*****", None),
        # PHP raises; pycountry knows the official name.
        ("country", "United States of America", "us"),
    ],
)
def test_php_sdk_vectors(key: str, raw: str, expected: str | None) -> None:
    """§8.3 (no country context: phones keep their digits as given)."""
    assert normalize(key, raw) == expected


# -- §8.4 Parameter Builder ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("ph", "+1 (616) 954-78 88", "16169547888"),
        ("ph", "1(650)123-4567", "16501234567"),
        ("ph", "+001 (616) 954-78 88", "16169547888"),
        ("ph", "01(650)123-4567", "16501234567"),
        ("ph", "+44 20 7946 0958", "442079460958"),
        ("ph", "+81-3-5843-2301", "81358432301"),
        ("em", "\tTEST@EXAMPLE.COM\n", "test@example.com"),
        ("em", "user.name+tag@domain.co.uk", "user.name+tag@domain.co.uk"),
        ("fn", "O'Connor", "oconnor"),
        ("ln", "Mary-Jane", "maryjane"),
        ("fn", "John Smith", "johnsmith"),
        ("ln", "José María González", "josémaríagonzález"),
        ("ct", "Menlo Park", "menlopark"),
        ("ct", " Menlo-Park ", "menlopark"),
        ("ct", "St. Louis", "stlouis"),
        ("ct", "O'Fallon", "ofallon"),
        ("st", "    California.   ", "ca"),
        ("st", " C/a/lifo,rnia. ", "ca"),
        ("st", "New York", "ny"),
        ("st", "North Carolina", "nc"),
        ("st", "British Columbia", "bc"),
        ("st", "CA", "ca"),
        ("st", "  TE", "te"),
        ("country", " United States ", "us"),
        ("country", " US ", "us"),
        ("country", "U.S.A.", "us"),
        ("country", "Germany", "de"),
        ("country", "South Africa", "za"),
        ("country", "Puerto Rico", "pr"),
        ("db", "2/16/1997 (mm/dd/yyyy)", "19970216"),
        ("db", "16–2–1997 (dd-mm-yyyy)", "19970216"),
        ("db", "1990-12-31", "19901231"),
        ("db", "31.12.1990", "19901231"),
        ("db", "12/31/1990", "19901231"),
        ("db", "13-02-1990", "19900213"),
        ("db", "02-13-1990", "19900213"),
        ("db", "01-02-1990", "19900102"),
        ("db", "12/31/90", None),
        ("db", "December 31, 1990", None),
        ("db", "32-05-1990", None),
        ("ge", "male", "m"),
        ("ge", "Male", "m"),
        ("ge", "Boy", "m"),
        ("ge", "M", "m"),
        ("ge", "Girl", "f"),
        ("ge", " Woman ", "f"),
        ("ge", "Female", "f"),
        ("zp", " 37221", "37221"),
        ("zp", "37221-3312", "37221"),
        ("zp", "K1A0A6", "k1a0a6"),
        ("zp", "SW1A1AA", "sw1a1aa"),
        ("zp", "a", None),
        ("zp", "-1", None),
        ("external_id", "    12345", "12345"),
        ("external_id", "abc-12345", "abc-12345"),
    ],
)
def test_param_builder_vectors(key: str, raw: str, expected: str | None) -> None:
    """§8.4 #53-#87 where PB agrees with Meta's documented rules."""
    assert normalize(key, raw) == expected


@pytest.mark.parametrize(
    ("key", "raw", "country", "ours", "param_builder"),
    [
        # Letters are removed (Meta's rule), never read as keypad digits; PB keeps the 4 digits left,
        # which we refuse as too short to be a phone (fewer than 7 digits), with a country or without.
        ("ph", "1-800-FLOWERS", "us", None, "1800"),
        ("ph", "1-800-FLOWERS", None, None, "1800"),
        # An extension is not part of the number a person is matched on.
        ("ph", "+1-555-123-4567 ext. 123", None, "15551234567", "15551234567123"),
        # Meta's docs allow UTF-8 in cities; PB keeps ASCII only and must start with a letter.
        ("ct", "San José", None, "sanjosé", "sanjos"),
        ("ct", "Zürich", None, "zürich", "zrich"),
        ("ct", "Москва", None, "москва", None),
        ("ct", "123Angeles", None, "angeles", None),
        # Outside US/CA the docs say letters only; PB truncates to 2 letters.
        ("st", "unknown", None, "unknown", "un"),
        # ISO 3166-1 alpha-2 is gb; PB sends uk, which is not an ISO code.
        ("country", "U.K.", None, "gb", "uk"),
        # external_id keeps its case, as Meta's Python SDK sends it; PB lowercases.
        ("external_id", "USER-ID-456", None, "USER-ID-456", "user-id-456"),
    ],
)
def test_param_builder_divergences(
    key: str, raw: str, country: str | None, ours: str | None, param_builder: str | None
) -> None:
    """§8.4 #59, #60, #68, #69, #72, #74: pinned where we deliberately differ from PB."""
    assert normalize(key, raw, country=country) == ours
    assert ours != param_builder


# -- our own rules where the sources are silent ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+44 20 7946 0958", "us", "442079460958"),
        ("001 650 555 1212", "US", "16505551212"),  # US dials 011 abroad; 00 still marks international
        ("011 44 20 7946 0958", "us", "442079460958"),  # the region's own international prefix
        ("(0044) 20 7946 0958", None, "442079460958"),
        ("020 7946 0958", "gb", "442079460958"),
        ("'07911 123456", "gb", "447911123456"),  # Excel apostrophe
        ("  07911 123456", "GB", "447911123456"),
        ("447911123456", "gb", "447911123456"),  # already carries the calling code
        ("16505551212", "us", "16505551212"),
        (16505551212.0, "us", "16505551212"),  # Excel float
        ("030 123456", "de", "4930123456"),
        ("442079460958", "us", "442079460958"),  # foreign digits, no parse as US: kept as given
        ("555 1212", None, "5551212"),  # 7 digits: fallback keeps
        ("555 12", None, None),  # too short to be a phone
        ("0044", None, None),
        ("not a phone", "us", None),
    ],
)
def test_phone_rules(raw: object, country: str | None, expected: str | None) -> None:
    """E.164 via phonenumbers; hand-checked against the national numbering plans (+44 20, +49 30...)."""
    assert normalize("ph", raw, country=country) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+44 20 7946 0958", None, "442079460958"),
        ("(650)555-1212", "us", "16505551212"),
        ("(650)555-1212", None, None),  # no way to know the calling code
        ("6505551212", "zz", None),  # unknown region
    ],
)
def test_phone_with_calling_code(raw: str, country: str | None, expected: str | None) -> None:
    """Only numbers whose calling code is established come back."""
    assert phone_with_calling_code(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("19970216", "19970216"),
        ("1997-02-16", "19970216"),
        ("16.02.1997", "19970216"),
        ("16-2-1997", "19970216"),
        ("1997/16/02", "19970216"),  # year first with day > 12 in the middle: swapped
        ("1990-12-31T00:00:00Z", "19901231"),  # time after the date is ignored
        (dt.date(1997, 2, 16), "19970216"),
        (dt.datetime(1997, 2, 16, 10, 30), "19970216"),
        ("02/30/1997", None),  # no 30 February
        ("1899-12-31", None),  # before 1900 (Meta docs)
        (f"{dt.date.today().year + 1}-01-01", None),  # after the current year
        ("16021997", None),  # a bare 8-digit string is YYYYMMDD only (PB)
        ("1997", None),
        ("", None),
    ],
)
def test_birth_dates(raw: object, expected: str | None) -> None:
    """db layouts; expected dates read by hand from each input."""
    assert normalize("db", raw) == expected


@pytest.mark.parametrize(
    ("key", "raw", "country", "expected"),
    [
        ("ge", "Mr.", None, "m"),
        ("ge", "man", None, "m"),
        ("ge", "MRS", None, "f"),
        ("ge", "ms", None, "f"),
        ("ge", "F", None, "f"),
        ("ge", "other", None, None),
        ("zp", "2134", "us", "02134"),  # Excel dropped the leading zero of a New England zip
        ("zp", "940351234", "us", "94035"),  # ZIP+4 without its dash
        ("zp", "940351234", None, "940351234"),  # no country: not assumed US
        ("zp", "'02134", None, "02134"),
        ("zp", "75018.", None, "75018"),
        ("st", "US-NY", None, "ny"),
        ("st", "Québec", None, "qc"),
        ("st", "District of Columbia", None, "dc"),
        ("st", "Île-de-France", None, "îledefrance"),
        ("country", "UK", None, "gb"),
        ("country", "gb", None, "gb"),
        ("country", "DEU", None, "de"),
        ("country", "Narnia", None, None),
        ("external_id", " Ab C ", None, "Ab C"),  # trimmed; case and inner space as sent (SDK)
        ("external_id", MD5_LIKE.upper(), None, MD5_LIKE.upper()),  # a uuid4().hex is a legitimate ID
        ("fn", MD5_LIKE.upper(), None, MD5_LIKE),  # 32 hex: the SDK's "already hashed", passed through
        ("fn", "a" * 40, None, None),  # a SHA-1 is no name and no SHA-256
        ("ln", "  ", None, None),
        ("fn", "...", None, None),
        ("fn", None, None, None),
        ("em", "Jane.Doe@Exämple.DE", None, "jane.doe@exämple.de"),
        ("em", "'jane@example.com", None, "jane@example.com"),  # Excel apostrophe
        ("em", "jane doe@example.com", None, None),
        ("em", "jane@example.com.", None, None),
        ("em", "jane@-example.com", None, None),
    ],
)
def test_other_rules(key: str, raw: object, country: str | None, expected: str | None) -> None:
    """Synonyms, US zip repairs, subdivisions, country aliases, hash-like junk, email edge cases."""
    assert normalize(key, raw, country=country) == expected


def test_unknown_key_is_rejected() -> None:
    """Plain keys are never normalized or hashed."""
    with pytest.raises(ValueError, match="fbp"):
        normalize("fbp", "fb.1.1596403881668.1116446470")


@pytest.mark.parametrize(
    ("raw", "expected"), [(HEX64, True), (f" {HEX64.upper()} ", True), ("a" * 63, False)]
)
def test_is_sha256(raw: str, expected: bool) -> None:
    """64 hex characters after trimming, any case."""
    assert is_sha256(raw) is expected


# -- assess_key ------------------------------------------------------------------------------------

FBP = "fb.1.1596403881668.1116446470"
FBC = "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890"
EMAIL_HASH = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"  # §8.1 #1
PHONE_HASH = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"  # §8.1 #2

ASSESS = [
    # (key, value, channel, country, stored, verdict)
    ("em", None, "server", None, None, "missing"),
    ("em", "   ", "browser", None, None, "missing"),
    ("ph", float("nan"), "server", None, None, "missing"),
    ("em", EMAIL_HASH.upper(), "server", None, EMAIL_HASH, "valid"),
    ("em", EMAIL_HASH, "browser", None, EMAIL_HASH, "valid"),
    ("em", f"{EMAIL_HASH}.AQ", "server", None, EMAIL_HASH, "valid"),
    ("em", MD5_LIKE, "server", None, None, "malformed"),
    ("fn", "a" * 40, "browser", None, None, "malformed"),  # sha1 length
    ("ln", "b" * 63, "server", None, None, "malformed"),  # truncated sha256
    ("em", "not-an-email", "server", None, None, "malformed"),
    ("db", "31/31/1990", "browser", None, None, "malformed"),
    ("em", "John_Smith@gmail.com", "server", None, EMAIL_HASH, "raw_pii"),
    ("em", "John_Smith@gmail.com", "browser", None, EMAIL_HASH, "valid"),
    ("ph", "(650)555-1212", "server", "us", PHONE_HASH, "raw_pii"),
    ("ph", "(650)555-1212", "browser", "US", PHONE_HASH, "valid"),
    ("external_id", "USER-1", "server", None, sha("USER-1"), "valid"),
    ("external_id", MD5_LIKE, "server", None, sha(MD5_LIKE), "valid"),
    ("fbp", FBP, "server", None, FBP, "valid"),
    ("fbp", f" {FBP} ", "browser", None, FBP, "valid"),
    ("fbp", f"{FBP}.Ag", "server", None, f"{FBP}.Ag", "valid"),
    ("fbp", f"{FBP}.ABcDEFGh", "server", None, f"{FBP}.ABcDEFGh", "valid"),
    ("fbp", f"{FBP}.XY", "server", None, f"{FBP}.XY", "malformed"),  # unknown 2-char appendix
    ("fbp", "fb.1.159640388166.1116446470", "server", None, "fb.1.159640388166.1116446470", "malformed"),
    ("fbp", "1116446470", "browser", None, "1116446470", "malformed"),
    ("fbp", HEX64, "server", None, HEX64, "hashed_forbidden"),
    ("fbp", "", "server", None, None, "missing"),
    ("fbc", FBC, "browser", None, FBC, "valid"),
    ("fbc", f"{FBC}.ABcDEFGh", "server", None, f"{FBC}.ABcDEFGh", "valid"),
    ("fbc", FBC.upper(), "server", None, FBC.upper(), "malformed"),  # 'FB.' prefix: altered case
    ("fbc", "AbCdEfGh", "server", None, "AbCdEfGh", "malformed"),  # bare fbclid
    ("fbc", HEX64, "browser", None, HEX64, "hashed_forbidden"),
    ("client_ip_address", "203.0.113.7", "server", None, "203.0.113.7", "valid"),
    ("client_ip_address", "2001:db8::1", "server", None, "2001:db8::1", "valid"),
    ("client_ip_address", "203.0.113.300", "server", None, "203.0.113.300", "malformed"),
    ("client_ip_address", HEX64, "server", None, HEX64, "hashed_forbidden"),
    ("client_ip_address", None, "server", None, None, "missing"),
    ("client_user_agent", "Mozilla/5.0", "browser", None, "Mozilla/5.0", "valid"),
    ("client_user_agent", HEX64, "server", None, HEX64, "valid"),
    ("lead_id", "1234567890123456", "server", None, "1234567890123456", "valid"),
    ("lead_id", 1234567890123456.0, "server", None, "1234567890123456", "valid"),
    ("lead_id", "L-12", "server", None, "L-12", "malformed"),
]


@pytest.mark.parametrize(("key", "value", "channel", "country", "stored", "verdict"), ASSESS)
def test_assess_key(
    key: str, value: object, channel: str, country: str | None, stored: str | None, verdict: str
) -> None:
    """Each verdict on both channels; stored hashes are the §8.1 published ones or sha() of the rule."""
    assert assess_key(key, value, channel=channel, country=country) == (stored, verdict)


def test_assess_key_covers_every_verdict_and_channel() -> None:
    """The table above exercises every verdict and both channels for hashed and plain keys."""
    seen = {(verdict, channel) for _, _, channel, _, _, verdict in ASSESS}
    for verdict in ("valid", "missing", "malformed", "hashed_forbidden"):
        assert {(verdict, "server"), (verdict, "browser")} <= seen
    assert ("raw_pii", "server") in seen
    assert not any(v == "raw_pii" and c == "browser" for _, _, c, _, _, v in ASSESS)


@pytest.mark.parametrize("bad", [("em", "x", "crm"), ("zz", "x", "server")])
def test_assess_key_rejects_unknown(bad: tuple[str, str, str]) -> None:
    """Unknown keys and channels are programming errors."""
    key, value, channel = bad
    with pytest.raises(ValueError):
        assess_key(key, value, channel=channel)


@pytest.mark.parametrize("channel", ["browser", "server"])
@given(value=st.text(max_size=40))
@SEEDED
def test_assess_key_never_stores_raw_pii(channel: str, value: str) -> None:
    """For hashed keys the stored value is a 64-hex hash or None, whatever was sent."""
    for key in HASHED_KEYS:
        stored, verdict = assess_key(key, value, channel=channel, country="us")
        assert stored is None or (len(stored) == 64 and stored == stored.lower() and is_sha256(stored))
        assert (stored is None) == (verdict in ("missing", "malformed"))


# -- fbc_created_at --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fbc", "expected"),
    [
        # 1554763741205 ms = 2019-04-08 22:49:01.205 UTC (date -u -d @1554763741.205)
        (FBC, dt.datetime(2019, 4, 8, 22, 49, 1, 205000)),
        (f" {FBC}.ABcDEFGh ", dt.datetime(2019, 4, 8, 22, 49, 1, 205000)),
        ("fb.1.155476374120.abc", None),
        ("AbCdEf", None),
    ],
)
def test_fbc_created_at(fbc: str, expected: dt.datetime | None) -> None:
    """Naive UTC from the millisecond segment."""
    assert fbc_created_at(fbc) == expected


# -- properties ------------------------------------------------------------------------------------

RAW_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
EMAILISH = st.builds(
    "{}@{}.{}".format,
    st.text("abcXYZ09._+-'\" ", min_size=1, max_size=8),
    st.text("abcDE09-", min_size=1, max_size=8),
    st.text("comNETé", min_size=1, max_size=4),
)
PHONEISH = st.text("0123456789+-() .'ext", max_size=22)
DATEISH = st.one_of(
    st.dates(dt.date(1890, 1, 1), dt.date(2030, 12, 31)).map(lambda d: d.strftime("%m/%d/%Y")),
    st.dates(dt.date(1890, 1, 1), dt.date(2030, 12, 31)).map(lambda d: d.strftime("%d.%m.%Y")),
    st.text("0123456789/-. ", max_size=12),
)
COUNTRIES = st.sampled_from([None, "us", "GB", "de", "it", "fr", "in", "br", "zz"])


@pytest.mark.parametrize("key", HASHED_KEYS)
@given(value=RAW_TEXT)
@SEEDED
def test_normalize_is_idempotent(key: str, value: str) -> None:
    """normalize(normalize(x)) == normalize(x) for arbitrary text, every key."""
    once = normalize(key, value)
    assert once is None or normalize(key, once) == once


@given(value=st.one_of(EMAILISH, RAW_TEXT))
@SEEDED
def test_email_idempotent(value: str) -> None:
    """Email-shaped text: normalizing twice changes nothing."""
    once = normalize("em", value)
    assert once is None or normalize("em", once) == once


@given(value=PHONEISH, country=COUNTRIES)
@SEEDED
def test_phone_idempotent_in_its_country(value: str, country: str | None) -> None:
    """Phone-shaped junk: re-normalizing in the same country context changes nothing."""
    once = normalize("ph", value, country=country)
    assert once is None or normalize("ph", once, country=country) == once


#: phonenumbers regions that are ISO 3166 countries (it also knows AC, TA, XK...).
REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if normalize("country", r) == r.lower())
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]


def test_real_numbers_normalize_to_e164() -> None:
    """Every region's example mobile and fixed numbers, in E.164, international and national layout.

    The expected digits are phonenumbers' own E.164 rendering of the example; normalizing again with the
    same country must not change them.
    """
    wrong = []
    for region in REGIONS:
        for number_type in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None or not phonenumbers.is_valid_number(example):
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
            for fmt in FORMATS:
                raw = phonenumbers.format_number(example, fmt)
                once = normalize("ph", raw, country=region)
                if once != e164 or normalize("ph", once, country=region) != once:
                    wrong.append((region, raw, once))
    assert wrong == []


@given(value=DATEISH)
@SEEDED
def test_birth_date_idempotent(value: str) -> None:
    """Date-shaped text: the YYYYMMDD result reads back as itself."""
    once = normalize("db", value)
    assert once is None or normalize("db", once) == once


@given(value=st.text("0123456789abcdefABCDEF", min_size=64, max_size=64), key=st.sampled_from(HASHED_KEYS))
@SEEDED
def test_hash_passes_through_lowercased(value: str, key: str) -> None:
    """A 64-hex value is already a hash: returned lowercased, never re-hashed."""
    assert hash_value(key, f" {value} ") == value.lower()


@given(value=RAW_TEXT, key=st.sampled_from(HASHED_KEYS), country=COUNTRIES)
@SEEDED
def test_hash_output_shape(value: str, key: str, country: str | None) -> None:
    """hash_value gives 64 lowercase hex characters or None, and agrees with sha256(normalize())."""
    digest = hash_value(key, value, country=country)
    normalized = normalize(key, value, country=country)
    raw = re.sub(r"^[\s']+|\s+$", "", value)  # trimmed as normalize reads it
    md5 = key != "external_id" and re.fullmatch(r"[0-9a-fA-F]{32}", raw) is not None  # the SDK's MD5
    if normalized is None or md5:
        assert digest is None
    else:
        assert digest is not None
        assert len(digest) == 64
        assert set(digest) <= set("0123456789abcdef")
        assert digest in (normalized, sha(normalized))


def test_plain_and_hashed_keys_are_disjoint() -> None:
    """Only hashed keys are normalized; plain keys go through assess_key's format checks."""
    assert not set(HASHED_KEYS) & set(PLAIN_KEYS)
