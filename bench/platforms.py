"""What does `bruin run` cost per SQL asset on MySQL, Snowflake and BigQuery, against the same statements through
the same driver in one connection?

For each platform (MariaDB, fakesnow with the real Snowflake connector, the local-bigquery emulator with the real
BigQuery client; the servers the tests use, started here), a pipeline of 50 table assets: a chain, every asset
reading the one before it. It runs through the CLI as a subprocess, against the floor measured in the same run:
a fresh interpreter that imports the driver, opens one connection and runs one `CREATE [OR REPLACE] TABLE ... AS`
per asset (MySQL: `DROP TABLE IF EXISTS` first, as upstream does). Prints a Markdown table (medians of --repeat
runs); it asserts nothing. The emulators' own costs dominate both sides, so the ratio says what pybruin adds on
top of them (sessions, schema checks, swaps, the run's bookkeeping), not what a real warehouse would take.

Usage: .venv/bin/python bench/platforms.py [--assets 50] [--repeat 3] [--workers 4] [--only mysql,snowflake,bigquery]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures.bigquery_emulator import PROJECT, running_emulator, service_account_json
from fixtures.mysql_server import running_mysql
from fixtures.snowflake_server import running_fakesnow

BRUIN = [sys.executable, "-W", "ignore", "-m", "pybruin"]
MYSQL_SCRIPT = """
import json, sys, pymysql
c = json.loads(sys.argv[1])
conn = pymysql.connect(host=c["host"], port=c["port"], user=c["username"], password=c["password"],
                       database=c["database"], autocommit=True)
with conn.cursor() as cursor:
    for statement in json.load(sys.stdin):
        cursor.execute(statement)
conn.close()
"""
SNOWFLAKE_SCRIPT = """
import json, sys, warnings
warnings.simplefilter("ignore")
import snowflake.connector
c = json.loads(sys.argv[1])
conn = snowflake.connector.connect(account=c["account"], user=c["username"], password=c["password"],
                                   database=c["database"], host=c["host"], port=c["port"], protocol=c["protocol"],
                                   session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False})
cursor = conn.cursor()
for statement in json.load(sys.stdin):
    cursor.execute(statement)
conn.close()
"""
BIGQUERY_SCRIPT = """
import json, sys
from google.cloud import bigquery
from google.oauth2 import service_account
c = json.loads(sys.argv[1])
info = json.loads(c["service_account_json"])
credentials = service_account.Credentials.from_service_account_info(info, always_use_jwt_access=True)
client = bigquery.Client(project=c["project_id"], credentials=credentials)
for statement in json.load(sys.stdin):
    client.query_and_wait(statement)
