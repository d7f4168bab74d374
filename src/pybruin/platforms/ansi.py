"""The SQL that ANSI databases share: identifier quoting, schemas, and the materialization strategies.

Each strategy turns a `Build` into one script, upstream's text (names quoted only where they must be,
see `AnsiPlatform.quote_identifier`); the script runs as one, so the strategies that write more than once
do it inside one transaction: a failed, cancelled or killed run leaves the previous table as it was.

* `view`: CREATE OR REPLACE VIEW;
* `table` (strategy unset or `create+replace`): build the table under a scratch name and swap it in;
* `append`, `delete+insert`, `truncate+insert`, `time_interval`: insert the query's rows, after removing
  those they replace;
* `merge`: one MERGE (`merge_statement`), or an UPDATE and an INSERT where there is no MERGE
  (`merge_by_update`); `ddl` (`ddl_table`); the SCD2 strategies (`scd2_strategies`, DuckDB has its own).

A platform module picks these builders, tells them how it writes a transaction (`Transaction`: its words, its
scratch tables, whether DDL would commit the transaction) and adds what it writes differently. Every strategy
first makes sure the target's schema exists.

The column checks are upstream's queries (`SELECT count(*)` of the offending rows, expected 0) with two
differences: the table and the column are quoted the platform's way, and values (thresholds, accepted
values, patterns) are written as literals with their quotes doubled, where upstream pastes both verbatim.
A platform module subclasses `AnsiPlatform` and replaces what its database does differently.
"""

from __future__ import annotations

import random
import re
import string
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from types import MappingProxyType
from typing import ClassVar

from pybruin.errors import BruinError
from pybruin.pipeline.checks import value_text
from pybruin.pipeline.model import Column
from pybruin.platforms.base import (
    Build,
    CheckedColumn,
    ColumnCheckSql,
    Platform,
    Session,
    Strategy,
    Target,
    prefixed_name,
)
from pybruin.platforms.checks import CheckQuery
from pybruin.records import Record, replace

_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCHEMA_COLUMNS = ("catalog_name", "schema_name")
_TABLE_COLUMNS = ("table_catalog", "table_schema", "table_name")
_TEMP_RANDOM = random.SystemRandom()


def ensure_schema(session: Session, target: Target) -> None:
    """Create the target's schema unless it exists, once per database and run; checking first
    spares users who may create tables in a schema but not schemas in the database."""
    session.once(f"schema {target.container}", partial(_create_schema, target=target))


