"""What a run uses: the databases its SQL assets share, running one asset's rendered SQL, and running its
quality checks.

Without a materialization an asset's SQL runs as written (several statements are fine); with one,
its platform's strategy builds the object named after the asset (see `base.Platform.target`). Checks
query that same object: a SQL asset's on its platform, a Python or R asset's on the platform of its
`connection:`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from functools import partial
from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.platforms import PLATFORMS, SQL_ASSET_TYPES, platform_for_asset_type, platform_for_connection
from pybruin.platforms.ansi import table_columns
from pybruin.platforms.base import select_body
from pybruin.platforms.checks import CheckOutcome, evaluate

if TYPE_CHECKING:
    import pyarrow as pa

    from pybruin.config.connections import Connection
    from pybruin.pipeline.model import Asset, Column, ColumnCheck, CustomCheck
    from pybruin.platforms.base import Database, Platform, Session, Target
    from pybruin.run.cancel import Cancellation


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
        platform = connection_platform(connection, "run SQL assets")
        key = (platform.name, platform.database_key(connection))
        with self._lock:
            database = self._open.get(key)
            if database is None:
                database = self._open[key] = platform.open(connection)
            return database


def connection_platform(connection: Connection, purpose: str) -> Platform:
    """The platform of a connection; a clear error, naming the types that would do, when pybruin has none."""
    platform = platform_for_connection(connection.type_key)
    if platform is None:
        types = [type_key for p in PLATFORMS for type_key in p.connection_types]
        raise BruinError(
            f"connection '{connection.name}' is a {connection.type_key} connection, "
            f"which cannot {purpose}; use one of: {', '.join(types)}"
        )
    return platform


def run_sql_asset(
    asset: Asset,
    connection: Connection,
    databases: Databases,
    *,
    rendered_sql: str,
    schema_prefix: str,
    cancellation: Cancellation | None = None,
) -> None:
    """Run the asset's rendered SQL on `connection`; every failure is a BruinError naming the asset.

    The materialization and the target name are checked before anything connects. `cancellation` (the
    asset's timeout, an interrupted run) cancels the running statement, so its transaction rolls back.
    """
    try:
        platform = _platform(asset, connection)
        strategy = platform.strategy(asset.materialization)
        if strategy is None:
            step = partial(_run_script, script=rendered_sql)
        else:
            target = platform.target(asset.name, connection, schema_prefix)
            step = partial(strategy, target=target, query=select_body(rendered_sql))
        with _session(databases, connection, cancellation) as session:
            step(session)
    except BruinError as exc:
        raise BruinError(f"asset '{asset.name}': {exc}") from None


@contextmanager
def _session(databases: Databases, connection: Connection, cancellation: Cancellation | None) -> Iterator[Session]:
    """A session whose running statement `cancellation` cancels (the task's timeout, an interrupted run)."""
    with (
        databases.session(connection) as session,
        cancellation.on_cancel(partial(_cancel, session)) if cancellation else nullcontext(),
    ):
        yield session


#: Strategies that build the table afresh from the data, whatever columns it had before.
_REBUILDING = frozenset({"", "create+replace"})


def load_python_asset(
    asset: Asset, connection: Connection, databases: Databases, data: pa.Table, *, schema_prefix: str,
    cancellation: Cancellation | None = None,
) -> None:  # fmt: skip
    """Write what a Python asset's `materialize()` returned into the table named after the asset, with its
    strategy, exactly as that strategy builds a SQL asset's table: the data is staged in the session (see
    `Session.staged`) and the strategy's query selects from it. Into an existing table, the data's columns
    must be the table's (in any order, compared as unquoted names are). `cancellation` cancels the load as
    it does a SQL asset's statement. Failures are BruinErrors."""
    platform = connection_platform(connection, "hold the data of Python assets")
    strategy = platform.strategy(asset.materialization)
    assert strategy is not None, asset.materialization  # the runner only loads materializing assets
    target = platform.target(asset.name, connection, schema_prefix)
    names = _data_columns(data.column_names)
    staging = f"__pybruin_data_{uuid.uuid4().hex[:12]}"
    rebuilds = str(asset.materialization.get("strategy") or "").lower() in _REBUILDING
    with _session(databases, connection, cancellation) as session, session.staged(staging, data):
        existing = [] if rebuilds else table_columns(session, target)
        if existing:
            names = _matched(names, existing, target)
        select = ", ".join(map(platform.quote_name, names))
        strategy(session, target, f"SELECT {select} FROM {staging}")


def _data_columns(names: Sequence[str]) -> list[str]:
    """The columns of the returned data; none, or one twice (as a database compares names), is an error."""
    if not names:
        raise BruinError("materialize() returned data without columns")
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            raise BruinError(f"materialize() returned the column '{name}' twice")
        seen.add(name.lower())
    return list(names)


def _matched(names: list[str], existing: list[str], target: Target) -> list[str]:
    """The data's columns in the order of the table's, when they are the same columns."""
    by_name = {name.lower(): name for name in names}
    if sorted(by_name) != sorted(column.lower() for column in existing):
        raise BruinError(
            f"the columns materialize() returned ({', '.join(names)}) do not match the columns of "
            f"{'.'.join(target.parts)} ({', '.join(existing)})"
        )
    return [by_name[column.lower()] for column in existing]


def run_column_check(
    asset: Asset, column: Column, check: ColumnCheck, connection: Connection, databases: Databases, *,
    schema_prefix: str, cancellation: Cancellation | None = None,
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
    return evaluate(partial(_session, databases, connection, cancellation), query)


def run_custom_check(
    asset: Asset, check: CustomCheck, connection: Connection, databases: Databases, *, rendered_query: str,
    cancellation: Cancellation | None = None,
) -> CheckOutcome:  # fmt: skip
    """Run one custom check (its query already rendered); failures as for `run_column_check`."""
    query = _check_platform(asset, connection, check.name).custom_check_query(check, rendered_query)
    return evaluate(partial(_session, databases, connection, cancellation), query)


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


def _cancel(session: Session) -> None:
    """Cancel from another thread; a driver that cannot is left to finish, the asset fails all the same."""
    with suppress(BruinError):
        session.cancel()
