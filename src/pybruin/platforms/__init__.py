"""The SQL platforms pybruin runs assets on, one module each, and the registry that finds them.

Platform modules import their driver only when a database is opened, and this registry imports a
platform's module only when that platform is asked for: a run of Python assets loads none of them.
So that finding a platform by asset type or connection type needs no import, `PLATFORM_MODULES` states
what each platform class declares (its module, asset types, seed types and connection types); the
tests check it against the classes. Adding a platform: write its module (see `base.Platform`) and add
its row to `PLATFORM_MODULES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pybruin.platforms.base import Platform

#: Each platform's name (in registry order) → its class as `module:Class`, and the `asset_types`,
#: `seed_types` and `connection_types` that class declares.
PLATFORM_MODULES: Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = MappingProxyType({
    "duckdb": ("pybruin.platforms.duckdb:DuckDBPlatform", ("duckdb.sql",), ("duckdb.seed",), ("duckdb",)),
    "postgres": ("pybruin.platforms.postgres:PostgresPlatform", ("pg.sql",), ("pg.seed",), ("postgres",)),
    "redshift": ("pybruin.platforms.postgres:RedshiftPlatform", ("rs.sql",), (), ("redshift",)),
    "mysql": ("pybruin.platforms.mysql:MySQLPlatform", ("my.sql",), ("my.seed",), ("mysql",)),
    "snowflake": ("pybruin.platforms.snowflake:SnowflakePlatform", ("sf.sql",), ("sf.seed",), ("snowflake",)),
    "bigquery": ("pybruin.platforms.bigquery:BigQueryPlatform", ("bq.sql",), ("bq.seed",), ("google_cloud_platform",)),
})  # fmt: skip

SQL_ASSET_TYPES: Mapping[str, str] = MappingProxyType(
    {asset_type: name for name, (_, asset_types, _, _) in PLATFORM_MODULES.items() for asset_type in asset_types}
)
"""SQL asset type -> the name of the platform that runs it."""
SEED_ASSET_TYPES: Mapping[str, str] = MappingProxyType(
    {asset_type: name for name, (_, _, seed_types, _) in PLATFORM_MODULES.items() for asset_type in seed_types}
)
"""Seed asset type -> the name of the platform that loads it."""
RUNNABLE_ASSET_TYPES = frozenset(SQL_ASSET_TYPES) | frozenset(SEED_ASSET_TYPES)
"""Every asset type a platform runs."""

_BY_CONNECTION_TYPE = {
    type_key: name for name, (_, _, _, connection_types) in PLATFORM_MODULES.items() for type_key in connection_types
}
_INSTANCES: dict[str, Platform] = {}


def platform(name: str) -> Platform:
    """The platform called `name` (one instance per process), its module imported on first use."""
    if name not in _INSTANCES:
        module, _, attribute = PLATFORM_MODULES[name][0].partition(":")
        # setdefault: threads asking at once all get the instance that was stored first
        _INSTANCES.setdefault(name, getattr(import_module(module), attribute)())
    return _INSTANCES[name]


def platform_for_asset_type(asset_type: str) -> Platform | None:
    """The platform that runs (or loads) `asset_type` assets; None for types no platform runs."""
    name = SQL_ASSET_TYPES.get(asset_type) or SEED_ASSET_TYPES.get(asset_type)
    return platform(name) if name else None


def platform_for_connection(type_key: str) -> Platform | None:
    """The platform that runs SQL on connections of type `type_key`; None when none does."""
    name = _BY_CONNECTION_TYPE.get(type_key)
    return platform(name) if name else None


def __getattr__(name: str) -> object:
    # `PLATFORMS` (every platform, in registry order) and `Platform` import every platform module, so they are
    # made only when asked for.
    if name == "PLATFORMS":
        return tuple(platform(each) for each in PLATFORM_MODULES)
    if name == "Platform":
        return import_module("pybruin.platforms.base").Platform
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PLATFORMS",
    "PLATFORM_MODULES",
    "RUNNABLE_ASSET_TYPES",
    "SEED_ASSET_TYPES",
    "SQL_ASSET_TYPES",
    "Platform",
    "platform",
    "platform_for_asset_type",
    "platform_for_connection",
]
