"""PostgreSQL (`pg.sql`) and Redshift (`rs.sql`, the same protocol with its own defaults), via psycopg.

Each connection name gets a small pool, so a run never holds more server connections than the
connection allows. The password only ever travels inside the libpq connection string, which is
never printed.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from pybruin.errors import BruinError
from pybruin.platforms.ansi import AnsiPlatform
from pybruin.platforms.base import Database

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

CONNECT_TIMEOUT_SECONDS = 10
DEFAULT_POOL_SIZE = 10


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

    def column_type(self, type_code: object) -> str:
        """The type's name (psycopg describes columns by type OID), upper-cased: `INT4`, `TEXT`, `NUMERIC`."""
        from psycopg.postgres import types

        info = types.get(type_code) if isinstance(type_code, int) else None
        return info.name.upper() if info is not None else str(type_code)


class RedshiftPlatform(PostgresPlatform):
    name = "redshift"
    connection_types = ("redshift",)
    asset_types = ("rs.sql",)
    default_port = 5439


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


def _pool_size(connection: Connection) -> int:
    size = getattr(connection, "pool_max_conns", None) or DEFAULT_POOL_SIZE
    if connection.max_concurrent_assets:
        size = min(size, connection.max_concurrent_assets)
    return size
