"""Python assets whose `materialize()` returns data, through the `bruin` CLI: upstream's `python-mat` and
`python-mat-errors` fixtures, pandas, polars and pyarrow returns on DuckDB and on the real PostgreSQL server,
the strategies, column checks on the written table, and a canary secret that must reach no file."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import BruinProject, Result
    from fixtures.postgres_server import PgDatabase

CANARY = f"canary-pymat-{uuid.uuid4().hex}"


@dataclass
class Warehouse:
    """The `wh` connection of a test project: a DuckDB file, or a database on the session's PostgreSQL."""

    platform: str
    project: BruinProject
    database: PgDatabase | None

    def configure(self, *generic: tuple[str, str]) -> None:
        wh = {"name": "wh", "path": "w.db"} if self.database is None else {"name": "wh", **self.database.details()}
        connections: dict[str, list[dict[str, object]]] = {self.platform: [wh]}
        if generic:
            connections["generic"] = [{"name": name, "value": value} for name, value in generic]
        self.project.write(".bruin.yml", json.dumps({"environments": {"default": {"connections": connections}}}))
        self.project.write("p/pipeline.yml", "name: p\n")

    def asset(self, name: str, header: str, body: str) -> None:
        header = f"name: {name}\nconnection: wh\n{header.strip()}\n"
        self.project.write(f"p/assets/{name.replace('.', '_')}.py", f'"""@bruin\n{header}@bruin"""\n{body.strip()}\n')

    def returning_twice(self, name: str, header: str, first: str, then: str, *flags: str) -> tuple[Result, dict]:
        """Run the asset returning the rows `first`, then again returning `then` (with `flags`)."""
        for rows in (first, then):
            self.asset(name, header, f"def materialize():\n    return {rows}")
            outcome = self.project.run_json(*(flags if rows is then else ()), "p")
            if rows is first:
                assert outcome[0].returncode == 0, outcome[0].output
        return outcome

    def rows(self, sql: str) -> list[tuple]:
        if self.database is None:
            import duckdb

            with duckdb.connect(str(self.project.root / "w.db"), read_only=True) as db:
                return db.execute(sql).fetchall()
        with self.database.server.connect(self.database.name) as conn:
            return conn.execute(sql).fetchall()

    def types(self, schema: str, table: str) -> dict[str, str]:
        return dict(self.rows(
            "select column_name, upper(data_type) from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}'"
        ))  # fmt: skip


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, project: BruinProject) -> Warehouse:
    if request.param == "duckdb":
        return Warehouse("duckdb", project, None)
    pg_database: Callable[[str, str], PgDatabase] = request.getfixturevalue("pg_database")
    return Warehouse("postgres", project, pg_database("bruin_pymat", CANARY))


def header(name: str, connection: str) -> str:
    return f'"""@bruin\nname: {name}\nmaterialization:\n  type: table\nconnection: {connection}\n@bruin"""\n'


#: Upstream's `python-mat` pipeline, asset by asset: what each `materialize()` returns.
PYTHON_MAT = {
    "mat.yield_dicts": "def materialize():\n    for i in range(5):\n        yield {'id': i, 'name': f'item_{i}'}",
    "mat.yield_batches": "def materialize():\n    for page in range(3):\n"
                         "        yield [{'id': page * 2 + i, 'name': 'x'} for i in range(2)]",
    "mat.nullable_dicts": "def materialize():\n    yield {'id': 1, 'score': None}\n    yield {'id': 2, 'score': 99}\n"
                          "    yield {'id': 3, 'score': 50}",
    "mat.table_after_dict": "import pyarrow as pa\ndef materialize():\n    yield {'col_a': None}\n"
                            "    yield pa.table({'col_a': [1]})",
    "mat.table_before_dict": "import pyarrow as pa\ndef materialize():\n    yield pa.table({'col_a': [1]})\n"
                             "    yield {'col_a': None}",
    "mat.pandas_df": "import pandas as pd\ndef materialize():\n    return pd.DataFrame({'id': [1, 2, 3]})",
    "mat.polars_df": "import polars as pl\ndef materialize():\n    return pl.DataFrame({'id': [1, 2, 3]})",
    "mat.pyarrow_table": "import pyarrow as pa\ndef materialize():\n    return pa.table({'id': [1, 2, 3]})",
    "mat.pyarrow_tables": "import pyarrow as pa\ndef materialize():\n    yield pa.table({'id': [1, 2]})\n"
                          "    yield pa.table({'id': [3, 4]})",
    "materialize.country": "import numpy as np, pandas as pd\ndef materialize():\n"
                           "    return pd.DataFrame({'population': np.random.randint(1, 9, 50), 'country': 'India'})",
    "mat.none_return": "def materialize():\n    return None",
    "mat.empty_generator": "def materialize():\n    return\n    yield",
    "mat.empty_list": "def materialize():\n    return []",
}  # fmt: skip
#: Upstream's `python-mat-errors` pipeline.
PYTHON_MAT_ERRORS = {
    "mat.exception": "def materialize():\n    raise ValueError('something went wrong in the script')",
    "mat.exit": "import sys\ndef materialize():\n    sys.exit(1)",
}


