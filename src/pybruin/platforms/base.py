"""What every SQL platform provides, and the run-scoped handles its databases hand out.

A `Platform` is stateless: it names itself, the connection types and SQL asset types it serves,
turns an asset name into a `Target`, holds its materialization strategies as a table, scrubs
driver messages and checks connections. `Platform.open` gives a `Database`, which lives for one
run and lends out `Session`s, one per asset at a time. A platform module implements the abstract
parts; `pybruin.platforms.ansi` holds the SQL that ANSI databases share.
"""

from __future__ import annotations

import abc
import importlib
import re
import threading
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from pybruin.errors import BruinError
from pybruin.masking import Masker, hide_url_userinfo
from pybruin.pipeline.checks import value_problem
from pybruin.pipeline.materialization import Materialization
from pybruin.platforms.checks import CheckQuery
from pybruin.records import Record

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.pipeline.model import Column, ColumnCheck, CustomCheck
    from pybruin.pipeline.seeds import Seed

_T = TypeVar("_T")

ColumnCheckSql = Callable[["Platform", "CheckedColumn"], CheckQuery]
"""Builds the query of one built-in column check."""

_PATH_PART = re.compile(r'"(?:[^"]|"")*"|[^.]+')
_PASSWORD_SETTING = re.compile(r"""(?i)\b(password|passwd|pwd)(\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s,;&]+)""")


class Target(Record):
    """Where a materialised asset lives: (catalog,) schema and table as named, and as quoted in SQL.

    `bare` is set when the asset's name has no schema and no prefix applies: SQL then names the table
    alone, as the user's own SQL does.
    """

    parts: tuple[str, ...]
    quoted: tuple[str, ...]
    bare: bool = False

    @property
    def container(self) -> str:
        """The quoted (catalog.)schema."""
        return ".".join(self.quoted[:-1])

    @property
    def table(self) -> str:
        return self.quoted[-1]

    @property
    def qualified(self) -> str:
        return ".".join(self.quoted)

    @property
    def reference(self) -> str:
        """How strategies name the target in SQL."""
        return self.table if self.bare else self.qualified


def prefixed_name(name: str, schema_prefix: str) -> str:
    """A `schema.table` name with the environment's prefix on its schema part, as upstream prefixes asset
    names (`this`) and the tables their columns reference; names without a schema stay as they are."""
    parts = name.split(".")
    if schema_prefix and len(parts) >= 2:
        parts[-2] = schema_prefix + parts[-2]
    return ".".join(parts)


class Build(Record):
    """What a strategy turns into SQL: the target, the asset's rendered query, its materialization and
    declared columns, and the run's interval (for `time_interval`)."""

    target: Target
    query: str
    materialization: Materialization
    columns: tuple[Column, ...] = ()
    asset_type: str = ""
    interval: tuple[str, str] = ("", "")
    #: quotes one identifier part (a column) the way the platform quotes names
    quote: Callable[[str], str] = str
    #: the environment's schema prefix, for the tables a `ddl` foreign key references
    schema_prefix: str = ""

    def column(self, name: str) -> Column | None:
        """The declared column called `name`."""
        return next((column for column in self.columns if column.name == name), None)


Strategy = Callable[[Build], str]
"""The script (one or more statements, run as one) that builds the target from a `Build`."""


class CheckedColumn(Record):
    """What a column check is about: the asset's table, the column and its check as declared, and for a
    `relationships` check the table the column's foreign key references."""

    table: Target
    column: Column
    check: ColumnCheck
    reference: Target | None = None


