"""Snowflake (`sf.sql`), via `snowflake-connector-python`.

Names are `table` (in the connection's `schema`, else PUBLIC), `schema.table` (in the connection's
`database`) or `database.schema.table`; plain parts stay unquoted, so they fold to upper case as the user's
own SQL folds them. Authentication follows upstream: a private key (`private_key`, or the file at
`private_key_path`) signs in by key pair, `password` then being the key's passphrase if it is encrypted;
else `token` signs in by OAuth; else `username` and `password`. `region` is appended to the account's host.
`host`, `port` and `protocol` (not in upstream's config) reach Snowflake at an address of the user's
choosing, such as a private endpoint or a local stand-in.

Snowflake's `CREATE OR REPLACE` is atomic, so `create+replace` (and every rebuild, SCD2's too) is one
statement: readers see the old table or the new one, and a failed build leaves the old table in place.
Scripts are split into statements on the client (the connector's own splitter) and run one by one on the
session; a failed one rolls the transaction back. `merge` is one MERGE. The other strategies change the table
in one transaction; as any DDL commits an open transaction in Snowflake, the TEMPORARY table that
`delete+insert` and SCD2 fill from the query is made before BEGIN and dropped after COMMIT (upstream's
delete+insert makes it inside, which commits the transaction there). SCD2 closes rows at one moment per run,
kept in a session variable; it does not set the session's time zone to UTC as upstream does (fakesnow cannot,
and the setting would outlive the script on a pooled session), so dates and TIMESTAMP_NTZ keys are read in the
session's time zone.

Cancelling: each statement is sent with a request id pybruin chooses, and a cancel asks Snowflake to
abort that request, the way the connector does on Ctrl-C (`SnowflakeConnection._cancel_query`; the
connector has no public call for a statement running on another thread). This is why the connector is
kept to the 4.x line, whose internals it relies on.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pybruin.config.connections.files import read_for_injection
from pybruin.errors import BruinError
from pybruin.platforms.ansi import (
    COLUMN_CHECKS,
    AnsiPlatform,
    DdlStyle,
    Scd2Style,
    Transaction,
    counted,
    ddl_table,
    declared_key_type,
    merge_statement,
    one_query_tables,
    select_body,
    temp_name,
)
from pybruin.platforms.arrow_data import column_type, decoded
from pybruin.platforms.base import (
    AskEachTime,
    Build,
    ColumnCheckSql,
    Database,
    Result,
    Session,
    Strategy,
    TableLookup,
    Target,
    import_driver,
)
from pybruin.platforms.pool import PooledDatabase
from pybruin.platforms.seeding import cast_columns, load_via_scratch, seed_data
from pybruin.records import Record, field

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.pipeline.seeds import Seed

_R = TypeVar("_R")

LOGIN_TIMEOUT_SECONDS = 30
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # as AnsiPlatform leaves unquoted
_OPENS_TRANSACTION = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION)\b", re.IGNORECASE)
_ENDS_TRANSACTION = re.compile(r"^\s*(COMMIT|ROLLBACK)\b", re.IGNORECASE)
# Out-of-band telemetry reports client errors to Snowflake outside the session; nothing leaves but queries.
_SESSION_PARAMETERS = MappingProxyType({"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False})
#: How Snowflake names each kind of declared seed column type (it has no interval type: text).
SEED_TYPES = MappingProxyType({
    "smallint": "SMALLINT", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE", "decimal": "NUMBER(38, 9)",
    "decimal()": "NUMBER({})", "binary": "BINARY", "bool": "BOOLEAN", "date": "DATE", "time": "TIME",
    "timestamp": "TIMESTAMP_TZ", "timestamp_ntz": "TIMESTAMP_NTZ", "interval": "VARCHAR", "text": "VARCHAR",
    "text()": "VARCHAR({})", "json": "VARIANT",
})  # fmt: skip


def ensure_schema(session: Session, target: Target) -> None:
    """Create the target's schema unless it exists, once per run; checking first spares roles that may
    create tables in a schema but not schemas in the database."""

    def create(session: Session) -> None:
        view = _information_schema(target, "schemata")
        found = session.query(f"SELECT count(*) FROM {view} WHERE schema_name = %s", [_stored(target.parts[-2])])
        if not found[0][0]:
            session.execute(f"CREATE SCHEMA IF NOT EXISTS {target.container}")

    session.once(f"schema {target.container}", create)


def table_exists(session: Session, target: Target) -> bool:
    view = _information_schema(target, "tables")
    schema, table = (_stored(part) for part in target.parts[-2:])
    found = session.query(f"SELECT count(*) FROM {view} WHERE table_schema = %s AND table_name = %s", [schema, table])
    return found[0][0] > 0


def replace_table(build: Build) -> str:
    """One atomic statement: Snowflake swaps the table in when the query has finished."""
    return f"CREATE OR REPLACE TABLE {build.target.qualified} AS\n{select_body(build.query)}"


#: DDL (a scratch table too) commits an open transaction, so scratch tables are made before it. They are
#: temporary, so a crash leaves none behind, and live in the session's schema (the connection's `schema`, else
#: its database's PUBLIC), as fakesnow cannot put a temporary table in a named schema.
TRANSACTION = Transaction(scratch="CREATE TEMPORARY TABLE", scratch_outside=True)


def ddl(build: Build) -> str:
    style = DdlStyle(indent="", lower_keys=True, collation=str, comment=lambda text: f" COMMENT {literal(text)}")
    return ddl_table(build, style)


def _rebuild_scd2(build: Build, select: str) -> str:
    """One atomic statement, clustered as upstream clusters SCD2 tables."""
    keys = ", ".join(build.quote(column.name) for column in build.columns if column.primary_key)
    return f"CREATE OR REPLACE TABLE {build.target.qualified} CLUSTER BY (_is_current, {keys}) AS\n{select}"


def _key_type(build: Build, strategy: str) -> str:
    return declared_key_type(build, strategy, lambda kind: "timestamp" in kind or "date" in kind)


_SCD2 = Scd2Style(
    transaction=TRANSACTION, rebuild=_rebuild_scd2, key_type=_key_type,
    moment=lambda expression, _kind: f"CAST({expression} AS TIMESTAMP_TZ)",
    forever="TO_TIMESTAMP_TZ('9999-12-31 23:59:59', 'YYYY-MM-DD HH24:MI:SS')",
    opened="CAST(CURRENT_TIMESTAMP() AS TIMESTAMP_TZ)", now="$pybruin_scd2_now",
    setup=("SET pybruin_scd2_now = CURRENT_TIMESTAMP()",),
)  # fmt: skip
_MERGE = partial(merge_statement, source_values=True)
STRATEGIES, REBUILDS = one_query_tables(replace_table, TRANSACTION, _MERGE, ddl, _SCD2)
#: The type each kind of Arrow column is staged as (`pybruin.platforms.arrow_data`).
ARROW_TYPES: Mapping[str, str] = MappingProxyType({
    "boolean": "BOOLEAN", **dict.fromkeys(("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"),
                                          "NUMBER(38, 0)"),
    "uint64": "NUMBER(20, 0)", "float32": "FLOAT", "float64": "FLOAT", "decimal": "NUMBER({precision}, {scale})",
    "date": "DATE", "time": "TIME(9)", "timestamp": "TIMESTAMP_NTZ(9)", "timestamp_tz": "TIMESTAMP_TZ(9)",
    "string": "VARCHAR", "binary": "BINARY", "null": "VARCHAR",
})  # fmt: skip
#: Rows per multi-row INSERT when staging a Python asset's data.
INSERT_BATCH_ROWS = 10_000

#: Upstream's Snowflake checks: `pattern` with REGEXP, which matches the whole value.
CHECKS: Mapping[str, ColumnCheckSql] = MappingProxyType({
    **COLUMN_CHECKS,
    "accepted_values": counted("CAST({c} as STRING) NOT IN ({v})",
                               "column '{c}' has {n} rows that are not in the accepted values"),
    "pattern": counted("{c} NOT REGEXP {v}", "column {c} has {n} values that don't satisfy the pattern {v}"),
})  # fmt: skip


class SnowflakePlatform(AnsiPlatform):
    name = "snowflake"
    connection_types = ("snowflake",)
    asset_types = ("sf.sql",)
    seed_types = ("sf.seed",)
    strategies: ClassVar[Mapping[str, Mapping[str, Strategy]]] = STRATEGIES
    rebuilds: ClassVar[Mapping[str, Strategy]] = REBUILDS
    column_checks: ClassVar[Mapping[str, ColumnCheckSql]] = CHECKS
    python_data = True

    def ensure_schema(self, session: Session, target: Target) -> None:
        ensure_schema(session, target)

    def quote_exact(self, name: str) -> str:
        """As declared columns are quoted: plain names fold to upper case, as the user's SQL folds them."""
        return self.quote_identifier(name)

    def tables(self, session: Session) -> TableLookup:
        return AskEachTime(table_exists)

    def literal(self, text: str) -> str:
        return literal(text)

    def load_seed(self, session: Session, target: Target, seed: Seed) -> None:
        """The CSV's values as text into a temporary table by multi-row INSERTs of bound values, then the table
        made from it in one atomic `CREATE OR REPLACE TABLE ... AS SELECT`, each column cast to its type
        (declared, else inferred from the values; JSON parsed): a failed load leaves the old table, and a crash
        leaves nothing behind (a temporary table ends with its session)."""
        data = seed_data(seed, SEED_TYPES)
        columns = [self.quote_identifier(name) for name in data.header]
        scratch = temp_name("__bruin_seed_tmp_")
        ensure_schema(session, target)
        load_via_scratch(
            session, scratch=scratch, columns=columns, records=data.records, placeholder="%s",
            create=f"CREATE TEMPORARY TABLE {scratch} ({', '.join(f'{column} VARCHAR' for column in columns)})",
            build=f"CREATE OR REPLACE TABLE {target.qualified} AS SELECT "
                  f"{cast_columns(columns, data.types, SEED_TYPES['json'])} FROM {scratch}",
        )  # fmt: skip

    def default_schema(self, connection: Connection | None) -> str:
        """The connection's `schema`, else PUBLIC."""
        return (connection.schema_ if connection else "") or "PUBLIC"

    def open(self, connection: Connection) -> Database:
        return SnowflakeDatabase(self, connection)

    def column_type(self, type_code: object) -> str:
        """The type's name as Snowflake's drivers report it (`FIXED`, `TEXT`, `TIMESTAMP_NTZ`, ...)."""
        from snowflake.connector.constants import FIELD_ID_TO_NAME

        return FIELD_ID_TO_NAME.get(type_code) or str(type_code) if isinstance(type_code, int) else str(type_code)


