"""What does `bruin run` cost per `duckdb.sql` asset, against running the same SQL in one DuckDB connection?

Two pipelines of 100 trivial `duckdb.sql` table assets each: a chain (every asset reads the one before it)
and a fan-out (one root, 99 assets reading it). Each runs through the CLI as a subprocess, against the floor
measured in the same run: a plain script (a fresh interpreter that imports duckdb, opens the file and runs
the same 100 CREATE TABLE ... AS statements in one connection). The statements alone, timed in this
process, are reported too. Prints a Markdown table (medians of --repeat runs); it asserts nothing.

Usage: .venv/bin/python bench/sql_pipeline.py [--assets 100] [--repeat 3] [--workers 16]
"""

from __future__ import annotations

import argparse
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
    for statement in sys.stdin.read().split(";\\n"):
        if statement.strip():
            db.execute(statement)
"""


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


def make_project(root: Path, name: str, steps: list[tuple[str, str, list[str]]]) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    duckdb = "      duckdb:\n        - name: duckdb-default\n          path: bench.db\n"
    (root / ".bruin.yml").write_text("environments:\n  default:\n    connections:\n" + duckdb)
    assets = root / name / "assets"
    assets.mkdir(parents=True)
    (root / name / "pipeline.yml").write_text(f"name: {name}\n")
    for asset, query, depends in steps:
        header = f"name: {asset}\ntype: duckdb.sql\nmaterialization:\n  type: table\ndepends: {depends}\n"
        (assets / f"{asset}.sql").write_text(f"/* @bruin\n{header}@bruin */\n{query}\n")
    return root / name


def statements(steps: list[tuple[str, str, list[str]]]) -> str:
    schemas = sorted({asset.split(".")[0] for asset, _, _ in steps})
    creates = [f"create schema if not exists {schema}" for schema in schemas]
    creates += [f"create or replace table {asset} as {query}" for asset, query, _ in steps]
    return ";\n".join(creates) + ";\n"


def run_bruin(pipeline: Path, workers: int) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [*BRUIN, "run", "--workers", str(workers), "--no-log-file", str(pipeline)],
        cwd=pipeline.parent, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bruin run failed:\n{done.stdout}{done.stderr}")
    return elapsed


def run_plain_script(database: Path, sql: str) -> float:
    database.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(database)], input=sql, text=True, check=True)
    return time.perf_counter() - started


def run_in_process(database: Path, sql: str) -> float:
    import duckdb

    database.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(database)) as db:
        for statement in sql.split(";\n"):
            if statement.strip():
                db.execute(statement)
    return time.perf_counter() - started


def startup() -> float:
    started = time.perf_counter()
    subprocess.run([*BRUIN, "--version"], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="pybruin-bench-sql-") as tmp:
        for shape, build in (("chain", chain), ("fan-out", fan_out)):
            steps = build(args.assets)
            pipeline = make_project(Path(tmp) / shape, shape.replace("-", "_"), steps)
            sql = statements(steps)
            floor_db = Path(tmp) / f"{shape}-floor.db"
            cli = statistics.median(run_bruin(pipeline, args.workers) for _ in range(args.repeat))
            plain = statistics.median(run_plain_script(floor_db, sql) for _ in range(args.repeat))
            inside = statistics.median(run_in_process(floor_db, sql) for _ in range(args.repeat))
            rows.append((shape, cli, plain, inside))
    version = statistics.median(startup() for _ in range(args.repeat))

    print(f"{args.assets} `duckdb.sql` table assets, `bruin run --workers {args.workers}`, medians of {args.repeat}.")
    print(f"`bruin --version` (interpreter + CLI import): {version * 1000:.0f} ms.\n")
    print(
        "| pipeline | `bruin run` wall | per asset | plain script (1 connection) | statements only | ratio vs script |"
    )
    print("|---|---|---|---|---|---|")
    for shape, cli, plain, inside in rows:
        print(
            f"| {shape} | {cli:.2f} s | {cli / args.assets * 1000:.1f} ms | {plain:.2f} s "
            f"| {inside * 1000:.0f} ms | {cli / plain:.1f}x |"
        )


if __name__ == "__main__":
    main()
