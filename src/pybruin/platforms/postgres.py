"""PostgreSQL (`pg.sql`, `pg.seed`) and Redshift (`rs.sql`, the same protocol with its own defaults), via
psycopg.

Each connection name gets a small pool, so a run never holds more server connections than the
connection allows. The password only ever travels inside the libpq connection string, which is
never printed. Sessions ask the server to check every second that pybruin is still there, so the
statement of a killed run is stopped (and its transaction rolled back) instead of running on.

`merge` is PostgreSQL's MERGE (15 and later). The SCD2 strategies close changed and vanished rows and
insert new versions with UPDATE and INSERT statements in one transaction, which PostgreSQL 15 runs
(upstream's MERGE ... WHEN NOT MATCHED BY SOURCE needs PostgreSQL 17).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from pybruin.errors import BruinError
from pybruin.platforms.ansi import (
    ANSI,
    AnsiPlatform,
    DdlStyle,
    Scd2Style,
    ddl_table,
    declared_key_type,
    delete_insert,
    ensure_schema,
    merge_statement,
    replace_table,
    scd2_strategies,
    statements,
    strategy_tables,
    temp_name,
    time_interval,
    truncate_insert,
    with_time_zone,
)
from pybruin.platforms.arrow_data import column_type, decoded
from pybruin.platforms.base import Build, Database, Session, Strategy, Target
from pybruin.platforms.seeding import seed_data

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.pipeline.seeds import Seed

CONNECT_TIMEOUT_SECONDS = 10
DEFAULT_POOL_SIZE = 10
#: Rows per CSV chunk streamed into COPY when loading the data of a Python asset.
COPY_BATCH_ROWS = 64 * 1024
COPY_CHUNK_BYTES = 1 << 16
#: How PostgreSQL names each kind of declared seed column type.
SEED_TYPES = MappingProxyType({
    "smallint": "smallint", "int": "integer", "bigint": "bigint", "double": "double precision",
    "decimal": "numeric", "decimal()": "numeric({})", "binary": "bytea", "bool": "boolean", "date": "date",
    "time": "time", "timestamp": "timestamp with time zone", "timestamp_ntz": "timestamp without time zone",
    "interval": "interval", "text": "text", "text()": "varchar({})", "json": "jsonb",
})  # fmt: skip
#: The PostgreSQL type that holds each kind of Arrow column exactly (`pybruin.platforms.arrow_data`); CSV
#: cannot carry binary values.
ARROW_TYPES = MappingProxyType({
    "boolean": "boolean", "int8": "smallint", "int16": "smallint", "uint8": "smallint", "int32": "integer",
    "uint16": "integer", "int64": "bigint", "uint32": "bigint", "uint64": "numeric(20, 0)", "float32": "real",
    "float64": "double precision", "decimal": "numeric({precision}, {scale})", "date": "date", "time": "time",
    "timestamp": "timestamp", "timestamp_tz": "timestamp with time zone", "string": "text", "null": "text",
})  # fmt: skip


def redshift_merge(build: Build) -> str:
    """Redshift's MERGE: no target alias, and only equality in the match condition."""
    if build.materialization.incremental_predicate.strip():
        raise BruinError("incremental_predicate is not supported for Redshift merge materialization")
    name = build.target.reference
    return merge_statement(build, alias="", match=lambda key: f"{name}.{key} = source.{key}", source_values=True)


def ddl(build: Build) -> str:
    return ddl_table(build, DdlStyle(indent="", lower_keys=True, collation=_quoted_collation))


