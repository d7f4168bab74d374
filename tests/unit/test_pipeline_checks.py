"""Columns, column checks and custom checks as assets declare them: parsing, upstream's value decoding, the
pipeline `default:` merge, ids and task names, and the validation rules (upstream's texts where it has them)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.pipeline.checks import (
    check_problems,
    column_check_id,
    column_check_task,
    custom_check_id,
    custom_check_task,
    value_problem,
    value_text,
)
from pybruin.pipeline.loader import load_pipeline
from pybruin.pipeline.model import Asset, Column, ColumnCheck, CustomCheck, ForeignKey, Pipeline
from pybruin.pipeline.validate import validate_pipeline


def write_pipeline(root: Path, assets: dict[str, str], pipeline_yml: str = "name: p\n") -> Pipeline:
    (root / "pipeline.yml").write_text(pipeline_yml)
    for relative, text in assets.items():
        path = root / "assets" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return load_pipeline(root)


def sql(header: str, body: str = "select 1") -> str:
    return f"/* @bruin\n{header.strip()}\n@bruin */\n{body}\n"


def load_error(tmp_path: Path, header: str) -> str:
    with pytest.raises(BruinError) as caught:
        write_pipeline(tmp_path, {"a.sql": sql(header)})
    return str(caught.value)


def test_columns_checks_and_custom_checks_are_read(tmp_path: Path) -> None:
    header = """
name: shop.products
type: duckdb.sql
columns:
  - name: price
    type: " FLOAT "
    description: the price
    primary_key: true
    checks:
      - name: positive
      - name: min
        value: 0
        blocking: false
        description: never below zero
  - name: category_id
    foreign_key: {table: shop.categories, column: " id "}
    checks:
      - name: relationships
custom_checks:
  - name: Row Count
    description: four rows
    query: select count(*) from shop.products
    value: 4
    blocking: false
  - name: rows
    query: select * from shop.products
    count: 4
"""
    asset = write_pipeline(tmp_path, {"a.sql": sql(header)}).assets[0]
    assert asset.columns == [
        Column("price", "FLOAT", "the price", True, (
            ColumnCheck("positive", id=column_check_id("shop.products", "price", "positive")),
            ColumnCheck("min", 0, False, "never below zero", column_check_id("shop.products", "price", "min")),
        )),
        Column("category_id", checks=(
            ColumnCheck("relationships", id=column_check_id("shop.products", "category_id", "relationships")),
        ), foreign_key=ForeignKey("shop.categories", "id")),
    ]  # fmt: skip
    assert asset.custom_checks == [
        CustomCheck("Row Count", "select count(*) from shop.products", 4, None, False, "four rows",
                    custom_check_id("shop.products", "Row Count")),
        CustomCheck("rows", "select * from shop.products", 0, 4, id=custom_check_id("shop.products", "rows")),
    ]  # fmt: skip
    assert [check.blocks for check in asset.custom_checks] == [False, True]
    assert [check.expected for check in asset.custom_checks] == [4, 4]


@pytest.mark.parametrize(
    ("written", "decoded"),
    [
        ("5", 5),
        ("-2.5", -2.5),
        ("'5'", "5"),
        ("abc", "abc"),
        ("2024-01-01", "2024-01-01"),  # dates stay text, as upstream's YAML decoder leaves them
        ("true", True),
        ("[1, 2, 3]", (1, 2, 3)),
        ("[a, b]", ("a", "b")),
        ("[1, a, true, 1.5]", ("1", "a", "true", "1.5")),
        ("[]", ()),
    ],
)
def test_check_values_are_decoded_as_upstream_decodes_them(tmp_path: Path, written: str, decoded: object) -> None:
    header = "name: a\ntype: duckdb.sql\ncolumns:\n  - name: c\n    checks:\n      - name: min\n"
    header += f"        value: {written}\n"
    asset = write_pipeline(tmp_path, {"a.sql": sql(header)}).assets[0]
    assert asset.columns[0].checks[0].value == decoded


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("columns: id", ":4: 'columns' must be a list of mappings like '{name: id, checks: [{name: not_null}]}', "
                        "got a string"),
        ("columns:\n  - id", ":5: each columns item must be a mapping like"),
        ("columns:\n  - name: id\n    checks:\n      - not_null",
         ":7: each checks item must be a mapping like '{name: not_null}', got a string"),
        ("columns:\n  - name: id\n    checks:\n      - name: min\n        value: {a: 1}",
         ":8: 'value' must be a number, a string, a boolean or a list, got a mapping"),
        ("columns:\n  - name: id\n    checks:\n      - name: accepted_values\n        value: [[1]]",
         ":8: 'value' must be a list of numbers or strings, got a list in it"),
        ("custom_checks:\n  - name: c\n    query: select 1\n    value: true",
         ":7: 'value' must be a whole number, got a boolean"),
        ("custom_checks:\n  - name: c\n    query: select 1\n    count: '3'",
         ":7: 'count' must be a whole number, got a string"),
        ("custom_checks: {name: c}", ":4: 'custom_checks' must be a list of mappings like"),
    ],
)  # fmt: skip
def test_malformed_checks_are_one_line_errors_naming_file_and_line(tmp_path: Path, extra: str, message: str) -> None:
    error = load_error(tmp_path, f"name: a\ntype: duckdb.sql\n{extra}")
    assert error.startswith(str(tmp_path / "assets" / "a.sql"))
    assert message in error
    assert "\n" not in error


def test_ids_are_upstreams_sha256_of_the_names() -> None:
    # From upstream's `run-seed-data/expectations/seed.asset.yml.json`.
    assert column_check_id("seed.raw", "name", "not_null") == (
        "6d0edf3e6836006758d1213e7927cf9530d9dcdf9dcccc6638bee257dd73e857"
    )
    assert custom_check_id("a", "Row Count") == hashlib.sha256(b"a-Row Count").hexdigest()
    assert column_check_task("shop.products", "price", "positive") == "shop.products:price:positive"
    assert custom_check_task("a", "Verify This Resolves") == "a:custom-check:verify_this_resolves"


def test_a_nameless_asset_gets_ids_from_its_path_name(tmp_path: Path) -> None:
    header = "type: duckdb.sql\ncolumns:\n  - name: id\n    checks:\n      - name: not_null\n"
    asset = write_pipeline(tmp_path, {"shop/products.sql": sql(header)}).assets[0]
    assert asset.name == "shop.products"
    # Upstream hashes the header's empty name here ("-id-not_null"); the asset's real name is what ids mean.
    assert asset.columns[0].checks[0].id == column_check_id("shop.products", "id", "not_null")


def test_pipeline_default_columns_and_custom_checks_merge_as_upstream(tmp_path: Path) -> None:
    pipeline_yml = """name: p
