"""BigQuery (`bq.sql`) on `google_cloud_platform` connections, via `google-cloud-bigquery`.

Names are `dataset.table` (in the connection's `project_id`) or `project.dataset.table`; BigQuery has no
default dataset, so a one-part name cannot be materialized. Parts that are not plain names are quoted with
backticks (project ids with hyphens). Credentials follow upstream's order: `use_application_default_credentials`
(the environment's Application Default Credentials), else `service_account_json`, else
`service_account_file`, else `access_token`. Service accounts sign their own JWTs (no token exchange first).

Every statement or script is one query job in the connection's `location`. `CREATE OR REPLACE TABLE` is
atomic in BigQuery, so `create+replace` is one statement: readers see the old table or the new one, and a
failed build leaves the old table in place; so is every rebuild (SCD2's partitioned by `_valid_from` and
clustered as upstream's). `merge` is one MERGE (NULL keys match, as upstream); the other strategies are one
script with a transaction (`COMMIT TRANSACTION`), which BigQuery rolls back when a statement fails. SCD2 closes
and inserts versions with UPDATE and INSERT statements (upstream: a MERGE ... WHEN NOT MATCHED BY SOURCE), at
one moment per run kept in a temporary table. A missing dataset is created through the API (as upstream does),
which spares accounts that may use a dataset but not create datasets. `max_billable_bytes` caps every job;
with it or `max_query_cost` set, each statement is first dry-run and refused, unrun, when its estimate is over
(upstream's check and message). The `*_soft` limits belong to `bruin query`, not to runs.

Cancelling asks BigQuery to cancel the running job and stops waiting for it at once. BigQuery cancels on a
best-effort basis: a job that was about to finish may still complete.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from pybruin.config.connections.files import read_for_injection, read_for_masking
from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.platforms.ansi import (
    COLUMN_CHECKS,
    DdlStyle,
    Scd2Style,
    Transaction,
    counted,
    ddl_table,
    declared_key_type,
    merge_statement,
    one_query_tables,
    select_body,
)
from pybruin.platforms.arrow_data import decoded
from pybruin.platforms.base import (
    AskEachTime,
    Build,
    ColumnCheckSql,
    Database,
    DryRun,
    Platform,
    Result,
    Session,
    Strategy,
    TableLookup,
    Target,
    import_driver,
)
from pybruin.platforms.pool import PooledDatabase
from pybruin.platforms.seeding import cast_columns, load_via_scratch, seed_data
from pybruin.records import Record, field

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.pipeline.seeds import Seed

SCOPES = (
    "https://www.googleapis.com/auth/bigquery",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/drive",
)
ON_DEMAND_USD_PER_TB = 5.0  # upstream's estimate
POLL_SECONDS = 0.5  # how often a waiting statement looks for a cancel
API_DEADLINE_SECONDS = 120.0  # retries of one API call (an unreachable endpoint, a 5xx) stop after this
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: How BigQuery names each kind of declared seed column type (sizes and precisions are not kept: `load_seed`).
SEED_TYPES = MappingProxyType({
    "smallint": "INT64", "int": "INT64", "bigint": "INT64", "double": "FLOAT64", "decimal": "NUMERIC",
    "binary": "BYTES", "bool": "BOOL", "date": "DATE", "time": "TIME", "timestamp": "TIMESTAMP",
    "timestamp_ntz": "DATETIME", "interval": "INTERVAL", "text": "STRING", "json": "JSON",
})  # fmt: skip


class BigQueryError(Exception):
    """Any failure of the client library (API, auth, transport), as the one error type sessions catch."""


class BigQuerySession(Session):
    """A session that can also make sure a dataset exists and ask whether a table does, through the API."""

    def ensure_dataset(self, target: Target) -> None:
        """Create the target's dataset unless it exists, once per run."""
        database: BigQueryDatabase = self._database  # type: ignore[assignment]
        project, dataset = database.dataset_of(target)
        ensure = partial(self._call, database.ensure_dataset, self._handle, project, dataset)
        self.once(f"dataset {project}.{dataset}", lambda _: ensure())

    def table_exists(self, target: Target) -> bool:
        database: BigQueryDatabase = self._database  # type: ignore[assignment]
        return self._call(database.table_exists, self._handle, target)

    def table_columns(self, target: Target) -> list[str]:
        database: BigQueryDatabase = self._database  # type: ignore[assignment]
        return self._call(database.table_columns, self._handle, target)

    def _call(self, method: Any, *args: object) -> Any:
        try:
            return method(*args)
        except BigQueryError as exc:
            raise self._database.error(exc) from None