class KnownTables:
    """The tables of one database this run has seen: one listing answers every asset's "does my table exist?"
    (a name not in it is looked up again, as another asset or process may have created it since), and
    tables the run builds are added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: set[tuple[str, ...]] = set()

    def exists(self, session: Session, target: Target) -> bool:
        key = _table_key(session, target)
        with self._lock:
            if key in self._tables:
                return True
        listed = {tuple(map(str, row)) for row in session.query(_LIST_TABLES)}
        with self._lock:
            self._tables |= listed
            return key in self._tables

    def add(self, session: Session, target: Target) -> None:
        key = _table_key(session, target)
        with self._lock:
            self._tables.add(key)


_LIST_TABLES = (
    "SELECT lower(table_catalog), lower(table_schema), lower(table_name) FROM information_schema.tables "
    "WHERE table_type = 'BASE TABLE'"
)


def _table_key(session: Session, target: Target) -> tuple[str, ...]:
    parts = tuple(part.lower() for part in target.parts)
    if len(parts) == 3:
        return parts
    catalog = session.shared("current_database", lambda: str(session.query("SELECT current_database()")[0][0]))
    return (catalog.lower(), *parts)


def known_tables(session: Session) -> KnownTables:
    return session.shared("known tables", KnownTables)


def temp_name(prefix: str = "__bruin_tmp_") -> str:
    """A name for a scratch table: the prefix and 8 random lowercase letters, as upstream names them."""
    return prefix + "".join(_TEMP_RANDOM.choice(string.ascii_lowercase) for _ in range(8))


def select_body(query: str) -> str:
    """The query as one statement inside another: without trailing semicolons, and on its own line when
    its last line may end in a `--` comment (which would swallow what follows)."""
    body = query.rstrip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return body + "\n" if "--" in body.rsplit("\n", 1)[-1] else body


def one_statement(query: str) -> str:
    """The query without its trailing `;` even when a `-- comment` follows it: a script of several statements
    must not hold an empty one, which MySQL refuses, nor a `;` inside the parentheses of a MERGE."""
    body = select_body(query).rstrip()
    head, semicolon, tail = body.rpartition(";")
    if semicolon and tail.strip().startswith("--") and "\n" not in tail.strip():
        body = head
    return select_body(body)


def one_query(strategy: Strategy) -> Strategy:
    """The strategy with the query as one statement (`one_statement`)."""
    return lambda build: strategy(replace(build, query=one_statement(build.query)))


def statements(*parts: str) -> str:
    """Statements joined the way upstream joins them: `;\\n` between, `;` at the end."""
    return ";\n".join(parts) + ";"


def create_view(build: Build) -> str:
    return f"CREATE OR REPLACE VIEW {build.target.reference} AS\n{build.query}"


def replace_table(build: Build) -> str:
    """Build the new table under a scratch name next to the old one, then drop the old one and rename the
    new one, in one transaction: the query may read the table it replaces, and readers wait only for the
    swap. (Upstream drops the table first.)"""
    target = build.target
    staging = build.quote(f"{target.parts[-1]}{temp_name()}")
    staged = staging if target.bare else f"{target.container}.{staging}"
    return statements(
        "BEGIN TRANSACTION",
        f"CREATE TABLE {staged} AS {select_body(build.query)}",
        f"DROP TABLE IF EXISTS {target.reference}",
        f"ALTER TABLE {staged} RENAME TO {target.table}",
        "COMMIT",
    )


def append_to_table(build: Build) -> str:
    return f"INSERT INTO {build.target.reference} {build.query}"


class Transaction(Record):
    """How a platform's scripts write a transaction, and the scratch table some strategies fill from the query
    first (so the query runs once). The defaults are upstream's ANSI text."""

    begin: str = "BEGIN TRANSACTION"
    commit: str = "COMMIT"
    scratch: str = "CREATE TEMP TABLE"
    drop_scratch: str = "DROP TABLE IF EXISTS"
    #: how every row is removed inside the transaction (MySQL's TRUNCATE would commit it)
    empty: str = "TRUNCATE TABLE"
    #: Snowflake commits an open transaction at any DDL: its scratch table is made before and dropped after
    scratch_outside: bool = False
    #: the scratch table is named in the target's schema (where a session may have no current one)
    scratch_in_schema: bool = False

    def script(self, *body: str) -> str:
        return statements(self.begin, *body, self.commit)

    def scratch_name(self, target: Target, prefix: str) -> str:
        name = temp_name(prefix)
        return f"{target.container}.{name}" if self.scratch_in_schema else name

    def with_scratch(self, scratch: str, query: str, *body: str, first: Sequence[str] = ()) -> str:
        """`body` in one transaction (after `first`), reading the query's rows from `scratch`."""
        create, drop = f"{self.scratch} {scratch} AS {select_body(query)}", f"{self.drop_scratch} {scratch}"
        if self.scratch_outside:
            return statements(create, self.begin, *first, *body, self.commit, drop)
        return statements(self.begin, *first, create, *body, drop, self.commit)


ANSI = Transaction()


def delete_insert(build: Build, transaction: Transaction = ANSI) -> str:
    key = build.materialization.incremental_key
    if not key:
        raise BruinError("materialization strategy delete+insert requires the `incremental_key` field to be set")
    name, quoted_key = build.target.reference, build.quote(key)
    scratch = transaction.scratch_name(build.target, "__bruin_tmp_")
    return transaction.with_scratch(
        scratch,
        build.query,
        f"DELETE FROM {name} WHERE {quoted_key} in (SELECT DISTINCT {quoted_key} FROM {scratch})",
        f"INSERT INTO {name} SELECT * FROM {scratch}",
    )