class Platform(abc.ABC):
    """One SQL platform: identity, naming, materializations, quality checks, error scrubbing, connection checks."""

    name: ClassVar[str]
    """The platform's name, e.g. ``duckdb``."""
    connection_types: ClassVar[tuple[str, ...]]
    """The connection type keys it runs on; the first is the one its default connection name belongs to."""
    asset_types: ClassVar[tuple[str, ...]]
    """The SQL asset types it runs, e.g. ``duckdb.sql``."""
    strategies: ClassVar[Mapping[str, Mapping[str, Strategy]]]
    """Materialization type -> strategy name -> how to build it; ``""`` is the strategy when none is set."""
    column_checks: ClassVar[Mapping[str, ColumnCheckSql]]
    """Built-in column check name -> how to query it (`pybruin.pipeline.checks.COLUMN_CHECKS` names them)."""
    rebuilds: ClassVar[Mapping[str, Strategy]]
    """Incremental table strategy -> how its table is built from scratch: on `--full-refresh`, and when
    the table does not exist yet. Strategies not listed (create+replace, ddl) are never replaced."""
    seed_types: ClassVar[tuple[str, ...]] = ()
    """The seed asset types it loads, e.g. ``duckdb.seed``."""
    column_types: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """How it names each kind of declared column type (`pybruin.platforms.seeding`), for seeds and for the data
    of Python assets; empty: declared types are given to the database as written."""
    python_data: ClassVar[bool] = False
    """Whether it holds the data a Python asset's `materialize()` returns: its `Database` stages Arrow tables
    (`Session.staged`) and it implements `table_columns`."""

    @abc.abstractmethod
    def default_schema(self, connection: Connection | None) -> str:
        """The schema an unqualified asset name lives in (None: the connection is not known, as in
        `bruin render`)."""

    @abc.abstractmethod
    def quote_identifier(self, part: str) -> str:
        """One name part as it appears in SQL."""

    @abc.abstractmethod
    def literal(self, text: str) -> str:
        """A SQL string literal holding `text` exactly, whatever characters it has."""

    def quote_exact(self, name: str) -> str:
        """A name exactly as written, whatever its case: a column of the data a Python asset returned."""
        return '"' + name.replace('"', '""') + '"'

    def quote_column(self, name: str) -> str:
        """A column as declared, which may be a dotted path into nested fields (`payload.id`): each part
        quoted, except parts the user wrote in double quotes already."""
        parts = _PATH_PART.findall(name)
        return ".".join(part if len(part) > 1 and part[0] == part[-1] == '"' else self.quote_identifier(part.strip())
                        for part in parts)  # fmt: skip

    def column_check_query(
        self, table: Target, column: Column, check: ColumnCheck, reference: Target | None = None
    ) -> CheckQuery:
        """The query of a built-in column check on `table` (`reference`: what a `relationships` check's
        foreign key points to); a BruinError (upstream's text) for a value the check cannot use."""
        problem = value_problem(check)
        if problem:
            raise BruinError(problem)
        build = self.column_checks.get(check.name)
        if build is None:
            raise BruinError(f"there is no executor configured for the check type, check cannot be run: {check.name}")
        return build(self, CheckedColumn(table, column, check, reference))

    def custom_check_query(self, check: CustomCheck, rendered: str) -> CheckQuery:
        """A custom check's rendered query; with `count`, the number of rows it returns is what is compared."""
        sql = rendered if check.count is None else f"SELECT count(*) FROM ({select_body(rendered)}) AS t"
        expected = check.expected
        return CheckQuery(
            check.name, sql, expected,
            lambda value: f"custom check '{check.name}' has returned {value} instead of the expected {expected}",
        )  # fmt: skip

    @abc.abstractmethod
    def open(self, connection: Connection) -> Database:
        """The run-scoped handle on the connection's database; imports the driver, connects lazily."""

    def database_key(self, connection: Connection) -> Hashable:
        """What identifies the database behind `connection`: connections with the same key share one handle."""
        return connection.name

    def target(self, asset_name: str, connection: Connection | None, schema_prefix: str) -> Target:
        """`table`, `schema.table` or `catalog.schema.table`, with the environment's prefix on the schema.

        An unqualified name lives in the default schema, which is prefixed as well, so a prefixed
        environment never writes into the unprefixed schemas. (Upstream Bruin leaves it unprefixed.)
        """
        parts = asset_name.split(".")
        if len(parts) > 3 or not all(parts):
            raise BruinError("the asset name must be table, schema.table or catalog.schema.table to materialize")
        bare = len(parts) == 1 and not schema_prefix
        if len(parts) == 1:
            parts.insert(0, self.default_schema(connection))
        parts[-2] = schema_prefix + parts[-2]
        return Target(tuple(parts), tuple(map(self.quote_identifier, parts)), bare)

    def strategy(self, materialization: Mapping[str, object]) -> Strategy | None:
        """The strategy for an asset's `materialization` header; None when it sets no type (the SQL
        then runs as written). Unknown types and strategies are errors."""
        kind = str(materialization.get("type") or "").lower()
        name = str(materialization.get("strategy") or "").lower()
        if kind == "":
            return None
        by_name = self.strategies.get(kind)
        if by_name is None:
            raise BruinError(f"unknown materialization type '{kind}'; use {_alternatives(list(self.strategies))}")
        strategy = by_name.get(name)
        if strategy is None:
            named = [strategy_name for strategy_name in by_name if strategy_name]
            advice = f"; use {_alternatives(named)}" if named else f" for {kind}s"
            raise BruinError(f"materialization strategy '{name}' is not supported{advice}")
        return strategy

    def script(self, build: Build, *, rebuild: bool) -> str:
        """The SQL that materializes `build`: its strategy's, or with `rebuild` (a full refresh, or a
        missing table) the strategy's rebuild. Errors are BruinErrors in upstream's words."""
        mat = build.materialization
        strategy = self.strategy({"type": mat.type, "strategy": mat.strategy})
        if strategy is None:
            raise BruinError("the asset has no materialization")
        if rebuild and mat.type == "table":
            strategy = self.rebuilds.get(mat.table_strategy, strategy)
        return strategy(build)

    @abc.abstractmethod
    def ensure_schema(self, session: Session, target: Target) -> None:
        """Make sure the target's schema exists before its strategy's script runs (once per run)."""

    @abc.abstractmethod
    def tables(self, session: Session) -> TableLookup:
        """What tells whether a target's table exists (an incremental strategy's first run rebuilds it)."""

    def table_columns(self, session: Session, target: Target) -> list[str]:
        """The target table's columns in their order, empty when there is no such table (platforms with
        `python_data`: a Python asset's data goes into an existing table by column name)."""
        raise BruinError(f"pybruin cannot load data returned by materialize() into {self.name} yet")

    def load_seed(self, session: Session, target: Target, seed: Seed) -> None:
        """Replace the target table with the seed's rows; only platforms with `seed_types` implement it."""
        raise BruinError(f"{self.name} cannot load seed files")

    def scrub(self, message: str, connection: Connection) -> str:
        """The first line of a driver message with every credential of `connection` masked."""
        first_line = next((line.strip() for line in message.splitlines() if line.strip()), "unknown error")
        masked = Masker(connection.sensitive_values()).mask(first_line)
        masked = _PASSWORD_SETTING.sub(r"\1\2****", masked)
        return hide_url_userinfo(masked, keep_user=False)

    def column_type(self, type_code: object) -> str:
        """A result column's type as `bruin query` names it, from the driver's `cursor.description`."""
        return str(type_code)

    def ping(self, connection: Connection) -> None:
        """Open the database and run ``SELECT 1`` the way a run would; a BruinError when that fails."""
        database = self.open(connection)
        try:
            with database.session() as session:
                session.query("SELECT 1")
        finally:
            database.close()


