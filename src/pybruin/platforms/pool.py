"""A small pool of driver connections per database, for the server platforms (PostgreSQL, MySQL, Snowflake,
BigQuery): what they share about lending, reusing and dropping connections.

A run never holds more connections than the connection allows (`pool_max_conns` where the type has it, else
10, and never more than `max_concurrent_assets`); idle ones are reused, broken or cancelled ones closed.
Connections are opened on demand in the asking thread, so a refused connection or a wrong password surfaces
as that error rather than as a pool timeout.
"""

from __future__ import annotations

import abc
import threading
from typing import TYPE_CHECKING, Any

from pybruin.platforms.base import Database, Platform

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

DEFAULT_POOL_SIZE = 10


class PooledDatabase(Database):
    """A `Database` whose handles are pooled driver connections; a platform module implements `_connect`,
    `_reusable` (whether an idle handle may serve the next session) and `_close`."""

    def __init__(self, platform: Platform, connection: Connection, *, driver_error: type[Exception]) -> None:
        super().__init__(platform, connection, driver_error=driver_error)
        self._slots = threading.BoundedSemaphore(pool_size(connection))
        self._idle: list[Any] = []
        self._pool_lock = threading.Lock()

    def close(self) -> None:
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for handle in idle:
            self._close(handle)

    @abc.abstractmethod
    def _connect(self) -> Any:
        """A new driver connection; a BruinError naming the connection when it cannot be opened."""

    @abc.abstractmethod
    def _reusable(self, handle: Any) -> bool:
        """Whether a handle a session has finished with is healthy and idle (no open transaction)."""

    @abc.abstractmethod
    def _close(self, handle: Any) -> None: ...

    def _acquire(self) -> Any:
        self._slots.acquire()
        try:
            with self._pool_lock:
                handle = self._idle.pop() if self._idle else None
            return handle or self._connect()
        except BaseException:
            self._slots.release()
            raise

    def _release(self, handle: Any, *, reusable: bool) -> None:
        try:
            if not reusable or not self._reusable(handle):
                self._close(handle)  # cancelled, broken, or a script left a transaction open: start afresh
                return
            with self._pool_lock:
                self._idle.append(handle)
        finally:
            self._slots.release()


def pool_size(connection: Connection) -> int:
    size = getattr(connection, "pool_max_conns", None) or DEFAULT_POOL_SIZE
    if connection.max_concurrent_assets:
        size = min(size, connection.max_concurrent_assets)
    return size
