"""SQL assets on a real PostgreSQL server (and Redshift's code path, which speaks the same protocol)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fixtures.postgres_server import PgDatabase, PgServer
from pybruin.config.connections import Connection, build_connection
from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset
from pybruin.platforms.run import Databases, run_sql_asset

# The password holds characters a hand-built connection string would get wrong.
CANARY_PASSWORD = "canary-7c1e pw'=\\@x-" + uuid.uuid4().hex[:8]
ROLE = "bruin_asset_runner"


@pytest.fixture
def database(pg_database: Callable[[str, str], PgDatabase]) -> PgDatabase:
    return pg_database(ROLE, CANARY_PASSWORD)


def connection_to(database: PgDatabase, type_key: str = "postgres", name: str = "pg", **fields: object) -> Connection:
    """A connection of ``type_key`` into ``database`` as its owner; ``fields`` replace or add details."""
    return build_connection(type_key, {"name": name, **database.details(**fields)}, base_dir=None, environ={})


@pytest.fixture
def databases() -> Iterator[Databases]:
    handles = Databases()
    yield handles
    handles.close()


def sql_asset(name: str, sql: str, asset_type: str = "pg.sql", **materialization: str) -> Asset:
    file = Path(f"assets/{name}.sql")
    return Asset(
        name=name, type=asset_type, definition_file=file, executable_file=file, content=sql,
        materialization=materialization,
    )  # fmt: skip


def run(asset: Asset, connection: Connection, databases: Databases, schema_prefix: str = "") -> None:
    run_sql_asset(asset, connection, databases, rendered_sql=asset.content, schema_prefix=schema_prefix)


def failure(asset: Asset, connection: Connection, databases: Databases) -> str:
    with pytest.raises(BruinError) as caught:
        run(asset, connection, databases)
    message = str(caught.value)
    assert "\n" not in message
    assert CANARY_PASSWORD not in message
    assert caught.value.__suppress_context__
    return message


def backend_pid(databases: Databases, connection: Connection) -> int:
    with databases.session(connection) as session:
        return session.query("select pg_backend_pid()")[0][0]


def test_script_without_materialization_runs_every_statement(database: PgDatabase, databases: Databases) -> None:
    script = """
        create schema raw;
        create table raw.events (id int, kind text);
        insert into raw.events values (1, 'click'), (2, '100%');
        insert into raw.events select id + 10, kind from raw.events;
    """
    run(sql_asset("raw.events", script), connection_to(database), databases)

    assert database.rows("select id, kind from raw.events") == [
        (1, "click"), (2, "100%"), (11, "click"), (12, "100%"),
    ]  # fmt: skip


def test_view_is_created_and_replaced(database: PgDatabase, databases: Databases) -> None:
    pg = connection_to(database)
    run(sql_asset("marts.numbers", "select 1 as n union all select 2", type="view"), pg, databases)
    run(sql_asset("marts.numbers", "select 1 as n, 'x' as label;", type="view"), pg, databases)

    assert database.rows("select n, label from marts.numbers") == [(1, "x")]
    assert database.relations() == [("marts", "numbers", "VIEW")]


def test_table_is_created_and_replaced(database: PgDatabase, databases: Databases) -> None:
    pg = connection_to(database)
    run(sql_asset("marts.users", "select 1 as id, 'ann' as name", type="table"), pg, databases)
    replacement = "with src as (select generate_series(0, 2) as id)\nselect id, id * 10 as score from src; -- done"
    run(sql_asset("marts.users", replacement, type="table", strategy="create+replace"), pg, databases)

    assert database.rows("select * from marts.users") == [(0, 0), (1, 10), (2, 20)]
    assert database.relations() == [("marts", "users", "BASE TABLE")]


def test_append_creates_then_inserts(database: PgDatabase, databases: Databases) -> None:
    asset = sql_asset("logs.runs", "select 1 as run, 'ok' as status;", type="table", strategy="append")

    run(asset, connection_to(database), databases)
    run(asset, connection_to(database), databases)

    assert database.rows("select * from logs.runs") == [(1, "ok"), (1, "ok")]


def test_schema_prefix_and_the_connection_schema(database: PgDatabase, databases: Databases) -> None:
    run(sql_asset("analytics.users", "select 1 as id", type="table"), connection_to(database), databases, "dev_")
    run(sql_asset("bare", "select 2 as id", type="view"), connection_to(database), databases, "dev_")
    scoped = connection_to(database, name="scoped", schema="reporting")
    run(sql_asset("plain", "select 3 as id", type="table"), scoped, databases)
    run(sql_asset("unqualified", "create table t as select id from plain"), scoped, databases)

    assert database.relations() == [
        ("dev_analytics", "users", "BASE TABLE"),
        ("dev_public", "bare", "VIEW"),
        ("reporting", "plain", "BASE TABLE"),
        ("reporting", "t", "BASE TABLE"),
    ]


def test_existing_schema_needs_no_database_privilege(
    pg_server: PgServer, database: PgDatabase, databases: Databases
) -> None:
    with pg_server.connect(database.name) as conn:
        conn.execute(f"alter database {database.name} owner to postgres")
        conn.execute("create schema marts")
        conn.execute(f"grant usage, create on schema marts to {database.owner}")

    run(sql_asset("marts.t", "select 1 as id", type="table"), connection_to(database), databases)
    message = failure(sql_asset("fresh.t", "select 1 as id", type="table"), connection_to(database), databases)

    assert database.rows("select id from marts.t") == [(1,)]
    assert message == f"asset 'fresh.t': permission denied for database {database.name}"


def test_failed_build_keeps_the_old_table(database: PgDatabase, databases: Databases) -> None:
    pg = connection_to(database)
    run(sql_asset("marts.orders", "select * from (values (1, 'a'), (2, 'b')) t(id, code)", type="table"),
        pg, databases)  # fmt: skip

    message = failure(sql_asset("marts.orders", "select id / 0 as id from marts.orders", type="table"), pg, databases)

    assert message == "asset 'marts.orders': division by zero"
    assert database.rows("select * from marts.orders") == [(1, "a"), (2, "b")]
    assert database.relations() == [("marts", "orders", "BASE TABLE")]


def test_syntax_error_names_the_asset(database: PgDatabase, databases: Databases) -> None:
    message = failure(sql_asset("marts.broken", "selec 1", type="view"), connection_to(database), databases)
    assert message == "asset 'marts.broken': syntax error at or near \"selec\""


def test_readers_never_see_a_missing_table_during_swaps(database: PgDatabase, databases: Databases) -> None:
    pg = connection_to(database)
    run(sql_asset("marts.counts", "select generate_series(1, 100) as n", type="table"), pg, databases)
    reader_started, done = threading.Event(), threading.Event()
    seen: list[int] = []
    errors: list[str] = []

    def read() -> None:
        try:
            with database.server.connect(database.name) as conn:
                while not done.is_set():
                    seen.append(conn.execute("select count(*) from marts.counts").fetchone()[0])
                    reader_started.set()
        except Exception as exc:  # any failure to read is the bug under test
            errors.append(str(exc))
        finally:
            reader_started.set()

    reader = threading.Thread(target=read)
    reader.start()
    reader_started.wait()
    try:
        for size in (200, 300) * 10:
            run(sql_asset("marts.counts", f"select generate_series(1, {size}) as n", type="table"), pg, databases)
    finally:
        done.set()
        reader.join()

    assert errors == []
    assert set(seen) <= {100, 200, 300}
    assert database.rows("select count(*) from marts.counts") == [(300,)]


def test_sessions_reuse_one_pooled_connection(database: PgDatabase, databases: Databases) -> None:
    pg = connection_to(database)

    first, second = backend_pid(databases, pg), backend_pid(databases, pg)

    assert first == second
    with databases.session(pg) as one, databases.session(pg) as two:
        pids = {one.query("select pg_backend_pid()")[0][0], two.query("select pg_backend_pid()")[0][0]}
    assert len(pids) == 2
    assert first in pids


def test_pool_never_exceeds_the_connection_limit(database: PgDatabase, databases: Databases) -> None:
    pg = connection_to(database, pool_max_conns=5, max_concurrent_assets=2)
    errors: list[BaseException] = []

    def build(index: int) -> None:
        try:
            asset = sql_asset(f"par.t{index}", f"select {index} as i, pg_backend_pid() as pid", type="table")
            run(asset, pg, databases)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=build, args=(i,)) for i in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    pids = database.rows(" union ".join(f"select pid from par.t{i}" for i in range(8)))
    assert 1 <= len(pids) <= 2


def test_wrong_password_is_one_clear_line_without_the_password(database: PgDatabase, databases: Databases) -> None:
    wrong = "wrong-" + CANARY_PASSWORD
    message = failure(sql_asset("m.x", "select 1"), connection_to(database, password=wrong), databases)

    assert message == (
        f"asset 'm.x': could not connect to postgres connection 'pg' at "
        f'127.0.0.1:{database.server.port}: password authentication failed for user "{ROLE}"'
    )
    assert wrong not in message


def test_unreachable_server_is_one_clear_line(database: PgDatabase, databases: Databases) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    message = failure(sql_asset("m.x", "select 1"), connection_to(database, port=closed_port), databases)

    assert message == (
        f"asset 'm.x': could not connect to postgres connection 'pg' at 127.0.0.1:{closed_port}: connection refused"
    )


@pytest.mark.parametrize(
    ("literal", "shown"),
    [
        (CANARY_PASSWORD, "****"),
        (f"postgresql://{ROLE}:hunter2-canary@db.example:5432/x", "postgresql://****@db.example:5432/x"),
        ("host=db password=hunter2-canary user=x", "host=db password=**** user=x"),
    ],
)
def test_driver_messages_are_masked(literal: str, shown: str, database: PgDatabase, databases: Databases) -> None:
    sql = "select " + "'" + literal.replace("'", "''") + "'::int as x"

    message = failure(sql_asset("m.leaky", sql, type="table"), connection_to(database), databases)

    assert message == f"asset 'm.leaky': invalid input syntax for type integer: \"{shown}\""
    assert "hunter2-canary" not in message


def test_redshift_assets_run_over_the_postgres_protocol(database: PgDatabase, databases: Databases) -> None:
    redshift = connection_to(database, "redshift", name="rs", port=database.server.port)

    run(sql_asset("marts.r", "select 42 as answer", asset_type="rs.sql", type="table"), redshift, databases)

    assert database.rows("select answer from marts.r") == [(42,)]


def test_redshift_connections_default_to_port_5439(database: PgDatabase, databases: Databases) -> None:
    redshift = connection_to(database, "redshift", name="rs", port=0, host="127.0.0.1")

    message = failure(sql_asset("m.x", "select 1", asset_type="rs.sql"), redshift, databases)

    assert message.startswith("asset 'm.x': could not connect to redshift connection 'rs' at 127.0.0.1:5439: ")


def running_backend(database: PgDatabase, fragment: str) -> int:
    """The pid of the backend running a statement that contains `fragment`, waiting until there is one."""
    with database.server.connect(database.name) as conn:
        while True:
            found = conn.execute(
                "select pid from pg_stat_activity where datname = %s and state = 'active' and query like %s",
                (database.name, f"%{fragment}%"),
            ).fetchone()
            if found:
                return found[0]
            time.sleep(0.02)


def test_cancel_stops_a_table_rebuild_and_keeps_the_old_table(database: PgDatabase, databases: Databases) -> None:
    pg = connection_to(database)
    run(sql_asset("marts.t", "select 1 as id", type="table"), pg, databases)
    failures: list[str] = []

    def rebuild() -> None:
        try:
            run(sql_asset("marts.t", "select 2 as id from pg_sleep(3600)", type="table"), pg, databases)
        except BruinError as exc:
            failures.append(str(exc))

    worker = threading.Thread(target=rebuild)
    worker.start()
    cancelled_pid = running_backend(database, "pg_sleep(3600)")
    databases.cancel_all()
    worker.join()

    assert failures == ["asset 'marts.t': cancelled"]
    assert database.rows("select id from marts.t") == [(1,)]
    assert database.relations() == [("marts", "t", "BASE TABLE")]
    assert backend_pid(databases, pg) != cancelled_pid  # a cancelled connection is not pooled again