class TableLookup(Protocol):
    """Whether a target's table exists, and noting one the run has built."""

    def exists(self, session: Session, target: Target) -> bool: ...

    def add(self, session: Session, target: Target) -> None: ...


class AskEachTime(Record):
    """A `TableLookup` that asks the database every time (for platforms without a cheap listing)."""

    check: Callable[[Session, Target], bool]

    def exists(self, session: Session, target: Target) -> bool:
        return self.check(session, target)

    def add(self, session: Session, target: Target) -> None:
        """Nothing to note: the next question asks again."""


class Database(abc.ABC):
    """One database opened for one run, lending sessions to the assets that use it.

    A platform module implements the hooks: `_acquire` a driver handle for a session, `_release`
    it afterwards (`reusable` is False once the session was cancelled, so a late cancel request
    cannot reach the next session), `_interrupt` the statement running on a handle (called from
    another thread), and `close`. `_run` executes one script on a handle; the default suits
    drivers whose handle has ``execute(sql, params)`` returning something with ``fetchall()``.
    """

    session_class: ClassVar[type[Session]]
    """The sessions it lends: `Session`, or a subclass adding what a platform's strategies need beyond SQL."""

    def __init__(self, platform: Platform, connection: Connection, *, driver_error: type[Exception]) -> None:
        self.platform = platform
        self.connection = connection
        self.driver_error = driver_error
        self._setup_lock = threading.Lock()
        self._done: set[str] = set()
        self._shared: dict[str, Any] = {}

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session on its own driver handle; thread-safe."""
        handle = self._acquire()
        session = self.session_class(self, handle)
        try:
            yield session
        finally:
            self._release(handle, reusable=session._end())

    def release_idle(self) -> None:  # noqa: B027 - only file databases hold anything worth releasing
        """Let other processes open the database while no session uses it."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close every idle handle; the run is over."""

    def error(self, exc: Exception) -> BruinError:
        """A driver exception as a one-line error with the connection's credentials masked."""
        return BruinError(self.platform.scrub(str(exc), self.connection))

    def once(self, key: str, setup: Callable[[], None]) -> None:
        """Run `setup` the first time `key` comes up for this database, one caller at a time."""
        with self._setup_lock:
            if key not in self._done:
                setup()
                self._done.add(key)

    def shared(self, key: str, factory: Callable[[], _T]) -> _T:
        """A run-scoped object of this database (a cache), made by `factory` the first time `key` comes up."""
        with self._setup_lock:
            if key not in self._shared:
                self._shared[key] = factory()
            return self._shared[key]

    @abc.abstractmethod
    def _acquire(self) -> Any: ...

    @abc.abstractmethod
    def _release(self, handle: Any, *, reusable: bool) -> None: ...

    @abc.abstractmethod
    def _interrupt(self, handle: Any) -> None: ...

    def _run(self, handle: Any, sql: str, params: Sequence[object] | None, *, fetch: bool) -> list[tuple]:
        result = handle.execute(sql, params)
        return result.fetchall() if fetch else []

    def _fetch(self, handle: Any, sql: str) -> Result:
        """One statement's columns (name and type) and rows; no columns for a statement without a result.
        The default suits DB-API-like handles whose ``execute`` returns a cursor."""
        cursor = handle.execute(sql)
        description = getattr(cursor, "description", None) or []
        columns = tuple((str(item[0]), self.platform.column_type(item[1])) for item in description)
        return Result(columns, cursor.fetchall() if columns else [])

    def _dry_run(self, handle: Any, sql: str) -> DryRun:
        """What the database says about a query without running it: by default its `EXPLAIN` plan."""
        return DryRun(plan=self._fetch(handle, f"EXPLAIN {sql}"))


