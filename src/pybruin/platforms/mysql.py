"""MySQL and MariaDB (`my.sql`), via PyMySQL.

MySQL's schemas are its databases: `schema.table` names a table in database `schema`, and an unqualified name
lives in the connection's `database`. Names are quoted with backticks when they are not plain.

MySQL commits every DDL statement implicitly, so a table cannot be built and swapped inside one transaction
as on PostgreSQL. `create+replace` therefore fills a staging table and swaps it in with one `RENAME TABLE`
of both names, which MySQL performs atomically: readers see the old table or the new one, never a missing or
half-filled one, and a failed or cancelled build leaves the old table untouched (MySQL drops a `CREATE TABLE
... SELECT` that did not finish). What a crash can leave behind is a staging table named
`__pybruin_tmp_<hex>` (crash during the build) or the previous table as `__pybruin_old_<hex>` (crash between
the swap and its cleanup), next to an intact target. (Upstream Bruin drops the table and then creates it,
so readers see no table in between, and a failed build loses the old one.) Rebuilds (`--full-refresh`, a
missing table) and seeds use the same swap.

The other strategies change the table in one transaction (InnoDB tables): `delete+insert`, `merge` and SCD2
first put the query's rows into a TEMPORARY table, whose CREATE and DROP do not commit; `truncate+insert`
empties the table with DELETE, as TRUNCATE would commit (upstream truncates, so a failed insert there loses
the rows). `merge` updates with `UPDATE ... JOIN` and inserts the new rows (upstream deletes and re-inserts
every matched row, so columns without `update_on_merge` change too); SCD2 compares columns NULL-safely
(`<=>`), as upstream does.

The `driver` field selects the SQLAlchemy driver upstream hands to ingestr; SQL assets always use PyMySQL.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping, Sequence
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from pybruin.errors import BruinError
from pybruin.platforms.ansi import (
    COLUMN_CHECKS,
    DdlStyle,
    Scd2Style,
    Transaction,
    counted,
    ddl_table,
    declared_key_type,
    merge_by_update,
    one_query_tables,
    one_statement,
    statements,
)
from pybruin.platforms.arrow_data import column_type, decoded, utc_timestamps
from pybruin.platforms.base import (
    AskEachTime,
    Build,
    ColumnCheckSql,
    Database,
    Platform,
    Result,
    Session,
    Strategy,
    TableLookup,
    Target,
    import_driver,
)
from pybruin.platforms.pool import PooledDatabase
from pybruin.platforms.seeding import load_via_scratch, seed_data

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.pipeline.seeds import Seed

DEFAULT_PORT = 3306
#: How MySQL names each kind of declared seed column type (timestamps are DATETIME: MySQL's TIMESTAMP ends in 2038).
SEED_TYPES = MappingProxyType({
    "smallint": "SMALLINT", "int": "INT", "bigint": "BIGINT", "double": "DOUBLE", "decimal": "DECIMAL(38, 9)",
    "decimal()": "DECIMAL({})", "binary": "LONGBLOB", "bool": "BOOLEAN", "date": "DATE", "time": "TIME(6)",
    "timestamp": "DATETIME(6)", "timestamp_ntz": "DATETIME(6)", "interval": "TEXT", "text": "TEXT",
    "text()": "VARCHAR({})", "json": "JSON",
})  # fmt: skip
_BOOLEANS = MappingProxyType({"true": "1", "false": "0"})
CONNECT_TIMEOUT_SECONDS = 10
_USING_PASSWORD = re.compile(r"\(using password: (YES|NO)\)")
_KEEP = "\x00kept\x00"
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
#: The protocol's column type codes (PyMySQL's `FIELD_TYPE`) -> the names MySQL's clients show.
_TYPE_NAMES = MappingProxyType({
    0: "DECIMAL", 1: "TINYINT", 2: "SMALLINT", 3: "INT", 4: "FLOAT", 5: "DOUBLE", 6: "NULL", 7: "TIMESTAMP",
    8: "BIGINT", 9: "MEDIUMINT", 10: "DATE", 11: "TIME", 12: "DATETIME", 13: "YEAR", 14: "DATE", 15: "VARCHAR",
    16: "BIT", 245: "JSON", 246: "DECIMAL", 247: "ENUM", 248: "SET", 249: "TINYBLOB", 250: "MEDIUMBLOB",
    251: "LONGBLOB", 252: "BLOB", 253: "VARCHAR", 254: "CHAR", 255: "GEOMETRY",
})  # fmt: skip


def ensure_database(session: Session, target: Target) -> None:
    """Create the target's database (MySQL's schema) unless it exists, once per run; checking first spares
    accounts that may create tables in a database but not databases."""
    schema = target.parts[0]

    def create(session: Session) -> None:
        found = session.query("SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", [schema])
        if not found[0][0]:
            session.execute(f"CREATE DATABASE IF NOT EXISTS {target.container}")

    session.once(f"schema {target.container}", create)


def table_exists(session: Session, target: Target) -> bool:
    found = session.query(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
        list(target.parts),
    )
    return found[0][0] > 0


def replace_table(build: Build) -> str:
    """Build under a staging name, then swap both names in one atomic `RENAME TABLE` (module docstring)."""
    return _built(build.target, one_statement(build.query))


def _built(target: Target, select: str) -> str:
    """`select` into a staging table, swapped in for the target."""
    staging, previous = _staging_names(target)
    return statements(f"CREATE TABLE {staging} AS\n{select}", *_swapped_in(target, staging, previous))


def _staging_names(target: Target) -> tuple[str, str]:
    """Where a new table is built, and where the previous one goes during the swap."""
    suffix = uuid.uuid4().hex[:12]
    return (f"{target.container}.{_quote(f'__pybruin_tmp_{suffix}')}",
            f"{target.container}.{_quote(f'__pybruin_old_{suffix}')}")  # fmt: skip


def _swapped_in(target: Target, staging: str, previous: str) -> tuple[str, ...]:
    """The statements that swap a filled staging table in. On the first run an empty table of the new shape
    stands in for the old one, so the same swap applies."""
    return (
        f"CREATE TABLE IF NOT EXISTS {target.qualified} LIKE {staging}",
        f"RENAME TABLE {target.qualified} TO {previous}, {staging} TO {target.qualified}",
        f"DROP TABLE {previous}",
    )


#: START TRANSACTION, TEMPORARY scratch tables (neither commits), and DELETE for TRUNCATE (which would).
TRANSACTION = Transaction(
    begin="START TRANSACTION",
    scratch="CREATE TEMPORARY TABLE",
    drop_scratch="DROP TEMPORARY TABLE IF EXISTS",
    empty="DELETE FROM",
    scratch_in_schema=True,
)


def ddl(build: Build) -> str:
    style = DdlStyle(indent="", lower_keys=False, collation=str, not_null=True,
                     comment=lambda text: f" COMMENT {literal(text)}")  # fmt: skip
    return ddl_table(build, style)


def _key_type(build: Build, strategy: str) -> str:
    return declared_key_type(build, strategy, lambda kind: "timestamp" in kind or "datetime" in kind or kind == "date",
                             "TIMESTAMP, DATETIME, or DATE")  # fmt: skip


_SCD2 = Scd2Style(
    transaction=TRANSACTION, rebuild=lambda build, select: _built(build.target, select), key_type=_key_type,
    moment=lambda expression, _kind: f"CAST({expression} AS DATETIME)",
    forever="CAST('9999-12-31 23:59:59' AS DATETIME)", opened="CAST(CURRENT_TIMESTAMP AS DATETIME)",
    now="@pybruin_scd2_now", setup=("SET @pybruin_scd2_now = CURRENT_TIMESTAMP",),
    differs=lambda old, new: f"NOT ({old} <=> {new})", join_update=True,
)  # fmt: skip
_MERGE = partial(merge_by_update, transaction=TRANSACTION, join=True)
STRATEGIES, REBUILDS = one_query_tables(replace_table, TRANSACTION, _MERGE, ddl, _SCD2)
#: The type each kind of Arrow column is staged as (`pybruin.platforms.arrow_data`); zoned timestamps are
#: stored as their UTC time, as DATETIME has no zone.
ARROW_TYPES: Mapping[str, str] = MappingProxyType({
    "boolean": "BOOLEAN", "int8": "TINYINT", "int16": "SMALLINT", "int32": "INT", "int64": "BIGINT",
    "uint8": "TINYINT UNSIGNED", "uint16": "SMALLINT UNSIGNED", "uint32": "INT UNSIGNED",
    "uint64": "BIGINT UNSIGNED", "float32": "FLOAT", "float64": "DOUBLE", "decimal": "DECIMAL({precision}, {scale})",
    "date": "DATE", "time": "TIME(6)", "timestamp": "DATETIME(6)", "timestamp_tz": "DATETIME(6)",
    "string": "LONGTEXT", "binary": "LONGBLOB", "null": "LONGTEXT",
})  # fmt: skip
#: What `enforce_schema` casts each kind of declared type to: the types MySQL's and MariaDB's CAST know, so
#: every integer kind becomes BIGINT (SIGNED) and text becomes VARCHAR (CHAR).
CAST_TYPES: Mapping[str, str] = MappingProxyType({
    "smallint": "SIGNED", "int": "SIGNED", "bigint": "SIGNED", "bool": "SIGNED", "double": "DOUBLE",
    "decimal": "DECIMAL", "decimal()": "DECIMAL({})", "binary": "BINARY", "date": "DATE", "time": "TIME(6)",
    "timestamp": "DATETIME(6)", "timestamp_ntz": "DATETIME(6)", "text": "CHAR", "text()": "CHAR({})",
})  # fmt: skip
#: Rows per `executemany` when staging a Python asset's data (PyMySQL folds them into statements of <= 1 MB).
INSERT_BATCH_ROWS = 10_000

#: Upstream's MySQL checks, but `pattern` is a regular expression, as documented (upstream uses LIKE).
CHECKS: Mapping[str, ColumnCheckSql] = MappingProxyType({
    **COLUMN_CHECKS,
    "accepted_values": counted("CAST({c} AS CHAR) NOT IN ({v})",
                               "column '{c}' has {n} rows that are not in the accepted values"),
    "pattern": counted("{c} NOT REGEXP {v}", "column {c} has {n} values that do not satisfy the pattern {v}"),
})  # fmt: skip


class MySQLPlatform(Platform):
    name = "mysql"
    connection_types = ("mysql",)
    asset_types = ("my.sql",)
    seed_types = ("my.seed",)
    strategies: ClassVar[Mapping[str, Mapping[str, Strategy]]] = STRATEGIES
    rebuilds: ClassVar[Mapping[str, Strategy]] = REBUILDS
    column_checks: ClassVar[Mapping[str, ColumnCheckSql]] = CHECKS
    column_types: ClassVar[Mapping[str, str]] = CAST_TYPES
    python_data = True

    def ensure_schema(self, session: Session, target: Target) -> None:
        ensure_database(session, target)

    def tables(self, session: Session) -> TableLookup:
        return AskEachTime(table_exists)

    def table_columns(self, session: Session, target: Target) -> list[str]:
        rows = session.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position",
            list(target.parts),
        )
        return [row[0] for row in rows]

    def quote_exact(self, name: str) -> str:
        return _quote(name)

    def default_schema(self, connection: Connection | None) -> str:
        """The connection's `database`."""
        if connection is None:
            raise BruinError("without a connection, the asset name must be database.table")
        if not connection.database:
            raise BruinError(
                f"mysql connection '{connection.name}' sets no database, so the asset name must be database.table"
            )
        return connection.database

    def quote_identifier(self, part: str) -> str:
        return part if set(part) <= _PLAIN and not part.isdigit() else _quote(part)

    def literal(self, text: str) -> str:
        return literal(text)

    def load_seed(self, session: Session, target: Target, seed: Seed) -> None:
        """Into a staging table by multi-row INSERTs of bound values, then swapped in as `create+replace` swaps:
        readers see the old rows until the new ones are complete. A failed load drops the staging table; a crash
        can leave it behind (module docstring). Declared types are used, the other columns' types come from
        their values; `true` and `false` become 1 and 0 in BOOLEAN columns."""
        data = seed_data(seed, SEED_TYPES)
        staging, previous = _staging_names(target)
        columns = [self.quote_identifier(name) for name in data.header]
        flags = [kind == SEED_TYPES["bool"] for kind in data.types]
        records = [[_BOOLEANS.get(value.lower(), value) if flag and value else value
                    for value, flag in zip(record, flags, strict=True)] for record in data.records]  # fmt: skip
        definitions = ", ".join(f"{column} {kind}" for column, kind in zip(columns, data.types, strict=True))
        ensure_database(session, target)
        load_via_scratch(
            session, scratch=staging, columns=columns, records=records, placeholder="%s",
            create=f"CREATE TABLE {staging} ({definitions})", build=statements(*_swapped_in(target, staging, previous)),
        )  # fmt: skip

    def target(self, asset_name: str, connection: Connection | None, schema_prefix: str) -> Target:
        parts = asset_name.split(".")
        if len(parts) == 3 and all(parts):
            raise BruinError("the asset name must be table or database.table to materialize on MySQL")
        return super().target(asset_name, connection, schema_prefix)

    def scrub(self, message: str, connection: Connection) -> str:
        """The shared rules, which would also mask MySQL's own `(using password: YES)`; that is kept."""
        kept = _USING_PASSWORD.sub(lambda found: f"(using {_KEEP}: {found[1]})", message)
        return super().scrub(kept, connection).replace(_KEEP, "password")

    def open(self, connection: Connection) -> Database:
        return MySQLDatabase(self, connection)

    def column_type(self, type_code: object) -> str:
        """The type's name as MySQL's clients show it (`INT`, `VARCHAR`, `DECIMAL`, ...)."""
        return _TYPE_NAMES.get(type_code, str(type_code)) if isinstance(type_code, int) else str(type_code)