def write_fixture(project: BruinProject, pipeline: str, assets: dict[str, str]) -> None:
    """One of upstream's fixture pipelines, on its DuckDB connection, run with this interpreter (which has
    everything the fixture's requirements.txt lists, so no environment is built)."""
    connection = f"duckdb-{pipeline}"
    project.write(".bruin.yml", json.dumps({"environments": {"default": {"connections": {
        "duckdb": [{"name": connection, "path": f"{pipeline}.db"}]}}}}))  # fmt: skip
    project.write(f"{pipeline}/pipeline.yml", f"name: {pipeline}\n")
    for name, body in assets.items():
        project.write(f"{pipeline}/assets/{name.split('.')[1]}.py", header(name, connection) + body + "\n")


def test_upstream_python_mat(project: BruinProject) -> None:
    """Upstream's `python_mat`: every return kind, and the three that return nothing, on DuckDB."""
    write_fixture(project, "python-mat", PYTHON_MAT)
    result = project.bruin("run", "--workers", "1", "python-mat")
    assert result.returncode == 0, result.output
    for name in PYTHON_MAT:
        assert f"Finished: {name}" in result.stdout
    assert result.stdout.count("materialize() returned None, skipping materialization") == 3
    import duckdb

    counts = {"yield_dicts": 5, "yield_batches": 6, "pandas_df": 3, "polars_df": 3, "pyarrow_table": 3,
              "pyarrow_tables": 4, "nullable_dicts": 3, "table_after_dict": 2, "table_before_dict": 2}  # fmt: skip
    with duckdb.connect(str(project.root / "python-mat.db"), read_only=True) as db:
        for table, expected in counts.items():
            assert db.execute(f"SELECT count(*) AS cnt FROM mat.{table}").fetchone() == (expected,), table
        assert db.execute("SELECT sum(score) FROM mat.nullable_dicts").fetchone() == (149,)
        for table in ("table_after_dict", "table_before_dict"):
            assert db.execute(f"SELECT sum(col_a) FROM mat.{table}").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM materialize.country WHERE country = 'India'").fetchone() == (50,)
        tables = {row[0] for row in db.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert not tables & {"none_return", "empty_generator", "empty_list"}


def test_upstream_python_mat_errors(project: BruinProject) -> None:
    """Upstream's `python_mat_errors`: an exception in `materialize()` and `sys.exit(1)` fail their asset with
    one line each; the traceback is the asset's output, not pybruin's."""
    write_fixture(project, "python-mat-errors", PYTHON_MAT_ERRORS)
    result, tasks = project.run_json("--workers", "1", "python-mat-errors")
    assert result.returncode == 1
    for name in PYTHON_MAT_ERRORS:
        assert f"Failed: {name}" in result.output
        assert tasks[name]["error"] == "failed to execute Python script: failed to run asset code: exit status 1"
    assert "[mat.exception] >> ValueError: something went wrong in the script" in result.output


# --- what materialize() may return ----------------------------------------------------------------------------

TYPED = """
import datetime, decimal
import pandas as pd


def materialize():
    return pd.DataFrame({
        "id": [1, 2, 3],
        "name": ["a", "", None],
        "score": [1.5, None, 3.25],
        "flag": [True, False, None],
        "day": [datetime.date(2024, 1, 1), datetime.date(2024, 1, 2), None],
        "seen_at": pd.to_datetime(["2024-01-01 10:00:00", "2024-01-02 11:30:00", None]),
        "price": [decimal.Decimal("1.10"), decimal.Decimal("2.25"), None],
    })
"""


def test_pandas_types_and_nulls_reach_the_table(warehouse: Warehouse) -> None:
    warehouse.configure()
    warehouse.asset("mat.typed", "materialization:\n  type: table", TYPED)
    result, _ = warehouse.project.run_json("p")
    assert result.returncode == 0, result.output
    rows = warehouse.rows("select id, name, score, flag, day, seen_at, price from mat.typed order by id")
    assert [row[:4] for row in rows] == [(1, "a", 1.5, True), (2, "", None, False), (3, None, 3.25, None)]
    assert [str(row[4]) for row in rows] == ["2024-01-01", "2024-01-02", "None"]
    assert [str(row[5]) for row in rows] == ["2024-01-01 10:00:00", "2024-01-02 11:30:00", "None"]
    assert [str(row[6]) for row in rows] == ["1.10", "2.25", "None"]
    types = warehouse.types("mat", "typed")
    assert types["id"] == "BIGINT" and types["flag"] == "BOOLEAN" and types["day"] == "DATE"
    assert types["name"] in ("VARCHAR", "TEXT") and types["seen_at"].startswith("TIMESTAMP")
    assert "Successfully loaded the data from the asset into the destination." in result.output


@pytest.mark.parametrize(
    "body",
    [
        "import pyarrow as pa\ndef materialize():\n    return pa.table({'id': [1, 2], 'Name': ['x', 'y']})",
        "import polars as pl\ndef materialize():\n    return pl.DataFrame({'id': [1, 2], 'Name': ['x', 'y']})",
        "def materialize():\n    yield [{'id': 1, 'Name': 'x'}]\n    yield {'id': 2, 'Name': 'y'}",
    ],
    ids=["pyarrow", "polars", "generator"],
)
def test_pyarrow_polars_and_generator_returns(warehouse: Warehouse, body: str) -> None:
    warehouse.configure()
    warehouse.asset("mat.returned", "materialization:\n  type: table\n  strategy: create+replace", body)
    result, _ = warehouse.project.run_json("p")
    assert result.returncode == 0, result.output
    assert warehouse.rows('select id, "Name" from mat.returned order by id') == [(1, "x"), (2, "y")]


@pytest.mark.parametrize(
    ("header", "body", "error", "shown"),
    [
        ("type: table", "return 42", "failed to execute Python script: failed to run asset code: exit status 1",
         "[mat.refused] >> Unsupported return type: <class 'int'>"),
        ("type: view", "return [{'id': 1}]", "only table materialization is supported for Python assets", None),
    ],
    ids=["wrong-return-type", "view"],
)  # fmt: skip
def test_refusals_are_one_line_naming_the_asset(
    warehouse: Warehouse, header: str, body: str, error: str, shown: str | None
) -> None:
    warehouse.configure()
    warehouse.asset("mat.refused", f"materialization:\n  {header}", f"def materialize():\n    {body}")
    result, tasks = warehouse.project.run_json("p")
    assert result.returncode == 1
    assert tasks["mat.refused"]["error"] == error
    assert "Failed: mat.refused" in result.output and "Traceback" not in result.output
    if shown:
        assert shown in result.output


def test_a_failing_generator_leaves_the_previous_table(warehouse: Warehouse) -> None:
    warehouse.configure()
    warehouse.asset("mat.partial", "materialization:\n  type: table", "def materialize():\n    yield {'id': 1}")
    first, _ = warehouse.project.run_json("p")
    assert first.returncode == 0, first.output
    warehouse.asset("mat.partial", "materialization:\n  type: table",
                    "def materialize():\n    yield [{'id': 7}, {'id': 8}]\n    raise RuntimeError('page 2 failed')")
    second, _ = warehouse.project.run_json("p")
    assert second.returncode == 1
    assert "RuntimeError: page 2 failed" in second.output
    assert warehouse.rows("select id from mat.partial") == [(1,)]


def test_top_level_code_runs_but_not_the_main_block(warehouse: Warehouse) -> None:
    warehouse.configure()
    body = """
import os
print("imported as", __name__, "in", os.path.basename(os.getcwd()))
def materialize():
    return [{"id": 1}]
if __name__ == "__main__":
    raise SystemExit("the main block must not run")
"""
    warehouse.asset("mat.module", "materialization:\n  type: table", body)
    result, _ = warehouse.project.run_json("p")
    assert result.returncode == 0, result.output
    assert f"[mat.module] >> imported as p.assets.mat_module in {warehouse.project.root.name}" in result.output


# --- strategies -----------------------------------------------------------------------------------------------


def test_create_replace_replaces_and_append_appends(warehouse: Warehouse) -> None:
    warehouse.configure()
    rows = "def materialize():\n    return [{'id': 1, 'v': 'a'}, {'id': 2, 'v': 'b'}]"
    warehouse.asset("mat.replaced", "materialization:\n  type: table\n  strategy: create+replace", rows)
    warehouse.asset("mat.appended", "materialization:\n  type: table\n  strategy: append", rows)
    for _ in range(2):
        result, _ = warehouse.project.run_json("p")
        assert result.returncode == 0, result.output
    assert warehouse.rows("select count(*) from mat.replaced") == [(2,)]
    assert warehouse.rows("select count(*) from mat.appended") == [(4,)]


def test_append_matches_columns_by_name_and_refuses_other_columns(warehouse: Warehouse) -> None:
    warehouse.configure()
    header = "materialization:\n  type: table\n  strategy: append"
    result, _ = warehouse.returning_twice("mat.log", header, "[{'id': 1, 'v': 'a'}]", "[{'v': 'b', 'id': 2}]")
    assert result.returncode == 0, result.output
    assert warehouse.rows("select id, v from mat.log order by id") == [(1, "a"), (2, "b")]
    warehouse.asset("mat.log", header, "def materialize():\n    return [{'id': 3, 'other': 'c'}]")
    result, tasks = warehouse.project.run_json("p")
    assert result.returncode == 1
    assert tasks["mat.log"]["error"] == (
        "failed to execute Python script: failed to load the data into the destination: the columns materialize() "
        "returned (id, other) do not match the columns of mat.log (id, v)"
    )
    assert warehouse.rows("select count(*) from mat.log") == [(2,)]


MERGED = """
import os
import pandas as pd

ROWS = {1: ("alice", "2024-01-01"), 2: ("bob", "2024-01-10"), 3: ("charlie", "2024-01-12"), 4: ("diana", "2024-01-20"),
        5: ("eve", "2024-01-25")}


def materialize():
    start, end = os.environ["BRUIN_START_DATE"], os.environ["BRUIN_END_DATE"]
    suffix = "" if end < "2024-01-20" else "!"
    return pd.DataFrame([{"id": k, "name": v[0] + suffix} for k, v in ROWS.items() if start <= v[1] <= end])
"""


def test_upstream_python_mat_merge(warehouse: Warehouse) -> None:
    """Upstream's `python-mat-merge`: merge on the primary key over two overlapping intervals; as for SQL assets,
    matched rows take the new values of the columns marked `update_on_merge`."""
    warehouse.configure()
    header = ("materialization:\n  type: table\n  strategy: merge\ncolumns:\n  - name: id\n    type: integer\n"
              "    primary_key: true\n  - name: name\n    type: string\n    update_on_merge: true")  # fmt: skip
    warehouse.asset("mat.merge_test", header, MERGED)
    for start, end in (("2024-01-01", "2024-01-15"), ("2024-01-10", "2024-01-31")):
        result, _ = warehouse.project.run_json("--start-date", start, "--end-date", end, "p")
        assert result.returncode == 0, result.output
    assert warehouse.rows("select id, name from mat.merge_test order by id") == [
        (1, "alice"), (2, "bob!"), (3, "charlie!"), (4, "diana!"), (5, "eve!")
    ]


def test_delete_insert_replaces_the_rows_of_the_keys_it_brings(warehouse: Warehouse) -> None:
    warehouse.configure()
    header = "materialization:\n  type: table\n  strategy: delete+insert\n  incremental_key: day"
    result, _ = warehouse.returning_twice("mat.daily", header, "[{'day': 1, 'v': 'a'}, {'day': 2, 'v': 'b'}]",
                                          "[{'v': 'c', 'day': 2}, {'v': 'd', 'day': 2}]")  # fmt: skip
    assert result.returncode == 0, result.output
    assert warehouse.rows("select day, v from mat.daily order by day, v") == [(1, "a"), (2, "c"), (2, "d")]


def test_full_refresh_rebuilds_an_incremental_table_with_new_columns(warehouse: Warehouse) -> None:
    warehouse.configure()
    header = "materialization:\n  type: table\n  strategy: append"
    result, _ = warehouse.returning_twice("mat.grown", header, "[{'id': 1}]", "[{'id': 2, 'extra': 'x'}]",
                                          "--full-refresh")  # fmt: skip
    assert result.returncode == 0, result.output
    assert warehouse.rows("select id, extra from mat.grown") == [(2, "x")]


def test_enforce_schema_casts_to_the_declared_types(warehouse: Warehouse) -> None:
    warehouse.configure()
    header = ("parameters:\n  enforce_schema: true\nmaterialization:\n  type: table\ncolumns:\n"
              "  - name: id\n    type: integer\n  - name: amount\n    type: decimal(10, 2)\n"
              "  - name: code\n    type: varchar(5)")  # fmt: skip
    warehouse.asset("mat.typed_by_header", header,
                    "def materialize():\n    return [{'id': 1, 'amount': 2.5, 'code': 7, 'free': 1.5}]")  # fmt: skip
    result, _ = warehouse.project.run_json("p")
    assert result.returncode == 0, result.output
    types = warehouse.types("mat", "typed_by_header")
    assert types["id"] == "INTEGER"
    assert types["amount"] in ("DECIMAL(10,2)", "NUMERIC")
    assert types["code"] in ("VARCHAR", "CHARACTER VARYING")
    assert types["free"] in ("DOUBLE", "DOUBLE PRECISION")
    assert [tuple(map(str, row)) for row in warehouse.rows("select id, amount, code from mat.typed_by_header")] == [
        ("1", "2.50", "7")
    ]


# --- checks, validation, secrets ------------------------------------------------------------------------------


def test_column_checks_run_against_the_written_table(warehouse: Warehouse) -> None:
    warehouse.configure()
    header = """
materialization:
  type: table
columns:
  - name: id
    checks:
      - name: unique
      - name: not_null
"""
    warehouse.asset("mat.checked", header, "def materialize():\n    return [{'id': 1}, {'id': 1}, {'id': None}]")
    result, tasks = warehouse.project.run_json("p")
    assert result.returncode == 1
    assert tasks["mat.checked"]["status"] == "succeeded"
    assert tasks["mat.checked:id:unique"]["status"] == "failed"
    assert tasks["mat.checked:id:not_null"]["error"] == "column 'id' has 1 null values"


def test_validate_reports_upstreams_python_materialization_rules(project: BruinProject) -> None:
    warehouse = Warehouse("duckdb", project, None)
    warehouse.configure()
    project.write("p/assets/no_conn.py", '"""@bruin\nname: no_conn\nmaterialization:\n  type: table\n@bruin"""\n')
    warehouse.asset("timed", "materialization:\n  type: table\n  strategy: time_interval\n"
                             "  incremental_predicate: x > 1", "")  # fmt: skip
    result = project.bruin("validate", "p")
    assert result.returncode == 1
    assert ("  no_conn (assets/no_conn.py)\n    └── A task with materialization must have a connection defined"
            in result.stdout)  # fmt: skip
    assert "── Incremental predicate is not supported for Python assets" in result.stdout
    assert ("── Materialization strategy 'time_interval' is not supported for Python assets. Supported "
            "strategies are: create+replace, append, merge, delete+insert") in result.stdout  # fmt: skip


def test_secrets_never_reach_a_file_or_the_stream_metadata(project: BruinProject) -> None:
    warehouse = Warehouse("duckdb", project, None)
    warehouse.configure(("API_KEY", CANARY))
    body = """
import os
import pyarrow as pa

def materialize():
    secret = os.environ["API_KEY"]
    field = pa.field("id", pa.int64(), metadata={"token": secret})
    return pa.table({"id": [1]}, schema=pa.schema([field], metadata={"token": secret}))
"""
    warehouse.asset("mat.secretive", "secrets:\n  - key: API_KEY\nmaterialization:\n  type: table", body)
    result, _ = project.run_json("p")
    assert result.returncode == 0, result.output
    assert warehouse.rows("select id from mat.secretive") == [(1,)]
    assert CANARY not in result.output
    assert project.files_containing(CANARY) == [project.root / ".bruin.yml"]
