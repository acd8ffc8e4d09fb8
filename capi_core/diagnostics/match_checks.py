"""Match-key diagnostics (SPEC §5, MATCH_*): hashing, fbc / fbp shape, insufficient keys, shared IPs,
fbp mismatches inside merged pairs.

Each check runs one ``quality_*.sql`` aggregate (through ``capi_core.metrics.quality_sql``) whose per-copy
rules live in ``derived_copy_checks.sql``. Findings are per pixel x event_name x channel, per key where
the fix is per key, and read "<n> of <copies> <event> <channel> copies <what>" (``_copies_finding``).
The three hashing checks differ only in the verdict they count and the keys they look at: each is one
``_key_check`` call.

MATCH_SHARED_IP: an IP fires when it carries at least ``SHARED_IP_MIN_USERS`` distinct users
(external_id, else em, else fbp) and at least ``SHARED_IP_MIN_SHARE`` of the pixel's server copies: a
server or proxy address sent as client_ip_address. The IP itself is never put in a finding.

MATCH_FBP_MISMATCH reads the derived table ``copy_verdicts`` (merged, kept_fingerprint, kept_occurrence);
while the store holds an older form of that table without those columns it finds nothing.
"""

from __future__ import annotations

from typing import Any

from capi_core import units
from capi_core.diagnostics.registry import CHECKS, MAX_EXAMPLES, CheckFn, Finding, Severity, check
from capi_core.metrics import by_day
from capi_core.metrics.quality_sql import examples, run_quality
from capi_core.models import HASHED_KEYS, MATCH_KEYS, Scope
from capi_core.store import Store

SHARED_IP_MIN_USERS = 20
SHARED_IP_MIN_SHARE = 0.01
_VERDICT_CONTRACT = ("merged", "kept_fingerprint", "kept_occurrence")


def _copies_finding(code: str, row: dict[str, Any], count: int, of: int, found: Any, what: str) -> Finding:
    """A finding on ``count`` of the ``of`` copies of one pixel x event x channel (a ``quality_*`` row):
    "<count> of <of> <event> <channel> copies <what>", ``found`` being the row's examples."""
    return CHECKS[code].finding(
        f"{count} of {of} {row['event_name']} {row['channel']} copies {what}",
        count=count,
        share=count / of,
        examples=examples(found),
        pixel_id=row["pixel_id"],
        event_name=row["event_name"],
        channel=row["channel"],
    )


def _key_check(
    code: str,
    severity: Severity,
    description: str,
    fix: str,
    *,
    verdict: str,
    what: str,
    only_keys: tuple[str, ...] | None = None,
    only_channel: str | None = None,
) -> CheckFn:
    """Register the check ``code`` that counts, per pixel x event x channel and key (of ``only_keys``, on
    ``only_channel`` when given), the copies whose key has the hashing ``verdict``
    (``quality_key_verdicts.sql``): "<n> of <copies> <event> <channel> copies send <key> <what>"."""

    @check(code, severity, description, fix)
    def keys_with_verdict(store: Store, scope: Scope) -> list[Finding]:
        return [
            _copies_finding(
                code, row, row["copies"], row["group_copies"], row["examples"], f"send {row['key']} {what}"
            )
            for row in run_quality(store, "quality_key_verdicts", scope)
            if row["verdict"] == verdict
            and (only_keys is None or row["key"] in only_keys)
            and (only_channel is None or row["channel"] == only_channel)
        ]

    return keys_with_verdict


match_unhashed_pii = _key_check(
    "MATCH_UNHASHED_PII",
    "critical",
    "Server copies carrying raw (unhashed) customer information in a key Meta requires hashed (em, ph, "
    "fn, ln, ct, st, zp, country, db, ge): personal data leaves your systems in clear text.",
    "The owner of the CAPI integration must normalize and SHA-256 hash every hashed key exactly once "
    "before sending (Meta's Business SDKs do it); state 'hashed' for each key in the event contract.",
    verdict="raw_pii",
    what="unhashed",
    only_keys=HASHED_KEYS,
    only_channel="server",
)
match_malformed_hash = _key_check(
    "MATCH_MALFORMED_HASH",
    "high",
    "A key Meta requires hashed whose value is neither a SHA-256 hex digest nor a value that normalizes "
    "(e.g. a truncated hash, an MD5, an email without @): Meta cannot match it.",
    "Have the integration's owner hash the normalized value with SHA-256 and send the 64-character "
    "lowercase hex digest unchanged; add the format rule to the event contract.",
    verdict="malformed",
    what="as a malformed hash or value",
    only_keys=HASHED_KEYS,
)
match_hashed_forbidden = _key_check(
    "MATCH_HASHED_FORBIDDEN",
    "high",
    "fbp, fbc, client_ip_address or lead_id sent hashed: Meta requires these as sent and cannot use a "
    "hash of them.",
    "Send fbp and fbc exactly as read from the _fbp / _fbc cookies and the IP as received, unhashed; the "
    "event contract should mark these keys 'do not hash'.",
    verdict="hashed_forbidden",
    what="hashed",
)


