"""SQL pipelines through the CLI: duckdb.sql, pg.sql and rs.sql assets next to Python and R assets, on a
real PostgreSQL server, with credentials from .bruin.yml, `${VAR}`, OpenBao and moto."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fixtures.moto_server import MotoServer
from fixtures.postgres_server import RELATIONS, PgDatabase
from fixtures.vault_server import VaultServer
from servers import free_port

if TYPE_CHECKING:
    from conftest import BruinProject, Result

ROLE = "bruin_e2e_sql"
# The role's real password: injected into assets and masked in their output; never in output, logs or manifest.
PASSWORD = f"pw-e2e-{uuid.uuid4().hex}"


@pytest.fixture
def database(pg_database: Callable[[str, str], PgDatabase]) -> PgDatabase:
    return pg_database(ROLE, PASSWORD)


def bruin_yml(connections: Mapping[str, list[dict[str, object]]], *, schema_prefix: str = "") -> str:
    """A one-environment .bruin.yml (JSON is YAML)."""
    environment: dict[str, object] = {"connections": connections}
    if schema_prefix:
        environment["schema_prefix"] = schema_prefix
    return json.dumps({"default_environment": "default", "environments": {"default": environment}}, indent=2)


def sql_file(name: str, sql: str, asset_type: str = "pg.sql", **header: object) -> str:
    fields = [f"name: {name}", f"type: {asset_type}", *(f"{key}: {json.dumps(value)}" for key, value in header.items())]
    return "/* @bruin\n" + "\n".join(fields) + "\n@bruin */\n" + sql.strip() + "\n"


def python_file(name: str, code: str, **header: object) -> str:
    fields = [f"name: {name}", *(f"{key}: {json.dumps(value)}" for key, value in header.items())]
    return '"""@bruin\n' + "\n".join(fields) + '\n@bruin"""\n' + code.strip() + "\n"


def run_json(project: BruinProject, *args: str, env: Mapping[str, str] | None = None) -> tuple[Result, dict[str, dict]]:
    """`bruin run -o json ...`: the result and the manifest's assets by name."""
    result = project.bruin("run", "-o", "json", *args, env=env)
    try:
        assets = {asset["name"]: asset for asset in json.loads(result.stdout)["assets"]}
    except (json.JSONDecodeError, KeyError):
        pytest.fail(f"no run manifest on stdout (exit {result.returncode}):\n{result.output}")
    return result, assets


