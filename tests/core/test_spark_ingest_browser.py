"""The Spark mapping queries of the browser formats give the Python reader's rows, line for line.

Each query (``capi_core/queries/spark/ingest_<format>.sql``, contract in ``engines/spark_formats.py``)
runs over a ``_spark_lines`` view built from a list of lines; the same lines are written to a file and
read by the format's Python reader, each event through ``canonical.canonical_event``. For every line the
query marks ``line_ok``, every content column must equal Python's value and type (floats bit for bit,
timestamps naive UTC) and the credential count must match; a line Python quarantines must never be
``line_ok``. Lines the query leaves to Python (``line_ok`` false) are fine, but the hand-written cases pin
which ones are which, so a mapping does not silently fall back to Python for everything.

Skipped (with the reason) when Java or pyspark is missing. One local Spark session serves the module.
"""

from __future__ import annotations

import json
import math
import re
import string
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from capi_core.canonical import _CURRENCIES, FINGERPRINT_EXCLUDED, canonical_event
from capi_core.demo import BROWSER_FILE, LEAD_BROWSER_FILE, generate
from capi_core.engines.spark_formats import SPARK_SQL_FORMATS
from capi_core.models import EVENT_COLUMNS, MATCH_KEYS, IncomingEvent, RowError
from capi_core.normalize import _country_code
from capi_core.privacy import URL_KEYS_KEPT
from capi_core.queries import load_query
from capi_core.readers import ReadOptions, get_reader
from tests.beacon_lines import BEACON_CASES, HEX, TEXT, TR, VALUES, beacon_lines

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.slow

CONTENT = [name for name in EVENT_COLUMNS if name not in FINGERPRINT_EXCLUDED]
SPARK_TYPES = {"integer": "int", "double": "double", "varchar": "string", "timestamp": "timestamp_ntz"}
MAX_LINE = 16 * 1024 * 1024
REAL = Path("/work/shared/samples/real/meta_pixel")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "spark_browser"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop's files (1,500 orders), generated once for the module."""
    folder = tmp_path_factory.mktemp("demo")
    generate(folder)
    return folder


# -- running both sides -----------------------------------------------------------------------------


def python_rows(
    tmp: Path, fmt: str, lines: list[str], options: ReadOptions
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, str]]:
    """(events by line number as canonical rows plus ``secrets``, quarantine reasons by line number)."""
    path = tmp / f"{fmt}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows: dict[int, list[dict[str, Any]]] = {}
    errors: dict[int, str] = {}
    for item in get_reader("browser", fmt).read(path, options):
        if isinstance(item, RowError):
            errors[item.line_no] = item.reason
            continue
        assert isinstance(item, IncomingEvent)
        row = canonical_event(item, default_country=options.default_country)
        row["secrets"] = item.secrets_stripped
        rows.setdefault(item.line_no, []).append(row)
    return rows, errors


def spark_rows(spark: SparkSession, fmt: str, lines: list[str], options: ReadOptions) -> list[dict[str, Any]]:
    """The mapping query's rows over ``lines`` (one Spark job), parameters bound as the driver binds them."""
    frame = spark.createDataFrame(
        [(number, text) for number, text in enumerate(lines, start=1)], "line_no bigint, text string"
    )
    frame.createOrReplaceTempView("_spark_lines")
    args = {
        "pixel_id": options.pixel_id,
        "default_country": options.default_country,
        "max_line": MAX_LINE,
        "url_keys": list(URL_KEYS_KEPT),
    }
    result = spark.sql(load_query(SPARK_SQL_FORMATS[fmt]), args=args)
    return [row.asDict() for row in result.collect()]


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, float) and isinstance(got, float):
        return want == got and math.copysign(1, want) == math.copysign(1, got)
    return type(want) is type(got) and want == got


