"""Quality checks through the `bruin` CLI: ports of upstream's check fixtures and templates on DuckDB, the same
on the real PostgreSQL server, blocking and non-blocking checks, `--only`, `--single-check`, `--downstream`,
bad definitions, and a check failure on a connection whose password is a canary."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from fixtures.postgres_server import PgDatabase

if TYPE_CHECKING:
    from conftest import BruinProject

CANARY = f"canary-checks-{uuid.uuid4().hex}"


def duckdb_yml(*names: str) -> str:
    connections = [{"name": name, "path": "warehouse.db"} for name in names or ("duckdb-default",)]
    return json.dumps({"environments": {"default": {"connections": {"duckdb": connections}}}})


def pipeline_yml(name: str, duckdb: str = "", extra: str = "") -> str:
    return f"name: {name}\n" + (f"default_connections:\n  duckdb: {duckdb}\n" if duckdb else "") + extra


@dataclass(frozen=True)
class Warehouse:
    """Where a ported fixture runs: a DuckDB file or a database on the real PostgreSQL server."""

    platform: str
    details: Mapping[str, object]

    def bruin_yml(self, connection: str) -> str:
        connections = {self.platform: [{"name": connection, **self.details}]}
        return json.dumps({"environments": {"default": {"connections": connections}}})

    def pipeline_yml(self, name: str, connection: str) -> str:
        return f"name: {name}\ndefault_connections:\n  {self.platform}: {connection}\n"

    def asset(self, text: str) -> str:
        return text.replace("type: duckdb.sql", "type: pg.sql") if self.platform == "postgres" else text


DUCKDB = Warehouse("duckdb", {"path": "warehouse.db"})


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    if request.param == "duckdb":
        return DUCKDB
    pg_database: Callable[[str, str], PgDatabase] = request.getfixturevalue("pg_database")
    return Warehouse("postgres", pg_database("bruin_e2e_ports", CANARY).details())


def statuses(tasks: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
    return {name: task["status"] for name, task in tasks.items()}


# --- upstream's fixtures ------------------------------------------------------------------------------

PRODUCTS_ROWS = """
SELECT 1 AS product_id, 'Laptop' AS product_name, 999.99 AS price, 10 AS stock
UNION ALL SELECT 2, 'Smartphone', 699.99, 50
UNION ALL SELECT 3, 'Headphones', 199.99, 100
UNION ALL SELECT 4, 'Monitor', 299.99, 25;
"""


def products_asset(custom_checks: str = "", name: str = "name: products\n") -> str:
    return (
        f"/* @bruin\n{name}type: duckdb.sql\nmaterialization:\n  type: table\ncolumns:\n"
        "  - name: product_id\n    type: INTEGER\n    primary_key: true\n"
        "  - name: price\n    type: FLOAT\n    checks:\n      - name: positive\n"
        f"  - name: stock\n    type: INTEGER\n{custom_checks}@bruin */\n{PRODUCTS_ROWS}"
    )


@pytest.mark.parametrize(("count", "code"), [(7, 1), (4, 0)])
def test_custom_check_count_pipelines(project, warehouse: Warehouse, count: int, code: int) -> None:
    """Upstream's `custom-check-count-false` / `-true`: `count` wraps the query in a row count."""
    project.write(".bruin.yml", warehouse.bruin_yml("custom-check-count"))
    project.write("p/pipeline.yml", warehouse.pipeline_yml("custom-check-count", "custom-check-count"))
    custom = f"custom_checks:\n   - name:  row_count\n     count: {count}\n     query:  Select * FROM products\n"
    project.write("p/assets/products.sql", warehouse.asset(products_asset(custom)))

    result = project.bruin("run", "p")

    assert result.returncode == code, result.output
    assert "Finished: products:price:positive" in result.stdout
    if code:
        assert "Failed: products:custom-check:row_count" in result.stdout
        assert "custom check 'row_count' has returned 4 instead of the expected 7" in result.stdout
    else:
        assert "Finished: products:custom-check:row_count" in result.stdout


