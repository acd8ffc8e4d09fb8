"""Query engines behind the ``Store`` interface: DuckDB (the default, ``capi_core.store``) and Spark."""
