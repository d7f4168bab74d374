"""SQL assets on real DuckDB files: materializations, schema prefixes, errors, atomic table swaps."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pybruin.config.connections import Connection, build_connection
from pybruin.errors import BruinError
from pybruin.pipeline.materialization import Materialization
from pybruin.pipeline.model import Asset
from pybruin.platforms import SQL_ASSET_TYPES
from pybruin.platforms.base import Build
from pybruin.platforms.duckdb import DuckDBPlatform
from pybruin.platforms.run import Databases, run_sql_asset


def duckdb_connection(path: Path, name: str = "duck", **fields: object) -> Connection:
    return build_connection("duckdb", {"name": name, "path": str(path), **fields}, base_dir=None, environ={})


def sql_asset(name: str, sql: str, asset_type: str = "duckdb.sql", **materialization: str) -> Asset:
    file = Path(f"assets/{name}.sql")
    return Asset(
        name=name, type=asset_type, definition_file=file, executable_file=file, content=sql,
        materialization=materialization,
    )  # fmt: skip


@pytest.fixture
def databases() -> Iterator[Databases]:
    handles = Databases()
    yield handles
    handles.close()


@pytest.fixture
def duck(tmp_path: Path) -> Connection:
    return duckdb_connection(tmp_path / "warehouse.db")


def run(asset: Asset, connection: Connection, databases: Databases, schema_prefix: str = "") -> None:
    run_sql_asset(asset, connection, databases, rendered_sql=asset.content, schema_prefix=schema_prefix)


def rows(databases: Databases, connection: Connection, sql: str) -> list[tuple]:
    with databases.session(connection) as session:
        return sorted(session.query(sql))


def failure(asset: Asset, connection: Connection, databases: Databases) -> str:
    with pytest.raises(BruinError) as caught:
        run(asset, connection, databases)
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.__suppress_context__
    return message


def tables(databases: Databases, connection: Connection) -> list[tuple]:
    return rows(databases, connection, "select table_schema, table_name, table_type from information_schema.tables")


def test_platform_map() -> None:
    assert dict(SQL_ASSET_TYPES) == {
        "duckdb.sql": "duckdb", "pg.sql": "postgres", "rs.sql": "redshift", "my.sql": "mysql", "sf.sql": "snowflake",
        "bq.sql": "bigquery",
    }  # fmt: skip


def test_script_without_materialization_runs_every_statement(duck: Connection, databases: Databases) -> None:
    script = """
        create schema raw;
        create table raw.events (id integer, kind varchar);
        insert into raw.events values (1, 'click'), (2, 'view');
        insert into raw.events select id + 10, kind from raw.events;
    """
    run(sql_asset("raw.events", script), duck, databases)

    assert rows(databases, duck, "select id, kind from raw.events") == [
        (1, "click"), (2, "view"), (11, "click"), (12, "view"),
    ]  # fmt: skip


def test_view_is_created_and_replaced(duck: Connection, databases: Databases) -> None:
    run(sql_asset("marts.numbers", "select 1 as n union all select 2", type="view"), duck, databases)
    assert rows(databases, duck, "select n from marts.numbers") == [(1,), (2,)]

    run(sql_asset("marts.numbers", "select 7 as n, 'x' as label;", type="view"), duck, databases)

    assert rows(databases, duck, "select n, label from marts.numbers") == [(7, "x")]
    assert tables(databases, duck) == [("marts", "numbers", "VIEW")]


def test_table_is_created_and_replaced(duck: Connection, databases: Databases) -> None:
    run(sql_asset("marts.users", "select 1 as id, 'ann' as name", type="table"), duck, databases)
    assert rows(databases, duck, "select * from marts.users") == [(1, "ann")]

    replacement = "with src as (select range as id from range(3))\nselect id, id * 10 as score from src;\n"
    run(sql_asset("marts.users", replacement, type="table", strategy="create+replace"), duck, databases)

    assert rows(databases, duck, "select * from marts.users") == [(0, 0), (1, 10), (2, 20)]
    assert tables(databases, duck) == [("marts", "users", "BASE TABLE")]


def test_trailing_semicolons_and_comments_are_handled(duck: Connection, databases: Databases) -> None:
    run(sql_asset("marts.t", "select 1 as a ; ;\n-- trailing note", type="table"), duck, databases)
    run(sql_asset("marts.v", "select 2 as b -- inline note", type="view"), duck, databases)

    assert rows(databases, duck, "select * from marts.t") == [(1,)]
    assert rows(databases, duck, "select * from marts.v") == [(2,)]


def test_append_creates_then_inserts(duck: Connection, databases: Databases) -> None:
    asset = sql_asset("logs.runs", "select 1 as run, 'ok' as status;", type="table", strategy="append")

    run(asset, duck, databases)
    run(asset, duck, databases)

    assert rows(databases, duck, "select * from logs.runs") == [(1, "ok"), (1, "ok")]


def test_schema_prefix_applies_to_the_schema_and_to_unqualified_names(duck: Connection, databases: Databases) -> None:
    run(sql_asset("analytics.users", "select 1 as id", type="table"), duck, databases, schema_prefix="dev_")
    run(sql_asset("bare", "select 2 as id", type="view"), duck, databases, schema_prefix="dev_")
    run(sql_asset("plain", "select 3 as id", type="table"), duck, databases)

    assert tables(databases, duck) == [
        ("dev_analytics", "users", "BASE TABLE"), ("dev_main", "bare", "VIEW"), ("main", "plain", "BASE TABLE"),
    ]  # fmt: skip


def test_names_that_are_not_plain_identifiers_are_quoted(duck: Connection, databases: Databases) -> None:
    run(sql_asset("raw-data.daily-users", "select 1 as id", type="table"), duck, databases, schema_prefix="dev_")

    assert rows(databases, duck, 'select id from "dev_raw-data"."daily-users"') == [(1,)]


def test_syntax_error_names_the_asset(duck: Connection, databases: Databases) -> None:
    message = failure(sql_asset("marts.broken", "selec 1 as a", type="table"), duck, databases)
    assert message == "asset 'marts.broken': Parser Error: syntax error at or near \"selec\""


def test_failed_build_keeps_the_old_table(duck: Connection, databases: Databases) -> None:
    run(sql_asset("marts.orders", "select * from (values (1, 'a'), (2, 'b')) t(id, code)", type="table"),
        duck, databases)  # fmt: skip

    message = failure(sql_asset("marts.orders", "select id, code from no_such_table", type="table"), duck, databases)

    assert message.startswith("asset 'marts.orders': Catalog Error: Table with name no_such_table does not exist")
    assert rows(databases, duck, "select * from marts.orders") == [(1, "a"), (2, "b")]
    assert tables(databases, duck) == [("marts", "orders", "BASE TABLE")]


def test_readers_never_see_a_missing_table_during_swaps(duck: Connection, databases: Databases) -> None:
    run(sql_asset("marts.counts", "select range as n from range(100)", type="table"), duck, databases)
    reader_started, done = threading.Event(), threading.Event()
    seen: list[int] = []
    errors: list[str] = []

    def read() -> None:
        try:
            with databases.session(duck) as session:
                while not done.is_set():
                    seen.append(session.query("select count(*) from marts.counts")[0][0])
                    reader_started.set()
        except BruinError as exc:
            errors.append(str(exc))
        finally:
            reader_started.set()

    reader = threading.Thread(target=read)
    reader.start()
    reader_started.wait()
    try:
        for size in (200, 300) * 15:
            run(sql_asset("marts.counts", f"select range as n from range({size})", type="table"), duck, databases)
    finally:
        done.set()
        reader.join()

    assert errors == []
    assert set(seen) <= {100, 200, 300}
    assert rows(databases, duck, "select count(*) from marts.counts") == [(300,)]


def test_assets_of_one_file_share_one_database(tmp_path: Path, databases: Databases) -> None:
    first = duckdb_connection(tmp_path / "shared.db", name="first")
    second = duckdb_connection(tmp_path / "shared.db", name="second")

    run(sql_asset("s.a", "select 1 as x", type="table"), first, databases)
    run(sql_asset("s.b", "select x + 1 as x from s.a", type="table"), second, databases)

    assert rows(databases, first, "select x from s.b") == [(2,)]


def test_other_processes_can_open_the_file_once_released(duck: Connection, databases: Databases) -> None:
    run(sql_asset("s.t", "select 41 + 1 as x", type="table"), duck, databases)
    databases.release_idle()

    code = "import duckdb, sys; print(duckdb.connect(sys.argv[1]).execute('select x from s.t').fetchall())"
    reader = subprocess.run([sys.executable, "-c", code, duck.path], capture_output=True, text=True)

    assert (reader.returncode, reader.stdout.strip()) == (0, "[(42,)]"), reader.stderr
    run(sql_asset("s.u", "select x + 1 as x from s.t", type="table"), duck, databases)
    assert rows(databases, duck, "select x from s.u") == [(43,)]


def test_parallel_assets_on_one_file(duck: Connection, databases: Databases) -> None:
    errors: list[BaseException] = []

    def build(index: int) -> None:
        try:
            run(sql_asset(f"par.t{index}", f"select {index} as i", type="table"), duck, databases)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=build, args=(i,)) for i in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert rows(databases, duck, "select table_name from information_schema.tables") == [(f"t{i}",) for i in range(8)]


@pytest.mark.parametrize(
    ("materialization", "expected"),
    [
        ({"type": "view", "strategy": "append"}, "materialization strategy 'append' is not supported for views"),
        ({"type": "table", "strategy": "datavault_hub"},
         "materialization strategy 'datavault_hub' is not supported; use create+replace, append, delete+insert, "
         "truncate+insert, time_interval, merge, ddl, scd2_by_column or scd2_by_time"),
        ({"type": "snapshot"}, "unknown materialization type 'snapshot'; use table or view"),
    ],
)  # fmt: skip
def test_unsupported_materializations_are_refused(
    materialization: dict, expected: str, duck: Connection, databases: Databases
) -> None:
    message = failure(sql_asset("m.x", "select 1", **materialization), duck, databases)
    assert message == f"asset 'm.x': {expected}"


def test_asset_type_must_match_the_connection(duck: Connection, databases: Databases) -> None:
    message = failure(sql_asset("m.x", "select 1", asset_type="pg.sql"), duck, databases)
    assert message == (
        "asset 'm.x': connection 'duck' is a duckdb connection, but 'pg.sql' assets need a postgres connection"
    )


def test_unopenable_file_is_one_clear_line(tmp_path: Path, databases: Databases) -> None:
    not_a_database = tmp_path / "w.db"
    not_a_database.write_text("this is not a duckdb file")
    message = failure(sql_asset("m.x", "select 1"), duckdb_connection(not_a_database), databases)
    assert message.startswith(f"asset 'm.x': could not open duckdb connection 'duck' at {not_a_database}: ")


def test_a_missing_folder_is_created(tmp_path: Path, databases: Databases) -> None:
    path = tmp_path / "duckdb-files" / "w.db"
    run(sql_asset("s.t", "select 1 as x", type="table"), duckdb_connection(path), databases)
    assert path.is_file()


def test_read_only_connection_cannot_write(tmp_path: Path, databases: Databases) -> None:
    path = tmp_path / "ro.db"
    writer = Databases()
    run(sql_asset("s.t", "select 1 as x", type="table"), duckdb_connection(path), writer)
    writer.close()

    read_only = duckdb_connection(path, read_only=True)
    message = failure(sql_asset("s.u", "select 2 as x", type="table"), read_only, databases)

    assert message.startswith("asset 's.u': ")
    assert "read-only" in message
    assert rows(databases, read_only, "select x from s.t") == [(1,)]


def test_drivers_are_imported_only_when_used() -> None:
    code = (
        "import sys, pybruin.platforms.run, pybruin.platforms.ping; "
        "print(sorted({'duckdb', 'psycopg'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


LONG_QUERY = "select sum(hash(range)) as n from range(10_000_000_000_000)"


def test_cancel_stops_a_table_rebuild_and_keeps_the_old_table(duck: Connection, databases: Databases) -> None:
    run(sql_asset("marts.t", "select 1 as id", type="table"), duck, databases)
    platform = DuckDBPlatform()
    rebuild = platform.strategy({"type": "table"})
    assert rebuild is not None
    target = platform.target("marts.t", duck, "")
    building, failures = threading.Event(), []

    with databases.session(duck) as session:
        execute = session.execute

        def spy(script: str) -> None:
            if "CREATE TABLE" in script:
                building.set()
            execute(script)

        def build() -> None:
            try:
                session.execute(rebuild(Build(target, LONG_QUERY, Materialization(type="table"))))
            except BruinError as exc:
                failures.append(str(exc))

        session.execute = spy  # type: ignore[method-assign]
        worker = threading.Thread(target=build)
        worker.start()
        building.wait()
        while worker.is_alive():  # cancel is idempotent; repeating it covers a cancel landing before the driver starts
            session.cancel()
            worker.join(0.05)

    assert failures == ["cancelled"]
    assert rows(databases, duck, "select id from marts.t") == [(1,)]
    assert tables(databases, duck) == [("marts", "t", "BASE TABLE")]


def test_a_cancelled_session_refuses_later_statements(duck: Connection, databases: Databases) -> None:
    with databases.session(duck) as session:
        session.execute("create table kept as select 1 as id")
        session.cancel()
        with pytest.raises(BruinError) as caught:
            session.execute("create table refused as select 1 as id")
        session.cancel()

    assert str(caught.value) == "cancelled"
    assert rows(databases, duck, "select table_name from information_schema.tables") == [("kept",)]


def test_cancel_all_reaches_every_open_session(duck: Connection, databases: Databases) -> None:
    databases.cancel_all()  # nothing open: nothing to do
    with databases.session(duck) as first, databases.session(duck) as second:
        databases.cancel_all()
        refused = []
        for session in (first, second):
            with pytest.raises(BruinError) as caught:
                session.query("select 1")
            refused.append(str(caught.value))
    assert refused == ["cancelled", "cancelled"]
    assert rows(databases, duck, "select 1") == [(1,)]
