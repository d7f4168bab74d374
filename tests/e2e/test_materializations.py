"""Materializations through the CLI on DuckDB and on the real PostgreSQL server: ports of upstream's fixtures
(two runs with different rows, the table compared row by row), time intervals, DDL, SCD2 over three runs, full
refresh and its restriction, seeds, macros, hooks and interval modifiers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from warehouses import SEED, Warehouse, csv_rows, sql_file

PLATFORMS = ["duckdb", "postgres"]
# For what does not depend on the platform (rendering, validation), DuckDB alone.
DUCKDB_ONLY = pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)


@pytest.fixture(params=PLATFORMS)
def warehouse(request: pytest.FixtureRequest, project) -> Warehouse:
    database = None
    if request.param == "postgres":
        database = request.getfixturevalue("pg_database")("bruin_e2e_mat", "mat-pw-1")
    found = Warehouse(request.param, project, database)
    found.configure()
    found.pipeline()
    return found


def run(warehouse: Warehouse, *args: str, target: str = "p") -> str:
    result = warehouse.project.bruin("run", "--no-log-file", *args, target)
    assert result.returncode == 0, result.output
    return result.stdout


def write(warehouse: Warehouse, name: str, header: str, body: str, *, file: str = "asset") -> None:
    warehouse.project.write(f"p/assets/{file}.sql", sql_file(name, warehouse.asset_type, header, body))


# --- two runs per strategy (upstream's duckdb-materialization-* fixtures) --------------------------------------

PORTS = {
    "create+replace": (
        "test.orders",
        "columns:\n  - {name: order_id, type: INTEGER, primary_key: true}\n  - {name: product_name, type: VARCHAR}",
        "SELECT 1 AS order_id, 'Laptop' AS product_name, 2 AS quantity, 1999.98 AS total_amount\n"
        "UNION ALL SELECT 2, 'Mouse', 5, 124.95\nUNION ALL SELECT 3, 'Keyboard', 3, 269.97",
        "SELECT 10 AS order_id, 'Monitor' AS product_name, 1 AS quantity, 399.99 AS total_amount\n"
        "UNION ALL SELECT 20, 'Webcam', 2, 159.98",
        "1,Laptop,2,1999.98\n2,Mouse,5,124.95\n3,Keyboard,3,269.97",
        "10,Monitor,1,399.99\n20,Webcam,2,159.98",
    ),
    "append": (
        "test.logs",
        "",
        "SELECT 1 AS log_id, 'User login' AS event, '2024-01-01' AS event_date\n"
        "UNION ALL SELECT 2, 'Page view', '2024-01-01'\nUNION ALL SELECT 3, 'User logout', '2024-01-01'",
        "SELECT 4 AS log_id, 'Button click' AS event, '2024-01-02' AS event_date\n"
        "UNION ALL SELECT 5, 'Form submit', '2024-01-02'",
        "1,User login,2024-01-01\n2,Page view,2024-01-01\n3,User logout,2024-01-01",
        "1,User login,2024-01-01\n2,Page view,2024-01-01\n3,User logout,2024-01-01\n4,Button click,2024-01-02\n"
        "5,Form submit,2024-01-02",
    ),
    "delete+insert": (
        "test.products",
        "  incremental_key: product_id",
        "SELECT 1 AS product_id, 'Laptop' AS product_name, 'Electronics' AS category, 1999.99 AS price\n"
        "UNION ALL SELECT 2, 'Mouse', 'Electronics', 25.99\nUNION ALL SELECT 3, 'Desk', 'Furniture', 499.99",
        "SELECT 1 AS product_id, 'Laptop Pro' AS product_name, 'Electronics' AS category, 1599.99 AS price\n"
        "UNION ALL SELECT 2, 'Mouse', 'Electronics', 25.99\nUNION ALL SELECT 4, 'Chair', 'Furniture', 299.99",
        "1,Laptop,Electronics,1999.99\n2,Mouse,Electronics,25.99\n3,Desk,Furniture,499.99",
        "1,Laptop Pro,Electronics,1599.99\n2,Mouse,Electronics,25.99\n3,Desk,Furniture,499.99\n"
        "4,Chair,Furniture,299.99",
    ),
    "truncate+insert": (
        "test.books",
        "",
        "SELECT 1 AS book_id, 'The Great Gatsby' AS title, 'F. Scott Fitzgerald' AS author, 1925 AS year\n"
        "UNION ALL SELECT 2, '1984', 'George Orwell', 1949\nUNION ALL SELECT 3, 'To Kill a Mockingbird', "
        "'Harper Lee', 1960",
        "SELECT 10 AS book_id, 'Harry Potter' AS title, 'J.K. Rowling' AS author, 1997 AS year\n"
        "UNION ALL SELECT 20, 'The Hobbit', 'J.R.R. Tolkien', 1937",
        "1,The Great Gatsby,F. Scott Fitzgerald,1925\n2,1984,George Orwell,1949\n"
        "3,To Kill a Mockingbird,Harper Lee,1960",
        "10,Harry Potter,J.K. Rowling,1997\n20,The Hobbit,J.R.R. Tolkien,1937",
    ),
    "merge": (
        "test.inventory",
        "columns:\n  - {name: item_id, type: INTEGER, primary_key: true}\n"
        "  - {name: item_name, type: VARCHAR, update_on_merge: true}\n  - {name: stock, type: INTEGER}\n"
        "  - {name: unit_price, type: DOUBLE, update_on_merge: false}",
        "SELECT 1 AS item_id, 'Widget' AS item_name, 100 AS stock, 1999.99 AS unit_price\n"
        "UNION ALL SELECT 2, 'Gadget', 50, 799.99\nUNION ALL SELECT 3, 'Tool', 25, 299.99",
        "SELECT 1 AS item_id, 'Widget Pro' AS item_name, 100 AS stock, 1239.99 AS unit_price\n"
        "UNION ALL SELECT 2, 'Gadget', 200, 749.99\nUNION ALL SELECT 4, 'Accessory', 250, 249.99",
        "1,Widget,100,1999.99\n2,Gadget,50,799.99\n3,Tool,25,299.99",
        "1,Widget Pro,100,1999.99\n2,Gadget,50,799.99\n3,Tool,25,299.99\n4,Accessory,250,249.99",
    ),
}


@pytest.mark.parametrize("strategy", list(PORTS))
def test_two_runs_per_strategy(warehouse: Warehouse, strategy: str) -> None:
    table, extra, first, second, initial, after = PORTS[strategy]
    materialization = f"materialization:\n  type: table\n  strategy: {strategy}\n"
    header = materialization + (extra + "\n" if extra.startswith("  ") else "") + (
        extra if not extra.startswith("  ") else "")  # fmt: skip
    query = f"SELECT * FROM {table} ORDER BY 1"

    write(warehouse, table, header, first)
    run(warehouse, "--full-refresh")
    assert warehouse.rows(query) == csv_rows(initial)
    write(warehouse, table, header, second)
    run(warehouse)
    assert warehouse.rows(query) == csv_rows(after)


def test_truncate_insert_keeps_the_table_definition(warehouse: Warehouse) -> None:
    header = "materialization:\n  type: table\n  strategy: truncate+insert"
    write(warehouse, "test.books", header, "SELECT 1 AS book_id, 'a' AS title")
    run(warehouse, "--full-refresh")
    shape = warehouse.rows("select column_name, data_type from information_schema.columns "
                           "where table_name = 'books' order by ordinal_position")  # fmt: skip
    write(warehouse, "test.books", header, "SELECT 2, 'b'")
    run(warehouse)
    assert warehouse.rows("select column_name, data_type from information_schema.columns "
                          "where table_name = 'books' order by ordinal_position") == shape  # fmt: skip
    assert warehouse.rows("SELECT * FROM test.books") == [("2", "b")]


def test_first_run_builds_the_table_and_full_refresh_rebuilds_it(warehouse: Warehouse) -> None:
    """A missing table is built as a full refresh would build it (upstream fails instead); `--full-refresh`
    rebuilds incremental tables, append included."""
    header = "materialization:\n  type: table\n  strategy: delete+insert\n  incremental_key: id"
    write(warehouse, "test.t", header, "SELECT 1 AS id, 'first' AS v UNION ALL SELECT 2, 'first'")
    run(warehouse)
    write(warehouse, "test.t", header, "SELECT 2 AS id, 'second' AS v")
    run(warehouse)
    assert warehouse.rows("SELECT * FROM test.t ORDER BY 1") == [("1", "first"), ("2", "second")]
    run(warehouse, "--full-refresh")
    assert warehouse.rows("SELECT * FROM test.t ORDER BY 1") == [("2", "second")]

    write(warehouse, "test.log", "materialization:\n  type: table\n  strategy: append", "SELECT 1 AS n", file="log")
    for args in ((), (), ("--full-refresh",)):
        run(warehouse, *args)
    assert warehouse.rows("SELECT * FROM test.log") == [("1",)]


# --- time_interval (upstream's time_materialization workflow) ---------------------------------------------------

TIME_HEADER = """materialization:
  type: table
  strategy: time_interval
  time_granularity: {granularity}
  incremental_key: dt