class _Handle(Record, frozen=False):
    """A connector session, the statement running on it now (for a cancel), whether a cancel came (then the
    rest of a script does not run), and whether a script opened a transaction (then it is not lent again)."""

    conn: Any
    running: tuple[str, uuid.UUID] | None = None
    cancelled: bool = False
    opened_transaction: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class SnowflakeDatabase(PooledDatabase):
    """A pool of connector sessions in autocommit mode."""

    def __init__(self, platform: SnowflakePlatform, connection: Connection) -> None:
        connector = import_driver("snowflake.connector", package="snowflake-connector-python", extra="snowflake")
        # The connector logs each retry and failure as it goes; the error it raises says it once (as upstream,
        # which discards its driver's log).
        logging.getLogger("snowflake.connector").setLevel(logging.CRITICAL)
        super().__init__(platform, connection, driver_error=connector.errors.Error)
        self._connector = connector

    def _connect(self) -> _Handle:
        c = self.connection
        try:
            conn = self._connector.connect(**_connect_arguments(c))
        except self._connector.errors.Error as exc:
            raise BruinError(f"could not connect to snowflake connection '{c.name}': {self.error(exc)}") from None
        return _Handle(conn)

    def _reusable(self, handle: _Handle) -> bool:
        return not (handle.opened_transaction or handle.cancelled or handle.conn.is_closed())

    def _close(self, handle: _Handle) -> None:
        with suppress(self._connector.errors.Error):  # the session is being dropped: a failed logout changes nothing
            handle.conn.close()

    def _interrupt(self, handle: _Handle) -> None:
        with handle.lock:
            handle.cancelled = True
            running = handle.running
        if running is not None:
            handle.conn._cancel_query(*running)

    def _run(self, handle: _Handle, sql: str, params: Sequence[object] | None, *, fetch: bool) -> list[tuple]:
        if fetch:
            return self._statement(handle, sql, params, fetch=True)
        from snowflake.connector.util_text import split_statements

        for statement, _ in split_statements(io.StringIO(sql), remove_comments=True):
            statement = statement.strip().rstrip(";").strip()
            if statement:
                if _OPENS_TRANSACTION.match(statement):
                    handle.opened_transaction = True
                elif _ENDS_TRANSACTION.match(statement):
                    handle.opened_transaction = False
                self._statement(handle, statement, None, fetch=False)
        return []

    def _fetch(self, handle: _Handle, sql: str) -> Result:
        return self._statement(handle, sql, None, read=self._result)

    def _result(self, cursor: Any) -> Result:
        """A cursor's columns, with the types as Snowflake names them (`FIXED`, `TEXT`, ...), and its rows."""
        description = cursor.description or ()
        columns = tuple((str(item.name), self.platform.column_type(item.type_code)) for item in description)
        return Result(columns, [tuple(row) for row in cursor.fetchall()] if columns else [])

    def _stage(self, handle: _Handle, name: str, data: Any, target: Target) -> str:
        """A temporary table of the session, in its current schema (so the connection needs a database whose
        schema it may create tables in), filled by multi-row INSERTs that the connector binds on the client.
        (`write_pandas`, a PUT to a stage and a COPY, is Snowflake's faster path; the test server, fakesnow,
        cannot show it working.)"""
        data = decoded(data)
        staging = name
        columns = ", ".join(f"{self.platform.quote_exact(field.name)} {column_type(field, ARROW_TYPES, 'snowflake')}"
                            for field in data.schema)  # fmt: skip
        self._statement(handle, f"CREATE TEMPORARY TABLE {staging} ({columns})", None, fetch=False)
        insert = f"INSERT INTO {staging} VALUES ({', '.join(['%s'] * data.num_columns)})"
        for batch in data.to_batches(max_chunksize=INSERT_BATCH_ROWS):
            rows = list(zip(*(column.to_pylist() for column in batch.columns), strict=True))
            self._statement(handle, insert, rows, fetch=False, many=True)
        return staging

    def _unstage(self, handle: _Handle, reference: str) -> None:
        self._statement(handle, f"DROP TABLE IF EXISTS {reference}", None, fetch=False)

    def _statement(
        self,
        handle: _Handle,
        sql: str,
        params: Sequence[Any] | None,
        *,
        fetch: bool = False,
        many: bool = False,
        read: Callable[[Any], _R] | None = None,
    ) -> list[tuple] | _R:
        """One statement under a request id of pybruin's (so a cancel can name it); `many`: `params` is a list
        of rows, one multi-row INSERT; `read` (else its rows when `fetch`) is what is taken from the cursor."""
        request = uuid.uuid4()
        with handle.lock:
            if handle.cancelled:
                raise self._connector.errors.Error(msg="cancelled")
            handle.running = (sql, request)
        try:
            cursor = handle.conn.cursor()
            try:
                run = cursor.executemany if many else cursor.execute
                run(sql, params, _statement_params={"requestId": str(request)})
                if read is not None:
                    return read(cursor)
                return [tuple(row) for row in cursor.fetchall()] if fetch else []
            finally:
                cursor.close()
        finally:
            with handle.lock:
                handle.running = None


