"""Check queries through the platform interface (upstream's SQL, identifiers quoted and values quoted per
platform), custom-check wrapping, failure messages, and reading a check's result as upstream does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pybruin.config.connections import build_connection
from pybruin.errors import BruinError
from pybruin.pipeline.model import Column, ColumnCheck, CustomCheck, ForeignKey
from pybruin.platforms import PLATFORMS
from pybruin.platforms.base import Platform, Target
from pybruin.platforms.checks import result_as_integer
from pybruin.platforms.duckdb import DuckDBPlatform

PLATFORM = DuckDBPlatform()
TABLE = Target(("main", "products"), ("main", "products"))
ODD_TABLE = Target(("Shop", "order items"), ("Shop", '"order items"'))


def query(check: ColumnCheck, column: str = "price", table: Target = TABLE, **kw: object) -> tuple[str, str]:
    built = PLATFORM.column_check_query(table, Column(column, **kw), check)  # type: ignore[arg-type]
    return built.sql, built.describe(3)


@pytest.mark.parametrize(
    ("check", "sql", "message"),
    [
        (ColumnCheck("not_null"), "SELECT count(*) FROM main.products WHERE price IS NULL",
         "column 'price' has 3 null values"),
        (ColumnCheck("unique"), "SELECT COUNT(price) - COUNT(DISTINCT price) FROM main.products",
         "column 'price' has 3 non-unique values"),
        (ColumnCheck("positive"), "SELECT count(*) FROM main.products WHERE price <= 0",
         "column 'price' has 3 non-positive values"),
        (ColumnCheck("non_negative"), "SELECT count(*) FROM main.products WHERE price < 0",
         "column 'price' has 3 negative values"),
        (ColumnCheck("negative"), "SELECT count(*) FROM main.products WHERE price >= 0",
         "column 'price' has 3 non negative values"),
        (ColumnCheck("min", 10), "SELECT count(*) FROM main.products WHERE price < 10",
         "column 'price' has 3 values below minimum 10"),
        (ColumnCheck("min", 0.5), "SELECT count(*) FROM main.products WHERE price < 0.500000",
         "column 'price' has 3 values below minimum 0.500000"),
        (ColumnCheck("max", "2024-01-01"), "SELECT count(*) FROM main.products WHERE price > '2024-01-01'",
         "column 'price' has 3 values above maximum 2024-01-01"),
        (ColumnCheck("accepted_values", ("a", "b")),
         "SELECT count(*) FROM main.products WHERE CAST(price as TEXT) NOT IN ('a','b')",
         "column 'price' has 3 rows that are not in the accepted values"),
        (ColumnCheck("accepted_values", (1, 2)),
         "SELECT count(*) FROM main.products WHERE CAST(price as TEXT) NOT IN ('1','2')",
         "column 'price' has 3 rows that are not in the accepted values"),
        (ColumnCheck("pattern", "^[A-Z]+$"), "SELECT count(*) FROM main.products WHERE price !~ '^[A-Z]+$'",
         "column price has 3 values that don't satisfy the pattern ^[A-Z]+$"),
    ],
)  # fmt: skip
def test_column_check_queries_and_messages_are_upstreams(check: ColumnCheck, sql: str, message: str) -> None:
    assert query(check) == (sql, message)


def test_relationships_counts_child_values_missing_from_the_referenced_column() -> None:
    parent = Target(("main", "customers"), ("main", "customers"))
    column = Column("customer_id", foreign_key=ForeignKey("customers", "id"))
    built = PLATFORM.column_check_query(TABLE, column, ColumnCheck("relationships"), parent)
    assert built.sql == (
        "SELECT COUNT(*) FROM main.products bruin_relationship_child WHERE bruin_relationship_child.customer_id IS "
        "NOT NULL AND bruin_relationship_child.customer_id NOT IN (SELECT bruin_relationship_parent.id FROM "
        "main.customers bruin_relationship_parent WHERE bruin_relationship_parent.id IS NOT NULL)"
    )
    assert built.describe(1) == "column 'customer_id' has 1 rows with values missing from 'customers.id'"


def test_identifiers_are_quoted_and_values_are_literals_so_nothing_breaks_out_of_the_query() -> None:
    sql, message = query(ColumnCheck("accepted_values", ("it's", "a'); DROP TABLE x; --")), 'weird "col"', ODD_TABLE)
    assert sql == (
        'SELECT count(*) FROM Shop."order items" WHERE CAST("weird ""col""" as TEXT) NOT IN '
        "('it''s','a''); DROP TABLE x; --')"
    )
    assert message == "column 'weird \"col\"' has 3 rows that are not in the accepted values"
    assert query(ColumnCheck("pattern", "^o'k$"))[0].endswith("WHERE price !~ '^o''k$'")
    assert query(ColumnCheck("min", "1' OR '1'='1"))[0].endswith("WHERE price < '1'' OR ''1''=''1'")