def compare(
    spark: SparkSession, tmp: Path, fmt: str, lines: list[str], options: ReadOptions | None = None
) -> dict[int, bool]:
    """``line_ok`` per line number, after asserting every line_ok row equals Python's."""
    options = options or ReadOptions()
    want, errors = python_rows(tmp, fmt, lines, options)
    by_line: dict[int, list[dict[str, Any]]] = {}
    for row in spark_rows(spark, fmt, lines, options):
        by_line.setdefault(row["line_no"], []).append(row)
    assert sorted(by_line) == list(range(1, len(lines) + 1)), "every line needs at least one row"
    verdicts: dict[int, bool] = {}
    for line_no, rows in by_line.items():
        oks = {row["line_ok"] for row in rows}
        assert len(oks) == 1, f"line {line_no}: line_ok differs between its rows"
        verdicts[line_no] = ok = oks.pop()
        if not ok:
            continue
        text = lines[line_no - 1][:120]
        assert line_no not in errors, f"line {line_no} is line_ok but Python quarantines it: {text}"
        events = sorted((row for row in rows if row["pos"] > 0), key=lambda row: row["pos"])
        expected = want.get(line_no, [])
        assert len(events) == len(expected), f"line {line_no}: {len(events)} rows, Python {len(expected)}"
        assert all(row["pos"] == 0 for row in rows if row not in events) and (events or len(rows) == 1)
        for position, (got, row) in enumerate(zip(events, expected, strict=True), start=1):
            assert got["pos"] == position
            assert got["secrets"] == (row["secrets"] if position == 1 else 0), f"line {line_no}: secrets"
            wrong = {c: (row[c], got[c]) for c in CONTENT if not _same(row[c], got[c])}
            assert not wrong, f"line {line_no} differs (python, spark): {wrong} in {text}"
    return verdicts


def test_output_columns_and_types(spark: SparkSession) -> None:
    """The contract's columns in order, with the canonical types (timestamps without time zone)."""
    frame = spark.createDataFrame([(1, "")], "line_no bigint, text string")
    frame.createOrReplaceTempView("_spark_lines")
    for fmt in ("pixel_beacons", "browser_events", "fbq_jsonl"):
        args = {
            "pixel_id": None,
            "default_country": None,
            "max_line": MAX_LINE,
            "url_keys": list(URL_KEYS_KEPT),
        }
        schema = spark.sql(load_query(SPARK_SQL_FORMATS[fmt]), args=args).schema
        names = [field.name for field in schema.fields]
        assert names == ["line_no", "pos", "line_ok", "secrets", *CONTENT]
        types = {field.name: field.dataType.simpleString() for field in schema.fields}
        assert {c: types[c] for c in CONTENT} == {c: SPARK_TYPES[EVENT_COLUMNS[c]] for c in CONTENT}


# -- pixel_beacons --------------------------------------------------------------------------------


def test_beacon_cases(spark: SparkSession, tmp_path: Path) -> None:
    """Each hand-written case: Python's row when line_ok, and line_ok exactly where the table says."""
    lines = [line for line, _, _ in BEACON_CASES]
    for options in (ReadOptions(), ReadOptions(pixel_id="PX9", default_country="us")):
        verdicts = compare(spark, tmp_path, "pixel_beacons", lines, options)
        wrong = [(why, verdicts[n]) for n, (_, ok, why) in enumerate(BEACON_CASES, 1) if verdicts[n] != ok]
        assert not wrong


def test_beacon_long_line_is_not_line_ok(spark: SparkSession) -> None:
    """A line over :max_line is left to Python (which refuses the file)."""
    spark.createDataFrame(
        [(1, TR), (2, "# comment"), (3, "# c")], "line_no bigint, text string"
    ).createOrReplaceTempView("_spark_lines")
    args = {"pixel_id": None, "default_country": None, "max_line": 3, "url_keys": list(URL_KEYS_KEPT)}
    rows = spark.sql(load_query(SPARK_SQL_FORMATS["pixel_beacons"]), args=args).collect()
    assert [(row["line_no"], row["line_ok"]) for row in sorted(rows)] == [(1, False), (2, False), (3, True)]


