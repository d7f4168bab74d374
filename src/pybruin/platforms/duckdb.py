"""DuckDB: `duckdb.sql` and `duckdb.seed` assets on a database file (or in memory), one instance per file
per run. DuckDB has no MERGE, so `merge` updates and inserts from a scratch table; SCD2 tables are rebuilt
by one `CREATE OR REPLACE TABLE ... AS` statement (upstream's SQL)."""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pybruin.errors import BruinError
from pybruin.platforms.ansi import (
    AnsiPlatform,
    DdlStyle,
    Transaction,
    check_scd2_rebuild,
    ddl_table,
    delete_insert,
    ensure_schema,
    literal,
    merge_by_update,
    replace_table,
    scd2_parts,
    select_body,
    strategy_tables,
    time_interval,
    truncate_insert,
    with_time_zone,
)
from pybruin.platforms.base import Build, Database, Session, Target
from pybruin.platforms.seeding import csv_header, declared_types

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.pipeline.seeds import Seed

MEMORY = ":memory:"
#: How DuckDB names each kind of declared seed column type.
SEED_TYPES = MappingProxyType({
    "smallint": "SMALLINT", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE", "decimal": "DECIMAL(38, 9)",
    "decimal()": "DECIMAL({})", "binary": "BLOB", "bool": "BOOLEAN", "date": "DATE", "time": "TIME",
    "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP", "interval": "INTERVAL",
    "text": "VARCHAR", "text()": "VARCHAR({})", "json": "JSON",
})  # fmt: skip
_NOW = "CURRENT_TIMESTAMP"
_FOREVER = "TIMESTAMPTZ '9999-12-31 23:59:59+00'"


#: DuckDB's merge drops its scratch table without IF EXISTS (upstream's text).
_MERGE_TRANSACTION = Transaction(drop_scratch="DROP TABLE")


def merge(build: Build) -> str:
    """Update the matching rows' merge columns, then insert the declared columns of the new rows."""
    return merge_by_update(build, _MERGE_TRANSACTION)


def ddl(build: Build) -> str:
    return ddl_table(build, DdlStyle(indent="  ", lower_keys=False, collation=str))


def scd2_by_column(build: Build) -> str:
    parts = scd2_parts(build, "SCD2_by_column", key_type=_key_type)
    key = parts.key
    change = " OR ".join(f"t.{column} != s.{column}" for column in parts.others)
    closed_at = with_time_zone(f"s.{key}", parts.key_type) if key else "(SELECT now FROM time_now)"
    return _scd2_script(build, parts.columns, parts.keys, change, closed_at, closed_at)


def scd2_by_time(build: Build) -> str:
    if not build.materialization.incremental_key:
        raise BruinError("incremental_key is required for SCD2_by_time strategy")
    parts = scd2_parts(build, "SCD2_by_time", key_type=_key_type)
    moment = with_time_zone(f"s.{parts.key}", parts.key_type)
    return _scd2_script(build, parts.columns, parts.keys, f"{moment} > t._valid_from", moment, moment)


def scd2_by_column_rebuild(build: Build) -> str:
    check_scd2_rebuild(build, "SCD2_by_column")
    key = build.materialization.incremental_key
    valid_from = _NOW
    if key:
        valid_from = with_time_zone(f"src.{build.quote(key)}", _key_type(build, "SCD2_by_column"))
    return _scd2_rebuild(build, valid_from)


def scd2_by_time_rebuild(build: Build) -> str:
    check_scd2_rebuild(build, "SCD2_by_time")
    key = build.materialization.incremental_key
    return _scd2_rebuild(build, with_time_zone(f"src.{build.quote(key)}", _key_type(build, "SCD2_by_time")))


def _scd2_rebuild(build: Build, valid_from: str) -> str:
    columns = ", ".join(f"src.{build.quote(column.name)}" for column in build.columns)
    return (
        f"CREATE OR REPLACE TABLE {build.target.reference} AS\nSELECT {columns},\n{valid_from} AS _valid_from,\n"
        f"{_FOREVER} AS _valid_until,\nTRUE AS _is_current\nFROM ({select_body(build.query).strip()}\n) AS src;"
    )


