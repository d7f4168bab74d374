"""Python assets whose `materialize()` returns data, into the platforms beyond DuckDB and PostgreSQL, through the
`bruin` CLI: MySQL (on MariaDB) with the strategies it has, declared types and column checks; and what pybruin
refuses, in `validate` and in `run`, with one line naming the asset and the platform."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from fixtures.bigquery_emulator import PROJECT, BigQueryDataset, service_account_info
from fixtures.mysql_server import MySQLDatabase
from fixtures.snowflake_server import SnowflakeDatabase

if TYPE_CHECKING:
    from conftest import BruinProject

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

PASSWORD = f"pw-pymat-mysql-{uuid.uuid4().hex}"
USER = "bruin_pymat"


def configure(project: BruinProject, type_key: str, details: dict[str, object]) -> None:
    connections = {type_key: [{"name": "wh", **details}]}
    project.write(".bruin.yml", json.dumps({"environments": {"default": {"connections": connections}}}))
    project.write("p/pipeline.yml", "name: p\n")


def asset(project: BruinProject, name: str, header: str, body: str) -> None:
    header = f"name: {name}\nconnection: wh\n{header.strip()}\n"
    project.write(f"p/assets/{name.replace('.', '_')}.py", f'"""@bruin\n{header}@bruin"""\n{body.strip()}\n')


@pytest.fixture
def mysql(project: BruinProject, mysql_database) -> MySQLDatabase:  # type: ignore[no-untyped-def]
    db: MySQLDatabase = mysql_database(USER, PASSWORD)
    configure(project, "mysql", db.details())
    return db


TYPED = """
import datetime, decimal
import pandas as pd


def materialize():
    return pd.DataFrame({
        "id": [1, 2, 3],
        "Name": ["a", "", None],
        "score": [1.5, None, 3.25],
        "flag": [True, False, None],
        "day": [datetime.date(2024, 1, 1), datetime.date(2024, 1, 2), None],
        "seen_at": pd.to_datetime(["2024-01-01 10:00:00.250", "2024-01-02 11:30:00.000", None]),
        "zoned": pd.to_datetime(["2024-01-01 10:00:00+02:00", None, None], utc=True),
        "price": [decimal.Decimal("1.10"), decimal.Decimal("2.25"), None],
        "kind": pd.Categorical(["x", "y", "x"]),
    })
"""


def test_mysql_holds_pandas_types_nulls_and_the_columns_case(project: BruinProject, mysql: MySQLDatabase) -> None:
    asset(project, "typed", "materialization:\n  type: table", TYPED)
    result, _ = project.run_json("p")
    assert result.returncode == 0, result.output
    assert "Successfully loaded the data from the asset into the destination." in result.output
    assert mysql.rows("select id, `Name`, score, flag, day, seen_at, zoned, price, kind from typed") == [
        (1, "a", 1.5, 1, datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1, 10, 0, 0, 250000),
         datetime.datetime(2024, 1, 1, 8, 0), decimal.Decimal("1.10"), "x"),
        (2, "", None, 0, datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 11, 30), None,
         decimal.Decimal("2.25"), "y"),
        (3, None, 3.25, None, None, None, None, None, "x"),
    ]  # fmt: skip
    types = dict(mysql.rows(
        "select column_name, lower(column_type) from information_schema.columns "
        f"where table_schema = '{mysql.name}' and table_name = 'typed'"
    ))  # fmt: skip
    assert types["id"] == "bigint(20)" and types["price"] == "decimal(3,2)" and types["seen_at"] == "datetime(6)"
    assert mysql.rows("show tables") == [("typed",)]  # the staging table was temporary


def test_mysql_create_replace_and_append(project: BruinProject, mysql: MySQLDatabase) -> None:
    rows = "def materialize():\n    return [{'id': 1, 'v': 'a'}, {'id': 2, 'v': 'b'}]"
    asset(project, "replaced", "materialization:\n  type: table\n  strategy: create+replace", rows)
    asset(project, "appended", "materialization:\n  type: table\n  strategy: append", rows)
    for _ in range(2):
        result, _ = project.run_json("p")
        assert result.returncode == 0, result.output
    assert mysql.rows("select count(*) from replaced") == [(2,)]
    assert mysql.rows("select count(*) from appended") == [(4,)]
    asset(project, "appended", "materialization:\n  type: table\n  strategy: append",
          "def materialize():\n    return [{'V': 'c', 'ID': 3}]")  # fmt: skip
    result, _ = project.run_json("p")
    assert result.returncode == 0, result.output
    assert mysql.rows("select id, v from appended where id = 3") == [(3, "c")]
    asset(project, "appended", "materialization:\n  type: table\n  strategy: append",
          "def materialize():\n    return [{'id': 4, 'other': 'd'}]")  # fmt: skip
    result, tasks = project.run_json("p")
    assert result.returncode == 1
    assert tasks["appended"]["error"] == (
        "failed to execute Python script: failed to load the data into the destination: the columns materialize() "
        f"returned (id, other) do not match the columns of {mysql.name}.appended (id, v)"
    )


def test_mysql_enforce_schema_and_column_checks(project: BruinProject, mysql: MySQLDatabase) -> None:
    header = """