def test_demo_beacons_all_line_ok(spark: SparkSession, demo_dir: Path, tmp_path: Path) -> None:
    """The demo's browser files (9,028 + 296 beacons, read fine by Python): every line maps in Spark."""
    for name in (BROWSER_FILE, LEAD_BROWSER_FILE):
        lines = (demo_dir / name).read_text(encoding="utf-8").splitlines()
        verdicts = compare(spark, tmp_path, "pixel_beacons", lines, ReadOptions())
        assert all(verdicts.values()), f"{name}: {sum(verdicts.values())} of {len(lines)} lines line_ok"


def test_real_beacon_sample(spark: SparkSession, tmp_path: Path) -> None:
    """The real omnibug capture (fbevents.js 2.8.18): every line, comments included, maps in Spark."""
    path = REAL / "MisterPhilip_omnibug_facebook_pixel_beacons.txt"
    if not path.exists():
        pytest.skip("real samples not present")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert all(compare(spark, tmp_path, "pixel_beacons", lines).values())


PROPERTY = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.too_slow,
    ],
)


@PROPERTY
@given(lines=st.lists(beacon_lines(), min_size=40, max_size=80))
def test_beacon_property(spark: SparkSession, tmp_path: Path, lines: list[str]) -> None:
    """Generated lines (one Spark query per example): every line_ok row equals Python's."""
    compare(spark, tmp_path, "pixel_beacons", lines, ReadOptions(pixel_id="P", default_country="de"))


def test_inline_code_lists_match_pycountry() -> None:
    """The SQL's ISO 4217 and ISO 3166 code lists are canonical.py's currencies and the 2-letter inputs
    normalize.py's country rule maps to themselves (pycountry may gain codes: update the SQL then)."""
    sql = load_query(SPARK_SQL_FORMATS["pixel_beacons"])
    currencies = re.search(r"upper\(r\.currency_text\) in \(([^)]*)\)", sql)
    countries = re.search(r"lower\(u\.t\) in \(([^)]*)\)", sql)
    assert currencies and countries
    assert set(re.findall(r"'([A-Z]{3})'", currencies[1])) == set(_CURRENCIES)
    pairs = {a + b for a in string.ascii_lowercase for b in string.ascii_lowercase}
    assert set(re.findall(r"'([a-z]{2})'", countries[1])) == {c for c in pairs if _country_code(c) == c}
    assert {c for c in pairs if _country_code(c) not in (None, c)} == {"uk"}


# -- browser_events -------------------------------------------------------------------------------

_EVENT: dict[str, Any] = {
    "event_name": "Purchase",
    "event_time": 1791161559,
    "event_id": "e1",
    "action_source": "website",
    "event_source_url": "https://shop.example/ty",
    "user_data": {"em": [HEX], "fbp": "fb.1.1789669028589.1916788089", "client_ip_address": "10.0.0.1",
                  "client_user_agent": "Mozilla/5.0"},
    "custom_data": {"value": 25.5, "currency": "USD", "content_ids": ["a", "b"], "content_type": "product",
                    "order_id": "O-1", "num_items": 2},
}  # fmt: skip
_DROP = object()


def ev(**changes: Any) -> str:
    """The base browser event as a JSONL line, with fields replaced (``_DROP`` removes one)."""
    event = json.loads(json.dumps(_EVENT))
    for key, value in changes.items():
        if value is _DROP:
            event.pop(key, None)
        else:
            event[key] = value
    return json.dumps(event, ensure_ascii=False)


def ud(**keys: Any) -> str:
    return ev(user_data=keys)


def cd(**fields: Any) -> str:
    return ev(custom_data=fields)


