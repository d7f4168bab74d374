"""DuckDB: `duckdb.sql` assets on a database file (or in memory), one instance per file per run."""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pybruin.errors import BruinError
from pybruin.platforms.ansi import AnsiPlatform
from pybruin.platforms.base import Database

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

MEMORY = ":memory:"


class DuckDBPlatform(AnsiPlatform):
    name = "duckdb"
    connection_types = ("duckdb",)
    asset_types = ("duckdb.sql",)

    def default_schema(self, connection: Connection) -> str:
        return "main"

    def open(self, connection: Connection) -> Database:
        if connection.lakehouse is not None:
            # Attaching an Iceberg or DuckLake catalog is not implemented; running without it would write
            # to the plain file instead of the lakehouse the user configured.
            raise BruinError(
                f"connection '{connection.name}': 'lakehouse' (an attached Iceberg or DuckLake catalog) "
                "is not supported by pybruin yet"
            )
        return DuckDBDatabase(self, connection)

    def database_key(self, connection: Connection) -> Hashable:
        """The file, resolved, and whether it is opened read-only: names of one file share its instance."""
        path = _path(connection)
        where = path if path == MEMORY else str(Path(path).resolve())
        return (where, "read_only" if connection.read_only else "read_write")

    def ping(self, connection: Connection) -> None:
        # Opening a missing file would create it: a test must not leave a new database behind.
        path = _path(connection)
        if path != MEMORY and not os.path.exists(path):
            raise BruinError(f"database file '{path}' does not exist")
        super().ping(connection)


class DuckDBDatabase(Database):
    """One DuckDB instance per file, kept open from one SQL asset to the next.

    Opening a DuckDB file costs more than a trivial statement, so a chain of SQL assets shares one
    instance; each session gets its own cursor, because DuckDB cursors are per thread. DuckDB lets
    only one process open a file for writing, though, so the run calls `release_idle` before it
    starts an asset process that may open the file itself. An in-memory database stays open for
    the whole run, or it would be lost.
    """

    def __init__(self, platform: DuckDBPlatform, connection: Connection) -> None:
        import duckdb

        super().__init__(platform, connection, driver_error=duckdb.Error)
        self._duckdb = duckdb
        self._path = _path(connection)
        self._read_only = bool(connection.read_only)
        self._lock = threading.Lock()
        self._root: Any = None
        self._sessions = 0

    def release_idle(self) -> None:
        with self._lock:
            if self._sessions == 0 and self._path != MEMORY:
                self._close_root()

    def close(self) -> None:
        with self._lock:
            self._close_root()

    def _acquire(self) -> Any:
        with self._lock:
            if self._root is None:
                self._root = self._open()
            cursor = self._root.cursor()
            self._sessions += 1
        return cursor

    def _release(self, handle: Any, *, reusable: bool) -> None:
        handle.close()
        with self._lock:
            self._sessions -= 1

    def _interrupt(self, handle: Any) -> None:
        handle.interrupt()

    def _stage(self, handle: Any, name: str, data: Any) -> None:
        """A view on the Arrow table itself, for this cursor only: nothing is copied before the strategy's
        own statement reads it."""
        handle.register(name, data)

    def _unstage(self, handle: Any, name: str) -> None:
        handle.unregister(name)

    def _open(self) -> Any:
        if self._path != MEMORY and not self._read_only:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._duckdb.connect(self._path, read_only=self._read_only)
        except self._duckdb.Error as exc:
            raise BruinError(
                f"could not open duckdb connection '{self.connection.name}' at {self._path}: {self.error(exc)}"
            ) from None

    def _close_root(self) -> None:
        if self._root is not None:
            self._root.close()
            self._root = None


def _path(connection: Connection) -> str:
    return connection.path or MEMORY
