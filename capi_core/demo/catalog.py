"""Fixed, fake vocabulary of the demo shop: products, names, places, browsers and the export header.

Everything here is invented (names from a short list, ``example.com`` mail, 555 and Ofcom drama phone
numbers, documentation IP ranges); nothing is copied from a real export except the column NAMES of
Shopify's Orders export, which are Shopify's public format. It holds data only, no logic.
"""

from __future__ import annotations

from typing import NamedTuple


class Product(NamedTuple):
    sku: str
    name: str
    handle: str
    price_cents: int


class Place(NamedTuple):
    city: str
    province: str  # code as Shopify writes it in "Billing Province"
    province_name: str
    zip: str
    country: str
    area_code: str  # US/CA area code; for GB the London code
    tax_per_mille: int  # sales tax on the subtotal, per mille (0 for exports)


PRODUCTS: tuple[Product, ...] = (
    Product("DS-TEE-BLK", "Organic Cotton Tee - Black", "organic-cotton-tee", 2400),
    Product("DS-TEE-WHT", "Organic Cotton Tee - White", "organic-cotton-tee-white", 2400),
    Product("DS-HOOD-GRY", "Fleece Hoodie - Grey", "fleece-hoodie", 5800),
    Product("DS-CAP-NVY", "Canvas Cap - Navy", "canvas-cap", 2200),
    Product("DS-SOCK-3PK", "Merino Socks (3 pack)", "merino-socks", 1800),
    Product("DS-MUG-12", "Enamel Mug 12oz", "enamel-mug", 1600),
    Product("DS-BAG-TOTE", "Canvas Tote", "canvas-tote", 2000),
    Product("DS-JKT-OLV", "Field Jacket - Olive", "field-jacket", 12900),
    Product("DS-BTL-750", "Steel Bottle 750ml", "steel-bottle", 2800),
    Product("DS-BEAN-RED", "Knit Beanie - Red", "knit-beanie", 1900),
)

#: (first name, gender initial) — a short fixed list, so every customer is obviously synthetic.
FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("Ava", "f"), ("Ben", "m"), ("Chloe", "f"), ("Daniel", "m"), ("Ella", "f"), ("Felix", "m"),
    ("Grace", "f"), ("Hugo", "m"), ("Isla", "f"), ("Jack", "m"), ("Kai", "m"), ("Lena", "f"),
    ("Mia", "f"), ("Noah", "m"), ("Olive", "f"), ("Paul", "m"), ("Quinn", "f"), ("Ruby", "f"),
    ("Sam", "m"), ("Tess", "f"), ("Uma", "f"), ("Victor", "m"), ("Wren", "f"), ("Zoe", "f"),
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Archer", "Baker", "Carter", "Dawson", "Ellis", "Foster", "Garcia", "Hughes", "Irwin", "Jensen",
    "Keller", "Lopez", "Morgan", "Nolan", "Ortiz", "Parker", "Reyes", "Shaw", "Turner", "Walsh",
)  # fmt: skip
STREETS: tuple[str, ...] = ("Maple", "Oak", "Cedar", "Elm", "Birch", "Willow", "Pine", "Aspen", "Hazel")
STREET_KINDS: tuple[str, ...] = ("St", "Ave", "Rd", "Ln", "Blvd")
MAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")

US_PLACES: tuple[Place, ...] = (
    Place("New York", "NY", "New York", "10001", "US", "212", 89),
    Place("Brooklyn", "NY", "New York", "11201", "US", "718", 89),
    Place("Los Angeles", "CA", "California", "90012", "US", "213", 95),
    Place("San Diego", "CA", "California", "92101", "US", "619", 78),
    Place("Austin", "TX", "Texas", "78701", "US", "512", 83),
    Place("Chicago", "IL", "Illinois", "60601", "US", "312", 103),
    Place("Seattle", "WA", "Washington", "98101", "US", "206", 104),
    Place("Miami", "FL", "Florida", "33130", "US", "305", 70),
    Place("Boston", "MA", "Massachusetts", "02108", "US", "617", 63),
    Place("Denver", "CO", "Colorado", "80202", "US", "303", 88),
    Place("Atlanta", "GA", "Georgia", "30303", "US", "404", 89),
    Place("Philadelphia", "PA", "Pennsylvania", "19103", "US", "215", 80),
    Place("Newark", "NJ", "New Jersey", "07102", "US", "973", 66),
)
CA_PLACE = Place("Toronto", "ON", "Ontario", "M5V 2T6", "CA", "416", 0)
GB_PLACE = Place("London", "", "", "SW1A 1AA", "GB", "20", 0)

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:143.0) Gecko/20100101 Firefox/143.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 Instagram 400.0.0.0.0",
)

#: Fake secrets and markers the defects use; obviously not real.
FAKE_ACCESS_TOKEN = "EAAdemo0000000FAKE0TOKEN0for0capi0signal0desk0000"
SERVER_IP = "10.0.0.5"
TEST_EVENT_CODE = "TEST48213"

#: Column names of Shopify's admin Orders export (79 columns, current layout), in order.
SHOPIFY_COLUMNS: tuple[str, ...] = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
    "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street",
    "Billing Address1", "Billing Address2", "Billing Company", "Billing City", "Billing Zip",
    "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes",
    "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount", "Vendor",
    "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags", "Risk Level", "Source",
    "Lineitem discount", "Tax 1 Name", "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name",
    "Tax 3 Value", "Tax 4 Name", "Tax 4 Value", "Tax 5 Name", "Tax 5 Value", "Phone", "Receipt Number",
    "Duties", "Billing Province Name", "Shipping Province Name", "Payment ID", "Payment Terms Name",
    "Next Payment Due At", "Payment References",
)  # fmt: skip