EVENT_CASES: list[tuple[str, bool, str]] = [
    (ev(), True, "hashed keys, fbp, IPv4, decimal value"),
    ("", True, "blank line"),
    ("# x", False, "not JSON: Python quarantines"),
    ('{"event_name": "A"} x', False, "text after the object (parse_json ignores it, orjson refuses)"),
    ("[1]", False, "not an object: Python quarantines"),
    (
        '{"event_name": "A", "event_name": "B"}',
        False,
        "duplicate keys: parse_json refuses, orjson keeps the last",
    ),
    ('{"event_name": NaN}', False, "NaN: orjson refuses"),
    ('{"event_name": "A",}', False, "trailing comma"),
    (ev(event_name=_DROP), False, "no event_name: Python quarantines"),
    (ev(event_name=5), False, "event_name not text: Python quarantines"),
    (ev(event_time=1791161559370), True, "epoch milliseconds"),
    (ev(event_time="1791161559"), True, "epoch seconds as text"),
    (ev(event_time="2026-10-05T10:00:00Z"), True, "ISO with Z"),
    (ev(event_time="2026-10-05T10:00:00.123+02:00"), True, "ISO with milliseconds and offset"),
    (ev(event_time="2026-10-05T10:00:00.123456-05:30"), True, "ISO with microseconds, negative offset"),
    (ev(event_time="2026-10-05T10:00:00"), True, "naive ISO is UTC"),
    (ev(event_time=None), True, "null time: missing"),
    (ev(event_time=True), True, "boolean time: invalid"),
    (ev(event_time={"a": 1}), True, "object time: invalid"),
    (ev(event_time=-5), True, "negative time: invalid"),
    (ev(event_time=99999999999999999), True, "beyond year 9999: invalid"),
    (ev(event_time="2026-02-30T10:00:00"), False, "impossible date: Python decides"),
    (ev(event_time=1791161559.5), False, "fractional epoch: Python's rounding"),
    (ev(event_time="abc"), False, "text time: Python decides"),
    (ev(sent_at=1791161600), True, "sent_at is received_at"),
    (ev(sent_at="x"), False, "bad sent_at: Python quarantines"),
    (ev(event_id=12345, pixel_id=123), True, "integer ids as digits"),
    (ev(event_id=True), True, "boolean id as Python prints it"),
    (ev(event_id=1.5), False, "float id: repr in Python"),
    (ev(pixel_id="", action_source=_DROP), True, "default pixel, website"),
    (ev(event_source_url="https://x.example/u/jo@ex.com?gclid=1"), True, "email in the URL masked"),
    (ev(event_source_url="https://x.example/u/jo%40ex.com"), True, "encoded email masked"),
    (ev(event_source_url="https://x.example/?e=jo%40ex.com"), False, "a parameter value: Python masks"),
    (ev(event_source_url="https://x.example/?utm_term=a&Fbclid=b#x"), True, "allow-listed keys in SQL"),
    (ev(event_source_url="https://x.example/?ACCESS_TOKEN=a"), False, "a credential: Python strips it"),
    (ev(event_source_url="https://é.example/?e=jo@ex.com"), False, "non-ASCII URL with an email"),
    (ev(consent=" YES "), True, "consent text"),
    (ev(consent=0), True, "consent integer"),
    (ev(consent={"ad_storage": None, "marketing": "granted"}), True, "ad_storage present but null"),
    (ev(consent={"marketing": "granted"}), True, "marketing when no ad_storage"),
    (ev(consent=["granted"]), True, "list consent: unknown"),
    (ev(consent=1.0), False, "float consent: str() in Python"),
    (ev(data_processing_options=["LDU", 1]), True, "dpo list"),
    (ev(data_processing_options=""), True, "dpo empty text"),
    (ev(data_processing_options='["LDU"]'), False, "dpo as JSON text"),
    (ev(user_data="x"), False, "user_data not an object: Python quarantines"),
    (ev(user_data=None, custom_data=None), True, "null objects are empty"),
    (ud(em="Jo@Ex.com"), True, "raw email hashed"),
    (ud(em=["", None, "jo@ex.com"]), True, "first usable list item"),
    (ud(em=[]), True, "empty list: missing"),
    (ud(em=5, fn=True), True, "integer and boolean as Python's str()"),
    (ud(em={"a": 1}), False, "object value: str() in Python"),
    (
        ud(
            fn="Mary", ln="O'Neil", ct="New York", st="CA", zp="94105", country="US", ge="f", external_id="U1"
        ),
        True,
        "raw keys normalized and hashed",
    ),
    (ud(ph="+14155550100"), False, "phone: Python"),
    (ud(client_ip_address="::1"), False, "IPv6: Python"),
    (ud(lead_id=123456, client_ip_address=HEX, fbp=" "), True, "plain keys"),
    (cd(value=25, predicted_ltv=100.5), True, "integer value, decimal ltv"),
    (cd(value=25.0), True, "integral float: repr 25.0"),
    (cd(value="25.50"), True, "value as text"),
    (cd(value=-3.5), True, "negative: malformed"),
    (cd(value=True), True, "boolean: malformed"),
    (cd(value=123456789012.345), True, "15 significant digits"),
    (cd(value=1234567890123.4567), False, "17 digits: repr may differ"),
    (cd(value=0.00001), False, "repr in exponent form"),
    (cd(value=1e20), False, "repr in exponent form"),
    ('{"event_name":"A","custom_data":{"value":-0.0}}', False, "-0.0: VARIANT has no negative zero"),
    ('{"event_name":"A","custom_data":{"value":1e5}}', False, "exponent literal"),
    (cd(currency=" eur ", order_id=1001, num_items="3"), True, "currency trimmed, integer order id"),
    (cd(currency=840, order_id=True, num_items=True), True, "str() of integers and booleans"),
    (cd(currency=1.5), False, "float currency: repr"),
    (cd(num_items=2.7), False, "int(2.7) truncates: Python"),
    (cd(num_items=[1], value=None), True, "list num_items is null"),
    (cd(content_ids="sku"), True, "one id"),
    (cd(content_ids=[1, "a", None, True]), True, "ids as str()"),
    (cd(content_ids=None, contents=[{"id": "p1"}, {"id": None}, 3, {"id": 7}]), True, "ids from contents"),
    (cd(content_ids=['a"b\\c', "é"]), True, "escaped ids"),
    (cd(content_ids=[1.5]), False, "float id"),
    (cd(content_ids=["a\nb"]), False, "control character in an id"),
    (ev(response={"events_received": 1, "fbtrace_id": "T1"}), True, "response"),
    (
        ev(response={"error": {"code": 100, "error_subcode": 2804003, "fbtrace_id": "T2"}}),
        True,
        "error response",
    ),
    (ev(response={"fbtrace_id": "", "error": {"fbtrace_id": "T3"}}), True, "empty trace falls back"),
    (ev(response={"events_received": 1.5}), False, "float count: int() truncates"),
    (ev(access_token="EAAB"), True, "credential counted"),
    (ev(user_data={"em": HEX, "token": 5}), True, "nested credential counted"),
    (ev(app_secret={"a": 1}), False, "credential with an object value"),
    (ev(note="my token"), False, "'token' in a value"),
    ('{"event_name":"A","\\u0074oken":"x"}', False, "key spelt with escapes"),
    ('{"event_name":"Caf\\u00e9"}', True, "escaped non-ASCII letter"),
    ('{"event_name":"\\ud83d\\ude00"}', False, "escaped surrogate pair"),
    (ev(event_name="é" * 300), True, "long name cut at 256 code points"),
    ('\u3000{"event_name":"A"}\t', True, "Unicode whitespace around the object"),
]


