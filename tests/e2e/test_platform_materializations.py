"""Every materialization strategy and seeds through the CLI on MySQL (MariaDB), Snowflake (fakesnow) and BigQuery
(the local-bigquery emulator). Per strategy: a first run (the table is missing, so it is built as a full refresh
would build it), a second run with changed rows, `--full-refresh`, and a failing run that leaves the table as it
was; the truncate and delete strategies fail after their DELETE, inside their transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest

from conftest import BruinProject, Result
from warehouses import PLATFORMS, SEED, Case, platform_case, text

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

USER = "bruin_e2e_strategies"
PASSWORD = f"pw-e2e-strategies-{uuid.uuid4().hex}"
WINDOW = ("--start-date", "2024-01-02", "--end-date", "2024-01-03")

FIRST = "SELECT 1 AS id, 'a' AS v, DATE '2024-01-01' AS ts UNION ALL SELECT 2, 'b', DATE '2024-01-02'"
SECOND = "SELECT 2 AS id, 'B' AS v, DATE '2024-01-03' AS ts UNION ALL SELECT 3, 'c', DATE '2024-01-03'"
FIRST_ROWS = [("1", "a", "2024-01-01"), ("2", "b", "2024-01-02")]
SECOND_ROWS = [("2", "B", "2024-01-03"), ("3", "c", "2024-01-03")]
#: Rows 1 and 3 are kept and added; row 2 is replaced (by key, by interval).
REPLACED_2 = [("1", "a", "2024-01-01"), ("2", "B", "2024-01-03"), ("3", "c", "2024-01-03")]
COLUMNS = [{"name": "id", "type": "INTEGER", "primary_key": True}, {"name": "v", "type": "VARCHAR",
           "update_on_merge": True}, {"name": "ts", "type": "DATE"}]  # fmt: skip

# strategy -> (the rest of the materialization, the rows after the second run)
STRATEGIES: dict[str, tuple[dict[str, object], list[tuple[str, ...]]]] = {
    "create+replace": ({}, SECOND_ROWS),
    "append": ({}, FIRST_ROWS + SECOND_ROWS),
    "delete+insert": ({"incremental_key": "id"}, REPLACED_2),
    "truncate+insert": ({}, SECOND_ROWS),
    "time_interval": ({"incremental_key": "ts", "time_granularity": "date"}, REPLACED_2),
    # only `v` is updated on merge: row 2 keeps its date
    "merge": ({}, [("1", "a", "2024-01-01"), ("2", "B", "2024-01-02"), ("3", "c", "2024-01-03")]),
}
#: SCD2: row 1 is gone from the source and row 2 changed, so both are closed; new versions of 2 and 3 are current.
SCD2_ROWS = [("1", "a", "closed"), ("2", "b", "closed"), ("2", "B", "current"), ("3", "c", "current")]
SCD2 = {"scd2_by_column": {}, "scd2_by_time": {"incremental_key": "ts"}}
#: The columns of a table in declaration order, lower-cased, per platform (`{schema}`, `{name}`).
COLUMNS_OF = {
    "mysql": "select ordinal_position, lower(column_name), lower(data_type) from information_schema.columns "
             "where table_schema = database() and table_name = '{name}'",
    "snowflake": "select ordinal_position, lower(column_name), lower(data_type) from information_schema.columns "
                 "where table_schema = 'ANALYTICS' and table_name = upper('{name}')",
    "google_cloud_platform": "select ordinal_position, lower(column_name), lower(data_type) "
                             "from {schema}.INFORMATION_SCHEMA.COLUMNS where table_name = '{name}'",
}  # fmt: skip
TABLES_IN = {
    "mysql": "select table_name from information_schema.tables where table_schema = database()",
    "snowflake": "select lower(table_name) from information_schema.tables where table_schema = 'ANALYTICS'",
    "google_cloud_platform": "select table_name from {schema}.INFORMATION_SCHEMA.TABLES",
}


@pytest.fixture(params=PLATFORMS)
def case(request: pytest.FixtureRequest, project: BruinProject) -> Case:
    found = platform_case(request, request.param, USER, PASSWORD)
    details = found.details
    if found.type_key == "snowflake":
        # Snowflake puts a session in its database's PUBLIC schema; fakesnow needs to be told (its MERGE and its
        # temporary tables need a current schema).
        details = {**details, "schema": "PUBLIC"}
    connections = {found.type_key: [{"name": "wh", **details}]}
    project.write(".bruin.yml", json.dumps({"default_environment": "default",
                                            "environments": {"default": {"connections": connections}}}))  # fmt: skip
    project.write("p/pipeline.yml", f"name: p\ndefault_connections:\n  {found.type_key}: wh\n")
    return found


def write(project: BruinProject, case: Case, name: str, sql: str, **header: object) -> None:
    fields = [f"name: {case.table(name)}", f"type: {case.asset_type}",
              *(f"{key}: {json.dumps(value)}" for key, value in header.items())]  # fmt: skip
    project.write(f"p/assets/{name}.sql", "/* @bruin\n" + "\n".join(fields) + "\n@bruin */\n" + sql.strip() + "\n")


def run(project: BruinProject, *args: str) -> Result:
    result = project.bruin("run", "--no-log-file", *WINDOW, *args, "p")
    assert result.returncode == 0, result.output
    return result


def rows(case: Case, sql: str) -> list[tuple[str, ...]]:
    return sorted(tuple(text(value) for value in row) for row in case.rows(sql))


def failing(case: Case) -> str:
    """A query that fails when it runs: it reads a table that does not exist."""
    return f"SELECT 9 AS id, 'z' AS v, DATE '2024-01-09' AS ts FROM {case.table('no_such_table')}"


def four_runs(project: BruinProject, case: Case, header: dict[str, object], read: Callable[[], list],
              expected: tuple[list, list, list]) -> None:  # fmt: skip
    """The first run, the second with other rows, a full refresh, then a run that fails and changes nothing."""
    for number, (query, args) in enumerate([(FIRST, ()), (SECOND, ()), (SECOND, ("--full-refresh",))]):
        write(project, case, "t", query, **header)
        run(project, *args)
        assert read() == sorted(expected[number]), number
    write(project, case, "t", failing(case), **header)
    result = project.bruin("run", "--no-log-file", *WINDOW, "p")
    assert result.returncode == 1, result.output
    assert f"Failed: {case.table('t')}" in result.stdout
    assert read() == sorted(expected[2])


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_strategy_over_four_runs(project: BruinProject, case: Case, strategy: str) -> None:
    extra, second = STRATEGIES[strategy]
    header = {"materialization": {"type": "table", "strategy": strategy, **extra}, "columns": COLUMNS}
    four_runs(project, case, header, lambda: rows(case, f"select id, v, ts from {case.table('t')}"),
              (FIRST_ROWS, second, SECOND_ROWS))  # fmt: skip


@pytest.mark.parametrize("strategy", list(SCD2))
def test_scd2_over_four_runs(project: BruinProject, case: Case, strategy: str) -> None:
    header = {"materialization": {"type": "table", "strategy": strategy, **SCD2[strategy]}, "columns": COLUMNS}
    state = ("select id, v, case when _is_current then 'current' else 'closed' end "
             f"from {case.table('t')}")  # fmt: skip
    four_runs(project, case, header, lambda: rows(case, state), (
        [("1", "a", "current"), ("2", "b", "current")], SCD2_ROWS, [("2", "B", "current"), ("3", "c", "current")],
    ))  # fmt: skip


def test_scd2_by_time_versions_are_valid_from_their_key(project: BruinProject, case: Case) -> None:
    header = {"materialization": {"type": "table", "strategy": "scd2_by_time", "incremental_key": "ts"},
              "columns": COLUMNS}  # fmt: skip
    for query in (FIRST, SECOND):
        write(project, case, "t", query, **header)
        run(project)
    assert rows(case, f"select id, v, cast(_valid_from as date), cast(_valid_until as date) from {case.table('t')} "
                      "where id = 2") == [("2", "B", "2024-01-03", "9999-12-31"),
                                          ("2", "b", "2024-01-02", "2024-01-03")]  # fmt: skip


DDL_TYPES = {"mysql": ("INTEGER", "VARCHAR"), "snowflake": ("INTEGER", "VARCHAR"),
             "google_cloud_platform": ("INT64", "STRING")}  # fmt: skip


def test_ddl_builds_the_table_once_and_full_refresh_leaves_it(project: BruinProject, case: Case) -> None:
    number, label = DDL_TYPES[case.type_key]
    columns = [{"name": "id", "type": number, "primary_key": True, "description": "the customer's id"},
               {"name": "name", "type": label, "length": 20, "nullable": False}]  # fmt: skip
    header = {"materialization": {"type": "table", "strategy": "ddl"}, "columns": columns}
    write(project, case, "t", "", **header)
    table = case.table("t")
    write(project, case, "fill", f"INSERT INTO {table} (id, name) VALUES (1, 'ann')", depends=[table])
    run(project)
    (project.root / "p/assets/fill.sql").unlink()

    output = run(project, "--full-refresh").stdout
    assert "Full refresh detected, but DDL strategy is in use — table will NOT be dropped or recreated." in output
    assert rows(case, f"select id, name from {case.table('t')}") == [("1", "ann")]
    columns_of = COLUMNS_OF[case.type_key].format(schema=case.schema, name="t")
    assert [column for _, column, _ in rows(case, columns_of)] == ["id", "name"]

    write(project, case, "t", "", **{**header, "columns": [*columns, {"name": "bad", "type": "NO SUCH TYPE"}]})
    failed = project.bruin("run", "--no-log-file", "p")
    assert failed.returncode == 1, failed.output
    assert rows(case, f"select id, name from {case.table('t')}") == [("1", "ann")]


SEED_TYPES = {
    "mysql": ["int", "double", "text", "date", "tinyint"],
    "snowflake": ["number", "float", "text", "date", "boolean"],
    "google_cloud_platform": ["int64", "float64", "string", "date", "bool"],
}


def test_seeds_load_their_csv_with_declared_types_and_replace_it(project: BruinProject, case: Case) -> None:
    people = case.table("people")
    project.write("p/assets/people.asset.yml", SEED.format(name=people, type=case.seed_type))
    project.write("p/assets/people.csv", "id,score,name,joined,active\n1,2.5,\"ann, o'neil \\\",2024-01-02,true\n"
                                         "2,,bob,2024-02-03,FALSE\n")  # fmt: skip
    write(project, case, "report", f"select count(*) as n, sum(score) as total from {people}",
          depends=[people], materialization={"type": "view"})  # fmt: skip
    run(project)
    flag = "case when active then 'yes' else 'no' end"
    assert rows(case, f"select id, score, name, joined, {flag} from {people}") == [
        ("1", "2.5", "ann, o'neil \\", "2024-01-02", "yes"), ("2", "", "bob", "2024-02-03", "no"),
    ]  # fmt: skip
    columns_of = COLUMNS_OF[case.type_key].format(schema=case.schema, name="people")
    assert [kind for _, _, kind in rows(case, columns_of)] == SEED_TYPES[case.type_key]

    project.write("p/assets/people.csv", "id,score,name,joined,active\n7,1.0,cid,2024-03-04,true\n")
    run(project)
    assert rows(case, f"select id, name from {people}") == [("7", "cid")]
    assert rows(case, f"select n from {case.table('report')}") == [("1",)]


@pytest.mark.parametrize(
    ("csv", "problem"),
    [("id,score,name\n1,2.5,ann\nseven,1,bob\n", None),
     ("id,score,name\n1,2.5,ann\n2,1\n", "cannot read the seed file people.csv: row 3 has 2 fields, the header has 3")],
    ids=["a value that does not fit", "a short row"],
)  # fmt: skip
def test_a_bad_seed_fails_in_one_line_and_keeps_the_table(
    project: BruinProject, case: Case, csv: str, problem: str | None
) -> None:
    people = case.table("people")
    project.write("p/assets/people.asset.yml", SEED.format(name=people, type=case.seed_type))
    project.write("p/assets/people.csv", "id,score,name\n1,2.5,ann\n")
    run(project)
    project.write("p/assets/people.csv", csv)

    result = project.bruin("run", "--no-log-file", "p")

    assert result.returncode == 1, result.output
    failed = next(line for line in result.stdout.splitlines() if f"Failed: {people}" in line)
    assert f"asset '{people}': cannot load people.csv: {problem or ''}" in failed
    assert "Traceback" not in result.output
    assert rows(case, f"select id, name from {people}") == [("1", "ann")]
    assert rows(case, TABLES_IN[case.type_key].format(schema=case.schema)) == [("people",)]  # no staging table left
