"""Database handles shared by the SQL assets of one run.

Each database is shared by the assets that use it at the same time: a DuckDB file is opened once
however many assets run on it (each session gets its own cursor, because DuckDB cursors are per
thread), and PostgreSQL and Redshift connections are pooled per connection name, so a run never
holds more server connections than the connection allows. Driver errors leave this module as one-line `BruinError`s
with every credential of the connection masked; the password itself only ever travels inside the
libpq connection string, which is never printed.
"""

from __future__ import annotations

import abc
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pybruin.errors import BruinError
from pybruin.masking import Masker

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

CONNECT_TIMEOUT_SECONDS = 10
DEFAULT_POOL_SIZE = 10
DEFAULT_PORTS = {"postgres": 5432, "redshift": 5439}

_PASSWORD_SETTING = re.compile(r"""(?i)\b(password|passwd|pwd)(\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s,;&]+)""")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


def _safe_message(text: str, connection: Connection) -> str:
    """The first line of a driver message with every credential of `connection` masked."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "unknown error")
    masked = Masker(connection.sensitive_values()).mask(first_line)
    masked = _PASSWORD_SETTING.sub(r"\1\2****", masked)
    return _URL_USERINFO.sub(r"\1****@", masked)


class Session:
    """One asset's use of a database: scripts, queries and transactions on one driver connection."""

    def __init__(self, handle: Any, driver_error: type[Exception], connection: Connection, database: _Database) -> None:
        self._handle = handle
        self._driver_error = driver_error
        self._connection = connection
        self._database = database

    def execute(self, sql: str) -> None:
        """Run a script of one or more statements."""
        with self._translated_errors():
            self._handle.execute(sql)

    def query(self, sql: str) -> list[tuple]:
        """Run one statement and return its rows."""
        with self._translated_errors():
            return self._handle.execute(sql).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all."""
        self.execute("BEGIN")
        try:
            yield
        except BaseException:
            with suppress(self._driver_error):  # a broken connection rolls back on the server anyway
                self._handle.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def once(self, key: str, setup: Callable[[Session], None]) -> None:
        """Run `setup` the first time `key` comes up for this database in this run, one caller at a
        time: for idempotent setup, such as creating a schema, that parallel assets would race on."""
        with self._database.setup_lock:
            if key not in self._database.done:
                setup(self)
                self._database.done.add(key)

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        try:
            yield
        except self._driver_error as exc:
            raise BruinError(_safe_message(str(exc), self._connection)) from None


class _Database(abc.ABC):
    """One open database of the run; also remembers the setup steps this run already took on it."""

    def __init__(self) -> None:
        self.setup_lock = threading.Lock()
        self.done: set[str] = set()

    @abc.abstractmethod
    def session(self, connection: Connection) -> AbstractContextManager[Session]: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def release_idle(self) -> None:  # noqa: B027 - only file databases hold anything worth releasing
        """Let other processes open the database while no asset of this run uses it."""


class _DuckDB(_Database):
    """One DuckDB instance per file, kept open from one SQL asset to the next.

    Opening a DuckDB file costs more than a trivial statement, so a chain of SQL assets shares one
    instance. DuckDB lets only one process open a file for writing, though, so the run calls
    `release_idle` before it starts an asset process that may open the file itself. An in-memory
    database stays open for the whole run, or it would be lost.
    """

    def __init__(self, connection: Connection) -> None:
        import duckdb

        super().__init__()
        self._duckdb = duckdb
        self._path = connection.path or ":memory:"
        self._read_only = bool(connection.read_only)
        self._lock = threading.Lock()
        self._root: Any = None
        self._sessions = 0

    @contextmanager
    def session(self, connection: Connection) -> Iterator[Session]:
        with self._lock:
            if self._root is None:
                self._root = self._open(connection)
            cursor = self._root.cursor()
            self._sessions += 1
        try:
            yield Session(cursor, self._duckdb.Error, connection, self)
        finally:
            cursor.close()
            with self._lock:
                self._sessions -= 1

    def release_idle(self) -> None:
        with self._lock:
            if self._sessions == 0 and self._path != ":memory:":
                self._release()

    def _open(self, connection: Connection) -> Any:
        if self._path != ":memory:" and not self._read_only:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._duckdb.connect(self._path, read_only=self._read_only)
        except self._duckdb.Error as exc:
            raise BruinError(
                f"could not open duckdb connection '{connection.name}' at {self._path}: "
                f"{_safe_message(str(exc), connection)}"
            ) from None

    def close(self) -> None:
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._root is not None:
            self._root.close()
            self._root = None


class _Postgres(_Database):
    """A small pool: at most `size` connections, idle ones reused, broken ones dropped.

    Connections are opened on demand in the asking thread, so a refused connection or a wrong
    password surfaces as that error rather than as a pool timeout.
    """

    def __init__(self, connection: Connection) -> None:
        import psycopg

        super().__init__()
        self._psycopg = psycopg
        self._connection = connection
        self._slots = threading.BoundedSemaphore(pool_size(connection))
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    @contextmanager
    def session(self, connection: Connection) -> Iterator[Session]:
        with self._slots:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._connect()
            try:
                yield Session(conn, self._psycopg.Error, connection, self)
            finally:
                self._release(conn)

    def _connect(self) -> Any:
        from psycopg.conninfo import make_conninfo

        c = self._connection
        host, port = c.host or "localhost", c.port or DEFAULT_PORTS[c.type_key]
        conninfo = make_conninfo(
            host=host,
            port=port,
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
            reason = _safe_message(str(exc), c).rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
            raise BruinError(
                f"could not connect to {c.type_key} connection '{c.name}' at {host}:{port}: "
                f"{reason[:1].lower()}{reason[1:]}"
            ) from None
        if c.schema_:
            try:
                conn.execute("SELECT set_config('search_path', %s, false)", [c.schema_])
            except self._psycopg.Error as exc:
                conn.close()
                raise BruinError(
                    f"could not set the schema of {c.type_key} connection '{c.name}': {_safe_message(str(exc), c)}"
                ) from None
        return conn

    def _release(self, conn: Any) -> None:
        idle = self._psycopg.pq.TransactionStatus.IDLE
        if conn.closed or conn.info.transaction_status != idle:
            conn.close()  # a script left a transaction open or the connection broke: start afresh
            return
        with self._lock:
            self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def pool_size(connection: Connection) -> int:
    """`pool_max_conns` (10 when unset), never more than `max_concurrent_assets`."""
    size = getattr(connection, "pool_max_conns", None) or DEFAULT_POOL_SIZE
    if connection.max_concurrent_assets:
        size = min(size, connection.max_concurrent_assets)
    return size


_DATABASE_KINDS: dict[str, Callable[[Connection], _Database]] = {
    "duckdb": _DuckDB,
    "postgres": _Postgres,
    "redshift": _Postgres,
}


class Databases:
    """Database handles shared by every SQL asset of one run: one per database, not one per asset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[str, ...], _Database] = {}

    @contextmanager
    def session(self, connection: Connection) -> Iterator[Session]:
        """A session on the connection's database, opening the database on first use; thread-safe."""
        with self._database(connection).session(connection) as session:
            yield session

    def close(self) -> None:
        with self._lock:
            databases, self._open = list(self._open.values()), {}
        for database in databases:
            database.close()

    def release_idle(self) -> None:
        """Before an asset process starts: free every database file no SQL asset is using right now."""
        with self._lock:
            databases = list(self._open.values())
        for database in databases:
            database.release_idle()

    def _database(self, connection: Connection) -> _Database:
        kind = _DATABASE_KINDS.get(connection.type_key)
        if kind is None:
            raise BruinError(
                f"connection '{connection.name}' is a {connection.type_key} connection, "
                f"which cannot run SQL assets; use one of: {', '.join(_DATABASE_KINDS)}"
            )
        key = _database_key(connection)
        with self._lock:
            database = self._open.get(key)
            if database is None:
                database = self._open[key] = kind(connection)
            return database


def _database_key(connection: Connection) -> tuple[str, ...]:
    if connection.type_key == "duckdb":
        path = connection.path or ":memory:"
        where = path if path == ":memory:" else str(Path(path).resolve())
        return ("duckdb", where, "read_only" if connection.read_only else "read_write")
    return (connection.type_key, connection.name)