parameters:
  enforce_schema: true
materialization:
  type: table
columns:
  - name: id
    type: integer
    checks:
      - name: unique
  - name: amount
    type: decimal(10, 2)
  - name: code
    type: varchar(5)
    checks:
      - name: not_null
"""
    asset(project, f"{mysql.name}_marts.checked", header,
          "def materialize():\n    return [{'id': 1, 'amount': 2.5, 'code': 7}, {'id': 1, 'amount': 1, 'code': None}]")
    result, tasks = project.run_json("p")
    assert result.returncode == 1
    assert tasks[f"{mysql.name}_marts.checked"]["status"] == "succeeded"
    assert tasks[f"{mysql.name}_marts.checked:id:unique"]["status"] == "failed"
    assert tasks[f"{mysql.name}_marts.checked:code:not_null"]["error"] == "column 'code' has 1 null values"
    types = dict(mysql.rows(
        "select column_name, lower(column_type) from information_schema.columns "
        f"where table_schema = '{mysql.name}_marts' and table_name = 'checked'"
    ))  # fmt: skip
    assert types == {"id": "bigint(20)", "amount": "decimal(10,2)", "code": "varchar(5)"}


SNOWFLAKE_TYPED = """
import datetime, decimal
import pyarrow as pa


def materialize():
    return pa.table({
        "id": [1, 2],
        "name": ["a", None],
        "score": [1.5, None],
        "flag": [True, None],
        "day": [datetime.date(2024, 1, 1), None],
        "seen_at": [datetime.datetime(2024, 1, 1, 10, 0, 0, 250000), None],
        "price": pa.array([decimal.Decimal("1.10"), None], pa.decimal128(10, 2)),
    })
"""


def test_snowflake_holds_the_data_with_create_replace_and_append(project: BruinProject, snowflake_database) -> None:  # type: ignore[no-untyped-def]
    """On fakesnow: the columns fold to upper case as declared ones do, so column checks find them. The data is
    staged in the session's schema (PUBLIC here), the assets' tables go to theirs."""
    sf: SnowflakeDatabase = snowflake_database()
    configure(project, "snowflake", sf.details(schema="PUBLIC"))
    asset(project, "analytics.typed", "materialization:\n  type: table\ncolumns:\n  - name: id\n    checks:\n"
                                      "      - name: unique", SNOWFLAKE_TYPED)  # fmt: skip
    asset(project, "analytics.log", "materialization:\n  type: table\n  strategy: append",
          "def materialize():\n    return [{'id': 1, 'v': 'a'}]")  # fmt: skip
    for _ in range(2):
        result, tasks = project.run_json("p")
        assert result.returncode == 0, result.output
        assert tasks["analytics.typed:id:unique"]["status"] == "succeeded"
    assert sf.rows("select id, name, score, flag, day, price, seen_at is null from analytics.typed") == [
        (1, "a", 1.5, True, datetime.date(2024, 1, 1), decimal.Decimal("1.10"), False),
        (2, None, None, None, None, None, True),
    ]  # fakesnow reads a NULL timestamp back as 1970-01-01, so its nullness is asked for
    assert sf.rows("select seen_at from analytics.typed where id = 1") == [
        (datetime.datetime(2024, 1, 1, 10, 0, 0, 250000),)
    ]
    assert sf.rows("select id, v from analytics.log") == [(1, "a"), (1, "a")]
    assert [row[:2] for row in sf.relations()] == [("ANALYTICS", "LOG"), ("ANALYTICS", "TYPED")]


RAN = "print('ran')\ndef materialize():\n    return [{'id': 1}]"


def assert_refused(project: BruinProject, name: str, refusal: str) -> None:
    """`validate` and `run` both refuse the asset with `refusal`, and its code never runs."""
    validated = project.bruin("validate", "p")
    assert validated.returncode == 1
    assert f"  {name} (" in validated.stdout and f"── {refusal} (python-materialization)" in validated.stdout
    result, tasks = project.run_json("p")
    assert result.returncode == 1
    assert tasks[name]["error"] == refusal
    assert "ran" not in result.output and "Traceback" not in result.output


def merge_and_delete_insert(project: BruinProject, schema: str, rows: Callable[[str], list[tuple]]) -> None:
    """Two runs of a merging and a delete+insert Python asset: the platform's SQL strategies take the staged
    data as their source, as a SQL asset's query."""
    header = ("materialization:\n  type: table\n  strategy: {strategy}\n  incremental_key: id\n"
              "columns:\n  - name: id\n    type: integer\n    primary_key: true\n  - name: v\n    type: string\n"
              "    update_on_merge: true")  # fmt: skip
    tables = {"merge": f"{schema}merged", "delete+insert": f"{schema}keyed"}
    for data in ("[{'id': 1, 'v': 'a'}, {'id': 2, 'v': 'b'}]", "[{'id': 2, 'v': 'B'}, {'id': 3, 'v': 'c'}]"):
        for strategy, table in tables.items():
            asset(project, table, header.format(strategy=strategy), f"def materialize():\n    return {data}")
        result, _ = project.run_json("p")
        assert result.returncode == 0, result.output
    for table in tables.values():
        assert rows(f"select id, v from {table} order by id") == [(1, "a"), (2, "B"), (3, "c")]