def _issues(store: Store, scope: Scope) -> list[dict[str, Any]]:
    return run_quality(store, "quality_signal_issues", scope)


@check(
    "MATCH_INVALID_FBC",
    "medium",
    "fbc not in the form fb.<subdomain index>.<13-digit ms>.<fbclid>, or created more than 90 days "
    "before the copy was sent (an expired click id).",
    "Read fbc verbatim from the _fbc cookie or build it once from the landing URL's fbclid (no "
    "URL-decoding, no new timestamp per page) and send the newest one; the tag owner should follow "
    "Meta's Parameter Builder and the event contract's fbc rule.",
)
def match_invalid_fbc(store: Store, scope: Scope) -> list[Finding]:
    """Copies with a malformed or expired fbc."""
    findings = []
    for row in _issues(store, scope):
        count = row["fbc_malformed"] + row["fbc_expired"]
        if not count:
            continue
        findings.append(
            _copies_finding(
                "MATCH_INVALID_FBC",
                row,
                count,
                row["copies"],
                row["fbc_examples"],
                f"send an invalid fbc ({row['fbc_malformed']} malformed, {row['fbc_expired']} older than 90 "
                "days)",
            )
        )
    return findings


@check(
    "MATCH_INVALID_FBP",
    "medium",
    "fbp not in the form fb.<subdomain index>.<13-digit ms>.<random number>: Meta cannot tie the event "
    "to the browser.",
    "Send the _fbp cookie exactly as the Pixel set it (or as Meta's Parameter Builder generates it); the "
    "tag owner should not rebuild or truncate it, as the event contract's fbp rule says.",
)
def match_invalid_fbp(store: Store, scope: Scope) -> list[Finding]:
    """Copies with a malformed fbp."""
    return [
        _copies_finding(
            "MATCH_INVALID_FBP",
            row,
            row["fbp_malformed"],
            row["copies"],
            row["fbp_examples"],
            "send a malformed fbp",
        )
        for row in _issues(store, scope)
        if row["fbp_malformed"]
    ]


#: Meta's current list of customer information parameters, as its parameters page gives it (read for issue
#: 16; the customer-information-parameters page, "Updated: Jan 9, 2026", details each). Keys outside it,
#: such as the partner_id / partner_name some integrations still send (LiveRamp), are not on it.
CUSTOMER_INFORMATION_PAGE = (
    "https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters"
)
CUSTOMER_INFORMATION_LIST: tuple[str, ...] = (
    "em: Email — Hashing required", "ph: Phone Number — Hashing required",
    "fn: First Name — Hashing required", "ln: Last Name — Hashing required", "ge: Gender — Hashing required",
    "db: Date of Birth — Hashing required", "ct: City — Hashing required", "st: State — Hashing required",
    "zp: Zip Code — Hashing required", "country: Country — Hashing required",
    "external_id: External ID — Hashing recommended", "client_ip_address: Client IP Address — Do not hash",
    "client_user_agent: Client User Agent — Do not hash", "fbc: Click ID — Do not hash",
    "fbp: Browser ID — Do not hash", "subscription_id: Subscription ID — Do not hash",
    "fb_login_id: Facebook Login ID — Do not hash", "lead_id: Lead ID — Do not hash",
    "anon_id: Install ID — Do not hash (Note: This parameter is for app events only)",
    "madid: Mobile Advertiser ID — Do not hash (Note: This parameter is for app events only)",
    "page_id: Page ID — Do not hash", "page_scoped_user_id: Page scoped user ID — Do not hash",
    "ctwa_clid: Click to WhatsApp ID — Do not hash", "ig_account_id: IG account ID — Do not hash",
    "ig_sid: Click to Instagram ID — Do not hash",
)  # fmt: skip
CUSTOMER_INFORMATION_KEYS = tuple(entry.split(":", 1)[0] for entry in CUSTOMER_INFORMATION_LIST)
#: Listed keys the store does not keep (models.MATCH_KEYS holds the other 16): a copy whose only key is one
#: of these is counted as carrying none (a known gap, said in the check's description).
UNSTORED_CUSTOMER_KEYS = tuple(key for key in CUSTOMER_INFORMATION_KEYS if key not in MATCH_KEYS)
_LIST_QUOTE = f'"{CUSTOMER_INFORMATION_LIST[0]} … {CUSTOMER_INFORMATION_LIST[-1]}"'


