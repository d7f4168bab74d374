"""The platform registry, asset targets and quoting per platform, strategy lookup, and driver-message scrubbing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pybruin.config.connections import Connection, build_connection
from pybruin.errors import BruinError
from pybruin.platforms import (
    PLATFORM_MODULES,
    PLATFORMS,
    SQL_ASSET_TYPES,
    platform_for_asset_type,
    platform_for_connection,
)
from pybruin.platforms.ansi import STRATEGIES, AnsiPlatform, append_to_table, create_view, replace_table
from pybruin.platforms.base import Platform, Strategy
from pybruin.platforms.duckdb import DuckDBPlatform
from pybruin.platforms.postgres import PostgresPlatform, RedshiftPlatform
from pybruin.platforms.run import Databases

PASSWORD = "s3cr3t-Canary'pw"


def connection(type_key: str, **fields: object) -> Connection:
    return build_connection(type_key, {"name": "conn", **fields}, base_dir=None, environ={})


def test_the_registry_imports_no_driver() -> None:
    code = """
import sys
import pybruin.platforms as registry
from pybruin.config.connections import build_connection
tables = dict(registry.SQL_ASSET_TYPES)
for platform in registry.PLATFORMS:
    for type_key in platform.connection_types:
        conn = build_connection(type_key, {"name": "c", "path": "x.db"}, base_dir=None, environ={})
        assert registry.platform_for_connection(type_key) is platform
        platform.target("s.t", conn, "dev_"), platform.strategy({"type": "table"})
print(sorted({"duckdb", "psycopg"} & set(sys.modules)))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", PLATFORM_MODULES)
def test_the_registrys_table_states_what_each_platform_class_declares(name: str) -> None:
    where, asset_types, seed_types, connection_types = PLATFORM_MODULES[name]
    platform = next(platform for platform in PLATFORMS if platform.name == name)
    assert where == f"{type(platform).__module__}:{type(platform).__name__}"
    assert (asset_types, seed_types, connection_types) == (
        platform.asset_types, platform.seed_types, platform.connection_types,
    )  # fmt: skip


def test_the_table_lists_every_platform_class() -> None:
    package = Path(platform_for_asset_type.__code__.co_filename).parent
    pattern = re.compile(r"^class (\w+Platform)\(", re.M)
    classes = {f"{path.stem}:{name}" for path in package.glob("*.py") for name in pattern.findall(path.read_text())}
    declared = {where.removeprefix("pybruin.platforms.") for where, *_ in PLATFORM_MODULES.values()}
    assert classes - {"ansi:AnsiPlatform"} == declared


