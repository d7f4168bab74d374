"""What materializations, seeds, hooks and interval modifiers read from headers and pipeline defaults, and
upstream's rules for them (validate errors with upstream's texts, reported per asset before anything runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.pipeline import load_pipeline
from pybruin.pipeline.model import Column, ForeignKey, Hooks, IntervalModifiers, Pipeline, TimeModifier
from pybruin.pipeline.validate import validate_pipeline
from pybruin.plan.unsupported import unsupported_reasons
from pybruin.platforms import RUNNABLE_ASSET_TYPES


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(tmp_path: Path, header: str, *, pipeline_yml: str = "name: p\n", body: str = "select 1",
         files: dict[str, str] | None = None) -> Pipeline:  # fmt: skip
    write(tmp_path / "pipeline.yml", pipeline_yml)
    write(tmp_path / "assets" / "a.sql", f"/* @bruin\n{header}\n@bruin */\n{body}\n")
    for relative, text in (files or {}).items():
        write(tmp_path / relative, text)
    return load_pipeline(tmp_path)


def reasons(pipeline: Pipeline, name: str = "a") -> list[str]:
    asset = pipeline.asset(name)
    assert asset is not None
    return [reason.removesuffix(f" in {asset.definition_file.relative_to(pipeline.directory)}")
            for reason in unsupported_reasons(asset, pipeline, RUNNABLE_ASSET_TYPES)]  # fmt: skip


def test_columns_hooks_modifiers_and_restriction_are_read(tmp_path: Path) -> None:
    pipeline = load(tmp_path, """name: a
type: duckdb.sql
full_refresh_restricted: true
refresh_restricted: false
materialization: {type: TABLE, strategy: Time_Interval, incremental_key: ts, time_granularity: DATE}
columns:
  - name: id
    type: integer
    primary_key: true
    default: 0
    foreign_key: {table: raw.users, column: id}
  - {name: label, type: varchar, length: 20, update_on_merge: true, merge_sql: "upper(source.label)", nullable: false}
hooks:
  pre: [{query: "select 1"}]
  post: [{query: "select 2"}, {query: "select 3"}]
interval_modifiers: {start: -2h, end: "{{ '1d' }}"}""")
    asset = pipeline.assets[0]
    assert asset.materialization == {"type": "table", "strategy": "time_interval", "incremental_key": "ts",
                                     "time_granularity": "date"}  # fmt: skip
    assert asset.columns == [
        Column("id", "integer", primary_key=True, default="0", foreign_key=ForeignKey("raw.users", "id")),
        Column("label", "varchar", length=20, update_on_merge=True, merge_sql="upper(source.label)", nullable=False),
    ]
    assert asset.columns[1].sql_type == "varchar(20)"
    assert asset.hooks == Hooks(("select 1",), ("select 2", "select 3"))
    assert asset.interval_modifiers == IntervalModifiers(TimeModifier(hours=-2), TimeModifier(template="{{ '1d' }}"))
    assert asset.refresh_restricted is True


def test_pipeline_defaults_fill_what_the_asset_leaves_out(tmp_path: Path) -> None:
    defaults = """name: p
default:
  refresh_restricted: true
  interval_modifiers: {start: -1d, end: 1h}
  hooks:
    applicable_type: [duckdb.sql]
    pre: [{query: "select 'default pre'"}]
    post: [{query: "select 'default post'"}]
  columns:
    - {name: ID, primary_key: true, description: from default}
    - {name: extra, type: text}
  materialization: {type: table, strategy: merge}