def replace_table(build: Build) -> str:
    """One atomic statement: BigQuery swaps the table in when the query has finished."""
    return f"CREATE OR REPLACE TABLE {build.target.qualified} AS\n{select_body(build.query)}"


#: BigQuery's COMMIT TRANSACTION; temporary tables live in the script, so the defaults serve otherwise.
TRANSACTION = Transaction(commit="COMMIT TRANSACTION")
#: What SCD2 closes rows at: one moment per script, kept in a temporary table (a DECLARE would have to come
#: before any pre hook).
_NOW_TABLE = "__bruin_scd2_now"


def _null_safe(key: str) -> str:
    """Upstream's key match on BigQuery: NULL keys match each other."""
    return f"(source.{key} = target.{key} OR (source.{key} IS NULL AND target.{key} IS NULL))"


def ddl(build: Build) -> str:
    style = DdlStyle(indent="  ", lower_keys=False, collation=_literal, constraint_suffix=" NOT ENFORCED",
                     comment=lambda text: f" OPTIONS(description={_literal(text)})")  # fmt: skip
    return ddl_table(build, style)


def _rebuild_scd2(build: Build, select: str) -> str:
    """One atomic statement, partitioned and clustered as upstream's (BigQuery clusters by at most four
    columns)."""
    clustered = ["_is_current", *(build.quote(column.name) for column in build.columns if column.primary_key)][:4]
    return (f"CREATE OR REPLACE TABLE {build.target.qualified}\nPARTITION BY DATE(_valid_from)\n"
            f"CLUSTER BY {', '.join(clustered)} AS\n{select}")  # fmt: skip


def _key_type(build: Build, strategy: str) -> str:
    return declared_key_type(build, strategy, lambda kind: kind in ("timestamp", "date"))


_SCD2 = Scd2Style(
    transaction=TRANSACTION, rebuild=_rebuild_scd2, key_type=_key_type,
    moment=lambda expression, _kind: f"CAST({expression} AS TIMESTAMP)", forever="TIMESTAMP('9999-12-31')",
    opened="CURRENT_TIMESTAMP()", now=f"(SELECT now FROM {_NOW_TABLE})",
    setup=(f"CREATE TEMP TABLE {_NOW_TABLE} AS SELECT CURRENT_TIMESTAMP() AS now",),
)  # fmt: skip
_MERGE = partial(merge_statement, match=_null_safe, source_values=True)
STRATEGIES, REBUILDS = one_query_tables(replace_table, TRANSACTION, _MERGE, ddl, _SCD2)

#: Upstream's BigQuery checks, but `pattern` counts the values that do *not* match, as documented (upstream
#: counts the matching ones).
CHECKS: Mapping[str, ColumnCheckSql] = MappingProxyType({
    **COLUMN_CHECKS,
    "accepted_values": counted("CAST({c} as STRING) NOT IN ({v})",
                               "column {c} has {n} rows that are not in the accepted values"),
    "pattern": counted("NOT REGEXP_CONTAINS({c}, {v})",
                       "column {c} has {n} values that don't satisfy the pattern {v}"),
})  # fmt: skip
_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r"})
#: What `enforce_schema` casts each kind of declared type to: GoogleSQL's names.
CAST_TYPES: Mapping[str, str] = MappingProxyType({
    "smallint": "INT64", "int": "INT64", "bigint": "INT64", "double": "FLOAT64", "decimal": "NUMERIC",
    "decimal()": "NUMERIC({})", "binary": "BYTES", "bool": "BOOL", "date": "DATE", "time": "TIME",
    "timestamp": "TIMESTAMP", "timestamp_ntz": "DATETIME", "interval": "INTERVAL", "text": "STRING", "json": "JSON",
})  # fmt: skip
#: How long a staged Python asset's data outlives a run that died before dropping it.
STAGED_DATA_EXPIRY = 86_400