SUMMARY = """/* @bruin
type: duckdb.sql
materialization:
  type: table
depends:
  - products
columns:
  - name: price_range
    type: VARCHAR
  - name: total_stock
    type: INTEGER
    checks:
      - name: non_negative
  - name: product_count
    type: INTEGER
    checks:
      - name: non_negative
@bruin */
SELECT CASE WHEN price < 200 THEN 'Below $200' WHEN price BETWEEN 200 AND 500 THEN '$200 - $500'
            WHEN price BETWEEN 501 AND 1000 THEN '$501 - $1000' ELSE 'Above $1000' END AS price_range,
       SUM(stock) AS total_stock, COUNT(*) AS product_count
FROM products GROUP BY 1 ORDER BY 1;
"""
CATEGORIES = """/* @bruin
type: duckdb.sql
materialization:
  type: table
columns:
  - name: category_id
    type: INTEGER
    checks:
      - name: not_null
      - name: positive
  - name: category_name
    type: VARCHAR
    checks:
      - name: not_null
@bruin */
SELECT 1 AS category_id, 'Electronics' AS category_name UNION ALL SELECT 2, 'Accessories';
"""


def write_downstream_pipeline(project: BruinProject, warehouse: Warehouse = DUCKDB) -> None:
    """Upstream's `run-with-downstream-pipeline`: two of its three assets are nameless (named from the path)."""
    project.write(".bruin.yml", warehouse.bruin_yml("run-with-downstream"))
    project.write("p/pipeline.yml", warehouse.pipeline_yml("run-with-downstream", "run-with-downstream"))
    project.write("p/assets/products.sql", warehouse.asset(products_asset()))
    project.write("p/assets/product_price_summary.sql", warehouse.asset(SUMMARY))
    project.write("p/assets/product_categories.sql", warehouse.asset(CATEGORIES))


def test_downstream_runs_the_checks_of_every_selected_asset(project, warehouse: Warehouse) -> None:
    write_downstream_pipeline(project, warehouse)

    result, tasks = project.run_json("--downstream", "p/assets/products.sql")

    assert result.returncode == 0, result.output
    for name in ("products", "products:price:positive", "product_price_summary",
                 "product_price_summary:product_count:non_negative", "product_price_summary:total_stock:non_negative"):
        assert f"Finished: {name}" in result.stderr
        assert tasks[name]["status"] == "succeeded"  # fmt: skip
    assert "product_categories" not in result.stderr


def test_only_main_with_downstream_runs_no_check(project, warehouse: Warehouse) -> None:
    """Upstream's `run-main-with-downstream`."""
    write_downstream_pipeline(project, warehouse)

    result, tasks = project.run_json("--downstream", "--only", "main", "p/assets/products.sql")

    assert result.returncode == 0, result.output
    assert "Finished: products" in result.stderr and "Finished: product_price_summary" in result.stderr
    assert set(tasks) == {"products", "product_price_summary"}
    assert ":non_negative" not in result.stderr and ":positive" not in result.stderr


