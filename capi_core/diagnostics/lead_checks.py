"""Lead diagnostics (SPEC §5, LEAD_*): the Lead events Meta counts against the CRM's leads.

Each check reads the typed results of ``capi_core.metrics.leads``; it never runs SQL of its own and finds
nothing when the store holds no CRM lead (without a CRM export every Lead event would look unmatched).
"Lead event" means the store's lead event (``Lead`` unless set otherwise: ``capi-desk leads set-event``).

LEAD_LOW_QUALIFICATION: the goal is on the qualified share of Lead events (counted Lead events whose CRM
lead qualified / counted Lead events: what Meta learns from), the ratio the headline and the page judge.
One finding for the whole scope when it is under ``leads.QUALIFICATION_GOAL``, counting the Lead events
that did not become qualified leads (examples: the CRM ids of matched leads that did not qualify, then the
event_ids of Lead events with no CRM lead); and one per utm_source + utm_campaign with at least
``leads.MIN_GROUP_LEADS`` matched leads under the goal (a single poor campaign teaches Meta to find more of
the same even when the account as a whole looks fine), counting the campaign's Lead events whose lead did
not qualify; its example is the campaign.

LEAD_UNMATCHED: counted Lead events that link to no CRM lead, when their share of the counted Lead events
passes ``leads.UNMATCHED_MAX_SHARE``; examples are their event_ids.
"""

from __future__ import annotations

from capi_core import units
from capi_core.diagnostics.registry import CHECKS, MAX_EXAMPLES, Finding, check
from capi_core.metrics import leads
from capi_core.models import Scope
from capi_core.store import Store


@check(
    "LEAD_LOW_QUALIFICATION",
    "high",
    f"Few of the Lead events Meta counts become qualified leads: the qualified share of Lead events (counted "
    f"Lead events whose CRM lead qualified or was won / counted Lead events) is under "
    f"{units.goal(leads.QUALIFICATION_GOAL)} overall or for a utm_source / utm_campaign with at least "
    f"{leads.MIN_GROUP_LEADS} matched leads. Meta optimizes on every Lead event it counts, so it learns to "
    "find more form fills like these.",
    "Send the Lead event only for leads worth optimizing on, or send a later CRM-stage event (e.g. a "
    "qualified-lead event from the CRM with the same lead id) and optimize the campaign on it; tighten the "
    "form (required fields, spam protection) and review the targeting of the campaigns named; the owner of "
    "the CRM integration keeps the stage mapping in the event contract.",
)
def lead_low_qualification(store: Store, scope: Scope) -> list[Finding]:
    """The whole scope and each judged campaign whose qualified share of Lead events is under the goal."""
    if not leads.has_leads(store):
        return []
    check_ = CHECKS["LEAD_LOW_QUALIFICATION"]
    goal = leads.QUALIFICATION_GOAL
    event = leads.lead_dataset(store)
    findings = []
    funnel = leads.lead_funnel(store, scope, event)
    share = funnel.qualified_event_share
    if funnel.matched_events and share is not None and share < goal:
        missed = funnel.lead_events - funnel.qualified_events
        examples = leads.unqualified_lead_ids(store, scope, event, MAX_EXAMPLES)
        if len(examples) < MAX_EXAMPLES:
            unmatched = leads.unmatched_events(store, scope, event, MAX_EXAMPLES - len(examples))
            examples += [e.event_id or e.fingerprint[:12] for e in unmatched]
        findings.append(
            check_.finding(
                f"{funnel.qualified_events} of {funnel.lead_events} {event} events Meta counted became "
                f"qualified CRM leads ({units.share(share)}, goal {units.goal(goal)}); qualification rate of "
                f"matched CRM leads {units.share(funnel.qualification_rate)}",
                count=missed,
                share=missed / funnel.lead_events,
                examples=examples,
                event_name=event,
            )
        )
    for group in leads.lead_groups(store, scope, event):
        if group.dimension != "source" or not group.below_goal:
            continue
        missed = group.lead_events - group.qualified_events
        findings.append(
            check_.finding(
                f"{group.label}: {group.qualified_events} of {group.lead_events} {event} events became "
                f"qualified CRM leads ({units.share(group.qualified_event_share)}, goal {units.goal(goal)})",
                count=missed,
                share=missed / group.lead_events,
                examples=[group.label],
                event_name=event,
            )
        )
    return findings


@check(
    "LEAD_UNMATCHED",
    "medium",
    f"More than {units.goal(leads.UNMATCHED_MAX_SHARE)} of the Lead events Meta counts match no CRM lead (by "
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
    event = leads.lead_dataset(store)
    funnel = leads.lead_funnel(store, scope, event)
    share = funnel.unmatched_share
    if share is None or share <= leads.UNMATCHED_MAX_SHARE:
        return []
    listed = leads.unmatched_events(store, scope, event, MAX_EXAMPLES)
    examples = [e.event_id or e.fingerprint[:12] for e in listed]
    return [
        CHECKS["LEAD_UNMATCHED"].finding(
            f"{funnel.unmatched_events} of {funnel.lead_events} {event} events Meta counted match no CRM "
            f"lead ({units.share(share)}, at most {units.goal(leads.UNMATCHED_MAX_SHARE)} expected)",
            count=funnel.unmatched_events,
            share=share,
            examples=examples,
            event_name=event,
        )
    ]
