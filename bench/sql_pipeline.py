"""What does `bruin run` cost per `duckdb.sql` asset, against running the same SQL in one DuckDB connection?

Shapes: two pipelines of 100 trivial `create+replace` table assets (a chain, every asset reading the one before
it, and a fan-out, one root and 99 assets reading it), and one pipeline of 100 independent assets per
materialization strategy (`--strategies`). Each runs through the CLI as a subprocess, against the floor measured
in the same run: a plain script (a fresh interpreter that imports duckdb, opens the file and runs the same
statements in one connection). For the strategies the statements are the very scripts pybruin executes for
each asset (built with its own `asset_sql`), and both sides start from the same database file, made by a
`--full-refresh` run, so incremental strategies find their tables. The statements alone, timed in this
process, are reported too. Prints a Markdown table (medians of --repeat runs); it asserts nothing.

Usage: .venv/bin/python bench/sql_pipeline.py [--assets 100] [--repeat 3] [--workers 16] [--strategies a,b]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BRUIN = [sys.executable, "-m", "pybruin"]
PLAIN_SCRIPT = """
import sys, duckdb
with duckdb.connect(sys.argv[1]) as db:
    for statement in sys.stdin.read().split("\\n;;\\n"):
        if statement.strip():
            db.execute(statement)
"""
SEPARATOR = "\n;;\n"  # between scripts: each is executed as one, as pybruin executes it
STRATEGIES = {
    "create+replace": "materialization: {type: table}",
    "view": "materialization: {type: view}",
    "append": "materialization: {type: table, strategy: append}",
    "delete+insert": "materialization: {type: table, strategy: delete+insert, incremental_key: id}",
    "truncate+insert": "materialization: {type: table, strategy: truncate+insert}",
    "merge": "materialization: {type: table, strategy: merge}",
    "time_interval": "materialization: {type: table, strategy: time_interval, incremental_key: ts, "
                     "time_granularity: date}",
    "ddl": "materialization: {type: table, strategy: ddl}",
    "scd2_by_column": "materialization: {type: table, strategy: scd2_by_column}",
    "scd2_by_time": "materialization: {type: table, strategy: scd2_by_time, incremental_key: ts}",
}  # fmt: skip
COLUMNS = ("columns:\n  - {name: id, type: INTEGER, primary_key: true}\n  - {name: v, type: VARCHAR, "
           "update_on_merge: true}\n  - {name: ts, type: DATE}\n")  # fmt: skip
QUERY = "select range::integer as id, 'v' || range as v, date '2024-01-01' as ts from range({n})"


def chain(assets: int) -> list[tuple[str, str, list[str]]]:
    """(name, query, depends) for each asset: t_000 <- t_001 <- ... ."""
    steps = [("chain.t_000", "select 1 as n", [])]
    for i in range(1, assets):
        previous = steps[-1][0]
        steps.append((f"chain.t_{i:03d}", f"select n + 1 as n from {previous}", [previous]))
    return steps


def fan_out(assets: int) -> list[tuple[str, str, list[str]]]:
    root = ("fan.root", "select * from range(10) as t(n)", [])
    return [root] + [
        (f"fan.leaf_{i:03d}", f"select n * {i} as n from fan.root", ["fan.root"]) for i in range(1, assets)
    ]


def init_project(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    duckdb = "      duckdb:\n        - name: duckdb-default\n          path: bench.db\n"
    (root / ".bruin.yml").write_text("environments:\n  default:\n    connections:\n" + duckdb)


def make_project(root: Path, name: str, steps: list[tuple[str, str, list[str]]]) -> Path:
    init_project(root)
    assets = root / name / "assets"
    assets.mkdir(parents=True)
    (root / name / "pipeline.yml").write_text(f"name: {name}\n")
    for asset, query, depends in steps:
        header = f"name: {asset}\ntype: duckdb.sql\nmaterialization:\n  type: table\ndepends: {depends}\n"
        (assets / f"{asset}.sql").write_text(f"/* @bruin\n{header}@bruin */\n{query}\n")
    return root / name


def make_strategy_project(root: Path, strategy: str, assets: int) -> tuple[Path, list[str]]:
    """`assets` independent assets materialized with `strategy`; returns the pipeline and each asset's script."""
    from pybruin.pipeline.loader import load_pipeline
    from pybruin.platforms.run import asset_sql

    init_project(root)
    name = "s_" + "".join(ch if ch.isalnum() else "_" for ch in strategy)
    folder = root / name / "assets"
    folder.mkdir(parents=True)
    (root / name / "pipeline.yml").write_text(f"name: {name}\n")
    for i in range(assets):
        header = f"name: s.t_{i:03d}\ntype: duckdb.sql\n{STRATEGIES[strategy]}\n{COLUMNS}"
        body = "" if strategy == "ddl" else QUERY.format(n=10 + i % 7)
        (folder / f"t_{i:03d}.sql").write_text(f"/* @bruin\n{header}@bruin */\n{body}\n")
    pipeline = load_pipeline(root / name)
    window = ("2024-01-01", "2024-01-01")
    scripts = [asset_sql(asset, asset.content, None, schema_prefix="", interval=window) for asset in pipeline.assets]
    return root / name, scripts


