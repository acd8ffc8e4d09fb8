"""Signal diagnostics (SPEC §5): estimated EMQ, freshness, consent, test codes, secrets in logs.

EMQ_LOW, FRESHNESS_DELAYED and CONSENT_DENIED_SENT read the typed metrics of ``capi_core.metrics``
(per pixel); TEST_CODE_IN_PRODUCTION reads ``quality_test_codes.sql``; SECRET_IN_LOGS reads the batch
table (it is about files, so the scope does not narrow it).

TEST_CODE_IN_PRODUCTION: a pixel fires when some but fewer than ``TEST_CODE_MAX_SHARE`` of its copies in
scope carry a test_event_code; a pixel where most copies carry one is taken to be a test dataset.
"""

from __future__ import annotations

from capi_core import units
from capi_core.diagnostics.registry import CHECKS, Finding, check
from capi_core.metrics.consent import consent
from capi_core.metrics.freshness import freshness
from capi_core.metrics.match_keys import EMQ_GOAL, EMQ_LABEL
from capi_core.metrics.quality import emq_estimates
from capi_core.metrics.quality_sql import examples, run_quality
from capi_core.models import Scope
from capi_core.store import Store

TEST_CODE_MAX_SHARE = 0.5
#: Added to an EMQ_LOW message when the pixel's points were fitted to Meta's own EMQ.
FITTED_NOTE = "; points fitted to Meta's EMQ of this pixel"


def _score(score: float) -> str:
    """One decimal, or two when one would read as the goal itself (5.98 is not 6.0)."""
    text = f"{score:.1f}"
    return f"{score:.2f}" if text == f"{EMQ_GOAL:.1f}" else text


@check(
    "EMQ_LOW",
    "medium",
    f"{EMQ_LABEL} under {EMQ_GOAL} (Meta's recommended minimum) for an event with server website copies: "
    "too few strong match keys reach Meta.",
    "Send the hashed email and phone from the order or lead, external_id, the fbp / fbc cookies and the "
    "client IP and user agent with every server event; make them required in the event contract and name "
    "an owner for each key.",
)
def emq_low(store: Store, scope: Scope) -> list[Finding]:
    """Events whose estimated EMQ (each pixel's own points: fitted to Meta's EMQ where the store holds
    enough snapshots) is under the goal."""
    return [
        CHECKS["EMQ_LOW"].finding(
            f"{EMQ_LABEL} for {row.event_name} is {_score(row.score)} over {row.copies} server website "
            f"copies (goal {EMQ_GOAL}{FITTED_NOTE if row.weights == 'fitted' else ''})",
            count=row.copies,
            pixel_id=row.pixel_id,
            event_name=row.event_name,
            channel="server",
        )
        for row in emq_estimates(store, scope, by_pixel=True)
        if row.copies and row.score < EMQ_GOAL
    ]


@check(
    "FRESHNESS_DELAYED",
    "high",
    "Server copies sent 2 hours or more after the event (high: Meta sees a significant drop in "
    "performance) or 24 hours or more (critical: attribution and optimized delivery suffer).",
    "Send the server event when the conversion happens instead of in a batch job; the owner of the "
    "integration should move the send to the order / lead webhook and keep retries short, as the event "
    "contract's freshness rule says.",
)
def freshness_delayed(store: Store, scope: Scope) -> list[Finding]:
    """Per pixel x event: one high finding for 2-24 h delays and one critical finding for 24 h or more."""
    findings = []
    for row in freshness(store, scope, by_pixel=True):
        known = row.copies - row.unknown
        if row.is_total or not known:
            continue
        for count, found, severity, what in (
            (row.within_24h, row.examples_2h, "high", "2 to 24 hours"),
            (row.later, row.examples_24h, "critical", "24 hours or more"),
        ):
            if count:
                findings.append(
                    CHECKS["FRESHNESS_DELAYED"].finding(
                        f"{count} of {known} {row.event_name} server copies were sent {what} after the event",
                        count=count,
                        share=count / known,
                        examples=found,
                        severity=severity,  # type: ignore[arg-type]
                        pixel_id=row.pixel_id,
                        event_name=row.event_name,
                        channel="server",
                    )
                )
    return findings


@check(
    "CONSENT_DENIED_SENT",
    "critical",
    "Server copies sent for users whose logged consent is denied: CAPI has no consent field, so gating "
    "is the sender's duty.",
    "Apply the same consent logic to the server event as to the Pixel: the owner of the CAPI integration "
    "must check the user's consent before sending, and the event contract should state the rule.",
)
def consent_denied_sent(store: Store, scope: Scope) -> list[Finding]:
    """Server copies sent although consent is denied."""
    return [
        CHECKS["CONSENT_DENIED_SENT"].finding(
            f"{row.denied} of {row.copies} {row.event_name} server copies were sent for users who denied "
            "consent",
            count=row.denied,
            share=row.denied / row.copies,
            examples=row.denied_examples,
            pixel_id=row.pixel_id,
            event_name=row.event_name,
            channel="server",
        )
        for row in consent(store, scope, by_pixel=True)
        if row.channel == "server" and row.denied
    ]


@check(
    "TEST_CODE_IN_PRODUCTION",
    "high",
    f"Copies with a test_event_code on a pixel where under {units.goal(TEST_CODE_MAX_SHARE)} of copies carry "
    "one "
    "(a production dataset): Meta still processes test events, so they count as real conversions.",
    "Remove test_event_code from production sends; the owner of the integration should set it only from "
    "a test configuration, and the event contract should forbid it on the production pixel.",
)
def test_code_in_production(store: Store, scope: Scope) -> list[Finding]:
    """Pixels where a minority of copies carry a test_event_code."""
    return [
        CHECKS["TEST_CODE_IN_PRODUCTION"].finding(
            f"{row['with_test_code']} of {row['copies']} copies on pixel {row['pixel_id']} carry a "
            "test_event_code",
            count=row["with_test_code"],
            share=row["with_test_code"] / row["copies"],
            examples=examples(row["examples"]),
            pixel_id=row["pixel_id"],
        )
        for row in run_quality(store, "quality_test_codes", scope)
        if 0 < row["with_test_code"] < TEST_CODE_MAX_SHARE * row["copies"]
    ]


@check(
    "SECRET_IN_LOGS",
    "critical",
    "An access token was found in an ingested log file (it was stripped before storage): the token is "
    "exposed wherever those logs live.",
    "Rotate the access token now, then have the owner of the logging stop writing request URLs or bodies "
    "that carry access_token (log the event payload only); keep the token in a secret store.",
)
def secret_in_logs(store: Store, scope: Scope) -> list[Finding]:
    """Batches whose files carried access tokens (file names as examples)."""
    rows = store.query(
        "batches with secrets",
        "select file_name, secrets_stripped from batches where secrets_stripped > 0 order by batch_id",
    ).rows
    if not rows:
        return []
    count = sum(int(n) for _, n in rows)
    return [
        CHECKS["SECRET_IN_LOGS"].finding(
            f"{count} access token(s) found and stripped in {len(rows)} ingested file(s)",
            count=count,
            examples=[name for name, _ in rows],
        )
    ]