def test_the_duckdb_example_template_runs_every_check(project) -> None:
    """Upstream's `duckdb-example` template (and the column checks of its `duckdb` template)."""
    project.write(".bruin.yml", duckdb_yml())
    project.write("p/pipeline.yml", "name: duckdb-example-pipeline\ncatchup: false\n")
    project.write("p/assets/products.sql", products_asset())
    named_summary = SUMMARY.replace("type: duckdb.sql", "name: product_price_summary\ntype: duckdb.sql")
    project.write("p/assets/product_price_summary.sql", named_summary)
    project.write("p/assets/product_categories.sql", CATEGORIES.replace("positive", "non_negative"))
    project.write("p/assets/example.sql", """
        /* @bruin
        type: duckdb.sql
        materialization:
          type: table
        columns:
          - name: id
            type: integer
            primary_key: true
            checks:
              - name: not_null
              - name: positive
              - name: non_negative
          - name: country
            type: varchar
            checks:
              - name: not_null
          - name: name
            type: varchar
            checks:
              - name: unique
              - name: not_null
        @bruin */
        SELECT 1 AS id, 'spain' AS country, 'alberto' AS name
        UNION ALL SELECT 2, 'germany', 'frank'
        UNION ALL SELECT 3, 'germany', 'franz'
        """)  # fmt: skip

    result, tasks = project.run_json("p")

    assert result.returncode == 0, result.output
    checks = [name for name in tasks if name.count(":") == 2]
    assert sorted(checks) == sorted([
        "example:id:not_null", "example:id:positive", "example:id:non_negative", "example:country:not_null",
        "example:name:unique", "example:name:not_null", "product_categories:category_id:not_null",
        "product_categories:category_id:non_negative", "product_categories:category_name:not_null",
        "products:price:positive", "product_price_summary:total_stock:non_negative",
        "product_price_summary:product_count:non_negative",
    ])  # fmt: skip
    assert set(statuses(tasks).values()) == {"succeeded"}
    assert tasks["example:id:positive"]["query"] == "SELECT count(*) FROM main.example WHERE id <= 0"


def test_custom_checks_are_rendered_like_the_asset(project) -> None:
    """Upstream's `render-template-this-pipeline`: `{{ this }}` in a custom check is the asset's name."""
    project.write(".bruin.yml", duckdb_yml("duckdb-render-template-this"))
    variables = "variables:\n  expected:\n    type: string\n    default: render_this.my_asset\n"
    project.write("p/pipeline.yml", pipeline_yml("integration_test", "duckdb-render-template-this", variables))
    project.write("p/assets/test_render_checks.sql", """
        /* @bruin
        name: render_this.my_asset
        type: duckdb.sql
        materialization:
          type: table
        custom_checks:
          - name: verify this resolves in custom checks
            value: 1
            query: SELECT '{{this}}' = 'render_this.my_asset'
        @bruin */
        SELECT '{{this}}' AS rendered_name
        """)  # fmt: skip
    project.write("p/assets/test_render_query.sql", """
        /* @bruin
        name: render_this.my_asset_2
        type: duckdb.sql
        depends:
           - render_this.my_asset
        custom_checks:
          - name: verify this resolves in query
            value: 1
            query: SELECT COUNT(*) = 1 AS has_expected_row FROM RENDER_THIS.my_asset
                   WHERE rendered_name = '{{ var.expected }}';
        @bruin */
        SELECT 1
        """)  # fmt: skip

    result = project.bruin("run", "p")

    assert result.returncode == 0, result.output
    assert "Finished: render_this.my_asset:custom-check:verify_this_resolves_in_custom_checks" in result.stdout
    assert "Finished: render_this.my_asset_2:custom-check:verify_this_resolves_in_query" in result.stdout
    assert "Finished: render_this.my_asset_2" in result.stdout


def test_a_custom_check_query_that_reaches_for_a_secret_fails_like_the_asset_sql_would(project) -> None:
    project.write(".bruin.yml", duckdb_yml())
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.sql", "/* @bruin\nname: a\ntype: duckdb.sql\ncustom_checks:\n  - name: sneaky\n"
                                    "    query: SELECT '{{ secrets.duckdb }}'\n@bruin */\nSELECT 1\n")  # fmt: skip
    result, tasks = project.run_json("p")
    assert result.returncode == 1
    assert tasks["a:custom-check:sneaky"]["error"] == (
        "failed to render custom check query: asset 'a': secrets are not available in SQL templates ('secrets'); "
        "use a Python asset or the asset's connection"
    )


