"""What a Python asset's `materialize()` costs to load, and what its environment costs, against doing it by hand.

* Materialization: one asset returning a pandas DataFrame of `--rows` rows x 5 columns (int, text, float, bool,
  timestamp), `bruin run` into a DuckDB file and into a real PostgreSQL (initdb into a temp dir, stopped by its
  PID), against a plain script in a fresh interpreter that builds the same DataFrame and writes it the fastest
  way the database has: DuckDB `CREATE TABLE AS` from the Arrow table, PostgreSQL `COPY ... FROM STDIN` of the
  CSV pyarrow writes (goal <= 1.3x).
* Environments: one asset with a requirements file, cold (no environment built yet; uv's wheel cache warm) and
  warm, against `uv run --no-config --no-project --python <exact path> --with-requirements` of the same script
  (goal <= 1.2x cold, <= 1.05x warm); and 20 assets sharing one requirements file, warm, against 20 such
  `uv run` calls one after the other. `PYTHONDONTWRITEBYTECODE` is left out of their environment, as most
  machines do not set it: assets (and `uv run`'s scripts) write their imports' bytecode on their first run.

Each round runs every measurement once, back to back, and ratios are taken within a round before the median is taken
(the machine is shared). Results are printed and written to the ``## python_materialize.py`` section of
bench/README.md; nothing is asserted. Usage: .venv/bin/python bench/python_materialize.py [--rows 1000000]
[--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from backend_resolution import write_readme_section
from dynamic_credentials import postgres

SECTION = "## python_materialize.py"
BRUIN = [sys.executable, "-m", "pybruin"]
REQUIREMENTS = "requests==2.32.3\n"
FRAME = """
import numpy as np, pandas as pd

def frame(rows):
    ids = np.arange(rows)
    return pd.DataFrame({
        "id": ids, "name": pd.Series(ids).astype(str), "amount": ids * 1.5, "flag": ids % 2 == 0,
        "seen_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(ids, unit="s"),
    })
"""
PLAIN = FRAME + """
import sys, pyarrow as pa
arrow = pa.Table.from_pandas(frame(int(sys.argv[2])), preserve_index=False)
if sys.argv[1] == "duckdb":
    import duckdb
    with duckdb.connect(sys.argv[3]) as db:
        db.execute("CREATE SCHEMA IF NOT EXISTS bench")
        db.execute("CREATE OR REPLACE TABLE bench.plain AS SELECT * FROM arrow")
