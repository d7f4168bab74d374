"""`bruin render` through the CLI: plain and `-o json` output as upstream writes them, the run's context
(variables, dates, `this`, full refresh, interval modifiers, run id), upstream's error texts, masking, and the
script it prints is the one `bruin run` executes."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

CANARY = "canary-4c1f0b2e-render"

USERS = """/* @bruin
name: public.users
type: duckdb.sql
materialization:
  type: table
interval_modifiers:
  start: -2h
@bruin */
{% for user in var.users -%}
  SELECT '{{ user }}' as name, '{{ start_timestamp }}' as since, '{{ this }}' as this,
  '{{ run_id }}' as run, {{ full_refresh }} as refresh {% if not loop.last %} UNION ALL {% endif -%}
{%- endfor -%};
"""


@pytest.fixture
def users(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n      duckdb:\n"
                                f"        - {{name: duckdb-default, path: w.db}}\n      generic:\n"
                                f"        - {{name: API_KEY, value: {CANARY}}}\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\nvariables:\n  users: {type: array, items: {type: string}, "
                                    "default: [jhon, erik]}\n")  # fmt: skip
    project.write("p/assets/users.sql", USERS)
    return project


def test_plain_and_json_output(users):
    plain = users.bruin("render", "p/assets/users.sql")
    assert plain.returncode == 0, plain.output
    assert plain.stdout.endswith(";\nCOMMIT;\n") and "CREATE TABLE public.users" in plain.stdout
    assert "SELECT 'jhon' as name" in plain.stdout and "SELECT 'erik' as name" in plain.stdout

    as_json = users.bruin("render", "-o", "json", "p/assets/users.sql")
    assert as_json.returncode == 0, as_json.output
    assert not as_json.stdout.endswith("\n"), "upstream writes the document without a newline"
    scratch = re.compile(r"__bruin_tmp_\w+")  # the scratch table's name is new each time
    document = json.loads(as_json.stdout)
    assert list(document) == ["query"] and scratch.sub("", document["query"]) == scratch.sub("", plain.stdout[:-1])
    assert as_json.stderr == ""


def test_the_runs_context(users):
    rendered = json.loads(users.bruin(
        "render", "-o", "json", "--start-date", "2024-01-15", "--end-date", "2024-01-31",
        "--var", 'users=["mark"]', "p/assets/users.sql",
    ).stdout)["query"]  # fmt: skip
    assert ("SELECT 'mark' as name, '2024-01-15T00:00:00.000000Z' as since, 'public.users' as this,\n"
            "  'your-run-id' as run, False as refresh") in rendered  # fmt: skip
    assert "'jhon'" not in rendered
    shifted = users.bruin("render", "--start-date", "2024-01-15", "--apply-interval-modifiers", "-r",
                          "p/assets/users.sql").stdout  # fmt: skip
    assert "'2024-01-14T22:00:00.000000Z' as since" in shifted and "True as refresh" in shifted
    raw = users.bruin("render", "--raw-query", "p/assets/users.sql").stdout
    assert raw.startswith("SELECT 'jhon' as name") and "CREATE TABLE" not in raw


def test_the_rendered_script_is_what_the_run_executes(users):
    ran = users.bruin("run", "--no-log-file", "p/assets/users.sql")
    assert ran.returncode == 0, ran.output
    with duckdb.connect(str(users.root / "w.db"), read_only=True) as db:
        by_the_run = db.execute("select name from public.users order by name").fetchall()
    script = users.bruin("render", "p/assets/users.sql").stdout
    with duckdb.connect(":memory:") as db:
        db.execute("create schema public")
        db.execute(script)
        assert db.execute("select name from public.users order by name").fetchall() == by_the_run


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "Please give an asset path to render: bruin render <path to the asset file>)"),
        (("p/assets/nope.sql",), "The specified asset path does not exist: p/assets/nope.sql"),
        (("--variant", "eu", "p/assets/users.sql"),
         "variants in pipeline.yml are not supported by pybruin yet (--variant)"),
        (("--start-date", "soon", "p/assets/users.sql"),
         "invalid --start-date 'soon': use YYYY-MM-DD or YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]"),
        (("p/assets/merge.sql",),
         "asset 'merge': materialization strategy merge requires the `columns` field to be set"),
    ],
)  # fmt: skip
def test_errors(users, args, error):
    users.write("p/assets/merge.sql", "/* @bruin\nname: merge\ntype: duckdb.sql\nmaterialization:\n  type: table\n"
                                      "  strategy: merge\n@bruin */\nselect 1\n")  # fmt: skip
    plain = users.bruin("render", *args)
    assert (plain.returncode, plain.stdout, plain.stderr) == (1, "", error + "\n")
    as_json = users.bruin("render", "-o", "json", *args)
    assert (as_json.returncode, as_json.stderr) == (1, "")
    assert json.loads(as_json.stdout) == {"error": error}


def test_a_secret_in_the_sql_is_masked(users):
    users.write("p/assets/leaky.sql", f"/* @bruin\nname: leaky\ntype: duckdb.sql\n@bruin */\nselect '{CANARY}'\n")
    for args in ((), ("-o", "json")):
        result = users.bruin("render", *args, "p/assets/leaky.sql")
        assert result.returncode == 0, result.output
        assert CANARY not in result.output and "select '****'" in result.stdout