@pytest.mark.parametrize("orphan", [False, True])
def test_relationships_check(project, orphan: bool) -> None:
    """Upstream's `duckdb-relationships-check` (its variants become a pipeline variable here)."""
    project.write(".bruin.yml", duckdb_yml("duckdb-ddl"))
    project.write("p/pipeline.yml", "name: duckdb_relationships_check\ndefault_connections:\n  duckdb: duckdb-ddl\n"
                  "variables:\n  include_orphan:\n    type: boolean\n    default: false\n")  # fmt: skip
    project.write("p/assets/customers.sql", """
        /* @bruin
        name: relationship_test.customers
        type: duckdb.sql
        materialization:
          type: table
        columns:
          - name: id
            type: integer
            checks:
              - name: unique
        @bruin */
        SELECT 1 AS id UNION ALL SELECT 2 AS id UNION ALL SELECT NULL AS id;
        """)  # fmt: skip
    project.write("p/assets/orders.sql", """
        /* @bruin
        name: relationship_test.orders
        type: duckdb.sql
        materialization:
          type: table
        depends:
          - relationship_test.customers
        columns:
          - name: order_id
            type: integer
          - name: customer_id
            type: integer
            foreign_key:
              table: relationship_test.customers
              column: id
            checks:
              - name: relationships
        @bruin */
        SELECT 10 AS order_id, 1 AS customer_id UNION ALL SELECT 11, 2 UNION ALL SELECT 12, NULL
        {% if var.include_orphan %}UNION ALL SELECT 13, 999{% endif %};
        """)  # fmt: skip

    result = project.bruin("run", "--var", f"include_orphan={json.dumps(orphan)}", "p")

    assert result.returncode == int(orphan), result.output
    if orphan:
        assert "Failed: relationship_test.orders:customer_id:relationships" in result.stdout
        assert "column 'customer_id' has 1 rows with values missing from 'relationship_test.customers.id'" in (
            result.stdout
        )
    else:
        assert "Finished: relationship_test.orders:customer_id:relationships" in result.stdout


def test_multi_line_custom_checks_with_trailing_semicolons(project) -> None:
    """Upstream's `duckdb-ddl-pipeline` `table_check` asset (its DDL upstream made a plain table here)."""
    project.write(".bruin.yml", duckdb_yml("duckdb-ddl"))
    project.write("p/pipeline.yml", "name: integration_test\ndefault_connections:\n  duckdb: duckdb-ddl\n")
    project.write("p/assets/products.sql", """
        /* @bruin
        name: my_schema.products
        type: duckdb.sql
        materialization:
          type: table
        @bruin */
        SELECT 1::INTEGER AS product_id, 'a'::VARCHAR AS product_name, 1.5::FLOAT AS price, 3::INTEGER AS stock
        """)  # fmt: skip
    project.write("p/assets/table_check.sql", """
        /* @bruin
        name: my_schema.table_check
        type: duckdb.sql
        materialization:
           type: table
        depends:
          - my_schema.products
        custom_checks:
           - name:  row_check
             value: 1
             query: SELECT COUNT(column_name) = 4 FROM my_schema.table_check
           - name:  no_null_names
             value: 0
             query: SELECT COUNT(CASE WHEN column_name IS NULL THEN 1 END) AS null_count
                    FROM my_schema.table_check;
           - name: name_check
             value: 1
             query: SELECT SUM(CASE WHEN column_name IN ('product_id', 'product_name', 'price', 'stock') THEN 1 END) = 4
                    FROM my_schema.table_check;
           - name: type_check
             value: 1
             query: SELECT SUM(CASE WHEN column_type IN ('INTEGER', 'VARCHAR', 'FLOAT') THEN 1 END) = 4
                    FROM my_schema.table_check;
        @bruin */
        SELECT * FROM (DESCRIBE MY_SCHEMA.products);
        """)  # fmt: skip

    result = project.bruin("run", "p")

    assert result.returncode == 0, result.output
    assert "Finished: my_schema.table_check" in result.stdout
    for name in ("row_check", "no_null_names", "name_check", "type_check"):
        assert f"Finished: my_schema.table_check:custom-check:{name}" in result.stdout


