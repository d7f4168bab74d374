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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from pybruin.errors import BruinError
from pybruin.platforms.ansi import (
    REBUILDS,
    STRATEGIES,
    AnsiPlatform,
    DdlStyle,
    check_scd2_rebuild,
    ddl_table,
    ensure_schema,
    merge_parts,
    scd2_parts,
    select_body,
    temp_name,
    with_predicate,
    with_time_zone,
)
from pybruin.platforms.arrow_data import column_type, decoded
from pybruin.platforms.base import Build, Database, Session, Strategy, Target
from pybruin.platforms.seeding import csv_rows, declared_types, inferred_types

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


def merge(build: Build) -> str:
    keys, columns, updates = merge_parts(build)
    on = " AND ".join(with_predicate([f"target.{key} = source.{key}" for key in keys],
                                     build.materialization.incremental_predicate))  # fmt: skip
    return _merge_script(build, "target", on, columns, columns, updates)


def redshift_merge(build: Build) -> str:
    """Redshift's MERGE: no target alias, and only equality in the match condition."""
    if build.materialization.incremental_predicate.strip():
        raise BruinError("incremental_predicate is not supported for Redshift merge materialization")
    keys, columns, updates = merge_parts(build)
    name = build.target.reference
    on = " AND ".join(f"{name}.{key} = source.{key}" for key in keys)
    return _merge_script(build, "", on, columns, [f"source.{column}" for column in columns], updates)


def _merge_script(build: Build, alias: str, on: str, columns: list[str], values: list[str], updates: list) -> str:
    matched = ""
    if updates:
        matched = "WHEN MATCHED THEN UPDATE SET " + ", ".join(f"{build.quote(c.name)} = {v}" for c, v in updates)
    lines = [
        f"MERGE INTO {build.target.reference}{' ' + alias if alias else ''}",
        f"USING ({select_body(build.query)}) source ON {on}",
        matched,
        f"WHEN NOT MATCHED THEN INSERT({', '.join(columns)}) VALUES({', '.join(values)})",
    ]
    return "\n".join(lines) + ";"


def ddl(build: Build) -> str:
    return ddl_table(build, DdlStyle(indent="", lower_keys=True, collation=_quoted_collation))


