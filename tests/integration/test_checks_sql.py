"""Quality checks on real databases: every built-in check passing and failing on a DuckDB file and on the real
PostgreSQL server, custom checks, NULL semantics, quoting, and one-line errors that never show a credential."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.postgres_server import PgDatabase
from pybruin.config.connections import Connection, build_connection
from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset, CheckValue, Column, ColumnCheck, CustomCheck, ForeignKey
from pybruin.platforms.checks import CheckFailed
from pybruin.platforms.run import Databases, run_column_check, run_custom_check

CANARY_PASSWORD = "canary-checks pw'=\\@x-" + uuid.uuid4().hex[:8]

# Four rows; every check below passes on one column and fails on another with a known count.
TABLE = """
CREATE TABLE {schema}.items AS SELECT * FROM (VALUES
  (1, 1,    1,    -2, -1,   'new',  'A1', 'A1', DATE '2024-01-01', 1.5,   1,    1,    'x'),
  (2, NULL, 1,    -1, -2,   'done', 'B2', 'B2', DATE '2024-01-10', 2.0,   2,    1,    'y'),
  (3, NULL, 2,    0,  -3,   'new',  'zz', 'C3', DATE '2024-02-01', 10.25, NULL, 2,    'z'),
  (4, 4,    NULL, 5,  NULL, NULL,   NULL, NULL, DATE '2024-03-01', NULL,  99,   NULL, 'w')
) AS t(id, holes, dups, signed, negs, status, code, ref, day, amount, customer_id, known_customer, "Odd Name")
"""
CUSTOMERS = "CREATE TABLE {schema}.customers AS SELECT * FROM (VALUES (1), (2), (NULL)) AS t(id)"


@dataclass(frozen=True)
class Case:
    check: str
    value: CheckValue
    passing: str | None  # a column it passes on
    failing: str  # a column it fails on
    count: int  # how many rows fail there
    message: str  # the failure message, with {c} for the failing column


CASES = [
    Case("not_null", None, "id", "holes", 2, "column 'holes' has 2 null values"),
    Case("unique", None, "id", "dups", 1, "column 'dups' has 1 non-unique values"),
    Case("positive", None, "id", "signed", 3, "column 'signed' has 3 non-positive values"),
    Case("non_negative", None, "id", "signed", 2, "column 'signed' has 2 negative values"),
    Case("negative", None, "negs", "signed", 2, "column 'signed' has 2 non negative values"),
    Case("min", 1, "id", "signed", 3, "column 'signed' has 3 values below minimum 1"),
    Case("min", 1.5, "amount", "signed", 3, "column 'signed' has 3 values below minimum 1.500000"),
    Case("min", "2024-01-01", "day", "day", 0, ""),
    Case("max", 4, "id", "signed", 1, "column 'signed' has 1 values above maximum 4"),
    Case("max", 10.25, "amount", "amount", 0, ""),
    Case("max", "2024-01-15", None, "day", 2, "column 'day' has 2 values above maximum 2024-01-15"),
    Case("accepted_values", ("new", "done"), "status", "code", 3,
         "column 'code' has 3 rows that are not in the accepted values"),
    Case("accepted_values", (1, 2, 3, 4), "id", "signed", 4,
         "column 'signed' has 4 rows that are not in the accepted values"),
    Case("pattern", "^[A-Z][0-9]$", "ref", "code", 1,
         "column code has 1 values that don't satisfy the pattern ^[A-Z][0-9]$"),
    Case("pattern", "^[a-z]$", "Odd Name", "status", 3,
         "column status has 3 values that don't satisfy the pattern ^[a-z]$"),
]  # fmt: skip


@pytest.fixture
def databases() -> Iterator[Databases]:
    handles = Databases()
    yield handles
    handles.close()


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path, databases: Databases) -> tuple[Connection, str]:
    """A connection holding `TABLE` and `CUSTOMERS` in a fresh schema, and that schema's name."""
    if request.param == "duckdb":
        connection = build_connection("duckdb", {"name": "duck", "path": str(tmp_path / "w.db")}, base_dir=None,
                                      environ={})  # fmt: skip
    else:
        pg_database: Callable[[str, str], PgDatabase] = request.getfixturevalue("pg_database")
        database = pg_database("bruin_checks", CANARY_PASSWORD)
        connection = build_connection("postgres", {"name": "pg", **database.details()}, base_dir=None, environ={})
    schema = "checks_it"
    with databases.session(connection) as session:
        session.execute(f"CREATE SCHEMA {schema}")
        session.execute(TABLE.format(schema=schema))
        session.execute(CUSTOMERS.format(schema=schema))
    return connection, schema


