"""Quality checks on MySQL (MariaDB), Snowflake (fakesnow) and BigQuery (local-bigquery): every built-in check of
`test_checks_sql` passing and failing with each platform's SQL and messages, relationships, custom checks, and
values with quotes and backslashes, which these databases read as escapes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_checks_sql import CASES, Case

from fixtures.bigquery_emulator import PROJECT, BigQueryDataset, service_account_info
from fixtures.mysql_server import MySQLDatabase
from fixtures.snowflake_server import SnowflakeDatabase
from pybruin.config.connections import Connection, build_connection
from pybruin.pipeline.model import Asset, Column, ColumnCheck, CustomCheck, ForeignKey
from pybruin.platforms import platform_for_connection
from pybruin.platforms.checks import CheckFailed
from pybruin.platforms.run import Databases, run_column_check, run_custom_check

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ROWS = [
    (1, 1, 1, -2, -1, "'new'", "'A1'", "'A1'", "DATE '2024-01-01'", 1.5, 1, 1, "'x'"),
    (2, None, 1, -1, -2, "'done'", "'B2'", "'B2'", "DATE '2024-01-10'", 2.0, 2, 1, "'y'"),
    (3, None, 2, 0, -3, "'new'", "'zz'", "'C3'", "DATE '2024-02-01'", 10.25, None, 2, "'z'"),
    (4, 4, None, 5, None, None, None, None, "DATE '2024-03-01'", None, 99, None, "'w'"),
]
COLUMNS = ("id", "holes", "dups", "signed", "negs", "status", "code", "ref", "day", "amount", "customer_id",
           "known_customer", "Odd Name")  # fmt: skip
# What each platform says differently from the shared messages.
MESSAGES = {
    "mysql": {"pattern": "values that do not satisfy the pattern"},
    "google_cloud_platform": {"accepted_values": "column {c} has"},
}


def union_of(rows: list[tuple], quote: Callable[[str], str]) -> str:
    """The rows as a UNION ALL of SELECTs, which every one of these databases reads (VALUES lists differ)."""
    selects = []
    for index, row in enumerate(rows):
        values = ["NULL" if value is None else str(value) for value in row]
        if index == 0:
            values = [f"{value} AS {quote(name)}" for value, name in zip(values, COLUMNS, strict=True)]
        selects.append("SELECT " + ", ".join(values))
    return " UNION ALL ".join(selects)


@pytest.fixture
def databases() -> Iterator[Databases]:
    handles = Databases()
    yield handles
    handles.close()


@pytest.fixture(params=["mysql", "snowflake", "bigquery"])
def warehouse(request: pytest.FixtureRequest, databases: Databases) -> tuple[Connection, str]:
    """A connection holding `items` and `customers` in a fresh schema, and that schema's name."""
    if request.param == "mysql":
        db: MySQLDatabase = request.getfixturevalue("mysql_database")("bruin_checks", "pw-checks-platforms")
        details, schema = db.details(), db.name
    elif request.param == "snowflake":
        sf: SnowflakeDatabase = request.getfixturevalue("snowflake_database")()
        details, schema = sf.details(), "checks_it"
    else:
        bq: BigQueryDataset = request.getfixturevalue("bigquery_dataset")()
        details = {"project_id": PROJECT, "service_account_json": json.dumps(service_account_info())}
        schema = bq.name
    type_key = "google_cloud_platform" if request.param == "bigquery" else request.param
    connection = build_connection(type_key, {"name": "wh", **details}, base_dir=None, environ={})
    platform = platform_for_connection(type_key)
    assert platform is not None
    with databases.session(connection) as session:
        if request.param == "snowflake":
            session.execute(f"CREATE SCHEMA {schema}")
        session.execute(f"CREATE TABLE {schema}.items AS {union_of(ROWS, platform.quote_identifier)}")
        session.execute(f"CREATE TABLE {schema}.customers AS SELECT 1 AS id UNION ALL SELECT 2 UNION ALL SELECT NULL")
    return connection, schema


