"""What a run uses: the databases its SQL assets share, running one asset's rendered SQL, and running its
quality checks.

Without a materialization an asset's SQL runs as written (several statements are fine); with one,
its platform's strategy builds the object named after the asset (see `base.Platform.target`). Checks
query that same object: a SQL asset's on its platform, a Python or R asset's on the platform of its
`connection:`.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.platforms import PLATFORMS, SQL_ASSET_TYPES, platform_for_asset_type, platform_for_connection
from pybruin.platforms.base import select_body
from pybruin.platforms.checks import CheckOutcome, evaluate

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.pipeline.model import Asset, Column, ColumnCheck, CustomCheck
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
            step = partial(strategy, target=target, query=select_body(rendered_sql))
        with databases.session(connection) as session:
            step(session)
    except BruinError as exc:
        raise BruinError(f"asset '{asset.name}': {exc}") from None


def run_column_check(
    asset: Asset, column: Column, check: ColumnCheck, connection: Connection, databases: Databases, *,
    schema_prefix: str,
) -> CheckOutcome:  # fmt: skip
    """Run one built-in check on the asset's table; `CheckFailed` / `CheckError` / BruinError when it fails."""
    platform = _check_platform(asset, connection, check.name)
    table = platform.target(asset.name, connection, schema_prefix)
    key = column.foreign_key
    reference = None
    if check.name == "relationships":
        if key is None or not key.table or not key.column:
            raise BruinError(
                f"relationships check on column '{column.name}' requires foreign_key.table and foreign_key.column"
            )
        reference = platform.target(key.table, connection, schema_prefix)
    query = platform.column_check_query(table, column, check, reference)
    return evaluate(partial(databases.session, connection), query)


def run_custom_check(
    asset: Asset, check: CustomCheck, connection: Connection, databases: Databases, *, rendered_query: str
) -> CheckOutcome:
    """Run one custom check (its query already rendered); failures as for `run_column_check`."""
    query = _check_platform(asset, connection, check.name).custom_check_query(check, rendered_query)
    return evaluate(partial(databases.session, connection), query)


def _check_platform(asset: Asset, connection: Connection, check_name: str) -> Platform:
    if asset.type in SQL_ASSET_TYPES:
        return _platform(asset, connection)
    platform = platform_for_connection(connection.type_key)
    if platform is None:
        raise BruinError(f"connection '{connection.name}' cannot be used for the check '{check_name}'")
    return platform


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


def _run_script(session: Session, script: str) -> None:
    session.execute(script)