else:
    import psycopg, pyarrow.csv as csv
    with psycopg.connect(sys.argv[3], autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        conn.execute("DROP TABLE IF EXISTS bench.plain")
        conn.execute("CREATE TABLE bench.plain (id bigint, name text, amount double precision, flag boolean, "
                     "seen_at timestamp)")
        sink = pa.BufferOutputStream()
        csv.write_csv(arrow, sink, csv.WriteOptions(include_header=False))
        with conn.cursor() as cur, cur.copy("COPY bench.plain FROM STDIN (FORMAT csv)") as copy:
            copy.write(memoryview(sink.getvalue()))
"""


def timed(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def count(platform: str, target: str, table: str) -> int:
    if platform == "duckdb":
        import duckdb

        with duckdb.connect(target, read_only=True) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    import psycopg

    with psycopg.connect(target) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def project(root: Path, connection: dict[str, object], platform: str) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    config = {"environments": {"default": {"connections": {platform: [{"name": "wh", **connection}]}}}}
    (root / ".bruin.yml").write_text(json.dumps(config))
    (root / "p" / "assets").mkdir(parents=True)
    (root / "p" / "pipeline.yml").write_text("name: p\n")
    return root


def materialization_round(tmp: Path, rows: int, pg_port: int) -> dict[str, tuple[float, float]]:
    """Seconds for bruin and for the plain script, per destination."""
    results = {}
    destinations = {
        "duckdb": ({"path": "w.db"}, "duckdb", lambda root: str(root / "w.db")),
        "postgres": ({"host": "127.0.0.1", "port": pg_port, "username": "postgres", "database": "postgres"},
                     "postgres", lambda root: f"host=127.0.0.1 port={pg_port} user=postgres dbname=postgres"),
    }  # fmt: skip
    for name, (connection, platform, target) in destinations.items():
        root = tmp / f"mat-{name}"
        if not root.exists():
            project(root, connection, platform)
        asset = (f'"""@bruin\nname: bench.rows\nconnection: wh\nmaterialization:\n  type: table\n@bruin"""\n'
                 f"{FRAME}\ndef materialize():\n    return frame({rows})\n")  # fmt: skip
        (root / "p" / "assets" / "rows.py").write_text(asset)
        bruin = timed([*BRUIN, "run", "--no-log-file", "p"], cwd=root)
        plain = timed([sys.executable, "-c", PLAIN, name, str(rows), target(root)], cwd=root)
        for table in ("bench.rows", "bench.plain"):  # both wrote every row
            assert count(platform, target(root), table) == rows, (name, table)
        results[name] = (bruin, plain)
    return results


def environment_round(tmp: Path, uv_cache: Path, index: int) -> dict[str, tuple[float, float]]:
    """Seconds for bruin and for `uv run`: one asset cold, the same warm, and 20 assets warm."""
    from uv import find_uv_bin

    interpreter = getattr(sys, "_base_executable", sys.executable)
    root = tmp / f"env-{index}"
    project(root, {"path": "w.db"}, "duckdb")
    (root / "p" / "requirements.txt").write_text(REQUIREMENTS)
    script = "import requests\nprint(requests.__version__)\n"
    for number in range(20):
        (root / "p" / "assets" / f"a{number}.py").write_text(f'"""@bruin\nname: a{number}\n@bruin"""\n{script}')
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}  # as on most machines
    env.update(HOME=str(tmp / f"home-{index}"), UV_CACHE_DIR=str(uv_cache))
    uv_run = [find_uv_bin(), "run", "--quiet", "--no-config", "--no-project", "--python", interpreter,
              "--with-requirements", str(root / "p" / "requirements.txt")]  # fmt: skip
    one = str(root / "p" / "assets" / "a0.py")
    shutil.rmtree(uv_cache / "environments-v2", ignore_errors=True)  # uv run's cached environments: cold
    cold_uv = timed([*uv_run, one], cwd=root, env=env)
    cold_bruin = timed([*BRUIN, "run", "--no-log-file", one], cwd=root, env=env)
    warm_uv = timed([*uv_run, one], cwd=root, env=env)
    warm_bruin = timed([*BRUIN, "run", "--no-log-file", one], cwd=root, env=env)
    many_uv = sum(timed([*uv_run, str(root / "p" / "assets" / f"a{n}.py")], cwd=root, env=env) for n in range(20))
    many_bruin = timed([*BRUIN, "run", "--no-log-file", "p"], cwd=root, env=env)
    return {"cold": (cold_bruin, cold_uv), "warm": (warm_bruin, warm_uv), "20 assets": (many_bruin, many_uv)}


def summarize(rounds: list[dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float, float]]:
    """Per measurement: median of bruin, median of the baseline, median of the per-round ratios."""
    keys = rounds[0].keys()
    median: Callable[[list[float]], float] = statistics.median
    return {key: (median([r[key][0] for r in rounds]), median([r[key][1] for r in rounds]),
                  median([r[key][0] / r[key][1] for r in rounds])) for key in keys}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pybruin-bench-pymat-"))
    uv_cache = tmp / "uv-cache"
    try:
        with postgres() as pg_port:
            materialization_round(tmp, 1000, pg_port)  # warm-up: imports, the database files
            mat = summarize([materialization_round(tmp, args.rows, pg_port) for _ in range(args.repeat)])
        environment_round(tmp, uv_cache, -1)  # warm-up: the wheels into uv's cache
        envs = summarize([environment_round(tmp, uv_cache, index) for index in range(args.repeat)])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        f"{args.rows:,} rows x 5 columns from `materialize()` (pandas) and `{REQUIREMENTS.strip()}` environments; "
        f"medians of {args.repeat} rounds, ratios per round. 2 cores shared with other work: absolute times vary.",
        "",
        "| measurement | bruin run | baseline | ratio | goal |",
        "|---|---|---|---|---|",
    ]
    goals = {"duckdb": "<= 1.3", "postgres": "<= 1.3", "cold": "<= 1.2", "warm": "<= 1.05", "20 assets": "keep 0.23"}
    labels = {"duckdb": "into DuckDB vs plain script (Arrow)", "postgres": "into PostgreSQL vs plain script (COPY)",
              "cold": "one asset, cold environment, vs `uv run --with-requirements`",
              "warm": "one asset, warm environment, vs `uv run --with-requirements`",
              "20 assets": "20 assets, one requirements file, vs 20 `uv run`"}  # fmt: skip
    for key, (bruin, base, ratio) in {**mat, **envs}.items():
        lines.append(f"| {labels[key]} | {bruin:.2f} s | {base:.2f} s | **{ratio:.2f}x** | {goals[key]} |")
    body = "\n".join(lines) + "\n"
    print(body)
    write_readme_section(body, SECTION)


if __name__ == "__main__":
    main()
