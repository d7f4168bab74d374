"""PostgreSQL (`pg.sql`) and Redshift (`rs.sql`, the same protocol with its own defaults), via psycopg.

Each connection name gets a small pool, so a run never holds more server connections than the
connection allows. The password only ever travels inside the libpq connection string, which is
never printed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pybruin.errors import BruinError
from pybruin.platforms.ansi import AnsiPlatform
from pybruin.platforms.base import Database

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

CONNECT_TIMEOUT_SECONDS = 10
DEFAULT_POOL_SIZE = 10
#: Rows per CSV chunk streamed into COPY when loading the data of a Python asset.
COPY_BATCH_ROWS = 64 * 1024


class PostgresPlatform(AnsiPlatform):
    name = "postgres"
    connection_types = ("postgres",)
    asset_types = ("pg.sql",)
    default_port = 5432

    def default_schema(self, connection: Connection) -> str:
        """The connection's `schema` (also its search path), else `public`."""
        return connection.schema_ or "public"

    def open(self, connection: Connection) -> Database:
        return PostgresDatabase(self, connection)


class RedshiftPlatform(PostgresPlatform):
    name = "redshift"
    connection_types = ("redshift",)
    asset_types = ("rs.sql",)
    default_port = 5439

    def open(self, connection: Connection) -> Database:
        return RedshiftDatabase(self, connection)


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

    def _stage(self, handle: Any, name: str, data: Any) -> None:
        """A temporary table of the connection (so of this session only), filled by `COPY ... FROM STDIN`
        from CSV that pyarrow writes a batch at a time."""
        data = _decoded(data)
        columns = ", ".join(f"{self.platform.quote_name(field.name)} {_column_type(field)}" for field in data.schema)
        handle.execute(f"CREATE TEMPORARY TABLE {name} ({columns})")
        with handle.cursor() as cursor, cursor.copy(f"COPY {name} FROM STDIN (FORMAT csv)") as copy:
            for chunk in _csv_chunks(data):
                copy.write(chunk)

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
        if c.schema_:
            try:
                conn.execute("SELECT set_config('search_path', %s, false)", [c.schema_])
            except self._psycopg.Error as exc:
                conn.close()
                raise BruinError(
                    f"could not set the schema of {c.type_key} connection '{c.name}': {self.error(exc)}"
                ) from None
        return conn


class RedshiftDatabase(PostgresDatabase):
    def _stage(self, handle: Any, name: str, data: Any) -> None:
        # Redshift has no COPY FROM STDIN (it copies from S3 only).
        raise BruinError("pybruin cannot load data returned by materialize() into redshift yet")


def _decoded(data: Any) -> Any:
    """The table with dictionary columns (pandas categoricals) as plain columns of their values."""
    import pyarrow as pa

    if not any(pa.types.is_dictionary(field.type) for field in data.schema):
        return data
    fields = [field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type) else field
              for field in data.schema]  # fmt: skip
    return data.cast(pa.schema(fields))


def _column_type(field: Any) -> str:
    """The PostgreSQL type that holds an Arrow column's values exactly; a clear error for the few kinds CSV
    cannot carry."""
    import pyarrow as pa

    kind = field.type
    checks = (
        (pa.types.is_boolean, "boolean"),
        (lambda t: t in (pa.int8(), pa.int16(), pa.uint8()), "smallint"),
        (lambda t: t in (pa.int32(), pa.uint16()), "integer"),
        (lambda t: t in (pa.int64(), pa.uint32()), "bigint"),
        (lambda t: t == pa.uint64(), "numeric(20, 0)"),
        (lambda t: t in (pa.float16(), pa.float32()), "real"),
        (pa.types.is_float64, "double precision"),
        (pa.types.is_date, "date"),
        (pa.types.is_time, "time"),
        (pa.types.is_null, "text"),
        (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t), "text"),
    )
    for matches, name in checks:
        if matches(kind):
            return name
    if pa.types.is_timestamp(kind):
        return "timestamp with time zone" if kind.tz else "timestamp"
    if pa.types.is_decimal(kind):
        return f"numeric({kind.precision}, {kind.scale})"
    raise BruinError(f"column '{field.name}' holds {kind} values, which pybruin cannot load into postgres yet")


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
