"""Per-store settings (the ``settings`` table of schema 3): read one, write the lead event name, the
page-URL keys a store keeps besides ``privacy.URL_KEYS_KEPT``, the order channels no pixel sees, and the
currency the reconciliation reports values in with the rates that convert others into it.

A store without a row behaves exactly as before settings existed. A setting the derived tables read
(``derived_recon_links.sql`` reads ``lead_event_name``, ``derived_recon_truth.sql`` the order channels) is
written in the same transaction as the refresh of those tables, so no reader ever sees the new setting
with links built for the old one. The URL keys apply to files ingested after they are set (stored URLs
were masked when they were read). The currency and rates are read by the reconciliation at report time.
"""

from __future__ import annotations

import math
import re
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
#: Order sales channels (lowercased, comma-separated) the store excludes from eligibility besides the
#: built-in ones (reconcile.NON_PIXEL_CHANNELS), and built-in ones it puts back; read by
#: derived_recon_truth.sql under these names.
CHANNELS_EXCLUDED_SETTING = "order_channels_excluded"
CHANNELS_INCLUDED_SETTING = "order_channels_included"
MAX_CHANNEL = 128
#: The currency the reconciliation reports values in, and the rates (``CAD=0.73,EUR=1.08``: one unit of
#: each, in that currency) that convert other currencies into it.
REPORT_CURRENCY_SETTING = "report_currency"
CURRENCY_RATES_SETTING = "currency_rates"
_CURRENCY = re.compile(r"[A-Z]{3}")


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


def _listed(key: str, store: Store) -> tuple[str, ...]:
    return tuple(entry for entry in (get(store, key) or "").split(",") if entry)


def order_channels(store: Store) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The store's own order-channel rules: (channels it excludes, built-in exclusions it puts back)."""
    return _listed(CHANNELS_EXCLUDED_SETTING, store), _listed(CHANNELS_INCLUDED_SETTING, store)


def check_channel(channel: str) -> str:
    """``channel`` as the derived SQL compares it (trimmed, lowercased).

    Raises:
        InputError: empty, longer than ``MAX_CHANNEL``, not printable, or holding a comma.
    """
    name = channel.strip().lower()
    if not name or len(name) > MAX_CHANNEL or not name.isprintable() or "," in name:
        raise InputError(
            f"{channel[:40]!r} is not a sales channel name",
            hint="give the channel as the export writes it (Shopify Source, WooCommerce created_via), "
            "e.g. tiktok, pos or 5776891",
        )
    return name


def set_order_channels(
    store: Store, *, exclude: Iterable[str] = (), include: Iterable[str] = (), reset: Iterable[str] = ()
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Exclude channels from eligibility, put built-in exclusions back, or return channels to the built-in
    rule (``reset``), then rebuild the reconciliation (one transaction).

    Returns:
        The store's rules afterwards, as ``order_channels`` gives them.

    Raises:
        InputError: a channel name ``check_channel`` refuses, or one named more than once.
    """
    wishes = [
        (check_channel(channel), wish)
        for wish, channels in (("reset", reset), ("exclude", exclude), ("include", include))
        for channel in channels
    ]
    named = [channel for channel, _ in wishes]
    twice = sorted({channel for channel in named if named.count(channel) > 1})
    if twice:
        raise InputError(f"{', '.join(twice)}: named more than once", hint="name each channel once")
    excluded, included = order_channels(store)
    excluded = (*(c for c in excluded if c not in named), *(c for c, w in wishes if w == "exclude"))
    included = (*(c for c in included if c not in named), *(c for c, w in wishes if w == "include"))
    with store.transaction() as tx:
        for key, channels in ((CHANNELS_EXCLUDED_SETTING, excluded), (CHANNELS_INCLUDED_SETTING, included)):
            tx.execute("forget setting", "delete from settings where key = $key", {"key": key})
            if channels:
                tx.execute(
                    "write setting",
                    "insert into settings values ($key, $value)",
                    {"key": key, "value": ",".join(channels)},
                )
        derived.refresh_reconciliation(tx)
    return excluded, included


def _currency(code: str) -> str:
    value = code.strip().upper()
    if not _CURRENCY.fullmatch(value):
        raise InputError(f"{code[:20]!r} is not an ISO 4217 currency code", hint="e.g. USD, EUR, CAD")
    return value


def report_currency(store: Store) -> tuple[str | None, dict[str, float]]:
    """The currency the store's reconciliation reports values in (None: the records' own) and the rates
    converting others into it (one unit of each, in that currency); entries that no longer parse are
    ignored."""
    currency = get(store, REPORT_CURRENCY_SETTING)
    rates: dict[str, float] = {}
    for entry in (get(store, CURRENCY_RATES_SETTING) or "").split(","):
        code, _, rate = entry.partition("=")
        try:
            value = float(rate)
            rates[_currency(code)] = value
        except (ValueError, InputError):
            continue
    return (currency or None), (rates if currency else {})


def set_report_currency(store: Store, currency: str | None, rates: dict[str, float] | None = None) -> None:
    """Report values in ``currency``, converting the currencies of ``rates`` into it (one unit of each, in
    ``currency``); ``None`` goes back to the records' own currency, without conversion.

    Raises:
        InputError: a code that is not three letters, a rate that is not a positive finite number, or a
            rate given without a currency.
    """
    code = _currency(currency) if currency is not None else None
    checked: dict[str, float] = {}
    for other, rate in (rates or {}).items():
        if code is None:
            raise InputError(
                "a rate needs the currency it converts into", hint="e.g. currency set USD --rate CAD=0.73"
            )
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise InputError(f"the rate of {other} is not a positive number", hint="e.g. --rate CAD=0.73")
        checked[_currency(other)] = float(rate)
    checked.pop(code or "", None)
    with store.transaction() as tx:
        for key in (REPORT_CURRENCY_SETTING, CURRENCY_RATES_SETTING):
            tx.execute("forget setting", "delete from settings where key = $key", {"key": key})
        if code is not None:
            tx.execute(
                "write setting", "insert into settings values ($key, $value)",
                {"key": REPORT_CURRENCY_SETTING, "value": code},
            )  # fmt: skip
        if checked:
            tx.execute(
                "write setting", "insert into settings values ($key, $value)",
                {"key": CURRENCY_RATES_SETTING, "value": ",".join(f"{c}={r!r}" for c, r in checked.items())},
            )  # fmt: skip
