"""A straightforward pandas implementation of dedup + reconciliation, the benchmark's point of comparison.

What a competent analyst would write in a notebook, on the same three files the engine reads: the CAPI
log (JSONL envelopes), the Pixel beacons (one ``/tr`` URL per line) and the Shopify orders export. It
follows the definitions of SPEC §4 as the engine documents them (``capi_core/queries/dedup_model.sql``,
``recon_base.sql``, ``recon_links.sql``):

* dedup per (pixel_id, exact event_name, event_id): copies ordered by received_at (browser first on a
  tie); 48 h windows anchored on the first copy and re-anchored on the first copy after them; a window
  with both channels keeps the first browser copy when the first browser and first server copies are
  within 5 minutes, else its first copy; one-channel windows count every copy;
* server copies without event_id: paired one-to-one with an earlier browser copy (same pixel, name and
  fbp, then external_id) that is counted and not merged, at most 48 h before it, within "runs" of
  browser copies followed by server copies (first server copies with the last browser copies);
* reconciliation of Purchase copies (any case / spacing of the name) to orders: the join key chosen by
  match rate (order_id, event_id, event_id token), a keyless copy linked by fbp / hashed email within
  10 minutes of the order, copies folded into one conversion sharing their link; per eligible (paid,
  consent not denied) order a verdict, and truth vs Meta per day.

It is deliberately independent of ``capi_core`` (no imports from it), so agreement between the two is
evidence that both are right. Vectorised where pandas makes that natural; the sequential rules
(anchored windows) use a few vectorised passes, never a Python loop over rows.

Run alone: ``python benchmarks/pandas_baseline.py FOLDER`` prints the figures as JSON.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd

WINDOW = pd.Timedelta(hours=48)
PREFER_BROWSER = pd.Timedelta(minutes=5)
LINK_WINDOW = pd.Timedelta(minutes=10)
WEEK = pd.Timedelta(days=7)
MIN_KEY_RATE = 0.5
SERVER_FILE, BROWSER_FILE, ORDERS_FILE = "capi_log.jsonl", "pixel_beacons.txt", "orders_export.csv"
VERDICTS = ("both_channels", "browser_only", "server_only", "none")
KEY_METHODS = ("order_id", "event_id", "event_id_token")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_EVENT_COLUMNS = [
    "channel", "pixel_id", "event_name", "event_id", "event_time", "received_at",
    "fbp", "external_id", "em", "order_id", "value", "consent", "test_event_code",
]  # fmt: skip
_ORDER_STATUS = {
    "paid": "paid", "partially_refunded": "paid", "completed": "paid", "processing": "paid",
    "pending": "pending", "authorized": "pending", "partially_paid": "pending", "on-hold": "pending",
    "refunded": "refunded", "voided": "cancelled", "cancelled": "cancelled", "canceled": "cancelled",
    "failed": "cancelled", "expired": "cancelled", "test": "test",
}  # fmt: skip
_CONSENT = {"granted": "granted", "true": "granted", "yes": "granted", "denied": "denied",
            "false": "denied", "no": "denied", "revoked": "denied", "opt_out": "denied"}  # fmt: skip


@dataclass
class BaselineResult:
    """The figures the harness compares with the engine's report."""

    events: int
    orders: int
    estimated_meta_count: dict[str, int]
    merged_pairs: dict[str, int]
    event_coverage: dict[str, float | None]
    join_key: str | None
    meta_count: int  # counted Purchase copies, name variants included (the reconciliation's figure)
    verdicts: dict[str, int]
    daily: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- readers


def _parse_time(values: pd.Series) -> pd.Series:
    """UTC-naive datetimes from ISO text, epoch seconds or epoch milliseconds (mixed in one column)."""
    numeric = pd.to_numeric(values, errors="coerce")
    seconds = numeric.where(numeric < 1e11, numeric / 1000)
    as_number = pd.to_datetime(seconds, unit="s", errors="coerce")
    text = values.where(numeric.isna()).astype("object")
    as_text = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601").dt.tz_localize(None)
    return as_number.fillna(as_text).astype("datetime64[us]")


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return next((v for v in value if v not in (None, "")), None)
    return value


