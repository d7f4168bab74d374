"""The plan: effective connections, what each asset needs, selection, order and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.pipeline.connections import default_connection_name, effective_connection, platform_connection_type
from pybruin.pipeline.model import Asset, Column, ColumnCheck, CustomCheck, Pipeline, SecretMapping
from pybruin.pipeline.needs import asset_needs
from pybruin.plan import TaskKind, build_plan

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


# --- quality checks as tasks -------------------------------------------------------------------------------

CHECKED = [
    Column("id", checks=(ColumnCheck("not_null", id="n"), ColumnCheck("unique", blocking=False, id="u"),
                         ColumnCheck("not_null", id="again"))),
    Column("price", checks=(ColumnCheck("positive", id="p"),)),
]  # fmt: skip
CUSTOM = [CustomCheck("Row Count", "select 0", id="rc"), CustomCheck("soft", "select 0", blocking=False, id="s")]


def checked_pipeline() -> Pipeline:
    return pipeline(
        asset("raw", "duckdb.sql", columns=CHECKED, custom_checks=CUSTOM),
        asset("mart", "duckdb.sql", depends=["raw"], columns=[Column("id", checks=(ColumnCheck("not_null", id="m"),))]),
        asset("report", "empty", depends=["mart"]),
    )


def test_checks_are_tasks_in_upstreams_order_with_upstreams_names() -> None:
    plan = build_plan(checked_pipeline(), sql_types=SQL_TYPES)
    assert [(task.id, task.kind, task.blocking, task.check_id) for task in plan.tasks] == [
        ("raw", TaskKind.MAIN, True, None),
        ("raw:id:not_null", TaskKind.COLUMN_CHECK, True, "n"),  # a repeated check runs once, as upstream's does
        ("raw:id:unique", TaskKind.COLUMN_CHECK, False, "u"),
        ("raw:price:positive", TaskKind.COLUMN_CHECK, True, "p"),
        ("raw:custom-check:row_count", TaskKind.CUSTOM_CHECK, True, "rc"),
        ("raw:custom-check:soft", TaskKind.CUSTOM_CHECK, False, "s"),
        ("mart", TaskKind.MAIN, True, None),
        ("mart:id:not_null", TaskKind.COLUMN_CHECK, True, "m"),
        ("report", TaskKind.MAIN, True, None),
    ]
    assert plan.tasks[2].column == CHECKED[0]
    assert plan.tasks[4].check == CUSTOM[0]


def test_checks_wait_for_their_asset_and_downstream_assets_wait_for_blocking_checks_only() -> None:
    plan = build_plan(checked_pipeline(), sql_types=SQL_TYPES)
    assert plan.upstreams == {
        "raw": (),
        "raw:id:not_null": ("raw",),
        "raw:id:unique": ("raw",),
        "raw:price:positive": ("raw",),
        "raw:custom-check:row_count": ("raw",),
        "raw:custom-check:soft": ("raw",),
        "mart": ("raw", "raw:id:not_null", "raw:price:positive", "raw:custom-check:row_count"),
        "mart:id:not_null": ("mart",),
        "report": ("mart", "mart:id:not_null"),
    }


def test_only_selects_task_kinds() -> None:
    only_checks = build_plan(checked_pipeline(), sql_types=SQL_TYPES, only=["checks"])
    assert [task.id for task in only_checks.tasks][:2] == ["raw:id:not_null", "raw:id:unique"]
    assert all(task.kind is not TaskKind.MAIN for task in only_checks.tasks)
    assert set(only_checks.upstreams.values()) == {()}, "without their main tasks, checks start at once"
    only_main = build_plan(checked_pipeline(), sql_types=SQL_TYPES, only=["main"])
    assert [task.id for task in only_main.tasks] == ["raw", "mart", "report"]
    assert only_main.upstreams == {"raw": (), "mart": ("raw",), "report": ("mart",)}
    both = build_plan(checked_pipeline(), sql_types=SQL_TYPES, only=["main", "checks"])
    assert both.tasks == build_plan(checked_pipeline(), sql_types=SQL_TYPES).tasks
    assert build_plan(checked_pipeline(), sql_types=SQL_TYPES, only=["push-metadata"]).tasks == ()


@pytest.mark.parametrize("value", ["main,checks", "check", ""])
def test_only_refuses_values_upstream_refuses(value: str) -> None:
    with pytest.raises(BruinError) as caught:
        build_plan(checked_pipeline(), sql_types=SQL_TYPES, only=[value])
    assert str(caught.value) == (
        f"invalid value for '--only' flag: '{value}', available values are 'main', 'checks', and 'push-metadata'"
    )


def test_single_check_runs_that_check_alone() -> None:
    plan = build_plan(checked_pipeline(), sql_types=SQL_TYPES, single_check="u")
    assert [task.id for task in plan.tasks] == ["raw:id:unique"]
    assert plan.upstreams == {"raw:id:unique": ()}
    target = checked_pipeline().assets[1]
    on_target = build_plan(checked_pipeline(), sql_types=SQL_TYPES, targets=[target], single_check="m")
    assert [task.id for task in on_target.tasks] == ["mart:id:not_null"]
    with pytest.raises(BruinError, match=r"^cannot find check with the given ID$"):
        build_plan(checked_pipeline(), sql_types=SQL_TYPES, targets=[target], single_check="u")
    with pytest.raises(BruinError, match=r"^cannot find check with the given ID$"):
        build_plan(checked_pipeline(), sql_types=SQL_TYPES, only=["main"], single_check="u")
    with pytest.raises(BruinError, match=r"^Cannot use --single-check flag when running multiple assets"):
        build_plan(checked_pipeline(), sql_types=SQL_TYPES, targets=checked_pipeline().assets[:2], single_check="u")


def test_downstream_selection_includes_the_checks_of_every_selected_asset() -> None:
    whole = checked_pipeline()
    plan = build_plan(whole, sql_types=SQL_TYPES, targets=[whole.assets[1]], downstream=True)
    assert [task.id for task in plan.tasks] == ["mart", "mart:id:not_null", "report"]
    assert plan.upstreams["mart"] == ()


def test_a_refused_asset_fails_its_main_task_and_its_checks_wait_in_vain() -> None:
    bq = asset("bq", "bq.sql", columns=[Column("id", checks=(ColumnCheck("not_null", id="x"),))])
    reason = "asset type 'bq.sql' in assets/bq.sql is not supported by pybruin yet"
    plan = build_plan(pipeline(bq), sql_types=SQL_TYPES)
    assert plan.refused == {"bq": reason}
    assert plan.upstreams["bq:id:not_null"] == ("bq",)
    only_checks = build_plan(pipeline(bq), sql_types=SQL_TYPES, only=["checks"])
    assert only_checks.refused == {"bq:id:not_null": reason}


def test_a_check_needs_only_the_connection_it_queries() -> None:
    secrets = [SecretMapping("API", "API"), SecretMapping("warehouse", "warehouse")]
    columns = [Column("id", checks=(ColumnCheck("not_null", id="x"),))]
    py = asset("py", connection="warehouse", secrets=secrets, columns=columns)
    plan = build_plan(pipeline(py), sql_types=SQL_TYPES, only=["checks"])
    assert plan.names_needed() == ["warehouse"]
    assert plan.connections_used(plan.tasks[0]) == ("warehouse",)
    assert build_plan(pipeline(py), sql_types=SQL_TYPES).names_needed() == ["warehouse", "API"]