def statuses(assets: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
    return {name: asset["status"] for name, asset in assets.items()}


def duckdb_rows(path: Path, sql: str) -> list[tuple]:
    """Sorted rows from a DuckDB file, opened read-only after the run released it."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as db:
        return sorted(db.execute(sql).fetchall())


# --- credentials from every source, in pipelines mixing SQL, Python and R -------------------------------

ORDERS = "select i as id, i * 10 as amount from generate_series(1, 3) as g(i)"
CHECK_PG = """
import json, os
import psycopg
c = json.loads(os.environ["PG"])
with psycopg.connect(host=c["host"], port=c["port"], user=c["username"], password=c["password"],
                     dbname=c["database"]) as conn:
    total = conn.execute("select total from analytics.order_total").fetchone()[0]
assert total == 60, total
print("python sees", os.environ["PG"])
print("python total", total)
"""
CHECK_R = """
pg <- Sys.getenv("PG")
if (!grepl('"database":"DATABASE"', pg, fixed = TRUE)) stop("PG names the wrong database")
if (!grepl('"password":"', pg, fixed = TRUE)) stop("PG has no password")
cat("r sees", pg, "\\n")
"""


def write_mixed_pipeline(project: BruinProject, database: PgDatabase) -> None:
    pg_secret = [{"key": "pg-main", "inject_as": "PG"}]
    project.write("mixed/pipeline.yml", "name: mixed\ndefault_connections:\n  postgres: pg-main\n")
    project.write("mixed/assets/orders.sql", sql_file("analytics.orders", ORDERS, materialization={"type": "table"}))
    project.write(
        "mixed/assets/order_total.sql",
        sql_file("analytics.order_total", "select sum(amount) as total from analytics.orders",
                 materialization={"type": "view"}, depends=["analytics.orders"]),
    )  # fmt: skip
    project.write(
        "mixed/assets/check_pg.py",
        python_file("check_pg", CHECK_PG, depends=["analytics.order_total"], secrets=pg_secret),
    )
    project.write(
        "mixed/assets/check.r",
        # The R header is an R string literal, so its YAML holds no double quotes.
        '"@bruin\nname: check_r\ntype: r\ndepends: [analytics.orders]\nsecrets: [{key: pg-main, inject_as: PG}]\n'
        '@bruin"\n' + CHECK_R.replace("DATABASE", database.name),
    )


@pytest.mark.parametrize("source", ["bruin_yml", "env_var", "vault", "aws"])
def test_mixed_pipeline_with_postgres_credentials_from(source, project, database, request):
    assert shutil.which("Rscript"), "Rscript is required (installed by .ci/run)"
    env: dict[str, str] = {}
    connections: dict[str, list[dict[str, object]]] = {}
    details = database.details()
    if source == "bruin_yml":
        connections = {"postgres": [{"name": "pg-main", **details}]}
    elif source == "env_var":
        env = {"E2E_PG_PASSWORD": PASSWORD, "E2E_PG_DATABASE": database.name}
        fields = database.details(password="${E2E_PG_PASSWORD}", database="${E2E_PG_DATABASE}")
        connections = {"postgres": [{"name": "pg-main", **fields}]}
    elif source == "vault":
        vault: VaultServer = request.getfixturevalue("vault_server")
        path = f"e2e-{uuid.uuid4().hex[:8]}"
        vault.put(f"{path}/pg-main", {"type": "postgres", "details": details})
        env = vault.bruin_env(path)
    else:
        moto: MotoServer = request.getfixturevalue("moto")
        moto.client("us-east-1").create_secret(
            Name="pg-main", SecretString=json.dumps({"type": "postgres", "details": details})
        )
        env = moto.bruin_env("us-east-1", isolated_in=project.root)
    project.write(".bruin.yml", bruin_yml(connections))
    write_mixed_pipeline(project, database)

    backend = [] if source in ("bruin_yml", "env_var") else ["--secrets-backend", source]
    result, assets = run_json(project, *backend, "mixed", env=env)

    assert result.returncode == 0, result.output
    assert set(statuses(assets).values()) == {"succeeded"}, result.output
    assert "[check_pg] >> python total 60" in result.stderr
    assert "[check_r] >> r sees" in result.stderr and '"password":"****"' in result.stderr
    assert database.rows("select id, amount from analytics.orders") == [(1, 10), (2, 20), (3, 30)]
    expected_source = {"vault": "vault", "aws": "aws"}.get(source, ".bruin.yml")
    assert assets["analytics.orders"]["secrets"] == [
        {"key": "pg-main", "inject_as": "", "type": "postgres", "source": expected_source}
    ]
    assert PASSWORD not in result.output
    allowed = [project.root / ".bruin.yml"] if source == "bruin_yml" else []
    assert project.files_containing(PASSWORD) == allowed


# --- DuckDB, connection choice, Jinja ----------------------------------------------------------------

READ_AND_WRITE_DUCKDB = """
import json, os
import duckdb
path = json.loads(os.environ["DUCK"])["path"]
with duckdb.connect(path) as db:
    assert db.execute("select sum(n) from sales.summary").fetchone()[0] == 6
    db.execute("create table sales.python_log as select 'python was here' as note")
print("python read the duckdb file")
"""


def test_python_between_duckdb_assets_reads_and_writes_the_file(project):
    project.write(".bruin.yml", bruin_yml({"duckdb": [{"name": "duckdb-default", "path": "warehouse.db"}]}))
    project.write("shop/pipeline.yml", "name: shop\n")
    project.write(
        "shop/assets/raw.sql",
        sql_file("sales.raw", "select * from range(1, 4) as t(n)", "duckdb.sql", materialization={"type": "table"}),
    )
    project.write(
        "shop/assets/summary.sql",
        sql_file("sales.summary", "select n from sales.raw", "duckdb.sql",
                 materialization={"type": "table"}, depends=["sales.raw"]),
    )  # fmt: skip
    project.write(
        "shop/assets/report.py",
        python_file("report", READ_AND_WRITE_DUCKDB, depends=["sales.summary"],
                    secrets=[{"key": "duckdb-default", "inject_as": "DUCK"}]),
    )  # fmt: skip
    project.write(
        "shop/assets/after.sql",
        sql_file("sales.after_python", "select note from sales.python_log", "duckdb.sql",
                 materialization={"type": "table"}, depends=["report"]),
    )  # fmt: skip

    result = project.bruin("run", "--workers", "4", "shop")

    assert result.returncode == 0, result.output
    assert "[report] >> python read the duckdb file" in result.stdout
    assert duckdb_rows(project.root / "warehouse.db", "select note from sales.after_python") == [("python was here",)]


def test_connection_is_the_assets_else_the_pipeline_default_else_platform_default(project, database):
    duck = {name: f"{name}.db" for name in ("duck-explicit", "duck-pipeline", "duckdb-default")}
    project.write(
        ".bruin.yml",
        bruin_yml({
            "duckdb": [{"name": name, "path": path} for name, path in duck.items()],
            "postgres": [{"name": "postgres-default", **database.details()}],
            "redshift": [{"name": "redshift-default", **database.details()}],
        }),
    )  # fmt: skip
    table = {"type": "table"}
    project.write("p1/pipeline.yml", "name: p1\ndefault_connections:\n  duckdb: duck-pipeline\n")
    project.write(
        "p1/assets/explicit.sql", sql_file("explicit_t", "select 1 as x", "duckdb.sql", connection="duck-explicit",
                                           materialization=table),
    )  # fmt: skip
    project.write("p1/assets/by_default.sql", sql_file("pipeline_t", "select 2 as x", "duckdb.sql",
                                                       materialization=table))  # fmt: skip
    project.write("p2/pipeline.yml", "name: p2\n")
    project.write("p2/assets/duck.sql", sql_file("platform_t", "select 3 as x", "duckdb.sql", materialization=table))
    project.write("p2/assets/pg.sql", sql_file("pg_t", "select 4 as x", materialization=table))
    project.write("p2/assets/rs.sql", sql_file("rs_t", "select 5 as x", "rs.sql", materialization=table))

    used = {}
    for pipeline in ("p1", "p2"):
        result, assets = run_json(project, pipeline)
        assert result.returncode == 0, result.output
        used.update({name: [(s["key"], s["type"]) for s in asset["secrets"]] for name, asset in assets.items()})

    assert used == {
        "explicit_t": [("duck-explicit", "duckdb")],
        "pipeline_t": [("duck-pipeline", "duckdb")],
        "platform_t": [("duckdb-default", "duckdb")],
        "pg_t": [("postgres-default", "postgres")],
        "rs_t": [("redshift-default", "redshift")],
    }
    for name, table in (("duck-explicit", "explicit_t"), ("duck-pipeline", "pipeline_t"),
                        ("duckdb-default", "platform_t")):  # fmt: skip
        assert duckdb_rows(project.root / duck[name], "show tables") == [(table,)]
    assert database.rows("select x from public.pg_t union all select x from public.rs_t") == [(4,), (5,)]


def test_jinja_dates_variables_and_this(project):
    project.write(".bruin.yml", bruin_yml({"duckdb": [{"name": "duckdb-default", "path": "w.db"}]}))
    project.write(
        "j/pipeline.yml",
        'name: j\nvariables:\n  n: {type: integer, default: 1}\n  region: {type: string, default: "eu"}\n',
    )
    project.write(
        "j/assets/rendered.sql",
        sql_file(
            "reports.rendered",
            "select '{{ start_date }}' as start_date, '{{ end_date }}' as end_date, {{ var.n }} as n, "
            "'{{ var.region }}' as region, '{{ this }}' as this_name",
            "duckdb.sql",
            materialization={"type": "table"},
        ),
    )
    result = project.bruin("run", "--start-date", "2024-03-01", "--end-date", "2024-03-02", "--var", "n=42", "j")
    assert result.returncode == 0, result.output
    assert duckdb_rows(project.root / "w.db", "select * from reports.rendered") == [
        ("2024-03-01", "2024-03-02", 42, "eu", "reports.rendered")
    ]


# --- materializations ---------------------------------------------------------------------------------

RAW_SCRIPTS = {
    "duckdb": "create schema if not exists raw; create or replace table raw.events as select * from range(1, 4) t(n);",
    # A view reads raw.events, so the script refills the table instead of dropping it.
    "postgres": "create schema if not exists raw; create table if not exists raw.events (n int);"
    " truncate raw.events; insert into raw.events select generate_series(1, 3);",
}


SQL_TYPES = {"duckdb": "duckdb.sql", "postgres": "pg.sql"}


def warehouse(platform: str, project: BruinProject, database: PgDatabase) -> tuple[dict, Callable[[str], list[tuple]]]:
    """The `wh` connection on `platform`, and a way to read sorted rows from it."""
    if platform == "duckdb":
        return {"name": "wh", "path": "w.db"}, lambda sql: duckdb_rows(project.root / "w.db", sql)
    return {"name": "wh", **database.details()}, database.rows


@pytest.mark.parametrize("platform", list(SQL_TYPES))
def test_materializations_with_schema_prefix(platform, project, database):
    asset_type = SQL_TYPES[platform]
    connection, rows = warehouse(platform, project, database)
    project.write(".bruin.yml", bruin_yml({platform: [connection]}, schema_prefix="dev"))
    project.write("m/pipeline.yml", f"name: m\ndefault_connections:\n  {platform}: wh\n")

    def asset(file: str, name: str, sql: str, materialization: dict[str, str] | None, *depends: str) -> None:
        header: dict[str, object] = {"depends": list(depends)}
        if materialization:
            header["materialization"] = materialization
        project.write(f"m/assets/{file}.sql", sql_file(name, sql, asset_type, **header))

    asset("raw", "raw.events", RAW_SCRIPTS[platform], None)
    asset("view", "analytics.events_view", "select n * 10 as n10 from raw.events", {"type": "view"}, "raw.events")
    asset("table", "analytics.doubled", "select n * 2 as n2 from raw.events;", {"type": "table"}, "raw.events")
    asset("append", "analytics.log", "select n from raw.events -- trailing comment", {"type": "table",
          "strategy": "append"}, "raw.events")  # fmt: skip
    asset("plain", "summary", "select count(*) as c from raw.events", {"type": "table"}, "raw.events")

    for _ in range(2):
        result = project.bruin("run", "--workers", "4", "m")
        assert result.returncode == 0, result.output

    assert rows("select n10 from dev_analytics.events_view") == [(10,), (20,), (30,)]
    assert rows("select n2 from dev_analytics.doubled") == [(2,), (4,), (6,)]
    assert rows("select n from dev_analytics.log") == [(1,), (1,), (2,), (2,), (3,), (3,)]
    default_schema = "main" if platform == "duckdb" else "public"
    assert rows(f"select c from dev_{default_schema}.summary") == [(3,)]
    assert rows(RELATIONS) == [
        ("dev_analytics", "doubled", "BASE TABLE"),
        ("dev_analytics", "events_view", "VIEW"),
        ("dev_analytics", "log", "BASE TABLE"),
        (f"dev_{default_schema}", "summary", "BASE TABLE"),
        ("raw", "events", "BASE TABLE"),
    ]


LATE_FAILURES = {
    # Row 3 fails only once the first rows are computed: a division by zero, or a cast that cannot work.
    "postgres": "select i, 100 / (i - {{ var.bad }}) as q from generate_series(1, 5) as g(i)",
    "duckdb": "select i, cast(case when i = {{ var.bad }} then 'x' else (100 * i)::varchar end as integer) as q "
    "from range(1, 6) t(i)",
}


@pytest.mark.parametrize("platform", list(SQL_TYPES))
def test_failed_table_build_keeps_the_old_table(platform, project, database):
    connection, rows = warehouse(platform, project, database)
    project.write(".bruin.yml", bruin_yml({platform: [connection]}))
    project.write("f/pipeline.yml", "name: f\nvariables:\n  bad: {type: integer, default: 0}\n")
    project.write(
        "f/assets/t.sql",
        sql_file(
            "analytics.t",
            LATE_FAILURES[platform],
            SQL_TYPES[platform],
            connection="wh",
            materialization={"type": "table"},
        ),
    )

    def contents() -> list[tuple]:
        return rows("select count(*), sum(i) from analytics.t") + rows(RELATIONS)

    first = project.bruin("run", "f")
    assert first.returncode == 0, first.output
    before = contents()
    assert before == [(5, 15), ("analytics", "t", "BASE TABLE")]

    result, assets = run_json(project, "--var", "bad=3", "f")
    assert result.returncode == 1
    assert assets["analytics.t"]["status"] == "failed"
    assert assets["analytics.t"]["error"].startswith("asset 'analytics.t': ")
    assert contents() == before


# --- bad input ----------------------------------------------------------------------------------------

WRONG_PASSWORD = f"canary-wrong-{uuid.uuid4().hex}"
BROKEN = "asset 'analytics.broken': "


@dataclass(frozen=True)
class BadCase:
    expected: str  # the start of the error; {config} and {port} are filled in
    sql: str = "select 1 as x"
    connection: str = "pg-main"
    details: Mapping[str, object] | None = None
    backend: str = ""


BAD_CASES = {
    "sql_syntax": BadCase(BROKEN + "syntax error at or near", sql="select x frm nowhere"),
    "unknown_connection": BadCase(
        "connection 'nope' not found in config file '{config}' under environment 'default'", connection="nope"
    ),
    "unknown_connection_in_vault": BadCase(
        "connection 'nope' not found in secrets backend 'vault'", connection="nope", backend="vault"
    ),
    "wrong_password": BadCase(
        BROKEN + "could not connect to postgres connection 'pg-main' at 127.0.0.1:{port}: "
        f'password authentication failed for user "{ROLE}"',
        details={"password": "${E2E_WRONG_PASSWORD}"},
    ),
    "unreachable_host": BadCase(
        BROKEN + "could not connect to postgres connection 'pg-main' at 127.0.0.1:{port}: connection refused",
        details={"port": "closed"},
    ),
    "jinja_error": BadCase(
        BROKEN + "template error at line 2: 'undefined_name' is undefined", sql="select 1 as x\n-- {{ undefined_name }}"
    ),
    "jinja_secret": BadCase(
        BROKEN + "secrets are not available in SQL templates ('secrets'); use a Python asset or the asset's connection",
        sql="select '{{ secrets.pg }}' as x",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_fails_the_asset_in_one_line(case, project, database, request):
    spec = BAD_CASES[case]
    details = database.details(**(spec.details or {}))
    if details["port"] == "closed":
        details["port"] = free_port()
    env = {"E2E_WRONG_PASSWORD": WRONG_PASSWORD}
    backend: list[str] = []
    if spec.backend == "vault":
        vault: VaultServer = request.getfixturevalue("vault_server")
        env |= vault.bruin_env(f"e2e-{uuid.uuid4().hex[:8]}")
        backend = ["--secrets-backend", "vault"]
    project.write(".bruin.yml", bruin_yml({"postgres": [{"name": "pg-main", **details}]}))
    project.write("b/pipeline.yml", "name: b\n")
    project.write(
        "b/assets/broken.sql",
        sql_file("analytics.broken", spec.sql, connection=spec.connection, materialization={"type": "table"}),
    )
    project.write(
        "b/assets/after.py", python_file("after", "open('after-ran', 'w').close()", depends=["analytics.broken"])
    )

    result, assets = run_json(project, *backend, "b", env=env)

    assert result.returncode == 1, result.output
    assert statuses(assets) == {"after": "upstream_failed", "analytics.broken": "failed"}
    error = assets["analytics.broken"]["error"]
    expected = spec.expected.format(config=project.root / ".bruin.yml", port=details["port"])
    assert error.startswith(expected) and "\n" not in error, error
    failed = [line for line in result.stderr.splitlines() if "Failed: analytics.broken" in line]
    assert len(failed) == 1 and failed[0].endswith(error), result.stderr
    assert not (project.root / "after-ran").exists()
    assert database.relations() == [], "a failed asset leaves no table behind"
    assert WRONG_PASSWORD not in result.output and PASSWORD not in result.output
    logs = project.root / "logs"
    assert list(logs.glob("*.log")) and list(logs.glob("runs/*.json")), "the canary check must cover log and manifest"
    assert project.files_containing(WRONG_PASSWORD) == []


# --- concurrency --------------------------------------------------------------------------------------

# Each asset marks itself active (committed, so every session sees it), waits a moment, then checks it is
# the only active one. Without the connection's limit, assets on four workers overlap and fail the check.
CLAIM_ACTIVE = """
begin; insert into active values ('{name}'); commit;
select pg_sleep(0.05);
do $$ begin
  if (select count(*) from active) <> 1 then raise exception 'another asset of the connection is running'; end if;
end $$;
delete from active;
"""


def test_max_concurrent_assets_serialises_a_connections_assets(project, database):
    project.write(
        ".bruin.yml",
        bruin_yml({"postgres": [{"name": "pg-main", "max_concurrent_assets": 1, **database.details()}]}),
    )
    project.write("c/pipeline.yml", "name: c\ndefault_connections:\n  postgres: pg-main\n")
    project.write("c/assets/setup.sql", sql_file("setup", "create table active (name text)"))
    names = [f"worker_{i}" for i in range(6)]
    for name in names:
        project.write(f"c/assets/{name}.sql", sql_file(name, CLAIM_ACTIVE.format(name=name), depends=["setup"]))

    result, assets = run_json(project, "--workers", "4", "c")

    assert result.returncode == 0, result.output
    assert statuses(assets) == dict.fromkeys(["setup", *names], "succeeded")
    assert database.rows("select count(*) from active") == [(0,)]


def test_a_timed_out_postgres_rebuild_is_cancelled_and_rolled_back(project: BruinProject, database: PgDatabase):
    """The asset's timeout cancels the running statement on the server; the previous table stays as it was."""
    project.write(".bruin.yml", bruin_yml({"postgres": [{"name": "pg-main", **database.details()}]}))
    project.write("p/pipeline.yml", "name: p\n")
    table = {"connection": "pg-main", "materialization": {"type": "table"}}
    project.write("p/assets/t.sql", sql_file("public.t", "select 1 as id", **table))
    assert run_json(project, "p")[0].returncode == 0
    project.write("p/assets/t.sql", sql_file("public.t", "select 2 as id from pg_sleep(600)", timeout="1s", **table))
    result, assets = run_json(project, "p")
    assert result.returncode == 1, result.output
    assert assets["public.t"]["error"] == 'asset "public.t" timed out after 1s'
    assert database.rows("select id from public.t") == [(1,)]
    running = "select count(*) from pg_stat_activity where query like '%pg_sleep(600)%' and pid <> pg_backend_pid()"
    assert database.rows(running) == [(0,)], "the statement was cancelled on the server"