def truncate_insert(build: Build, transaction: Transaction = ANSI) -> str:
    name = build.target.reference
    return transaction.script(f"{transaction.empty} {name}", f"INSERT INTO {name} {select_body(build.query)}")


def time_interval(build: Build, transaction: Transaction = ANSI) -> str:
    """Delete the run's interval (dates or timestamps, by `time_granularity`), then insert the query's rows.

    Upstream writes Jinja placeholders here and renders the whole script again; the interval is put in
    directly instead, so the user's (already rendered) SQL is not rendered twice.
    """
    mat = build.materialization
    if not mat.incremental_key:
        raise BruinError("incremental_key is required for time_interval strategy")
    if not mat.time_granularity:
        raise BruinError("time_granularity is required for time_interval strategy")
    if mat.time_granularity not in ("date", "timestamp"):
        raise BruinError("time_granularity must be either 'date', or 'timestamp'")
    name, (start, end) = build.target.reference, build.interval
    return transaction.script(
        f"DELETE FROM {name} WHERE {build.quote(mat.incremental_key)} BETWEEN '{start}' AND '{end}'",
        f"INSERT INTO {name} {select_body(build.query)}",
    )


def merge_parts(build: Build) -> tuple[list[str], list[str], list[tuple[Column, str]]]:
    """What a merge needs, checked: the primary keys and every declared column (quoted), and the columns
    it updates with their new values (`merge_sql` wins over `update_on_merge`)."""
    strategy = build.materialization.strategy
    if not build.columns:
        raise BruinError(f"materialization strategy {strategy} requires the `columns` field to be set")
    keys = [build.quote(column.name) for column in build.columns if column.primary_key]
    if not keys:
        raise BruinError(
            f"materialization strategy {strategy} requires the `primary_key` field to be set on at least one column"
        )
    updates = [
        (column, column.merge_sql or f"source.{build.quote(column.name)}")
        for column in build.columns
        if not column.primary_key and (column.merge_sql or column.update_on_merge)
    ]
    return keys, [build.quote(column.name) for column in build.columns], updates


def merge_statement(build: Build, *, alias: str = "target", match: Callable[[str], str] | None = None,
                    source_values: bool = False) -> str:  # fmt: skip
    """One MERGE (upstream's text): update the merge columns of matching rows, insert the declared columns of
    the others. `match` compares one primary key (default `target.k = source.k`); with `source_values` the
    inserted values are named `source.c`."""
    keys, columns, updates = merge_parts(build)
    match = match or (lambda key: f"{alias}.{key} = source.{key}")
    on = " AND ".join(with_predicate([match(key) for key in keys], build.materialization.incremental_predicate))
    values = [f"source.{column}" for column in columns] if source_values else columns
    matched = ""
    if updates:
        matched = "WHEN MATCHED THEN UPDATE SET " + ", ".join(f"{build.quote(c.name)} = {v}" for c, v in updates)
    lines = [
        f"MERGE INTO {build.target.reference}{' ' + alias if alias else ''}",
        f"USING ({select_body(build.query)}) source ON {on}",
        matched,
        f"WHEN NOT MATCHED THEN INSERT({', '.join(columns)}) VALUES({', '.join(values)})",
    ]
    return "\n".join(lines) + ";"


def merge_by_update(build: Build, transaction: Transaction = ANSI, *, join: bool = False) -> str:
    """A merge without MERGE (DuckDB, MySQL): the query's rows into a scratch table, then the matching rows'
    merge columns updated and the new rows' declared columns inserted, in one transaction. With `join`, the
    update is MySQL's `UPDATE ... JOIN ... SET target.c = ...`."""
    keys, columns, updates = merge_parts(build)
    on = " AND ".join(with_predicate([f"target.{key} = source.{key}" for key in keys],
                                     build.materialization.incremental_predicate))  # fmt: skip
    name, listed = build.target.reference, ", ".join(columns)
    scratch = transaction.scratch_name(build.target, "__bruin_merge_tmp_")
    owner = "target." if join else ""
    assignments = ", ".join(f"{owner}{build.quote(column.name)} = {value}" for column, value in updates)
    update = (f"UPDATE {name} AS target JOIN {scratch} AS source ON {on} SET {assignments}" if join else
              f"UPDATE {name} AS target SET {assignments} FROM {scratch} AS source WHERE {on}")  # fmt: skip
    return transaction.with_scratch(
        scratch,
        build.query,
        *([update] if updates else []),
        f"INSERT INTO {name} ({listed}) SELECT {listed} FROM {scratch} AS source "
        f"WHERE NOT EXISTS (SELECT 1 FROM {name} AS target WHERE {on})",
    )


