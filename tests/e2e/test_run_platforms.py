"""MySQL, Snowflake and BigQuery pipelines through the CLI, on MariaDB, fakesnow and the local-bigquery emulator,
with credentials from .bruin.yml, `${VAR}`, OpenBao and moto; `connections test`; concurrency caps; and the
credentials never reaching the terminal, the log or the manifest, driver errors included."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pytest

from fixtures.bigquery_emulator import service_account_info
from fixtures.moto_server import MotoServer
from fixtures.mysql_server import MySQLDatabase
from fixtures.vault_server import VaultServer
from warehouses import PLATFORMS, Case, platform_case

if TYPE_CHECKING:
    from conftest import BruinProject, Result

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# The MySQL account's and the Snowflake login's password: injected into assets, masked everywhere else.
PASSWORD = f"pw-e2e-platforms-{uuid.uuid4().hex}"
USER = "bruin_e2e_platforms"
CONNECTION = "warehouse"


@pytest.fixture(params=PLATFORMS)
def case(request: pytest.FixtureRequest) -> Case:
    return platform_case(request, request.param, USER, PASSWORD)


def bruin_yml(connections: Mapping[str, list[dict[str, object]]]) -> str:
    return json.dumps({"default_environment": "default", "environments": {"default": {"connections": connections}}})


def sql_file(name: str, sql: str, asset_type: str, **header: object) -> str:
    fields = [f"name: {name}", f"type: {asset_type}", *(f"{key}: {json.dumps(value)}" for key, value in header.items())]
    return "/* @bruin\n" + "\n".join(fields) + "\n@bruin */\n" + sql.strip() + "\n"


def python_file(name: str, code: str, **header: object) -> str:
    fields = [f"name: {name}", *(f"{key}: {json.dumps(value)}" for key, value in header.items())]
    return '"""@bruin\n' + "\n".join(fields) + '\n@bruin"""\n' + code.strip() + "\n"


def run_json(project: BruinProject, *args: str, env: Mapping[str, str] | None = None) -> tuple[Result, dict[str, dict]]:
    result = project.bruin("run", "-o", "json", *args, env=env)
    try:
        assets = {asset["name"]: asset for asset in json.loads(result.stdout)["assets"]}
    except (json.JSONDecodeError, KeyError):
        pytest.fail(f"no run manifest on stdout (exit {result.returncode}):\n{result.output}")
    return result, assets


CHECK_CONNECTION = """
import json, os
c = json.loads(os.environ["CONN"])
assert c["{field}"], "the secret field is empty"
print("python sees", os.environ["CONN"])
"""


def write_pipeline(project: BruinProject, case: Case) -> None:
    orders, total = case.table("orders"), case.table("order_total")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/orders.sql", sql_file(
        orders, "select 1 as id, 10 as amount union all select 2, 20 union all select 3, 30", case.asset_type,
        connection=CONNECTION, materialization={"type": "table"},
        columns=[{"name": "id", "checks": [{"name": "unique"}, {"name": "not_null"}]},
                 {"name": "amount",
                  "checks": [{"name": "positive"}, {"name": "accepted_values", "value": [10, 20, 30]}]}],
        custom_checks=[{"name": "three orders", "query": f"select count(*) from {orders}", "value": 3}],
    ))  # fmt: skip
    project.write("p/assets/total.sql", sql_file(
        total, f"select sum(amount) as total from {orders}", case.asset_type,
        connection=CONNECTION, materialization={"type": "view"}, depends=[orders],
    ))  # fmt: skip
    project.write("p/assets/check.py", python_file(
        "check", CHECK_CONNECTION.replace("{field}", case.secret_field), depends=[total],
        secrets=[{"key": CONNECTION, "inject_as": "CONN"}],
    ))  # fmt: skip


@pytest.mark.parametrize("source", ["bruin_yml", "env_var", "vault", "aws"])
def test_pipeline_with_credentials_from(source: str, case: Case, project: BruinProject, request) -> None:
    env: dict[str, str] = {}
    connections: dict[str, list[dict[str, object]]] = {}
    if source == "bruin_yml":
        connections = {case.type_key: [{"name": CONNECTION, **case.details}]}
    elif source == "env_var":
        env = {"E2E_SECRET": str(case.details[case.secret_field])}
        connections = {case.type_key: [{"name": CONNECTION, **case.details, case.secret_field: "${E2E_SECRET}"}]}
    elif source == "vault":
        vault: VaultServer = request.getfixturevalue("vault_server")
        path = f"e2e-{uuid.uuid4().hex[:8]}"
        vault.put(f"{path}/{CONNECTION}", {"type": case.type_key, "details": case.details})
        env = vault.bruin_env(path)
    else:
        moto: MotoServer = request.getfixturevalue("moto")
        payload = json.dumps({"type": case.type_key, "details": case.details})
        moto.client("us-east-1").create_secret(Name=CONNECTION, SecretString=payload)
        env = moto.bruin_env("us-east-1", isolated_in=project.root)
    project.write(".bruin.yml", bruin_yml(connections))
    write_pipeline(project, case)

    backend = [] if source in ("bruin_yml", "env_var") else ["--secrets-backend", source]
    result, assets = run_json(project, *backend, "p", env=env)

    assert result.returncode == 0, result.output
    assert {asset["status"] for asset in assets.values()} == {"succeeded"}, result.output
    assert case.rows(f"select total from {case.table('order_total')}") == [(60,)]
    assert case.rows(f"select id, amount from {case.table('orders')}") == [(1, 10), (2, 20), (3, 30)]
    checks = assets[case.table("orders")]["checks"]
    assert [(check["name"], check["status"]) for check in checks] == [
        (f"{case.table('orders')}:id:unique", "succeeded"), (f"{case.table('orders')}:id:not_null", "succeeded"),
        (f"{case.table('orders')}:amount:positive", "succeeded"),
        (f"{case.table('orders')}:amount:accepted_values", "succeeded"),
        (f"{case.table('orders')}:custom-check:three_orders", "succeeded"),
    ]
    assert "[check] >> python sees" in result.stderr
    expected_source = {"vault": "vault", "aws": "aws"}.get(source, ".bruin.yml")
    assert assets[case.table("orders")]["secrets"] == [
        {"key": CONNECTION, "inject_as": "", "type": case.type_key, "source": expected_source}
    ]
    assert case.secret not in result.output
    allowed = [project.root / ".bruin.yml"] if source == "bruin_yml" else []
    assert project.files_containing(case.secret) == allowed


def test_connections_test_opens_a_real_session(case: Case, project: BruinProject) -> None:
    project.write(".bruin.yml", bruin_yml({case.type_key: [{"name": CONNECTION, **case.details}]}))

    result = project.bruin("connections", "test", "--name", CONNECTION)

    assert result.returncode == 0, result.output
    assert result.stdout == f"Successfully tested connection '{CONNECTION}' in environment: default\n"
    assert case.secret not in result.output


BAD_CREDENTIALS = {
    "mysql": ({"password": f"{PASSWORD}-wrong"},
              f"could not connect to mysql connection 'warehouse' at 127.0.0.1:PORT: access denied for user "
              f"'{USER}'@'127.0.0.1' (using password: YES)"),
    "snowflake": ({"private_key": f"-----BEGIN PRIVATE KEY-----\n{PASSWORD}\n-----END PRIVATE KEY-----\n"},
                  "connection 'warehouse': the private_key is not a PEM-encoded private key"),
    "google_cloud_platform": (
        {"service_account_json": json.dumps({"type": "service_account", "private_key": PASSWORD})},
        "connection 'warehouse': the service_account_json is not a service account key",
    ),
}  # fmt: skip


def test_connections_test_failures_are_one_line_without_credentials(case: Case, project: BruinProject) -> None:
    fields, expected = BAD_CREDENTIALS[case.type_key]
    details = {**case.details, **fields}
    project.write(".bruin.yml", bruin_yml({case.type_key: [{"name": CONNECTION, **details}]}))

    result = project.bruin("connections", "test", "--name", CONNECTION)

    assert result.returncode == 1, result.output
    expected = expected.replace("PORT", str(details.get("port", "")))
    assert result.stderr == f"connection '{CONNECTION}' failed the test: {expected}\n"
    assert PASSWORD not in result.output


# What each driver quotes back when a query compares the secret with a number: the canary, in the driver's words.
LEAKY_SQL = {
    "mysql": "create table leak (x int); insert into leak values ('{secret}')",
    "snowflake": "select '{secret}'::int as x",
    "google_cloud_platform": "select cast('{secret}' as int64) as x",
}


def test_driver_errors_quoting_the_credentials_are_masked_everywhere(case: Case, project: BruinProject) -> None:
    secret = PASSWORD if case.secret_field == "password" else service_account_info()["client_email"]
    project.write(".bruin.yml", bruin_yml({case.type_key: [{"name": CONNECTION, **case.details}]}))
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/leak.sql", sql_file(
        case.table("leak"), LEAKY_SQL[case.type_key].replace("{secret}", secret), case.asset_type,
        connection=CONNECTION,
    ))  # fmt: skip

    result, assets = run_json(project, "p")

    assert result.returncode == 1
    error = assets[case.table("leak")]["error"]
    assert "****" in error, error
    assert secret not in result.output
    assert sorted(path.name for path in project.files_containing(secret)) == [".bruin.yml", "leak.sql"]


def test_a_cap_of_one_runs_the_assets_one_after_another_on_one_connection(
    mysql_database: Callable[[str, str], MySQLDatabase], project: BruinProject
) -> None:
    db = mysql_database(USER, PASSWORD)
    capped = {"name": CONNECTION, **db.details(), "max_concurrent_assets": 1}
    project.write(".bruin.yml", bruin_yml({"mysql": [capped]}))
    project.write("p/pipeline.yml", "name: p\n")
    for index in range(4):
        project.write(f"p/assets/t{index}.sql", sql_file(
            f"t{index}", "select connection_id() as cid, now(6) as at_start, sleep(0.2) as pause, now(6) as at_end",
            "my.sql", connection=CONNECTION, materialization={"type": "table"},
        ))  # fmt: skip

    result = project.bruin("run", "--workers", "4", "p")

    assert result.returncode == 0, result.output
    rows = sorted(db.rows(" union all ".join(f"select cid, at_start, at_end from t{i}" for i in range(4))),
                  key=lambda row: row[1])  # fmt: skip
    assert len({cid for cid, _, _ in rows}) == 1
    assert all(earlier[2] <= later[1] for earlier, later in itertools.pairwise(rows))


def test_a_timed_out_mysql_rebuild_is_killed_on_the_server_and_the_old_table_stays(
    mysql_database: Callable[[str, str], MySQLDatabase], project: BruinProject
) -> None:
    db = mysql_database(USER, PASSWORD)
    project.write(".bruin.yml", bruin_yml({"mysql": [{"name": CONNECTION, **db.details()}]}))
    project.write("p/pipeline.yml", "name: p\n")
    header = "/* @bruin\nname: t\ntype: my.sql\nconnection: warehouse\n"
    header += "materialization: {{type: table}}\n{extra}@bruin */\n"
    project.write("p/assets/t.sql", header.format(extra="") + "select 1 as id\n")
    assert project.bruin("run", "p").returncode == 0
    marker = f"slow_{uuid.uuid4().hex[:8]}"
    project.write("p/assets/t.sql", header.format(extra="timeout: 1s\n") + f"select sleep(3600) as {marker}\n")

    result, assets = run_json(project, "p")

    assert result.returncode == 1, result.output
    assert (assets["t"]["status"], assets["t"]["error"]) == ("failed", 'asset "t" timed out after 1s')
    assert db.rows("select id from t") == [(1,)]
    assert db.relations() == [(db.name, "t", "BASE TABLE")]
    running = ("select count(*) from information_schema.processlist "
               f"where info like '%{marker}%' and id <> connection_id()")
    assert db.server.rows(running) == [(0,)]  # killed on the server, not left sleeping
