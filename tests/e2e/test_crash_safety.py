"""A run killed in the middle of a strategy's statement leaves the previous table intact and readable, for every
strategy, on DuckDB and on PostgreSQL.

The second run's query blocks where the test can see it: on DuckDB it reads a named pipe (opening the pipe for
writing returns once the statement has opened it), on PostgreSQL it sleeps (the test waits until the server
shows the statement running). Then `bruin run` is killed with SIGKILL, without any chance to clean up.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BRUIN
from warehouses import Warehouse, sql_file

COLUMNS = ("columns:\n  - {name: id, type: INTEGER, primary_key: true}\n  - {name: v, type: VARCHAR, "
           "update_on_merge: true}\n  - {name: ts, type: DATE}")  # fmt: skip
STRATEGIES = {
    "create+replace": "materialization: {type: table}",
    "append": "materialization: {type: table, strategy: append}",
    "delete+insert": "materialization: {type: table, strategy: delete+insert, incremental_key: id}",
    "truncate+insert": "materialization: {type: table, strategy: truncate+insert}",
    "merge": f"materialization: {{type: table, strategy: merge}}\n{COLUMNS}",
    "time_interval": "materialization: {type: table, strategy: time_interval, incremental_key: ts, "
                     "time_granularity: date}",
    "scd2_by_column": f"materialization: {{type: table, strategy: scd2_by_column}}\n{COLUMNS}",
    "scd2_by_time": f"materialization: {{type: table, strategy: scd2_by_time, incremental_key: ts}}\n{COLUMNS}",
}  # fmt: skip
FIRST = "select 1 as id, 'a' as v, date '2024-01-01' as ts union all select 2, 'b', date '2024-01-01'"
WINDOW = ("--start-date", "2024-01-01", "--end-date", "2024-01-01")


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, project) -> Warehouse:
    database = None
    if request.param == "postgres":
        database = request.getfixturevalue("pg_database")("bruin_e2e_crash", "crash-pw-1")
    found = Warehouse(request.param, project, database)
    found.configure()
    found.pipeline()
    return found


def start(warehouse: Warehouse) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    return subprocess.Popen(
        [*BRUIN, "run", "--no-log-file", *WINDOW, "p"], cwd=warehouse.project.root, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def wait_for_pipe_reader(pipe: Path, process: subprocess.Popen) -> int:
    """Open the pipe for writing once the run has opened it for reading; fail if the run ends first."""
    while True:
        try:
            return os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        if process.poll() is not None:
            pytest.fail(f"the run ended before its statement read the pipe:\n{process.stdout.read().decode()}")
        time.sleep(0.01)


def wait_for_statement(warehouse: Warehouse, process: subprocess.Popen, present: bool) -> None:
    """Until the server shows the sleeping statement running (or, with `present` false, no longer)."""
    assert warehouse.database is not None
    with warehouse.database.server.connect(warehouse.database.name) as conn:
        while True:
            found = conn.execute(
                "select count(*) from pg_stat_activity where datname = %s and state = 'active' and query like %s",
                (warehouse.database.name, "%pg_sleep(3600)%"),
            ).fetchone()[0]
            if bool(found) == present:
                return
            if present and process.poll() is not None:
                pytest.fail(f"the run ended before its statement ran:\n{process.stdout.read().decode()}")
            time.sleep(0.02)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_a_killed_run_leaves_the_previous_table(warehouse: Warehouse, strategy: str, tmp_path: Path) -> None:
    header = STRATEGIES[strategy]
    asset = "p/assets/t.sql"
    warehouse.project.write(asset, sql_file("test.t", warehouse.asset_type, header, FIRST))
    first = warehouse.project.bruin("run", "--no-log-file", "--full-refresh", *WINDOW, "p")
    assert first.returncode == 0, first.output
    query = "select * from test.t order by id, v"
    before = warehouse.rows(query)
    assert warehouse.rows("select id, v from test.t order by id") == [("1", "a"), ("2", "b")]

    if warehouse.platform == "duckdb":
        pipe = tmp_path / "rows.pipe"
        os.mkfifo(pipe)
        blocking = (f"select id, v, ts from read_csv('{pipe}', header = true, "
                    "columns = {'id': 'INTEGER', 'v': 'VARCHAR', 'ts': 'DATE'})")  # fmt: skip
    else:
        blocking = "select 3 as id, 'c' as v, date '2024-01-01' as ts from pg_sleep(3600)"
    warehouse.project.write(asset, sql_file("test.t", warehouse.asset_type, header, blocking))
    process = start(warehouse)
    writer = None
    try:
        if warehouse.platform == "duckdb":
            writer = wait_for_pipe_reader(pipe, process)
        else:
            wait_for_statement(warehouse, process, present=True)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if writer is not None:
            os.close(writer)
        if process.stdout:
            process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    if warehouse.platform == "postgres":
        wait_for_statement(warehouse, process, present=False)  # the server notices the client is gone

    assert warehouse.rows(query) == before


def test_the_blocking_reader_really_blocks_the_statement(tmp_path: Path) -> None:
    """The DuckDB half of the test above relies on a statement that reads a named pipe not finishing before the
    pipe's writer closes it."""
    pipe = tmp_path / "rows.pipe"
    os.mkfifo(pipe)
    code = (
        "import duckdb, sys; print(duckdb.connect().execute(\"select count(*) from read_csv('" + str(pipe) + "', "
        "header = true, columns = {'id': 'INTEGER'})\").fetchall())"
    )
    reader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    writer = wait_for_pipe_reader(pipe, reader)
    assert reader.poll() is None
    os.write(writer, b"id\n1\n2\n")
    os.close(writer)
    assert reader.communicate()[0].strip() == "[(2,)]"
