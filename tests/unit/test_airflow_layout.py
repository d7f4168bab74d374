"""What a pipeline's Airflow DAG holds (`pybruin.airflow.layout`), decided without Airflow, and the task spec."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import pytest

from pybruin.airflow.layout import DagOptions, airflow_schedule, airflow_task_id, build_layout
from pybruin.airflow.spec import TaskSpec, spec_template
from pybruin.errors import BruinError

if TYPE_CHECKING:
    from conftest import BruinProject


def py_asset(name: str, header: str = "") -> str:
    return f'"""@bruin\nname: {name}\n{header}@bruin"""\nprint("{name}")\n'


def pipeline(project: BruinProject, definition: str = "name: p\n", assets: dict[str, str] | None = None) -> Path:
    project.write("p/pipeline.yml", definition)
    for name, header in (assets or {"a": ""}).items():
        project.write(f"p/assets/{name}.py", py_asset(name, header))
    return project.root / "p"


def test_one_task_per_asset_with_dependencies_from_depends_and_a_spec_per_task(project: BruinProject) -> None:
    path = pipeline(project, assets={"raw.a": "tags: [raw]\n", "b": "depends: [raw.a]\nowner: o@x\n"
                                     "description: The b.\n", "off": "enabled: false\n"})  # fmt: skip
    layout = build_layout(path, DagOptions(environment="prod", secrets_backend="vault"))

    assert [(task.task_id, task.upstream) for task in layout.tasks] == [("b", ("raw.a",)), ("raw.a", ())]
    b = layout.tasks[0]
    assert (b.owner, b.doc, b.image, b.resources) == ("o@x", "The b.", None, None)
    rendered = render(b.spec, run_id="manual__1", start=None, params={"full_refresh": True})
    assert rendered == TaskSpec(project=str(project.root), asset="p/assets/b.py", task="b", environment="prod",
                                secrets_backend="vault", run_id="manual__1", full_refresh=True)  # fmt: skip


def render(template: str, *, run_id: str, start: datetime | None, params: dict) -> TaskSpec:
    """Render a spec template as Airflow does (its Jinja environment has `tojson`)."""
    text = jinja2.Environment().from_string(template).render(
        run_id=run_id, data_interval_start=start, data_interval_end=start, params=params
    )
    return TaskSpec.from_json(text)


def test_the_spec_carries_the_interval_run_id_and_params_as_json_whatever_they_hold() -> None:
    fixed = TaskSpec(project="/p r/o'j\"", asset="a/b.py", task="b")
    start = datetime(2024, 3, 4, tzinfo=UTC)
    params = {"full_refresh": False, "limit": 3, "names": ["x", 'y"}}'], "full_refresh_extra": 1}
    spec = render(spec_template(fixed, ("limit", "names")), run_id='odd "run" }} id', start=start, params=params)
    assert spec.project == "/p r/o'j\"" and spec.run_id == 'odd "run" }} id'
    assert spec.start == spec.end == "2024-03-04T00:00:00+00:00"
    assert spec.variables == {"limit": 3, "names": ["x", 'y"}}']}
    assert TaskSpec.from_json(spec.to_json()) == spec


def test_a_fixed_value_with_a_jinja_marker_is_refused() -> None:
    with pytest.raises(BruinError, match=r"'a/\{\{x\}\}.py' \(asset\) cannot be part of an Airflow template"):
        spec_template(TaskSpec(project="/p", asset="a/{{x}}.py", task="t"), ())


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[]", "expected a JSON object"),
        ("{", "not JSON"),
        ('{"project": "/p", "asset": "a", "task": "t", "token": "x"}', "unknown keys token"),
        ('{"project": "/p", "asset": "", "task": "t"}', "'asset' must be a non-empty string"),
        ('{"project": "/p", "asset": "a", "task": "t", "full_refresh": "yes"}', "'full_refresh' must be true or false"),
        ('{"project": "/p", "asset": "a", "task": "t", "variables": []}', "'variables' must be an object"),
        ('{"project": "/p", "asset": "a", "task": "t", "start": 5}', "'start' must be a string"),
    ],
)
def test_a_bad_spec_is_one_clear_error(text: str, error: str) -> None:
    with pytest.raises(BruinError, match=error):
        TaskSpec.from_json(text)


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [("", None), ("daily", "@daily"), ("@hourly", "@hourly"), ("weekly", "@weekly"), ("monthly", "@monthly"),
     ("0 3 * * *", "0 3 * * *"), ("continuous", "@continuous"), ("@midnight", "@daily"), ("@annually", "@yearly")],
)  # fmt: skip
def test_bruin_schedules_become_airflow_schedules(schedule: str, expected: str | None) -> None:
    assert airflow_schedule(schedule, Path("pipeline.yml")) == expected


def test_an_every_schedule_has_no_airflow_equivalent() -> None:
    with pytest.raises(BruinError, match=r"pipeline\.yml: schedule '@every 1h' has no Airflow equivalent"):
        airflow_schedule("@every 1h", Path("pipeline.yml"))


def test_pipeline_settings_become_the_dags(project: BruinProject) -> None:
    definition = ("name: shop\nschedule: daily\nstart_date: 2024-01-02\ncatchup: true\nconcurrency: 3\n"
                  "tags: [team, shared]\nvariables:\n  limit: {type: integer, default: 3, minimum: 1}\n")  # fmt: skip
    layout = build_layout(pipeline(project, definition, {"a": "tags: [shared, raw]\n", "b": "tags: [b]\n"}),
                          DagOptions())  # fmt: skip
    assert (layout.dag_id, layout.schedule, layout.start_date) == ("shop", "@daily", datetime(2024, 1, 2, tzinfo=UTC))
    assert (layout.catchup, layout.max_active_runs) == (True, 3)
    assert layout.tags == ("team", "shared", "raw", "b")
    assert layout.params == {"full_refresh": (False, {"type": "boolean",
                                                      "description": "Rebuild from scratch (--full-refresh)."}),
                             "limit": (3, {"type": "integer", "minimum": 1})}  # fmt: skip
    assert build_layout(project.root / "p", DagOptions(dag_id="other")).dag_id == "other"


def test_unset_pipeline_settings_leave_airflows_defaults(project: BruinProject) -> None:
    layout = build_layout(pipeline(project), DagOptions())
    assert (layout.schedule, layout.start_date, layout.catchup, layout.max_active_runs) == (None, None, None, 1)
    assert (layout.tasks[0].retries, layout.tasks[0].retry_delay_seconds) == (None, None)


@pytest.mark.parametrize(
    ("definition", "error"),
    [
        ("name: p\nstart_date: soon\n", "start_date must be in the format of YYYY-MM-DD, 'soon' given"),
        ("name: p\nconcurrency: -2\n", "'concurrency' must be a positive integer"),
        ("name: p\nvariables:\n  full_refresh: {type: boolean, default: false}\n",
         "variable 'full_refresh' clashes with the DAG param"),
    ],
)  # fmt: skip
def test_bad_pipeline_settings_are_refused(project: BruinProject, definition: str, error: str) -> None:
    with pytest.raises(BruinError, match=error):
        build_layout(pipeline(project, definition), DagOptions())


def test_an_invalid_pipeline_is_refused_as_bruin_run_refuses_it(project: BruinProject) -> None:
    with pytest.raises(BruinError, match="validation failed: a: Dependency 'missing' does not exist"):
        build_layout(pipeline(project, assets={"a": "depends: [missing]\n"}), DagOptions())


def test_selection_by_tag_and_exclude_tag_at_build_time(
    project: BruinProject, caplog: pytest.LogCaptureFixture
) -> None:
    path = pipeline(project, assets={"a": "tags: [x, slow]\n", "b": "depends: [a]\ntags: [x]\n", "c": "tags: [y]\n"})
    assert [t.task_id for t in build_layout(path, DagOptions(tag="x")).tasks] == ["a", "b"]
    only_b = build_layout(path, DagOptions(tag="x", exclude_tags=("slow",)))
    assert [(t.task_id, t.upstream) for t in only_b.tasks] == [("b", ())]
    assert only_b.tags == ("x",)
    assert build_layout(path, DagOptions(exclude_tags=("x", "y"))).tasks == ()
    with caplog.at_level(logging.WARNING):
        assert len(build_layout(path, DagOptions(exclude_tags=("nobody",))).tasks) == 3
    assert "no assets found with exclude tag 'nobody'; continuing without excluding any assets." in caplog.text
    with pytest.raises(BruinError, match="no assets found with include tag 'nobody'"):
        build_layout(path, DagOptions(tag="nobody"))


def test_refused_assets_keep_their_task_and_are_named_at_parse_time(
    project: BruinProject, caplog: pytest.LogCaptureFixture
) -> None:
    path = pipeline(project, assets={"a": "hooks:\n  pre: [{query: select 1}]\n", "b": "depends: [a]\n"})
    with caplog.at_level(logging.WARNING):
        layout = build_layout(path, DagOptions())
    assert [t.task_id for t in layout.tasks] == ["a", "b"]
    assert "1 task(s) of pipeline 'p' use features pybruin does not support yet and will fail: a" in caplog.text


def test_retries_and_rerun_cooldown_as_upstream_translates_them(project: BruinProject) -> None:
    definition = "name: p\nretries: 4\ndefault:\n  rerun_cooldown: 60\n"
    assets = {"a": "", "b": "retries: 1\nrerun_cooldown: 5\n", "c": "rerun_cooldown: -1\n", "d": "retries: 0\n"}
    tasks = {t.task_id: (t.retries, t.retry_delay_seconds) for t in build_layout(
        pipeline(project, definition, assets), DagOptions()).tasks}  # fmt: skip
    assert tasks == {"a": (4, 60), "b": (1, 5), "c": (4, 0), "d": (0, 60)}


def test_kubernetes_pods_take_the_asset_image_else_the_dags_and_the_instance_as_requests(
    project: BruinProject,
) -> None:
    path = pipeline(project, assets={"a": "image: img/a:1\ninstance: b1.xlarge\n", "b": "instance: tiny\n", "c": ""})
    options = DagOptions(mode="kubernetes", image="img/bruin:2", instances={"tiny": {"cpu": "100m"}})
    pods = {t.task_id: (t.image, t.resources) for t in build_layout(path, options).tasks}
    assert pods == {"a": ("img/a:1", {"cpu": "2", "memory": "6Gi"}), "b": ("img/bruin:2", {"cpu": "100m"}),
                    "c": ("img/bruin:2", {"cpu": "250m", "memory": "256Mi"})}  # fmt: skip
    with pytest.raises(BruinError, match="no image for asset 'b': set image= or the asset's image"):
        build_layout(path, DagOptions(mode="kubernetes", instances={"tiny": {}}))
    with pytest.raises(BruinError, match=r"unknown instance 'tiny'; known instances: b1\.nano, b1\.small"):
        build_layout(path, DagOptions(mode="kubernetes", image="img"))


def test_check_ids_become_airflow_task_ids() -> None:
    assert airflow_task_id("raw.users") == "raw.users"
    assert airflow_task_id("raw.users:id:not_null") == "raw.users__id__not_null"
    assert airflow_task_id("raw.users:custom-check:row count") == "raw.users__custom-check__row_count"


def test_credentials_in_the_workers_settings_are_refused(project: BruinProject) -> None:
    path = pipeline(project)
    assert build_layout(path, DagOptions(env={"BRUIN_VAULT_ROLE": "bruin"})).env == {"BRUIN_VAULT_ROLE": "bruin"}
    with pytest.raises(BruinError, match=r"env must not hold credentials \(AWS_SECRET_ACCESS_KEY, BRUIN_VAULT_TOKEN\)"):
        build_layout(path, DagOptions(env={"BRUIN_VAULT_TOKEN": "t", "AWS_SECRET_ACCESS_KEY": "k"}))
    with pytest.raises(BruinError, match=r"\(BRUIN_CONFIG_FILE_CONTENT\)"):
        build_layout(path, DagOptions(env={"BRUIN_CONFIG_FILE_CONTENT": "environments: {}"}))


def test_building_reads_no_config_nor_store_and_imports_nothing_heavy(project: BruinProject) -> None:
    """What Airflow's DAG-file processor runs: `.bruin.yml` is unreadable and the store unreachable."""
    project.write(".bruin.yml", "environments: [not a config\n")
    path = pipeline(project, assets={"a": "secrets: [{key: API_KEY}]\n", "b": "depends: [a]\n"})
    code = (
        "import sys; from pathlib import Path; from pybruin.airflow.layout import build_layout, DagOptions\n"
        f"layout = build_layout(Path({str(path)!r}), DagOptions(secrets_backend='vault'))\n"
        "heavy = ['pydantic', 'jinja2', 'rich', 'duckdb', 'psycopg', 'hvac', 'boto3', 'httpx', 'azure', 'click',\n"
        "         'pybruin.run.session', 'pybruin.workspace']\n"
        "print(len(layout.tasks), [name for name in heavy if name in sys.modules])\n"
    )
    env = {"PATH": "/usr/bin:/bin", "BRUIN_VAULT_HOST": "http://127.0.0.1:9", "BRUIN_VAULT_TOKEN": "x"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2 []"


CHECKED_SQL = """/* @bruin
name: t
type: duckdb.sql
materialization:
  type: table
columns:
  - name: id
    checks:
      - name: not_null
      - name: unique
        blocking: false
custom_checks:
  - name: Row Count
    value: 1
    query: select count(*) from t
@bruin */
select 1 as id
"""


def test_one_task_per_check_as_upstream_names_them_and_only_blocking_checks_hold_up_downstream(
    project: BruinProject,
) -> None:
    path = pipeline(project, assets={"d": "depends: [t]\n"})
    project.write("p/assets/t.sql", CHECKED_SQL)
    layout = build_layout(path, DagOptions())

    tasks = {task.task_id: task for task in layout.tasks}
    assert list(tasks) == ["d", "t", "t__id__not_null", "t__id__unique", "t__custom-check__row_count"]
    assert tasks["d"].upstream == ("t", "t__id__not_null", "t__custom-check__row_count")
    assert {tasks[name].upstream for name in list(tasks)[2:]} == {("t",)}
    specs = {name: render(task.spec, run_id="r", start=None, params={"full_refresh": False})
             for name, task in tasks.items()}  # fmt: skip
    assert (specs["t"].task, specs["t"].check) == ("t", None)
    assert specs["t__id__not_null"].task == "t:id:not_null" and specs["t__id__not_null"].asset == "p/assets/t.sql"
    assert specs["t__id__not_null"].check == hashlib.sha256(b"t-id-not_null").hexdigest()
    assert specs["t__custom-check__row_count"].check