columns:
  - {{name: product_id, type: INTEGER, primary_key: true}}
  - {{name: price, type: FLOAT}}"""
MARCH = "\nUNION ALL ".join(
    f"SELECT {i} AS product_id, 'p{i}' AS product_name, {i}.5 AS price, DATE '2025-03-{day:02d}' AS dt"
    for i, day in enumerate((1, 16, 14, 15, 10, 9, 11, 12, 13, 8, 13), start=1)
)
APRIL = "\nUNION ALL ".join(
    f"SELECT {i} AS product_id, 'p{i}' AS product_name, {i}.75 AS price, DATE '2025-04-02' AS dt" for i in range(1, 10)
)


def test_time_interval_replaces_the_runs_interval(warehouse: Warehouse) -> None:
    header = TIME_HEADER.format(granularity="date")
    write(warehouse, "products", header, MARCH + ";")
    run(warehouse, "--full-refresh")
    assert len(warehouse.rows("SELECT * FROM products")) == 11

    write(warehouse, "products", header, APRIL)
    run(warehouse, "--start-date", "2025-03-01", "--end-date", "2025-03-31")
    assert warehouse.rows("SELECT product_id, dt FROM products ORDER BY 1") == [
        (str(i), "2025-04-02") for i in range(1, 10)
    ]  # the inserted rows are not filtered to the interval, as upstream's are not


def test_consecutive_intervals_by_timestamp(warehouse: Warehouse) -> None:
    header = TIME_HEADER.format(granularity="timestamp").replace("dt\n", "ts\n")
    body = "SELECT {id} AS product_id, 1.5 AS price, TIMESTAMP '{{{{ start_date }}}} 06:00:00' AS ts"
    for day, identifier in (("2024-05-01", 1), ("2024-05-02", 2), ("2024-05-01", 3)):
        write(warehouse, "events", header, body.format(id=identifier))
        run(warehouse, "--start-date", f"{day} 00:00:00", "--end-date", f"{day} 23:59:59.999999")
    assert warehouse.rows("SELECT product_id, ts FROM events ORDER BY ts") == [
        ("3", "2024-05-01T06:00:00Z"), ("2", "2024-05-02T06:00:00Z"),
    ]  # fmt: skip


# --- ddl (upstream's duckdb-materialization-ddl) ---------------------------------------------------------------


def test_ddl_builds_the_table_from_its_columns_and_full_refresh_leaves_it(warehouse: Warehouse) -> None:
    header = """materialization:
  type: table
  strategy: ddl
