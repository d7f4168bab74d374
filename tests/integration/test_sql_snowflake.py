"""SQL assets on Snowflake's protocol: the real snowflake-connector-python against fakesnow's server.

fakesnow accepts any credentials, so what these tests show about authentication is what pybruin sends
(a key pair is parsed, decrypted with its passphrase and signed with) and how failures read, not that
Snowflake would accept it. Its SQL runs on DuckDB: Snowflake semantics beyond the statements used here
are not shown.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import sql_assets as shared
from fixtures.snowflake_server import SnowflakeDatabase, SnowflakeServer
from pybruin.config.connections import Connection, build_connection
from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset
from pybruin.platforms.run import Databases
from sql_assets import run

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # duckdb, behind fakesnow, warns about Arrow copies

CANARY_PASSWORD = "canary-sf pw'=\\@x-" + uuid.uuid4().hex[:8]


@pytest.fixture
def database(snowflake_database: Callable[[], SnowflakeDatabase]) -> SnowflakeDatabase:
    return snowflake_database()


def connection_to(database: SnowflakeDatabase, name: str = "sf", **fields: object) -> Connection:
    details = database.details(**{"password": CANARY_PASSWORD, **fields})
    return build_connection("snowflake", {"name": name, **details}, base_dir=None, environ={})


@pytest.fixture
def databases() -> Iterator[Databases]:
    handles = Databases()
    yield handles
    handles.close()


def sql_asset(name: str, sql: str, **materialization: str) -> Asset:
    return shared.sql_asset(name, sql, "sf.sql", **materialization)


def failure(asset: Asset, connection: Connection, databases: Databases) -> str:
    return shared.failure(asset, connection, databases, never_shown=[CANARY_PASSWORD])


def rsa_key_pem(passphrase: str | None = None) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def test_script_without_materialization_runs_every_statement(
    database: SnowflakeDatabase, databases: Databases
) -> None:
    script = """
        create schema raw;
        create table raw.events (id int, kind varchar);
        insert into raw.events values (1, 'click'), (2, 'a;b');  -- a semicolon inside a literal
        insert into raw.events select id + 10, kind from raw.events;
    """
    run(sql_asset("raw.events", script), connection_to(database), databases)

    assert database.rows("select id, kind from raw.events") == [(1, "click"), (2, "a;b"), (11, "click"), (12, "a;b")]


def test_view_is_created_and_replaced(database: SnowflakeDatabase, databases: Databases) -> None:
    sf = connection_to(database)
    run(sql_asset("marts.numbers", "select 1 as n union all select 2", type="view"), sf, databases)
    run(sql_asset("marts.numbers", "select 1 as n, 'x' as label;", type="view"), sf, databases)

    assert database.rows("select n, label from marts.numbers") == [(1, "x")]
    assert database.relations() == [("MARTS", "NUMBERS", "VIEW")]


def test_table_is_created_and_replaced(database: SnowflakeDatabase, databases: Databases) -> None:
    sf = connection_to(database)
    run(sql_asset("marts.users", "select 1 as id, 'ann' as name", type="table"), sf, databases)
    replacement = "select 0 as id, 0 as score union all select 1, 10 union all select 2, 20; -- done"
    run(sql_asset("marts.users", replacement, type="table", strategy="create+replace"), sf, databases)

    assert database.rows("select * from marts.users") == [(0, 0), (1, 10), (2, 20)]
    assert database.relations() == [("MARTS", "USERS", "BASE TABLE")]


def test_append_creates_then_inserts(database: SnowflakeDatabase, databases: Databases) -> None:
    asset = sql_asset("logs.runs", "select 1 as run, 'ok' as status;", type="table", strategy="append")

    run(asset, connection_to(database), databases)
    run(asset, connection_to(database), databases)

    assert database.rows("select * from logs.runs") == [(1, "ok"), (1, "ok")]


def test_schema_prefix_the_connection_schema_and_quoted_names(
    database: SnowflakeDatabase, databases: Databases
) -> None:
    run(sql_asset("analytics.users", "select 1 as id", type="table"), connection_to(database), databases, "dev_")
    run(sql_asset("bare", "select 2 as id", type="view"), connection_to(database), databases, "dev_")
    scoped = connection_to(database, name="scoped", schema="reporting")
    run(sql_asset("plain", "select 3 as id", type="table"), scoped, databases)
    run(sql_asset("Raw Data.Daily", "select 4 as id", type="table"), connection_to(database), databases)
    run(sql_asset(f"{database.name}.third.part", "select 5 as id", type="table"), connection_to(database), databases)

    assert database.relations() == [
        ("DEV_ANALYTICS", "USERS", "BASE TABLE"),
        ("DEV_PUBLIC", "BARE", "VIEW"),
        ("REPORTING", "PLAIN", "BASE TABLE"),
        ("Raw Data", "DAILY", "BASE TABLE"),  # a plain part folds to upper case
        ("THIRD", "PART", "BASE TABLE"),
    ]


def test_failed_build_keeps_the_old_table(database: SnowflakeDatabase, databases: Databases) -> None:
    sf = connection_to(database)
    run(sql_asset("marts.orders", "select 1 as id, 'a' as code union all select 2, 'b'", type="table"), sf, databases)

    message = failure(sql_asset("marts.orders", "select nope from marts.orders", type="table"), sf, databases)

    assert message == (
        "asset 'marts.orders': 002043 (02000): Binder Error: Referenced column \"NOPE\" not found in FROM clause!"
    )
    assert database.rows("select * from marts.orders") == [(1, "a"), (2, "b")]


def test_sessions_are_pooled_and_a_transaction_left_open_is_not(
    database: SnowflakeDatabase, databases: Databases, snowflake_server: SnowflakeServer
) -> None:
    sf = connection_to(database)
    logins = snowflake_server.requests_to("/session/v1/login-request")
    for index in range(3):
        run(sql_asset(f"marts.t{index}", "select 1 as id", type="table"), sf, databases)
    assert snowflake_server.requests_to("/session/v1/login-request") == logins + 1

    run(sql_asset("marts.open", "begin; insert into marts.t0 values (2)"), sf, databases)
    run(sql_asset("marts.after", "select count(*) as n from marts.t0", type="table"), sf, databases)

    assert snowflake_server.requests_to("/session/v1/login-request") == logins + 2
    assert database.rows("select n from marts.after") == [(1,)]


@pytest.mark.parametrize("how", ["inline", "file", "encrypted inline", "encrypted file"])
def test_key_pair_authentication(how: str, database: SnowflakeDatabase, databases: Databases, tmp_path: Path) -> None:
    passphrase = CANARY_PASSWORD if how.startswith("encrypted") else None
    pem = rsa_key_pem(passphrase)
    fields: dict[str, object] = {"password": passphrase or ""}
    if how.endswith("file"):
        (tmp_path / "key.p8").write_text(pem)
        fields["private_key_path"] = str(tmp_path / "key.p8")
    else:
        fields["private_key"] = pem

    run(sql_asset("marts.keyed", "select 1 as id", type="table"), connection_to(database, **fields), databases)

    assert database.rows("select id from marts.keyed") == [(1,)]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"private_key": "not a key", "password": ""}, "the private_key is not a PEM-encoded private key"),
        ({"private_key": "ENCRYPTED", "password": ""},
         "the private_key is encrypted; set its passphrase as the password"),
        ({"private_key": "ENCRYPTED", "password": "wrong"}, "the passphrase does not decrypt the private_key"),
        ({"private_key_path": "/nonexistent/key.p8"},
         "cannot read private_key_path '/nonexistent/key.p8': No such file or directory"),
    ],
)  # fmt: skip
def test_key_pair_problems_name_the_field_never_the_key(
    fields: dict, expected: str, database: SnowflakeDatabase, databases: Databases
) -> None:
    pem = rsa_key_pem(CANARY_PASSWORD)
    fields = {key: pem if value == "ENCRYPTED" else value for key, value in fields.items()}

    message = failure(sql_asset("m.x", "select 1"), connection_to(database, **fields), databases)

    assert message == f"asset 'm.x': connection 'sf': {expected}"
    assert "PRIVATE KEY" not in message


def test_oauth_token_signs_in(database: SnowflakeDatabase, databases: Databases) -> None:
    sf = connection_to(database, password="", token="oauth-token-" + uuid.uuid4().hex)

    run(sql_asset("marts.by_token", "select 1 as id", type="table"), sf, databases)

    assert database.rows("select id from marts.by_token") == [(1,)]


def test_unreachable_server_is_one_clear_line(database: SnowflakeDatabase, databases: Databases) -> None:
    from servers import free_port

    sf = connection_to(database, port=free_port())

    message = failure(sql_asset("m.x", "select 1"), sf, databases)

    assert message == (
        "asset 'm.x': could not connect to snowflake connection 'sf': "
        "250001: Could not connect to Snowflake backend after 2 attempt(s).Aborting"
    )


@pytest.mark.parametrize(
    ("literal", "shown"),
    [
        (CANARY_PASSWORD, "****"),
        ("snowflake://loader:hunter2-canary@acme/db", "snowflake://****@acme/db"),
        ("user=x password=hunter2-canary", "user=x password=****"),  # the shared rule takes the quote with it
    ],
)
def test_driver_messages_are_masked(
    literal: str, shown: str, database: SnowflakeDatabase, databases: Databases
) -> None:
    sql = "select '" + literal.replace("\\", "\\\\").replace("'", "\\'") + "'::int as x"

    message = failure(sql_asset("m.leaky", sql, type="table"), connection_to(database), databases)

    assert "hunter2-canary" not in message
    assert message.startswith(f"asset 'm.leaky': 100035 (22007): Conversion Error: Could not convert string '{shown}")


def test_cancel_reaches_the_server_and_refuses_later_statements(
    database: SnowflakeDatabase, databases: Databases, snowflake_server: SnowflakeServer
) -> None:
    """What fakesnow can show of a cancel: the connector's abort request for the running statement reaches
    the server, and the session runs nothing after it. fakesnow's abort handler does nothing, so the running
    statement is not stopped there (Snowflake ends it with `000604: SQL execution canceled`)."""
    sf = connection_to(database)
    run(sql_asset("marts.t", "select 1 as id", type="table"), sf, databases)
    aborts = snowflake_server.requests_to("/queries/v1/abort-request")
    failures: list[str] = []
    slow = "select count(distinct seq8() * 7919 % 1000003) as n from table(generator(rowcount => 2000000))"
    script = f"create table marts.slow as {slow}; create or replace table marts.t as select 2 as id"

    def work() -> None:
        try:
            run(sql_asset("marts.slow", script), sf, databases)
        except BruinError as exc:
            failures.append(str(exc))

    worker = threading.Thread(target=work)
    worker.start()
    while not _running(databases):
        time.sleep(0.01)
    databases.cancel_all()
    worker.join()

    assert failures == ["asset 'marts.slow': cancelled"]
    assert snowflake_server.requests_to("/queries/v1/abort-request") == aborts + 1
    assert database.rows("select id from marts.t") == [(1,)]  # the statement after the cancel never ran


def _running(databases: Databases) -> bool:
    """Whether a session has sent a statement and waits for it (the slow one: it is the script's first)."""
    return any(session._handle.running is not None for session in list(databases._sessions))