class DdlStyle(Record):
    """How a platform writes `ddl` tables: column indent, key words' case, how a collation is named, whether
    `nullable: false` becomes NOT NULL, how a description is written in the column (None: as a `COMMENT ON
    COLUMN` statement after the table), and what follows the key constraints (BigQuery's NOT ENFORCED)."""

    indent: str
    lower_keys: bool
    collation: Callable[[str], str]
    not_null: bool = False
    comment: Callable[[str], str] | None = None
    constraint_suffix: str = ""


def ddl_table(build: Build, style: DdlStyle) -> str:
    """The table from the declared columns, if it does not exist; column descriptions become comments.

    Referenced tables get the environment's schema prefix, as the asset's own name does.
    """
    name, quote = build.target.reference, build.quote
    primary, foreign, references = ("primary key", "foreign key", "references") if style.lower_keys else (
        "PRIMARY KEY", "FOREIGN KEY", "REFERENCES")  # fmt: skip
    definitions, keys, links, comments = [], [], [], []
    suffix = style.constraint_suffix
    for column in build.columns:
        definition = f"{quote(column.name)} {column.sql_type}"
        if column.collation:
            definition += f" COLLATE {style.collation(column.collation)}"
        if style.not_null and column.nullable is False:
            definition += " NOT NULL"
        if column.default:
            definition += f" DEFAULT {column.default}"
        if column.description and style.comment:
            definition += style.comment(column.description)
        definitions.append(definition)
        if column.primary_key:
            keys.append(quote(column.name))
        link = column.foreign_key
        if link and link.table and link.column:
            table = ".".join(map(quote, prefixed_name(link.table, build.schema_prefix).split(".")))
            links.append(f"{foreign} ({quote(column.name)}) {references} {table} ({quote(link.column)}){suffix}")
        if column.description and not style.comment:
            comments.append(f"COMMENT ON COLUMN {name}.{quote(column.name)} IS {literal(column.description)};")
    if keys:
        definitions.append(f"{primary} ({', '.join(keys)}){suffix}")
    definitions += links
    separator = ",\n" + style.indent
    script = f"CREATE TABLE IF NOT EXISTS {name} (\n{style.indent}" + separator.join(definitions) + "\n)"
    return script + ";\n" + "\n".join(comments) if comments else script


def with_time_zone(expression: str, column_type: str) -> str:
    """An SCD2 validity timestamp from a key column: as is when the column has a time zone, else read as UTC."""
    kind = column_type.lower()
    if "time zone" in kind or "timestamptz" in kind:
        return f"CAST({expression} AS TIMESTAMPTZ)"
    return f"CAST({expression} AS TIMESTAMP) AT TIME ZONE 'UTC'"


class Scd2Parts(Record):
    """What an SCD2 strategy needs, checked and quoted: every declared column, the primary keys, the
    other columns, the incremental key (or "") and its declared type."""

    columns: list[str]
    keys: list[str]
    others: list[str]
    key: str
    key_type: str


SCD2_COLUMNS = ("_is_current", "_valid_from", "_valid_until")


def scd2_parts(build: Build, strategy: str, *, key_type: Callable[[Build, str], str]) -> Scd2Parts:
    """Upstream's checks, in its order: the key's type, reserved column names, at least one primary key."""
    kind = key_type(build, strategy)
    for column in build.columns:
        if column.name in SCD2_COLUMNS:
            raise BruinError(f"column name {column.name} is reserved for SCD-2 and cannot be used")
    keys = [build.quote(column.name) for column in build.columns if column.primary_key]
    if not keys:
        raise BruinError(
            f"materialization strategy {build.materialization.strategy} requires the primary_key field to be set "
            "on at least one column"
        )
    key = build.materialization.incremental_key
    return Scd2Parts(
        columns=[build.quote(column.name) for column in build.columns],
        keys=keys,
        others=[build.quote(column.name) for column in build.columns if not column.primary_key],
        key=build.quote(key) if key else "",
        key_type=kind,
    )