def run_bruin(pipeline: Path, workers: int, *flags: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [*BRUIN, "run", "--workers", str(workers), "--no-log-file", "--start-date", "2024-01-01", "--end-date",
         "2024-01-01", *flags, str(pipeline)],
        cwd=pipeline.parent, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bruin run failed:\n{done.stdout}{done.stderr}")
    return elapsed


def run_plain_script(database: Path, sql: str, start_from: Path | None = None) -> float:
    reset(database, start_from)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(database)], input=sql, text=True, check=True)
    return time.perf_counter() - started


def run_in_process(database: Path, sql: str, start_from: Path | None = None) -> float:
    import duckdb

    reset(database, start_from)
    started = time.perf_counter()
    with duckdb.connect(str(database)) as db:
        for statement in sql.split(SEPARATOR):
            if statement.strip():
                db.execute(statement)
    return time.perf_counter() - started


def reset(database: Path, start_from: Path | None) -> None:
    database.unlink(missing_ok=True)
    Path(f"{database}.wal").unlink(missing_ok=True)
    if start_from is not None:
        shutil.copyfile(start_from, database)


def statements(steps: list[tuple[str, str, list[str]]]) -> str:
    schemas = sorted({asset.split(".")[0] for asset, _, _ in steps})
    creates = [f"create schema if not exists {schema}" for schema in schemas]
    creates += [f"create or replace table {asset} as {query}" for asset, query, _ in steps]
    return SEPARATOR.join(creates) + SEPARATOR


def startup() -> float:
    started = time.perf_counter()
    subprocess.run([*BRUIN, "--version"], check=True, capture_output=True)
    return time.perf_counter() - started


def bench_shapes(tmp: Path, args: argparse.Namespace) -> list[tuple[str, float, float, float]]:
    rows = []
    for shape, build in (("chain", chain), ("fan-out", fan_out)):
        steps = build(args.assets)
        pipeline = make_project(tmp / shape, shape.replace("-", "_"), steps)
        sql = statements(steps)
        floor_db = tmp / f"{shape}-floor.db"
        cli = statistics.median(run_bruin(pipeline, args.workers) for _ in range(args.repeat))
        plain = statistics.median(run_plain_script(floor_db, sql) for _ in range(args.repeat))
        inside = statistics.median(run_in_process(floor_db, sql) for _ in range(args.repeat))
        rows.append((shape, cli, plain, inside))
    return rows


def bench_strategy(tmp: Path, strategy: str, args: argparse.Namespace) -> tuple[str, float, float, float]:
    pipeline, scripts = make_strategy_project(tmp / f"strategy-{len(list(tmp.iterdir()))}", strategy, args.assets)
    database = pipeline.parent / "bench.db"
    run_bruin(pipeline, args.workers, "--full-refresh")  # the tables every run starts from
    base = pipeline.parent / "base.db"
    shutil.copyfile(database, base)
    schema = "create schema if not exists s"
    sql = SEPARATOR.join([schema, *scripts]) + SEPARATOR

    def bruin_once() -> float:
        reset(database, base)
        return run_bruin(pipeline, args.workers)

    cli = statistics.median(bruin_once() for _ in range(args.repeat))
    floor_db = pipeline.parent / "floor.db"
    plain = statistics.median(run_plain_script(floor_db, sql, base) for _ in range(args.repeat))
    inside = statistics.median(run_in_process(floor_db, sql, base) for _ in range(args.repeat))
    return strategy, cli, plain, inside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated; empty for none")
    args = parser.parse_args()
    chosen = [name for name in args.strategies.split(",") if name]

    with tempfile.TemporaryDirectory(prefix="pybruin-bench-sql-") as name:
        tmp = Path(name)
        rows = bench_shapes(tmp, args)
        rows += [bench_strategy(tmp, strategy, args) for strategy in chosen]
    version = statistics.median(startup() for _ in range(args.repeat))

    print(f"{args.assets} `duckdb.sql` table assets, `bruin run --workers {args.workers}`, medians of {args.repeat}.")
    print(f"`bruin --version` (interpreter + CLI import): {version * 1000:.0f} ms.\n")
    print("| pipeline | `bruin run` wall | per asset | plain script (1 connection) | statements only "
          "| ratio vs script |")
    print("|---|---|---|---|---|---|")
    for shape, cli, plain, inside in rows:
        print(
            f"| {shape} | {cli:.2f} s | {cli / args.assets * 1000:.1f} ms | {plain:.2f} s "
            f"| {inside * 1000:.0f} ms | {cli / plain:.2f}x |"
        )


if __name__ == "__main__":
    main()
