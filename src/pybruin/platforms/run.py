"""What a run uses: the databases its SQL assets share, running one asset's rendered SQL, loading a seed, and
running its quality checks.

Without a materialization an asset's SQL runs as written (several statements are fine); with one,
its platform's strategy builds the object named after the asset (see `base.Platform.target`). Hooks
wrap either into one script. `asset_sql` gives the same script without running it (`bruin render`). Checks
query that same object: a SQL asset's on its platform, a Python or R asset's on the platform of its
`connection:`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from functools import partial
from typing import TYPE_CHECKING

from pybruin.errors import BruinError
from pybruin.pipeline.hooks import wrap_hooks
from pybruin.pipeline.materialization import Materialization
from pybruin.pipeline.model import Hooks
from pybruin.pipeline.seeds import seed_of
from pybruin.platforms import PLATFORMS, SQL_ASSET_TYPES, platform_for_asset_type, platform_for_connection
from pybruin.platforms.base import Build
from pybruin.platforms.checks import CheckOutcome, evaluate
from pybruin.platforms.seeding import platform_type
from pybruin.records import Record

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


NO_HOOKS = Hooks()
_BRUIN_COMMENT = re.compile(r"/\* *@bruin[\s\S]*@bruin *\*/")


class Materializing(Record):
    """An asset's materialization, checked: the target and what its strategy builds from.

    `script` gives the SQL; `rebuild` is whether this run rebuilds the table (`--full-refresh`), and
    `incremental` whether the strategy needs the table to exist already (when it does not, the run
    builds it as a full refresh would).
    """

    platform: Platform
    build: Build
    rebuild: bool
    incremental: bool

    def script(self, *, rebuild: bool | None = None) -> str:
        return self.platform.script(self.build, rebuild=self.rebuild if rebuild is None else rebuild)


def materializing(
    asset: Asset,
    rendered_sql: str,
    connection: Connection | None,
    *,
    schema_prefix: str,
    full_refresh: bool = False,
    interval: tuple[str, str] = ("", ""),
) -> Materializing | None:
    """How the asset's platform materializes it; None when it sets no materialization type (the SQL then runs
    as written). `connection` may be None when only the SQL is wanted (`bruin render`)."""
    return _materializing(_platform(asset, connection), asset, rendered_sql, connection, schema_prefix=schema_prefix,
                          full_refresh=full_refresh, interval=interval)  # fmt: skip


def _materializing(
    platform: Platform, asset: Asset, rendered_sql: str, connection: Connection | None, *, schema_prefix: str,
    full_refresh: bool, interval: tuple[str, str],
) -> Materializing | None:  # fmt: skip
    if platform.strategy(asset.materialization) is None:
        return None
    mat = Materialization.of(asset.materialization)
    build = Build(
        target=platform.target(asset.name, connection, schema_prefix),
        query=rendered_sql,
        materialization=mat,
        columns=tuple(asset.columns),
        asset_type=asset.type,
        interval=interval,
        quote=platform.quote_identifier,
        schema_prefix=schema_prefix,
    )
    incremental = mat.type == "table" and mat.table_strategy in platform.rebuilds
    return Materializing(platform, build, rebuild=full_refresh and incremental, incremental=incremental)


def asset_sql(
    asset: Asset,
    rendered_sql: str,
    connection: Connection | None,
    *,
    schema_prefix: str,
    full_refresh: bool = False,
    interval: tuple[str, str] = ("", ""),
    hooks: Hooks = NO_HOOKS,
) -> str:
    """The script a SQL asset runs, hooks included, assuming its table exists (`bruin render`): the rendered
    SQL as written without a materialization, else its strategy's script."""
    try:
        _, script = _prepared(asset, rendered_sql, connection, schema_prefix, full_refresh, interval)
    except BruinError as exc:
        raise BruinError(f"asset '{asset.name}': {exc}") from None
    return wrap_hooks(script, hooks.pre, hooks.post)


def run_sql_asset(
    asset: Asset,
    connection: Connection,
    databases: Databases,
    *,
    rendered_sql: str,
    schema_prefix: str,
    full_refresh: bool = False,
    interval: tuple[str, str] = ("", ""),
    hooks: Hooks = NO_HOOKS,
    cancellation: Cancellation | None = None,
) -> None:
    """Run the asset's rendered SQL on `connection`; every failure is a BruinError naming the asset.

    The materialization and the target name are checked before anything connects. The script runs as one;
    when it fails, whatever transaction it opened is rolled back, so the previous table stays as it was.
    `cancellation` (the asset's timeout, an interrupted run) cancels the running statement.
    """
    try:
        plan, script = _prepared(asset, rendered_sql, connection, schema_prefix, full_refresh, interval)
        with _session(databases, connection, cancellation) as session:
            if plan is None:
                _execute(session, wrap_hooks(script, hooks.pre, hooks.post))
            else:
                _apply(session, plan, hooks)
    except BruinError as exc:
        raise BruinError(f"asset '{asset.name}': {exc}") from None


def _apply(session: Session, plan: Materializing, hooks: Hooks = NO_HOOKS, *, exists: bool | None = None) -> None:
    """Build the plan's target in the session: its strategy's script, or its rebuild when an incremental
    strategy finds no table yet (`exists`, when the caller knows already)."""
    target = plan.build.target
    plan.platform.ensure_schema(session, target)
    tables = plan.platform.tables(session)
    script = plan.script()
    if plan.incremental and not plan.rebuild and not (tables.exists(session, target) if exists is None else exists):
        script = plan.script(rebuild=True)
    _execute(session, wrap_hooks(script, hooks.pre, hooks.post))
    if plan.build.materialization.type == "table":
        tables.add(session, target)


