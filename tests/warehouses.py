"""Shared set-up for the materialization end-to-end tests: a warehouse connection (a DuckDB file or a database
on the session's PostgreSQL server), asset files, and reading tables back as comparable text."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import BruinProject
    from fixtures.postgres_server import PgDatabase

ASSET_TYPES = {"duckdb": "duckdb.sql", "postgres": "pg.sql"}
SEED_TYPES = {"duckdb": "duckdb.seed", "postgres": "pg.seed"}


def text(value: object) -> str:
    """A value as the expectations spell it: CSV-like text, booleans lower-case, timestamps in UTC ISO form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


@dataclass
class Warehouse:
    """The `wh` connection of a test project, on one platform."""

    platform: str
    project: BruinProject
    database: PgDatabase | None

    @property
    def asset_type(self) -> str:
        return ASSET_TYPES[self.platform]

    @property
    def seed_type(self) -> str:
        return SEED_TYPES[self.platform]

    def connection(self) -> dict[str, object]:
        if self.database is None:
            return {"name": "wh", "path": "w.db"}
        return {"name": "wh", **self.database.details()}

    def configure(self, **environment: object) -> None:
        """`.bruin.yml` with the `wh` connection in the `default` environment (and `environment`'s extra keys)."""
        env = {"connections": {self.platform: [self.connection()]}, **environment}
        self.project.write(".bruin.yml", json.dumps({"default_environment": "default",
                                                     "environments": {"default": env}}))  # fmt: skip

    def pipeline(self, name: str = "p", extra: str = "") -> None:
        text = f"name: {name}\ndefault_connections:\n  {self.platform}: wh\n{extra}"
        self.project.write(f"{name}/pipeline.yml", text)

    def rows(self, sql: str) -> list[tuple[str, ...]]:
        """The query's rows as text, in the order the query gives them."""
        if self.database is None:
            import duckdb

            with duckdb.connect(str(self.project.root / "w.db"), read_only=True) as db:
                found = db.execute(sql).fetchall()
        else:
            with self.database.server.connect(self.database.name) as conn:
                found = conn.execute(sql).fetchall()
        return [tuple(text(value) for value in row) for row in found]

    def column_types(self, table: str, columns: tuple[str, ...]) -> list[tuple[str, str]]:
        schema, name = table.split(".")
        listed = ", ".join(f"'{column}'" for column in columns)
        return [(column, kind.upper()) for column, kind in self.rows(
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{name}' and column_name in ({listed}) "
            "order by column_name"
        )]  # fmt: skip


def csv_rows(text_block: str) -> list[tuple[str, ...]]:
    """Expectations written as CSV lines (no header)."""
    return [tuple(line.split(",")) for line in text_block.strip().splitlines()]


def sql_file(name: str, asset_type: str, header: str, body: str) -> str:
    return f"/* @bruin\nname: {name}\ntype: {asset_type}\n{header.strip()}\n@bruin */\n{body.strip()}\n"


WarehouseFactory = Callable[[str], Warehouse]


def asset_path(project: BruinProject, pipeline: str, name: str) -> Path:
    return project.root / pipeline / "assets" / f"{name}.sql"
