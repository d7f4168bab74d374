"""`pybruin.airflow` in real Airflow 3: generated DAGs run with `dag.test()` on SQLite.

A DuckDB + Python project runs with its secrets from `.bruin.yml` and from a real OpenBao; the tables are
checked, and every byte Airflow kept (the metadata database, XCom, rendered templates, task logs) is searched
for the secret values. The Kubernetes variant renders its pod specs (no cluster), and a failing asset fails
its task with its downstream `upstream_failed`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from secrets import token_hex
from typing import TYPE_CHECKING

import duckdb
import pytest

if TYPE_CHECKING:
    from conftest import BruinProject
    from fixtures.airflow_home import AirflowHome
    from fixtures.vault_server import VaultServer

API_KEY = f"canary-api-{token_hex(8)}"
PG_PASSWORD = f"canary-pg-{token_hex(8)}"
FERNET_CANARY = f"canary-fernet-{token_hex(8)}"

PIPELINE = """
name: shop
schedule: daily
start_date: "2024-01-01"
tags: [commerce]
variables:
  limit:
    type: integer
    default: 3
"""

ORDERS_SQL = """
/* @bruin
name: raw.orders
type: duckdb.sql
materialization:
  type: table
tags: [raw]
columns:
  - name: id
    checks:
      - name: not_null
custom_checks:
  - name: orders
    value: 2
    query: select count(*) from raw.orders
@bruin */
select 1 as id, '{{ start_date }}' as first_day union all select 2, '{{ end_date }}'
"""

#: The Airflow tasks of the shop pipeline and their XComs when everything succeeds.
SHOP_TASKS = ["raw.orders", "raw.orders__id__not_null", "raw.orders__custom-check__orders", "reports.daily"]
SHOP_PLAN_TASKS = {"raw.orders": "raw.orders", "raw.orders__id__not_null": "raw.orders:id:not_null",
                   "raw.orders__custom-check__orders": "raw.orders:custom-check:orders",
                   "reports.daily": "reports.daily"}  # fmt: skip

REPORT_PY = '''
""" @bruin
name: reports.daily
depends: [raw.orders]
owner: analytics@example.com
description: Orders per day.
tags: [report]
secrets:
  - key: API_KEY
  - key: warehouse_pg
    inject_as: PG
  - key: duckdb-default
    inject_as: DB
@bruin """
import hashlib, json, os
import duckdb

env = os.environ
print("the key is", env["API_KEY"], "and the password", json.loads(env["PG"])["password"])
leaked = [name for name in env if name.startswith(("AIRFLOW__", "BRUIN_VAULT_", "BRUIN_SECRETS"))]
con = duckdb.connect(json.loads(env["DB"])["path"])
con.execute(
    "create or replace table report as select count(*) as orders, ? as key_sha, ? as run_id, ? as start_date, "
    "? as end_date, ? as vars, ? as full_refresh, ? as leaked from raw.orders",
    [hashlib.sha256(env["API_KEY"].encode()).hexdigest(), env["BRUIN_RUN_ID"], env["BRUIN_START_DATETIME"],
     env["BRUIN_END_DATETIME"], env["BRUIN_VARS"], env["BRUIN_FULL_REFRESH"], ",".join(leaked)],
)
'''

BRUIN_YML = f"""
default_environment: default
environments:
  default:
    connections:
      generic:
        - name: API_KEY
          value: {API_KEY}
      postgres:
        - name: warehouse_pg
          host: db.internal
          username: loader
          password: {PG_PASSWORD}
          database: analytics
      duckdb:
        - name: duckdb-default
          path: warehouse.db
