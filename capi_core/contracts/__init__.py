"""Event contracts: one pixel's rules for each event it sends, and the stored copies that break them.

- ``models``: the shape of a contract and its validation (errors named as a person finds them in YAML).
- ``library``: where a pixel's contract comes from (its YAML file, the store's saved versions, the default),
  saving a new version, and stored events checked against a contract (``contract_violations``).
- ``editor``: what the Event contracts page and ``capi-desk contracts fix`` need beyond one call: editor
  rows, previews, and the prepared fix of a violating copy.

Callers import the module they need (``from capi_core.contracts import library``); this file imports
nothing, so the contract's shape loads without the store.
"""

__all__ = ["editor", "library", "models"]
