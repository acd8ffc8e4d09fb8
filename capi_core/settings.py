"""Per-store settings (the ``settings`` table of schema 3): read one, and write the lead event name.

A store without a row behaves exactly as before settings existed. A setting the derived tables read
(``derived_recon_links.sql`` reads ``lead_event_name``) is written in the same transaction as the refresh
of those tables, so no reader ever sees the new setting with links built for the old one.
"""

from __future__ import annotations

from capi_core import derived
from capi_core.errors import InputError, StoreError
from capi_core.store import Store

#: Which event marks a lead (the lead dataset of the reconciliation and of lead quality).
LEAD_EVENT_SETTING = "lead_event_name"
DEFAULT_LEAD_EVENT = "Lead"
#: The order dataset's event: a lead event of the same name would make one event two datasets.
ORDER_EVENT = "Purchase"
MAX_EVENT_NAME = 100


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
