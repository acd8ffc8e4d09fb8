"""The report's words and numbers: one formatter per kind of figure, the plain names of Meta's terms, and
the sentences that explain what a figure leaves out.

Every figure the Markdown and the HTML show goes through ``capi_core.units`` (re-exported here:
``share`` ``42.3 %``, ``signed_share`` ``+42.3 %``, ``count`` ``1,391``, ``money`` ``USD 1,234.56``,
``score`` ``6.1 / 10``), so one report never shows one kind of number two ways, nor a fraction beside a
percentage. ``name`` shows an event name so that two names differing only by spacing or invisible
characters never look alike. Owns no figure: every value comes from the report model. Escaping for
Markdown / HTML is the renderers' job.
"""

from __future__ import annotations

from capi_core.metrics import reconcile
from capi_core.weekly_review import event_label


def name(value: str | None) -> str:
    """An event name as sent: quoted, with escapes, when it has surrounding spaces or characters one cannot
    see (``"AddToCart "``), so it never looks like the standard name; ``(no name)`` for none (the weekly
    review's ``event_label``, shared)."""
    return event_label(value)


#: Plain names of the waterfall's steps (``reconcile.WaterfallStep.step``); ``{kind}`` is order or lead.
WATERFALL_STEPS = {
    "truth": "Backend {kind}s",
    "eligible": "Eligible (paid, consent not denied, not a test)",
    "reached_meta": "Reached Meta (Pixel or Conversions API)",
    "has_server_copy": "Sent by the server too (Conversions API)",
    "merged_correctly": "Browser and server copy merged into one (Meta: deduplicated)",
    "counted_exactly_once": "Counted exactly once",
}


def step_name(step: str, kind: str) -> str:
    """The plain name of a waterfall step."""
    return WATERFALL_STEPS.get(step, step.replace("_", " ")).format(kind=kind)


#: What the figures the report shows mean, for the closing glossary (plain name, then Meta's term).
GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "Share of browser events with a server copy (Meta: event coverage)",
        "Unique Pixel events that share event_id, external_id or fbp with a server copy Meta accepted, same "
        "pixel and event name. Meta asks for 75 % or more.",
    ),
    (
        "Pairs merged (our dedup health)",
        "Conversions sent on both channels that Meta merges into one / all conversions sent on both "
        "channels. 100 % means nothing sent twice is counted twice.",
    ),
    (
        "Meta vs backend (count gap)",
        "(what Meta counts − eligible backend records) / eligible backend records. +42.3 % means Meta counts "
        "42.3 % more conversions than happened. Within ±5 % is fine.",
    ),
    (
        "Delivered to Meta (our 'accuracy')",
        "Eligible backend records that reached Meta at least once / eligible backend records. It says "
        "nothing about double counting: 98.6 % delivered can sit beside a 42 % overcount.",
    ),
    (
        "Estimated EMQ (Meta: Event Match Quality)",
        "Our estimate, on Meta's 0–10 scale, of how well server events can be matched to people, from the "
        "match keys each copy carries — not Meta's own score. Meta advises 6.0 or more.",
    ),
    (
        "Sent within an hour (Meta: data freshness)",
        "Server copies sent less than an hour after the event. Meta warns past 2 hours; attribution "
        "suffers from 24 hours.",
    ),
)


def recon_notes(summary: reconcile.ReconSummary) -> list[str]:
    """What the reconciliation table's figures leave out, one sentence each: the currencies not added to
    the headline (never EUR + USD) or converted into it, and the orders each sales channel keeps out of
    eligibility or lets in without our knowing it."""
    notes: list[str] = []
    apart = [v for v in summary.values_by_currency if v.rate is None]
    if apart:
        listed = "; ".join(
            f"{v.currency}: backend {v.truth_value:,.2f} ({v.truth_count} records), "
            f"Meta {v.meta_value:,.2f} ({v.meta_count} copies)"
            for v in apart
        )
        notes.append(f"{summary.event_name} values are in {summary.currency}; not added: {listed}.")
    converted = [
        v for v in summary.values_by_currency if v.currency not in (None, summary.currency) and v.rate
    ]
    if converted:
        rates = ", ".join(f"1 {v.currency} = {v.rate:g} {summary.currency}" for v in converted)
        notes.append(f"{summary.event_name} values include other currencies at the store's rates: {rates}.")
    excluded = [c for c in summary.channels if not c.eligible and c.orders]
    if excluded:
        listed = ", ".join(f"{c.channel} {c.orders}" for c in excluded)
        notes.append(f"Orders not eligible, from sales channels no pixel sees: {listed}.")
    unplaced = [c for c in summary.channels if c.rule == "unplaced" and c.orders]
    if unplaced:
        listed = ", ".join(f"{c.channel} {c.orders}" for c in unplaced)
        notes.append(
            f"Orders counted as eligible from sales channels we cannot place: {listed} "
            "(run capi-desk channels exclude CHANNEL for one no pixel sees)."
        )
    return notes