def test_mysql_merge_and_delete_insert(project: BruinProject, mysql: MySQLDatabase) -> None:
    merge_and_delete_insert(project, "", mysql.rows)
    assert sorted(mysql.rows("show tables")) == [("keyed",), ("merged",)]  # the staging tables were temporary


def test_snowflake_merge_and_delete_insert(project: BruinProject, snowflake_database) -> None:  # type: ignore[no-untyped-def]
    sf: SnowflakeDatabase = snowflake_database()
    configure(project, "snowflake", sf.details(schema="PUBLIC"))
    merge_and_delete_insert(project, "analytics.", sf.rows)


def test_bigquery_merge_and_delete_insert(project: BruinProject, bigquery_dataset) -> None:  # type: ignore[no-untyped-def]
    bq: BigQueryDataset = bigquery_dataset()
    configure(project, "google_cloud_platform",
              {"project_id": PROJECT, "service_account_json": json.dumps(service_account_info())})  # fmt: skip
    merge_and_delete_insert(project, f"{bq.name}.", bq.rows)


def test_bigquery_holds_the_data_with_enforce_schema_and_checks(project: BruinProject, bigquery_dataset) -> None:  # type: ignore[no-untyped-def]
    """On the emulator: the data is loaded by a load job into a table of its own, which is dropped afterwards."""
    bq: BigQueryDataset = bigquery_dataset()
    configure(project, "google_cloud_platform",
              {"project_id": PROJECT, "service_account_json": json.dumps(service_account_info())})  # fmt: skip
    header = ("parameters:\n  enforce_schema: true\nmaterialization:\n  type: table\ncolumns:\n"
              "  - name: id\n    type: integer\n    checks:\n      - name: unique\n"
              "  - name: score\n    type: string")  # fmt: skip
    asset(project, f"{bq.name}.typed", header, SNOWFLAKE_TYPED)
    asset(project, f"{bq.name}.log", "materialization:\n  type: table\n  strategy: append",
          "def materialize():\n    return [{'id': 1, 'v': 'a'}]")  # fmt: skip
    for _ in range(2):
        result, tasks = project.run_json("p")
        assert result.returncode == 0, result.output
        assert tasks[f"{bq.name}.typed:id:unique"]["status"] == "succeeded"
    assert bq.rows(f"select id, name, score, flag, day, seen_at, price from {bq.name}.typed") == [
        (1, "a", "1.5", True, datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1, 10, 0, 0, 250000),
         decimal.Decimal("1.10")),
        (2, None, None, None, None, None, None),
    ]  # fmt: skip
    assert bq.rows(f"select id, v from {bq.name}.log") == [(1, "a"), (1, "a")]
    assert [row[1] for row in bq.relations()] == ["log", "typed"]  # nothing staged is left


def test_redshift_cannot_hold_the_data_and_is_refused(project: BruinProject) -> None:
    """Redshift has no COPY FROM STDIN: refused in validate and in run, naming the asset and the platform,
    before the asset's code runs (no connection is made: the details need not reach a server)."""
    configure(project, "redshift", {"host": "127.0.0.1", "port": 9, "username": "u", "password": "p",
                                    "database": "d"})  # fmt: skip
    asset(project, "ds.rows", "materialization:\n  type: table", RAN)
    assert_refused(project, "ds.rows", "pybruin cannot load data returned by materialize() into redshift "
                                       "(connection 'wh') yet")  # fmt: skip
