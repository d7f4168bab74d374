"""`bruin query`: direct, asset and auto-detect modes on DuckDB and PostgreSQL, every output form, masked."""

from __future__ import annotations

import json
import uuid

import duckdb
import pytest

CANARY = "canary-5f2c7d19-query"


@pytest.fixture
def warehouse(project):
    database = project.root / "warehouse.db"
    with duckdb.connect(str(database)) as db:
        db.execute("CREATE SCHEMA shop")
        db.execute(
            "CREATE TABLE shop.products AS SELECT * FROM (VALUES"
            " (1, 'Laptop', 699.00::DECIMAL(5,2), DATE '2025-04-02'),"
            " (2, 'Phone', 899.50::DECIMAL(5,2), DATE '2025-04-02'), (3, NULL, 1.25::DECIMAL(5,2), NULL))"
            " AS t(id, name, price, day)"
        )
    project.write(
        ".bruin.yml",
        f"""
        environments:
          default:
            connections:
              duckdb:
                - name: duckdb-default
                  path: warehouse.db
              generic:
                - name: TOKEN
                  value: {CANARY}
        """,
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/products.sql",
        "/* @bruin\nname: shop.cheap\ntype: duckdb.sql\nmaterialization:\n  type: view\n@bruin */\n"
        "SELECT id, name FROM shop.products WHERE price < {{ var_price | default(900) }} ORDER BY id;",
    )
    project.write("p/assets/script.py", '"""@bruin\nname: script\n@bruin"""\nprint(1)\n')
    return project


def query(project, *args: str):
    result = project.bruin("query", *args)
    assert CANARY not in result.output
    return result


def test_direct_mode_json(warehouse):
    result = query(warehouse, "--connection", "duckdb-default", "--query", "SELECT * FROM shop.products ORDER BY id",
                   "-o", "json")  # fmt: skip
    assert result.returncode == 0, result.output
    assert json.loads(result.stdout) == {
        "columns": [{"name": "id", "type": "INTEGER"}, {"name": "name", "type": "VARCHAR"},
                    {"name": "price", "type": "DECIMAL(5,2)"}, {"name": "day", "type": "DATE"}],
        "rows": [[1, "Laptop", 699, "2025-04-02T00:00:00Z"], [2, "Phone", 899.5, "2025-04-02T00:00:00Z"],
                 [3, None, 1.25, None]],
        "connectionName": "duckdb-default",
        "query": "SELECT * FROM shop.products ORDER BY id",
    }  # fmt: skip
    assert '[1,"Laptop",699,' in result.stdout, "integral decimals print as Go prints them"


def test_asset_mode_runs_the_assets_rendered_query(warehouse):
    result = query(warehouse, "--asset", "p/assets/products.sql", "-o", "json")
    document = json.loads(result.stdout)
    assert document["rows"] == [[1, "Laptop"], [2, "Phone"], [3, None]]
    assert document["query"] == "SELECT id, name FROM shop.products WHERE price < 900 ORDER BY id;"
    detected = query(warehouse, "-asset", "p/assets/products.sql", "-q", "SELECT count(*) AS n FROM shop.products",
                     "-o", "json")  # fmt: skip
    assert json.loads(detected.stdout)["rows"] == [[3]]
    refused = query(warehouse, "--asset", "p/assets/script.py")
    assert (refused.returncode, refused.stderr) == (
        1, f"asset '{'p/assets/script.py'}' is not a SQL asset (type: python). Only SQL assets can be queried\n"
    )  # fmt: skip


def test_plain_csv_limit_and_vars(warehouse):
    plain = query(warehouse, "-c", "duckdb-default", "-q", "SELECT name FROM shop.products WHERE id < 3 ORDER BY id")
    assert plain.stdout == "┌────────┐\n│ NAME   │\n├────────┤\n│ Laptop │\n│ Phone  │\n└────────┘\n"
    empty = query(warehouse, "-c", "duckdb-default", "-q", "SELECT * FROM shop.products WHERE id > 9")
    assert empty.stdout == "No data available\n"
    csv = query(warehouse, "-c", "duckdb-default", "-q", "SELECT id, name, price FROM shop.products ORDER BY id",
                "-o", "csv", "--limit", "2")  # fmt: skip
    assert csv.stdout == "id,name,price\n1,Laptop,699\n2,Phone,899.5\n"
    limited = json.loads(query(warehouse, "-c", "duckdb-default", "-q", "SELECT id FROM shop.products", "-l", "1",
                               "-o", "json").stdout)  # fmt: skip
    assert limited["rows"] == [[1]] and limited["query"].endswith("LIMIT 1")
    sql = "SELECT '{{ who }}' AS v, '{{ start_date }}' AS d"
    args = ("--var", "who=test-value", "--start-date", "2024-01-15", "-o", "json")
    templated = json.loads(query(warehouse, "-c", "duckdb-default", "-q", sql, *args).stdout)
    assert templated["rows"] == [["test-value", "2024-01-15"]]


