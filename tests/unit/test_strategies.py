"""The SQL each materialization strategy writes, per platform: upstream's text (its unit tests' expectations),
with pybruin's deliberate differences (names quoted only when they must be, the table swap of create+replace,
SCD2 on PostgreSQL 15), and the errors in upstream's words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset, Column, ForeignKey, Hooks
from pybruin.platforms.run import NO_HOOKS, asset_sql

TEMP = re.compile(r"__bruin(_merge|_scd2)?_tmp_[a-z]{8}")


def sql(asset_type: str, query: str = "SELECT 1 AS id", *, name: str = "my.asset", columns: tuple = (),
        prefix: str = "", full_refresh: bool = False, interval: tuple[str, str] = ("", ""), hooks: Hooks = NO_HOOKS,
        **materialization: str) -> str:  # fmt: skip
    asset = Asset(name=name, type=asset_type, definition_file=Path("a.sql"), executable_file=Path("a.sql"),
                  materialization=materialization, columns=list(columns))  # fmt: skip
    script = asset_sql(asset, query, None, schema_prefix=prefix, full_refresh=full_refresh, interval=interval,
                       hooks=hooks)  # fmt: skip
    return TEMP.sub(lambda match: f"__bruin{match.group(1) or ''}_tmp_x", script)


def error(asset_type: str, **kwargs: object) -> str:
    with pytest.raises(BruinError) as caught:
        sql(asset_type, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


BOTH = pytest.mark.parametrize("asset_type", ["duckdb.sql", "pg.sql"])
MERGE_COLUMNS = (
    Column("id", "INTEGER", primary_key=True),
    Column("name", "VARCHAR", update_on_merge=True),
    Column("price", "DOUBLE", merge_sql="GREATEST(target.price, source.price)"),
    Column("stock", "INTEGER"),
)


@BOTH
def test_no_materialization_runs_the_query_without_bruin_headers(asset_type: str) -> None:
    assert sql(asset_type, "/* @bruin name: x @bruin */ select 1; select 2") == " select 1; select 2"


@BOTH
def test_view(asset_type: str) -> None:
    assert sql(asset_type, "SELECT 1;", type="view") == "CREATE OR REPLACE VIEW my.asset AS\nSELECT 1;"


@BOTH
def test_create_replace_builds_beside_the_table_and_swaps(asset_type: str) -> None:
    expected = (
        "BEGIN TRANSACTION;\nCREATE TABLE my.asset__bruin_tmp_x AS SELECT 1 AS id;\nDROP TABLE IF EXISTS my.asset;\n"
        "ALTER TABLE my.asset__bruin_tmp_x RENAME TO asset;\nCOMMIT;"
    )
    assert sql(asset_type, "SELECT 1 AS id;", type="table") == expected
    assert sql(asset_type, "SELECT 1 AS id", type="table", strategy="create+replace") == expected


def test_an_unqualified_name_without_prefix_is_named_alone() -> None:
    assert sql("duckdb.sql", name="users", type="table").splitlines()[1:4] == [
        "CREATE TABLE users__bruin_tmp_x AS SELECT 1 AS id;", "DROP TABLE IF EXISTS users;",
        "ALTER TABLE users__bruin_tmp_x RENAME TO users;",
    ]  # fmt: skip
    assert "DROP TABLE IF EXISTS dev_main.users;" in sql("duckdb.sql", name="users", prefix="dev_", type="table")


def test_a_trailing_comment_cannot_swallow_what_follows() -> None:
    assert "AS select 1 -- note\n;\nDROP" in sql("duckdb.sql", "select 1 -- note", type="table")
    assert sql("duckdb.sql", "select 1 -- note", hooks=Hooks(post=("select 2",)), type="table",
               strategy="append") == "INSERT INTO my.asset select 1 -- note\n;\nselect 2;"  # fmt: skip


@BOTH
def test_append(asset_type: str) -> None:
    assert sql(asset_type, "SELECT 1;", type="table", strategy="append") == "INSERT INTO my.asset SELECT 1;"


@BOTH
def test_delete_insert(asset_type: str) -> None:
    assert sql(asset_type, "SELECT 1 AS dt;", type="table", strategy="delete+insert", incremental_key="dt") == (
        "BEGIN TRANSACTION;\n"
        "CREATE TEMP TABLE __bruin_tmp_x AS SELECT 1 AS dt;\n"
        "DELETE FROM my.asset WHERE dt in (SELECT DISTINCT dt FROM __bruin_tmp_x);\n"
        "INSERT INTO my.asset SELECT * FROM __bruin_tmp_x;\n"
        "DROP TABLE IF EXISTS __bruin_tmp_x;\n"
        "COMMIT;"
    )
    assert error(asset_type, type="table", strategy="delete+insert") == (
        "asset 'my.asset': materialization strategy delete+insert requires the `incremental_key` field to be set"
    )


@BOTH
def test_truncate_insert(asset_type: str) -> None:
    assert sql(asset_type, "SELECT 1;", type="table", strategy="truncate+insert") == (
        "BEGIN TRANSACTION;\nTRUNCATE TABLE my.asset;\nINSERT INTO my.asset SELECT 1;\nCOMMIT;"
    )


@BOTH
@pytest.mark.parametrize(
    ("granularity", "interval"),
    [("date", ("2025-03-01", "2025-03-31")),
     ("timestamp", ("2024-01-01T00:00:00.000000Z", "2024-01-01T23:59:59.999999Z"))],
)  # fmt: skip
def test_time_interval(asset_type: str, granularity: str, interval: tuple[str, str]) -> None:
    script = sql(asset_type, "SELECT 1 AS ts;", interval=interval, type="table", strategy="time_interval",
                 incremental_key="ts", time_granularity=granularity)  # fmt: skip
    assert script == (
        "BEGIN TRANSACTION;\n"
        f"DELETE FROM my.asset WHERE ts BETWEEN '{interval[0]}' AND '{interval[1]}';\n"
        "INSERT INTO my.asset SELECT 1 AS ts;\n"
        "COMMIT;"
    )


@BOTH
@pytest.mark.parametrize(
    ("fields", "message"),
    [({}, "incremental_key is required for time_interval strategy"),
     ({"incremental_key": "ts"}, "time_granularity is required for time_interval strategy"),
     ({"incremental_key": "ts", "time_granularity": "hour"}, "time_granularity must be either 'date', or 'timestamp'")],
)  # fmt: skip
def test_time_interval_needs_a_key_and_a_granularity(asset_type: str, fields: dict, message: str) -> None:
    assert error(asset_type, type="table", strategy="time_interval", **fields) == f"asset 'my.asset': {message}"


def test_duckdb_merge_updates_then_inserts() -> None:
    assert sql("duckdb.sql", "SELECT 1 AS id;", columns=MERGE_COLUMNS, type="table", strategy="merge") == (
        "BEGIN TRANSACTION;\n"
        "CREATE TEMP TABLE __bruin_merge_tmp_x AS SELECT 1 AS id;\n"
        "UPDATE my.asset AS target SET name = source.name, price = GREATEST(target.price, source.price) "
        "FROM __bruin_merge_tmp_x AS source WHERE target.id = source.id;\n"
        "INSERT INTO my.asset (id, name, price, stock) SELECT id, name, price, stock FROM __bruin_merge_tmp_x AS "
        "source WHERE NOT EXISTS (SELECT 1 FROM my.asset AS target WHERE target.id = source.id);\n"
        "DROP TABLE __bruin_merge_tmp_x;\n"
        "COMMIT;"
    )


def test_duckdb_merge_without_update_columns_only_inserts() -> None:
    columns = (Column("id", primary_key=True), Column("b", primary_key=True), Column("c"))
    script = sql("duckdb.sql", columns=columns, type="table", strategy="merge", incremental_predicate=" c > 1 ")
    assert "UPDATE" not in script
    assert "WHERE target.id = source.id AND target.b = source.b AND (c > 1));" in script


def test_postgres_merge() -> None:
    assert sql("pg.sql", "SELECT 1 AS id;", columns=MERGE_COLUMNS, type="table", strategy="merge") == (
        "MERGE INTO my.asset target\n"
        "USING (SELECT 1 AS id) source ON target.id = source.id\n"
        "WHEN MATCHED THEN UPDATE SET name = source.name, price = GREATEST(target.price, source.price)\n"
        "WHEN NOT MATCHED THEN INSERT(id, name, price, stock) VALUES(id, name, price, stock);"
    )
    only_keys = sql("pg.sql", columns=(Column("id", primary_key=True),), type="table", strategy="merge")
    assert only_keys.splitlines()[2] == ""


def test_redshift_merge_names_the_table_and_refuses_predicates() -> None:
    assert sql("rs.sql", columns=MERGE_COLUMNS[:2], type="table", strategy="merge") == (
        "MERGE INTO my.asset\n"
        "USING (SELECT 1 AS id) source ON my.asset.id = source.id\n"
        "WHEN MATCHED THEN UPDATE SET name = source.name\n"
        "WHEN NOT MATCHED THEN INSERT(id, name) VALUES(source.id, source.name);"
    )
    assert error("rs.sql", columns=MERGE_COLUMNS, type="table", strategy="merge", incremental_predicate="x") == (
        "asset 'my.asset': incremental_predicate is not supported for Redshift merge materialization"
    )


@BOTH
def test_merge_needs_columns_and_a_primary_key(asset_type: str) -> None:
    assert error(asset_type, type="table", strategy="merge") == (
        "asset 'my.asset': materialization strategy merge requires the `columns` field to be set"
    )
    assert error(asset_type, columns=(Column("a"),), type="table", strategy="merge") == (
        "asset 'my.asset': materialization strategy merge requires the `primary_key` field to be set on at least "
        "one column"
    )


DDL_COLUMNS = (
    Column("id", "INTEGER", primary_key=True, description="Identifier for the record"),
    Column("name", "VARCHAR", length=40, collation="C", default="'x'", description="Name of the person's"),
    Column("amount", "DECIMAL", precision=10, scale=2),
    Column("customer_id", "INTEGER", primary_key=True, foreign_key=ForeignKey("raw.customers", "id")),
)


def test_duckdb_ddl() -> None:
    assert sql("duckdb.sql", "", columns=DDL_COLUMNS, prefix="dev_", type="table", strategy="ddl") == (
        "CREATE TABLE IF NOT EXISTS dev_my.asset (\n"
        "  id INTEGER,\n"
        "  name VARCHAR(40) COLLATE C DEFAULT 'x',\n"
        "  amount DECIMAL(10, 2),\n"
        "  customer_id INTEGER,\n"
        "  PRIMARY KEY (id, customer_id),\n"
        "  FOREIGN KEY (customer_id) REFERENCES dev_raw.customers (id)\n"
        ");\n"
        "COMMENT ON COLUMN dev_my.asset.id IS 'Identifier for the record';\n"
        "COMMENT ON COLUMN dev_my.asset.name IS 'Name of the person''s';"
    )
    assert sql("duckdb.sql", "", columns=(Column("id", "INT64"),), type="table", strategy="ddl") == (
        "CREATE TABLE IF NOT EXISTS my.asset (\n  id INT64\n)"
    )


def test_postgres_ddl() -> None:
    assert sql("pg.sql", "", columns=DDL_COLUMNS, type="table", strategy="ddl") == (
        "CREATE TABLE IF NOT EXISTS my.asset (\n"
        "id INTEGER,\n"
        'name VARCHAR(40) COLLATE "C" DEFAULT \'x\',\n'
        "amount DECIMAL(10, 2),\n"
        "customer_id INTEGER,\n"
        "primary key (id, customer_id),\n"
        "foreign key (customer_id) references raw.customers (id)\n"
        ");\n"
        "COMMENT ON COLUMN my.asset.id IS 'Identifier for the record';\n"
        "COMMENT ON COLUMN my.asset.name IS 'Name of the person''s';"
    )


SCD2_COLUMNS = (Column("id", primary_key=True), Column("col1"), Column("col2"))


def test_duckdb_scd2_by_column() -> None:
    script = sql("duckdb.sql", "SELECT id, col1, col2 from source_table", columns=SCD2_COLUMNS, type="table",
                 strategy="scd2_by_column")  # fmt: skip
    changed = "t.col1 != s.col1 OR t.col2 != s.col2"
    assert script.split("\n") == [
        "CREATE OR REPLACE TABLE my.asset AS", "WITH", "time_now AS (", "\tSELECT CURRENT_TIMESTAMP AS now", "),",
        "source AS (", "\tSELECT id, col1, col2,", "\tTRUE as _matched_by_source",
        "\tFROM (SELECT id, col1, col2 from source_table", "\t)", "),",
        "target AS (", "\tSELECT id, col1, col2, _valid_from, _valid_until, _is_current,",
        "\tTRUE as _matched_by_target FROM my.asset", "),",
        "current_data AS (", "\tSELECT id, col1, col2, _valid_from, _valid_until, _is_current, _matched_by_target",
        "\tFROM target as t", "\tWHERE _is_current = TRUE", "),",
        "--current or updated (expired) existing rows from target",
        "to_keep AS (", "\tSELECT t.id, t.col1, t.col2,", "\tt._valid_from,", "\t\tCASE",
        f"\t\t\tWHEN _matched_by_source IS NOT NULL AND ({changed}) THEN (SELECT now FROM time_now)",
        "\t\t\tWHEN _matched_by_source IS NULL THEN (SELECT now FROM time_now)", "\t\t\tELSE t._valid_until",
        "\t\tEND AS _valid_until,", "\t\tCASE", f"\t\t\tWHEN _matched_by_source IS NOT NULL AND ({changed}) THEN FALSE",
        "\t\t\tWHEN _matched_by_source IS NULL THEN FALSE", "\t\t\tELSE t._is_current", "\t\tEND AS _is_current",
        "\tFROM target t", "\tLEFT JOIN source s ON (t.id = s.id) AND t._is_current = TRUE", "),",
        "--new/updated rows from source",
        "to_insert AS (", "\tSELECT s.id AS id, s.col1 AS col1, s.col2 AS col2,",
        "\t(SELECT now FROM time_now) AS _valid_from,", "\tTIMESTAMPTZ '9999-12-31 23:59:59+00' AS _valid_until,",
        "\tTRUE AS _is_current", "\tFROM source s", "\tLEFT JOIN current_data t ON (t.id = s.id)",
        f"\tWHERE (_matched_by_target IS NULL) OR ({changed})", ")",
        "SELECT id, col1, col2, _valid_from, _valid_until, _is_current FROM to_keep", "UNION ALL",
        "SELECT id, col1, col2, _valid_from, _valid_until, _is_current FROM to_insert;",
    ]  # fmt: skip


def test_duckdb_scd2_rebuilds() -> None:
    columns = (Column("id", "INTEGER", primary_key=True), Column("name", "VARCHAR"), Column("ts", "TIMESTAMP"))
    assert sql("duckdb.sql", "SELECT id, name, ts from source_table;", columns=columns, full_refresh=True,
               type="table", strategy="scd2_by_column") == (
        "CREATE OR REPLACE TABLE my.asset AS\nSELECT src.id, src.name, src.ts,\nCURRENT_TIMESTAMP AS _valid_from,\n"
        "TIMESTAMPTZ '9999-12-31 23:59:59+00' AS _valid_until,\nTRUE AS _is_current\n"
        "FROM (SELECT id, name, ts from source_table\n) AS src;"
    )  # fmt: skip
    by_time = sql("duckdb.sql", columns=columns, full_refresh=True, type="table", strategy="scd2_by_time",
                  incremental_key="ts")  # fmt: skip
    assert "\nCAST(src.ts AS TIMESTAMP) AT TIME ZONE 'UTC' AS _valid_from,\n" in by_time


def test_postgres_scd2_rebuild_keeps_every_query_column() -> None:
    columns = (Column("id", primary_key=True), Column("ts", "timestamptz"))
    assert sql("pg.sql", "SELECT id, ts FROM src;", columns=columns, full_refresh=True, type="table",
               strategy="scd2_by_time", incremental_key="ts") == (
        "BEGIN TRANSACTION;\nSET LOCAL TIME ZONE 'UTC';\nDROP TABLE IF EXISTS my.asset;\nCREATE TABLE my.asset AS\n"
        "SELECT\n  CAST(ts AS TIMESTAMPTZ) AS _valid_from,\n  src.*,\n  '9999-12-31 00:00:00'::TIMESTAMPTZ AS "
        "_valid_until,\n  TRUE AS _is_current\nFROM (\nSELECT id, ts FROM src\n) AS src;\nCOMMIT;"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("asset_type", "strategy", "columns", "key", "message"),
    [
        ("duckdb.sql", "scd2_by_column", (Column("id"),), "",
         "materialization strategy scd2_by_column requires the primary_key field to be set on at least one column"),
        ("duckdb.sql", "scd2_by_column", (Column("id", primary_key=True), Column("_is_current")), "",
         "column name _is_current is reserved for SCD-2 and cannot be used"),
        ("duckdb.sql", "scd2_by_column", (Column("id", primary_key=True), Column("v", "VARCHAR")), "v",
         "incremental_key must be TIMESTAMP or DATE in SCD2_by_column strategy"),
        ("duckdb.sql", "scd2_by_time", (Column("id", primary_key=True),), "ts", "incremental_key column ts not found"),
        ("duckdb.sql", "scd2_by_time", (Column("id", primary_key=True),), "",
         "incremental_key is required for SCD2_by_time strategy"),
        ("pg.sql", "scd2_by_time", (Column("id", primary_key=True), Column("ts", "timestamptz")), "ts",
         "incremental_key must be TIMESTAMP or DATE in SCD2_by_time strategy"),
        ("pg.sql", "scd2_by_column", (Column("id", primary_key=True), Column("_valid_from")), "",
         "column name _valid_from is reserved for SCD-2 and cannot be used"),
    ],
)  # fmt: skip
def test_scd2_errors(asset_type: str, strategy: str, columns: tuple, key: str, message: str) -> None:
    fields = {"incremental_key": key} if key else {}
    found = error(asset_type, columns=columns, type="table", strategy=strategy, **fields)
    assert found == f"asset 'my.asset': {message}"


@BOTH
def test_full_refresh_rebuilds_incremental_tables_but_never_ddl(asset_type: str) -> None:
    rebuilt = sql(asset_type, full_refresh=True, type="table", strategy="append")
    assert rebuilt.startswith("BEGIN TRANSACTION;\nCREATE TABLE my.asset__bruin_tmp_x AS")
    ddl = sql(asset_type, "", columns=(Column("id", "INTEGER"),), full_refresh=True, type="table", strategy="ddl")
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS my.asset (")
    assert sql(asset_type, full_refresh=True, type="view").startswith("CREATE OR REPLACE VIEW")


@BOTH
def test_hooks_wrap_the_materialized_script(asset_type: str) -> None:
    hooks = Hooks(pre=("", "select 1;"), post=("  select 2  ",))
    assert sql(asset_type, "select 9", hooks=hooks, type="table", strategy="append") == (
        "select 1;\nINSERT INTO my.asset select 9;\nselect 2;"
    )
    assert sql(asset_type, "  select 9  ", hooks=hooks) == "select 1;\nselect 9;\nselect 2;"


def test_mysql_empties_with_delete_and_keeps_scratch_tables_temporary() -> None:
    """TRUNCATE and CREATE TABLE would commit MySQL's transaction; DELETE and TEMPORARY tables do not."""
    assert sql("my.sql", "SELECT 1;", type="table", strategy="truncate+insert") == (
        "START TRANSACTION;\nDELETE FROM my.asset;\nINSERT INTO my.asset SELECT 1;\nCOMMIT;"
    )
    assert sql("my.sql", "SELECT 1 AS dt; -- done", type="table", strategy="delete+insert", incremental_key="dt") == (
        "START TRANSACTION;\n"
        "CREATE TEMPORARY TABLE my.__bruin_tmp_x AS SELECT 1 AS dt;\n"
        "DELETE FROM my.asset WHERE dt in (SELECT DISTINCT dt FROM my.__bruin_tmp_x);\n"
        "INSERT INTO my.asset SELECT * FROM my.__bruin_tmp_x;\n"
        "DROP TEMPORARY TABLE IF EXISTS my.__bruin_tmp_x;\n"
        "COMMIT;"
    )


