"""`render_asset`, what `bruin render` prints: ports of upstream's render tests (variables and their overrides,
dates, full refresh, `this`, the schema prefix), and the script it shows is the one the run executes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pybruin.errors import BruinError
from pybruin.run.rendering import render_asset
from pybruin.workspace import ProjectSettings

USERS = """/* @bruin
name: public.users
type: duckdb.sql
materialization:
  type: table
@bruin */
{% for user in var.users -%}
  SELECT '{{ user }}' as name {% if not loop.last %} UNION ALL {% endif -%}
{%- endfor -%};
"""
FULL_REFRESH = """/* @bruin
name: render_this.test_full_refresh
type: duckdb.sql
@bruin */

SELECT
    '{{ this }}' AS asset_name,
    {% if full_refresh %}
    'FULL_REFRESH_MODE' AS refresh_mode,
    '2020-01-01' AS start_date
    {% else %}
    'INCREMENTAL_MODE' AS refresh_mode,
    '{{ start_date }}' AS start_date
    {% endif %}
"""
DATES = """/* @bruin
name: date_capture
type: duckdb.sql
start_date: "2020-01-01"
materialization:
  type: table
@bruin */
SELECT '{{ start_date }}' as captured_start_date, '{{ end_date }}' as captured_end_date, '{{ run_id }}' as run
"""
PREFIX = """/* @bruin
name: schema_prefix_test.check_prefix_sql
type: duckdb.sql
materialization:
  type: table
@bruin */
SELECT '{{ schema_prefix }}' as prefix, '{{ this }}' as this
"""
PIPELINE = """name: p
start_date: "2023-06-15"
variables:
  users: {type: array, items: {type: string}, default: [jhon, erik]}
"""


@pytest.fixture
def settings(project) -> ProjectSettings:
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n  dev:\n    schema_prefix: test\n"
                                "    connections: {}\n")  # fmt: skip
    project.write("p/pipeline.yml", PIPELINE)
    for name, text in (("users", USERS), ("full_refresh", FULL_REFRESH), ("dates", DATES), ("prefix", PREFIX)):
        project.write(f"p/assets/{name}.sql", text)
    return ProjectSettings(path=project.root, environ={})


def render(settings: ProjectSettings, asset: str, **options: object) -> str:
    return render_asset(settings, settings.path / "p" / "assets" / f"{asset}.sql", **options)  # type: ignore[arg-type]


def test_variables_and_their_overrides(settings: ProjectSettings) -> None:
    rendered = render(settings, "users")
    assert "CREATE TABLE public.users" in rendered
    assert "SELECT 'jhon' as name" in rendered and "SELECT 'erik' as name" in rendered
    for override in ('{"users": ["mark", "nicholas"]}', 'users=["mark", "nicholas"]'):
        rendered = render(settings, "users", variables=(override,))
        assert "SELECT 'mark' as name" in rendered and "SELECT 'nicholas' as name" in rendered


def test_dates_come_from_the_flags_even_with_a_full_refresh(settings: ProjectSettings) -> None:
    window = {"start_date": "2024-01-15", "end_date": "2024-01-31"}
    for full_refresh in (False, True):
        rendered = render(settings, "dates", full_refresh=full_refresh, **window)
        assert "'2024-01-15' as captured_start_date, '2024-01-31' as captured_end_date" in rendered
        assert "'your-run-id' as run" in rendered
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert f"'{yesterday}' as captured_start_date" in render(settings, "dates")


def test_full_refresh_and_this(settings: ProjectSettings) -> None:
    incremental = render(settings, "full_refresh", start_date="2024-01-15", end_date="2024-01-31")
    assert "'render_this.test_full_refresh' AS asset_name" in incremental
    assert "'INCREMENTAL_MODE' AS refresh_mode" in incremental and "'2024-01-15' AS start_date" in incremental
    refreshed = render(settings, "full_refresh", full_refresh=True, start_date="2024-01-15", end_date="2024-01-31")
    assert "'FULL_REFRESH_MODE' AS refresh_mode" in refreshed and "'2020-01-01' AS start_date" in refreshed


def test_schema_prefix(settings: ProjectSettings) -> None:
    assert "SELECT '' as prefix" in render(settings, "prefix")
    prefixed = ProjectSettings(path=settings.path, environment="dev", environ={})
    rendered = render(prefixed, "prefix")
    assert "SELECT 'test_' as prefix, 'test_schema_prefix_test.check_prefix_sql' as this" in rendered
    assert "DROP TABLE IF EXISTS test_schema_prefix_test.check_prefix_sql;" in rendered


def test_raw_query_and_errors(settings: ProjectSettings, project) -> None:
    assert render(settings, "dates", raw=True, start_date="2024-01-15").startswith(
        "SELECT '2024-01-15' as captured_start_date"
    )
    project.write("p/assets/bad.sql", "/* @bruin\nname: bad\ntype: duckdb.sql\nmaterialization:\n  type: table\n"
                                      "  strategy: merge\n@bruin */\nselect 1\n")  # fmt: skip
    with pytest.raises(BruinError) as caught:
        render(settings, "bad")
    assert str(caught.value) == "asset 'bad': materialization strategy merge requires the `columns` field to be set"


def test_the_rendered_script_is_what_the_run_executes(settings: ProjectSettings, project) -> None:
    import duckdb

    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n      duckdb:\n"
                                "        - {name: duckdb-default, path: w.db}\n")  # fmt: skip
    ran = project.bruin("run", "--no-log-file", "p/assets/users.sql")
    assert ran.returncode == 0, ran.output
    with duckdb.connect(str(project.root / "w.db"), read_only=True) as db:
        by_the_run = sorted(db.execute("select name from public.users").fetchall())
    with duckdb.connect(":memory:") as db:
        db.execute("create schema public")
        db.execute(render(settings, "users"))
        assert sorted(db.execute("select name from public.users").fetchall()) == by_the_run == [("erik",), ("jhon",)]