# --- blocking semantics --------------------------------------------------------------------------------


def write_chain(project: BruinProject, *, blocking: bool, main_fails: bool = False) -> None:
    project.write(".bruin.yml", duckdb_yml())
    project.write("p/pipeline.yml", "name: p\n")
    body = "SELECT * FROM no_such_table" if main_fails else "SELECT NULL AS id UNION ALL SELECT 1"
    project.write("p/assets/raw.sql", f"""
        /* @bruin
        name: raw
        type: duckdb.sql
        materialization:
          type: table
        columns:
          - name: id
            checks:
              - name: not_null
                blocking: {json.dumps(blocking)}
              - name: unique
        custom_checks:
          - name: has rows
            query: SELECT count(*) > 0 FROM raw
            value: 1
            blocking: false
        @bruin */
        {body}
        """)  # fmt: skip
    project.write("p/assets/mart.sql", "/* @bruin\nname: mart\ntype: duckdb.sql\nmaterialization:\n  type: table\n"
                  "depends: [raw]\ncolumns:\n  - name: id\n    checks:\n      - name: not_null\n@bruin */\n"
                  "SELECT 1 AS id FROM raw LIMIT 1\n")  # fmt: skip
    project.write("p/assets/other.sql", "/* @bruin\nname: other\ntype: duckdb.sql\n@bruin */\nSELECT 1\n")


@pytest.mark.parametrize("blocking", [True, False])
def test_a_failing_check_stops_downstream_assets_only_when_it_blocks(project, blocking: bool) -> None:
    write_chain(project, blocking=blocking)
    result, tasks = project.run_json("p")
    assert result.returncode == 1, "any failed check fails the run"
    assert json.loads(result.stdout)["status"] == "failed"
    downstream = "upstream_failed" if blocking else "succeeded"
    assert statuses(tasks) == {
        "raw": "succeeded", "mart": downstream, "other": "succeeded",
        "raw:id:not_null": "failed", "raw:id:unique": "succeeded", "raw:custom-check:has_rows": "succeeded",
        "mart:id:not_null": downstream,
    }  # fmt: skip
    failed = tasks["raw:id:not_null"]
    assert (failed["error"], failed["value"], failed["expected"], failed["blocking"]) == (
        "column 'id' has 1 null values", 1, 0, blocking,
    )  # fmt: skip
    assert failed["query"] == "SELECT count(*) FROM main.raw WHERE id IS NULL"
    assert failed["id"] == tasks["raw"]["checks"][0]["id"] and len(failed["id"]) == 64
    assert ("Skipped: mart (an upstream asset failed)" in result.stderr) is blocking


def test_a_failed_asset_leaves_its_checks_upstream_failed(project) -> None:
    write_chain(project, blocking=False, main_fails=True)
    result, tasks = project.run_json("p")
    assert result.returncode == 1
    assert {name: status for name, status in statuses(tasks).items() if name.startswith(("raw", "mart"))} == {
        "raw": "failed", "mart": "upstream_failed", "raw:id:not_null": "upstream_failed",
        "raw:id:unique": "upstream_failed", "raw:custom-check:has_rows": "upstream_failed",
        "mart:id:not_null": "upstream_failed",
    }  # fmt: skip


def test_only_checks_runs_the_checks_against_the_existing_tables(project) -> None:
    write_chain(project, blocking=False)
    assert project.bruin("run", "p").returncode == 1
    import duckdb

    with duckdb.connect(str(project.root / "warehouse.db")) as db:
        db.execute("DELETE FROM raw WHERE id IS NULL")

    result, tasks = project.run_json("--only", "checks", "p")

    assert result.returncode == 0, result.output
    assert "Running:  raw\n" not in result.stderr.replace("\r", "")
    assert tasks["raw"]["status"] == "skipped" and tasks["raw:id:not_null"]["status"] == "succeeded"
    assert all(task["status"] == "skipped" for name, task in tasks.items() if ":" not in name)