"""


def shop(project: BruinProject, bruin_yml: str = BRUIN_YML) -> Path:
    project.write(".bruin.yml", bruin_yml)
    project.write("shop/pipeline.yml", PIPELINE)
    project.write("shop/assets/raw/orders.sql", ORDERS_SQL)
    project.write("shop/assets/report.py", REPORT_PY)
    return project.root / "shop"


def dag_file(pipeline: Path, **options: object) -> str:
    return f"from pybruin.airflow import bruin_dag\ndag = bruin_dag({str(pipeline)!r}, **{options!r})\n"


def report(project: BruinProject) -> dict[str, object]:
    with duckdb.connect(str(project.root / "warehouse.db"), read_only=True) as con:
        cursor = con.execute("select * from report")
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def assert_no_canary(airflow: AirflowHome, log: str, canaries: list[str]) -> None:
    """No secret in the metadata DB (any table, journal), XCom, rendered templates or the task logs."""
    assert airflow.query("SELECT count(*) FROM xcom")[0][0] > 0, "the check must look at a DB with XComs"
    assert airflow.rendered(), "the check must look at rendered templates"
    for canary in canaries:
        assert canary not in log
        assert airflow.files_containing(canary) == []
        assert canary not in json.dumps(airflow.rendered())
        assert canary not in json.dumps(airflow.xcoms())


def test_dag_runs_each_asset_in_its_own_task_with_secrets_from_bruin_yml(
    project: BruinProject, airflow: AirflowHome
) -> None:
    pipeline = shop(project)
    run = airflow.run_dag(dag_file(pipeline), env={"AIRFLOW__CORE__FERNET_KEY": FERNET_CANARY})

    assert run.states == dict.fromkeys(SHOP_TASKS, "success"), run.log
    row = report(project)
    assert row["orders"] == 2
    assert row["key_sha"] == hashlib.sha256(API_KEY.encode()).hexdigest()
    # The run's data interval and run id are Airflow's; the DAG params are the full refresh flag and variables.
    assert row["start_date"] == "2024-03-04T00:00:00" and row["end_date"] == "2024-03-05T00:00:00"
    run_id = airflow.query("SELECT run_id FROM dag_run")[0][0]
    assert row["run_id"] == run_id
    assert json.loads(row["vars"]) == {"limit": 3} and row["full_refresh"] == ""
    assert row["leaked"] == "", "Airflow's configuration and the store settings must not reach assets"
    with duckdb.connect(str(project.root / "warehouse.db"), read_only=True) as con:
        assert con.execute("select first_day from raw.orders order by id").fetchall() == [("2024-03-04",),
                                                                                          ("2024-03-05",)]  # fmt: skip
    # The task log is pybruin's masked output, closed by the manifest; XCom holds names and statuses.
    assert "[reports.daily] >> the key is **** and the password ****" in run.log
    assert "--- bruin run manifest ---" in run.log and '"source": ".bruin.yml"' in run.log
    assert airflow.xcoms() == {name: {"task": task, "status": "succeeded"} for name, task in SHOP_PLAN_TASKS.items()}
    assert "Running:  raw.orders:id:not_null" in run.log
    spec = json.loads(airflow.rendered()["reports.daily"]["spec"])
    assert spec["run_id"] == run_id and spec["start"] == "2024-03-04T00:00:00+00:00"
    assert spec["asset"] == "shop/assets/report.py" and spec["task"] == "reports.daily"
    assert_no_canary(airflow, run.log, [API_KEY, PG_PASSWORD, FERNET_CANARY])
    assert not (project.root / "logs").exists(), "a task writes nothing into the project but its data"


def test_dag_tasks_resolve_their_secrets_from_openbao_in_the_worker(
    project: BruinProject, airflow: AirflowHome, vault_server: VaultServer
) -> None:
    path = f"airflow-{token_hex(4)}"
    token = vault_server.scoped_token(path, denied="nothing")
    vault_server.put(f"{path}/API_KEY", {"type": "generic", "details": {"value": API_KEY}})
    vault_server.put(f"{path}/warehouse_pg", {"type": "postgres", "details": {
        "host": "db.internal", "username": "loader", "password": PG_PASSWORD, "database": "analytics"}})  # fmt: skip
    vault_server.put(f"{path}/duckdb-default",
                     {"type": "duckdb", "details": {"path": str(project.root / "warehouse.db")}})  # fmt: skip
    pipeline = shop(project, "default_environment: default\nenvironments:\n  default:\n    connections: {}\n")
    worker = {"BRUIN_SECRETS_BACKEND": "vault", **vault_server.bruin_env(path, BRUIN_VAULT_TOKEN=token)}

    run = airflow.run_dag(dag_file(pipeline, dag_id="shop_vault"), env=worker)

    assert run.states == dict.fromkeys(SHOP_TASKS, "success"), run.log
    row = report(project)
    assert row["key_sha"] == hashlib.sha256(API_KEY.encode()).hexdigest() and row["leaked"] == ""
    assert '"source": "vault"' in run.log
    assert "the key is **** and the password ****" in run.log
    assert_no_canary(airflow, run.log, [API_KEY, PG_PASSWORD, token])


def test_a_failing_asset_fails_its_task_and_its_downstream_is_upstream_failed(
    project: BruinProject, airflow: AirflowHome
) -> None:
    project.write(".bruin.yml", BRUIN_YML)
    project.write("p/pipeline.yml", "name: breaks\n")
    project.write("p/assets/a.py", '"""@bruin\nname: a\nsecrets: [{key: API_KEY}]\n@bruin"""\n'
                  'import os, sys\nsys.exit("cannot use " + os.environ["API_KEY"])\n')  # fmt: skip
    project.write("p/assets/b.py", '"""@bruin\nname: b\ndepends: [a]\n@bruin"""\nprint("b ran")\n')
    checked = "/* @bruin\nname: {}\ntype: duckdb.sql\nmaterialization: {{type: table}}\n{}@bruin */\nselect {} as id\n"
    project.write("p/assets/t.sql", checked.format("t", "columns: [{name: id, checks: [{name: not_null}]}]\n", "null"))
    project.write("p/assets/u.sql", checked.format("u", "custom_checks: [{name: soft, value: 5, blocking: false, "
                                                        "query: select 1}]\n", 1))  # fmt: skip
    project.write("p/assets/after_t.py", '"""@bruin\nname: after_t\ndepends: [t]\n@bruin"""\nprint("after t")\n')
    project.write("p/assets/after_u.py", '"""@bruin\nname: after_u\ndepends: [u]\n@bruin"""\nprint("after u")\n')

    run = airflow.run_dag(dag_file(project.root / "p"))

    # A failing asset or blocking check fails its task and its downstream; a non-blocking check holds nothing up.
    assert run.states == {"a": "failed", "b": "upstream_failed", "t": "success", "t__id__not_null": "failed",
                          "after_t": "upstream_failed", "u": "success", "u__custom-check__soft": "failed",
                          "after_u": "success"}, run.log  # fmt: skip
    assert "[a] >> cannot use ****" in run.log and "b ran" not in run.log and "after t" not in run.log
    assert "bruin task a failed (exit code 1)" in run.log
    assert "bruin task t:id:not_null failed (exit code 1)" in run.log
    assert airflow.xcoms() == {name: {"task": name, "status": "succeeded"} for name in ("t", "u", "after_u")}
    assert_no_canary(airflow, run.log, [API_KEY])


def test_the_kubernetes_variant_renders_pods_with_the_asset_image_and_instance(
    project: BruinProject, airflow: AirflowHome
) -> None:
    pipeline = shop(project)
    project.write("shop/assets/heavy.py", '"""@bruin\nname: heavy\nimage: registry.example/heavy:2\n'
                  'instance: b1.large\ndepends: [reports.daily]\n@bruin"""\nprint("heavy")\n')  # fmt: skip
    options = {"mode": "kubernetes", "image": "registry.example/bruin:1", "project_dir": "/project",
               "env": {"BRUIN_SECRETS_BACKEND": "vault", "BRUIN_VAULT_ROLE": "bruin"},
               "pod_options": {"namespace": "data", "service_account_name": "bruin", "in_cluster": False,
                               "config_file": "/nonexistent/kubeconfig"}}  # fmt: skip
    script = dag_file(pipeline, **options) + RENDER_PODS

    run = airflow.python_script(script)

    assert run.returncode == 0, run.log
    pods = json.loads(run.log.split("PODS ", 1)[1].splitlines()[0])
    assert pods.pop("upstream") == ["reports.daily"]
    assert set(pods) == {*SHOP_TASKS, "heavy"}
    heavy, report_pod = pods["heavy"], pods["reports.daily"]
    container = heavy["spec"]["containers"][0]
    assert container["image"] == "registry.example/heavy:2"
    assert report_pod["spec"]["containers"][0]["image"] == "registry.example/bruin:1"
    assert container["resources"] == {"requests": {"cpu": "1", "memory": "4Gi"}}
    assert report_pod["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "250m", "memory": "256Mi"}}
    assert heavy["metadata"]["namespace"] == "data" and heavy["spec"]["serviceAccountName"] == "bruin"
    assert container["command"] == ["bruin"]
    assert container["args"][:3] == ["airflow-task", "--result", "/airflow/xcom/return.json"]
    spec = json.loads(container["args"][3])
    assert spec["project"] == "/project" and spec["asset"] == "shop/assets/heavy.py" and spec["task"] == "heavy"
    assert spec["start"] == "2024-03-04T00:00:00+00:00" and spec["end"] == "2024-03-05T00:00:00+00:00"
    assert spec["run_id"] == "scheduled__2024-03-05" and spec["variables"] == {"limit": 3}
    assert {e["name"]: e["value"] for e in container["env"]} == {"BRUIN_SECRETS_BACKEND": "vault",
                                                                 "BRUIN_VAULT_ROLE": "bruin"}  # fmt: skip
    for canary in (API_KEY, PG_PASSWORD):
        assert canary not in run.log


RENDER_PODS = """
import json
import pendulum
from kubernetes.client import ApiClient

context = {"run_id": "scheduled__2024-03-05", "data_interval_start": pendulum.datetime(2024, 3, 4, tz="UTC"),
           "data_interval_end": pendulum.datetime(2024, 3, 5, tz="UTC"), "params": dag.params.dump()}
pods = {}
for task in dag.tasks:
    task.render_template_fields(context=context, jinja_env=dag.get_template_env())
    pods[task.task_id] = ApiClient().sanitize_for_serialization(task.build_pod_request_obj(dry_run=True))
pods["upstream"] = sorted(dag.get_task("heavy").upstream_task_ids)
print("PODS " + json.dumps(pods))
"""


def test_a_thousand_asset_pipeline_parses_through_a_dagbag_without_secrets(
    project: BruinProject, airflow: AirflowHome
) -> None:
    """Airflow's DAG-file processing path (a DagBag) on 1,000 assets; `.bruin.yml` is unreadable and the
    configured store unreachable, which parsing must not notice: it reads neither."""
    project.write(".bruin.yml", "environments: [this is not a config\n")
    project.write("big/pipeline.yml", "name: big\nschedule: hourly\nstart_date: '2024-01-01'\n")
    for index in range(1000):
        depends = f"depends: [a{index - 1}]\n" if index % 10 else ""
        project.write(f"big/assets/a{index}.py", f'"""@bruin\nname: a{index}\n{depends}tags: [t{index % 3}]\n'
                      f'secrets: [{{key: API_KEY}}]\n@bruin"""\nprint({index})\n')  # fmt: skip
    (airflow.home / "dags").mkdir()
    (airflow.home / "dags" / "big.py").write_text(dag_file(project.root / "big", exclude_tags=["t2"]))
    worker = {"BRUIN_SECRETS_BACKEND": "vault", "BRUIN_VAULT_HOST": "http://127.0.0.1:9", "BRUIN_VAULT_TOKEN": "x"}

    run = airflow.python_script(DAGBAG, env=worker)

    assert run.returncode == 0, run.log
    found = json.loads(run.log.split("DAGBAG ", 1)[1].splitlines()[0])
    assert found["errors"] == {}
    assert found["tasks"] == 667 and found["tags"] == ["t0", "t1"]
    assert found["a4_upstream"] == ["a3"] and found["a3_upstream"] == []  # a2 carries the excluded tag
    assert found["heavy_modules"] == []


DAGBAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder="dags")
dag = bag.dags.get("big")
heavy = sorted(m for m in ("duckdb", "hvac", "boto3", "psycopg", "azure.keyvault", "pybruin.run.session",
                           "pybruin.workspace", "pybruin.platforms.run") if m in sys.modules)
print("DAGBAG " + json.dumps({"errors": bag.import_errors, "tasks": len(dag.tasks) if dag else 0,
                             "tags": sorted(dag.tags) if dag else [], "heavy_modules": heavy,
                             "a4_upstream": sorted(dag.get_task("a4").upstream_task_ids) if dag else None,
                             "a3_upstream": sorted(dag.get_task("a3").upstream_task_ids) if dag else None}))
"""


@pytest.mark.parametrize("name", ["BRUIN_VAULT_TOKEN", "AWS_SECRET_ACCESS_KEY"])
def test_credentials_in_the_dag_are_refused(project: BruinProject, airflow: AirflowHome, name: str) -> None:
    pipeline = shop(project)
    run = airflow.python_script(dag_file(pipeline, env={name: "x"}))
    assert run.returncode != 0
    assert f"env must not hold credentials ({name})" in run.log
