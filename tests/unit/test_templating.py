import subprocess
import sys

import pytest

from pybruin.errors import BruinError
from pybruin.run.templating import render_sql

CONTEXT = {
    "start_date": "2024-06-01",
    "end_date": "2024-06-02",
    "start_datetime": "2024-06-01T00:00:00",
    "end_datetime": "2024-06-02T00:00:00",
    "start_timestamp": "2024-06-01T00:00:00.000000Z",
    "end_timestamp": "2024-06-02T00:00:00.000000Z",
    "execution_date": "2024-06-03",
    "execution_datetime": "2024-06-03T10:11:12",
    "execution_timestamp": "2024-06-03T10:11:12.000000Z",
    "run_id": "2024_06_03_10_11_12",
    "pipeline": "sales",
    "this": "analytics.orders",
    "var": {"countries": ["DE", "FR"], "limit": 5},
}

SECRETS_MESSAGE = (
    "asset 'analytics.orders': secrets are not available in SQL templates ('{}'); "
    "use a Python asset or the asset's connection"
)


def render(sql: str, secret_names: tuple[str, ...] = ()) -> str:
    return render_sql(sql, CONTEXT, asset_name="analytics.orders", secret_names=secret_names)


def render_error(sql: str, secret_names: tuple[str, ...] = ()) -> BruinError:
    with pytest.raises(BruinError) as caught:
        render(sql, secret_names)
    return caught.value


def test_renders_run_values_and_variables() -> None:
    sql = (
        "-- {{ pipeline }} / {{ run_id }} / {{ this }}\n"
        "select * from raw.orders\n"
        "where ts between '{{ start_timestamp }}' and '{{ end_timestamp }}'\n"
        "  and day >= '{{ start_date }}' and day < '{{ end_date }}'\n"
        "  and country in ({% for c in var.countries %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor %})\n"
        "limit {{ var.limit }}\n"
    )

    assert render(sql) == (
        "-- sales / 2024_06_03_10_11_12 / analytics.orders\n"
        "select * from raw.orders\n"
        "where ts between '2024-06-01T00:00:00.000000Z' and '2024-06-02T00:00:00.000000Z'\n"
        "  and day >= '2024-06-01' and day < '2024-06-02'\n"
        "  and country in ('DE', 'FR')\n"
        "limit 5\n"
    )


def test_text_without_jinja_is_unchanged() -> None:
    sql = "select '%s', 100 % 7, '{' as brace;\nselect 2;"
    assert render(sql) == sql


def test_undefined_name_fails_with_its_line() -> None:
    error = render_error("select 1\nfrom t\nwhere x = {{ nope }}")
    assert str(error) == "asset 'analytics.orders': template error at line 3: 'nope' is undefined"


def test_missing_variable_fails_instead_of_rendering_empty() -> None:
    error = render_error("select {{ var.missing }}")
    assert str(error) == (
        "asset 'analytics.orders': template error at line 1: 'dict object' has no attribute 'missing'"
    )


def test_syntax_error_names_its_line() -> None:
    error = render_error("select 1\n{% if %}\nselect 2")
    assert str(error).startswith("asset 'analytics.orders': template error at line 2: ")
    assert "\n" not in str(error)


def test_runtime_error_names_its_line() -> None:
    error = render_error("select 1,\n  2,\n  {{ var.limit / 0 }}")
    assert str(error) == "asset 'analytics.orders': template error at line 3: division by zero"


@pytest.mark.parametrize(
    ("sql", "what"),
    [
        ("select '{{ secrets.DB_PASSWORD }}'", "secrets"),
        ("select '{{ secrets['DB_PASSWORD'] }}'", "secrets"),
        ("select '{{ secret('DB_PASSWORD') }}'", "secret"),
        ("select '{{ env_var('DB_PASSWORD') }}'", "env_var"),
        ("select '{{ env.DB_PASSWORD }}'", "env"),
        ("select 1\n-- {{ pipeline }}\nselect '{{ warehouse_conn }}'", "warehouse_conn"),
        ("{% if false %}{{ warehouse_conn }}{% endif %}select 1", "warehouse_conn"),
    ],
)
def test_secret_lookups_are_refused_by_name(sql: str, what: str) -> None:
    error = render_error(sql, secret_names=("warehouse_conn",))
    assert str(error) == SECRETS_MESSAGE.format(what)


def test_template_local_names_are_not_secret_lookups() -> None:
    sql = "{% set warehouse_conn = 'x' %}{% for env in ['a'] %}{{ env }}{{ warehouse_conn }}{% endfor %}"
    assert render(sql, secret_names=("warehouse_conn",)) == "ax"


def test_sandbox_keeps_templates_away_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    canary = "canary-4f1d9e2b-templating"
    monkeypatch.setenv("PYBRUIN_TEMPLATE_CANARY", canary)

    error = render_error("select '{{ cycler.__init__.__globals__.os.environ.PYBRUIN_TEMPLATE_CANARY }}'")

    assert str(error).startswith("asset 'analytics.orders': template error at line 1: ")
    assert "unsafe" in str(error)
    assert canary not in str(error)
    assert error.__suppress_context__


def test_jinja_is_imported_only_when_rendering() -> None:
    code = "import sys, pybruin.run.templating; print('jinja2' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