columns:
  - {name: customer_id, type: INTEGER, primary_key: true, description: "The customer's id"}
  - {name: name, type: VARCHAR, length: 50}
  - {name: email, type: VARCHAR}
  - {name: created_at, type: TIMESTAMP, default: CURRENT_TIMESTAMP}"""
    write(warehouse, "test.customers", header, "")
    output = run(warehouse, "--full-refresh")
    assert "[test.customers] >> Full refresh detected, but DDL strategy is in use — table will NOT be dropped or " \
           "recreated." in output  # fmt: skip
    assert warehouse.rows("SELECT COUNT(*) as row_count FROM test.customers") == [("0",)]
    assert [row[0] for row in warehouse.rows(
        "select column_name from information_schema.columns where table_name = 'customers' order by ordinal_position"
    )] == ["customer_id", "name", "email", "created_at"]  # fmt: skip
    with_row = "INSERT INTO test.customers (customer_id, name, email) VALUES (1, 'ann', 'a@x')"
    write(warehouse, "seed_row", "depends: [test.customers]", with_row, file="seed_row")
    run(warehouse, "--full-refresh")
    assert warehouse.rows("SELECT customer_id, name FROM test.customers") == [("1", "ann")]


# --- SCD2 (upstream's duckdb-scd2-tests) ----------------------------------------------------------------------

MENU_HEADER = """materialization:
  type: table
  strategy: scd2_by_column
