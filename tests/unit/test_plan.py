"""The plan: effective connections, what each asset needs, selection, order and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybruin.pipeline.connections import default_connection_name, effective_connection, platform_connection_type
from pybruin.pipeline.model import Asset, Pipeline, SecretMapping
from pybruin.pipeline.needs import asset_needs
from pybruin.plan import build_plan

ROOT = Path("/project/p")
SQL_TYPES = frozenset({"duckdb.sql", "pg.sql", "rs.sql"})


def asset(name: str, type_: str = "python", **fields: object) -> Asset:
    file = ROOT / "assets" / f"{name}.sql"
    return Asset(name=name, type=type_, definition_file=file, executable_file=file, **fields)


def pipeline(*assets: Asset, **fields: object) -> Pipeline:
    return Pipeline(name="p", directory=ROOT, definition_file=ROOT / "pipeline.yml", assets=list(assets), **fields)


@pytest.mark.parametrize(
    ("asset_type", "connection_type", "default_name"),
    [
        ("duckdb.sql", "duckdb", "duckdb-default"),
        ("duckdb.seed", "duckdb", "duckdb-default"),
        ("pg.sql", "postgres", "postgres-default"),
        ("pg.sensor.query", "postgres", "postgres-default"),
        ("rs.sql", "redshift", "redshift-default"),
        ("bq.sql", "google_cloud_platform", "gcp-default"),
        ("sf.sql", "snowflake", "snowflake-default"),
        ("my.sql", "mysql", "mysql-default"),
        ("ms.sql", "mssql", "mssql-default"),
        ("athena.sql", "athena", "athena-default"),
        ("databricks.sql", "databricks", "databricks-default"),
        ("clickhouse.sql", "clickhouse", "clickhouse-default"),
        ("synapse.sql", "synapse", "synapse-default"),
        ("trino.sql", "trino", "trino-default"),
        ("motherduck.sql", "motherduck", "motherduck-default"),
    ],
)
def test_effective_connection_of_every_platform(asset_type: str, connection_type: str, default_name: str) -> None:
    assert platform_connection_type(asset_type) == connection_type
    assert default_connection_name(connection_type) == default_name
    assert effective_connection(asset("a", asset_type), pipeline()) == default_name
    with_default = pipeline(default_connections={connection_type: "from-pipeline"})
    assert effective_connection(asset("a", asset_type), with_default) == "from-pipeline"
    assert effective_connection(asset("a", asset_type, connection="own"), with_default) == "own"


@pytest.mark.parametrize("asset_type", ["python", "r", "empty", "ingestr", "tableau"])
def test_assets_without_a_platform_run_on_their_own_connection_only(asset_type: str) -> None:
    assert effective_connection(asset("a", asset_type), pipeline(default_connections={"duckdb": "d"})) is None
    assert effective_connection(asset("a", asset_type, connection="mine"), pipeline()) == "mine"


def test_needs_of_a_sql_asset_without_connection_name_the_platform_default() -> None:
    needs = asset_needs(asset("a", "duckdb.sql", secrets=[SecretMapping("EXTRA", "E")]), pipeline())
    assert needs.connection == "duckdb-default"
    assert needs.names == ("duckdb-default", "EXTRA")
    assert needs.references() == [("duckdb-default", None), ("EXTRA", "E")]
    assert not needs.injected


def test_needs_of_a_python_asset_are_its_secrets_with_its_connection_once() -> None:
    secrets = [SecretMapping("K", "INJ"), SecretMapping("warehouse", "warehouse"), SecretMapping("  ", "X")]
    needs = asset_needs(asset("a", connection="warehouse", secrets=secrets), pipeline())
    assert needs.connection == "warehouse"
    assert needs.names == ("warehouse", "K")
    assert needs.references() == [("K", "INJ"), ("warehouse", "warehouse")]
    assert needs.injected


def test_sql_asset_listed_connection_is_shown_once_not_as_a_secret() -> None:
    needs = asset_needs(
        asset("a", "pg.sql", connection="pg", secrets=[SecretMapping("pg", "pg"), SecretMapping("X", "Y")]),
        pipeline(),
    )
    assert needs.references() == [("pg", None), ("X", "Y")]


def test_plan_of_a_whole_pipeline_keeps_file_order_and_skips_disabled_assets() -> None:
    plan = build_plan(
        pipeline(
            asset("c", "empty", depends=["a"]),
            asset("a", "empty"),
            asset("off", "empty", enabled=False),
            asset("b", "empty", depends=["off", "c"]),
        ),
        sql_types=SQL_TYPES,
    )
    assert [task.id for task in plan.tasks] == ["c", "a", "b"]
    assert plan.upstreams == {"c": ("a",), "a": (), "b": ("c",)}
    assert plan.skipped == ("off",)
    assert plan.refused == {}


def test_plan_of_one_asset_and_its_downstream_leaves_upstreams_out() -> None:
    assets = [asset("a", "empty"), asset("b", "empty", depends=["a"]), asset("c", "empty", depends=["b"])]
    only_b = build_plan(pipeline(*assets), sql_types=SQL_TYPES, targets=[assets[1]])
    assert [task.id for task in only_b.tasks] == ["b"]
    assert only_b.upstreams == {"b": ()}
    with_downstream = build_plan(pipeline(*assets), sql_types=SQL_TYPES, targets=[assets[1]], downstream=True)
    assert [task.id for task in with_downstream.tasks] == ["b", "c"]
    assert with_downstream.upstreams == {"b": (), "c": ("b",)}


def test_plan_names_needed_cover_runnable_tasks_only_and_caps_count_the_effective_connection() -> None:
    plan = build_plan(
        pipeline(
            asset("sql", "duckdb.sql"),
            asset("py", connection="warehouse", secrets=[SecretMapping("warehouse", "warehouse")]),
            asset("bq", "bq.sql", secrets=[SecretMapping("NEVER", "NEVER")]),
        ),
        sql_types=SQL_TYPES,
    )
    assert plan.names_needed() == ["duckdb-default", "warehouse"]
    assert [plan.connections_used(task) for task in plan.tasks] == [
        ("duckdb-default",),
        ("warehouse",),
        ("gcp-default",),
    ]
    assert plan.refused == {"bq": "asset type 'bq.sql' in assets/bq.sql is not supported by pybruin yet"}


def test_plan_is_frozen() -> None:
    plan = build_plan(pipeline(asset("a", "empty")), sql_types=SQL_TYPES)
    with pytest.raises(AttributeError):
        plan.tasks = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        plan.upstreams["a"] = ("x",)  # type: ignore[index]
