"""The SQL platforms pybruin runs assets on, one module each, and the registry that finds them.

Platform modules import their driver only when a database is opened, so reading the registry
imports none. Adding a platform: write its module (see `base.Platform`) and list it in `PLATFORMS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pybruin.platforms.base import Platform
from pybruin.platforms.bigquery import BigQueryPlatform
from pybruin.platforms.duckdb import DuckDBPlatform
from pybruin.platforms.mysql import MySQLPlatform
from pybruin.platforms.postgres import PostgresPlatform, RedshiftPlatform
from pybruin.platforms.snowflake import SnowflakePlatform

PLATFORMS: tuple[Platform, ...] = (
    DuckDBPlatform(), PostgresPlatform(), RedshiftPlatform(), MySQLPlatform(), SnowflakePlatform(),
    BigQueryPlatform(),
)  # fmt: skip

_BY_ASSET_TYPE = {
    asset_type: platform for platform in PLATFORMS for asset_type in (*platform.asset_types, *platform.seed_types)
}
_BY_CONNECTION_TYPE = {type_key: platform for platform in PLATFORMS for type_key in platform.connection_types}

SQL_ASSET_TYPES: Mapping[str, str] = MappingProxyType(
    {asset_type: p.name for p in PLATFORMS for asset_type in p.asset_types}
)
"""SQL asset type -> the name of the platform that runs it."""
SEED_ASSET_TYPES: Mapping[str, str] = MappingProxyType(
    {asset_type: p.name for p in PLATFORMS for asset_type in p.seed_types}
)
"""Seed asset type -> the name of the platform that loads it."""
RUNNABLE_ASSET_TYPES = frozenset(SQL_ASSET_TYPES) | frozenset(SEED_ASSET_TYPES)
"""Every asset type a platform runs."""

def platform_for_asset_type(asset_type: str) -> Platform | None:
    """The platform that runs (or loads) `asset_type` assets; None for types no platform runs."""
    return _BY_ASSET_TYPE.get(asset_type)


def platform_for_connection(type_key: str) -> Platform | None:
    """The platform that runs SQL on connections of type `type_key`; None when none does."""
    return _BY_CONNECTION_TYPE.get(type_key)


__all__ = [
    "PLATFORMS",
    "RUNNABLE_ASSET_TYPES",
    "SEED_ASSET_TYPES",
    "SQL_ASSET_TYPES",
    "Platform",
    "platform_for_asset_type",
    "platform_for_connection",
]