columns:
  - {name: ID, type: INTEGER, primary_key: true}
  - {name: Name, type: VARCHAR, primary_key: true}
  - {name: Price, type: FLOAT}"""
MENUS = (
    "SELECT 1 AS ID, 'Cola' AS Name, 3.99 AS Price UNION ALL SELECT 2, 'Tea', 4.99 UNION ALL SELECT 3, 'Coffee', 5.99",
    "SELECT 1 AS ID, 'Cola' AS Name, 7.99 AS Price UNION ALL SELECT 2, 'Tea', 4.99 UNION ALL SELECT 4, 'Fanta', 1.99",
    "SELECT 1 AS ID, 'Cola' AS Name, 0.99 AS Price",
)
MENU_STATES = (
    "1,Cola,3.99,true\n2,Tea,4.99,true\n3,Coffee,5.99,true",
    "1,Cola,3.99,false\n1,Cola,7.99,true\n2,Tea,4.99,true\n3,Coffee,5.99,false\n4,Fanta,1.99,true",
    "1,Cola,3.99,false\n1,Cola,7.99,false\n1,Cola,0.99,true\n2,Tea,4.99,false\n3,Coffee,5.99,false\n4,Fanta,1.99,false",
)


def test_scd2_by_column_over_three_runs(warehouse: Warehouse) -> None:
    for number, (menu, state) in enumerate(zip(MENUS, MENU_STATES, strict=True)):
        write(warehouse, "test.menu", MENU_HEADER, menu)
        run(warehouse, *(("--full-refresh",) if number == 0 else ()))
        assert warehouse.rows("SELECT ID, Name, Price, _is_current FROM test.menu ORDER BY ID, _valid_from") == (
            csv_rows(state)
        ), number
    assert warehouse.column_types("test.menu", ("_valid_from", "_valid_until")) == [
        ("_valid_from", "TIMESTAMP WITH TIME ZONE"), ("_valid_until", "TIMESTAMP WITH TIME ZONE"),
    ]  # fmt: skip


PRODUCTS_HEADER = """materialization:
  type: table
  strategy: scd2_by_time
  incremental_key: dt
