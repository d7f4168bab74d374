"""Running a SQL asset: its rendered query, materialised the way its header asks.

* no materialization: the script runs as written (several statements are fine);
* `view`: CREATE OR REPLACE VIEW;
* `table` (strategy unset or `create+replace`): the query fills a table under a temporary name that
  replaces the old table inside one transaction, so readers see the old rows or the new ones, never
  a missing or half-built table, and a failed build leaves the old table untouched;
* `table` + `append`: the first run creates the table from its rows, later runs insert theirs.

The object is named after the asset: `table`, `schema.table` or `catalog.schema.table`. The
environment's schema prefix goes in front of the schema. An unqualified name lives in the default
schema of its database (DuckDB `main`; PostgreSQL and Redshift the connection's `schema`, else
`public`), and that schema is prefixed as well, so a prefixed environment never writes into the
unprefixed schemas. (Upstream Bruin leaves unqualified names unprefixed.)
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING

from pybruin.errors import BruinError

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.pipeline.model import Asset
    from pybruin.run.databases import Databases, Session

SQL_ASSET_PLATFORMS: Mapping[str, str] = MappingProxyType(
    {"duckdb.sql": "duckdb", "pg.sql": "postgres", "rs.sql": "redshift"}
)

_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REPLACE_STRATEGIES = frozenset({"", "create+replace"})
_SCHEMA_COLUMNS = ("catalog_name", "schema_name")
_TABLE_COLUMNS = ("table_catalog", "table_schema", "table_name")


def run_sql_asset(
    asset: Asset, connection: Connection, databases: Databases, *, rendered_sql: str, schema_prefix: str
) -> None:
    """Run the asset's rendered SQL on `connection`; every failure is a BruinError naming the asset."""
    try:
        _check_platform(asset, connection)
        materialize = _materializer(asset.materialization)
        if materialize is None:
            step = partial(_run_script, script=rendered_sql)
        else:
            target = _target(asset.name, connection, schema_prefix)
            step = partial(materialize, target=target, query=_select_body(rendered_sql))
        with databases.session(connection) as session:
            step(session)
    except BruinError as exc:
        raise BruinError(f"asset '{asset.name}': {exc}") from None


@dataclass(frozen=True)
class _Target:
    """Where a materialised asset lives: (catalog,) schema and table, as named (not yet quoted)."""

    parts: tuple[str, ...]

    @property
    def container(self) -> str:
        return ".".join(_identifier(part) for part in self.parts[:-1])

    @property
    def table(self) -> str:
        return _identifier(self.parts[-1])

    @property
    def qualified(self) -> str:
        return f"{self.container}.{self.table}"


def _check_platform(asset: Asset, connection: Connection) -> None:
    platform = SQL_ASSET_PLATFORMS.get(asset.type)
    if platform is None:
        raise BruinError(f"'{asset.type}' assets cannot run; SQL asset types: {', '.join(SQL_ASSET_PLATFORMS)}")
    if connection.type_key != platform:
        raise BruinError(
            f"connection '{connection.name}' is a {connection.type_key} connection, "
            f"but '{asset.type}' assets need a {platform} connection"
        )


def _materializer(materialization: Mapping[str, object]) -> Callable[[Session, _Target, str], None] | None:
    kind = str(materialization.get("type") or "").lower()
    strategy = str(materialization.get("strategy") or "").lower()
    if kind == "":
        return None
    if kind == "view":
        if strategy:
            raise BruinError(f"materialization strategy '{strategy}' is not supported for views")
        return _create_view
    if kind == "table":
        if strategy in _REPLACE_STRATEGIES:
            return _replace_table
        if strategy == "append":
            return _append_to_table
        raise BruinError(f"materialization strategy '{strategy}' is not supported; use create+replace or append")
    raise BruinError(f"unknown materialization type '{kind}'; use table or view")


def _target(asset_name: str, connection: Connection, schema_prefix: str) -> _Target:
    parts = asset_name.split(".")
    if len(parts) > 3 or not all(parts):
        raise BruinError("the asset name must be table, schema.table or catalog.schema.table to materialize")
    if len(parts) == 1:
        default_schema = "main" if connection.type_key == "duckdb" else (connection.schema_ or "public")
        parts.insert(0, default_schema)
    parts[-2] = schema_prefix + parts[-2]
    return _Target(tuple(parts))


def _identifier(name: str) -> str:
    """Plain names stay unquoted, so they fold the way the user's own SQL folds them."""
    if _PLAIN_IDENTIFIER.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _select_body(sql: str) -> str:
    """The query without trailing semicolons, ending in a newline so a trailing `--` comment stays closed."""
    body = sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return body + "\n"


def _run_script(session: Session, script: str) -> None:
    session.execute(script)


def _ensure_schema(session: Session, target: _Target) -> None:
    """Create the target's schema unless it exists; checking first spares users who may create
    tables in a schema but not schemas in the database."""
    session.once(f"schema {target.container}", partial(_create_schema, target=target))


def _create_schema(session: Session, target: _Target) -> None:
    if not _exists(session, "information_schema.schemata", _SCHEMA_COLUMNS, target.parts[:-1]):
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {target.container}")


def _create_view(session: Session, target: _Target, query: str) -> None:
    _ensure_schema(session, target)
    session.execute(f"CREATE OR REPLACE VIEW {target.qualified} AS\n{query}")


def _replace_table(session: Session, target: _Target, query: str) -> None:
    _ensure_schema(session, target)
    staging = f"__pybruin_tmp_{uuid.uuid4().hex[:12]}"
    with session.transaction():
        session.execute(f"CREATE TABLE {target.container}.{staging} AS\n{query}")
        session.execute(f"DROP TABLE IF EXISTS {target.qualified}")
        session.execute(f"ALTER TABLE {target.container}.{staging} RENAME TO {target.table}")


def _append_to_table(session: Session, target: _Target, query: str) -> None:
    _ensure_schema(session, target)
    with session.transaction():
        if _exists(session, "information_schema.tables", _TABLE_COLUMNS, target.parts):
            session.execute(f"INSERT INTO {target.qualified}\n{query}")
        else:
            session.execute(f"CREATE TABLE {target.qualified} AS\n{query}")


def _exists(session: Session, view: str, columns: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether `view` (an information_schema view) lists `parts`, in the current database unless
    a catalog is named, compared case-insensitively as unquoted names are."""
    values = [f"lower({_literal(part)})" for part in parts]
    if len(values) < len(columns):
        values.insert(0, "lower(current_database())")
    where = " AND ".join(f"lower({column}) = {value}" for column, value in zip(columns, values, strict=True))
    return session.query(f"SELECT count(*) FROM {view} WHERE {where}")[0][0] > 0


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