def test_browser_events_cases(spark: SparkSession, tmp_path: Path) -> None:
    """Each hand-written case: Python's row when line_ok, and line_ok exactly where the table says.
    The first line is a plain object, so Python reads the file as JSONL (as the driver requires)."""
    lines = [line for line, _, _ in EVENT_CASES]
    for options in (ReadOptions(), ReadOptions(pixel_id="PX9", default_country="us")):
        verdicts = compare(spark, tmp_path, "browser_events", lines, options)
        wrong = [(why, verdicts[n]) for n, (_, ok, why) in enumerate(EVENT_CASES, 1) if verdicts[n] != ok]
        assert not wrong


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**53),
    st.sampled_from([25.5, 25.0, -1.5, 0.1, 1e20, 3.14159]),
    st.sampled_from(VALUES),
    TEXT,
)
_TIMES = st.one_of(
    _JSON_SCALARS,
    st.sampled_from(
        [1791161559, 1791161559370, "1791161559", "2026-10-05T10:00:00Z", "2026-10-05T10:00:00.123+02:00"]
    ),
)


@st.composite
def event_lines(draw: st.DrawFn) -> str:
    """A browser event line: base fields replaced by generated JSON values, user/custom keys mixed."""
    event: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        event["event_name"] = draw(st.sampled_from(["Purchase", "", 5, "Lead"]))
    for key in draw(st.lists(st.sampled_from(["event_time", "sent_at"]), unique=True)):
        event[key] = draw(_TIMES)
    for key in draw(st.lists(st.sampled_from(["event_id", "pixel_id", "action_source", "event_source_url",
                                               "test_event_code", "consent", "data_processing_options"]),
                             unique=True)):  # fmt: skip
        event[key] = draw(st.one_of(_JSON_SCALARS, st.lists(_JSON_SCALARS, max_size=2)))
    user = {
        key: draw(st.one_of(_JSON_SCALARS, st.lists(_JSON_SCALARS, max_size=2)))
        for key in draw(st.lists(st.sampled_from(MATCH_KEYS), unique=True, max_size=5))
    }
    custom = {
        key: draw(st.one_of(_JSON_SCALARS, st.lists(_JSON_SCALARS, max_size=2)))
        for key in draw(st.lists(st.sampled_from(["value", "currency", "content_ids", "num_items", "order_id",
                                                  "predicted_ltv", "status", "content_type"]),
                                 unique=True, max_size=4))
    }  # fmt: skip
    keep_empty = draw(st.booleans())
    if user or keep_empty:
        event["user_data"] = user
    if custom:
        event["custom_data"] = custom
    if draw(st.integers(0, 9)) == 0:
        event["access_token"] = "EAAB"
    return json.dumps(event, ensure_ascii=draw(st.booleans()))


