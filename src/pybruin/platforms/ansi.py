"""The SQL that ANSI databases share: identifier quoting and the materialization strategies.

* `view`: CREATE OR REPLACE VIEW;
* `table` (strategy unset or `create+replace`): the query fills a table under a temporary name that
  replaces the old table inside one transaction, so readers see the old rows or the new ones, never
  a missing or half-built table, and a failed (or cancelled) build leaves the old table untouched;
* `table` + `append`: the first run creates the table from its rows, later runs insert theirs.

Every strategy first makes sure the target's schema exists. A platform module subclasses
`AnsiPlatform` and replaces what its database does differently.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import ClassVar

from pybruin.platforms.base import Platform, Session, Strategy, Target

_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCHEMA_COLUMNS = ("catalog_name", "schema_name")
_TABLE_COLUMNS = ("table_catalog", "table_schema", "table_name")


def ensure_schema(session: Session, target: Target) -> None:
    """Create the target's schema unless it exists, once per database and run; checking first
    spares users who may create tables in a schema but not schemas in the database."""
    session.once(f"schema {target.container}", partial(_create_schema, target=target))


def create_view(session: Session, target: Target, query: str) -> None:
    ensure_schema(session, target)
    session.execute(f"CREATE OR REPLACE VIEW {target.qualified} AS\n{query}")


def replace_table(session: Session, target: Target, query: str) -> None:
    ensure_schema(session, target)
    staging = f"__pybruin_tmp_{uuid.uuid4().hex[:12]}"
    with session.transaction():
        session.execute(f"CREATE TABLE {target.container}.{staging} AS\n{query}")
        session.execute(f"DROP TABLE IF EXISTS {target.qualified}")
        session.execute(f"ALTER TABLE {target.container}.{staging} RENAME TO {target.table}")


def append_to_table(session: Session, target: Target, query: str) -> None:
    ensure_schema(session, target)
    with session.transaction():
        if exists(session, "information_schema.tables", _TABLE_COLUMNS, target.parts):
            session.execute(f"INSERT INTO {target.qualified}\n{query}")
        else:
            session.execute(f"CREATE TABLE {target.qualified} AS\n{query}")


STRATEGIES: Mapping[str, Mapping[str, Strategy]] = MappingProxyType(
    {
        "table": MappingProxyType({"": replace_table, "create+replace": replace_table, "append": append_to_table}),
        "view": MappingProxyType({"": create_view}),
    }
)


class AnsiPlatform(Platform):
    """Double-quoted identifiers and the strategies above."""

    strategies: ClassVar[Mapping[str, Mapping[str, Strategy]]] = STRATEGIES

    def quote_identifier(self, part: str) -> str:
        """Plain names stay unquoted, so they fold the way the user's own SQL folds them."""
        if _PLAIN_IDENTIFIER.match(part):
            return part
        return '"' + part.replace('"', '""') + '"'


def exists(session: Session, view: str, columns: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether `view` (an information_schema view) lists `parts`, in the current database unless
    a catalog is named, compared case-insensitively as unquoted names are."""
    values = [f"lower({literal(part)})" for part in parts]
    if len(values) < len(columns):
        values.insert(0, "lower(current_database())")
    where = " AND ".join(f"lower({column}) = {value}" for column, value in zip(columns, values, strict=True))
    return session.query(f"SELECT count(*) FROM {view} WHERE {where}")[0][0] > 0


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _create_schema(session: Session, target: Target) -> None:
    if not exists(session, "information_schema.schemata", _SCHEMA_COLUMNS, target.parts[:-1]):
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {target.container}")
