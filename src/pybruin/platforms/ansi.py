"""The SQL that ANSI databases share: identifier quoting and the materialization strategies.

* `view`: CREATE OR REPLACE VIEW;
* `table` (strategy unset or `create+replace`): the query fills a table under a temporary name that
  replaces the old table inside one transaction, so readers see the old rows or the new ones, never
  a missing or half-built table, and a failed (or cancelled) build leaves the old table untouched;
* `table` + `append`: the first run creates the table from its rows, later runs insert theirs.

Every strategy first makes sure the target's schema exists.

The column checks are upstream's queries (`SELECT count(*)` of the offending rows, expected 0) with two
differences: the table and the column are quoted the platform's way, and values (thresholds, accepted
values, patterns) are written as literals with their quotes doubled, where upstream pastes both verbatim.
A platform module subclasses `AnsiPlatform` and replaces what its database does differently.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import ClassVar

from pybruin.pipeline.checks import value_text
from pybruin.platforms.base import CheckedColumn, ColumnCheckSql, Platform, Session, Strategy, Target
from pybruin.platforms.checks import CheckQuery

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


def _counted(condition: str, message: str) -> ColumnCheckSql:
    """A check counting the rows where `condition` holds (`{c}`: the column, `{v}`: the value as SQL);
    `message` gets `{c}` (the column as declared), `{n}` (the count) and `{v}` (the value as upstream shows it)."""

    def build(platform: Platform, subject: CheckedColumn) -> CheckQuery:
        column, value = subject.column.name, subject.check.value
        where = condition.format(c=platform.quote_column(column), v=_sql_value(platform, value))
        return CheckQuery(
            subject.check.name,
            f"SELECT count(*) FROM {subject.table.qualified} WHERE {where}",
            0,
            lambda count: message.format(c=column, n=count, v=value_text(value)),
        )

    return build


def _unique(platform: Platform, subject: CheckedColumn) -> CheckQuery:
    column = platform.quote_column(subject.column.name)
    return CheckQuery(
        "unique",
        f"SELECT COUNT({column}) - COUNT(DISTINCT {column}) FROM {subject.table.qualified}",
        0,
        lambda count: f"column '{subject.column.name}' has {count} non-unique values",
    )


def _relationships(platform: Platform, subject: CheckedColumn) -> CheckQuery:
    """Child rows whose non-null value the referenced column lacks (NULLs removed on both sides)."""
    key, reference = subject.column.foreign_key, subject.reference
    assert key is not None and reference is not None, subject  # the runner resolves both first
    child, parent = platform.quote_column(subject.column.name), platform.quote_column(key.column)
    sql = (
        f"SELECT COUNT(*) FROM {subject.table.qualified} bruin_relationship_child "
        f"WHERE bruin_relationship_child.{child} IS NOT NULL AND bruin_relationship_child.{child} NOT IN "
        f"(SELECT bruin_relationship_parent.{parent} FROM {reference.qualified} bruin_relationship_parent "
        f"WHERE bruin_relationship_parent.{parent} IS NOT NULL)"
    )
    return CheckQuery(
        "relationships",
        sql,
        0,
        lambda count: (
            f"column '{subject.column.name}' has {count} rows with values missing from '{key.table}.{key.column}'"
        ),
    )


def _sql_value(platform: Platform, value: object) -> str:
    """A check value in SQL: numbers as written (floats with six decimals, as upstream), text as a literal,
    a list as a comma-separated list of text literals (the column is compared as text)."""
    if isinstance(value, tuple):
        return ",".join(platform.literal(str(item)) for item in value)
    if isinstance(value, float):
        return f"{value:f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return platform.literal(str(value))


COLUMN_CHECKS: Mapping[str, ColumnCheckSql] = MappingProxyType(
    {
        "not_null": _counted("{c} IS NULL", "column '{c}' has {n} null values"),
        "unique": _unique,
        "positive": _counted("{c} <= 0", "column '{c}' has {n} non-positive values"),
        "non_negative": _counted("{c} < 0", "column '{c}' has {n} negative values"),
        "negative": _counted("{c} >= 0", "column '{c}' has {n} non negative values"),
        "min": _counted("{c} < {v}", "column '{c}' has {n} values below minimum {v}"),
        "max": _counted("{c} > {v}", "column '{c}' has {n} values above maximum {v}"),
        "accepted_values": _counted(
            "CAST({c} as TEXT) NOT IN ({v})", "column '{c}' has {n} rows that are not in the accepted values"
        ),
        "pattern": _counted("{c} !~ {v}", "column {c} has {n} values that don't satisfy the pattern {v}"),
        "relationships": _relationships,
    }
)


class AnsiPlatform(Platform):
    """Double-quoted identifiers, the strategies and the column checks above."""

    strategies: ClassVar[Mapping[str, Mapping[str, Strategy]]] = STRATEGIES
    column_checks: ClassVar[Mapping[str, ColumnCheckSql]] = COLUMN_CHECKS

    def quote_identifier(self, part: str) -> str:
        """Plain names stay unquoted, so they fold the way the user's own SQL folds them."""
        if _PLAIN_IDENTIFIER.match(part):
            return part
        return '"' + part.replace('"', '""') + '"'

    def literal(self, text: str) -> str:
        return literal(text)


def exists(session: Session, view: str, columns: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether `view` (an information_schema view) lists `parts`, in the current database unless
    a catalog is named, compared case-insensitively as unquoted names are."""
    return session.query(f"SELECT count(*) FROM {view} WHERE {_naming(columns, parts)}")[0][0] > 0


def table_columns(session: Session, target: Target) -> list[str]:
    """The target table's columns in their order; empty when there is no such table."""
    where = _naming(_TABLE_COLUMNS, target.parts)
    rows = session.query(f"SELECT column_name FROM information_schema.columns WHERE {where} ORDER BY ordinal_position")
    return [row[0] for row in rows]


def _naming(columns: tuple[str, ...], parts: tuple[str, ...]) -> str:
    """The WHERE condition matching `parts` against information_schema `columns` (see `exists`)."""
    values = [f"lower({literal(part)})" for part in parts]
    if len(values) < len(columns):
        values.insert(0, "lower(current_database())")
    return " AND ".join(f"lower({column}) = {value}" for column, value in zip(columns, values, strict=True))


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _create_schema(session: Session, target: Target) -> None:
    if not exists(session, "information_schema.schemata", _SCHEMA_COLUMNS, target.parts[:-1]):
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {target.container}")