def test_finding_a_platform_imports_only_its_module() -> None:
    code = """
import sys
import pybruin.platforms as registry
assert registry.platform_for_asset_type("python") is None and registry.platform_for_connection("generic") is None
before = sorted(m for m in sys.modules if m.startswith("pybruin.platforms."))
registry.platform_for_asset_type("my.sql")
print(before, sorted(m for m in sys.modules if m.startswith("pybruin.platforms.") and "mysql" in m))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[] ['pybruin.platforms.mysql']"


def test_asset_types() -> None:
    assert dict(SQL_ASSET_TYPES) == {
        "duckdb.sql": "duckdb", "pg.sql": "postgres", "rs.sql": "redshift", "my.sql": "mysql",
        "sf.sql": "snowflake", "bq.sql": "bigquery",
    }  # fmt: skip
    assert [platform.name for platform in PLATFORMS] == [
        "duckdb", "postgres", "redshift", "mysql", "snowflake", "bigquery",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("asset_type", "type_key", "platform_type"),
    [("duckdb.sql", "duckdb", DuckDBPlatform), ("pg.sql", "postgres", PostgresPlatform),
     ("rs.sql", "redshift", RedshiftPlatform)],
)  # fmt: skip
def test_lookups(asset_type: str, type_key: str, platform_type: type[Platform]) -> None:
    by_asset, by_connection = platform_for_asset_type(asset_type), platform_for_connection(type_key)
    assert type(by_asset) is platform_type
    assert by_connection is by_asset


@pytest.mark.parametrize("unknown", ["python", "ms.sql", "sqlite", "generic", ""])
def test_unknown_types_have_no_platform(unknown: str) -> None:
    assert platform_for_asset_type(unknown) is None
    assert platform_for_connection(unknown) is None


CONNECTIONS = {
    "duckdb": connection("duckdb", path="w.db"),
    "postgres": connection("postgres", host="db"),
    "redshift": connection("redshift", host="db"),
    "mysql": connection("mysql", host="db", database="shop"),
    "snowflake": connection("snowflake", account="acme"),
    "bigquery": connection("google_cloud_platform", project_id="acme-data"),
}
#: The platforms that build tables with the shared ANSI swap (the others: test_platform_dialects.py).
ANSI_PLATFORMS = [platform for platform in PLATFORMS if platform.strategies["table"][""] is replace_table]
SCOPED = {
    "postgres": connection("postgres", host="db", schema="reporting"),
    "redshift": connection("redshift", host="db", schema="reporting"),
}


@pytest.mark.parametrize(
    ("platform_name", "asset_name", "prefix", "parts", "qualified"),
    [
        ("duckdb", "users", "", ("main", "users"), "main.users"),
        ("duckdb", "users", "dev_", ("dev_main", "users"), "dev_main.users"),
        ("postgres", "users", "", ("public", "users"), "public.users"),
        ("redshift", "users", "dev_", ("dev_public", "users"), "dev_public.users"),
        ("postgres", "marts.users", "dev_", ("dev_marts", "users"), "dev_marts.users"),
        ("duckdb", "lake.marts.users", "dev_", ("lake", "dev_marts", "users"), "lake.dev_marts.users"),
        ("postgres", "raw-data.daily users", "", ("raw-data", "daily users"), '"raw-data"."daily users"'),
        ("redshift", 'we"ird.Mixed_Case1', "", ('we"ird', "Mixed_Case1"), '"we""ird".Mixed_Case1'),
        ("duckdb", "1st.t", "x-", ("x-1st", "t"), '"x-1st".t'),
    ],
)
def test_targets(platform_name: str, asset_name: str, prefix: str, parts: tuple, qualified: str) -> None:
    platform = platform_for_connection(platform_name)
    assert platform is not None
    target = platform.target(asset_name, CONNECTIONS[platform_name], prefix)

    assert target.parts == parts
    assert target.qualified == qualified
    assert f"{target.container}.{target.table}" == qualified


@pytest.mark.parametrize("platform_name", ["postgres", "redshift"])
def test_unqualified_names_live_in_the_connection_schema(platform_name: str) -> None:
    platform = platform_for_connection(platform_name)
    assert platform is not None
    assert platform.target("t", SCOPED[platform_name], "dev_").parts == ("dev_reporting", "t")
    assert platform.default_schema(SCOPED[platform_name]) == "reporting"


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
@pytest.mark.parametrize("asset_name", ["a.b.c.d", "a..b", ".t", "s.", ""])
def test_names_that_cannot_be_targets(platform: Platform, asset_name: str) -> None:
    with pytest.raises(BruinError) as caught:
        platform.target(asset_name, CONNECTIONS[platform.name], "")
    assert str(caught.value) == "the asset name must be table, schema.table or catalog.schema.table to materialize"


@pytest.mark.parametrize("platform", ANSI_PLATFORMS, ids=lambda p: p.name)
@pytest.mark.parametrize(
    ("materialization", "expected"),
    [
        ({}, None),
        ({"type": None, "strategy": "append"}, None),
        ({"type": "TABLE"}, replace_table),
        ({"type": "table", "strategy": "Create+Replace"}, replace_table),
        ({"type": "table", "strategy": "append"}, append_to_table),
        ({"type": "view"}, create_view),
    ],
)
def test_strategy_lookup(platform: Platform, materialization: dict, expected: Strategy | None) -> None:
    assert platform.strategy(materialization) is expected


class _ManyStrategies(AnsiPlatform):
    """A platform with its own strategy table, to see how refusals list them."""

    name = "many"
    connection_types = ("many",)
    asset_types = ("many.sql",)
    strategies = {
        **STRATEGIES,
        "table": {"": replace_table, "create+replace": replace_table, "append": append_to_table,
                  "merge": append_to_table},
        "snapshot": {"": replace_table},
    }  # fmt: skip

    def default_schema(self, connection: Connection) -> str:
        return "main"

    def open(self, connection: Connection) -> None:  # type: ignore[override]
        raise AssertionError("not opened")


@pytest.mark.parametrize(
    ("materialization", "expected"),
    [
        ({"type": "table", "strategy": "scd2"},
         "materialization strategy 'scd2' is not supported; use create+replace, append or merge"),
        ({"type": "view", "strategy": "merge"}, "materialization strategy 'merge' is not supported for views"),
        ({"type": "snapshot", "strategy": "append"},
         "materialization strategy 'append' is not supported for snapshots"),
        ({"type": "seed"}, "unknown materialization type 'seed'; use table, view or snapshot"),
    ],
)  # fmt: skip
def test_refusals_list_the_strategies_a_platform_has(materialization: dict, expected: str) -> None:
    with pytest.raises(BruinError) as caught:
        _ManyStrategies().strategy(materialization)
    assert str(caught.value) == expected


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (f"\n\n  auth failed for {PASSWORD}  \nDETAIL: {PASSWORD}", "auth failed for ****"),
        ("connect failed: host=db password=hunter2 user=x", "connect failed: host=db password=**** user=x"),
        ("bad PWD: 'a b c', retry", "bad PWD: ****, retry"),
        ("see postgresql://ann:hunter2@db:5432/x", "see postgresql://****@db:5432/x"),
        ("", "unknown error"),
    ],
)
def test_scrub(platform: Platform, message: str, shown: str) -> None:
    credentials = connection("postgres", host="db", password=PASSWORD)
    assert platform.scrub(message, credentials) == shown


def test_connections_without_a_platform_cannot_open_a_database() -> None:
    with pytest.raises(BruinError) as caught, Databases().session(connection("generic", value="v")):
        pass
    assert str(caught.value) == (
        "connection 'conn' is a generic connection, which cannot run SQL assets; use one of: duckdb, postgres, "
        "redshift, mysql, snowflake, google_cloud_platform"
    )
