"""``python -m capi_core`` is the ``capi-desk`` command."""

from capi_core.cli import main

raise SystemExit(main())