def test_single_check_runs_one_check_by_its_id(project) -> None:
    write_chain(project, blocking=True)
    _, tasks = project.run_json("p")
    check_id = tasks["raw:id:not_null"]["id"]

    failing, only = project.run_json("--single-check", check_id, "p/assets/raw.sql")
    assert failing.returncode == 1
    assert statuses(only) == {"raw": "skipped", "raw:id:not_null": "failed"}

    passing, only = project.run_json("--single-check", tasks["raw:id:unique"]["id"], "p")
    assert passing.returncode == 0, passing.output
    assert statuses(only) == {"raw": "skipped", "raw:id:unique": "succeeded"}

    unknown = project.bruin("run", "--single-check", "f" * 64, "p/assets/mart.sql")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().endswith("Failed to filter assets: cannot find check with the given ID")
    mart_only = project.bruin("run", "--single-check", check_id, "p/assets/mart.sql")
    assert "cannot find check with the given ID" in mart_only.stderr


def test_only_with_an_unknown_value_is_upstreams_error(project) -> None:
    write_chain(project, blocking=True)
    result = project.bruin("run", "--only", "main,checks", "p")
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "Failed to filter assets: invalid value for '--only' flag: 'main,checks', available values are 'main', "
        "'checks', and 'push-metadata'"
    )
    assert "Running:" not in result.stdout


# --- bad definitions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("  - name: id\n    checks:\n      - name: is_positive\n",
         "Column 'id' has an unknown check 'is_positive'; available checks are: accepted_values, max, min, negative, "
         "non_negative, not_null, pattern, positive, relationships, unique"),
        ("  - name: id\n    checks:\n      - name: accepted_values\n        value: new\n",
         "Column 'id' has an invalid 'accepted_values' check: unexpected value for accepted_values check, the values "
         "must to be an array"),
        ("  - name: id\n    checks:\n      - name: min\n",
         "Column 'id' has an invalid 'min' check: unexpected value for min check, the value must be an int, float or "
         "string"),
        ("  - name: id\n    checks:\n      - name: relationships\n",
         "Column 'id' has a relationships check without foreign_key metadata"),
    ],
)  # fmt: skip
def test_bad_check_definitions_fail_validate_and_run_naming_asset_and_check(
    project, columns: str, message: str
) -> None:
    project.write(".bruin.yml", duckdb_yml())
    project.write("p/pipeline.yml", "name: p\n")
    header = f"/* @bruin\nname: a\ntype: duckdb.sql\ncolumns:\n{columns}@bruin */\n"
    project.write("p/assets/a.sql", header + "SELECT 1 AS id\n")

    validated = project.bruin("validate", "p")
    assert validated.returncode == 1
    assert f"  a (assets/a.sql)\n    └── {message}" in validated.stdout

    ran = project.bruin("run", "p")
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [f"validation failed: a: {message}"], ran.output
    assert "Traceback" not in ran.output and "Running:" not in ran.stdout


@pytest.mark.parametrize(
    ("check", "error"),
    [
        ("columns:\n  - name: id\n    checks:\n      - name: pattern\n        value: '(['\n",
         "failed 'pattern' check: Invalid Input Error: missing ]: ["),
        ("custom_checks:\n  - name: broken\n    query: SELECT * FROM nowhere\n",
         "failed 'broken' check: Catalog Error: "),
        ("custom_checks:\n  - name: empty\n    query: SELECT 1 WHERE false\n",
         "failed to parse 'empty' check result: multiple results are returned from query, please make sure your query "
         "just expects one value - value: []"),
        ("custom_checks:\n  - name: wide\n    query: SELECT 1, 2\n",
         "failed to parse 'wide' check result: multiple results are returned from query, please make sure your query "
         "just expects one value - value: [[1 2]]"),
    ],
)  # fmt: skip
def test_checks_that_cannot_run_fail_with_one_line(project, check: str, error: str) -> None:
    project.write(".bruin.yml", duckdb_yml())
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.sql", f"/* @bruin\nname: a\ntype: duckdb.sql\nmaterialization:\n  type: table\n{check}"
                                    "@bruin */\nSELECT 'x' AS id\n")  # fmt: skip
    result, tasks = project.run_json("p")
    assert result.returncode == 1
    [failed] = [task for name, task in tasks.items() if ":" in name]
    assert failed["error"].startswith(error) and "\n" not in failed["error"]
    line = next(line for line in result.stderr.splitlines() if "Failed: a:" in line)
    assert line.split("Failed: ", 1)[1].startswith(failed["name"] + " (") and error in line
    assert "Traceback" not in result.output


