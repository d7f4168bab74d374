"""One answer to "what does this asset need": the plan, `bruin validate`, `bruin secrets check/list` and
`bruin run` agree on it for every asset kind (Python, R, empty, DuckDB, PostgreSQL, Redshift), with
connections named by the asset, by the pipeline's `default_connections`, and by the platform's default."""

from __future__ import annotations

import json
import re
import shutil
import uuid

import pytest

from pybruin.pipeline.loader import load_pipeline
from pybruin.plan import build_plan
from pybruin.platforms import SQL_ASSET_TYPES

PASSWORD = f"pw-agree-{uuid.uuid4().hex}"

ASSETS = {
    "proc.py": '""" @bruin\nname: proc\nconnection: warehouse_duck\nsecrets:\n  - key: K1\n    inject_as: INJ1\n'
    '@bruin """\nimport os\nassert os.environ["INJ1"] == "value-one-1"\n',
    "rscript.r": '"@bruin\nname: rscript\ntype: r\nsecrets:\n  - key: K2\n@bruin"\nstopifnot(Sys.getenv("K2") != "")\n',
    "nothing.py": '""" @bruin\nname: nothing\ntype: empty\nsecrets:\n  - key: K3\n@bruin """\n',
    "defaulted.sql": "/* @bruin\nname: marts.defaulted\ntype: duckdb.sql\nmaterialization:\n  type: table\n@bruin */\n"
    "select 1 as id\n",
    "named.sql": "/* @bruin\nname: marts.named\ntype: duckdb.sql\nconnection: warehouse_duck\nsecrets:\n  - key: K4\n"
    "@bruin */\nselect 1\n",
    "pg.sql": "/* @bruin\nname: pgside.t\ntype: pg.sql\nmaterialization:\n  type: table\n@bruin */\nselect 1 as id\n",
    "rs.sql": "/* @bruin\nname: rsside.t\ntype: rs.sql\nconnection: rs_conn\nmaterialization:\n  type: table\n"
    "@bruin */\nselect 2 as id\n",
}


def write_pipeline(project) -> None:
    project.write("p/pipeline.yml", "name: p\ndefault_connections:\n  postgres: pg_conn\n")
    for file, text in ASSETS.items():
        project.write(f"p/assets/{file}", text)


def full_config(database) -> str:
    server = {"host": database.server.host, "port": database.server.port, "username": database.owner,
              "password": PASSWORD, "database": database.name}  # fmt: skip
    environment = {
        "connections": {
            "generic": [{"name": f"K{i}", "value": f"value-{word}-{i}"}
                        for i, word in enumerate(["one", "two", "three", "four"], start=1)],
            "duckdb": [{"name": "duckdb-default", "path": "default.db"}, {"name": "warehouse_duck", "path": "w.db"}],
            "postgres": [{"name": "pg_conn", **server}],
            "redshift": [{"name": "rs_conn", **server}],
        }
    }  # fmt: skip
    return json.dumps({"environments": {"default": environment}})


@pytest.fixture
def database(pg_database):
    return pg_database("bruin_agree", PASSWORD)


def test_every_consumer_agrees_on_what_each_asset_needs(project, database) -> None:
    assert shutil.which("Rscript"), "Rscript is required (installed by .ci/run)"
    write_pipeline(project)
    pipeline = load_pipeline(project.root / "p")
    plan = build_plan(pipeline, sql_types=frozenset(SQL_ASSET_TYPES))
    needs = {task.asset: set(plan.needs[task.asset].names) for task in plan.tasks}
    assert needs == {
        "proc": {"warehouse_duck", "K1"},
        "rscript": {"K2"},
        "nothing": {"K3"},
        "marts.defaulted": {"duckdb-default"},
        "marts.named": {"warehouse_duck", "K4"},
        "pgside.t": {"pg_conn"},
        "rsside.t": {"rs_conn"},
    }

    # With nothing defined, validate and secrets check report exactly these names as missing.
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    validated = project.bruin("validate", "p")
    assert validated.returncode == 1
    missing: dict[str, set[str]] = {}
    asset = None
    for line in validated.stdout.splitlines():  # upstream's tree: `  <asset> (<file>)`, then `    └── <issue>`
        heading = re.fullmatch(r"  (\S+) \(.*\)", line)
        asset = heading[1] if heading else asset
        found = re.search(r"[├└]── (connection|secret) '([^']+)' is not defined", line)
        if found:
            missing.setdefault(asset, set()).add(found[2])
    assert missing == needs

    checked = project.bruin("secrets", "check", "p", "-o", "json")
    assert checked.returncode == 1
    referenced: dict[str, set[str]] = {}
    for row in json.loads(checked.stdout):
        assert row["status"] == "missing"
        referenced.setdefault(row["asset"], set()).add(row["key"])
    assert referenced == needs

    listed = project.bruin("secrets", "list", "p", "-o", "json")
    users = {row["key"]: set(row["assets"]) for row in json.loads(listed.stdout)}
    assert users == {name: {asset for asset, names in needs.items() if name in names} for name in users}
    assert set(users) == set().union(*needs.values())

    # With everything defined, the run succeeds and each asset received (or ran on) what it needed.
    project.write(".bruin.yml", full_config(database))
    assert project.bruin("validate", "p").returncode == 0
    assert project.bruin("secrets", "check", "p").returncode == 0
    ran = project.bruin("run", "-o", "json", "p")
    assert ran.returncode == 0, ran.output
    received = {
        asset["name"]: {secret["key"] for secret in asset["secrets"]} for asset in json.loads(ran.stdout)["assets"]
    }
    assert received["proc"] == {"warehouse_duck", "K1"}
    assert received["rscript"] == {"K2"}
    assert received["marts.defaulted"] == {"duckdb-default"}
    assert received["pgside.t"] == {"pg_conn"}
    assert received["rsside.t"] == {"rs_conn"}
    assert all(received[asset] <= names for asset, names in needs.items())
    assert PASSWORD not in ran.output


def test_a_missing_secret_of_a_sql_asset_fails_run_as_validate_says(project) -> None:
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n      duckdb:\n"
                                "        - name: duckdb-default\n          path: d.db\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/t.sql", "/* @bruin\nname: t\ntype: duckdb.sql\nsecrets:\n  - key: GONE\n@bruin */\nselect 1\n"
    )
    validated = project.bruin("validate", "p").stdout
    missing = "  t (assets/t.sql)\n    └── secret 'GONE' is not defined in environment 'default' (secret-exists)"
    assert missing in validated
    ran = project.bruin("run", "-o", "json", "p")
    assert ran.returncode == 1
    assert json.loads(ran.stdout)["assets"][0]["error"] == "there's no secret with the name 'GONE'."