columns:
  - {name: product_id, type: INTEGER, primary_key: true}
  - {name: product_name, type: VARCHAR, primary_key: true}
  - {name: dt, type: DATE}
  - {name: stock, type: INTEGER}"""


def products(*rows: tuple[int, str, int, str]) -> str:
    return "\nUNION ALL ".join(
        f"SELECT {i} AS product_id, '{name}' AS product_name, {stock} AS stock, DATE '{day}' AS dt"
        for i, name, stock, day in rows
    )


PRODUCT_RUNS = (
    products((1, "Laptop", 100, "2025-04-02"), (2, "Smartphone", 150, "2025-04-02"),
             (3, "Headphones", 175, "2025-04-02"), (4, "Monitor", 25, "2025-04-02")),
    products((1, "Laptop", 100, "2025-04-02"), (2, "Smartphone", 150, "2025-04-02"),
             (3, "Headphones", 900, "2025-06-02"), (5, "ps5", 25, "2025-06-02")),
    products((3, "Headphones", 1200, "2025-06-10")),
)  # fmt: skip
PRODUCT_STATES = (
    "1,Laptop,100,true,2025-04-02T00:00:00Z\n2,Smartphone,150,true,2025-04-02T00:00:00Z\n"
    "3,Headphones,175,true,2025-04-02T00:00:00Z\n4,Monitor,25,true,2025-04-02T00:00:00Z",
    "1,Laptop,100,true,2025-04-02T00:00:00Z\n2,Smartphone,150,true,2025-04-02T00:00:00Z\n"
    "3,Headphones,175,false,2025-04-02T00:00:00Z\n3,Headphones,900,true,2025-06-02T00:00:00Z\n"
    "4,Monitor,25,false,2025-04-02T00:00:00Z\n5,ps5,25,true,2025-06-02T00:00:00Z",
    "1,Laptop,100,false,2025-04-02T00:00:00Z\n2,Smartphone,150,false,2025-04-02T00:00:00Z\n"
    "3,Headphones,175,false,2025-04-02T00:00:00Z\n3,Headphones,900,false,2025-06-02T00:00:00Z\n"
    "3,Headphones,1200,true,2025-06-10T00:00:00Z\n4,Monitor,25,false,2025-04-02T00:00:00Z\n"
    "5,ps5,25,false,2025-06-02T00:00:00Z",
)


def test_scd2_by_time_over_three_runs(warehouse: Warehouse) -> None:
    query = ("SELECT product_id, product_name, stock, _is_current, _valid_from FROM test.products "
             "ORDER BY product_id, _valid_from")  # fmt: skip
    for number, (body, state) in enumerate(zip(PRODUCT_RUNS, PRODUCT_STATES, strict=True)):
        write(warehouse, "test.products", PRODUCTS_HEADER, body)
        run(warehouse, *(("--full-refresh",) if number == 0 else ()))
        assert warehouse.rows(query) == csv_rows(state), number


# --- full refresh restricted ------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["asset", "environment"])
def test_a_restricted_full_refresh_runs_incrementally(warehouse: Warehouse, where: str) -> None:
    if where == "environment":
        warehouse.configure(config={"full_refresh_restricted": True})
    header = "materialization:\n  type: table\n  strategy: append" + (
        "\nfull_refresh_restricted: true" if where == "asset" else "")  # fmt: skip
    write(warehouse, "test.kept", header, "SELECT {{ full_refresh }} AS refreshed")
    run(warehouse)
    output = run(warehouse, "--full-refresh")
    assert '[test.kept] >> Warning: full refresh is restricted for asset "test.kept"; running incrementally.' in output
    assert warehouse.rows("SELECT refreshed FROM test.kept") == [("false",), ("false",)]


# --- seeds --------------------------------------------------------------------------------------------------------

def test_seeds_load_their_csv_with_declared_types_and_replace_it(warehouse: Warehouse) -> None:
    project = warehouse.project
    project.write("p/assets/people.asset.yml", SEED.format(name="raw.people", type=warehouse.seed_type))
    project.write("p/assets/people.csv", "id,score,name,joined\n1,2.5,ann,2024-01-02\n2,,bob,2024-02-03\n")
    project.write(
        "p/assets/report.sql",
        sql_file("report", warehouse.asset_type, "depends: [raw.people]\nmaterialization: {type: view}",
                 "select count(*) as n, sum(score) as total from raw.people"),
    )  # fmt: skip
    run(warehouse)
    assert warehouse.rows("select id, score, name, joined from raw.people order by id") == [
        ("1", "2.5", "ann", "2024-01-02"), ("2", "", "bob", "2024-02-03"),
    ]  # fmt: skip
    types = dict(warehouse.rows("select column_name, data_type from information_schema.columns "
                                "where table_name = 'people'"))  # fmt: skip
    assert types["id"] == "INTEGER" if warehouse.platform == "duckdb" else types["id"] == "integer"
    assert types["joined"] in ("DATE", "date")

    project.write("p/assets/people.csv", "id,score,name,joined\n7,1.0,cid,2024-03-04\n")
    run(warehouse)
    assert warehouse.rows("select id, name from raw.people") == [("7", "cid")]
    assert warehouse.rows("select n from report") == [("1",)]


def test_a_seed_whose_values_do_not_fit_fails_in_one_line_and_keeps_the_table(warehouse: Warehouse) -> None:
    project = warehouse.project
    project.write("p/assets/people.asset.yml", SEED.format(name="raw.people", type=warehouse.seed_type))
    project.write("p/assets/people.csv", "id,score,name\n1,2.5,ann\n")
    run(warehouse)
    project.write("p/assets/people.csv", "id,score,name\n1,2.5,ann\nseven,1,bob\n")
    result = project.bruin("run", "--no-log-file", "p")
    assert result.returncode == 1
    failed = next(line for line in result.stdout.splitlines() if "Failed: raw.people" in line)
    assert "asset 'raw.people': cannot load people.csv: " in failed
    assert warehouse.rows("select id, name from raw.people") == [("1", "ann")]


# --- macros (upstream's macros-pipeline) -------------------------------------------------------------------------


@DUCKDB_ONLY
def test_macros_are_available_to_every_asset(warehouse: Warehouse) -> None:
    project = warehouse.project
    project.write("p/macros/filters.sql", "{# filters #}\n{% macro active(col) %}{{ col }} = 'active'{% endmacro %}")
    project.write("p/macros/aggregations.sql", "{% macro total(col) -%}\nsum({{ col }})\n{%- endmacro %}")
    project.write("p/assets/base.sql", sql_file(
        "base", warehouse.asset_type, "materialization: {type: table}",
        "select 'active' as status, 2 as amount union all select 'gone', 5 union all select 'active', 3",
    ))  # fmt: skip
    project.write("p/assets/totals.sql", sql_file(
        "totals", warehouse.asset_type, "depends: [base]\nmaterialization: {type: table}",
        "select {{ total('amount') }} as total from base where {{ active('status') }}",
    ))  # fmt: skip
    project.write("p/assets/check.sql", sql_file(
        "checked", warehouse.asset_type, "depends: [totals]\nmaterialization: {type: view}",
        "{% raw %}select '{{ not rendered }}' as raw_text{% endraw %}, {{ total('total') }} as t from totals",
    ))  # fmt: skip
    output = run(warehouse)
    assert "3 succeeded" in output or "succeeded  3" in output
    assert warehouse.rows("select total from totals") == [("5",)]
    assert warehouse.rows("select raw_text, t from checked") == [("{{ not rendered }}", "5")]


# --- hooks (upstream's duckdb_hooks_workflow) --------------------------------------------------------------------


HOOK_HEADER = """materialization: {type: table}
hooks:
  pre:
    - query: "CREATE SCHEMA IF NOT EXISTS hooks_test"
    - query: "CREATE TABLE IF NOT EXISTS hooks_test.hook_log (step INTEGER)"
    - query: "DELETE FROM hooks_test.hook_log"
    - query: "INSERT INTO hooks_test.hook_log VALUES (1)"
  post:
    - query: "INSERT INTO hooks_test.hook_log SELECT count(*) + 1 FROM {{ this }}"