def asset(name: str, connection: Connection, *columns: Column, custom: tuple[CustomCheck, ...] = ()) -> Asset:
    platform = platform_for_connection(connection.type_key)
    assert platform is not None
    file = Path(f"assets/{name}.sql")
    return Asset(name=name, type=platform.asset_types[0], definition_file=file, executable_file=file,
                 columns=list(columns), custom_checks=list(custom))  # fmt: skip


def check(warehouse: tuple[Connection, str], databases: Databases, column: Column, which: ColumnCheck) -> int | None:
    connection, schema = warehouse
    return run_column_check(asset(f"{schema}.items", connection, column), column, which, connection, databases,
                            schema_prefix="").value  # fmt: skip


def expected_message(case: Case, type_key: str) -> str:
    override = MESSAGES.get(type_key, {}).get(case.check)
    if case.check == "pattern" and override:
        return case.message.replace("values that don't satisfy the pattern", override)
    if case.check == "accepted_values" and override:
        return case.message.replace(f"column '{case.failing}' has", override.format(c=case.failing))
    return case.message


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.check}-{case.failing}")
def test_every_built_in_check_passes_and_fails(
    case: Case, warehouse: tuple[Connection, str], databases: Databases
) -> None:
    which = ColumnCheck(case.check, case.value)
    if case.passing is not None:
        assert check(warehouse, databases, Column(case.passing), which) == 0
    if not case.count:
        assert check(warehouse, databases, Column(case.failing), which) == 0
        return
    with pytest.raises(CheckFailed) as caught:
        check(warehouse, databases, Column(case.failing), which)
    assert str(caught.value) == expected_message(case, warehouse[0].type_key)
    assert (caught.value.outcome.value, caught.value.outcome.expected) == (case.count, 0)


def test_relationships_passes_and_counts_orphans(warehouse: tuple[Connection, str], databases: Databases) -> None:
    schema = warehouse[1]
    reference = ForeignKey(f"{schema}.customers", "id")
    which = ColumnCheck("relationships")

    assert check(warehouse, databases, Column("known_customer", foreign_key=reference), which) == 0
    with pytest.raises(CheckFailed) as caught:
        check(warehouse, databases, Column("customer_id", foreign_key=reference), which)
    assert str(caught.value) == f"column 'customer_id' has 1 rows with values missing from '{schema}.customers.id'"


def test_custom_checks_compare_a_value_or_a_row_count(warehouse: tuple[Connection, str], databases: Databases) -> None:
    connection, schema = warehouse

    def custom(which: CustomCheck, query: str) -> int | None:
        return run_custom_check(asset(f"{schema}.items", connection, custom=(which,)), which, connection, databases,
                                rendered_query=query).value  # fmt: skip

    assert custom(CustomCheck("four", "q", value=4), f"SELECT count(*) FROM {schema}.items") == 4
    assert custom(CustomCheck("rows", "q", count=2), f"SELECT * FROM {schema}.items WHERE status = 'new';") == 2
    with pytest.raises(CheckFailed) as caught:
        custom(CustomCheck("zero", "q"), f"SELECT count(*) FROM {schema}.items")
    assert str(caught.value) == "custom check 'zero' has returned 4 instead of the expected 0"


def test_values_with_quotes_and_backslashes_are_values_not_sql(
    warehouse: tuple[Connection, str], databases: Databases
) -> None:
    connection, schema = warehouse
    platform = platform_for_connection(connection.type_key)
    assert platform is not None
    words = ["it's", "back\\slash", "x'); DROP TABLE items; --"]
    with databases.session(connection) as session:
        selects = " UNION ALL ".join(f"SELECT {platform.literal(word)} AS word" for word in words[:2])
        session.execute(f"CREATE TABLE {schema}.quoted AS {selects}")
    word = Column("word")

    passed = run_column_check(asset(f"{schema}.quoted", connection, word), word,
                              ColumnCheck("accepted_values", tuple(words)), connection, databases, schema_prefix="")
    with pytest.raises(CheckFailed):
        run_column_check(asset(f"{schema}.quoted", connection, word), word,
                         ColumnCheck("accepted_values", ("it's", "back\\\\slash")), connection, databases,
                         schema_prefix="")  # fmt: skip

    assert passed.value == 0
    with databases.session(connection) as session:
        assert session.query(f"SELECT count(*) FROM {schema}.items") == [(4,)]