def _quoted_collation(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_type(build: Build, strategy: str) -> str:
    """The key's declared type; `SCD2_by_time` takes only exactly `timestamp` or `date` (upstream's rule)."""
    return declared_key_type(build, strategy, lambda kind: kind in ("timestamp", "date"))


def _scd2_style(redshift: bool) -> Scd2Style:
    """PostgreSQL's SCD2 runs in UTC for its transaction; Redshift has no session time zone and its own
    TIMESTAMPTZ literal."""
    zone = () if redshift else ("SET LOCAL TIME ZONE 'UTC'",)

    def rebuild(build: Build, select: str) -> str:
        name = build.target.reference
        return statements("BEGIN TRANSACTION", *zone, f"DROP TABLE IF EXISTS {name}",
                          f"CREATE TABLE {name} AS\n{select}", "COMMIT")  # fmt: skip

    return Scd2Style(
        transaction=ANSI, rebuild=rebuild, key_type=_key_type, moment=with_time_zone,
        forever="TIMESTAMPTZ '9999-12-31 00:00:00'" if redshift else "'9999-12-31 00:00:00'::TIMESTAMPTZ",
        opened="CAST(CURRENT_TIMESTAMP AS TIMESTAMPTZ)", setup=zone,
    )  # fmt: skip


def _tables(merge_strategy: Strategy, redshift: bool) -> tuple[Mapping, Mapping]:
    table = {"delete+insert": delete_insert, "truncate+insert": truncate_insert, "time_interval": time_interval,
             "merge": merge_strategy, "ddl": ddl}  # fmt: skip
    return strategy_tables(replace_table, table, scd2_strategies(_scd2_style(redshift)))


_POSTGRES_TABLES = _tables(merge_statement, redshift=False)
_REDSHIFT_TABLES = _tables(redshift_merge, redshift=True)


class PostgresPlatform(AnsiPlatform):
    name = "postgres"
    connection_types = ("postgres",)
    asset_types = ("pg.sql",)
    seed_types = ("pg.seed",)
    column_types = SEED_TYPES
    python_data = True
    default_port = 5432
    strategies: ClassVar[Mapping[str, Mapping[str, Strategy]]] = _POSTGRES_TABLES[0]
    rebuilds: ClassVar[Mapping[str, Strategy]] = _POSTGRES_TABLES[1]
    #: Session settings pybruin asks for, when the server knows them.
    session_settings: ClassVar[Mapping[str, str]] = MappingProxyType({"client_connection_check_interval": "1s"})

    def default_schema(self, connection: Connection | None) -> str:
        """The connection's `schema` (also its search path), else `public`."""
        return (connection.schema_ if connection else "") or "public"

    def open(self, connection: Connection) -> Database:
        return PostgresDatabase(self, connection)

    def column_type(self, type_code: object) -> str:
        """The type's name (psycopg describes columns by type OID), upper-cased: `INT4`, `TEXT`, `NUMERIC`."""
        from psycopg.postgres import types

        info = types.get(type_code) if isinstance(type_code, int) else None
        return info.name.upper() if info is not None else str(type_code)
    def load_seed(self, session: Session, target: Target, seed: Seed) -> None:
        """Into a new table under a scratch name, by COPY, then into place within the same transaction:
        readers see the old rows until the new ones are complete. When the table exists with the same
        columns and types, its rows are replaced and it is kept (views on it stay valid); otherwise the new
        table takes its place. Declared types are used, the other columns' types come from their values."""
        data = seed_data(seed, SEED_TYPES)
        header, types = data.header, data.types
        columns = ", ".join(self.quote_identifier(name) for name in header)
        staged = f"{target.container}.{self.quote_identifier(target.parts[-1] + temp_name())}"
        ensure_schema(session, target)
        with session.transaction():
            definitions = ", ".join(f"{self.quote_identifier(n)} {t}" for n, t in zip(header, types, strict=True))
            session.execute(f"CREATE TABLE {staged} ({definitions})")
            session.copy(f"COPY {staged} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true)", _chunks(seed))
            if _shape(session, target.qualified) == _shape(session, staged):
                session.execute(f"TRUNCATE TABLE {target.qualified}")
                session.execute(f"INSERT INTO {target.qualified} SELECT * FROM {staged}")
                session.execute(f"DROP TABLE {staged}")
            else:
                session.execute(f"DROP TABLE IF EXISTS {target.qualified}")
                session.execute(f"ALTER TABLE {staged} RENAME TO {target.table}")


class RedshiftPlatform(PostgresPlatform):
    name = "redshift"
    connection_types = ("redshift",)
    asset_types = ("rs.sql",)
    seed_types = ()
    python_data = False  # no COPY FROM STDIN: Redshift copies from S3 only
    default_port = 5439
    strategies: ClassVar[Mapping[str, Mapping[str, Strategy]]] = _REDSHIFT_TABLES[0]
    rebuilds: ClassVar[Mapping[str, Strategy]] = _REDSHIFT_TABLES[1]
    session_settings: ClassVar[Mapping[str, str]] = MappingProxyType({})


def _shape(session: Session, table: str) -> list[tuple]:
    """A table's columns and their types as PostgreSQL spells them; empty when there is no such table."""
    return session.query(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [table],
    )


def _chunks(seed: Seed) -> Iterable[bytes]:
    with seed.path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK_BYTES):
            yield chunk