@check(
    "MATCH_INSUFFICIENT_KEYS",
    "critical",
    "Server copies whose only valid customer information is none at all or one of the combinations Meta "
    "calls too broad ({ct, country, st, zp, ge, client_user_agent}, {db, client_user_agent}, {fn, ge}, "
    "{ln, ge}) or a subset: Meta rejects them (code 100, subcode 2804050) and with them the whole request. "
    "Copies with no key at all get a finding of their own that quotes Meta's current list of customer "
    f"information parameters ({CUSTOMER_INFORMATION_PAGE}): a key outside it, such as partner_id or "
    "partner_name, is no customer information. Known gap: the store keeps 16 of the 25 listed keys, so a "
    f"copy whose only key is one of {', '.join(UNSTORED_CUSTOMER_KEYS)} is counted here too.",
    "Add a strong key to every server event: the hashed email or phone from the order, external_id, and "
    "the fbp / fbc cookies plus client IP forwarded by the page; make them required in the event contract.",
)
def match_insufficient_keys(store: Store, scope: Scope) -> list[Finding]:
    """Server copies with only a baseline invalid key combination: one finding for copies with no key at
    all (quoting Meta's list), one for copies whose keys are too broad."""
    findings = []
    for row in _issues(store, scope):
        if row["channel"] != "server" or not row["insufficient_keys"]:
            continue
        no_key, broad = row["no_key"], row["insufficient_keys"] - row["no_key"]
        if no_key:
            findings.append(
                _copies_finding(
                    "MATCH_INSUFFICIENT_KEYS",
                    row,
                    no_key,
                    row["copies"],
                    row["no_key_examples"],
                    "carry none of the customer information parameters Meta lists, so Meta rejects them "
                    f"(2804050). Meta's current list, {_LIST_QUOTE} ({CUSTOMER_INFORMATION_PAGE}), names "
                    f"{', '.join(CUSTOMER_INFORMATION_KEYS)}; any other user_data key (partner_id, "
                    "partner_name ...) is not customer information",
                )
            )
        if broad:
            findings.append(
                _copies_finding(
                    "MATCH_INSUFFICIENT_KEYS",
                    row,
                    broad,
                    row["copies"],
                    row["broad_examples"],
                    "carry only a combination of keys Meta calls too broad for matching (Meta rejects them: "
                    "2804050)",
                )
            )
    return findings


@check(
    "MATCH_SHARED_IP",
    "high",
    f"One client_ip_address carried by at least {SHARED_IP_MIN_USERS} distinct users and at least "
    f"{units.goal(SHARED_IP_MIN_SHARE)} of a pixel's server copies: a server, proxy or CDN address sent as "
    "the "
    "client's IP, which misleads matching.",
    "Forward the visitor's real IP (first X-Forwarded-For entry, IPv6 when available) from the page "
    "request to the server event; the owner of the server-side tagging set-up should fix the header "
    "chain, and the event contract should say where the IP comes from.",
)
def match_shared_ip(store: Store, scope: Scope) -> list[Finding]:
    """One finding per pixel with shared client IPs."""
    rows = run_quality(
        store, "quality_shared_ip", scope, min_users=SHARED_IP_MIN_USERS, min_share=SHARED_IP_MIN_SHARE
    )
    by_pixel: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        by_pixel.setdefault(row["pixel_id"], []).append(row)
    findings = []
    for pixel_id, ips in by_pixel.items():
        copies = sum(ip["copies"] for ip in ips)
        total = ips[0]["server_copies"]
        found = [e for ip in ips for e in examples(ip["examples"])]
        findings.append(
            CHECKS["MATCH_SHARED_IP"].finding(
                f"{len(ips)} client IP address(es) each shared by {min(ip['users'] for ip in ips)}+ users "
                f"(up to {max(ip['users'] for ip in ips)}) on {copies} of {total} server copies",
                count=copies,
                share=copies / total,
                examples=found[:MAX_EXAMPLES],
                pixel_id=pixel_id,
                channel="server",
            )
        )
    return findings


def _has_verdict_contract(store: Store) -> bool:
    found = store.query(
        "copy_verdicts columns",
        "select count(*) from information_schema.columns"
        " where table_name = 'copy_verdicts' and list_contains($names, column_name)",
        {"names": list(_VERDICT_CONTRACT)},
    ).scalar()
    return int(found or 0) == len(_VERDICT_CONTRACT)


@check(
    "MATCH_FBP_MISMATCH",
    "medium",
    "A conversion Meta merges across channels (shared event_id) whose browser and server copies carry "
    "different fbp values: the server side reads a stale or foreign cookie.",
    "Have the page pass the current _fbp cookie to the server with the shared event_id, and let the "
    "server event send exactly that value; the event contract should require fbp on both channels.",
)
def match_fbp_mismatch(store: Store, scope: Scope) -> list[Finding]:
    """Merged pairs whose fbp differs between the channels (the query runs once per data version, per
    day of the kept copy; ``by_day`` folds it into the scope)."""
    if not _has_verdict_contract(store):
        return []
    days = run_quality(store, "quality_fbp_mismatch", Scope())
    return [
        CHECKS["MATCH_FBP_MISMATCH"].finding(
            f"{row['mismatched']} of {row['pairs']} merged {row['event_name']} pairs carry a different "
            "fbp on each channel",
            count=row["mismatched"],
            share=row["mismatched"] / row["pairs"],
            examples=examples(row["examples"]),
            pixel_id=row["pixel_id"],
            event_name=row["event_name"],
        )
        for row in by_day.fold(
            days, scope, keys=("pixel_id", "event_name"), sums=("pairs", "mismatched"), lists=("examples",)
        )
        if row["mismatched"]
    ]
