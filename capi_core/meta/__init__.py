"""Everything that talks to Meta or imitates it.

- ``graph_api``: the Graph API client (one ``httpx`` client, the token in a header, Meta's retry rules).
- ``preflight``: Meta's documented rules for server events, checked before anything is sent.
- ``push``: sending test events (pre-flight first) and the push log.
- ``corrections``: one stored copy rebuilt as Meta's payload, with the fixes a specialist would make.
- ``dataset_quality``: Meta's Dataset Quality API, parsed and kept as dated snapshots.
- ``sandbox``: a local stand-in for the ``/events`` edge on 127.0.0.1, validating like Meta.

Callers import the module they need (``from capi_core.meta import push``); this file imports nothing,
so reading a saved Dataset Quality file never loads the HTTP client.
"""

__all__ = ["corrections", "dataset_quality", "graph_api", "preflight", "push", "sandbox"]
