"""What do quality checks cost in `bruin run`, against running the same check queries in one DuckDB connection?

100 `duckdb.sql` table assets with 5 column checks each (`not_null`, `unique`, `positive`, `accepted_values`,
`min`: 500 check tasks). Measured through the CLI as a subprocess: the whole run, the run with `--only main`
(so the checks' share of the run is the difference) and `--only checks`; and a whole run with `--workers 1`,
whose manifest gives the checks' share of that one run (the sum of their durations over the run's). The floor,
measured in the same run: a plain script (a fresh interpreter that imports duckdb, opens the file and runs the
500 check queries bruin ran, taken from its manifest, in one connection), and those queries alone, timed in
this process. The machine is shared, so each round runs every measurement once, back to back, and ratios are
taken within a round before the median is. Prints a Markdown table (medians of --repeat rounds); it asserts
nothing.

Usage: .venv/bin/python bench/checks.py [--assets 100] [--repeat 3] [--workers 16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BRUIN = [sys.executable, "-m", "pybruin"]
CHECKS = """columns:
  - name: id
    checks:
      - name: not_null
      - name: unique
      - name: positive
  - name: status
    checks:
      - name: accepted_values
        value: [new, shipped, returned]
  - name: amount
    checks:
      - name: min
        value: 0
"""
QUERY = (
    "select i as id, ['new', 'shipped', 'returned'][i % 3 + 1] as status, i * 1.5 as amount from range(1, 1001) t(i)"
)
PLAIN_SCRIPT = """
import sys, duckdb
with duckdb.connect(sys.argv[1]) as db:
    for query in sys.stdin.read().split(";\\n"):
        if query.strip():
            db.execute(query).fetchall()
"""


def make_project(root: Path, assets: int) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    duckdb = "      duckdb:\n        - name: duckdb-default\n          path: bench.db\n"
    (root / ".bruin.yml").write_text("environments:\n  default:\n    connections:\n" + duckdb)
    folder = root / "checked" / "assets"
    folder.mkdir(parents=True)
    (root / "checked" / "pipeline.yml").write_text("name: checked\n")
    for i in range(assets):
        header = f"name: shop.t_{i:03d}\ntype: duckdb.sql\nmaterialization:\n  type: table\n{CHECKS}"
        (folder / f"t_{i:03d}.sql").write_text(f"/* @bruin\n{header}@bruin */\n{QUERY}\n")
    return root / "checked"


def run_bruin(pipeline: Path, workers: int, *flags: str) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [*BRUIN, "run", "-o", "json", "--workers", str(workers), "--no-log-file", *flags, str(pipeline)],
        cwd=pipeline.parent, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bruin run failed:\n{done.stdout}{done.stderr}")
    return elapsed, json.loads(done.stdout)


def check_queries(manifest: dict) -> list[str]:
    return [check["query"] for asset in manifest["assets"] for check in asset["checks"]]


def run_plain_script(database: Path, queries: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(database)], input=";\n".join(queries), text=True,
                   check=True)  # fmt: skip
    return time.perf_counter() - started


def run_in_process(database: Path, queries: list[str]) -> float:
    import duckdb

    started = time.perf_counter()
    with duckdb.connect(str(database), read_only=True) as db:
        for query in queries:
            db.execute(query).fetchall()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="pybruin-bench-checks-") as tmp:
        pipeline = make_project(Path(tmp), args.assets)
        _, manifest = run_bruin(pipeline, args.workers)  # warm-up; builds the tables the checks read
        queries = check_queries(manifest)
        database = Path(tmp) / "bench.db"
        for _ in range(args.repeat):
            _, serial = run_bruin(pipeline, 1)
            rounds.append({
                "full": run_bruin(pipeline, args.workers)[0],
                "main": run_bruin(pipeline, args.workers, "--only", "main")[0],
                "checks": run_bruin(pipeline, args.workers, "--only", "checks")[0],
                "serial_run": serial["duration_seconds"],
                "serial_checks": sum(c["duration_seconds"] for a in serial["assets"] for c in a["checks"]),
                "plain": run_plain_script(database, queries),
                "inside": run_in_process(database, queries),
            })  # fmt: skip

    def median(measure) -> float:  # type: ignore[no-untyped-def]
        return statistics.median(measure(r) for r in rounds)

    share = median(lambda r: r["full"] - r["main"])
    print(f"{args.assets} `duckdb.sql` table assets x 5 column checks ({len(queries)} check tasks), "
          f"`bruin run --workers {args.workers}`, medians of {args.repeat} rounds.\n")  # fmt: skip
    print("| measured | median |")
    print("|---|---|")
    print(f"| `bruin run` (assets and checks) | {median(lambda r: r['full']):.2f} s |")
    print(f"| `bruin run --only main` | {median(lambda r: r['main']):.2f} s |")
    print(f"| checks' share of the full run (full - main) | {share:.2f} s "
          f"({median(lambda r: (r['full'] - r['main']) / r['full']):.0%}), {share / len(queries) * 1000:.1f} ms "
          "per check |")  # fmt: skip
    print(f"| `bruin run --only checks` | {median(lambda r: r['checks']):.2f} s |")
    serial_share = median(lambda r: r["serial_checks"] / r["serial_run"])
    serial_checks, serial_run = median(lambda r: r["serial_checks"]), median(lambda r: r["serial_run"])
    print(f"| `--workers 1`: the checks' share of the run, from its manifest | {serial_checks:.2f} s of "
          f"{serial_run:.2f} s ({serial_share:.0%}) |")  # fmt: skip
    plain = median(lambda r: r["plain"])
    print(f"| plain script: the same {len(queries)} queries, 1 connection, serial | {plain:.2f} s |")
    print(f"| the queries alone, in process | {median(lambda r: r['inside']):.2f} s |")
    print(f"| ratio `--only checks` / plain script | {median(lambda r: r['checks'] / r['plain']):.2f}x |")
    print(f"| ratio checks' share / plain script | {median(lambda r: (r['full'] - r['main']) / r['plain']):.2f}x |")
    print(f"| ratio `--workers 1` check time / the queries alone | "
          f"{median(lambda r: r['serial_checks'] / r['inside']):.2f}x |")


if __name__ == "__main__":
    main()