def _scd2_script(
    build: Build, columns: list[str], keys: list[str], change: str, closed_at: str, valid_from: str
) -> str:
    """Upstream's one-statement SCD2 rebuild: keep the target's rows (closing changed and vanished ones)
    and add the source's new and changed rows."""
    name = build.target.reference
    join = " AND ".join(f"t.{key} = s.{key}" for key in keys)
    user = ", ".join(columns)
    every = ", ".join([*columns, "_valid_from", "_valid_until", "_is_current"])
    lines = [
        f"CREATE OR REPLACE TABLE {name} AS",
        "WITH",
        "time_now AS (",
        f"\tSELECT {_NOW} AS now",
        "),",
        "source AS (",
        f"\tSELECT {user},",
        "\tTRUE as _matched_by_source",
        f"\tFROM ({select_body(build.query).strip()}",
        "\t)",
        "),",
        "target AS (",
        f"\tSELECT {every},",
        f"\tTRUE as _matched_by_target FROM {name}",
        "),",
        "current_data AS (",
        f"\tSELECT {every}, _matched_by_target",
        "\tFROM target as t",
        "\tWHERE _is_current = TRUE",
        "),",
        "--current or updated (expired) existing rows from target",
        "to_keep AS (",
        f"\tSELECT {', '.join(f't.{column}' for column in columns)},",
        "\tt._valid_from,",
        "\t\tCASE",
        f"\t\t\tWHEN _matched_by_source IS NOT NULL AND ({change}) THEN {closed_at}",
        "\t\t\tWHEN _matched_by_source IS NULL THEN (SELECT now FROM time_now)",
        "\t\t\tELSE t._valid_until",
        "\t\tEND AS _valid_until,",
        "\t\tCASE",
        f"\t\t\tWHEN _matched_by_source IS NOT NULL AND ({change}) THEN FALSE",
        "\t\t\tWHEN _matched_by_source IS NULL THEN FALSE",
        "\t\t\tELSE t._is_current",
        "\t\tEND AS _is_current",
        "\tFROM target t",
        f"\tLEFT JOIN source s ON ({join}) AND t._is_current = TRUE",
        "),",
        "--new/updated rows from source",
        "to_insert AS (",
        f"\tSELECT {', '.join(f's.{column} AS {column}' for column in columns)},",
        f"\t{valid_from} AS _valid_from,",
        f"\t{_FOREVER} AS _valid_until,",
        "\tTRUE AS _is_current",
        "\tFROM source s",
        f"\tLEFT JOIN current_data t ON ({join})",
        f"\tWHERE (_matched_by_target IS NULL) OR ({change})",
        ")",
        f"SELECT {every} FROM to_keep",
        "UNION ALL",
        f"SELECT {every} FROM to_insert;",
    ]
    return "\n".join(lines)


def _key_type(build: Build, strategy: str) -> str:
    """The declared type of the incremental key: a timestamp type or `date`."""
    key = build.materialization.incremental_key
    if not key:
        return ""
    column = build.column(key)
    if column is None:
        raise BruinError(f"incremental_key column {key} not found")
    kind = column.type.lower()
    if "timestamp" not in kind and kind != "date":
        raise BruinError(f"incremental_key must be TIMESTAMP or DATE in {strategy} strategy")
    return column.type