# --- checks of a Python asset ---------------------------------------------------------------------------

PYTHON_WRITES_A_TABLE = '''"""@bruin
name: shop.visits
connection: duckdb-default
columns:
  - name: visitor
    checks:
      - name: not_null
      - name: accepted_values
        value: [ann, bob]
custom_checks:
  - name: two rows
    query: SELECT count(*) FROM shop.visits
    value: 2
@bruin"""
import json, os
import duckdb
with duckdb.connect(json.loads(os.environ["duckdb-default"])["path"]) as db:
    db.execute("CREATE SCHEMA IF NOT EXISTS shop")
    db.execute("CREATE OR REPLACE TABLE shop.visits AS SELECT * FROM (VALUES ('ann'), (VISITOR)) AS t(visitor)")
'''


@pytest.mark.parametrize(("visitor", "code"), [("'bob'", 0), ("NULL", 1)])
def test_checks_of_a_python_asset_query_its_table_on_its_connection(project, visitor: str, code: int) -> None:
    project.write(".bruin.yml", duckdb_yml())
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/visits.py", PYTHON_WRITES_A_TABLE.replace("VISITOR", visitor))
    result, tasks = project.run_json("p")
    assert result.returncode == code, result.output
    expected = "succeeded" if code == 0 else "failed"
    assert statuses(tasks) == {"shop.visits": "succeeded", "shop.visits:visitor:not_null": expected,
                               "shop.visits:visitor:accepted_values": "succeeded",
                               "shop.visits:custom-check:two_rows": "succeeded"}  # fmt: skip


def test_checks_of_a_python_asset_without_a_usable_connection_are_refused(project) -> None:
    project.write(".bruin.yml", json.dumps({"environments": {"default": {"connections": {
        "duckdb": [{"name": "duckdb-default", "path": "warehouse.db"}],
        "generic": [{"name": "api", "value": "k"}]}}}}))  # fmt: skip
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/none.py", '"""@bruin\nname: none\ncolumns:\n  - name: id\n    checks:\n'
                                      '      - name: not_null\n@bruin"""\nprint(1)\n')  # fmt: skip
    project.write("p/assets/api.py", '"""@bruin\nname: api_load\nconnection: api\ncolumns:\n  - name: id\n    checks:\n'
                                     '      - name: not_null\n@bruin"""\nprint(1)\n')  # fmt: skip
    validated = project.bruin("validate", "p")
    assert validated.returncode == 1
    assert ("  none (assets/none.py)\n    └── Quality checks of a python asset run on the asset's connection; set "
            "'connection' to the database that holds its table") in validated.stdout  # fmt: skip
    assert ("  api_load (assets/api.py)\n    └── connection 'api' is a generic connection, which cannot run the "
            "asset's quality checks") in validated.stdout  # fmt: skip
    project.write("p/assets/none.py", '"""@bruin\nname: none\n@bruin"""\nprint(1)\n')
    result, tasks = project.run_json("p")
    assert result.returncode == 1
    assert tasks["api_load:id:not_null"]["error"] == "connection 'api' cannot be used for the check 'not_null'"