def check_scd2_rebuild(build: Build, strategy: str) -> None:
    """What rebuilding an SCD2 table needs (upstream's texts): a primary key, and for `SCD2_by_time` the key."""
    if strategy == "SCD2_by_time" and not build.materialization.incremental_key:
        raise BruinError("incremental_key is required for SCD2 strategy")
    if not any(column.primary_key for column in build.columns):
        raise BruinError(
            f"materialization strategy '{strategy}' requires the `primary_key` field to be set on at least one column"
        )


def declared_key_type(
    build: Build, strategy: str, accepted: Callable[[str], bool] = lambda kind: True, kinds: str = "TIMESTAMP or DATE"
) -> str:
    """The declared type of the incremental key ("" when it is not declared); for `SCD2_by_time` it must be one
    `accepted` takes (given lower-cased), else upstream's error naming `kinds`."""
    kind = key_column_type(build)
    if strategy == "SCD2_by_time" and kind and not accepted(kind.lower()):
        raise BruinError(f"incremental_key must be {kinds} in SCD2_by_time strategy")
    return kind


def key_column_type(build: Build) -> str:
    """The declared type of the incremental key, "" when it is not declared."""
    key = build.materialization.incremental_key
    column = build.column(key) if key else None
    return column.type if column else ""


def scd2_select(build: Build, valid_from: str, forever: str) -> str:
    """Every row of the query as a current version: validity from `valid_from` to `forever`."""
    return (
        f"SELECT\n  {valid_from} AS _valid_from,\n  src.*,\n  {forever} AS _valid_until,\n  TRUE AS _is_current\n"
        f"FROM (\n{select_body(build.query).strip()}\n) AS src"
    )


class Scd2Style(Record):
    """How a platform writes the SCD2 strategies (`scd2_strategies`).

    `rebuild` turns `scd2_select`'s query into the script that replaces the table; `moment` makes a validity
    timestamp of a key expression (given the key's declared type); `opened` is a rebuilt row's `_valid_from`
    without a key; `now` is the moment an incremental run closes rows at, fixed for the run by `setup` (the
    first statements of its transaction); `differs` compares a column's old and new value. With `join_update`,
    changed rows are closed by MySQL's `UPDATE ... JOIN`.
    """

    transaction: Transaction
    rebuild: Callable[[Build, str], str]
    key_type: Callable[[Build, str], str]
    moment: Callable[[str, str], str]
    forever: str
    opened: str
    now: str = "CURRENT_TIMESTAMP"
    setup: tuple[str, ...] = ()
    differs: Callable[[str, str], str] = lambda old, new: f"{old} != {new}"
    join_update: bool = False