@PROPERTY
@given(lines=st.lists(event_lines(), min_size=40, max_size=80))
def test_browser_events_property(spark: SparkSession, tmp_path: Path, lines: list[str]) -> None:
    """Generated events (one Spark query per example): every line_ok row equals Python's."""
    compare(
        spark, tmp_path, "browser_events", [ev(), *lines], ReadOptions(pixel_id="P", default_country="de")
    )


# -- fbq_jsonl ------------------------------------------------------------------------------------

_CALL: dict[str, Any] = {
    "ts": 1791161559370,
    "pixel_id": "1234567890123456",
    "fbq": ["track", "Purchase", {"value": 25.5, "currency": "USD", "content_ids": ["a"]}, {"eventID": "e1"}],
    "fbp": "fb.1.1789669028589.1916788089",
    "url": "https://shop.example/ty",
    "user_agent": "Mozilla/5.0",
    "consent": "granted",
}


def fbq(**changes: Any) -> str:
    """The base logged fbq call as a JSONL line, with fields replaced (``_DROP`` removes one)."""
    record = json.loads(json.dumps(_CALL))
    for key, value in changes.items():
        if value is _DROP:
            record.pop(key, None)
        else:
            record[key] = value
    return json.dumps(record, ensure_ascii=False)


FBQ_CASES: list[tuple[str, bool, str]] = [
    (fbq(), True, "track call with eventID, fbp, user agent, consent"),
    ("", True, "blank line"),
    (fbq(fbq=["init", "123", {"em": "a@b.co"}]), True, "init: no event (pos 0)"),
    (fbq(fbq=["consent", "revoke"]), True, "consent command: no event"),
    (fbq(fbq=["trackCustom", "MyEvent", {"x": 1}]), True, "trackCustom without options"),
    (fbq(fbq=["trackSingle", "999", "Lead", {}, {"eventID": 5}]), True, "trackSingle names its pixel"),
    (fbq(fbq=["trackSingleCustom", "", "X"]), True, "empty pixel: the option's"),
    (fbq(fbq=["track", "P", None, None]), True, "null parameters and options"),
    (fbq(fbq=["track", "P", {}, {"eventID": ""}]), True, "empty eventID: none"),
    (fbq(fbq=["track", "P", {}, {"eventID": True}]), True, "boolean eventID as str()"),
    (fbq(fbq=["track"]), False, "no event name: Python quarantines"),
    (fbq(fbq=[]), False, "empty call: Python quarantines"),
    (fbq(fbq="track"), False, "call not a list: Python quarantines"),
    (fbq(fbq=_DROP), False, "no fbq: Python quarantines"),
    (fbq(fbq=["track", "P", [1]]), False, "parameters not an object: Python quarantines"),
    (fbq(fbq=["track", "P", {}, {"eventID": 1.5}]), False, "float eventID: repr"),
    (fbq(ts=_DROP), True, "no ts: no time"),
    (fbq(ts="2026-10-05T10:00:00Z"), True, "ISO ts"),
    (fbq(ts=0), True, "ts 0 is a time (1970)"),
    (fbq(ts="x"), False, "ts not a time: Python quarantines"),
    (fbq(ts=False), False, "boolean ts: Python quarantines"),
    (fbq(pixel_id=_DROP), True, "no pixel: the option's"),
    (fbq(pixel_id=123), True, "integer pixel"),
    (fbq(pixel_id=False), True, "false pixel is str(False)"),
    (fbq(pixel_id=1.5), False, "float pixel: repr"),
    (fbq(url=0), True, "falsy url: none"),
    (fbq(url={}), True, "empty object url: none"),
    (fbq(url={"a": 1}), False, "object url: str() in Python"),
    (fbq(url="https://x/a@b.co?utm_medium=x"), True, "email in url masked"),
    (fbq(url="https://x/?e=a@b.co"), False, "a parameter value: Python masks"),
    (fbq(fbp="", user_data={"fbp": None}), True, "user_data's null fbp wins over the record's"),
    (fbq(user_data={"fbp": "x", "em": "Jo@Ex.com"}), True, "user_data wins, raw email hashed"),
    (fbq(user_data="x", user_agent=5, fbc=["fb.1.1790819399557.IwAR"]), True, "non-object user_data ignored"),
    (fbq(consent={"ad_storage": "denied"}), True, "consent object"),
    (fbq(access_token="EAAB"), True, "credential counted"),
    (
        fbq(
            fbq=[
                "track",
                "P",
                {
                    "value": "12.5",
                    "currency": " eur ",
                    "num_items": 2,
                    "order_id": 7,
                    "contents": [{"id": 3}],
                },
            ]
        ),
        True,
        "custom data fields",
    ),
]


