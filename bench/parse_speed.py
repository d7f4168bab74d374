"""How fast do `bruin internal parse-pipeline` and `parse-asset` answer the VS Code extension?

The extension waits 300 ms for `parse-pipeline <pipeline.yml>` and calls `parse-asset` on every file it
opens. Pipelines of 100 and 1,000 assets (a third each SQL with columns and checks, Python with secrets,
and `*.asset.yml`, each depending on an earlier one) are parsed by `bruin` as a subprocess, as the
extension runs it; each time is the median of `--repeat` runs after a warm-up, reported with its ratio to
`python -c pass`. pybruin's modules are byte-compiled first, as an installed package is (the
environment may say PYTHONDONTWRITEBYTECODE, which would otherwise make every run compile them).
Asserts nothing.

Usage: .venv/bin/python bench/parse_speed.py [--repeat 11]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BRUIN = str(Path(sys.executable).with_name("bruin"))
SQL = """/* @bruin
name: s.t{i}
type: duckdb.sql
materialization:
  type: table
depends:
  - {upstream}
columns:
  - name: id
    type: integer
    checks:
      - name: not_null
@bruin */

SELECT {i} AS id
"""
PYTHON = '''""" @bruin
name: py{i}
depends: [{upstream}]
secrets:
  - key: KEY{i}
    inject_as: VALUE
@bruin """
print("asset {i}")
'''
YAML = "name: y.a{i}\ntype: ingestr\ndepends: [{upstream}]\nparameters:\n  source_table: t{i}\n  destination: duckdb\n"


def make_pipeline(root: Path, count: int) -> Path:
    pipeline = root / f"p{count}"
    (pipeline / "assets").mkdir(parents=True)
    (pipeline / "pipeline.yml").write_text(f"name: p{count}\nschedule: daily\n")
    names = []
    for i in range(count):
        kind = i % 3
        upstream = names[i - 1] if i else "external.root"
        name, text, file = {
            0: (f"s.t{i}", SQL, f"t{i}.sql"),
            1: (f"py{i}", PYTHON, f"py{i}.py"),
            2: (f"y.a{i}", YAML, f"a{i}.asset.yml"),
        }[kind]
        (pipeline / "assets" / file).write_text(text.format(i=i, upstream=upstream))
        names.append(name)
    return pipeline


def timed(argv: list[str], cwd: Path, repeat: int) -> float:
    subprocess.run(argv, cwd=cwd, capture_output=True, check=True)  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True)
        samples.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:])
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=11)
    repeat = parser.parse_args().repeat
    package = Path(__file__).parents[1] / "src" / "pybruin"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        floor = timed([sys.executable, "-c", "pass"], root, repeat)
        print(f"python -c pass: {floor * 1000:.1f} ms")
        for count in (100, 1000):
            pipeline = make_pipeline(root, count)
            for label, argv in (
                ("parse-pipeline pipeline.yml", [BRUIN, "internal", "parse-pipeline", str(pipeline / "pipeline.yml")]),
                ("parse-asset (SQL)", [BRUIN, "internal", "parse-asset", str(pipeline / "assets" / "t0.sql")]),
            ):
                seconds = timed(argv, root, repeat)
                print(
                    f"{count:>5} assets, {label:<28} {seconds * 1000:7.1f} ms  ({seconds / floor:5.1f}x python -c pass)"
                )


if __name__ == "__main__":
    main()