def test_mysql_merge_updates_by_join() -> None:
    script = sql("my.sql", "SELECT 1 AS id;", columns=MERGE_COLUMNS, type="table", strategy="merge")
    assert script.splitlines()[2] == (
        "UPDATE my.asset AS target JOIN my.__bruin_merge_tmp_x AS source ON target.id = source.id "
        "SET target.name = source.name, target.price = GREATEST(target.price, source.price);"
    )


def test_snowflake_makes_its_scratch_table_outside_the_transaction() -> None:
    """Any DDL commits Snowflake's open transaction."""
    assert sql("sf.sql", "SELECT 1 AS dt;", type="table", strategy="delete+insert", incremental_key="dt") == (
        "CREATE TEMPORARY TABLE __bruin_tmp_x AS SELECT 1 AS dt;\n"
        "BEGIN TRANSACTION;\n"
        "DELETE FROM my.asset WHERE dt in (SELECT DISTINCT dt FROM __bruin_tmp_x);\n"
        "INSERT INTO my.asset SELECT * FROM __bruin_tmp_x;\n"
        "COMMIT;\n"
        "DROP TABLE IF EXISTS __bruin_tmp_x;"
    )


def test_warehouse_merges() -> None:
    assert sql("sf.sql", "SELECT 1 AS id; -- note", columns=MERGE_COLUMNS[:2], type="table", strategy="merge") == (
        "MERGE INTO my.asset target\n"
        "USING (SELECT 1 AS id) source ON target.id = source.id\n"
        "WHEN MATCHED THEN UPDATE SET name = source.name\n"
        "WHEN NOT MATCHED THEN INSERT(id, name) VALUES(source.id, source.name);"
    )
    assert sql("bq.sql", columns=MERGE_COLUMNS[:2], type="table", strategy="merge").splitlines()[1] == (
        "USING (SELECT 1 AS id) source ON (source.id = target.id OR (source.id IS NULL AND target.id IS NULL))"
    )
    assert sql("bq.sql", type="table", strategy="truncate+insert").endswith("\nCOMMIT TRANSACTION;")