def test_fbq_cases(spark: SparkSession, tmp_path: Path) -> None:
    """Each hand-written case: Python's row when line_ok, and line_ok exactly where the table says."""
    lines = [line for line, _, _ in FBQ_CASES]
    for options in (ReadOptions(), ReadOptions(pixel_id="PX9", default_country="us")):
        verdicts = compare(spark, tmp_path, "fbq_jsonl", lines, options)
        wrong = [(why, verdicts[n]) for n, (_, ok, why) in enumerate(FBQ_CASES, 1) if verdicts[n] != ok]
        assert not wrong


@st.composite
def fbq_lines(draw: st.DrawFn) -> str:
    """A logged fbq call: generated commands, arguments and record fields."""
    command = draw(st.sampled_from(["track", "trackCustom", "trackSingle", "trackSingleCustom", "init", 5]))
    call: list[Any] = [command]
    call += draw(st.lists(st.one_of(st.sampled_from(["Purchase", "", "999"]), _JSON_SCALARS), max_size=2))
    params = st.dictionaries(st.sampled_from(["value", "currency", "eventID", "content_ids"]), _JSON_SCALARS)
    call += draw(st.lists(st.one_of(st.none(), params), max_size=2))
    record: dict[str, Any] = {"fbq": call}
    fields = ["ts", "pixel_id", "fbp", "fbc", "url", "user_agent", "consent"]
    for key in draw(st.lists(st.sampled_from(fields), unique=True)):
        record[key] = draw(st.one_of(_TIMES, st.lists(_JSON_SCALARS, max_size=2)))
    if draw(st.booleans()):
        record["user_data"] = {
            key: draw(_JSON_SCALARS) for key in draw(st.lists(st.sampled_from(MATCH_KEYS), max_size=3))
        }
    return json.dumps(record, ensure_ascii=draw(st.booleans()))