def scd2_strategies(style: Scd2Style) -> tuple[Strategy, Strategy, Strategy, Strategy]:
    """`scd2_by_column`, `scd2_by_time` and their rebuilds. The rebuild makes every query row current; an
    incremental run, in one transaction, closes current rows whose columns changed (by column) or whose key
    is newer (by time), closes current rows the query no longer has at `now`, and inserts the new versions.
    (Upstream writes one MERGE ... WHEN NOT MATCHED BY SOURCE where the platform has it.)"""

    def by_column_rebuild(build: Build) -> str:
        check_scd2_rebuild(build, "SCD2_by_column")
        key = build.materialization.incremental_key
        valid_from = style.moment(build.quote(key), key_column_type(build)) if key else style.opened
        return style.rebuild(build, scd2_select(build, valid_from, style.forever))

    def by_time_rebuild(build: Build) -> str:
        check_scd2_rebuild(build, "SCD2_by_time")
        valid_from = style.moment(build.quote(build.materialization.incremental_key), key_column_type(build))
        return style.rebuild(build, scd2_select(build, valid_from, style.forever))

    def incremental(build: Build, strategy: str, changed: Callable[[Scd2Parts, str], str], keyed: bool) -> str:
        parts = scd2_parts(build, strategy, key_type=style.key_type)
        moment = style.moment(f"source.{parts.key}", parts.key_type) if keyed else style.now
        name = build.target.reference
        scratch = style.transaction.scratch_name(build.target, "__bruin_scd2_tmp_")
        match = " AND ".join(f"target.{key} = source.{key}" for key in parts.keys)
        close, condition = f"_valid_until = {moment}, _is_current = FALSE", changed(parts, moment)
        if style.join_update:
            close_changed = (f"UPDATE {name} AS target JOIN {scratch} AS source ON {match}\nSET {close}\n"
                             f"WHERE target._is_current AND ({condition})")  # fmt: skip
        else:
            close_changed = (f"UPDATE {name} AS target SET {close}\nFROM {scratch} AS source\n"
                             f"WHERE target._is_current AND {match} AND ({condition})")  # fmt: skip
        return style.transaction.with_scratch(
            scratch,
            build.query,
            close_changed,
            f"UPDATE {name} AS target SET _valid_until = {style.now}, _is_current = FALSE\n"
            f"WHERE target._is_current AND NOT EXISTS (SELECT 1 FROM {scratch} AS source WHERE {match})",
            f"INSERT INTO {name} ({', '.join(parts.columns)}, _valid_from, _valid_until, _is_current)\n"
            f"SELECT {', '.join(f'source.{column}' for column in parts.columns)}, {moment}, {style.forever}, TRUE\n"
            f"FROM {scratch} AS source\n"
            f"WHERE NOT EXISTS (SELECT 1 FROM {name} AS target WHERE {match} AND target._is_current)",
            first=style.setup,
        )

    def by_column(build: Build) -> str:
        def changed(parts: Scd2Parts, _moment: str) -> str:
            return " OR ".join(style.differs(f"target.{c}", f"source.{c}") for c in parts.others) or "FALSE"

        return incremental(build, "SCD2_by_column", changed, keyed=bool(build.materialization.incremental_key))

    def by_time(build: Build) -> str:
        if not build.materialization.incremental_key:
            raise BruinError("incremental_key is required for SCD2_by_time strategy")
        return incremental(build, "SCD2_by_time", lambda _parts, moment: f"target._valid_from < {moment}", True)

    return by_column, by_time, by_column_rebuild, by_time_rebuild


def with_predicate(conditions: list[str], predicate: str) -> list[str]:
    """The merge match conditions and the asset's `incremental_predicate`, in parentheses, when set."""
    predicate = predicate.strip()
    return [*conditions, f"({predicate})"] if predicate else conditions


STRATEGIES: Mapping[str, Mapping[str, Strategy]] = MappingProxyType(
    {
        "table": MappingProxyType({
            "": replace_table,
            "create+replace": replace_table,
            "append": append_to_table,
            "delete+insert": delete_insert,
            "truncate+insert": truncate_insert,
            "time_interval": time_interval,
        }),
        "view": MappingProxyType({"": create_view}),
    }
)  # fmt: skip
REBUILDS: Mapping[str, Strategy] = MappingProxyType(
    dict.fromkeys(("append", "delete+insert", "truncate+insert", "time_interval", "merge"), replace_table)
)


def strategy_tables(
    replace: Strategy, table: Mapping[str, Strategy], scd2: tuple[Strategy, Strategy, Strategy, Strategy]
) -> tuple[Mapping[str, Mapping[str, Strategy]], Mapping[str, Strategy]]:
    """A platform's strategy table and its rebuilds: `replace` builds tables (create+replace, and every
    incremental table from scratch), `table` holds the other table strategies in upstream's order
    (delete+insert, truncate+insert, time_interval, merge, ddl), `scd2` is `scd2_strategies`' four."""
    by_column, by_time, by_column_rebuild, by_time_rebuild = scd2
    strategies = MappingProxyType({
        "table": MappingProxyType({"": replace, "create+replace": replace, "append": append_to_table, **table,
                                   "scd2_by_column": by_column, "scd2_by_time": by_time}),
        "view": MappingProxyType({"": create_view}),
    })  # fmt: skip
    rebuilds = MappingProxyType(
        {**dict.fromkeys(REBUILDS, replace), "scd2_by_column": by_column_rebuild, "scd2_by_time": by_time_rebuild}
    )
    return strategies, rebuilds