class BigQueryPlatform(Platform):
    name = "bigquery"
    connection_types = ("google_cloud_platform",)
    asset_types = ("bq.sql",)
    seed_types = ("bq.seed",)
    strategies: ClassVar[Mapping[str, Mapping[str, Strategy]]] = STRATEGIES
    rebuilds: ClassVar[Mapping[str, Strategy]] = REBUILDS
    column_checks: ClassVar[Mapping[str, ColumnCheckSql]] = CHECKS
    column_types: ClassVar[Mapping[str, str]] = CAST_TYPES
    python_data = True

    def ensure_schema(self, session: Session, target: Target) -> None:
        _session(session).ensure_dataset(target)

    def tables(self, session: Session) -> TableLookup:
        return AskEachTime(lambda session, target: _session(session).table_exists(target))

    def table_columns(self, session: Session, target: Target) -> list[str]:
        return _session(session).table_columns(target)

    def quote_exact(self, name: str) -> str:
        """Column names are case-insensitive: quoted only when they are not plain."""
        return self.quote_identifier(name)

    def literal(self, text: str) -> str:
        return _literal(text)

    def load_seed(self, session: Session, target: Target, seed: Seed) -> None:
        """The CSV's values as text into a staging table (which expires after a day, should a crash leave it) by
        multi-row INSERTs of bound values, then the table made from it in one atomic `CREATE OR REPLACE TABLE ...
        AS SELECT`, each column cast to its type (declared, else inferred from the values; JSON parsed). A failed
        load leaves the old table. Types keep no parameters (`STRING(50)` is STRING): a cast takes none, and a
        column list would make the replacement non-atomic on the emulator."""
        data = seed_data(seed, SEED_TYPES)
        columns = [self.quote_identifier(name) for name in data.header]
        scratch = f"{target.container}.__pybruin_seed_{uuid.uuid4().hex[:12]}"
        _session(session).ensure_dataset(target)
        load_via_scratch(
            session, scratch=scratch, columns=columns, records=data.records, placeholder="?",
            create=f"CREATE TABLE {scratch} ({', '.join(f'{column} STRING' for column in columns)}) "
                   "OPTIONS(expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY))",
            build=f"CREATE OR REPLACE TABLE {target.qualified} AS SELECT "
                  f"{cast_columns(columns, data.types, SEED_TYPES['json'], _unparameterized)} FROM {scratch}",
        )  # fmt: skip

    def default_schema(self, connection: Connection | None) -> str:
        raise BruinError("the asset name must be dataset.table or project.dataset.table to materialize on BigQuery")

    def quote_identifier(self, part: str) -> str:
        return part if _PLAIN.match(part) else "`" + part.replace("\\", "\\\\").replace("`", "\\`") + "`"

    def scrub(self, message: str, connection: Connection) -> str:
        """The shared rules, and the service account's identity: Google's errors name the account."""
        identity = [value for key in ("client_email", "private_key_id", "client_id")
                    if isinstance(value := _service_account(connection).get(key), str) and value]  # fmt: skip
        return Masker(identity).mask(super().scrub(message, connection))

    def open(self, connection: Connection) -> Database:
        return BigQueryDatabase(self, connection)


