"""Pixel beacon lines for the SQL ingest paths' parity tests (Spark: tests/core/test_spark_ingest_browser.py,
DuckDB: tests/core/test_fast_ingest_beacons.py): hand-written cases and a hypothesis strategy of
beacon-like lines built from tricky parameter names and values."""

from __future__ import annotations

import string
from urllib.parse import quote

from hypothesis import strategies as st

TR = "https://www.facebook.com/tr/?id=1&ev=A"
HEX = "ab" * 32
#: (line, line_ok on Spark, what the case shows). line_ok False = the Spark query leaves the line to Python.
BEACON_CASES: list[tuple[str, bool, str]] = [
    ("", True, "blank line: no event"),
    ("  \t ", True, "whitespace only"),
    ("\u3000", True, "Unicode whitespace only (str.strip)"),
    ("# captured 2026-10-05 é", True, "comment, non-ASCII inside"),
    ("//www.facebook.com/tr?id=1&ev=PageView", True, "a line starting // is a comment, even a URL"),
    ("https://www.facebook.com/tr/?id=123&ev=Purchase&ts=1791161559370", True, "plain beacon"),
    ("GET https://www.facebook.com/tr/?id=1&ev=A HTTP/1.1", True, "URL inside a request line"),
    ('"https://www.facebook.com/tr/?id=1&ev=A",200', True, "URL ends at a quote"),
    ("x //www.facebook.com/tr?id=1&ev=PageView", True, "scheme-less URL inside text"),
    ("HTTPS://WWW.FACEBOOK.COM/TR/?id=1&ev=PageView", True, "case-insensitive host and path"),
    ("https://www.facebook.com/tr?id=1&ev=A#x&ev=B", True, "fragment is not query"),
    ("https://www.facebook.com/tr/?id=1&ev=A<b", True, "URL ends at <"),
    ("https://example.com/?u=https://www.facebook.com/tr/?id=1&ev=Lead", True, "first /tr URL wins"),
    ("https://www.facebook.com/trx?id=1&ev=A", False, "no /tr URL: Python quarantines"),
    ("https://www.facebook.com/tr/?id=1", False, "no ev: Python quarantines"),
    ("https://www.facebook.com/tr/?id=1&ev=", False, "empty ev: Python quarantines"),
    (TR + "&ev=B", True, "repeated plain parameter: first wins"),
    ("https://www.facebook.com/tr/?id=&ev=A", True, "empty id: the default pixel"),
    ("https://www.facebook.com/tr/?ev=A", True, "no id: the default pixel"),
    ("https://www.facebook.com/tr/?id=1&ev=A+B%20C", True, "'+' and %20 are spaces"),
    ("https://www.facebook.com/tr/?id=1&ev=Caf%C3%A9", True, "UTF-8 percent escapes"),
    ("https://www.facebook.com/tr/?id=1&e%76=A", True, "encoded parameter name"),
    ("https://www.facebook.com/tr/?id=1&ev=A&&&=x&noval", True, "empty pairs and no '='"),
    ("\thttps://www.facebook.com/tr/?id=1&ev=A\t", True, "tabs around the URL"),
    ("https://www.facebook.com/tr/?id=1&ev=A%2", False, "'%' without two hex digits: Python keeps it"),
    ("https://www.facebook.com/tr/?id=1&ev=A%+1", False, "URLDecoder reads %+1 as a byte"),
    ("https://www.facebook.com/tr/?id=1&ev=Caf%C3", False, "not UTF-8: replacement differs"),
    ("caf\u00e9 https://www.facebook.com/tr/?id=1&ev=A", False, "non-ASCII line: Unicode \\w/\\s"),
    (TR + "&ts=", True, "empty ts: no time"),
    (TR + "&ts=1791161559", True, "ts in seconds"),
    (TR + "&ts=0", True, "ts 0 is 1970"),
    (TR + "&ts=1.5e12", False, "ts not digits: Python parses"),
    (TR + "&ts=2026-10-05T10:00:00Z", False, "ISO ts: Python parses"),
    (TR + "&ts=abc", False, "ts not a time: Python quarantines"),
    (TR + "&eid=e1&eid=e2", True, "eid: first wins"),
    (
        TR + "&dl=https%3A%2F%2Fs.example%2Fu%2Fjo%40ex.com%3Futm_source%3Dfb",
        True,
        "email in dl's path masked",
    ),
    (TR + "&dl=https%3A%2F%2Fs.example%2Fu%2Fjo%2540ex.com", True, "encoded email in dl masked"),
    (TR + "&dl=https%3A%2F%2Fs.example%2Fty%3Femail%3Djo%40ex.com", False, "email parameter: Python masks"),
    (TR + "&dl=https%3A%2F%2Fs.example%2Fty%3Fphone%3D4155550199%26first_name%3DBo", False, "PII parameters"),
    (TR + "&dl=https%3A%2F%2Fs.example%2Fp%3FUTM_Source%3Dfb%26fbclid%3DIw1%26q%23top", True, "kept keys"),
    (TR + "&dl=https%3A%2F%2Fs.example%2F%23%2Fty%3Fname%3DBo", False, "fragment parameter: Python masks"),
    (TR + "&dl=https%3A%2F%2Fs.example%2F%3Fphone%3D", True, "empty parameter value: nothing to mask"),
    (TR + "&dl=https%3A%2F%2Fx.example%2F%3FAccess_Token%3Dabc", False, "encoded token in dl: Python"),
    (TR + "&dl=https%3A%2F%2Fs%C3%A9.example%2F%40a.com", False, "non-ASCII URL with @: Python masks"),
    (TR + "&cd[value]=12.50&cd[currency]=usd", True, "value and lower-case currency"),
    (TR + "&cd[value]=12,50&cd[currency]=%20EUR%20", True, "comma decimal is malformed"),
    (TR + "&cd[value]=-3&cd[currency]=XYZ", True, "negative value, unknown currency"),
    (TR + "&cd[value]=1e400", True, "overflow is malformed"),
    (TR + "&cd[value]=.5&cd[predicted_ltv]=7.", True, "Python float forms"),
    (TR + "&cd[value]=5&cd[value]=6", True, "cd: last wins"),
    (TR + "&cd[value]=", True, "empty value is missing"),
    (TR + "&cd[value]=inf", False, "inf: Python decides"),
    (TR + "&cd[value]=1_000", False, "underscores: Python decides"),
    (TR + "&cd[currency]=%09", True, "whitespace currency is missing"),
    (TR + "&cd[num_items]=3&cd[order_id]=O-1&cd[content_type]=product&cd[status]=done", True, "text fields"),
    (TR + "&cd[num_items]=3.5", True, "non-integer num_items is null"),
    (TR + "&cd[num_items]=99999999999", True, "num_items beyond int32 is null"),
    (TR + "&cd[content_ids]=%5B%22a%22%2C2%5D", True, "content_ids JSON: strings and integers"),
    (TR + "&cd[content_ids]=SKU-1", True, "content_ids text: one id"),
    (TR + "&cd[content_ids]=", True, "empty content_ids is one empty id"),
    (TR + "&cd[content_ids]=%5B%22a%5C%22b%5C%5Cc%22%5D", True, "quotes and backslashes escaped"),
    (
        TR + "&cd[contents]=%5B%7B%22id%22%3A%22p1%22%7D%2C%7B%22id%22%3Anull%7D%2C3%2C%7B%22id%22%3A7%7D%5D",
        True,
        "contents ids, null ids and non-objects skipped",
    ),
    (TR + "&cd[contents]=%5B%5D", True, "empty contents: []"),
    (TR + "&cd[contents]=x%5B%5D", True, "corrupt contents stays text: no ids"),
    (TR + "&cd[contents]=%7B%7D", True, "contents object: no ids"),
    (TR + "&cd[content_ids]=%5B1.5%5D", False, "float id: Python prints it"),
    (TR + "&cd[content_ids]=%5Bx", False, "broken JSON: Python keeps the text"),
    (TR + "&cd[content_ids]=%5B%22a%22%5D%20x", False, "text after JSON: orjson refuses"),
    (TR + "&cd[content_ids]=%5BNaN%5D", False, "NaN: orjson refuses"),
    (TR + "&cd[a]b=1", False, "text after ']' in a bracket key"),
    (TR + "&ud[em]=Jo.Doe%40Example.com", True, "raw email hashed in SQL"),
    (TR + "&ud[em]=%20%27jo%40ex.com%20", True, "Excel apostrophe and spaces dropped"),
    (TR + "&ud[em]=not-an-email", True, "not an email: malformed"),
    (TR + "&ud[em]=j%C3%B6%40ex.com", False, "non-ASCII email: Python"),
    (TR + "&ud[em]=" + HEX.upper(), True, "upper-case hash lowercased"),
    (TR + "&ud[em]=" + HEX + ".AQ", True, "hash with Parameter Builder appendix"),
    (TR + "&ud[em]=" + "a" * 40, True, "SHA-1-like: malformed"),
    (TR + "&ud[em]=", True, "empty em: missing"),
    (
        TR + "&ud[fn]=Mary-Jane%201&ud[ln]=O%27Neil&ud[ct]=New%20York&ud[ge]=Female",
        True,
        "names, city, gender",
    ),
    (TR + "&ud[fn]=%21%21&ud[ge]=x", True, "nothing left: malformed"),
    (TR + "&ud[st]=CA&ud[country]=US&ud[zp]=94105-1234", True, "state code, country code, zip+4"),
    (TR + "&ud[country]=uk&ud[zp]=SW1A%201AA", True, "uk -> gb"),
    (TR + "&ud[country]=xx&ud[zp]=1", True, "unknown country, too short zip"),
    (TR + "&ud[external_id]=%20User-42%20", True, "external_id trimmed and lowercased"),
    (TR + "&ud[st]=California", False, "state name: pycountry in Python"),
    (TR + "&ud[country]=Germany", False, "country name: pycountry in Python"),
    (TR + "&ud[zp]=123", False, "3-digit zip depends on the US region"),
    (TR + "&ud[ph]=%2B14155550100", False, "phone: phonenumbers in Python"),
    (TR + "&ud[db]=19900101", False, "birth date: Python"),
    (TR + "&udff[em]=a%40b.co&ud[em]=c%40d.co", True, "ud wins over udff"),
    (TR + "&ud[em]=c%40d.co&udff[em]=a%40b.co", True, "ud before udff still wins"),
    (TR + "&udff[em]=a%40b.co&udff[em]=c%40d.co", True, "udff: first wins"),
    (TR + "&ud[em]=a%40b.co&ud[em]=c%40d.co", True, "ud: last wins"),
    (TR + "&fbp=fb.1.1789669028589.1916788089&fbc=fb.1.1790819399557.IwAR", True, "fbp and fbc parameters"),
    (TR + "&fbp=&fbp=fb.1.1.2", True, "first fbp empty: none, malformed ignored"),
    (TR + "&fbp=fb.1.1789669028589.1&ud[fbp]=x", True, "ud[fbp] wins over fbp"),
    (TR + "&fbp=" + HEX, True, "hashed fbp: hashed_forbidden"),
    (
        TR + "&ud[client_ip_address]=10.0.0.1&ud[client_user_agent]=Mozilla%2F5.0&ud[lead_id]=12a",
        True,
        "plain keys",
    ),
    (TR + "&ud[client_ip_address]=%3A%3A1", False, "IPv6: ipaddress in Python"),
    (TR + "&access_token=EAAB1234567890abcdefghij", True, "credential counted"),
    (TR + "&dl=https://x.example/?access_token=abc<zz&ev=B", False, "stripping moves the URL's end"),
    (TR + "&ev=B&access_token=abc<zz", True, "stripping moves the URL's end, no dl"),
    (TR + "&ACCESS_TOKEN=abc", True, "upper case is stripped and counted"),
    (TR + "&Access_Token%3Dabc", True, "percent-encoded '=' is stripped and counted"),
    ("https://www.facebook.com/tr/?id=" + "9" * 70 + "&ev=" + "x" * 300, True, "long texts cut"),
]