class DuckDBPlatform(AnsiPlatform):
    name = "duckdb"
    connection_types = ("duckdb",)
    asset_types = ("duckdb.sql",)
    seed_types = ("duckdb.seed",)
    column_types = SEED_TYPES
    python_data = True
    strategies, rebuilds = strategy_tables(
        replace_table,
        {"delete+insert": delete_insert, "truncate+insert": truncate_insert, "time_interval": time_interval,
         "merge": merge, "ddl": ddl},
        (scd2_by_column, scd2_by_time, scd2_by_column_rebuild, scd2_by_time_rebuild),
    )  # fmt: skip

    def default_schema(self, connection: Connection | None) -> str:
        return "main"

    def load_seed(self, session: Session, target: Target, seed: Seed) -> None:
        """One `CREATE OR REPLACE TABLE ... AS SELECT * FROM read_csv(...)`: DuckDB reads the file itself,
        declared types are given to its CSV reader, the other columns' types are detected."""
        types = declared_types(seed, csv_header(seed.path), SEED_TYPES)
        options = ", types = {" + ", ".join(f"{literal(n)}: {literal(t)}" for n, t in types.items()) + "}"
        ensure_schema(session, target)
        session.execute(
            f"CREATE OR REPLACE TABLE {target.reference} AS SELECT * FROM "
            f"read_csv({literal(str(seed.path))}, header = true{options if types else ''})"
        )

    def open(self, connection: Connection) -> Database:
        if connection.lakehouse is not None:
            # Attaching an Iceberg or DuckLake catalog is not implemented; running without it would write
            # to the plain file instead of the lakehouse the user configured.
            raise BruinError(
                f"connection '{connection.name}': 'lakehouse' (an attached Iceberg or DuckLake catalog) "
                "is not supported by pybruin yet"
            )
        return DuckDBDatabase(self, connection)

    def column_type(self, type_code: object) -> str:
        """DuckDB's own type names, nested types by kind (`LIST`, `STRUCT`, `MAP`), as upstream shows them."""
        name = str(type_code)
        if name.endswith("]"):
            return "LIST"
        return next((kind for kind in ("STRUCT", "MAP", "UNION") if name.startswith(kind + "(")), name)

    def database_key(self, connection: Connection) -> Hashable:
        """The file, resolved, and whether it is opened read-only: names of one file share its instance."""
        path = _path(connection)
        where = path if path == MEMORY else str(Path(path).resolve())
        return (where, "read_only" if connection.read_only else "read_write")

    def ping(self, connection: Connection) -> None:
        # Opening a missing file would create it: a test must not leave a new database behind.
        path = _path(connection)
        if path != MEMORY and not os.path.exists(path):
            raise BruinError(f"database file '{path}' does not exist")
        super().ping(connection)


class DuckDBDatabase(Database):
    """One DuckDB instance per file, kept open from one SQL asset to the next.

    Opening a DuckDB file costs more than a trivial statement, so a chain of SQL assets shares one
    instance; each session gets its own cursor, because DuckDB cursors are per thread. DuckDB lets
    only one process open a file for writing, though, so the run calls `release_idle` before it
    starts an asset process that may open the file itself. An in-memory database stays open for
    the whole run, or it would be lost.
    """

    def __init__(self, platform: DuckDBPlatform, connection: Connection) -> None:
        import duckdb

        super().__init__(platform, connection, driver_error=duckdb.Error)
        self._duckdb = duckdb
        self._path = _path(connection)
        self._read_only = bool(connection.read_only)
        self._lock = threading.Lock()
        self._root: Any = None
        self._sessions = 0

    def release_idle(self) -> None:
        with self._lock:
            if self._sessions == 0 and self._path != MEMORY:
                self._close_root()

    def close(self) -> None:
        with self._lock:
            self._close_root()

    def _acquire(self) -> Any:
        with self._lock:
            if self._root is None:
                self._root = self._open()
            cursor = self._root.cursor()
            self._sessions += 1
        return cursor

    def _release(self, handle: Any, *, reusable: bool) -> None:
        handle.close()
        with self._lock:
            self._sessions -= 1

    def _interrupt(self, handle: Any) -> None:
        handle.interrupt()

    def _stage(self, handle: Any, name: str, data: Any, target: Target) -> str:
        """A view on the Arrow table itself, for this cursor only: nothing is copied before the strategy's
        own statement reads it."""
        handle.register(name, data)
        return name

    def _unstage(self, handle: Any, name: str) -> None:
        handle.unregister(name)

    def _open(self) -> Any:
        if self._path != MEMORY and not self._read_only:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._duckdb.connect(self._path, read_only=self._read_only)
        except self._duckdb.Error as exc:
            raise BruinError(
                f"could not open duckdb connection '{self.connection.name}' at {self._path}: {self.error(exc)}"
            ) from None

    def _close_root(self) -> None:
        if self._root is not None:
            self._root.close()
            self._root = None


def _path(connection: Connection) -> str:
    return connection.path or MEMORY
