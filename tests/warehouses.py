"""Shared set-up for the end-to-end tests on databases: a warehouse connection (a DuckDB file or a database on
the session's PostgreSQL server), one of the MySQL, Snowflake and BigQuery platforms (`Case`), asset files, and
reading tables back as comparable text."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fixtures.bigquery_emulator import PROJECT, BigQueryDataset, service_account_info

if TYPE_CHECKING:
    from conftest import BruinProject
    from fixtures.mysql_server import MySQLDatabase
    from fixtures.postgres_server import PgDatabase
    from fixtures.snowflake_server import SnowflakeDatabase

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


#: A seed asset loading `people.csv` (`{name}`, `{type}`): three declared columns, one of them in other case.
SEED = """name: {name}
type: {type}
parameters:
  path: people.csv
columns:
  - {{name: id, type: INTEGER}}
  - {{name: Score, type: DOUBLE}}
  - {{name: name, type: VARCHAR}}
"""
#: The platforms `Case` stands for.
PLATFORMS = ["mysql", "snowflake", "bigquery"]


@dataclass
class Case:
    """One platform as a test sees it: the connection, the asset type, where tables go, and a way to read them."""

    type_key: str
    asset_type: str
    details: dict[str, object]
    secret_field: str  # the field a `${VAR}` carries
    schema: str  # the qualifier of the test's tables ("" for the connection's own schema)
    rows: Callable[[str], list[tuple]]

    @property
    def secret(self) -> str:
        """The string that must never appear: the password, or a line of the service account's private key
        (which appears as written in every form of the key: PEM, and JSON with escaped newlines)."""
        if self.secret_field == "service_account_json":
            return service_account_info()["private_key"].splitlines()[2]
        return str(self.details[self.secret_field])

    @property
    def seed_type(self) -> str:
        return self.asset_type.replace(".sql", ".seed")

    def table(self, name: str) -> str:
        return f"{self.schema}.{name}" if self.schema else name


def platform_case(request: pytest.FixtureRequest, platform: str, user: str, password: str) -> Case:
    """A fresh database (MariaDB), database and schema `analytics` (fakesnow) or dataset (the BigQuery emulator);
    MySQL's account and Snowflake's login use `user` and `password`."""
    if platform == "mysql":
        db: MySQLDatabase = request.getfixturevalue("mysql_database")(user, password)
        return Case("mysql", "my.sql", db.details(), "password", "", db.rows)
    if platform == "snowflake":
        sf: SnowflakeDatabase = request.getfixturevalue("snowflake_database")()
        return Case("snowflake", "sf.sql", sf.details(password=password), "password", "analytics", sf.rows)
    bq: BigQueryDataset = request.getfixturevalue("bigquery_dataset")()
    details = {"project_id": PROJECT, "service_account_json": json.dumps(service_account_info())}
    return Case("google_cloud_platform", "bq.sql", details, "service_account_json", bq.name, bq.rows)


def csv_rows(text_block: str) -> list[tuple[str, ...]]:
    """Expectations written as CSV lines (no header)."""
    return [tuple(line.split(",")) for line in text_block.strip().splitlines()]


def sql_file(name: str, asset_type: str, header: str, body: str) -> str:
    return f"/* @bruin\nname: {name}\ntype: {asset_type}\n{header.strip()}\n@bruin */\n{body.strip()}\n"


WarehouseFactory = Callable[[str], Warehouse]


def asset_path(project: BruinProject, pipeline: str, name: str) -> Path:
    return project.root / pipeline / "assets" / f"{name}.sql"