class PostgresDatabase(Database):
    """A small pool: at most `pool_max_conns` connections (10 when unset, never more than
    `max_concurrent_assets`), idle ones reused, broken or cancelled ones dropped.

    Connections are opened on demand in the asking thread, so a refused connection or a wrong
    password surfaces as that error rather than as a pool timeout.
    """

    def __init__(self, platform: PostgresPlatform, connection: Connection) -> None:
        import psycopg

        super().__init__(platform, connection, driver_error=psycopg.Error)
        self._psycopg = psycopg
        self._port = connection.port or platform.default_port
        self._slots = threading.BoundedSemaphore(_pool_size(connection))
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _acquire(self) -> Any:
        self._slots.acquire()
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            return conn or self._connect()
        except BaseException:
            self._slots.release()
            raise

    def _release(self, handle: Any, *, reusable: bool) -> None:
        try:
            idle = self._psycopg.pq.TransactionStatus.IDLE
            if not reusable or handle.closed or handle.info.transaction_status != idle:
                handle.close()  # cancelled, broken, or a script left a transaction open: start afresh
                return
            with self._lock:
                self._idle.append(handle)
        finally:
            self._slots.release()

    def _interrupt(self, handle: Any) -> None:
        cancel = getattr(handle, "cancel_safe", None) or handle.cancel  # cancel_safe: psycopg >= 3.2
        cancel()

    def _copy(self, handle: Any, statement: str, chunks: Iterable[bytes]) -> None:
        with handle.cursor() as cursor, cursor.copy(statement) as copy:
            for chunk in chunks:
                copy.write(chunk)

    def _stage(self, handle: Any, name: str, data: Any, target: Target) -> str:
        """A temporary table of the connection (so of this session only), filled by `COPY ... FROM STDIN`
        from CSV that pyarrow writes a batch at a time."""
        data = decoded(data)
        columns = ", ".join(f"{self.platform.quote_exact(field.name)} {column_type(field, ARROW_TYPES, 'postgres')}"
                            for field in data.schema)  # fmt: skip
        handle.execute(f"CREATE TEMPORARY TABLE {name} ({columns})")
        self._copy(handle, f"COPY {name} FROM STDIN (FORMAT csv)", _csv_chunks(data))
        return name

    def _unstage(self, handle: Any, name: str) -> None:
        handle.execute(f"DROP TABLE IF EXISTS {name}")

    def _connect(self) -> Any:
        from psycopg.conninfo import make_conninfo

        c = self.connection
        host = c.host or "localhost"
        conninfo = make_conninfo(
            host=host,
            port=self._port,
            user=c.username or None,
            password=c.password or None,
            dbname=c.database or None,
            sslmode=c.ssl_mode or "allow",
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name="pybruin",
        )
        try:
            conn = self._psycopg.connect(conninfo, autocommit=True, prepare_threshold=None)
        except self._psycopg.Error as exc:
            reason = str(self.error(exc)).rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
            raise BruinError(
                f"could not connect to {c.type_key} connection '{c.name}' at {host}:{self._port}: "
                f"{reason[:1].lower()}{reason[1:]}"
            ) from None
        for setting, value in self.platform.session_settings.items():  # type: ignore[attr-defined]
            # A server before PostgreSQL 14 does not know it: the run works without it.
            with suppress(self._psycopg.Error):
                conn.execute("SELECT set_config(%s, %s, false)", [setting, value])
        if c.schema_:
            try:
                conn.execute("SELECT set_config('search_path', %s, false)", [c.schema_])
            except self._psycopg.Error as exc:
                conn.close()
                raise BruinError(
                    f"could not set the schema of {c.type_key} connection '{c.name}': {self.error(exc)}"
                ) from None
        return conn


def _csv_chunks(data: Any) -> Iterator[memoryview]:
    """The table as CSV without a header, a chunk per batch: NULL unquoted and empty, text always quoted
    (so an empty string stays one), as `COPY ... (FORMAT csv)` reads it."""
    import pyarrow as pa
    import pyarrow.csv as csv

    options = csv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in data.to_batches(max_chunksize=COPY_BATCH_ROWS):
        sink = pa.BufferOutputStream()
        csv.write_csv(batch, sink, options)
        yield memoryview(sink.getvalue())


def _pool_size(connection: Connection) -> int:
    size = getattr(connection, "pool_max_conns", None) or DEFAULT_POOL_SIZE
    if connection.max_concurrent_assets:
        size = min(size, connection.max_concurrent_assets)
    return size