def asset(name: str, connection: Connection, *columns: Column, custom: tuple[CustomCheck, ...] = ()) -> Asset:
    asset_type = "duckdb.sql" if connection.type_key == "duckdb" else "pg.sql"
    file = Path(f"assets/{name}.sql")
    return Asset(name=name, type=asset_type, definition_file=file, executable_file=file, columns=list(columns),
                 custom_checks=list(custom))  # fmt: skip


def check(warehouse: tuple[Connection, str], databases: Databases, column: Column, which: ColumnCheck) -> int | None:
    connection, schema = warehouse
    return run_column_check(asset(f"{schema}.items", connection, column), column, which, connection, databases,
                            schema_prefix="").value  # fmt: skip


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
    assert str(caught.value) == case.message
    assert (caught.value.outcome.value, caught.value.outcome.expected) == (case.count, 0)
    assert " FROM checks_it.items" in caught.value.outcome.query


def test_relationships_passes_and_counts_orphans(warehouse: tuple[Connection, str], databases: Databases) -> None:
    schema = warehouse[1]
    reference = ForeignKey(f"{schema}.customers", "id")
    which = ColumnCheck("relationships")
    assert check(warehouse, databases, Column("known_customer", foreign_key=reference), which) == 0
    with pytest.raises(CheckFailed) as caught:
        check(warehouse, databases, Column("customer_id", foreign_key=reference), which)
    assert str(caught.value) == "column 'customer_id' has 1 rows with values missing from 'checks_it.customers.id'"
    with pytest.raises(BruinError) as missing:
        check(warehouse, databases, Column("customer_id"), which)
    assert str(missing.value) == (
        "relationships check on column 'customer_id' requires foreign_key.table and foreign_key.column"
    )


def custom(warehouse: tuple[Connection, str], databases: Databases, which: CustomCheck, query: str) -> int | None:
    connection, schema = warehouse
    return run_custom_check(asset(f"{schema}.items", connection, custom=(which,)), which, connection, databases,
                            rendered_query=query.format(schema=schema)).value  # fmt: skip


