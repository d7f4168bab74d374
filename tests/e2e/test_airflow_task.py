"""`bruin airflow-task SPEC`: the worker's side of one Airflow task, as a subprocess (no Airflow needed)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import BruinProject

SECRET = "canary-airflow-task-5d1e"

ASSET = '''"""@bruin
name: report
secrets: [{key: API_KEY}]
@bruin"""
import os
print("key", os.environ["API_KEY"])
for name in ("BRUIN_RUN_ID", "BRUIN_START_DATE", "BRUIN_END_DATE", "BRUIN_VARS", "BRUIN_FULL_REFRESH"):
    print(name, "=", os.environ[name])
if os.environ.get("FAIL"):
    raise SystemExit("failing with " + os.environ["API_KEY"])
'''


@pytest.fixture
def task_project(project: BruinProject) -> BruinProject:
    project.write(".bruin.yml", f"environments:\n  default:\n    connections:\n      generic:\n"
                                f"        - name: API_KEY\n          value: {SECRET}\n"
                                "      duckdb:\n        - name: duckdb-default\n          path: w.db\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\nvariables:\n  limit: {type: integer, default: 3}\n")
    project.write("p/assets/report.py", ASSET)
    project.write("p/assets/other.py", '"""@bruin\nname: other\n@bruin"""\nprint("other ran")\n')
    return project


def spec(project: BruinProject, **values: object) -> str:
    return json.dumps({"project": str(project.root), "asset": "p/assets/report.py", "task": "report", **values})


def test_runs_exactly_its_asset_with_the_runs_values_and_reports_name_and_status(
    task_project: BruinProject, tmp_path: Path
) -> None:
    result = tmp_path / "result.json"
    text = spec(task_project, run_id="manual__2024-03-05", start="2024-03-04T00:00:00+00:00",
                end="2024-03-05T00:00:00+00:00", full_refresh=True, variables={"limit": 7})  # fmt: skip

    done = task_project.bruin("airflow-task", "--result", str(result), text)

    assert done.returncode == 0, done.output
    assert "[report] >> key ****" in done.stdout and SECRET not in done.output
    assert "BRUIN_RUN_ID = manual__2024-03-05" in done.stdout
    assert "BRUIN_START_DATE = 2024-03-04" in done.stdout and "BRUIN_END_DATE = 2024-03-05" in done.stdout
    assert 'BRUIN_VARS = {"limit":7}' in done.stdout and "BRUIN_FULL_REFRESH = 1" in done.stdout
    assert "other ran" not in done.stdout
    manifest = json.loads(done.stdout.split("--- bruin run manifest ---\n")[1].split("--- end of manifest ---")[0])
    assert manifest["run_id"] == "manual__2024-03-05"
    assert [(a["name"], a["status"]) for a in manifest["assets"]] == [("report", "succeeded")]
    assert json.loads(result.read_text()) == {"task": "report", "status": "succeeded"}
    assert not (task_project.root / "logs").exists()


def test_a_failing_asset_fails_the_task_with_its_status_and_masked_output(
    task_project: BruinProject, tmp_path: Path
) -> None:
    result = tmp_path / "result.json"
    done = task_project.bruin("airflow-task", "--result", str(result), spec(task_project), env={"FAIL": "1"})
    assert done.returncode == 1
    assert "failing with ****" in done.stdout and SECRET not in done.output
    assert json.loads(result.read_text()) == {"task": "report", "status": "failed"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"project": "/p"}', "invalid task spec: 'asset' must be a non-empty string"),
        ("not json", "invalid task spec: not JSON"),
    ],
)
def test_a_bad_spec_is_one_clear_line(task_project: BruinProject, text: str, message: str) -> None:
    done = task_project.bruin("airflow-task", text)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(message)


def test_the_spec_names_the_store_else_the_workers_environment_does(task_project: BruinProject) -> None:
    done = task_project.bruin("airflow-task", spec(task_project, secrets_backend="nowhere"))
    assert done.returncode == 1
    assert 'unsupported secrets backend "nowhere"' in done.stderr
    done = task_project.bruin("airflow-task", spec(task_project), env={"BRUIN_SECRETS_BACKEND": "elsewhere"})
    assert 'unsupported secrets backend "elsewhere"' in done.stderr


def test_the_command_is_hidden_from_help(task_project: BruinProject) -> None:
    done = task_project.bruin("--help")
    assert done.returncode == 0 and "airflow-task" not in done.stdout


CHECKED = """/* @bruin
name: t
type: duckdb.sql
materialization:
  type: table
columns:
  - name: id
    checks:
      - name: not_null
      - name: positive
@bruin */
select 0 as id
"""


def test_a_main_task_runs_without_its_checks_and_a_check_task_runs_its_check_alone(
    task_project: BruinProject, tmp_path: Path
) -> None:
    task_project.write("p/assets/t.sql", CHECKED)
    result = tmp_path / "result.json"

    main = task_project.bruin("airflow-task", "--result", str(result), spec(task_project, asset="p/assets/t.sql",
                                                                            task="t"))  # fmt: skip
    assert main.returncode == 0, main.output
    assert "Finished: t" in main.stdout and "t:id:" not in main.stdout
    assert json.loads(result.read_text()) == {"task": "t", "status": "succeeded"}

    for check, status in (("not_null", "succeeded"), ("positive", "failed")):
        check_id = hashlib.sha256(f"t-id-{check}".encode()).hexdigest()
        text = spec(task_project, asset="p/assets/t.sql", task=f"t:id:{check}", check=check_id)
        done = task_project.bruin("airflow-task", "--result", str(result), text)
        assert done.returncode == (0 if status == "succeeded" else 1), done.output
        assert json.loads(result.read_text()) == {"task": f"t:id:{check}", "status": status}
        assert "Running:  t\n" not in done.stdout and f"t:id:{check}" in done.stdout