class Result(Record):
    """What a query returned: `(name, type)` per column, and the rows."""

    columns: tuple[tuple[str, str], ...]
    rows: list[tuple]


class DryRun(Record):
    """A query checked without running it (`bruin query --dry-run`): an `EXPLAIN` plan, or what an estimating
    database reports (BigQuery: bytes to process and their on-demand price, statement type, tables read,
    result schema)."""

    plan: Result | None = None
    bytes_processed: int = 0
    estimated_cost_usd: float = 0.0
    statement_type: str = ""
    referenced_tables: tuple[str, ...] = ()
    schema: tuple[tuple[str, str], ...] = ()
    def _copy(self, handle: Any, statement: str, chunks: Iterable[bytes]) -> None:
        raise BruinError(f"{self.platform.name} has no COPY FROM STDIN")

    def _stage(self, handle: Any, name: str, data: Any, target: Target) -> str:
        """Make an Arrow table readable in the handle's session under `name` (a temporary table, or a view on
        the data), next to `target` where the platform needs a schema for it; what SQL calls it. Platforms
        with `python_data` implement it."""
        raise BruinError(f"pybruin cannot load data returned by materialize() into {self.platform.name} yet")

    def _unstage(self, handle: Any, reference: str) -> None:
        """Forget what `_stage` made."""


