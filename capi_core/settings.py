"""Per-store settings (the ``settings`` table of schema 3): read one, write the lead event name and the
page-URL keys a store keeps besides ``privacy.URL_KEYS_KEPT``.

A store without a row behaves exactly as before settings existed. A setting the derived tables read
(``derived_recon_links.sql`` reads ``lead_event_name``) is written in the same transaction as the refresh
of those tables, so no reader ever sees the new setting with links built for the old one. The URL keys
apply to files ingested after they are set (stored URLs were masked when they were read).
"""

from __future__ import annotations

from collections.abc import Iterable

from capi_core import derived, privacy
from capi_core.errors import InputError, StoreError
from capi_core.store import Store

#: Which event marks a lead (the lead dataset of the reconciliation and of lead quality).
LEAD_EVENT_SETTING = "lead_event_name"
DEFAULT_LEAD_EVENT = "Lead"
#: The order dataset's event: a lead event of the same name would make one event two datasets.
ORDER_EVENT = "Purchase"
MAX_EVENT_NAME = 100
#: Page-URL query/fragment keys whose values this store keeps (comma-separated; privacy.mask_url).
URL_KEYS_SETTING = "url_keys_kept"


def get(store: Store, key: str) -> str | None:
    """The value of ``key``, or None when unset (or the store predates settings and is read-only)."""
    try:
        value = store.query("read setting", "select max(value) from settings where key = $key", {"key": key})
    except StoreError:
        return None  # a read-only store of schema 2 was never migrated: nothing is configured
    found = value.scalar()
    return None if found is None else str(found)


def _name_key(name: str) -> str:
    # the derived SQL matches event names by this key (case and spaces ignored)
    return name.strip().replace(" ", "").lower()


def same_event(name: str, other: str) -> bool:
    """True when the derived SQL takes ``name`` and ``other`` for one event (case and spaces ignored)."""
    return _name_key(name) == _name_key(other)


def lead_event(store: Store) -> str:
    """The event that marks a lead in ``store``: the setting, else ``Lead``."""
    return (get(store, LEAD_EVENT_SETTING) or "").strip() or DEFAULT_LEAD_EVENT


def set_lead_event(store: Store, event_name: str) -> str:
    """Make ``event_name`` the store's lead event and rebuild the derived tables (one transaction).

    Returns:
        The name stored (trimmed).

    Raises:
        InputError: the name is empty, too long, or names the order dataset's event.
    """
    name = event_name.strip()
    if not name:
        raise InputError("the lead event name is empty", hint="e.g. capi-desk leads set-event Lead")
    if len(name) > MAX_EVENT_NAME or not name.isprintable():
        raise InputError(
            "the lead event name is not a usable event name",
            hint=f"give the event name as sent to Meta, at most {MAX_EVENT_NAME} printable characters",
        )
    if _name_key(name) == _name_key(ORDER_EVENT):
        raise InputError(
            f"{ORDER_EVENT} is reconciled against orders and cannot also mark a lead",
            hint="name the event your lead form fires, e.g. Lead, CompleteRegistration or SubmitApplication",
        )
    with store.transaction() as tx:
        tx.execute("forget setting", "delete from settings where key = $key", {"key": LEAD_EVENT_SETTING})
        tx.execute(
            "write setting",
            "insert into settings values ($key, $value)",
            {"key": LEAD_EVENT_SETTING, "value": name},
        )
        derived.refresh(tx)
    return name


def url_keys(store: Store) -> tuple[str, ...]:
    """The page-URL keys ``store`` keeps besides ``privacy.URL_KEYS_KEPT`` (entries that no longer pass
    ``privacy.check_url_key`` are ignored)."""
    entries = []
    for entry in (get(store, URL_KEYS_SETTING) or "").split(","):
        try:
            entries.append(privacy.check_url_key(entry))
        except ValueError:
            continue
    return tuple(dict.fromkeys(entries))


def set_url_keys(store: Store, keys: Iterable[str]) -> tuple[str, ...]:
    """Make ``keys`` the page-URL keys ``store`` keeps besides ``privacy.URL_KEYS_KEPT`` (replacing the
    previous ones; no keys clears the setting). Files ingested afterwards keep those keys' values.

    Returns:
        The keys stored (lowercased, without repeats, without those the built-in list keeps).

    Raises:
        InputError: a key that is not letters, digits, ``_ . -`` with an optional trailing ``*``.
    """
    entries: list[str] = []
    for key in keys:
        try:
            entries.append(privacy.check_url_key(key))
        except ValueError as err:
            raise InputError(
                str(err), hint="e.g. ref_code, or promo_* for every key starting promo_"
            ) from None
    # a key the built-in list already keeps (utm_source under utm_*) is not stored again
    kept = tuple(dict.fromkeys(entry for entry in entries if not privacy.key_kept(entry)))
    with store.transaction() as tx:
        tx.execute("forget setting", "delete from settings where key = $key", {"key": URL_KEYS_SETTING})
        if kept:
            tx.execute(
                "write setting",
                "insert into settings values ($key, $value)",
                {"key": URL_KEYS_SETTING, "value": ",".join(kept)},
            )
    return kept