@PROPERTY
@given(lines=st.lists(fbq_lines(), min_size=40, max_size=80))
def test_fbq_property(spark: SparkSession, tmp_path: Path, lines: list[str]) -> None:
    """Generated fbq logs (one Spark query per example): every line_ok row equals Python's."""
    compare(spark, tmp_path, "fbq_jsonl", [fbq(), *lines], ReadOptions(pixel_id="P", default_country="de"))


def test_registered_formats() -> None:
    """The three browser formats are mapped on Spark; HAR stays with the Python reader."""
    assert {"pixel_beacons", "browser_events", "fbq_jsonl"} <= set(SPARK_SQL_FORMATS)
    assert "har" not in SPARK_SQL_FORMATS


def test_fixture_files_match_tables() -> None:
    """tests/fixtures/spark_browser holds the case tables as files (for end-to-end ingest tests)."""
    for name, cases in (
        ("pixel_beacons.txt", BEACON_CASES),
        ("browser_events.jsonl", EVENT_CASES),
        ("fbq_calls.jsonl", FBQ_CASES),
    ):
        lines = (FIXTURES / name).read_text(encoding="utf-8").split("\n")
        assert lines == [line for line, _, _ in cases] + [""], name


def test_pathological_lines_do_not_fail(spark: SparkSession, tmp_path: Path) -> None:
    """Inputs that would overflow Java's regex stack (a 100,000-character host, a quoted email local
    part) or make a regex quadratic (long digit runs, long whitespace runs) are left to Python or mapped,
    never a failed Spark job."""
    host = "https://" + "a." * 50_000 + "facebook.com/tr?ev=A"
    email = "%22" + "a" * 50_000 + "%22%40ex.com"
    beacons = [
        host,
        TR + "&ud[em]=" + email,
        TR + "&cd[value]=" + "1" * 50_000 + "x",
        TR + " " * 30_000 + "x",
    ]
    verdicts = compare(spark, tmp_path, "pixel_beacons", beacons)
    assert verdicts == {1: False, 2: False, 3: False, 4: True}
    long_email = '"' + "a" * 50_000 + '"@ex.com'
    events = [
        ev(),
        ud(em=long_email),
        cd(value="1" * 50_000 + "x", num_items="1" * 5_000 + "x"),
        ev(event_name="A" + " " * 30_000 + "b"),
    ]
    assert compare(spark, tmp_path, "browser_events", events) == {1: True, 2: False, 3: False, 4: True}
    calls = [fbq(), fbq(user_data={"em": long_email})]
    assert compare(spark, tmp_path, "fbq_jsonl", calls) == {1: True, 2: False}