class Session:
    """One asset's use of a database: scripts, queries and transactions on one driver handle.

    `cancel` may be called from any thread: it interrupts the statement running now and refuses
    every later one, so an open transaction rolls back. (A cancel that lands in the instant before
    the driver starts a statement cannot stop that statement; the next one is refused.)
    """

    def __init__(self, database: Database, handle: Any) -> None:
        self._database = database
        self._handle = handle
        self._lock = threading.Lock()
        self._running = False
        self._cancelled = False

    def execute(self, script: str) -> None:
        """Run a script of one or more statements."""
        self._run(script, None, fetch=False)

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        """Run one statement and return its rows; `params` use the driver's placeholders."""
        return self._run(sql, params, fetch=True)

    def fetch(self, sql: str) -> Result:
        """Run one statement and return its columns and rows (`bruin query`)."""
        return self._guarded(lambda: self._database._fetch(self._handle, sql))

    def dry_run(self, sql: str) -> DryRun:
        """Check one statement without running it (`bruin query --dry-run`)."""
        return self._guarded(lambda: self._database._dry_run(self._handle, sql))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all."""
        self.execute("BEGIN")
        try:
            yield
            self.execute("COMMIT")
        except BaseException:
            self.rollback()  # a broken connection rolls back on the server anyway
            raise

    def once(self, key: str, setup: Callable[[Session], None]) -> None:
        """Run `setup` the first time `key` comes up for this database in this run, one caller at a
        time: for idempotent setup, such as creating a schema, that parallel assets would race on."""
        self._database.once(key, lambda: setup(self))

    def shared(self, key: str, factory: Callable[[], _T]) -> _T:
        """See `Database.shared`."""
        return self._database.shared(key, factory)

    @contextmanager
    def staged(self, data: Any, target: Target) -> Iterator[str]:
        """An Arrow table (what a Python asset's `materialize()` returned, on its way into `target`) readable
        by this session's queries only, under the name this yields, and gone afterwards."""
        name = f"__pybruin_data_{uuid.uuid4().hex[:12]}"
        reference = self._guarded(lambda: self._database._stage(self._handle, name, data, target))
        try:
            yield reference
        finally:
            with suppress(BruinError):  # a cancelled session refuses this; its handle is discarded anyway
                self._guarded(lambda: self._database._unstage(self._handle, reference))

    def cancel(self) -> None:
        """Interrupt the running statement and refuse later ones; safe from any thread, idempotent."""
        with self._lock:
            self._cancelled = True
            if self._running:
                try:
                    self._database._interrupt(self._handle)
                except self._database.driver_error as exc:
                    raise self._database.error(exc) from None

    def copy(self, statement: str, chunks: Iterable[bytes]) -> None:
        """Stream `chunks` into a ``COPY ... FROM STDIN`` statement (databases that have it)."""
        self._guarded(lambda: self._database._copy(self._handle, statement, chunks))

    def rollback(self) -> None:
        """End whatever transaction a failed script left open; a no-op when none is."""
        with suppress(self._database.driver_error, BruinError):
            self._database._run(self._handle, "ROLLBACK", None, fetch=False)

    def _run(self, sql: str, params: Sequence[object] | None, *, fetch: bool) -> list[tuple]:
        return self._guarded(lambda: self._database._run(self._handle, sql, params, fetch=fetch))

    def _guarded(self, call: Callable[[], _T]) -> _T:
        """`call` on the handle: refused once cancelled, interruptible meanwhile, driver errors scrubbed."""
        with self._lock:
            if self._cancelled:
                raise BruinError("cancelled")
            self._running = True
        try:
            return call()
        except self._database.driver_error as exc:
            raise (BruinError("cancelled") if self._cancelled else self._database.error(exc)) from None
        finally:
            with self._lock:
                self._running = False

    def _end(self) -> bool:
        """Mark the session over; whether its handle may serve another session."""
        with self._lock:
            return not self._cancelled


Database.session_class = Session


def import_driver(module: str, *, package: str, extra: str) -> Any:
    """Import a platform's driver when a database is first opened; a missing one is a BruinError saying
    which package to install, not a traceback."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise BruinError(
            f"the Python package '{package}' is not installed; install it with pip install 'pybruin[{extra}]'"
        ) from None


def select_body(sql: str) -> str:
    """The query without trailing semicolons, ending in a newline so a trailing `--` comment stays closed."""
    body = sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return body + "\n"


def _alternatives(names: Sequence[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return " or ".join(filter(None, (", ".join(names[:-1]), names[-1])))
