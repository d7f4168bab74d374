"""The SQL platforms pybruin runs assets on, one module each, and the registry that finds them.

Platform modules import their driver only when a database is opened, so reading the registry
imports none. Adding a platform: write its module (see `base.Platform`) and list it in `PLATFORMS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pybruin.platforms.base import Platform
from pybruin.platforms.duckdb import DuckDBPlatform
from pybruin.platforms.postgres import PostgresPlatform, RedshiftPlatform

PLATFORMS: tuple[Platform, ...] = (DuckDBPlatform(), PostgresPlatform(), RedshiftPlatform())

_BY_ASSET_TYPE = {asset_type: platform for platform in PLATFORMS for asset_type in platform.asset_types}
_BY_CONNECTION_TYPE = {type_key: platform for platform in PLATFORMS for type_key in platform.connection_types}

SQL_ASSET_TYPES: Mapping[str, str] = MappingProxyType({key: p.name for key, p in _BY_ASSET_TYPE.items()})
"""SQL asset type -> the name of the platform that runs it."""

DEFAULT_CONNECTIONS: Mapping[str, str] = MappingProxyType(
    {platform.connection_types[0]: platform.default_connection for platform in PLATFORMS}
)
"""Connection type -> the connection name an asset uses when neither it nor its pipeline names one."""


def platform_for_asset_type(asset_type: str) -> Platform | None:
    """The platform that runs `asset_type` assets; None for types that are not SQL assets."""
    return _BY_ASSET_TYPE.get(asset_type)


def platform_for_connection(type_key: str) -> Platform | None:
    """The platform that runs SQL on connections of type `type_key`; None when none does."""
    return _BY_CONNECTION_TYPE.get(type_key)


def default_connection_name(asset_type: str, pipeline_defaults: Mapping[str, str]) -> str:
    """The connection of a SQL asset that names none: the pipeline's `default_connections` entry
    for its platform's connection types, else the platform's default name."""
    platform = _BY_ASSET_TYPE[asset_type]
    named = (pipeline_defaults.get(type_key) for type_key in platform.connection_types)
    return next(filter(None, named), platform.default_connection)


__all__ = [
    "DEFAULT_CONNECTIONS",
    "PLATFORMS",
    "SQL_ASSET_TYPES",
    "Platform",
    "default_connection_name",
    "platform_for_asset_type",
    "platform_for_connection",
]