def _text(value: Any) -> str | None:
    value = _first(value)
    if value is None:
        return None
    text = str(value)
    return text if text != "" else None


def _hashed(value: Any) -> str | None:
    """A hashed user_data key as the store keeps it: 64-hex passes lowercased, else trim + lower + SHA-256."""
    text = _text(value)
    if text is None or not text.strip():
        return None
    text = text.strip()
    if _HEX64.match(text):
        return text.lower()
    return hashlib.sha256(text.lower().encode()).hexdigest()


def _consent(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("ad_storage", value.get("marketing"))
    return "unknown" if value is None else _CONSENT.get(str(value).strip().lower(), "unknown")


def _server_row(envelope: dict[str, Any], request: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    user = event.get("user_data") or {}
    custom = event.get("custom_data") or {}
    return {
        "pixel_id": _text(envelope.get("pixel_id")),
        "sent_at": envelope.get("sent_at"),
        "event_name": _text(event.get("event_name")),
        "event_id": _text(event.get("event_id")),
        "event_time": event.get("event_time"),
        "fbp": _text(user.get("fbp")),
        "external_id": _hashed(user.get("external_id")),
        "em": _hashed(user.get("em")),
        "order_id": _text(custom.get("order_id")),
        "value": custom.get("value"),
        "consent": _consent(envelope.get("consent")),
        "test_event_code": _text(request.get("test_event_code")),
    }


def read_server(path: Path) -> pd.DataFrame:
    """CAPI log envelopes (one JSON object per line) -> one row per event in ``request.data``."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            envelope = json.loads(line)
            response = envelope.get("response") or {}
            if isinstance(response.get("error"), dict):  # Meta rejected the request: never received
                continue
            request = envelope.get("request") or {}
            rows.extend(_server_row(envelope, request, event) for event in request.get("data") or [])
    frame = pd.DataFrame(rows, columns=[*_EVENT_COLUMNS, "sent_at"])
    frame["channel"] = "server"
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["event_time"] = _parse_time(frame["event_time"])
    frame["received_at"] = _parse_time(frame["sent_at"]).fillna(frame["event_time"])
    return frame[_EVENT_COLUMNS]


def read_browser(path: Path) -> pd.DataFrame:
    """Pixel ``/tr`` beacon URLs (one per line) -> one row per beacon."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            params = dict(parse_qsl(urlsplit(line.strip()).query, keep_blank_values=True))
            rows.append(
                {
                    "pixel_id": _text(params.get("id")),
                    "event_name": _text(params.get("ev")),
                    "event_id": _text(params.get("eid")),
                    "event_time": params.get("ts"),
                    "fbp": _text(params.get("fbp")),
                    "external_id": _hashed(params.get("ud[external_id]")),
                    "em": _hashed(params.get("ud[em]")),
                    "order_id": _text(params.get("cd[order_id]")),
                    "value": params.get("cd[value]"),
                    "consent": "unknown",
                    "test_event_code": _text(params.get("test_event_code")),
                }
            )
    frame = pd.DataFrame(rows, columns=_EVENT_COLUMNS)
    frame["channel"] = "browser"
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["event_time"] = _parse_time(frame["event_time"])
    frame["received_at"] = frame["event_time"]
    return frame[_EVENT_COLUMNS]


def _note_fbp(notes: pd.Series) -> pd.Series:
    """The ``_fbp`` cookie a tracking app wrote into Note Attributes (``key: value`` lines)."""
    found = notes.fillna("").str.extract(r"(?m)^(?:_fbp|fbp|_elevar__fbp|_elevar_fbp): (\S+)", expand=False)
    return found.mask(found == "")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series(None, index=frame.index, dtype="object")


def read_orders(path: Path) -> pd.DataFrame:
    """Shopify orders export (one row per line item) -> one row per order, keyed by normalized Name."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = raw.apply(lambda col: col.str.strip())
    raw = raw.mask(raw == "")
    first = raw.groupby("Name", sort=False).first().reset_index()  # first non-empty value per column
    financial = first["Financial Status"].fillna("").str.lower()
    status = financial.str.replace(" ", "_").map(_ORDER_STATUS).fillna(financial).replace("", None)
    tags = _column(first, "Tags").fillna("").str.lower().str.split(",")
    is_test = tags.apply(
        lambda parts: bool({p.strip() for p in parts} & {"test", "test order", "test_order"})
    )
    is_test |= _column(first, "Payment Method").fillna("").str.lower().str.contains("bogus")
    cancelled = _column(first, "Cancelled at").notna() & (financial != "refunded")
    status = status.mask(cancelled, "cancelled").mask(is_test, "test")
    created = pd.to_datetime(first["Created at"], utc=True, format="mixed").dt.tz_localize(None)
    return pd.DataFrame(
        {
            "truth_id": normalize_id(first["Name"]),
            "created_at": created.astype("datetime64[us]"),
            "status": status,
            "value": pd.to_numeric(first["Total"], errors="coerce"),
            "em": first["Email"].map(_hashed) if "Email" in first.columns else None,
            "fbp": _note_fbp(_column(first, "Note Attributes")),
        }
    ).dropna(subset=["truth_id"])


def normalize_id(ids: pd.Series) -> pd.Series:
    """Ids compared across systems: trimmed, lowercased, without a leading '#'."""
    text = ids.astype("string").str.strip().str.lower().str.lstrip("#").str.strip()
    return text.mask(text == "")


# ------------------------------------------------------------------------------------------ dedup model


def _windows(keyed: pd.DataFrame) -> pd.Series:
    """1-based 48 h window per copy, anchored on the first copy of the key and re-anchored after it.

    Sequential by nature; done as repeated vectorised passes (one per window depth, usually one or two).
    """
    window_no = pd.Series(0, index=keyed.index, dtype="int64")
    pending = keyed
    depth = 0
    while not pending.empty:
        depth += 1
        anchor = pending.groupby("key", sort=False)["received_at"].transform("min")
        inside = (pending["received_at"] <= anchor + WINDOW).to_numpy()
        window_no.loc[pending.index[inside]] = depth
        pending = pending[~inside]
    return window_no


def _dedup_by_event_id(keyed: pd.DataFrame) -> pd.DataFrame:
    """Verdicts of copies with an event_id and a received_at (sorted by key, received_at, channel)."""
    keyed = keyed.assign(window_no=_windows(keyed))
    group = [keyed["key"], keyed["window_no"]]
    is_browser = keyed["channel"] == "browser"
    first_browser = keyed["received_at"].where(is_browser).groupby(group).transform("min")
    first_server = keyed["received_at"].where(~is_browser).groupby(group).transform("min")
    both = (first_browser.notna() & first_server.notna()).to_numpy()
    within = ((first_browser - first_server).abs() <= PREFER_BROWSER).to_numpy()
    first_channel = keyed.groupby(group)["channel"].transform("first").to_numpy()
    kept_channel = np.where(within, "browser", first_channel)
    # Rows are in window order, so the first row of the kept channel in the window is the kept copy.
    rank = keyed.groupby([keyed["key"], keyed["window_no"], keyed["channel"]]).cumcount().to_numpy()
    window_rank = keyed.groupby(group).cumcount().to_numpy()
    channel = keyed["channel"].to_numpy()
    is_kept = both & (channel == kept_channel) & (rank == 0)
    kept_row = pd.Series(np.where(is_kept, keyed.index, -1), index=keyed.index)
    kept_index = kept_row.groupby(group).transform("max").to_numpy()
    counted = ~both | is_kept
    return pd.DataFrame(
        {
            "verdict": np.where(counted, "counted", "discarded"),
            "reason": np.select(
                [counted, channel == kept_channel],
                [None, "repeat_in_merged_window"],
                np.where(kept_channel == "browser", "duplicate_of_browser", "duplicate_of_server"),
            ),
            "merged": both,
            "kept": np.where(both, kept_index, keyed.index),
            "same_channel_repeat": ~both & (window_rank > 0),
            "window": keyed["key"] + ":" + keyed["window_no"].astype(str),
        },
        index=keyed.index,
    )


def _runs_pairing(timeline: pd.DataFrame, key: str) -> pd.DataFrame:
    """(server index, browser index) pairs within runs of browser copies followed by server copies."""
    timeline = timeline.sort_values([key, "received_at", "channel_rank"], kind="stable")
    group = timeline[key]
    is_browser = timeline["channel"] == "browser"
    previous = timeline["channel"].groupby(group).shift(1).fillna("server")
    run_no = (is_browser & (previous == "server")).astype("int64").groupby(group).cumsum()
    timeline = timeline.assign(run_no=run_no)
    timeline = timeline[timeline["run_no"] > 0]
    run = [timeline[key], timeline["run_no"]]
    timeline = timeline.assign(
        idx=timeline.groupby([*run, timeline["channel"]]).cumcount() + 1,
        browsers=(timeline["channel"] == "browser").groupby(run).transform("sum"),
        servers=(timeline["channel"] == "server").groupby(run).transform("sum"),
    )
    pairs_in_run = np.minimum(timeline["browsers"], timeline["servers"])
    server = timeline[(timeline["channel"] == "server") & (timeline["idx"] <= pairs_in_run)]
    server = server.assign(
        idx=server["browsers"] - np.minimum(server["browsers"], server["servers"]) + server["idx"]
    )
    browser = timeline[timeline["channel"] == "browser"]
    pairs = server.reset_index(names="server").merge(
        browser.reset_index(names="browser"), on=[key, "run_no", "idx"], suffixes=("", "_b")
    )
    pairs = pairs[pairs["received_at"] <= pairs["received_at_b"] + WINDOW]
    return pairs[["server", "browser"]]


def _fallback(events: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """Server copies without event_id paired by fbp, then external_id, with an absorbing browser copy."""
    timed = events["received_at"].notna()
    servers = events[timed & (events["channel"] == "server") & events["event_id"].isna()]
    browsers = events[timed & (events["channel"] == "browser") & (verdicts["verdict"] == "counted")
                      & ~verdicts["merged"]]  # fmt: skip
    found = []
    for key, reason in (("fbp", "fbp_match"), ("external_id", "external_id_match")):
        taken = [i for pairs in found for i in (*pairs["server"], *pairs["browser"])]
        timeline = pd.concat([servers, browsers])
        timeline = timeline[timeline[key].notna() & ~timeline.index.isin(taken)]
        timeline = timeline.assign(
            group=timeline.groupby(["pixel_id", "event_name", key], dropna=False).ngroup(),
            channel_rank=np.where(timeline["channel"] == "browser", 0, 1),
        )
        found.append(_runs_pairing(timeline, "group").assign(reason=reason))
    return pd.concat(found, ignore_index=True)


def dedup(events: pd.DataFrame) -> pd.DataFrame:
    """Per copy: verdict (counted / discarded), reason, merged, kept (the copy counted for it)."""
    events = events.reset_index(drop=True)
    verdicts = pd.DataFrame(
        {"verdict": "counted", "reason": None, "merged": False, "kept": events.index,
         "same_channel_repeat": False, "window": None},
        index=events.index,
    )  # fmt: skip
    keyed = events[events["event_id"].notna() & events["received_at"].notna()]
    keyed = keyed.assign(
        key=keyed["pixel_id"].fillna("")
        + "\x1f"
        + keyed["event_name"].fillna("")
        + "\x1f"
        + keyed["event_id"],
        channel_rank=np.where(keyed["channel"] == "browser", 0, 1),
    ).sort_values(["key", "received_at", "channel_rank"], kind="stable")
    verdicts.loc[keyed.index] = _dedup_by_event_id(keyed)
    pairs = _fallback(events, verdicts)
    verdicts.loc[pairs["server"], "verdict"] = "discarded"
    verdicts.loc[pairs["server"], "reason"] = pairs["reason"].to_numpy()
    verdicts.loc[pairs["server"], "kept"] = pairs["browser"].to_numpy()
    verdicts.loc[pd.Index(pairs["server"]).append(pd.Index(pairs["browser"])), "merged"] = True
    return events.join(verdicts)


# ------------------------------------------------------------------------------------- reconciliation


def _key_links(purchase: pd.DataFrame, truth_ids: pd.Index) -> pd.DataFrame:
    """Every (copy, record, method) a key links: order_id, event_id, or an event_id token."""
    order_key = normalize_id(purchase["order_id"])
    event_key = normalize_id(purchase["event_id"])
    tokens = pd.concat([event_key.str.split(r"[^a-z0-9]+", regex=True),
                        event_key.str.split(r"[^a-z0-9-]+", regex=True)]).explode()  # fmt: skip
    links = pd.concat(
        [
            pd.DataFrame({"copy": purchase.index, "truth_id": order_key, "method": "order_id"}),
            pd.DataFrame({"copy": purchase.index, "truth_id": event_key, "method": "event_id"}),
            pd.DataFrame({"copy": tokens.index, "truth_id": tokens.to_numpy(), "method": "event_id_token"}),
        ],
        ignore_index=True,
    )
    links = links[links["truth_id"].isin(truth_ids)].drop_duplicates()
    return links.assign(key_rank=links["method"].map({m: i for i, m in enumerate(KEY_METHODS, 1)}))


def _chosen_key(links: pd.DataFrame, copies: int) -> str | None:
    """The first key in SPEC order linking at least MIN_KEY_RATE of the copies, else the one linking most."""
    linked = links.groupby("method")["copy"].nunique().reindex(KEY_METHODS, fill_value=0)
    if not linked.any():
        return None
    good = [m for m in KEY_METHODS if linked[m] >= MIN_KEY_RATE * copies and linked[m] > 0]
    return good[0] if good else str(linked.idxmax())


def _fallback_links(purchase: pd.DataFrame, keyless: pd.Index, orders: pd.DataFrame) -> pd.DataFrame:
    """Keyless copies linked to the order with the same fbp or hashed email within 10 minutes."""
    candidates = []
    for pref, key in enumerate(("fbp", "em"), 1):
        left = purchase.loc[keyless, [key, "event_time"]].dropna().reset_index(names="copy")
        pairs = left.merge(orders[["truth_id", "created_at", key]].dropna(), on=key)
        gap = (pairs["event_time"] - pairs["created_at"]).abs()
        candidates.append(pairs[gap <= LINK_WINDOW].assign(gap=gap, pref=pref))
    found = pd.concat(candidates, ignore_index=True).sort_values(["copy", "gap", "pref", "truth_id"])
    return found.drop_duplicates("copy")[["copy", "truth_id"]]


#: would-be pair evidence joined on columns (1: same event_id; 3-5: same user key), and its time limit;
#: evidence 2 (the same order id, from order_id or event_id) is joined separately.
_EVIDENCE = (
    (1, ["pixel_id", "event_name", "event_id"], WEEK),
    (3, ["name_norm", "fbp"], LINK_WINDOW),
    (4, ["name_norm", "external_id"], LINK_WINDOW),
    (5, ["name_norm", "em"], LINK_WINDOW),
)


def would_be_pairs(purchase: pd.DataFrame) -> pd.DataFrame:
    """Browser/server copies of one conversion the dedup model did not merge: (browser, server) indexes.

    Candidates are counted, unmerged copies with a receipt time; evidence: the same event_id (same pixel
    and name) or order id within 7 days, else the same fbp / external_id / em (a value on at most 50
    candidates) within 10 minutes without conflicting order ids. Each copy keeps its best candidate
    (id evidence first, then the nearest); a pair stands when the choice is mutual.
    """
    loose = purchase[
        (purchase["verdict"] == "counted") & ~purchase["merged"] & purchase["received_at"].notna()
    ]
    loose = loose.assign(
        name_norm=loose["event_name"].str.strip().str.lower(),
        order_norm=normalize_id(loose["order_id"]),
        id_norm=normalize_id(loose["event_id"]),
    )
    b = loose[loose["channel"] == "browser"].reset_index(names="b")
    s = loose[loose["channel"] == "server"].reset_index(names="s")
    found = []
    for evidence, on, limit in _EVIDENCE:
        left = b
        if evidence > 2:
            crowded = loose.groupby(on)[on[-1]].transform("size") > 50
            left = b[~crowded.loc[b["b"]].to_numpy()]
        pairs = left.dropna(subset=on[-1:]).merge(s.dropna(subset=on[-1:]), on=on, suffixes=("", "_s"))
        if evidence > 2:
            conflict = pairs["order_norm"].notna() & pairs["order_norm_s"].notna()
            pairs = pairs[~(conflict & (pairs["order_norm"] != pairs["order_norm_s"]))]
        found.append(pairs[["b", "s", "received_at", "received_at_s"]].assign(evidence=evidence, limit=limit))
    ids_b = pd.concat(
        [
            b[["b", "order_norm", "received_at"]].rename(columns={"order_norm": "key"}),
            b[["b", "id_norm", "received_at"]].rename(columns={"id_norm": "key"}),
        ]
    ).dropna()
    ids_s = pd.concat(
        [
            s[["s", "order_norm", "received_at"]].rename(columns={"order_norm": "key"}),
            s[["s", "id_norm", "received_at"]].rename(columns={"id_norm": "key"}),
        ]
    ).dropna()
    by_id = ids_b.drop_duplicates(["b", "key"]).merge(
        ids_s.drop_duplicates(["s", "key"]), on="key", suffixes=("", "_s")
    )
    found.append(by_id[["b", "s", "received_at", "received_at_s"]].assign(evidence=2, limit=WEEK))
    cand = pd.concat(found, ignore_index=True)
    cand["gap"] = (cand["received_at_s"] - cand["received_at"]).abs()
    cand = cand[cand["gap"] <= cand["limit"]]
    cand = cand.sort_values("evidence").drop_duplicates(["b", "s"])
    cand["strong"] = (cand["evidence"] > 2).astype("int64")
    best_b = cand.sort_values(["strong", "gap", "s"]).drop_duplicates("b")
    best_s = cand.sort_values(["strong", "gap", "b"]).drop_duplicates("s")
    return best_b.merge(best_s[["b", "s"]], on=["b", "s"])[["b", "s"]]


def link_copies(purchase: pd.DataFrame, orders: pd.DataFrame) -> tuple[pd.Series, str | None]:
    """Each Purchase copy's order (or NaN), and the chosen join key (the engine's link rules 1-3)."""
    links = _key_links(purchase, pd.Index(orders["truth_id"]))
    chosen = _chosen_key(links, len(purchase))
    links = links.assign(order=np.where(links["method"] == chosen, 0, links["key_rank"]))
    direct = links.sort_values(["copy", "order", "truth_id"]).drop_duplicates("copy").set_index("copy")
    direct = direct[["truth_id"]].assign(link_rank=1)
    order_key = normalize_id(purchase["order_id"])
    # An order_id naming no order is the shop's claim of another order: only copies without one fall back.
    keyless = purchase.index.difference(direct.index)
    keyless = keyless[order_key.loc[keyless].isna().to_numpy()]
    fallback = _fallback_links(purchase, keyless, orders).set_index("copy")["truth_id"]
    own = pd.concat([direct["truth_id"], fallback])
    pairs = would_be_pairs(purchase)
    sides = pd.concat([pairs.rename(columns={"b": "copy", "s": "partner"}),
                       pairs.rename(columns={"s": "copy", "b": "partner"})])  # fmt: skip
    sides = sides[sides["copy"].isin(keyless)]
    sides = sides.assign(truth_id=sides["partner"].map(own)).dropna(subset=["truth_id"])
    paired = sides.groupby("copy")["truth_id"].min().to_frame().assign(link_rank=2)
    fallback = fallback[~fallback.index.isin(paired.index)].to_frame().assign(link_rank=3)
    direct = pd.concat([direct, paired, fallback])
    # Copies Meta folds into one conversion (same kept copy, or same event_id window) share the best
    # link of the group, the kept copy's first; a copy naming an order_id itself keeps its own.
    members = pd.concat(
        [
            pd.DataFrame({"copy": purchase.index, "group": "k" + purchase["kept"].astype(str),
                          "member_rank": (purchase.index != purchase["kept"]).astype("int64")}),
            pd.DataFrame({"copy": purchase.index, "group": "w" + purchase["window"], "member_rank": 1}),
        ]
    ).dropna(subset=["group"])  # fmt: skip
    ranked = members.merge(direct.reset_index(names="copy"), on="copy")
    best = ranked.sort_values(["group", "link_rank", "member_rank", "truth_id"]).drop_duplicates("group")
    inherited = members[order_key.loc[members["copy"]].isna().to_numpy()].merge(
        best[["group", "truth_id", "link_rank"]], on="group"
    )
    options = pd.concat(
        [
            direct.reset_index(names="copy").assign(inherited=0),
            inherited[["copy", "truth_id", "link_rank"]].assign(inherited=1),
        ]
    )
    chosen_link = options.sort_values(["copy", "link_rank", "inherited", "truth_id"]).drop_duplicates("copy")
    return chosen_link.set_index("copy")["truth_id"].reindex(purchase.index), chosen


def reconcile(copies: pd.DataFrame, orders: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame]:
    """Verdict counts over eligible orders, the join key, the Meta count, and truth vs Meta per day."""
    name = copies["event_name"].fillna("").str.strip().str.replace(" ", "").str.lower()
    purchase = copies[name == "purchase"]
    truth_id, join_key = link_copies(purchase, orders)
    linked = purchase.assign(truth_id=truth_id)
    linked = linked.dropna(subset=["truth_id"])
    per_order = pd.crosstab(linked["truth_id"], linked["channel"]).reindex(columns=["browser", "server"])
    per_order["denied"] = (linked["consent"] == "denied").groupby(linked["truth_id"]).any()
    facts = orders.set_index("truth_id").join(per_order)
    browser, server = facts["browser"].fillna(0) > 0, facts["server"].fillna(0) > 0
    facts["verdict"] = np.select([browser & server, browser, server], list(VERDICTS[:3]), VERDICTS[3])
    facts["eligible"] = (facts["status"] == "paid") & ~facts["denied"].fillna(False).astype(bool)
    counts = facts.loc[facts["eligible"], "verdict"].value_counts()
    eligible = facts[facts["eligible"]]
    truth_day = eligible.groupby(eligible["created_at"].dt.date).size().rename("truth_count")
    counted = purchase[purchase["verdict"] == "counted"]
    meta_day = counted.groupby(counted["event_time"].dt.date).size().rename("meta_count")
    daily = pd.concat([truth_day, meta_day], axis=1).fillna(0).astype("int64").sort_index()
    summary = {
        "join_key": join_key,
        "meta_count": len(counted),
        "verdicts": {v: int(counts.get(v, 0)) for v in VERDICTS},
    }
    return summary, daily.rename_axis("day").reset_index()


# ------------------------------------------------------------------------------------------- pipeline


def coverage(copies: pd.DataFrame) -> dict[str, float | None]:
    """Per event name: browser copies with a server copy of the same pixel + name + id / browser copies."""
    keys = ["pixel_id", "event_name", "event_id"]
    server_keys = copies.loc[(copies["channel"] == "server") & copies["event_id"].notna(), keys]
    server_keys = server_keys.drop_duplicates().assign(twin=True)
    browser = copies[copies["channel"] == "browser"].merge(server_keys, on=keys, how="left")
    share = browser.groupby("event_name")["twin"].apply(lambda s: float(s.notna().mean()))
    return {
        str(n): (float(share[n]) if n in share.index else None)
        for n in copies["event_name"].dropna().unique()
    }


def run(folder: Path) -> BaselineResult:
    """Read the three files in ``folder`` and compute the figures."""
    folder = Path(folder)
    events = pd.concat(
        [read_server(folder / SERVER_FILE), read_browser(folder / BROWSER_FILE)], ignore_index=True
    )
    orders = read_orders(folder / ORDERS_FILE)
    copies = dedup(events)
    counted = copies[copies["verdict"] == "counted"]
    # A merged pair is one conversion seen on both channels and counted once: its counted (kept) copy.
    merged = counted[counted["merged"]]
    summary, daily = reconcile(copies, orders)
    daily["day"] = daily["day"].astype(str)
    return BaselineResult(
        events=len(copies),
        orders=len(orders),
        estimated_meta_count={str(k): int(v) for k, v in counted.groupby("event_name").size().items()},
        merged_pairs={str(k): int(v) for k, v in merged.groupby("event_name").size().items()},
        event_coverage=coverage(copies),
        join_key=summary["join_key"],
        meta_count=summary["meta_count"],
        verdicts=summary["verdicts"],
        daily=daily.to_dict("records"),
    )


if __name__ == "__main__":
    print(json.dumps(asdict(run(Path(sys.argv[1]))), indent=2, default=str))
