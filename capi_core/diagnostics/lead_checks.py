"""Lead diagnostics (SPEC §5, LEAD_*): the Lead events Meta counts against the CRM's leads.

Each check reads the typed results of ``capi_core.metrics.leads``; it never runs SQL of its own and finds
nothing when the store holds no CRM lead (without a CRM export every Lead event would look unmatched).

LEAD_LOW_QUALIFICATION: one finding for the whole scope when the qualification rate (qualified / matched
CRM leads) is under ``leads.QUALIFICATION_GOAL``, and one per utm_source + utm_campaign with at least
``leads.MIN_GROUP_LEADS`` matched leads under the goal (a single poor campaign teaches Meta to find more
of the same even when the account as a whole looks fine). The count is the matched leads that did not
qualify; examples are their CRM ids for the whole scope, the campaign for a campaign.

LEAD_UNMATCHED: counted Lead events that link to no CRM lead, when their share of the counted Lead events
passes ``leads.UNMATCHED_MAX_SHARE``; examples are their event_ids.
"""

from __future__ import annotations

from capi_core.diagnostics.registry import CHECKS, MAX_EXAMPLES, Finding, check
from capi_core.metrics import leads
from capi_core.models import Scope
from capi_core.store import Store

EVENT = "Lead"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@check(
    "LEAD_LOW_QUALIFICATION",
    "high",
    f"Few matched CRM leads qualify: the qualification rate (qualified or won / matched CRM leads) is under "
    f"{leads.QUALIFICATION_GOAL:.0%} overall or for a utm_source / utm_campaign with at least "
    f"{leads.MIN_GROUP_LEADS} matched leads. Meta optimizes on every Lead event it counts, so it learns to "
    "find more form fills like these.",
    "Send the Lead event only for leads worth optimizing on, or send a later CRM-stage event (e.g. a "
    "qualified-lead event from the CRM with the same lead id) and optimize the campaign on it; tighten the "
    "form (required fields, spam protection) and review the targeting of the campaigns named; the owner of "
    "the CRM integration keeps the stage mapping in the event contract.",
)
def lead_low_qualification(store: Store, scope: Scope) -> list[Finding]:
    """The whole scope and each judged campaign whose qualification rate is under the goal."""
    if not leads.has_leads(store):
        return []
    check_ = CHECKS["LEAD_LOW_QUALIFICATION"]
    goal = leads.QUALIFICATION_GOAL
    findings = []
    funnel = leads.lead_funnel(store, scope, EVENT)
    rate = funnel.qualification_rate
    if rate is not None and rate < goal:
        missed = funnel.matched_leads - funnel.qualified_leads
        findings.append(
            check_.finding(
                f"{funnel.qualified_leads} of {funnel.matched_leads} CRM leads matched to a {EVENT} event "
                f"qualified ({_pct(rate)}, goal {_pct(goal)})",
                count=missed,
                share=missed / funnel.matched_leads,
                examples=leads.unqualified_lead_ids(store, scope, EVENT, MAX_EXAMPLES),
                event_name=EVENT,
            )
        )
    for group in leads.lead_groups(store, scope, EVENT):
        if group.dimension != "source" or not group.below_goal:
            continue
        missed = group.matched_leads - group.qualified_leads
        findings.append(
            check_.finding(
                f"{group.label}: {group.qualified_leads} of {group.matched_leads} matched CRM leads "
                f"qualified ({_pct(group.qualification_rate)}, goal {_pct(goal)})",
                count=missed,
                share=missed / group.matched_leads,
                examples=[group.label],
                event_name=EVENT,
            )
        )
    return findings


@check(
    "LEAD_UNMATCHED",
    "medium",
    f"More than {leads.UNMATCHED_MAX_SHARE:.0%} of the Lead events Meta counts match no CRM lead (by "
    "lead_id, order_id or event_id, else fbp / hashed email within 10 minutes): spam, test or duplicate "
    "form fills that Meta optimizes on but the business never sees.",
    "Fire the Lead event after the form's server-side validation (spam filter, duplicate check) and give "
    "the browser and server copies the CRM lead id as the shared event_id, so every counted Lead is a real "
    "CRM lead; the owner of the form keeps that rule in the Lead event contract.",
)
def lead_unmatched(store: Store, scope: Scope) -> list[Finding]:
    """Counted Lead events with no CRM lead, when their share passes the threshold."""
    if not leads.has_leads(store):
        return []
    funnel = leads.lead_funnel(store, scope, EVENT)
    share = funnel.unmatched_share
    if share is None or share <= leads.UNMATCHED_MAX_SHARE:
        return []
    listed = leads.unmatched_events(store, scope, EVENT, MAX_EXAMPLES)
    examples = [e.event_id or e.fingerprint[:12] for e in listed]
    return [
        CHECKS["LEAD_UNMATCHED"].finding(
            f"{funnel.unmatched_events} of {funnel.lead_events} {EVENT} events Meta counted match no CRM "
            f"lead ({_pct(share)}, at most {_pct(leads.UNMATCHED_MAX_SHARE)} expected)",
            count=funnel.unmatched_events,
            share=share,
            examples=examples,
            event_name=EVENT,
        )
    ]
