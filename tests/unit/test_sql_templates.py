"""SQL templates as upstream renders them: the context of an asset, upstream's date filters (Go layouts), the
`bruin.*` helpers, macros and their clean-up, interval modifiers, and the asset renderer `bruin render` uses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.pipeline.intervals import IntervalError, parse_modifier
from pybruin.pipeline.model import Asset, Column, Hooks, IntervalModifiers, Pipeline, TimeModifier
from pybruin.run.context import RunContext
from pybruin.run.godates import add_date, go_format, go_parse
from pybruin.run.rendering import AssetRenderer, shift
from pybruin.run.templating import Macros, load_macros, render_sql

START = datetime(2022, 2, 3, 4, 0, tzinfo=UTC)
END = datetime(2022, 2, 4, 4, 0, 0, 948740, tzinfo=UTC)


def render(template: str, **context: object) -> str:
    return render_sql(template, context, asset_name="a")


def failure(template: str, **context: object) -> str:
    with pytest.raises(BruinError) as caught:
        render(template, **context)
    return str(caught.value)


# --- filters -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "context", "expected"),
    [
        ("{{ start_date | add_days(3) | add_days(1) | add_days(-5) | date_format('%Y/%m/%d') }}",
         {"start_date": "2022-02-03"}, "2022/02/02"),
        ("{{ start_datetime | add_hours(1) | add_minutes(12) | add_seconds(5) | date_format('%Y/%m/%d %H:%M:%S') }}",
         {"start_datetime": "2022-02-03T04:00:00"}, "2022/02/03 05:12:05"),
        ("{{ d }}, {{ dt | add_days(3) }}, {{ ts | add_days(3) }}, {{ ts | date_add(2) | date_format('%Y-%m-%d') }}",
         {"d": "2022-02-04", "dt": "2022-02-04T04:00:00", "ts": "2022-02-04T04:00:00.948740Z"},
         "2022-02-04, 2022-02-07T04:00:00, 2022-02-07T04:00:00.948740Z, 2022-02-06"),
        ("{{ ts | date_format('%Y-%m-%dT%H:%M:%S.%f') }}", {"ts": "2022-02-04T04:00:00.948740Z"},
         "2022-02-04T04:00:00.948740"),
        ("{{ d | truncate_year }}|{{ d | truncate_month }}|{{ d | truncate_day }}|{{ d | truncate_hour }}",
         {"d": "2024-03-15 14:30:45"},
         "2024-01-01 00:00:00|2024-03-01 00:00:00|2024-03-15 00:00:00|2024-03-15 14:00:00"),
        ("{{ d | truncate_month | date_format('%Y-%m-%d') }}", {"d": "2024-03-15"}, "2024-03-01"),
        ("{{ d | add_days(5) | truncate_month }}", {"d": "2024-03-15 14:30:45"}, "2024-03-01 00:00:00"),
        ("{{ d | truncate_day }}", {"d": "2024-03-15T14:30:45.123456Z"}, "2024-03-15T00:00:00.000000Z"),
        ("{{ '2024-01-15' | add_months('-2') }} {{ '2024-01-31' | add_months(1) }}", {}, "2023-11-15 2024-03-02"),
        ("{{ '2024-02-29' | add_years('1') }}", {}, "2025-03-01"),
        ("{{ '2024-01-15 10:30:15.800' | add_milliseconds('300') }}", {}, "2024-01-15 10:30:16.100"),
        ("{{ '2024-01-15 23:55:00' | add_minutes(10) }}", {}, "2024-01-16 00:05:00"),
        ("{{ '15 Mar 2024' | add_days(1) }}", {}, "16 Mar 2024"),
        ("{{ '2024-03-15T10:00:00+02:00' | add_hours(-12) }}", {}, "2024-03-14T22:00:00+02:00"),
        # %z renders a literal Z, and literal text that is a Go layout token is one (upstream's behaviour).
        ("{{ '2024-03-15' | date_format('%A %d %B %y %z, Mon 1') }}", {}, "Friday 15 March 24 Z, Fri 3"),
    ],
)  # fmt: skip
def test_filters_render_as_upstream(template: str, context: dict, expected: str) -> None:
    assert render(template, **context) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ '2024-01-15' | add_days('x') }}",
         "invalid number of days for add_days, it must be a valid integer, 'x' given"),
        ("{{ '2024-01-15' | add_months('1.5') }}",
         "invalid number of months for add_months, it must be a valid integer, '1.5' given"),
        ("{{ 'not-a-date' | add_hours(1) }}", "invalid date format: invalid datetime format"),
        ("{{ '2024-01-15' | add_days(1, 2) }}", "'add_days' accept only a single argument"),
        ("{{ 'soon' | date_format('%Y') }}", "invalid date format, soon given"),
    ],
)  # fmt: skip
def test_filter_errors_use_upstreams_texts(template: str, message: str) -> None:
    assert failure(template) == f"asset 'a': template error at line 1: {message}"


def test_go_layouts_read_and_write_like_go() -> None:
    assert go_parse("2024-01-15 10:30:15.5", "2006-01-02 15:04:05") == datetime(2024, 1, 15, 10, 30, 15, 500000, UTC)
    assert go_format(datetime(2024, 3, 5, 7, 8, 9, 120000, UTC), "Jan _2 3:04:05.999 PM -0700 MST") == (
        "Mar  5 7:08:09.12 AM +0000 UTC"
    )
    assert add_date(datetime(2023, 1, 31, tzinfo=UTC), months=1) == datetime(2023, 3, 3, tzinfo=UTC)
    with pytest.raises(ValueError):
        go_parse("2024-02-30", "2006-01-02")


# --- the template engine as upstream's ------------------------------------------------------------------------


def test_whitespace_and_blocks_are_kept_as_upstream_renders_them() -> None:
    template = "\n{% set payment_method = \"bank_transfer\" %}\n\nselect '{{payment_method}}' as m\ngroup by 1"
    assert render(template) == "\n\n\nselect 'bank_transfer' as m\ngroup by 1"
    assert render('\n{%- for num in range(8, 11) %}\n{{ ("0" ~ num|string)[-2:] -}}\n{% endfor %}') == "\n08\n09\n10"
    assert render("{% for i in range(10, 1, -2) %}{{i}}-{%endfor%}") == "10-8-6-4-2-"
    assert render("{{ full_refresh }} {{ not full_refresh }}", full_refresh=False) == "False True"


def test_variables_loop_like_the_render_fixture() -> None:
    template = (
        "{% for user in var.users -%}\n  SELECT '{{ user }}' as name {% if not loop.last %} UNION ALL {% endif -%}"
        "\n{%- endfor -%};"
    )
    assert render(template, var={"users": ["jhon", "erik"]}) == (
        "SELECT 'jhon' as name  UNION ALL SELECT 'erik' as name ;"
    )


# --- bruin.* helpers --------------------------------------------------------------------------------------


def helpers(asset_type: str = "python") -> dict:
    from pybruin.run.sql_helpers import helpers_for

    return {"bruin": helpers_for(asset_type)}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("select col1, col2, col3, count(*) from table1 {{ bruin.group_by(3) }}",
         "select col1, col2, col3, count(*) from table1 group by 1, 2, 3"),
        ("select {{ bruin.safe_divide('sum(revenue)', 'count(distinct user_id)') }}",
         "select (sum(revenue)) / nullif((count(distinct user_id)), 0)"),
        ("select {{ bruin.safe_add(['col1', 'col2', 'col3']) }} as total",
         "select coalesce(col1, 0) +\n    coalesce(col2, 0) +\n    coalesce(col3, 0) as total"),
        ("{{ bruin.safe_subtract('a', 'b') }}", "coalesce(a, 0) -\n    coalesce(b, 0)"),
        ("{{ bruin.generate_surrogate_key(['user_id']) }}",
         "md5(coalesce(cast(user_id as varchar), '_bruin_surrogate_key_null_'))"),
        ("{{ bruin.generate_surrogate_key(['user_id', 'session_id']) }}",
         "md5(concat(coalesce(cast(user_id as varchar), '_bruin_surrogate_key_null_'), '-', "
         "coalesce(cast(session_id as varchar), '_bruin_surrogate_key_null_')))"),
        ("{{ bruin.slugify('Hello World') }}|{{ bruin.slugify('1st place') }}|{{ bruin.slugify('9 Active Users!') }}",
         "hello_world|_1st_place|_9_active_users"),
        ("{{ bruin.degrees_to_radians('lat') }}", "acos(-1) * lat / 180"),
        ("{{ bruin.pivot('type', ['My Value'], quote_identifiers=false) }}",
         "sum(\n        case\n        when type = 'My Value'\n            then 1\n        else 0\n        end\n    )\n"
         "        as my_value"),
        ("{{ bruin.pivot('s', ['a'], prefix='is_', suffix='_flag', distinct=true, agg='count') }}",
         "count(\n        distinct case\n        when s = 'a'\n            then 1\n        else 0\n        end\n    )\n"
         '        as "is_a_flag"'),
    ],
)  # fmt: skip
def test_bruin_helpers(template: str, expected: str) -> None:
    assert render(template, **helpers()) == expected


def test_bruin_helpers_follow_the_platform() -> None:
    template = "{{ bruin.generate_series(3) }}"
    assert render(template, **helpers("duckdb.sql")) == (
        "select generated_number\nfrom generate_series(1, 3) as t(generated_number)\norder by generated_number"
    )
    generic = render(template, **helpers("pg.sql"))
    assert "p1.generated_number * power(2, 1)" in generic and "where generated_number <= 3" in generic
    assert render("{{ bruin.deduplicate('t', 'id', 'ts desc') }}", **helpers("pg.sql")) == (
        "select\n        distinct on (id) *\n    from t\n    order by id, ts desc"
    )
    assert "qualify" in render("{{ bruin.deduplicate('t', 'id', 'ts') }}", **helpers("duckdb.sql"))
    assert render("{{ bruin.get_url_host('u') }}", **helpers("duckdb.sql")).startswith("cast(split_part(")
    assert render("{{ bruin.generate_surrogate_key('a', 'b') }}", **helpers("rs.sql")) == (
        "md5(coalesce(cast(a as varchar), '_bruin_surrogate_key_null_') || '-' || "
        "coalesce(cast(b as varchar), '_bruin_surrogate_key_null_'))"
    )
    assert render("{{ bruin.date_spine('day', \"'2024-01-01'\", \"'2024-01-03'\") }}", **helpers("duckdb.sql")) == (
        "select cast(date_day as date) as date_day\nfrom generate_series(cast('2024-01-01' as date), "
        "cast('2024-01-03' as date), interval '1 day') as t(date_day)\nwhere date_day < cast('2024-01-03' as date)"
    )


# --- macros ---------------------------------------------------------------------------------------------------


def test_macros_come_first_and_blank_runs_are_cut() -> None:
    macros = Macros("{% macro simple_select() %}\nSELECT 1 as id, 'test' as name\n{% endmacro %}\n", (("m", 3),))
    assert render_sql("{{ simple_select() }}", {}, asset_name="a", macros=macros) == (
        "\n\nSELECT 1 as id, 'test' as name\n"
    )
    spaced = Macros("{% macro m1() %}SELECT 1{% endmacro %}\n\n\n\n\n", (("m", 5),))
    assert render_sql("{{ m1() }} UNION ALL {{ m1() }}", {}, asset_name="a", macros=spaced) == (
        "\n\nSELECT 1 UNION ALL SELECT 1"
    )


def test_macros_are_the_pipelines_sql_files_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "macros"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.sql").write_text("{% macro two() %}2{% endmacro %}")
    (folder / "a.sql").write_text("{# first #}\n{% macro one() %}1{% endmacro %}")
    (folder / "notes.md").write_text("{% macro no() %}{% endmacro %}")
    (folder / "sub" / "c.sql").write_text("{% macro three() %}3{% endmacro %}")

    macros = load_macros(tmp_path)

    assert macros.text == "{# first #}\n{% macro one() %}1{% endmacro %}\n{% macro two() %}2{% endmacro %}\n"
    assert render_sql("select {{ one() }} + {{ two() }}", {}, asset_name="a", macros=macros).endswith("select 1 + 2")
    assert load_macros(tmp_path / "nowhere") == Macros()


def test_errors_name_the_asset_line_or_the_macro_file(tmp_path: Path) -> None:
    folder = tmp_path / "macros"
    folder.mkdir()
    (folder / "a.sql").write_text("{% macro one() %}{{ nope }}{% endmacro %}\n")
    macros = load_macros(tmp_path)
    with pytest.raises(BruinError) as missing:
        render_sql("select 1\n{{ unknown_macro() }}", {}, asset_name="a", macros=macros)
    assert str(missing.value) == "asset 'a': template error at line 2: 'unknown_macro' is undefined"
    with pytest.raises(BruinError) as inside:
        render_sql("select {{ one() }}", {}, asset_name="a", macros=macros)
    assert str(inside.value) == "asset 'a': template error in macros/a.sql at line 1: 'nope' is undefined"


# --- interval modifiers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-2h", TimeModifier(hours=-2)), ("1d", TimeModifier(days=1)), ("+30m", TimeModifier(minutes=30)),
     ("1M", TimeModifier(months=1)), ("500ms", TimeModifier(milliseconds=500)), ("-10s", TimeModifier(seconds=-10)),
     ("{{ '-1d' }}", TimeModifier(template="{{ '-1d' }}"))],
)  # fmt: skip
def test_interval_modifiers_parse(text: str, expected: TimeModifier) -> None:
    assert parse_modifier(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("h", "invalid time modifier format: h"),
     ("xh", 'invalid numeric portion "x" in interval "xh": strconv.Atoi: parsing "x": invalid syntax'),
     ("5y", 'unknown interval suffix "y" in "5y"; must be h, m, s, d, M, ms, or ns')],
)  # fmt: skip
def test_bad_interval_modifiers_use_upstreams_texts(text: str, message: str) -> None:
    with pytest.raises(IntervalError) as caught:
        parse_modifier(text)
    assert str(caught.value) == message


def test_shift_adds_months_and_days_like_go_then_the_rest() -> None:
    moment = datetime(2024, 1, 31, 10, 0, tzinfo=UTC)
    assert shift(moment, TimeModifier(months=1, hours=-2, nanoseconds=3000)) == datetime(2024, 3, 2, 8, 0, 0, 3, UTC)


# --- the asset renderer ---------------------------------------------------------------------------------------


def renderer(tmp_path: Path, **context: object) -> tuple[AssetRenderer, Pipeline]:
    pipeline = Pipeline(name="p", directory=tmp_path, definition_file=tmp_path / "pipeline.yml", commit="abc")
    fields = {"start": START, "end": END, "execution": END, "run_id": "r1", "pipeline": "p", "commit": "abc",
              "variables": {"n": 1}, **context}  # fmt: skip
    return AssetRenderer(RunContext(**fields), pipeline), pipeline  # type: ignore[arg-type]


def sql_asset(name: str = "raw.users", sql: str = "", **fields: object) -> Asset:
    file = Path("assets/a.sql")
    return Asset(name=name, type="duckdb.sql", definition_file=file, executable_file=file, content=sql, **fields)


def test_context_holds_every_variable_upstream_has(tmp_path: Path) -> None:
    assets, _ = renderer(tmp_path, full_refresh=True, schema_prefix="dev_")
    values = assets.values(sql_asset())
    bruin = values.pop("bruin")
    assert values == {
        "start_date": "2022-02-03", "start_date_nodash": "20220203", "start_datetime": "2022-02-03T04:00:00",
        "start_timestamp": "2022-02-03T04:00:00.000000Z",
        "end_date": "2022-02-04", "end_date_nodash": "20220204", "end_datetime": "2022-02-04T04:00:00",
        "end_timestamp": "2022-02-04T04:00:00.948740Z",
        "execution_date": "2022-02-04", "execution_date_nodash": "20220204",
        "execution_datetime": "2022-02-04T04:00:00", "execution_timestamp": "2022-02-04T04:00:00.948740Z",
        "pipeline": "p", "run_id": "r1", "full_refresh": True, "commit_hash": "abc", "schema_prefix": "dev_",
        "this": "dev_raw.users", "var": {"n": 1},
    }  # fmt: skip
    assert "group_by" in bruin
    assert assets.values(sql_asset("bare"))["this"] == "bare"


def test_a_restricted_asset_is_not_fully_refreshed(tmp_path: Path) -> None:
    assets, _ = renderer(tmp_path, full_refresh=True)
    restricted = sql_asset(refresh_restricted=True)
    assert (assets.full_refresh(restricted), assets.values(restricted)["full_refresh"]) == (False, False)
    everywhere, _ = renderer(tmp_path, full_refresh=True, refresh_restricted=True)
    assert not everywhere.full_refresh(sql_asset())


def test_interval_modifiers_apply_only_when_asked(tmp_path: Path) -> None:
    modifiers = IntervalModifiers(TimeModifier(hours=-2), TimeModifier(template="{{ '-1d' }}"))
    asset = sql_asset(interval_modifiers=modifiers)
    plain, _ = renderer(tmp_path)
    assert plain.interval(asset) == (START, END)
    shifted, _ = renderer(tmp_path, apply_interval_modifiers=True)
    assert shifted.interval(asset) == (
        datetime(2022, 2, 3, 2, 0, tzinfo=UTC), datetime(2022, 2, 3, 4, 0, 0, 948740, UTC)
    )
    assert shifted.values(asset)["start_timestamp"] == "2022-02-03T02:00:00.000000Z"


@pytest.mark.parametrize(
    ("template", "message"),
    [("{{ nope }}", "failed to render interval modifier template: template error at line 1: 'nope' is undefined"),
     ("{% if true %}-30d{% else %}0{% endif %}x", "failed to parse rendered template result '-30dx': invalid "
      'numeric portion "-30d" in interval "-30dx": strconv.Atoi: parsing "-30d": invalid syntax')],
)  # fmt: skip
def test_interval_modifier_template_errors(tmp_path: Path, template: str, message: str) -> None:
    assets, _ = renderer(tmp_path, apply_interval_modifiers=True)
    asset = sql_asset(interval_modifiers=IntervalModifiers(start=TimeModifier(template=template)))
    with pytest.raises(BruinError) as caught:
        assets.interval(asset)
    assert str(caught.value) == f"failed to resolve start interval modifier template for asset raw.users: {message}"


def test_hooks_render_with_the_asset_and_errors_name_the_hook(tmp_path: Path) -> None:
    assets, _ = renderer(tmp_path)
    asset = sql_asset(hooks=Hooks(pre=("  insert into log values ('{{ this }}')  ",), post=("select {{ nope }}",)))
    with pytest.raises(BruinError) as caught:
        assets.hooks(asset)
    assert str(caught.value) == (
        "Failed to render hooks: error rendering hooks for asset raw.users: failed to render post hook 1: "
        "template error at line 1: 'nope' is undefined"
    )
    good = sql_asset(hooks=Hooks(pre=("  insert into log values ('{{ this }}')  ",)))
    assert assets.hooks(good).pre == ("insert into log values ('raw.users')",)


def test_sql_is_what_the_run_executes(tmp_path: Path) -> None:
    assets, _ = renderer(tmp_path)
    asset = sql_asset(
        sql="select '{{ start_date }}' as d",
        materialization={"type": "table", "strategy": "time_interval", "incremental_key": "d",
                         "time_granularity": "date"},
        columns=[Column("d", "DATE")], hooks=Hooks(post=("select 1",)),
    )  # fmt: skip
    assert assets.sql(asset) == (
        "BEGIN TRANSACTION;\nDELETE FROM raw.users WHERE d BETWEEN '2022-02-03' AND '2022-02-04';\n"
        "INSERT INTO raw.users select '2022-02-03' as d;\nCOMMIT;\nselect 1;"
    )
    assert assets.sql(asset, raw=True) == "select '2022-02-03' as d"