default:
  columns:
    - name: ID
      type: integer
      description: from the default
      checks:
        - name: not_null
        - name: MIN
          value: 5
          blocking: false
          description: default min
    - name: updated_at
      checks:
        - name: not_null
  custom_checks:
    - name: ROWS
      query: select 0
      count: 3
      blocking: false
    - name: extra
      query: select 0
"""
    header = """name: a
type: duckdb.sql
columns:
  - name: id
    type: bigint
    checks:
      - name: min
      - name: unique
        blocking: true
custom_checks:
  - name: rows
    value: 2
"""
    asset = write_pipeline(tmp_path, {"a.sql": sql(header)}, pipeline_yml).assets[0]
    assert [(c.name, c.type, c.description) for c in asset.columns] == [
        ("id", "bigint", "from the default"),
        ("updated_at", "", ""),
    ]
    assert [(c.name, c.value, c.blocking, c.description) for c in asset.columns[0].checks] == [
        ("min", 5, False, "default min"),
        ("unique", None, True, ""),
        ("not_null", None, None, ""),
    ]
    # Appended default checks get ids with the asset's name.
    assert asset.columns[1].checks[0].id == column_check_id("a", "updated_at", "not_null")
    assert [(c.name, c.query, c.value, c.count, c.blocking) for c in asset.custom_checks] == [
        ("rows", "select 0", 2, 3, False),
        ("extra", "select 0", 0, None, None),
    ]
    assert asset.custom_checks[1].id == custom_check_id("a", "extra")


@pytest.mark.parametrize(
    ("value", "text"),
    [((1, 3, 5), "[1, 3, 5]"), ((), "[]"), (10, "10"), (0.5, "0.500000"), (("a", "b"), "a, b"), ("x", "x"),
     (True, "true"), (None, "")],
)  # fmt: skip
def test_values_in_messages_read_as_upstream_prints_them(value: object, text: str) -> None:
    assert value_text(value) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("min", None, "unexpected value for min check, the value must be an int, float or string"),
        ("max", True, "unexpected value for max check, the value must be an int, float or string"),
        ("max", (1,), "unexpected value for max check, the value must be an int, float or string"),
        ("accepted_values", "a", "unexpected value for accepted_values check, the values must to be an array"),
        ("accepted_values", (), "no values provided for accepted_values check"),
        ("pattern", None, "unexpected value  for pattern check, the value must be a string"),
        ("pattern", 5, "unexpected value 5 for pattern check, the value must be a string"),
        ("min", 0, None),
        ("min", "2024-01-01", None),
        ("accepted_values", (1, 2), None),
        ("pattern", "^a", None),
        ("not_null", "ignored", None),
    ],
)
def test_value_problems_use_upstreams_texts(name: str, value: object, problem: str | None) -> None:
    assert value_problem(ColumnCheck(name, value)) == problem  # type: ignore[arg-type]


def asset(name: str, type_: str = "duckdb.sql", **fields: object) -> Asset:
    file = Path(f"/p/assets/{name}.sql")
    return Asset(name=name, type=type_, definition_file=file, executable_file=file, **fields)


def problems(*assets: Asset) -> list[tuple[str, str, str]]:
    pipeline = Pipeline("p", Path("/p"), Path("/p/pipeline.yml"), assets=list(assets))
    return [problem for each in assets for problem in check_problems(each, pipeline)]


def test_unknown_repeated_and_ill_typed_checks_are_errors() -> None:
    columns = [
        Column("id", checks=(ColumnCheck("not_nul"), ColumnCheck("unique"), ColumnCheck("unique"))),
        Column("status", checks=(ColumnCheck("accepted_values", "active"), ColumnCheck("pattern"))),
        Column("", checks=(ColumnCheck("not_null"),)),
    ]
    available = ", ".join(sorted(["not_null", "unique", "positive", "non_negative", "negative", "min", "max",
                                  "accepted_values", "pattern", "relationships"]))  # fmt: skip
    assert problems(asset("a", columns=columns)) == [
        ("error", "valid-column-checks",
         f"Column 'id' has an unknown check 'not_nul'; available checks are: {available}"),
        ("error", "valid-column-checks", "Column 'id' has the check 'unique' more than once"),
        ("error", "valid-column-checks", "Column 'status' has an invalid 'accepted_values' check: unexpected value for "
                                         "accepted_values check, the values must to be an array"),
        ("error", "valid-column-checks", "Column 'status' has an invalid 'pattern' check: unexpected value  for "
                                         "pattern check, the value must be a string"),
        ("error", "valid-column-checks", "A column with checks must have a name"),
    ]  # fmt: skip


def test_duplicate_column_names_are_upstreams_error() -> None:
    assert problems(asset("a", columns=[Column("id"), Column("ID")])) == [
        ("error", "duplicate-column-names", "Duplicate column name 'ID' found "),
    ]


def test_foreign_keys_and_relationships_are_checked_as_upstream_does() -> None:
    parent = asset("shop.customers", columns=[Column("id")])
    child = asset("shop.orders", depends=["shop.customers"], columns=[
        Column("a", checks=(ColumnCheck("relationships"),)),
        Column("b", foreign_key=ForeignKey("", "")),
        Column("c", foreign_key=ForeignKey("shop.nowhere", "id")),
        Column("d", foreign_key=ForeignKey("shop.customers", "ID")),
        Column("e", foreign_key=ForeignKey("shop.customers", "email")),
    ])  # fmt: skip
    rule = "valid-column-metadata"
    assert problems(parent, child) == [
        ("error", rule, "Column 'a' has a relationships check without foreign_key metadata"),
        ("error", rule, "Column 'b' has a foreign key without a referenced table"),
        ("error", rule, "Column 'b' has a foreign key without a referenced column"),
        ("error", rule, "Column 'c' has a foreign key referencing asset 'shop.nowhere', which does not exist in the "
                        "pipeline"),
        ("error", rule, "Column 'e' has a foreign key referencing column 'shop.customers.email', which does not exist"),
    ]  # fmt: skip


def test_a_blocking_relationships_check_on_an_upstream_of_its_reference_is_a_warning() -> None:
    upstream = asset("raw.orders", columns=[
        Column("customer_id", foreign_key=ForeignKey("mart.customers", "id"), checks=(ColumnCheck("relationships"),)),
        Column("other_id", foreign_key=ForeignKey("mart.customers", "id"),
               checks=(ColumnCheck("relationships", blocking=False),)),
    ])  # fmt: skip
    downstream = asset("mart.customers", depends=["raw.orders"])
    assert problems(upstream, downstream) == [
        ("warning", "blocking-relationships-check-references-downstream",
         "Column 'customer_id' has a blocking relationships check referencing downstream asset 'mart.customers'; the "
         "check runs before that asset is refreshed. Set blocking to false or restructure the dependencies"),
    ]  # fmt: skip


def test_custom_checks_need_a_name_a_query_and_distinct_task_names() -> None:
    checks = [CustomCheck("", "select 0"), CustomCheck("empty", "  "), CustomCheck("Row Count", "select 0"),
              CustomCheck("row_count", "select 0")]  # fmt: skip
    assert problems(asset("a", custom_checks=checks)) == [
        ("error", "custom-check-name-exists", "A custom check must have a name"),
        ("error", "custom-check-query-exists", "Custom check 'empty' query cannot be empty"),
        ("error", "custom-check-name-unique",
         "Custom checks 'Row Count' and 'row_count' have the same task name 'a:custom-check:row_count'; rename one"),
    ]  # fmt: skip


@pytest.mark.parametrize("asset_type", ["python", "r", "empty"])
def test_checks_of_an_asset_without_a_platform_need_its_connection(asset_type: str) -> None:
    columns = [Column("id", checks=(ColumnCheck("not_null"),))]
    assert [p[2] for p in problems(asset("a", asset_type, columns=columns))] == [
        f"Quality checks of a {asset_type} asset run on the asset's connection; set 'connection' to the database "
        "that holds its table"
    ]
    assert problems(asset("a", asset_type, columns=columns, connection="warehouse")) == []


def test_check_problems_are_validation_issues_of_the_asset(tmp_path: Path) -> None:
    header = "name: a\ntype: duckdb.sql\ncolumns:\n  - name: id\n    checks:\n      - name: nonsense\n"
    pipeline = write_pipeline(tmp_path, {"a.sql": sql(header)})
    [issue] = validate_pipeline(pipeline, None)
    assert (issue.severity, issue.asset) == ("error", "a")
    assert issue.message.startswith("Column 'id' has an unknown check 'nonsense'")