NAMES = [
    "ev", "id", "ts", "eid", "dl", "fbp", "fbc", "cd[value]", "cd[currency]", "cd[content_ids]",
    "cd[contents]", "cd[num_items]", "cd[order_id]", "cd[predicted_ltv]", "ud[em]", "udff[em]", "ud[fn]",
    "ud[ct]", "ud[st]", "ud[zp]", "ud[country]", "ud[ge]", "ud[external_id]", "ud[ph]", "ud[fbp]",
    "ud[client_ip_address]", "ud[lead_id]", "e%76", "cd%5Bvalue%5D", "access_token", "cd[a]b", "",
]  # fmt: skip
VALUES = [
    "", "A", "Purchase", "1791161559370", "1791161559", "1.5e12", "12.50", "-3", "1_000", "inf", "%zz", "%C3",
    "Jo%40Ex.com", "jo@ex.com", HEX, HEX.upper(), "fb.1.1789669028589.1", "US", "uk", "xx", "94105", "123",
    "f", "Male", "10.0.0.1", "::1", '["a",2]', '[{"id":"p1"}]', "[1.5]", "[x", "café", "%E2%80%A8", "a b",
    "x\"y", "<", "#", "access_token=abc", "%2540", "1e400", "+7", " 5 ",
]  # fmt: skip
TEXT = st.text(alphabet=string.printable.replace("\n", "").replace("\r", "") + "éß\u00a0\u2028K", max_size=12)


@st.composite
def beacon_lines(draw: st.DrawFn) -> str:
    """A beacon-like line: parameters from tricky names and values, raw or percent-encoded."""
    prefix = draw(st.sampled_from(["", "GET ", '"', "  ", "\t", "x ", "# ", "//", "é "]))
    base = draw(
        st.sampled_from([
            "https://www.facebook.com/tr/?", "https://www.facebook.com/tr?", "http://facebook.com/tr/?",
            "//www.facebook.com/tr/?", "https://www.facebook.com/trx?", "https://a.b-c.facebook.com/tr/?",
        ])
    )  # fmt: skip
    pairs = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(NAMES))
        value = draw(st.one_of(st.sampled_from(VALUES), TEXT))
        encoded = draw(st.sampled_from([value, quote(value, safe=""), quote(value, safe="@[]")]))
        pairs.append(f"{name}={encoded}" if draw(st.booleans()) or not name else name)
    if draw(st.booleans()):
        pairs.insert(0, "ev=" + draw(st.sampled_from(["PageView", "", "A%20B"])))
    suffix = draw(st.sampled_from(["", " HTTP/1.1", '"', "<", "#frag", "\u00a0", " "]))
    return prefix + base + "&".join(pairs) + suffix
