"""What a run uses: the databases its SQL assets share, and running one asset's rendered SQL.

Without a materialization an asset's SQL runs as written (several statements are fine); with one,
its platform's strategy builds the object named after the asset (see `base.Platform.target`).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.platforms import PLATFORMS, SQL_ASSET_TYPES, platform_for_asset_type, platform_for_connection

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.pipeline.model import Asset
    from pybruin.platforms.base import Database, Platform, Session


class Databases:
    """The databases every SQL asset of one run shares: each opened once, not once per asset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[str, Hashable], Database] = {}
        self._sessions: set[Session] = set()

    @contextmanager
    def session(self, connection: Connection) -> Iterator[Session]:
        """A session on the connection's database, opening the database on first use; thread-safe."""
        with self._database(connection).session() as session:
            with self._lock:
                self._sessions.add(session)
            try:
                yield session
            finally:
                with self._lock:
                    self._sessions.discard(session)

    def release_idle(self) -> None:
        """Before an asset process starts: free every database file no SQL asset is using right now."""
        with self._lock:
            databases = list(self._open.values())
        for database in databases:
            database.release_idle()

    def cancel_all(self) -> None:
        """Cancel every session open now: running statements stop, open transactions roll back.

        Every session is asked even when one cancel fails; the first failure is raised afterwards.
        """
        with self._lock:
            sessions = list(self._sessions)
        failures: list[BruinError] = []
        for session in sessions:
            try:
                session.cancel()
            except BruinError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def close(self) -> None:
        with self._lock:
            databases, self._open = list(self._open.values()), {}
        for database in databases:
            database.close()

    def _database(self, connection: Connection) -> Database:
        platform = platform_for_connection(connection.type_key)
        if platform is None:
            types = [type_key for p in PLATFORMS for type_key in p.connection_types]
            raise BruinError(
                f"connection '{connection.name}' is a {connection.type_key} connection, "
                f"which cannot run SQL assets; use one of: {', '.join(types)}"
            )
        key = (platform.name, platform.database_key(connection))
        with self._lock:
            database = self._open.get(key)
            if database is None:
                database = self._open[key] = platform.open(connection)
            return database


def run_sql_asset(
    asset: Asset, connection: Connection, databases: Databases, *, rendered_sql: str, schema_prefix: str
) -> None:
    """Run the asset's rendered SQL on `connection`; every failure is a BruinError naming the asset.

    The materialization and the target name are checked before anything connects.
    """
    try:
        platform = _platform(asset, connection)
        strategy = platform.strategy(asset.materialization)
        if strategy is None:
            step = partial(_run_script, script=rendered_sql)
        else:
            target = platform.target(asset.name, connection, schema_prefix)
            step = partial(strategy, target=target, query=_select_body(rendered_sql))
        with databases.session(connection) as session:
            step(session)
    except BruinError as exc:
        raise BruinError(f"asset '{asset.name}': {exc}") from None


def _platform(asset: Asset, connection: Connection) -> Platform:
    platform = platform_for_asset_type(asset.type)
    if platform is None:
        raise BruinError(f"'{asset.type}' assets cannot run; SQL asset types: {', '.join(SQL_ASSET_TYPES)}")
    if connection.type_key not in platform.connection_types:
        raise BruinError(
            f"connection '{connection.name}' is a {connection.type_key} connection, "
            f"but '{asset.type}' assets need a {' or '.join(platform.connection_types)} connection"
        )
    return platform


def _select_body(sql: str) -> str:
    """The query without trailing semicolons, ending in a newline so a trailing `--` comment stays closed."""
    body = sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return body + "\n"


def _run_script(session: Session, script: str) -> None:
    session.execute(script)