def _connect_arguments(c: Connection) -> dict[str, Any]:
    """The connector's arguments for a connection's fields, by upstream's choice of authentication."""
    arguments: dict[str, Any] = {
        "account": c.account, "user": c.username or None, "database": c.database or None,
        "schema": c.schema_ or None, "warehouse": c.warehouse or None, "role": c.role or None,
        "region": c.region or None, "login_timeout": LOGIN_TIMEOUT_SECONDS,
        "session_parameters": dict(_SESSION_PARAMETERS), "client_session_keep_alive": False,
    }  # fmt: skip
    if c.host:
        arguments.update(host=c.host, port=c.port or 443, protocol=c.protocol or "https")
    if c.private_key or c.private_key_path:
        arguments.update(authenticator="SNOWFLAKE_JWT", private_key=_private_key(c))
    elif c.token:
        arguments.update(authenticator="oauth", token=c.token)
    else:
        arguments["password"] = c.password
    return {key: value for key, value in arguments.items() if value is not None}


def _private_key(c: Connection) -> bytes:
    """The key (inline, else from its file) as the DER bytes the connector signs with; `password`, when
    set, is the passphrase of an encrypted key. Errors name the connection and field, never the key."""
    from cryptography.hazmat.primitives import serialization

    field = "private_key" if c.private_key else "private_key_path"
    pem = c.private_key or read_for_injection(c.name, "private_key_path", c.private_key_path)
    try:
        key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    except TypeError:  # encrypted
        if not c.password:
            raise BruinError(
                f"connection '{c.name}': the {field} is encrypted; set its passphrase as the password"
            ) from None
        try:
            key = serialization.load_pem_private_key(pem.strip().encode(), password=c.password.encode())
        except ValueError:
            raise BruinError(f"connection '{c.name}': the passphrase does not decrypt the {field}") from None
    except ValueError:
        raise BruinError(f"connection '{c.name}': the {field} is not a PEM-encoded private key") from None
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def literal(text: str) -> str:
    """A string literal; Snowflake reads backslashes in string literals as escapes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _information_schema(target: Target, view: str) -> str:
    """The target's database's INFORMATION_SCHEMA view (the session's database for two-part targets)."""
    catalog = f"{target.quoted[0]}." if len(target.parts) == 3 else ""
    return f"{catalog}information_schema.{view}"


def _stored(part: str) -> str:
    """A name part as Snowflake stores it: plain (unquoted) names in upper case."""
    return part.upper() if _PLAIN.match(part) else part
