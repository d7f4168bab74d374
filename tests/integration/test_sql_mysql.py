"""SQL assets on a real MariaDB server through PyMySQL: materializations, the atomic swap, pooling, cancel, errors."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

import sql_assets as shared
from fixtures.mysql_server import MySQLDatabase
from pybruin.config.connections import Connection, build_connection
from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset
from pybruin.platforms.run import Databases
from sql_assets import run

# The password holds characters a hand-built DSN would get wrong.
CANARY_PASSWORD = "canary-my pw'=\\@x;" + uuid.uuid4().hex[:8]
USER = "bruin_my_runner"


@pytest.fixture
def database(mysql_database: Callable[[str, str], MySQLDatabase]) -> MySQLDatabase:
    return mysql_database(USER, CANARY_PASSWORD)


def connection_to(database: MySQLDatabase, name: str = "my", **fields: object) -> Connection:
    return build_connection("mysql", {"name": name, **database.details(**fields)}, base_dir=None, environ={})


@pytest.fixture
def databases() -> Iterator[Databases]:
    handles = Databases()
    yield handles
    handles.close()


def sql_asset(name: str, sql: str, **materialization: str) -> Asset:
    return shared.sql_asset(name, sql, "my.sql", **materialization)


def failure(asset: Asset, connection: Connection, databases: Databases) -> str:
    return shared.failure(asset, connection, databases, never_shown=[CANARY_PASSWORD])


def thread_id(databases: Databases, connection: Connection) -> int:
    with databases.session(connection) as session:
        return session.query("select connection_id()")[0][0]


def test_script_without_materialization_runs_every_statement(database: MySQLDatabase, databases: Databases) -> None:
    script = """
        create table events (id int, kind varchar(10));
        insert into events values (1, 'click'), (2, '100%');
        insert into events select id + 10, kind from events;
    """
    run(sql_asset("events", script), connection_to(database), databases)

    assert database.rows("select id, kind from events") == [(1, "click"), (2, "100%"), (11, "click"), (12, "100%")]


def test_a_failing_statement_late_in_a_script_fails_the_asset(database: MySQLDatabase, databases: Databases) -> None:
    script = "create table a (id int); insert into a values (1); insert into nope values (2); insert into a values (3)"
    message = failure(sql_asset("a", script), connection_to(database), databases)

    assert message == f"asset 'a': Table '{database.name}.nope' doesn't exist"
    assert database.rows("select id from a") == [(1,)]


def test_view_is_created_and_replaced(database: MySQLDatabase, databases: Databases) -> None:
    my = connection_to(database)
    run(sql_asset("numbers", "select 1 as n union all select 2", type="view"), my, databases)
    run(sql_asset("numbers", "select 1 as n, 'x' as label;", type="view"), my, databases)

    assert database.rows("select n, label from numbers") == [(1, "x")]
    assert database.relations() == [(database.name, "numbers", "VIEW")]


def test_table_is_created_and_replaced(database: MySQLDatabase, databases: Databases) -> None:
    my = connection_to(database)
    run(sql_asset("users", "select 1 as id, 'ann' as name", type="table"), my, databases)
    replacement = "select 0 as id, 0 as score union all select 1, 10 union all select 2, 20; -- done"
    run(sql_asset("users", replacement, type="table", strategy="create+replace"), my, databases)

    assert database.rows("select * from users") == [(0, 0), (1, 10), (2, 20)]
    assert database.relations() == [(database.name, "users", "BASE TABLE")]  # no staging or old table left


def test_append_creates_then_inserts(database: MySQLDatabase, databases: Databases) -> None:
    asset = sql_asset("runs", "select 1 as run, 'ok' as status;", type="table", strategy="append")

    run(asset, connection_to(database), databases)
    run(asset, connection_to(database), databases)

    assert database.rows("select * from runs") == [(1, "ok"), (1, "ok")]


def test_qualified_names_and_the_schema_prefix_name_databases(database: MySQLDatabase, databases: Databases) -> None:
    marts = f"{database.name}_marts"
    run(sql_asset(f"{marts}.users", "select 1 as id", type="table"), connection_to(database), databases)
    run(sql_asset(f"{marts}.users", "select 2 as id", type="table"), connection_to(database), databases, "dev_")
    run(sql_asset("bare", "select 3 as id", type="view"), connection_to(database), databases, "dev_")

    assert database.relations(marts, f"dev_{marts}", f"dev_{database.name}") == [
        (f"dev_{database.name}", "bare", "VIEW"),
        (f"dev_{marts}", "users", "BASE TABLE"),
        (marts, "users", "BASE TABLE"),
    ]
    assert database.server.rows(f"select id from `dev_{marts}`.users") == [(2,)]


def test_names_that_need_quoting(database: MySQLDatabase, databases: Databases) -> None:
    run(sql_asset(f"{database.name}-raw.daily users", "select 1 as id", type="table"), connection_to(database),
        databases)  # fmt: skip

    assert database.server.rows(f"select id from `{database.name}-raw`.`daily users`") == [(1,)]


def test_three_part_names_are_refused(database: MySQLDatabase, databases: Databases) -> None:
    message = failure(sql_asset("a.b.c", "select 1", type="table"), connection_to(database), databases)
    assert message == "asset 'a.b.c': the asset name must be table or database.table to materialize on MySQL"


def test_failed_build_keeps_the_old_table(database: MySQLDatabase, databases: Databases) -> None:
    my = connection_to(database)
    run(sql_asset("orders", "select 1 as id, 'a' as code union all select 2, 'b'", type="table"), my, databases)

    message = failure(sql_asset("orders", "select id, code from orders where nope = 1", type="table"), my, databases)

    assert message == "asset 'orders': Unknown column 'nope' in 'WHERE'"
    assert database.rows("select * from orders") == [(1, "a"), (2, "b")]
    assert database.relations() == [(database.name, "orders", "BASE TABLE")]


def test_readers_never_see_a_missing_table_during_swaps(database: MySQLDatabase, databases: Databases) -> None:
    my = connection_to(database)
    run(sql_asset("counts", "select 100 as n", type="table"), my, databases)
    reader_started, done = threading.Event(), threading.Event()
    seen: list[int] = []
    errors: list[str] = []

    def read() -> None:
        conn = database.server.connect(database.name)
        try:
            with conn.cursor() as cursor:
                while not done.is_set():
                    cursor.execute("select n from counts")
                    seen.append(cursor.fetchone()[0])
                    reader_started.set()
        except Exception as exc:  # any failure to read is the bug under test
            errors.append(str(exc))
        finally:
            conn.close()
            reader_started.set()

    reader = threading.Thread(target=read)
    reader.start()
    reader_started.wait()
    try:
        for size in (200, 300) * 10:
            run(sql_asset("counts", f"select {size} as n", type="table"), my, databases)
    finally:
        done.set()
        reader.join()

    assert errors == []
    assert set(seen) <= {100, 200, 300}
    assert database.rows("select n from counts") == [(300,)]


def test_sessions_reuse_one_pooled_connection(database: MySQLDatabase, databases: Databases) -> None:
    my = connection_to(database)

    first, second = thread_id(databases, my), thread_id(databases, my)

    assert first == second
    with databases.session(my) as one, databases.session(my) as two:
        ids = {one.query("select connection_id()")[0][0], two.query("select connection_id()")[0][0]}
    assert len(ids) == 2
    assert first in ids


def test_a_script_leaving_a_transaction_open_is_not_pooled(database: MySQLDatabase, databases: Databases) -> None:
    my = connection_to(database)
    run(sql_asset("t", "create table t (id int); start transaction; insert into t values (1)"), my, databases)

    with databases.session(my) as session:
        assert session.query("select count(*) from t") == [(0,)]  # a fresh connection: the insert rolled back


def test_pool_never_exceeds_the_connection_limit(database: MySQLDatabase, databases: Databases) -> None:
    my = connection_to(database, max_concurrent_assets=2)
    errors: list[BaseException] = []

    def build(index: int) -> None:
        try:
            run(sql_asset(f"t{index}", f"select {index} as i, connection_id() as cid", type="table"), my, databases)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=build, args=(i,)) for i in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    ids = database.rows(" union ".join(f"select cid from t{i}" for i in range(6)))
    assert 1 <= len(ids) <= 2


def test_wrong_password_is_one_clear_line_without_the_password(database: MySQLDatabase, databases: Databases) -> None:
    wrong = "wrong-" + CANARY_PASSWORD
    message = failure(sql_asset("x", "select 1"), connection_to(database, password=wrong), databases)

    assert message == (
        f"asset 'x': could not connect to mysql connection 'my' at 127.0.0.1:{database.server.port}: "
        f"access denied for user '{USER}'@'127.0.0.1' (using password: YES)"
    )
    assert wrong not in message


def test_unreachable_server_is_one_clear_line(database: MySQLDatabase, databases: Databases) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]

    message = failure(sql_asset("x", "select 1"), connection_to(database, port=closed_port), databases)

    assert message.startswith(
        f"asset 'x': could not connect to mysql connection 'my' at 127.0.0.1:{closed_port}: "
        "can't connect to MySQL server on '127.0.0.1'"
    )


@pytest.mark.parametrize(
    ("literal", "shown"),
    [
        (CANARY_PASSWORD, "****"),
        (f"mysql://{USER}:hunter2-canary@db.example:3306/x", "mysql://****@db.example:3306/x"),
        ("host=db password=hunter2-canary user=x", "host=db password=**** user=x"),
    ],
)
def test_driver_messages_are_masked(literal: str, shown: str, database: MySQLDatabase, databases: Databases) -> None:
    quoted = literal.replace("\\", "\\\\").replace("'", "''")
    script = f"create table leak (x int); insert into leak values ('{quoted}')"

    message = failure(sql_asset("leaky", script), connection_to(database), databases)

    column = f"`{database.name}`.`leak`.`x`"
    assert message == f"asset 'leaky': Incorrect integer value: '{shown}' for column {column} at row 1"
    assert "hunter2-canary" not in message


def running_thread(database: MySQLDatabase, fragment: str) -> int:
    """The id of the connection running a statement that contains `fragment`, waiting until there is one."""
    while True:
        found = database.server.rows(
            "select id from information_schema.processlist "
            f"where info like '%{fragment}%' and info not like '%processlist%'"
        )
        if found:
            return found[0][0]
        time.sleep(0.02)


def test_cancel_stops_a_table_rebuild_and_keeps_the_old_table(database: MySQLDatabase, databases: Databases) -> None:
    my = connection_to(database)
    run(sql_asset("t", "select 1 as id", type="table"), my, databases)
    failures: list[str] = []

    def rebuild() -> None:
        try:
            run(sql_asset("t", "select 2 as id from (select sleep(3600)) s", type="table"), my, databases)
        except BruinError as exc:
            failures.append(str(exc))

    worker = threading.Thread(target=rebuild)
    worker.start()
    cancelled = running_thread(database, "sleep(3600)")
    databases.cancel_all()
    worker.join()

    assert failures == ["asset 't': cancelled"]
    assert database.rows("select id from t") == [(1,)]
    assert database.relations() == [(database.name, "t", "BASE TABLE")]  # MySQL dropped the unfinished build
    assert thread_id(databases, my) != cancelled  # a cancelled connection is not pooled again


def test_tls_with_the_servers_ca_and_a_client_certificate(database: MySQLDatabase, databases: Databases) -> None:
    tls = database.server.tls
    database.server.execute(f"ALTER USER '{USER}'@'%' REQUIRE X509")
    try:
        plain = failure(sql_asset("x", "select 1"), connection_to(database), databases)
        secured = connection_to(database, name="tls", ssl_ca_path=str(tls / "ca.pem"),
                                ssl_cert_path=str(tls / "client-cert.pem"), ssl_key_path=str(tls / "client-key.pem"))
        with databases.session(secured) as session:
            cipher = session.query("show session status like 'Ssl_cipher'")
    finally:
        database.server.execute(f"ALTER USER '{USER}'@'%' REQUIRE NONE")

    where = f"127.0.0.1:{database.server.port}"
    assert plain.startswith(f"asset 'x': could not connect to mysql connection 'my' at {where}: access denied")
    assert cipher[0][1]  # the session is encrypted


def test_unreadable_tls_files_are_named(database: MySQLDatabase, databases: Databases) -> None:
    message = failure(sql_asset("x", "select 1"), connection_to(database, ssl_ca_path="/nonexistent/ca.pem"),
                      databases)  # fmt: skip

    assert message == "asset 'x': connection 'my': cannot read ssl_ca_path '/nonexistent/ca.pem'"