class _Handle(Record, frozen=False):
    """A client, the job running on it now, and whether a cancel came (then it is not lent again)."""

    client: Any
    job: Any = None
    cancelled: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class BigQueryDatabase(PooledDatabase):
    """A pool of clients, one per concurrent session, on the connection's project and credentials."""

    session_class = BigQuerySession

    def __init__(self, platform: BigQueryPlatform, connection: Connection) -> None:
        self._bigquery = import_driver("google.cloud.bigquery", package="google-cloud-bigquery", extra="bigquery")
        super().__init__(platform, connection, driver_error=BigQueryError)
        self._credentials: Any = None
        self._credentials_lock = threading.Lock()

    def error(self, exc: Exception) -> BruinError:
        return BruinError(self.platform.scrub(str(exc), self.connection))

    def dataset_of(self, target: Target) -> tuple[str, str]:
        """The (project, dataset) a target lives in."""
        return (target.parts[0] if len(target.parts) == 3 else self._project(), target.parts[-2])

    def ensure_dataset(self, handle: _Handle, project: str, dataset: str) -> None:
        from google.api_core.exceptions import NotFound

        reference = self._bigquery.DatasetReference(project, dataset)
        with _translated():
            try:
                handle.client.get_dataset(reference, retry=self._retry())
            except NotFound:
                created = self._bigquery.Dataset(reference)
                created.location = self.connection.location or None
                handle.client.create_dataset(created, exists_ok=True, retry=self._retry())

    def table_exists(self, handle: _Handle, target: Target) -> bool:
        from google.api_core.exceptions import NotFound

        project, dataset = self.dataset_of(target)
        with _translated():
            try:
                handle.client.get_table(f"{project}.{dataset}.{target.parts[-1]}", retry=self._retry())
            except NotFound:
                return False
        return True

    def table_columns(self, handle: _Handle, target: Target) -> list[str]:
        from google.api_core.exceptions import NotFound

        project, dataset = self.dataset_of(target)
        with _translated():
            try:
                table = handle.client.get_table(f"{project}.{dataset}.{target.parts[-1]}", retry=self._retry())
            except NotFound:
                return []
        return [field.name for field in table.schema]

    def _stage(self, handle: _Handle, name: str, data: Any, target: Target) -> str:
        """A table of its own in the target's dataset (BigQuery has temporary tables only inside a script or a
        session), filled by a load job from Parquet written in memory; should the run die before dropping it,
        it expires a day later."""
        import datetime
        import io

        import pyarrow as pa
        import pyarrow.parquet as parquet

        project, dataset = self.dataset_of(target)
        table_id = f"{project}.{dataset}.{name}"
        sink = pa.BufferOutputStream()
        parquet.write_table(decoded(data), sink)
        bq = self._bigquery
        config = bq.LoadJobConfig(source_format=bq.SourceFormat.PARQUET)
        with _translated():
            job = handle.client.load_table_from_file(io.BytesIO(sink.getvalue()), table_id, job_config=config)
            self._finish(handle, job)
            staged = bq.Table(table_id)
            staged.expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=STAGED_DATA_EXPIRY)
            handle.client.update_table(staged, ["expires"], retry=self._retry())
        return f"`{table_id}`"

    def _unstage(self, handle: _Handle, reference: str) -> None:
        with _translated():
            handle.client.delete_table(reference.strip("`"), not_found_ok=True, retry=self._retry())

    def _connect(self) -> _Handle:
        c = self.connection
        try:
            with _translated():
                client = self._bigquery.Client(
                    project=self._project(), credentials=self._shared_credentials(), location=c.location or None
                )
        except BigQueryError as exc:
            raise BruinError(
                f"could not connect to google_cloud_platform connection '{c.name}': {self.error(exc)}"
            ) from None
        return _Handle(client)

    def _reusable(self, handle: _Handle) -> bool:
        return not handle.cancelled

    def _close(self, handle: _Handle) -> None:
        handle.client.close()

    def _interrupt(self, handle: _Handle) -> None:
        with handle.lock:
            handle.cancelled = True
            job = handle.job
        if job is not None:
            with _translated():
                job.cancel(retry=self._retry())

    def _run(self, handle: _Handle, sql: str, params: Sequence[object] | None, *, fetch: bool) -> list[tuple]:
        if sql.strip().upper() == "ROLLBACK":
            return []  # a transaction lives inside one script's job, which rolls it back when it fails
        rows = self._job_rows(handle, sql, params)
        return [tuple(row.values()) for row in rows] if fetch else []

    def _fetch(self, handle: _Handle, sql: str) -> Result:
        """The result's schema (types as BigQuery names them: `INTEGER`, `STRING`, ...) and rows; a statement
        without a result (DDL, DML) has no schema."""
        rows = self._job_rows(handle, sql, None)
        columns = tuple((field.name, field.field_type) for field in rows.schema or ())
        return Result(columns, [tuple(row.values()) for row in rows] if columns else [])

    def _dry_run(self, handle: _Handle, sql: str) -> DryRun:
        """BigQuery's own dry run, as upstream's: the bytes the query would process, its statement type, the
        tables it reads and its result's schema (nothing runs, nothing is billed)."""
        config = self._bigquery.QueryJobConfig(dry_run=True, use_query_cache=False)
        with _translated():
            job = handle.client.query(sql, job_config=config, retry=self._retry(), job_retry=None)
        processed = job.total_bytes_processed or 0
        return DryRun(
            bytes_processed=processed,
            estimated_cost_usd=processed / 1e12 * ON_DEMAND_USD_PER_TB,
            statement_type=job.statement_type or "",
            referenced_tables=tuple(f"{t.project}.{t.dataset_id}.{t.table_id}" for t in job.referenced_tables or ()),
            schema=tuple((field.name, field.field_type) for field in job.schema or ()),
        )

    def _job_rows(self, handle: _Handle, sql: str, params: Sequence[object] | None) -> Any:
        """Run `sql` as one query job (after upstream's cost limits) and wait for it; its `RowIterator`."""
        with handle.lock:
            if handle.cancelled:
                raise BigQueryError("cancelled")  # no new job after a cancel
        bq = self._bigquery
        config = bq.QueryJobConfig(
            query_parameters=[bq.ScalarQueryParameter(None, _parameter_type(value), value) for value in params or ()]
        )
        if self.connection.max_billable_bytes:
            config.maximum_bytes_billed = self.connection.max_billable_bytes
        with _translated():
            self._check_limits(handle, sql, config)
            job = handle.client.query(sql, job_config=config, retry=self._retry(), job_retry=None)
            return self._finish(handle, job)

    def _finish(self, handle: _Handle, job: Any) -> Any:
        """The job's result, once it is done; a cancel (also one that came just before) cancels it."""
        with handle.lock:
            handle.job = job
            cancelled = handle.cancelled
        try:
            if cancelled:
                job.cancel(retry=self._retry())
            return self._wait(handle, job)
        finally:
            with handle.lock:
                handle.job = None

    def _wait(self, handle: _Handle, job: Any) -> Any:
        while True:
            with handle.lock:
                if handle.cancelled:
                    raise BigQueryError("cancelled")
            try:
                return job.result(timeout=POLL_SECONDS, retry=self._retry())
            except concurrent.futures.TimeoutError:
                continue

    def _check_limits(self, handle: _Handle, sql: str, config: Any) -> None:
        """Upstream's hard limits: a dry run first; over either limit, the statement does not run."""
        c = self.connection
        if not (c.max_billable_bytes or c.max_query_cost):
            return
        dry = self._bigquery.QueryJobConfig(
            dry_run=True, use_query_cache=False, query_parameters=config.query_parameters
        )
        estimate = handle.client.query(sql, job_config=dry, retry=self._retry(), job_retry=None)
        billable = estimate.total_bytes_billed or estimate.total_bytes_processed or 0
        cost = billable / 1e12 * ON_DEMAND_USD_PER_TB
        violations = []
        if c.max_billable_bytes and billable > c.max_billable_bytes:
            violations.append(f"estimated billable bytes {billable} exceeds max_billable_bytes {c.max_billable_bytes}")
        if c.max_query_cost and cost > c.max_query_cost:
            violations.append(f"estimated query cost ${cost:.6f} exceeds max_query_cost ${c.max_query_cost:.6f}")
        if violations:
            raise BigQueryError(
                f"BigQuery query exceeds configured cost limits: {'; '.join(violations)}. Query was not executed"
            )

    def _project(self) -> str:
        c = self.connection
        if c.project_id:
            return c.project_id
        project = getattr(self._shared_credentials(), "project_id", None) or _service_account(c).get("project_id")
        if not project:
            raise BruinError(f"google_cloud_platform connection '{c.name}' sets no project_id")
        return str(project)

    def _shared_credentials(self) -> Any:
        """One credentials object for every client of this database: it caches its tokens."""
        with self._credentials_lock:
            if self._credentials is None:
                self._credentials = _credentials(self.connection)
            return self._credentials

    def _retry(self) -> Any:
        return self._bigquery.DEFAULT_RETRY.with_timeout(API_DEADLINE_SECONDS)