@pytest.mark.parametrize(
    ("declared", "quoted"),
    [("price", "price"), ("Price", "Price"), ("payload.id", "payload.id"), ("my col", '"my col"'),
     ('"Mixed Case"', '"Mixed Case"'), ('"a.b".c', '"a.b".c'), ("1st", '"1st"')],
)  # fmt: skip
def test_columns_are_quoted_part_by_part(declared: str, quoted: str) -> None:
    assert PLATFORM.quote_column(declared) == quoted


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (ColumnCheck("min"), "unexpected value for min check, the value must be an int, float or string"),
        (ColumnCheck("accepted_values", ()), "no values provided for accepted_values check"),
        (ColumnCheck("pattern", 1), "unexpected value 1 for pattern check, the value must be a string"),
        (ColumnCheck("is_even"), "there is no executor configured for the check type, check cannot be run: is_even"),
    ],
)
def test_unusable_checks_are_refused_before_any_query(check: ColumnCheck, message: str) -> None:
    with pytest.raises(BruinError) as caught:
        query(check)
    assert str(caught.value) == message


def test_relationships_without_a_resolved_reference_is_a_bug_not_a_query() -> None:
    with pytest.raises(AssertionError):
        PLATFORM.column_check_query(TABLE, Column("a"), ColumnCheck("relationships"))


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_every_platform_runs_every_built_in_check(platform: Platform) -> None:
    from pybruin.pipeline.checks import COLUMN_CHECKS

    assert set(platform.column_checks) == set(COLUMN_CHECKS)


def test_custom_checks_run_as_written_or_count_the_rows_of_their_query() -> None:
    plain = PLATFORM.custom_check_query(CustomCheck("Row Count", "q", value=1), "SELECT 1 = 1;")
    assert (plain.name, plain.sql, plain.expected) == ("Row Count", "SELECT 1 = 1;", 1)
    assert plain.describe(0) == "custom check 'Row Count' has returned 0 instead of the expected 1"
    counted = PLATFORM.custom_check_query(CustomCheck("rows", "q", value=1, count=7), " SELECT * FROM t ;\n")
    # Upstream wraps the query as written, so a trailing semicolon breaks it; pybruin drops it first.
    assert (counted.sql, counted.expected) == ("SELECT count(*) FROM (SELECT * FROM t\n) AS t", 7)
    assert counted.describe(4) == "custom check 'rows' has returned 4 instead of the expected 7"


def test_checks_query_the_table_the_asset_builds() -> None:
    duckdb = build_connection("duckdb", {"name": "d", "path": "x.db"}, base_dir=None, environ={})
    assert PLATFORM.target("products", duckdb, "dev_").qualified == "dev_main.products"


@pytest.mark.parametrize(
    ("rows", "value"),
    [([(0,)], 0), ([(7,)], 7), ([(True,)], 1), ([(False,)], 0), ([(2.9,)], 2), ([(-2.9,)], -2),
     ([(Decimal("3.7"),)], 3), ([("12",)], 12), ([("+4",)], 4), ([("1.9",)], 1), ([("true",)], 1), ([("F",)], 0)],
)  # fmt: skip
def test_results_are_read_as_upstream_reads_them(rows: list[tuple], value: int) -> None:
    assert result_as_integer(rows) == value


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "multiple results are returned from query, please make sure your query just expects one value - "
             "value: []"),
        ([(1, "a")], "multiple results are returned from query, please make sure your query just expects one value "
                     "- value: [[1 a]]"),
        ([(1,), (None,)], "multiple results are returned from query, please make sure your query just expects one "
                          "value - value: [[1] [<nil>]]"),
        ([(n,) for n in range(8)], "value: [[0] [1] [2] [3] [4] ... (3 more rows)]"),
        ([(None,)], "unexpected result from query, result is nil"),
        ([("many",)], "unexpected result from query, cannot cast result string to integer: [[many]]"),
        ([(b"x",)], "unexpected result from query during, cannot cast result to integer: [[b'x']]"),
    ],
)  # fmt: skip
def test_results_other_than_one_value_are_upstreams_errors(rows: list[tuple], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        result_as_integer(rows)
    assert message in str(caught.value)
