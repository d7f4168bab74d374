"""Which connection an asset runs on, as upstream Bruin decides it.

A platform asset (`duckdb.sql`, `pg.seed`, `bq.sql`, ...) runs on its own `connection:`, else on the pipeline's
`default_connections` entry for its platform, else on the platform's default name (`duckdb-default`,
`gcp-default`, ...). Other assets (Python, R, `empty`) run on their own `connection:` only. This is pipeline
knowledge, independent of whether pybruin can run the platform yet: it is the same for every command.
"""

from __future__ import annotations

from types import MappingProxyType

from pybruin.pipeline.model import Asset, Pipeline

#: The part of an asset type before the first dot, for platform assets → the connection type they run on.
PLATFORM_CONNECTION_TYPES = MappingProxyType(
    {
        "athena": "athena",
        "bq": "google_cloud_platform",
        "clickhouse": "clickhouse",
        "databricks": "databricks",
        "doris": "doris",
        "dremio": "dremio",
        "duckdb": "duckdb",
        "fabric": "fabric",
        "fw": "fabric",
        "motherduck": "motherduck",
        "ms": "mssql",
        "my": "mysql",
        "oracle": "oracle",
        "pg": "postgres",
        "rs": "redshift",
        "sail": "sail",
        "sf": "snowflake",
        "spark": "spark",
        "starrocks": "starrocks",
        "synapse": "synapse",
        "trino": "trino",
        "vertica": "vertica",
    }
)

# Upstream's default names are `<type>-default` but for these.
_DEFAULT_NAME_EXCEPTIONS = MappingProxyType(
    {"google_cloud_platform": "gcp-default", "google_sheets": "google-sheets-default"}
)


def platform_connection_type(asset_type: str) -> str | None:
    """The connection type a platform asset type runs on (`pg.sql` → `postgres`); None for other types."""
    prefix, dot, _ = asset_type.partition(".")
    return PLATFORM_CONNECTION_TYPES.get(prefix) if dot else None


def default_connection_name(connection_type: str) -> str:
    """The connection a platform falls back to when neither the asset nor the pipeline names one."""
    return _DEFAULT_NAME_EXCEPTIONS.get(connection_type, f"{connection_type}-default")


def effective_connection(asset: Asset, pipeline: Pipeline) -> str | None:
    """The connection `asset` runs on, or None when it runs on none (a Python asset without `connection:`)."""
    if asset.connection:
        return asset.connection
    connection_type = platform_connection_type(asset.type)
    if connection_type is None:
        return None
    return pipeline.default_connections.get(connection_type) or default_connection_name(connection_type)