client.close()
"""


@dataclass
class Platform:
    name: str
    type_key: str
    asset_type: str
    details: dict[str, object]
    schema: str
    floor_script: str
    create: Callable[[str, str], list[str]]  # (table, query) -> the statements the floor runs for one asset


def chain(schema: str, assets: int) -> list[tuple[str, str]]:
    steps = [(f"{schema}.t_000", "select 1 as n")]
    for i in range(1, assets):
        steps.append((f"{schema}.t_{i:03d}", f"select n + 1 as n from {steps[-1][0]}"))
    return steps


def make_project(root: Path, platform: Platform, steps: list[tuple[str, str]]) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    config = {"default_environment": "default", "environments": {"default": {"connections": {
        platform.type_key: [{"name": "warehouse", **platform.details}]}}}}  # fmt: skip
    (root / ".bruin.yml").write_text(json.dumps(config))
    assets = root / "p" / "assets"
    assets.mkdir(parents=True)
    (root / "p" / "pipeline.yml").write_text("name: p\n")
    for index, (name, query) in enumerate(steps):
        depends = f"depends: [{steps[index - 1][0]}]\n" if index else ""
        (assets / f"a_{index:03d}.sql").write_text(
            f"/* @bruin\nname: {name}\ntype: {platform.asset_type}\nconnection: warehouse\n"
            f"materialization:\n  type: table\n{depends}@bruin */\n{query}\n"
        )


def timed(argv: list[str], *, cwd: Path | None = None, stdin: str = "") -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True, text=True, env=dict(os.environ))
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return elapsed


def measure(platform: Platform, assets: int, repeat: int, workers: int) -> tuple[float, float]:
    """Medians of (bruin run, the floor) in seconds."""
    runs, floors = [], []
    steps = chain(platform.schema, assets)
    statements = [statement for table, query in steps for statement in platform.create(table, query)]
    for attempt in range(repeat + 1):  # the first round warms caches and is not counted
        with tempfile.TemporaryDirectory(prefix="pybruin-bench-") as tmp:
            make_project(Path(tmp), platform, steps)
            run = timed([*BRUIN, "run", "--workers", str(workers), "p"], cwd=Path(tmp))
        floor = timed([sys.executable, "-c", platform.floor_script, json.dumps(platform.details)],
                      stdin=json.dumps(statements))  # fmt: skip
        if attempt:
            runs.append(run)
            floors.append(floor)
    return statistics.median(runs), statistics.median(floors)


@contextmanager
def platforms(only: set[str]) -> Iterator[list[Platform]]:
    """The selected platforms, each on its server, started here and stopped afterwards."""
    found: list[Platform] = []
    with ExitStack() as stack:
        if "mysql" in only:
            mysql = stack.enter_context(running_mysql())
            database = f"bench_{uuid.uuid4().hex[:8]}"
            mysql.execute(f"CREATE DATABASE {database}",
                          "CREATE USER IF NOT EXISTS 'bench'@'%' IDENTIFIED BY 'bench-pw'",
                          "GRANT ALL ON *.* TO 'bench'@'%'")  # fmt: skip
            details = {"host": mysql.host, "port": mysql.port, "username": "bench", "password": "bench-pw",
                       "database": database}  # fmt: skip
            found.append(Platform("mysql", "mysql", "my.sql", details, database, MYSQL_SCRIPT,
                                  lambda t, q: [f"DROP TABLE IF EXISTS {t}", f"CREATE TABLE {t} AS {q}"]))
        if "snowflake" in only:
            snowflake = stack.enter_context(running_fakesnow())
            database = f"BENCH_{uuid.uuid4().hex[:8].upper()}"
            conn = snowflake.connect()
            conn.cursor().execute(f"CREATE DATABASE {database}")
            conn.cursor().execute(f"CREATE SCHEMA {database}.bench")
            conn.close()
            details = {"account": "bench", "username": "bench", "password": "bench-pw", "database": database,
                       **snowflake.endpoint()}  # fmt: skip
            found.append(Platform("snowflake", "snowflake", "sf.sql", details, "bench", SNOWFLAKE_SCRIPT,
                                  lambda t, q: [f"CREATE OR REPLACE TABLE {t} AS {q}"]))
        if "bigquery" in only:
            emulator = stack.enter_context(running_emulator())
            os.environ.update(emulator.emulator_env)
            dataset = f"bench_{uuid.uuid4().hex[:8]}"
            emulator.client().create_dataset(dataset)
            details = {"project_id": PROJECT, "service_account_json": service_account_json()}
            found.append(Platform("bigquery", "google_cloud_platform", "bq.sql", details, dataset, BIGQUERY_SCRIPT,
                                  lambda t, q: [f"CREATE OR REPLACE TABLE {t} AS {q}"]))
        yield found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--only", default="mysql,snowflake,bigquery")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    header = f"{args.assets} table assets, `bruin run`"
    print(f"| platform | {header} | same statements, one connection | ratio | per asset |")
    print("|---|---|---|---|---|")
    with platforms(set(args.only.split(","))) as found:
        for platform in found:
            run, floor = measure(platform, args.assets, args.repeat, args.workers)
            print(f"| {platform.name} | {run:.2f} s | {floor:.2f} s | {run / floor:.2f}x "
                  f"| {(run - floor) / args.assets * 1000:.0f} ms |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