class MySQLDatabase(PooledDatabase):
    """A pool of PyMySQL connections in autocommit mode that accept scripts of several statements."""

    def __init__(self, platform: MySQLPlatform, connection: Connection) -> None:
        pymysql = import_driver("pymysql", package="PyMySQL", extra="mysql")
        super().__init__(platform, connection, driver_error=pymysql.err.Error)
        self._pymysql = pymysql
        self._host = connection.host or "localhost"
        self._port = connection.port or DEFAULT_PORT

    def error(self, exc: Exception) -> BruinError:
        """PyMySQL's errors are ``(code, message)`` pairs: the message, scrubbed."""
        args = exc.args
        text = args[1] if len(args) == 2 and isinstance(args[0], int) else str(exc)
        return BruinError(self.platform.scrub(str(text), self.connection))

    def _connect(self, *, database: bool = True) -> Any:
        from pymysql.constants import CLIENT

        c = self.connection
        for field, path in (("ssl_ca_path", c.ssl_ca_path), ("ssl_cert_path", c.ssl_cert_path),
                            ("ssl_key_path", c.ssl_key_path)):  # fmt: skip
            if path and not os.access(path, os.R_OK):
                raise BruinError(f"connection '{c.name}': cannot read {field} '{path}'")
        try:
            return self._pymysql.connect(
                host=self._host, port=self._port, user=c.username or None, password=c.password,
                database=(c.database or None) if database else None, autocommit=True, charset="utf8mb4",
                connect_timeout=CONNECT_TIMEOUT_SECONDS, client_flag=CLIENT.MULTI_STATEMENTS, local_infile=False,
                ssl_ca=c.ssl_ca_path or None, ssl_cert=c.ssl_cert_path or None, ssl_key=c.ssl_key_path or None,
            )  # fmt: skip
        except (OSError, ValueError) as exc:  # a TLS file that is no certificate or key (ssl says which kind)
            raise BruinError(
                f"could not connect to mysql connection '{c.name}': the TLS files cannot be used: "
                f"{exc.strerror or type(exc).__name__}"
            ) from None
        except self._pymysql.err.Error as exc:
            reason = str(self.error(exc))
            raise BruinError(
                f"could not connect to mysql connection '{c.name}' at {self._host}:{self._port}: "
                f"{reason[:1].lower()}{reason[1:]}"
            ) from None

    def _reusable(self, handle: Any) -> bool:
        from pymysql.constants import SERVER_STATUS

        return handle.open and not handle.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS

    def _close(self, handle: Any) -> None:
        handle.close()

    def _interrupt(self, handle: Any) -> None:
        """`KILL QUERY` from a connection of its own: the running statement fails, the connection stays."""
        killer = self._connect(database=False)
        try:
            with killer.cursor() as cursor:
                cursor.execute(f"KILL QUERY {int(handle.thread_id())}")
        finally:
            killer.close()

    def _run(self, handle: Any, sql: str, params: Sequence[object] | None, *, fetch: bool) -> list[tuple]:
        return self._fetch(handle, sql, params, rows=fetch).rows

    def _fetch(self, handle: Any, sql: str, params: Sequence[object] | None = None, *, rows: bool = True) -> Result:
        """The first statement's columns and rows; the script's later statements run too (and may fail)."""
        with handle.cursor() as cursor:
            cursor.execute(sql, params)
            description = cursor.description or []
            columns = tuple((str(item[0]), self.platform.column_type(item[1])) for item in description)
            fetched = [tuple(row) for row in cursor.fetchall()] if rows and columns else []
            while cursor.nextset():  # a later statement of a script that fails raises here
                pass
        return Result(columns, fetched)

    def _stage(self, handle: Any, name: str, data: Any, target: Target) -> str:
        """A temporary table of the connection in the target's database, filled by multi-row INSERTs (MySQL's
        faster `LOAD DATA LOCAL INFILE` stays off: it lets a server read client files)."""
        data = utc_timestamps(decoded(data))
        staging = f"{target.container}.{_quote(name)}"
        columns = ", ".join(f"{_quote(field.name)} {column_type(field, ARROW_TYPES, 'mysql')}" for field in data.schema)
        insert = f"INSERT INTO {staging} VALUES ({', '.join(['%s'] * data.num_columns)})"
        with handle.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {staging} ({columns})")
            for batch in data.to_batches(max_chunksize=INSERT_BATCH_ROWS):
                cursor.executemany(insert, list(zip(*(column.to_pylist() for column in batch.columns), strict=True)))
        return staging

    def _unstage(self, handle: Any, reference: str) -> None:
        with handle.cursor() as cursor:
            cursor.execute(f"DROP TEMPORARY TABLE IF EXISTS {reference}")


def literal(text: str) -> str:
    """A string literal; MySQL reads backslashes in string literals as escapes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _quote(part: str) -> str:
    return "`" + part.replace("`", "``") + "`"