def load_python_asset(
    asset: Asset, connection: Connection, databases: Databases, data: pa.Table, *, schema_prefix: str,
    full_refresh: bool = False, interval: tuple[str, str] = ("", ""), cancellation: Cancellation | None = None,
) -> None:  # fmt: skip
    """Write what a Python asset's `materialize()` returned into the table named after the asset, with its
    strategy, exactly as that strategy builds a SQL asset's table: the data is staged in the session (see
    `Session.staged`) and the strategy's query selects from it. Into an existing table, the data's columns
    must be the table's (in any order, compared as unquoted names are); with `parameters.enforce_schema:
    true`, declared column types are cast to. `cancellation` cancels the load as it does a SQL asset's
    statement. Failures are BruinErrors."""
    platform = python_data_platform(connection)
    target = platform.target(asset.name, connection, schema_prefix)
    names = _data_columns(data.column_names)
    with _session(databases, connection, cancellation) as session:
        platform.ensure_schema(session, target)
        with session.staged(data, target) as staging:
            existing = platform.table_columns(session, target)
            rebuilding = full_refresh or Materialization.of(asset.materialization).table_strategy == "create+replace"
            if existing and not rebuilding:
                names = _matched(names, existing, target)
            query = f"SELECT {', '.join(_selected(platform, asset, names))} FROM {staging}"
            plan = _materializing(platform, asset, query, connection, schema_prefix=schema_prefix,
                                  full_refresh=full_refresh, interval=interval)  # fmt: skip
            assert plan is not None, asset.materialization  # the runner only loads materializing assets
            _apply(session, plan, exists=bool(existing))


def python_data_platform(connection: Connection, asset: Asset | None = None) -> Platform:
    """The platform that holds a Python asset's data on `connection`; with `asset`, its strategy is checked
    there too. A clear error naming the platform when pybruin cannot load the data there (yet)."""
    platform = connection_platform(connection, "hold the data of Python assets")
    if not platform.python_data:
        raise BruinError(
            f"pybruin cannot load data returned by materialize() into {platform.name} (connection "
            f"'{connection.name}') yet"
        )
    if asset is not None:
        try:
            platform.strategy(asset.materialization)
        except BruinError as exc:
            raise BruinError(f"{platform.name} connection '{connection.name}': {exc}") from None
    return platform


def _selected(platform: Platform, asset: Asset, names: list[str]) -> list[str]:
    """The data's columns as the query selects them: cast to their declared types with `enforce_schema`."""
    quoted = [platform.quote_exact(name) for name in names]
    if str(asset.parameters.get("enforce_schema", "")).lower() != "true":
        return quoted
    declared = {column.name.lower(): column.type for column in asset.columns if column.type}
    return [f"CAST({sql} AS {platform_type(declared[name.lower()], platform.column_types)}) AS {sql}"
            if name.lower() in declared else sql for name, sql in zip(names, quoted, strict=True)]  # fmt: skip


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


@contextmanager
def _session(databases: Databases, connection: Connection, cancellation: Cancellation | None) -> Iterator[Session]:
    """A session whose running statement `cancellation` cancels (the task's timeout, an interrupted run)."""
    with (
        databases.session(connection) as session,
        cancellation.on_cancel(partial(_cancel, session)) if cancellation else nullcontext(),
    ):
        yield session


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


def run_seed_asset(
    asset: Asset, connection: Connection, databases: Databases, *, schema_prefix: str,
    cancellation: Cancellation | None = None,
) -> None:  # fmt: skip
    """Load the seed's CSV into the table named after the asset, replacing it; failures name the asset."""
    try:
        platform = _platform(asset, connection)
        target = platform.target(asset.name, connection, schema_prefix)
        seed = seed_of(asset)
        with _session(databases, connection, cancellation) as session:
            try:
                platform.load_seed(session, target, seed)
            except BruinError as exc:
                session.rollback()
                raise BruinError(f"cannot load {seed.path.name}: {exc}") from None
    except BruinError as exc:
        raise BruinError(f"asset '{asset.name}': {exc}") from None


def _prepared(
    asset: Asset,
    rendered_sql: str,
    connection: Connection | None,
    schema_prefix: str,
    full_refresh: bool,
    interval: tuple[str, str],
) -> tuple[Materializing | None, str]:
    """The asset's materialization (None without one) and the script it runs, hooks aside."""
    plan = materializing(asset, rendered_sql, connection, schema_prefix=schema_prefix,
                         full_refresh=full_refresh, interval=interval)  # fmt: skip
    return plan, _without_headers(rendered_sql) if plan is None else plan.script()


def _execute(session: Session, script: str) -> None:
    try:
        session.execute(script)
    except BruinError:
        session.rollback()
        raise


def _without_headers(sql: str) -> str:
    """The SQL without `/* @bruin ... @bruin */` blocks, as upstream runs SQL that has no materialization."""
    return _BRUIN_COMMENT.sub("", sql) if "@bruin" in sql else sql


def _platform(asset: Asset, connection: Connection | None) -> Platform:
    platform = platform_for_asset_type(asset.type)
    if platform is None:
        raise BruinError(f"'{asset.type}' assets cannot run; SQL asset types: {', '.join(SQL_ASSET_TYPES)}")
    if connection is not None and connection.type_key not in platform.connection_types:
        raise BruinError(
            f"connection '{connection.name}' is a {connection.type_key} connection, "
            f"but '{asset.type}' assets need a {' or '.join(platform.connection_types)} connection"
        )
    return platform


def _cancel(session: Session) -> None:
    """Cancel from another thread; a driver that cannot is left to finish, the asset fails all the same."""
    with suppress(BruinError):
        session.cancel()