def one_query_tables(
    replace: Strategy, transaction: Transaction, merge: Strategy, ddl: Strategy, scd2: Scd2Style
) -> tuple[Mapping[str, Mapping[str, Strategy]], Mapping[str, Strategy]]:
    """`strategy_tables` for a platform (MySQL, Snowflake, BigQuery) whose delete+insert, truncate+insert and
    time_interval are the ANSI ones written its way (`transaction`), and whose scripts take the query as one
    statement (`one_query`)."""
    table = {
        "delete+insert": partial(delete_insert, transaction=transaction),
        "truncate+insert": partial(truncate_insert, transaction=transaction),
        "time_interval": partial(time_interval, transaction=transaction),
        "merge": merge,
    }
    scd2_four = scd2_strategies(scd2)
    return strategy_tables(
        replace,
        {**{name: one_query(strategy) for name, strategy in table.items()}, "ddl": ddl},
        (one_query(scd2_four[0]), one_query(scd2_four[1]), one_query(scd2_four[2]), one_query(scd2_four[3])),
    )


def counted(condition: str, message: str) -> ColumnCheckSql:
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
        "not_null": counted("{c} IS NULL", "column '{c}' has {n} null values"),
        "unique": _unique,
        "positive": counted("{c} <= 0", "column '{c}' has {n} non-positive values"),
        "non_negative": counted("{c} < 0", "column '{c}' has {n} negative values"),
        "negative": counted("{c} >= 0", "column '{c}' has {n} non negative values"),
        "min": counted("{c} < {v}", "column '{c}' has {n} values below minimum {v}"),
        "max": counted("{c} > {v}", "column '{c}' has {n} values above maximum {v}"),
        "accepted_values": counted(
            "CAST({c} as TEXT) NOT IN ({v})", "column '{c}' has {n} rows that are not in the accepted values"
        ),
        "pattern": counted("{c} !~ {v}", "column {c} has {n} values that don't satisfy the pattern {v}"),
        "relationships": _relationships,
    }
)


class AnsiPlatform(Platform):
    """Double-quoted identifiers, the strategies and the column checks above."""

    strategies: ClassVar[Mapping[str, Mapping[str, Strategy]]] = STRATEGIES
    column_checks: ClassVar[Mapping[str, ColumnCheckSql]] = COLUMN_CHECKS
    rebuilds: ClassVar[Mapping[str, Strategy]] = REBUILDS

    def quote_identifier(self, part: str) -> str:
        """Plain names stay unquoted, so they fold the way the user's own SQL folds them."""
        if _PLAIN_IDENTIFIER.match(part):
            return part
        return '"' + part.replace('"', '""') + '"'

    def literal(self, text: str) -> str:
        return literal(text)

    def ensure_schema(self, session: Session, target: Target) -> None:
        ensure_schema(session, target)

    def tables(self, session: Session) -> KnownTables:
        return known_tables(session)

    def table_columns(self, session: Session, target: Target) -> list[str]:
        where = _naming(_TABLE_COLUMNS, target.parts)
        query = f"SELECT column_name FROM information_schema.columns WHERE {where} ORDER BY ordinal_position"
        return [row[0] for row in session.query(query)]

    def quote_name(self, name: str) -> str:
        """A dotted name (`schema.table`), each part quoted as needed."""
        return ".".join(map(self.quote_identifier, name.split(".")))


def exists(session: Session, view: str, columns: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether `view` (an information_schema view) lists `parts`, in the current database unless
    a catalog is named, compared case-insensitively as unquoted names are."""
    return session.query(f"SELECT count(*) FROM {view} WHERE {_naming(columns, parts)}")[0][0] > 0


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