"""


def test_hooks_run_around_the_asset_in_the_same_script(warehouse: Warehouse) -> None:
    write(warehouse, "hooks_test.main_table", HOOK_HEADER, "SELECT 1 AS id")
    output = run(warehouse)
    assert "Finished: hooks_test.main_table" in output
    assert warehouse.rows("SELECT step FROM hooks_test.hook_log ORDER BY step") == [("1",), ("2",)]


def test_a_failing_hook_fails_the_asset_and_its_downstream(warehouse: Warehouse) -> None:
    header = "materialization: {type: table}\nhooks:\n  post:\n    - query: select * from no_such_table"
    write(warehouse, "test.hooked", header, "SELECT 1 AS id")
    warehouse.project.write("p/assets/after.sql", sql_file("after", warehouse.asset_type, "depends: [test.hooked]",
                                                           "select 1"))  # fmt: skip
    result = warehouse.project.bruin("run", "--no-log-file", "p")
    assert result.returncode == 1
    assert "Failed: test.hooked" in result.stdout and "no_such_table" in result.stdout
    assert "Skipped: after" in result.stdout


def test_pipeline_default_hooks_reach_the_listed_types(warehouse: Warehouse) -> None:
    warehouse.pipeline(extra=f"default:\n  hooks:\n    applicable_type: [{warehouse.asset_type}]\n"
                             "    pre:\n      - query: create table if not exists ran (asset varchar)\n"
                             "    post:\n      - query: \"insert into ran values ('{{ this }}')\"\n")  # fmt: skip
    write(warehouse, "one", "", "select 1", file="one")
    write(warehouse, "two", "depends: [one]", "select 2", file="two")
    run(warehouse)
    assert warehouse.rows("select asset from ran order by asset") == [("one",), ("two",)]


# --- interval modifiers (upstream's interval_modifiers workflow) ------------------------------------------------

MODIFIED = """materialization: {type: table}
interval_modifiers:
  start: -2h
  end: -2h"""
HOURLY = (
    "with t2 as (" + " UNION ALL ".join(
        f"SELECT {i} AS product_id, {i * 100} AS price, TIMESTAMP '2025-04-02 {7 + i:02d}:00:00' AS dt" for i in
        range(1, 10)
    ) + ")\nSELECT product_id, price, dt FROM t2 WHERE dt between '{{ start_timestamp }}' and '{{ end_timestamp }}'"
)  # fmt: skip


@DUCKDB_ONLY
def test_interval_modifiers_shift_the_interval_when_asked(warehouse: Warehouse) -> None:
    write(warehouse, "products", MODIFIED, HOURLY)
    window = ("--start-date", "2025-04-02T09:30:00.000Z", "--end-date", "2025-04-02T11:30:00.000Z")
    run(warehouse, *window)
    assert [row[0] for row in warehouse.rows("SELECT product_id FROM products ORDER BY 1")] == ["3", "4"]
    run(warehouse, "--apply-interval-modifiers", *window)
    assert warehouse.rows("SELECT product_id, price, dt FROM products ORDER BY 1") == [
        ("1", "100", "2025-04-02T08:00:00Z"), ("2", "200", "2025-04-02T09:00:00Z"),
    ]  # fmt: skip
    output = run(warehouse, "--apply-interval-modifiers", "--full-refresh", *window)
    assert "Warning: --apply-interval-modifiers flag is ignored when --full-refresh is enabled." in output
    assert [row[0] for row in warehouse.rows("SELECT product_id FROM products ORDER BY 1")] == ["3", "4"]


# --- bad input: validate and run refuse it in one line naming the file --------------------------------------------

BAD = {
    "time_interval without incremental_key": (
        "materialization: {type: table, strategy: time_interval, time_granularity: date}",
        "Materialization strategy 'time_interval' requires the 'incremental_key' field to be set in assets/bad.sql",
    ),
    "merge without primary keys": (
        "materialization: {type: table, strategy: merge}\ncolumns: [{name: id}]",
        "Materialization strategy 'merge' requires the 'primary_key' field to be set on at least one column in "
        "assets/bad.sql",
    ),
    "a strategy on a view": (
        "materialization: {type: view, strategy: merge}",
        "Materialization strategy is not supported for views in assets/bad.sql",
    ),
}


@DUCKDB_ONLY
@pytest.mark.parametrize("case", list(BAD))
def test_bad_materializations_are_refused_in_one_line(warehouse: Warehouse, case: str) -> None:
    header, message = BAD[case]
    warehouse.project.write("p/assets/bad.sql", sql_file("bad", warehouse.asset_type, header, "select 1 as id"))
    validated = warehouse.project.bruin("validate", "p")
    assert validated.returncode == 1
    assert f"  bad (assets/bad.sql)\n    └── {message}" in validated.stdout
    ran = warehouse.project.bruin("run", "--no-log-file", "p")
    assert ran.returncode == 1
    assert f"Failed: bad (0.00s): {message}" in ran.stdout


BAD_FILES: dict[str, tuple[dict[str, str], str, Callable[[str], bool]]] = {
    "a macro that does not exist": (
        {"p/assets/bad.sql": "select {{ no_such_macro() }}"},
        "asset 'bad': template error at line 1: 'no_such_macro' is undefined",
        lambda command: command == "run",
    ),
    "a seed whose CSV lacks a declared column": (
        {"p/assets/bad.asset.yml": "name: bad\ntype: SEED\nparameters: {path: bad.csv}\ncolumns: [{name: email}]\n",
         "p/assets/bad.csv": "id,name\n1,a\n"},
        "Column 'email' is defined in the asset but does not exist in the CSV in assets/bad.asset.yml",
        lambda command: True,
    ),
    "a malformed interval modifier": (
        {"p/assets/bad.sql": "select 1", "p/pipeline.yml": "name: p\ndefault:\n  interval_modifiers: {start: 2x}\n"},
        ':3: unknown interval suffix "x" in "2x"; must be h, m, s, d, M, ms, or ns',
        lambda command: True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FILES))
@DUCKDB_ONLY
def test_bad_files_fail_in_one_line(warehouse: Warehouse, case: str) -> None:
    files, message, checked_by = BAD_FILES[case]
    for relative, content in files.items():
        if relative.endswith(".sql"):
            content = sql_file("bad", warehouse.asset_type, "", content)
        warehouse.project.write(relative, content.replace("SEED", warehouse.seed_type))
    for command in ("validate", "run"):
        result = warehouse.project.bruin(command, *(["--no-log-file"] if command == "run" else []), "p")
        if not checked_by(command):
            continue
        assert result.returncode == 1, result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_python_assets_see_their_shifted_interval_and_restricted_refresh(project) -> None:
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("py/pipeline.yml", "name: py\n")
    project.write("py/assets/show.py", '"""@bruin\nname: show\ninterval_modifiers: {start: -1d, end: 2h}\n'
                                       'refresh_restricted: true\n@bruin"""\nimport os\n'
                                       'print(os.environ["BRUIN_START_DATETIME"], os.environ["BRUIN_END_DATETIME"], '
                                       'repr(os.environ["BRUIN_FULL_REFRESH"]))\n')  # fmt: skip
    window = ("--start-date", "2024-05-02", "--end-date", "2024-05-02 10:00:00")
    plain = project.bruin("run", "--no-log-file", *window, "py")
    assert "[show] >> 2024-05-02T00:00:00 2024-05-02T10:00:00 ''" in plain.stdout, plain.output
    shifted = project.bruin("run", "--no-log-file", "--apply-interval-modifiers", *window, "py")
    assert "[show] >> 2024-05-01T00:00:00 2024-05-02T12:00:00 ''" in shifted.stdout, shifted.output
    refreshed = project.bruin("run", "--no-log-file", "--full-refresh", *window, "py")
    assert "[show] >> 2024-05-02T00:00:00 2024-05-02T10:00:00 ''" in refreshed.stdout, refreshed.output