"""
    pipeline = load(
        tmp_path,
        "name: a\ntype: duckdb.sql\ninterval_modifiers: {end: 2h}\nhooks:\n  post: [{query: own}]\n"
        "columns:\n  - {name: id, type: int}",
        pipeline_yml=defaults,
        files={"assets/b.sql": "/* @bruin\nname: b\ntype: pg.sql\n@bruin */\nselect 1\n",
               "assets/c.py": '""" @bruin\nname: c\n@bruin """\n'},
    )  # fmt: skip
    a, b, c = (pipeline.asset(name) for name in "abc")
    assert a is not None and b is not None and c is not None
    assert a.columns == [Column("id", "int", primary_key=True, description="from default"), Column("extra", "text")]
    assert a.interval_modifiers == IntervalModifiers(TimeModifier(days=-1), TimeModifier(hours=2))
    assert a.hooks == Hooks(("select 'default pre'",), ("own",))
    assert b.hooks == Hooks()  # applicable_type lists duckdb.sql only
    assert c.hooks == Hooks()  # hooks are for SQL assets
    assert a.refresh_restricted is True
    assert a.materialization == {"type": "table", "strategy": "merge"}


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("interval_modifiers: {start: 5y}", 'unknown interval suffix "y" in "5y"; must be h, m, s, d, M, ms, or ns'),
        ("interval_modifiers: {end: x}", "invalid time modifier format: x"),
        (
            "columns: {id: 1}",
            "'columns' must be a list of mappings like '{name: id, checks: [{name: not_null}]}', got a mapping",
        ),
        ("columns: [{name: a, precision: high}]", "'precision' must be a whole number, got a string"),
        ("hooks: {pre: select 1}", "'pre' hooks must be a list like '[{query: ...}]', got a string"),
        ("materialization: {type: table, cluster_by: a}", "`cluster_by` field must be an array of strings"),
    ],
)
def test_bad_values_name_the_file_and_line(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(BruinError) as caught:
        load(tmp_path, f"name: a\ntype: duckdb.sql\n{header}")
    assert str(caught.value) == f"{tmp_path / 'assets' / 'a.sql'}:4: {message}"


@pytest.mark.parametrize(
    ("materialization", "columns", "body", "expected"),
    [
        ("{type: table, strategy: time_interval}", "", "select 1", [
            "Materialization strategy 'time_interval' requires the 'incremental_key' field to be set",
            "Materialization strategy 'time_interval' requires the 'time_granularity' field to be set",
            "'time_granularity' can be either 'date' or 'timestamp'."]),
        ("{type: table, strategy: time_interval, incremental_key: d, time_granularity: hour}", "", "select 1",
         ["'time_granularity' can be either 'date' or 'timestamp'."]),
        ("{type: table, strategy: merge}", "", "select 1", [
            "Materialization strategy 'merge' requires the 'columns' field to be set with actual columns",
            "Materialization strategy 'merge' requires the 'primary_key' field to be set on at least one column"]),
        ("{type: table, strategy: merge, incremental_key: id}", "[{name: id, primary_key: true}]", "select 1",
         ["Incremental key is only supported with 'delete+insert', 'time_interval', 'scd2_by_time' and "
          "'scd2_by_column' strategies."]),
        ("{type: table, strategy: append, incremental_predicate: x > 1}", "", "select 1",
         ["Incremental predicate is only supported with the 'merge' strategy."]),
        ("{type: table, strategy: delete+insert}", "", "select 1",
         ["Materialization strategy 'delete+insert' requires the 'incremental_key' field to be set"]),
        ("{type: table, strategy: ddl}", "[{name: id, type: int}]", "select 1",
         ["DDL strategy builds the table, from bruin metadata and does not accept a custom query"]),
        ("{type: table, strategy: scd2_by_time}", "[{name: id}]", "select 1", [
            "Materialization strategy 'scd2_by_type' requires the 'incremental_key' field to be set",
            "Materialization strategy 'scd2_by_type' requires the 'primary_key' field to be set on at least one "
            "column"]),
        ("{type: table, strategy: scd2_by_column}", "[{name: id}]", "select 1",
         ["Materialization strategy 'scd2_by_column' requires the 'primary_key' field to be set on at least one "
          "column"]),
        ("{type: view, strategy: append, incremental_key: k, partition_by: p, cluster_by: [c]}", "", "select 1", [
            "Materialization strategy is not supported for views",
            "Materialization incremental key is not supported for views because views cannot be updated "
            "incrementally",
            "Materialization cluster by is not supported for views because views cannot be clustered",
            "Materialization partition by is not supported for views because views cannot be partitioned"]),
        ("{type: table, strategy: ddl}", "[{name: id, type: int}]", "", []),
        ("{type: table, strategy: truncate+insert}", "", "select 1", []),
    ],
)  # fmt: skip
def test_materialization_rules(tmp_path: Path, materialization: str, columns: str, body: str, expected: list) -> None:
    header = f"name: a\ntype: duckdb.sql\nmaterialization: {materialization}"
    pipeline = load(tmp_path, header + (f"\ncolumns: {columns}" if columns else ""), body=body)
    assert reasons(pipeline) == expected


def seed_pipeline(tmp_path: Path, asset_yml: str, csv: str | None = "id,name\n1,a\n") -> Pipeline:
    write(tmp_path / "pipeline.yml", "name: p\n")
    write(tmp_path / "assets" / "s.asset.yml", asset_yml)
    if csv is not None:
        write(tmp_path / "assets" / "data.csv", csv)
    return load_pipeline(tmp_path)


@pytest.mark.parametrize(
    ("asset_yml", "csv", "expected"),
    [
        ("type: duckdb.seed\nparameters: {path: data.csv}\ncolumns: [{name: ID}, {name: name}]", None, []),
        ("type: duckdb.seed\nparameters: {path: data.csv}\ncolumns: [{name: id}, {name: email}]", None,
         ["Column 'email' is defined in the asset but does not exist in the CSV"]),
        ("type: pg.seed\nparameters: {}\nmaterialization: {type: table}", None,
         ["Materialization is not allowed on a seed asset", "Seed file path is required"]),
        ("type: duckdb.seed\nparameters: {path: missing.csv}", None, ["Seed file does not exist or cannot be found"]),
        ("type: duckdb.seed\nparameters: {path: data.csv, file_type: XLS}", None,
         ['Unsupported seed file_type "XLS" (supported: csv, parquet, pq, json, jsonl, ndjson, avro)']),
        ("type: duckdb.seed\nparameters: {path: data.csv}", "", ["CSV file cannot be parsed"]),
        ("type: duckdb.seed\nparameters: {path: data.parquet}", None,
         ["parquet seed files are not supported by pybruin yet"]),
        ("type: duckdb.seed\nparameters: {path: 'https://example.com/x.csv'}", None,
         ["a seed file at a URL is not supported by pybruin yet"]),
        ("type: ms.seed\nparameters: {path: data.csv}", None,
         ["asset type 'ms.seed' in assets/s.asset.yml is not supported by pybruin yet"]),
    ],
)  # fmt: skip
def test_seed_rules(tmp_path: Path, asset_yml: str, csv: str | None, expected: list) -> None:
    pipeline = seed_pipeline(tmp_path, "name: s\n" + asset_yml, "id,name\n1,a\n" if csv is None else csv)
    assert reasons(pipeline, "s") == expected


def test_hook_rules(tmp_path: Path) -> None:
    write(tmp_path / "assets" / "p.py", '""" @bruin\nname: p\nhooks: {pre: [{query: select 1}]}\n@bruin """\n')
    pipeline = load(
        tmp_path, "name: a\ntype: duckdb.sql\nhooks: {applicable_type: [duckdb.sql], pre: [{query: select 1}]}",
        pipeline_yml="name: p\ndefault:\n  hooks:\n    applicable_type: [duckdb.sql, python]\n",
    )  # fmt: skip
    assert reasons(pipeline, "p") == [
        "Hooks are currently supported only for SQL assets. Hooks defined on Python assets are ignored during "
        "execution."
    ]
    issues = [(issue.severity, issue.asset, issue.message) for issue in validate_pipeline(pipeline, None)]
    assert issues == [
        ("error", None, 'Invalid applicable_type "python" in default hooks: hooks are only supported for SQL asset '
                        "types"),
        ("warning", "a", "applicable_type has no effect on asset-level hooks; it only filters which asset types "
                         "inherit pipeline default hooks."),
    ]  # fmt: skip
