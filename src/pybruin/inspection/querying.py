"""`bruin query` without click: one ad-hoc query on a connection, through the SQL platforms' interface.

Three modes, as upstream: direct (`--connection` and `--query`), asset (`--asset`: the asset's own rendered
query on its connection) and auto-detect (`--asset` and `--query`: the asset only picks the connection and
the template context). The query is rendered with Jinja (the run's dates and `--var` values, never a
secret), limited when asked, annotated for the database's query log, and run with a timeout; Ctrl-C
cancels it. Every value printed later goes through the masker, like everything else pybruin prints.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.records import Record
from pybruin.workspace import ProjectSettings, load_target, open_project, open_store, protect_environment

if TYPE_CHECKING:
    from pybruin.platforms.base import DryRun, Session

_T = TypeVar("_T")

ANNOTATION = '-- @bruin.config: {"type":"adhoc_query"}\n'
_MODES = (
    "must use either:\n1. Direct query mode (--connection and --query), or\n2. Asset mode (--asset with optional "
    "--environment), or\n3. Auto-detect mode (--asset to detect the connection and --query to run arbitrary queries)"
)


class QuerySettings(Record):
    project: ProjectSettings
    connection: str | None = None
    query: str | None = None
    asset: Path | None = None
    limit: int | None = None
    timeout: float = 1000.0
    start_date: str | None = None
    end_date: str | None = None
    variables: tuple[str, ...] = ()
    dry_run: bool = False


class QueryAnswer(Record):
    connection_name: str
    connection_type: str
    #: The SQL that ran (limit included), without the annotation comment.
    query: str
    columns: tuple[tuple[str, str], ...]
    rows: list[list[Any]]
    #: False only for a dry run the database rejected.
    valid: bool = True
    #: What a dry run found (None when the query ran, or the database rejected it).
    dry_run: DryRun | None = None


def run_query(settings: QuerySettings, masker: Masker) -> QueryAnswer:
    """Run (or, for a dry run, explain) the query `settings` describe; BruinError on any failure."""
    from pybruin.platforms import platform_for_connection
    from pybruin.platforms.run import Databases

    if settings.connection and settings.asset:
        raise BruinError(
            "direct query mode (--connection and --query) cannot be combined with asset mode "
            "(--asset and --environment)"
        )
    if not settings.asset and not (settings.connection and settings.query):
        raise BruinError(
            "direct query mode requires both --connection and --query flags" if settings.connection else _MODES
        )
    if settings.dry_run and settings.limit is not None:
        raise BruinError("--dry-run cannot be combined with --limit")
    project = open_project(settings.project)
    protect_environment(project, masker)
    name, query = _source(settings, project.environment.schema_prefix)
    with open_store(project, settings.project, masker) as store:
        found = store.get(name)
        if found is None:
            raise BruinError(store.missing_message(name))
    connection = found.connection
    masker.protect_connection(connection)
    platform = platform_for_connection(connection.type_key)
    if platform is None:
        raise BruinError(f"connection '{name}' is a {connection.type_key} connection, which cannot run queries")
    if settings.limit is not None:
        query = limited(query, settings.limit, platform.name)
    databases = Databases()
    try:
        with databases.session(connection) as session:
            if settings.dry_run:
                try:
                    checked = _cancellably(session, session.dry_run, ANNOTATION + query, settings.timeout)
                except BruinError as exc:
                    return QueryAnswer(name, connection.type_key, query, (), [[str(exc)]], valid=False)
                plan = checked.plan
                rows = [[json_value(value) for value in row] for row in plan.rows] if plan else []
                return QueryAnswer(name, connection.type_key, query, plan.columns if plan else (), rows,
                                   dry_run=checked)  # fmt: skip
            try:
                result = _cancellably(session, session.fetch, ANNOTATION + query, settings.timeout)
            except BruinError as exc:
                raise BruinError(f"query execution failed: {exc}") from None
    finally:
        databases.close()
    rows = [[json_value(value) for value in row] for row in result.rows]
    return QueryAnswer(name, connection.type_key, query, result.columns, rows)


def _source(settings: QuerySettings, schema_prefix: str) -> tuple[str, str]:
    """The connection to query and the query, rendered: in direct mode with the dates and `--var` values; with
    an asset, as the run renders the asset's SQL (the pipeline's variables, `this`, macros), plus `--var`."""
    if settings.asset is None:
        assert settings.connection is not None and settings.query is not None
        return settings.connection, _rendered(settings.query, settings)
    from pybruin.pipeline.connections import effective_connection
    from pybruin.platforms import SQL_ASSET_TYPES
    from pybruin.run.context import make_context
    from pybruin.run.rendering import RENDER_RUN_ID, AssetRenderer

    pipeline, asset = load_target(settings.asset)
    if asset is None:
        raise BruinError(f"'{settings.asset}' is not an asset file")
    if asset.type not in SQL_ASSET_TYPES and settings.query is None:
        raise BruinError(
            f"asset '{settings.asset}' is not a SQL asset (type: {asset.type}). Only SQL assets can be queried"
        )
    connection = effective_connection(asset, pipeline)
    if connection is None:
        raise BruinError(f"asset '{asset.name}' has no connection to run the query on")
    context = make_context(
        start_date=settings.start_date, end_date=settings.end_date, variables=(), declared=pipeline.variables,
        run_id=RENDER_RUN_ID, pipeline=pipeline.name, commit=pipeline.commit, schema_prefix=schema_prefix,
    )  # fmt: skip
    template = settings.query if settings.query is not None else asset.content
    rendered = AssetRenderer(context, pipeline).render(asset, template, extra=query_variables(settings.variables))
    return connection, rendered


def _rendered(template: str, settings: QuerySettings) -> str:
    """A direct query with the run's dates (run id `your-run-id`) and `--var` values; secrets are never in it."""
    from pybruin.run.context import RunContext, default_interval, execution_time, parse_date
    from pybruin.run.templating import render_sql

    if "{{" not in template and "{%" not in template:
        return template
    start, end = default_interval()
    if settings.start_date:
        start = parse_date(settings.start_date, "--start-date")
    if settings.end_date:
        end = parse_date(settings.end_date, "--end-date")
    context = RunContext(start, end, execution_time(), "your-run-id", pipeline="")
    values = {**context.template_values(""), **query_variables(settings.variables)}
    return render_sql(template, values, asset_name="query")