def test_validate_is_clean_for_good_checks(project) -> None:
    write_downstream_pipeline(project)
    validated = project.bruin("validate", "p")
    assert validated.returncode == 0, validated.output


# --- PostgreSQL, and a canary password ------------------------------------------------------------------

@pytest.fixture
def pg(pg_database: Callable[[str, str], PgDatabase]) -> PgDatabase:
    return pg_database("bruin_e2e_checks", CANARY)


def test_checks_on_postgres_pass_and_fail_and_never_show_the_password(project, pg: PgDatabase) -> None:
    connections = {"postgres": [{"name": "warehouse", **pg.details()}]}
    project.write(".bruin.yml", json.dumps({"environments": {"default": {"connections": connections}}}))
    project.write("p/pipeline.yml", "name: p\ndefault_connections:\n  postgres: warehouse\n")
    project.write("p/assets/orders.sql", """
        /* @bruin
        name: shop.orders
        type: pg.sql
        materialization:
          type: table
        columns:
          - name: id
            checks:
              - name: unique
              - name: positive
          - name: status
            checks:
              - name: accepted_values
                value: [new, shipped]
              - name: pattern
                value: "^[a-z]+$"
          - name: amount
            checks:
              - name: max
                value: 100
                blocking: false
        custom_checks:
          - name: broken
            query: SELECT * FROM shop.nowhere
            blocking: false
        @bruin */
        SELECT 1 AS id, 'new' AS status, 10.5 AS amount UNION ALL SELECT 2, 'lost', 250
        """)  # fmt: skip
    project.write("p/assets/report.sql", "/* @bruin\nname: shop.report\ntype: pg.sql\ndepends: [shop.orders]\n"
                  "@bruin */\nSELECT 1\n")  # fmt: skip

    result, tasks = project.run_json("p")

    assert result.returncode == 1
    assert statuses(tasks) == {
        "shop.orders": "succeeded", "shop.report": "upstream_failed", "shop.orders:id:unique": "succeeded",
        "shop.orders:id:positive": "succeeded", "shop.orders:status:accepted_values": "failed",
        "shop.orders:status:pattern": "succeeded", "shop.orders:amount:max": "failed",
        "shop.orders:custom-check:broken": "failed",
    }  # fmt: skip
    assert tasks["shop.orders:status:accepted_values"]["error"] == (
        "column 'status' has 1 rows that are not in the accepted values"
    )
    assert tasks["shop.orders:amount:max"]["error"] == "column 'amount' has 1 values above maximum 100"
    assert tasks["shop.orders:custom-check:broken"]["error"].startswith("failed 'broken' check: ")
    assert CANARY not in result.output
    assert project.files_containing(CANARY) == [project.root / ".bruin.yml"]
    assert list((project.root / "logs").glob("*.log")) and list((project.root / "logs" / "runs").glob("*.json"))


def test_a_check_that_cannot_log_in_shows_no_password(project, pg: PgDatabase) -> None:
    wrong = f"canary-wrong-{uuid.uuid4().hex}"
    connections = {"postgres": [{"name": "warehouse", **pg.details(password=wrong)}]}
    project.write(".bruin.yml", json.dumps({"environments": {"default": {"connections": connections}}}))
    project.write("p/pipeline.yml", "name: p\ndefault_connections:\n  postgres: warehouse\n")
    project.write("p/assets/orders.sql", "/* @bruin\nname: shop.orders\ntype: pg.sql\ncolumns:\n  - name: id\n"
                  "    checks:\n      - name: not_null\n@bruin */\nSELECT 1\n")  # fmt: skip

    result, tasks = project.run_json("--only", "checks", "p")

    assert result.returncode == 1
    error = tasks["shop.orders:id:not_null"]["error"]
    assert error.startswith("failed 'not_null' check: could not connect to postgres connection 'warehouse'"), error
    assert wrong not in result.output and CANARY not in result.output
    assert project.files_containing(wrong) == [project.root / ".bruin.yml"]