def test_custom_checks_compare_a_value_a_boolean_or_a_row_count(
    warehouse: tuple[Connection, str], databases: Databases
) -> None:
    assert custom(warehouse, databases, CustomCheck("four", "q", value=4), "SELECT count(*) FROM {schema}.items") == 4
    zero = CustomCheck("zero", "q")
    assert custom(warehouse, databases, zero, "SELECT count(*) FROM {schema}.items WHERE id > 9;") == 0
    assert custom(warehouse, databases, CustomCheck("bool", "q", value=1),
                  "SELECT count(*) = 4 FROM {schema}.items") == 1  # fmt: skip
    rows = CustomCheck("row_count", "q", count=2)
    assert custom(warehouse, databases, rows, "SELECT * FROM {schema}.items WHERE status = 'new';") == 2
    with pytest.raises(CheckFailed) as caught:
        custom(warehouse, databases, CustomCheck("row_count", "q", count=7), "SELECT * FROM {schema}.items")
    assert str(caught.value) == "custom check 'row_count' has returned 4 instead of the expected 7"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT id FROM {schema}.items WHERE id > 9",
         "failed to parse 'c' check result: multiple results are returned from query, please make sure your query "
         "just expects one value - value: []"),
        ("SELECT 1, 2", "failed to parse 'c' check result: multiple results are returned from query, please make "
                        "sure your query just expects one value - value: [[1 2]]"),
        ("SELECT NULL", "failed to parse 'c' check result: unexpected result from query, result is nil"),
        ("SELECT 'lots'", "failed to parse 'c' check result: unexpected result from query, cannot cast result string "
                          "to integer: [[lots]]"),
        ("SELECT * FROM {schema}.no_such_table", "failed 'c' check: "),
    ],
)  # fmt: skip
def test_custom_checks_that_cannot_be_decided_are_one_line_errors(
    warehouse: tuple[Connection, str], databases: Databases, query: str, message: str
) -> None:
    with pytest.raises(CheckFailed) as caught:
        custom(warehouse, databases, CustomCheck("c", "q"), query)
    text = str(caught.value)
    assert text.startswith(message) and "\n" not in text
    assert CANARY_PASSWORD not in text and caught.value.__suppress_context__
    assert caught.value.outcome.value is None


def test_a_pattern_the_database_cannot_read_fails_the_check(
    warehouse: tuple[Connection, str], databases: Databases
) -> None:
    with pytest.raises(CheckFailed) as caught:
        check(warehouse, databases, Column("code"), ColumnCheck("pattern", "(["))
    text = str(caught.value)
    assert text.startswith("failed 'pattern' check: ") and "\n" not in text
    assert CANARY_PASSWORD not in text


def test_values_with_quotes_are_values_not_sql(warehouse: tuple[Connection, str], databases: Databases) -> None:
    connection, schema = warehouse
    with databases.session(connection) as session:
        session.execute(f"CREATE TABLE {schema}.quoted AS SELECT 'it''s' AS word")
    which = ColumnCheck("accepted_values", ("it's", "x'); DROP TABLE checks_it.items; --"))
    run_column_check(asset(f"{schema}.quoted", connection, Column("word")), Column("word"), which, connection,
                     databases, schema_prefix="")  # fmt: skip
    with databases.session(connection) as session:
        assert session.query(f"SELECT count(*) FROM {schema}.items") == [(4,)]


def test_checks_query_the_prefixed_table_and_quote_odd_names(
    warehouse: tuple[Connection, str], databases: Databases
) -> None:
    connection, _ = warehouse
    with databases.session(connection) as session:
        session.execute('CREATE SCHEMA dev_Shop')
        session.execute('CREATE TABLE dev_Shop."order items" AS SELECT 1 AS "Unit Price"')
    column = Column("Unit Price")
    outcome = run_column_check(asset("Shop.order items", connection, column), column, ColumnCheck("positive"),
                               connection, databases, schema_prefix="dev_")  # fmt: skip
    assert outcome.query == 'SELECT count(*) FROM dev_Shop."order items" WHERE "Unit Price" <= 0'
    assert outcome.value == 0


def test_checks_of_a_python_asset_run_on_its_connections_platform(
    warehouse: tuple[Connection, str], databases: Databases
) -> None:
    connection, schema = warehouse
    file = Path("assets/load.py")
    python = Asset(name=f"{schema}.items", type="python", definition_file=file, executable_file=file,
                   connection=connection.name)  # fmt: skip
    assert run_column_check(python, Column("id"), ColumnCheck("unique"), connection, databases,
                            schema_prefix="").value == 0  # fmt: skip
    generic = build_connection("generic", {"name": "key", "value": "v"}, base_dir=None, environ={})
    with pytest.raises(BruinError) as caught:
        run_column_check(python, Column("id"), ColumnCheck("unique"), generic, databases, schema_prefix="")
    assert str(caught.value) == "connection 'key' cannot be used for the check 'unique'"