def query_variables(values: Sequence[str]) -> dict[str, object]:
    """`--var key=value` as `bruin query` reads it (not `run --var`): the value is text unless it is a JSON
    object or array; `a.b=v` nests."""
    variables: dict[str, object] = {}
    for raw in values:
        key, separator, text = raw.partition("=")
        if not separator or not key.strip():
            raise BruinError(f"invalid --var '{raw}': expected key=value")
        value: object = text
        if text.strip()[:1] in ("{", "["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = text
        *parents, last = key.strip().split(".")
        level = variables
        for part in parents:
            nested = level.setdefault(part, {})
            level = nested if isinstance(nested, dict) else level.setdefault(part, {})
        level[last] = value
    return variables


def limited(query: str, limit: int, dialect: str) -> str:
    """A single SELECT gets `LIMIT n` (sqlglot); other statements stay as they are; unparsable SQL is
    wrapped: `SELECT * FROM (<query>) as t LIMIT n`."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [statement for statement in sqlglot.parse(query, dialect=dialect) if statement is not None]
    except Exception:
        return f"SELECT * FROM (\n{query.rstrip(' ;' + chr(10) + chr(9))}\n) as t LIMIT {limit}"
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        return query
    return statements[0].limit(limit).sql(dialect=dialect)


def _cancellably(session: Session, call: Callable[[str], _T], sql: str, timeout: float) -> _T:
    """`call(sql)` (a method of `session`) on a worker thread, so a timeout or Ctrl-C can cancel it cleanly."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query")
    future = pool.submit(call, sql)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                return future.result(timeout=min(0.2, max(deadline - time.monotonic(), 0.01)))
            except FutureTimeout:
                if time.monotonic() >= deadline:
                    session.cancel()
                    future.exception()
                    raise BruinError(f"query timed out after {timeout:g} seconds") from None
    except KeyboardInterrupt:
        session.cancel()
        future.exception()
        raise BruinError("context canceled") from None
    finally:
        pool.shutdown(wait=True)


def json_value(value: Any) -> Any:
    """A database value as upstream's JSON shows it: decimals as numbers, times as RFC 3339, bytes base64."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return _rfc3339(value)
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, dt.time | dt.timedelta | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    return value


def _rfc3339(moment: dt.datetime) -> str:
    text = moment.isoformat()
    if moment.utcoffset() is None or moment.utcoffset() == dt.timedelta(0):
        text = moment.replace(tzinfo=None).isoformat() + "Z"
    return text


def export_csv(
    project_root: Path, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], mask: Any
) -> Path:
    """`logs/exports/query_result_<unix ms>.csv` under the project (git-ignored), owner-only; its path."""
    from pybruin.config.bruin_yml import ignore_in_git

    folder = project_root / "logs" / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"query_result_{int(time.time() * 1000)}.csv"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
        file.write(mask(csv_text(columns, rows)))
    ignore_in_git(project_root, ["logs/exports"])
    return path


def csv_text(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> str:
    """Go's `encoding/csv`: commas, `\\n`, quotes only where needed; NULL is an empty field."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    for row in rows:
        writer.writerow([cell_text(value, null="") for value in row])
    return buffer.getvalue()


def cell_text(value: Any, *, null: str = "<nil>") -> str:
    """One value as text (Go's `%v` of the JSON value): `699` for an integral float, `true`, `<nil>`."""
    if value is None:
        return null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
