"""Shopify admin Orders export rows of the demo shop, with the messy shapes real exports carry.

One row per line item, order-level columns only on an order's first row (as Shopify writes them),
emails and phones in mixed shapes (Excel apostrophes, spaces, capitals), cookies in Note Attributes.
Owns the row layout only; which orders exist and what they contain is ``shop.py``'s job.
"""

from __future__ import annotations

import random

from capi_core.demo.catalog import SHOPIFY_COLUMNS
from capi_core.demo.config import DemoConfig
from capi_core.demo.shop import DAY_MS, Customer, Order, shop_time, to_ms

_COLUMN_INDEX = {name: i for i, name in enumerate(SHOPIFY_COLUMNS)}
_HOUR_MS = 3_600_000


def money(cents: int) -> str:
    """Cents as Shopify writes amounts: ``77.93``."""
    return f"{cents // 100}.{cents % 100:02d}"


def _zip(rng: random.Random, who: Customer) -> str:
    code = who.place.zip
    if who.place.country != "US":
        return code
    u = rng.random()
    if (code.startswith("0") and u < 0.7) or u < 0.15:
        return f"'{code}"  # Excel keeps leading zeros this way
    if u < 0.25:
        return f"{code}-{rng.randrange(1000, 10000)}"
    return code


def _name(rng: random.Random, who: Customer) -> str:
    name = f"{who.first_name} {who.last_name}"
    u = rng.random()
    return name.upper() if u < 0.03 else f"{name} " if u < 0.05 else name


def note_attributes(order: Order) -> str:
    """The cookie lines a tracking app writes into the order's Note Attributes."""
    if not order.cookies_in_note:
        return ""
    lines = [f"_fbp: {order.fbp}"]
    if order.fbc:
        lines.append(f"_fbc: {order.fbc}")
        lines.append("utm_source: facebook")
    return "\n".join(lines)


def _status_columns(config: DemoConfig, order: Order) -> dict[str, str]:
    settled = order.status in ("paid", "partially_refunded", "refunded")
    end_ms = to_ms(config.period_end)
    fulfilled = settled and order.created_ms < end_ms - 3 * DAY_MS
    refunded = {"refunded": order.total_cents, "partially_refunded": order.items[0][0].price_cents}
    return {
        "Financial Status": order.status,
        "Paid at": shop_time(order.created_ms + 1000) if settled else "",
        "Fulfillment Status": "fulfilled" if fulfilled else "unfulfilled",
        "Fulfilled at": shop_time(order.created_ms + 2 * DAY_MS) if fulfilled else "",
        "Cancelled at": shop_time(order.created_ms + 2 * _HOUR_MS) if order.status == "voided" else "",
        "Refunded Amount": money(refunded.get(order.status, 0)),
        "Outstanding Balance": money(order.total_cents) if order.status == "pending" else "0.00",
    }


def _address_columns(rng: random.Random, order: Order) -> dict[str, str]:
    who = order.customer
    name, zip_code, phone = _name(rng, who), _zip(rng, who), order.billing_phone
    place = who.place
    columns: dict[str, str] = {}
    for side in ("Billing", "Shipping"):
        columns.update({
            f"{side} Name": name, f"{side} Street": who.street, f"{side} Address1": who.street,
            f"{side} City": place.city, f"{side} Zip": zip_code, f"{side} Province": place.province,
            f"{side} Country": place.country, f"{side} Phone": phone,
            f"{side} Province Name": place.province_name,
        })  # fmt: skip
    columns["Phone"] = f"+{who.phone_digits}" if phone and rng.random() < 0.6 else ""
    return columns


def _order_columns(config: DemoConfig, rng: random.Random, order: Order) -> dict[str, str]:
    # RECON_MISSING orders are web orders paid by bank transfer (a manual payment method), which the
    # demo's server integration does not send; a staff draft order would not be eligible at all
    manual = order.defect == "RECON_MISSING"
    method = (
        "manual"
        if manual or order.status == "pending"
        else rng.choice(
            ("Shopify Payments", "Shopify Payments", "PayPal Express Checkout", "Shop Pay Installments")
        )
    )
    reference = f"c{order.created_ms // 1000}{order.index % 1000:03d}.1"
    columns = {
        "Accepts Marketing": "yes" if rng.random() < 0.6 else "no",
        "Currency": config.currency,
        "Subtotal": money(order.subtotal_cents),
        "Shipping": money(order.shipping_cents),
        "Taxes": money(order.tax_cents),
        "Total": money(order.total_cents),
        "Discount Code": "WELCOME10" if order.discount_cents else "",
        "Discount Amount": money(order.discount_cents),
        "Shipping Method": "Standard" if order.shipping_cents else "Free shipping",
        "Note Attributes": note_attributes(order),
        "Payment Method": method,
        "Payment Reference": reference,
        "Id": str(6_400_000_000_000 + order.index * 37),
        "Tags": "",
        "Risk Level": "Low",
        "Source": "web",
        "Tax 1 Name": f"{order.customer.place.province} Sales Tax" if order.tax_cents else "",
        "Tax 1 Value": money(order.tax_cents) if order.tax_cents else "",
        "Payment ID": reference,
        "Payment References": reference,
    }
    columns.update(_status_columns(config, order))
    columns.update(_address_columns(rng, order))
    return columns


def order_rows(config: DemoConfig, order: Order, rng: random.Random) -> list[list[str]]:
    """The export rows of one order: one per line item, order columns on the first only."""
    common = {"Name": order.name, "Email": order.email, "Created at": shop_time(order.created_ms)}
    first = _order_columns(config, rng, order)
    item_status = "fulfilled" if first["Fulfillment Status"] == "fulfilled" else "pending"
    rows = []
    for position, (product, qty) in enumerate(order.items):
        values = dict(common)
        if position == 0:
            values.update(first)
        values.update({
            "Lineitem quantity": str(qty), "Lineitem name": product.name,
            "Lineitem price": money(product.price_cents), "Lineitem compare at price": "",
            "Lineitem sku": product.sku, "Lineitem requires shipping": "true", "Lineitem taxable": "true",
            "Lineitem fulfillment status": item_status, "Vendor": "Demo Shop", "Lineitem discount": "0.00",
        })  # fmt: skip
        row = [""] * len(SHOPIFY_COLUMNS)
        for column, value in values.items():
            row[_COLUMN_INDEX[column]] = value
        rows.append(row)
    return rows