@contextmanager
def _translated() -> Iterator[None]:
    """Client-library failures inside the block become `BigQueryError`s carrying the library's message."""
    try:
        yield
    except (BigQueryError, BruinError):
        raise
    except Exception as exc:
        if not _is_client_failure(exc):
            raise
        raise BigQueryError(_message(exc)) from None


def _is_client_failure(exc: BaseException) -> bool:
    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError
    from requests import RequestException

    return isinstance(exc, GoogleAPIError | GoogleAuthError | RequestException | ValueError)


def _message(exc: BaseException) -> str:
    """The API's own message (no status code, URL, job id or location), else the exception's text."""
    errors = getattr(exc, "errors", None)
    first = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first, dict) and isinstance(first.get("message"), str) and first["message"]:
        return first["message"]
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    return str(exc) or type(exc).__name__


def _literal(text: str) -> str:
    """A string literal; GoogleSQL reads backslash escapes in them, and they hold no raw line breaks."""
    return "'" + text.translate(_ESCAPES) + "'"


def _unparameterized(kind: str) -> str:
    """A type without its parameters (`NUMERIC(10, 2)` -> `NUMERIC`)."""
    return kind.split("(", 1)[0].strip()


def _session(session: Session) -> BigQuerySession:
    assert isinstance(session, BigQuerySession), "BigQuery strategies run on BigQuery sessions"
    return session