def test_export_as_the_extension_calls_it(warehouse):
    result = query(warehouse, "-export", "-q", "SELECT id, name FROM shop.products ORDER BY id", "-connection",
                   "duckdb-default", "-o", "json")  # fmt: skip
    assert result.returncode == 0, result.output
    [(key, path)] = json.loads(result.stdout).items()
    assert key == "Results Successfully exported to"
    assert path.startswith(str(warehouse.root / "logs" / "exports" / "query_result_"))
    with open(path) as exported:
        assert exported.read() == "id,name\n1,Laptop\n2,Phone\n3,\n"
    assert "logs/exports" in (warehouse.root / ".gitignore").read_text()


def test_dry_run(warehouse):
    ok = json.loads(query(warehouse, "--dry-run", "-c", "duckdb-default", "-q", "SELECT 1", "-o", "json").stdout)
    assert (ok["connectionType"], ok["valid"]) == ("duckdb", True) and ok["explainPlan"]
    bad = json.loads(
        query(warehouse, "--dry-run", "-c", "duckdb-default", "-q", "SELECT * FROM nope", "-o", "json").stdout
    )
    assert bad["valid"] is False


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["-c", "duckdb-default"], "direct query mode requires both --connection and --query flags"),
        (["-c", "duckdb-default", "-q", "SELECT 1", "--asset", "p/assets/products.sql"],
         "direct query mode (--connection and --query) cannot be combined with asset mode (--asset and --environment)"),
        (["-c", "nope", "-q", "SELECT 1"],
         "connection 'nope' not found in config file '{root}/.bruin.yml' under environment 'default'"),
        (["-c", "duckdb-default", "-q", "SELEC 1"],
         "query execution failed: Parser Error: syntax error at or near \"SELEC\""),
        (["-c", "TOKEN", "-q", "SELECT 1"], "connection 'TOKEN' is a generic connection, which cannot run queries"),
    ],
)  # fmt: skip
def test_errors_are_one_json_line(warehouse, args, error):
    result = query(warehouse, *args, "-o", "json")
    assert (result.returncode, result.stderr) == (1, "")
    assert json.loads(result.stdout)["error"].startswith(error.format(root=warehouse.root))


def test_a_secret_in_a_result_is_masked(warehouse):
    result = query(warehouse, "-c", "duckdb-default", "-q", f"SELECT '{CANARY}' AS leaked", "-o", "json")
    assert json.loads(result.stdout)["rows"] == [["****"]]


def test_a_query_past_its_timeout_is_cancelled(warehouse):
    result = query(warehouse, "-c", "duckdb-default", "-q", "SELECT count(*) FROM range(100000000000) a",
                   "--timeout", "1", "-o", "json")  # fmt: skip
    assert json.loads(result.stdout) == {"error": "query execution failed: query timed out after 1 seconds"}


def test_postgres(project, pg_server):
    name = f"query_{uuid.uuid4().hex[:8]}"
    with pg_server.connect() as admin:
        admin.execute(f"CREATE DATABASE {name}")
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      postgres:\n"
        f"        - name: pg\n          host: {pg_server.host}\n"
        f"          port: {pg_server.port}\n          username: {pg_server.user}\n          database: {name}\n",
    )
    result = project.bruin("query", "-c", "pg", "-q", "SELECT 1 AS n, 'x'::text AS t, 2.5::numeric AS d", "-o", "json")
    assert result.returncode == 0, result.output
    document = json.loads(result.stdout)
    assert document["columns"] == [{"name": "n", "type": "INT4"}, {"name": "t", "type": "TEXT"},
                                   {"name": "d", "type": "NUMERIC"}]  # fmt: skip
    assert document["rows"] == [[1, "x", 2.5]]