def _quoted_collation(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_type(build: Build) -> str:
    """The declared type of the incremental key, "" when it is not declared."""
    key = build.materialization.incremental_key
    column = build.column(key) if key else None
    return column.type if column else ""


def _checked_key_type(build: Build, strategy: str) -> str:
    """The key's type; `SCD2_by_time` takes only exactly `timestamp` or `date` (upstream's rule)."""
    kind = _key_type(build)
    if strategy == "SCD2_by_time" and kind and kind.lower() not in ("timestamp", "date"):
        raise BruinError("incremental_key must be TIMESTAMP or DATE in SCD2_by_time strategy")
    return kind


def _scd2_strategies(redshift: bool) -> tuple[Strategy, Strategy, Strategy, Strategy]:
    """The SCD2 strategies and their rebuilds for PostgreSQL, or for Redshift (no session time zone, its
    own TIMESTAMPTZ literal)."""
    session_zone = "" if redshift else "SET LOCAL TIME ZONE 'UTC';\n"
    forever = "TIMESTAMPTZ '9999-12-31 00:00:00'" if redshift else "'9999-12-31 00:00:00'::TIMESTAMPTZ"

    def rebuild(build: Build, valid_from: str) -> str:
        name = build.target.reference
        return (
            f"BEGIN TRANSACTION;\n{session_zone}DROP TABLE IF EXISTS {name};\nCREATE TABLE {name} AS\nSELECT\n"
            f"  {valid_from} AS _valid_from,\n  src.*,\n  {forever} AS _valid_until,\n  TRUE AS _is_current\n"
            f"FROM (\n{select_body(build.query).strip()}\n) AS src;\nCOMMIT;"
        )

    def by_column_rebuild(build: Build) -> str:
        check_scd2_rebuild(build, "SCD2_by_column")
        key = build.materialization.incremental_key
        valid_from = "CAST(CURRENT_TIMESTAMP AS TIMESTAMPTZ)"
        if key:
            valid_from = with_time_zone(build.quote(key), _key_type(build))
        return rebuild(build, valid_from)

    def by_time_rebuild(build: Build) -> str:
        check_scd2_rebuild(build, "SCD2_by_time")
        key = build.materialization.incremental_key
        return rebuild(build, with_time_zone(build.quote(key), _key_type(build)))

    def incremental(build: Build, strategy: str, changed: Callable[[str], str], moment: str) -> str:
        parts = scd2_parts(build, strategy, key_type=_checked_key_type)
        name, temp = build.target.reference, temp_name("__bruin_scd2_tmp_")
        match = " AND ".join(f"target.{key} = source.{key}" for key in parts.keys)
        listed = ", ".join(parts.columns)
        return (
            f"BEGIN TRANSACTION;\n{session_zone}"
            f"CREATE TEMP TABLE {temp} AS {select_body(build.query)};\n"
            f"UPDATE {name} AS target SET _valid_until = {moment}, _is_current = FALSE\nFROM {temp} AS source\n"
            f"WHERE target._is_current AND {match} AND ({changed('target')});\n"
            f"UPDATE {name} AS target SET _valid_until = CURRENT_TIMESTAMP, _is_current = FALSE\n"
            f"WHERE target._is_current AND NOT EXISTS (SELECT 1 FROM {temp} AS source WHERE {match});\n"
            f"INSERT INTO {name} ({listed}, _valid_from, _valid_until, _is_current)\n"
            f"SELECT {', '.join(f'source.{column}' for column in parts.columns)}, {moment}, {forever}, TRUE\n"
            f"FROM {temp} AS source\n"
            f"WHERE NOT EXISTS (SELECT 1 FROM {name} AS target WHERE {match} AND target._is_current);\n"
            f"DROP TABLE {temp};\nCOMMIT;"
        )

    def by_column(build: Build) -> str:
        others = [build.quote(c.name) for c in build.columns if not c.primary_key]
        key = build.materialization.incremental_key
        moment = f"source.{build.quote(key)}" if key else "CURRENT_TIMESTAMP"
        return incremental(
            build, "SCD2_by_column", lambda t: " OR ".join(f"{t}.{c} != source.{c}" for c in others) or "FALSE", moment
        )

    def by_time(build: Build) -> str:
        key = build.materialization.incremental_key
        if not key:
            raise BruinError("incremental_key is required for SCD2_by_time strategy")
        moment = f"source.{build.quote(key)}"
        return incremental(build, "SCD2_by_time", lambda t: f"{t}._valid_from < {moment}", moment)

    return by_column, by_time, by_column_rebuild, by_time_rebuild


def _tables(merge_strategy: Strategy, redshift: bool) -> tuple[Mapping, Mapping]:
    by_column, by_time, by_column_rebuild, by_time_rebuild = _scd2_strategies(redshift)
    strategies = MappingProxyType({
        **STRATEGIES,
        "table": MappingProxyType({**STRATEGIES["table"], "merge": merge_strategy, "ddl": ddl,
                                   "scd2_by_column": by_column, "scd2_by_time": by_time}),
    })  # fmt: skip
    rebuilds = MappingProxyType({**REBUILDS, "scd2_by_column": by_column_rebuild, "scd2_by_time": by_time_rebuild})
    return strategies, rebuilds


_POSTGRES_TABLES = _tables(merge, redshift=False)
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
        rows = list(csv_rows(seed.path))
        header = rows[0] if rows else []
        if not header:
            raise BruinError(f"cannot read the seed file {seed.path.name}: it has no header row")
        declared = declared_types(seed, header, SEED_TYPES)
        inferred = inferred_types(rows[1:], len(header))
        types = [declared.get(name, kind) for name, kind in zip(header, inferred, strict=True)]
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