def _parameter_type(value: object) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    return "STRING"


def _credentials(c: Connection) -> Any:
    """Upstream's order: ADC, service account JSON, service account file, access token."""
    if c.use_application_default_credentials:
        import google.auth

        credentials, _ = google.auth.default(scopes=SCOPES)
        return _self_signed(credentials)
    from google.oauth2 import service_account

    if c.service_account_json or c.service_account_file:
        field = "service_account_json" if c.service_account_json else "service_account_file"
        info = _service_account(c, for_injection=True)
        try:
            credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        except (ValueError, KeyError):
            raise BruinError(f"connection '{c.name}': the {field} is not a service account key") from None
        return _self_signed(credentials)
    if c.access_token:
        from google.oauth2.credentials import Credentials

        return Credentials(token=c.access_token)
    raise BruinError(
        f"google_cloud_platform connection '{c.name}' has no credentials: set service_account_json, "
        "service_account_file or access_token, or use_application_default_credentials: true"
    )


def _self_signed(credentials: Any) -> Any:
    """Service accounts sign their own JWTs, so no token exchange is needed before the first request."""
    sign = getattr(credentials, "with_always_use_jwt_access", None)
    return sign(True) if sign is not None else credentials


def _service_account(c: Connection, *, for_injection: bool = False) -> dict[str, Any]:
    """The service account key as a mapping: from the JSON, else the file; {} when there is none (or, for
    masking, when it cannot be read). For credentials, an unreadable or malformed key is a BruinError."""
    inline, path = getattr(c, "service_account_json", ""), getattr(c, "service_account_file", "")
    field = "service_account_json" if inline else "service_account_file"
    if inline:
        text: str | None = inline
    elif path:
        text = read_for_injection(c.name, field, path) if for_injection else read_for_masking(path)
    else:
        return {}
    try:
        info = json.loads(text or "")
    except ValueError:
        info = None
    if not isinstance(info, dict):
        if for_injection:
            raise BruinError(f"connection '{c.name}': the {field} is not a JSON object")
        return {}
    return info
