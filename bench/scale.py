"""Does `bruin run` stay linear in the number of assets?

Chains (each asset depends on the one before it) and fan-outs (one root, every other asset depends on it) of
1,000 and 10,000 `empty` assets, and 1,000 trivial Python assets, each run by `bruin run --workers 2` as a
subprocess. Reports the wall time of each and the cost per asset beyond a 1-asset run; the goal is that a
10,000-asset chain costs at most 1.3x ten 1,000-asset chains. Also the time from starting `bruin run` on a
1-asset Python pipeline to its first asset process (read from the asset's own first line, so it includes that
process's interpreter start), against a bare `python -c pass` measured in the same run. Asserts nothing.

Usage: .venv/bin/python bench/scale.py [--repeat 3] [--skip-10k]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BRUIN = str(Path(sys.executable).with_name("bruin"))
EMPTY = '""" @bruin\nname: {name}\ntype: empty\n{depends}@bruin """\n'
PYTHON = '""" @bruin\nname: {name}\n{depends}@bruin """\n'
FIRST_POPEN = '""" @bruin\nname: probe\n@bruin """\nimport time\nprint(time.time())\n'


def make_pipeline(root: Path, name: str, count: int, shape: str, template: str) -> Path:
    pipeline = root / name
    (pipeline / "assets").mkdir(parents=True)
    (pipeline / "pipeline.yml").write_text(f"name: {name}\n")
    for i in range(count):
        upstream = None if i == 0 else (f"a{i - 1:05d}" if shape == "chain" else "a00000")
        depends = f"depends: [{upstream}]\n" if upstream else ""
        (pipeline / "assets" / f"a{i:05d}.py").write_text(template.format(name=f"a{i:05d}", depends=depends))
    return pipeline


def bruin_run(root: Path, pipeline: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [BRUIN, "run", "--workers", "2", "--no-log-file", str(pipeline)], cwd=root, env=env, capture_output=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:])
    return elapsed


def first_popen(root: Path, pipeline: Path, env: dict[str, str]) -> float:
    """Seconds from starting `bruin run` to the asset process's first line of code."""
    started = time.time()
    done = subprocess.run(
        [BRUIN, "run", "--no-log-file", "--no-timestamp", str(pipeline)], cwd=root, env=env, capture_output=True
    )
    line = next(line for line in done.stdout.decode().splitlines() if line.startswith("[probe] >> "))
    return float(line.removeprefix("[probe] >> ")) - started


def bare_interpreter(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - started


def median(action, repeat: int) -> float:
    action()  # warm-up: page cache, __pycache__
    return statistics.median(action() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-10k", action="store_true", help="leave out the 10,000-asset pipelines")
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    root = Path(tempfile.mkdtemp(prefix="pybruin-scale-"))
    try:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        (root / ".bruin.yml").write_text("environments:\n  default:\n    connections: {}\n")
        cases = [("one", 1, "chain", EMPTY), ("chain_1k", 1_000, "chain", EMPTY), ("fan_1k", 1_000, "fan", EMPTY)]
        if not args.skip_10k:
            cases += [("chain_10k", 10_000, "chain", EMPTY), ("fan_10k", 10_000, "fan", EMPTY)]
        cases.append(("python_1k", 1_000, "fan", PYTHON))
        times = {}
        for name, count, shape, template in cases:
            pipeline = make_pipeline(root, name, count, shape, template)
            times[name] = median(lambda pipeline=pipeline: bruin_run(root, pipeline, env), args.repeat)
        probe = root / "probe"
        (probe / "assets").mkdir(parents=True)
        (probe / "pipeline.yml").write_text("name: probe\n")
        (probe / "assets" / "probe.py").write_text(FIRST_POPEN)
        popen = median(lambda: first_popen(root, probe, env), max(args.repeat, 5))
        bare = median(lambda: bare_interpreter(env), max(args.repeat, 5))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    counts = {name: count for name, count, _, _ in cases}
    print(f"bruin run --workers 2, median of {args.repeat} after a warm-up")
    print("| pipeline | assets | wall | per asset beyond a 1-asset run |")
    print("|---|---|---|---|")
    for name, seconds in times.items():
        extra = (seconds - times["one"]) / (counts[name] - 1) * 1000 if counts[name] > 1 else 0.0
        print(f"| {name} | {counts[name]:,} | {seconds:.2f} s | {extra:.2f} ms |")
    if "chain_10k" in times:
        ratio = times["chain_10k"] / (10 * times["chain_1k"])
        print(f"10k chain vs ten 1k chains: {ratio:.2f}x (goal <= 1.3)")
    print(
        f"time to the first asset process of a 1-asset run: {popen * 1000:.0f} ms (goal <= 60 ms); "
        f"a bare `python -c pass`: {bare * 1000:.0f} ms ({popen / bare:.1f}x)"
    )


if __name__ == "__main__":
    main()
