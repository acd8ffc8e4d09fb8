"""Meta's click key from what shop and CRM exports keep of an ad click: an ``fbc`` built from an fbclid.

Exports rarely keep the ``_fbc`` cookie, but many keep the click id itself: HubSpot's ``Facebook click
id`` property, an ``fbclid`` in a landing-page URL (HubSpot's ``First Page Seen``, WooCommerce's order
attribution ``session_entry``) or in a tracking app's note (Elevar's ``_elevar_visitor_info``). Meta
documents how to build the parameter from it when the cookie is missing: ``fb.1.<creation time in
milliseconds>.<fbclid>``, the creation time being when the click id was first seen. Readers pass the
earliest time their export shows for that (the session start, the contact's first visit, else the record's
creation), so the key is as Meta would build it; a value that is already an ``fbc`` is kept as it is.

Parses only: the value is stored like any ``fbc`` (never hashed; ``canonical.py`` checks its shape).
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qsl, urlsplit

#: An fbclid as Meta issues it: URL-safe characters only (no dots: they separate an fbc's parts).
_FBCLID = re.compile(r"^[A-Za-z0-9_-]{8,500}$")
_FBC = re.compile(r"^fb\.\d\.\d{13}\.[^.\s]+")
#: Meta's subdomain index of a click id seen on the site's registrable domain (``example.com``).
SUBDOMAIN_INDEX = 1


def fbclid_in_url(url: str | None) -> str | None:
    """The ``fbclid`` query value of a page URL, or None (no URL, no such key, not a click id)."""
    if not url or "fbclid" not in url:
        return None
    try:
        query = urlsplit(url.strip()).query
    except ValueError:
        return None
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "fbclid" and _FBCLID.match(value.strip()):
            return value.strip()
    return None


def fbc_from_click(click: str | None, seen_at: dt.datetime | None) -> str | None:
    """The ``fbc`` for a click id first seen at ``seen_at`` (naive = UTC): ``fb.1.<ms>.<fbclid>``.

    ``click`` may already be an ``fbc`` (kept as given) or a URL carrying ``fbclid``. None when there is
    no usable click id, or no time to date it by (an fbc without its creation time would be invented).
    """
    text = (click or "").strip()
    if not text:
        return None
    if _FBC.match(text):
        return text
    fbclid = fbclid_in_url(text) if "fbclid=" in text else text
    if fbclid is None or not _FBCLID.match(fbclid) or seen_at is None:
        return None
    moment = seen_at if seen_at.tzinfo else seen_at.replace(tzinfo=dt.UTC)
    return f"fb.{SUBDOMAIN_INDEX}.{int(moment.timestamp() * 1000):013d}.{fbclid}"
