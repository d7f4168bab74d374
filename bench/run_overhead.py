"""How much does `bruin run` cost on top of spawning the asset processes themselves?

A pipeline of 100 trivial Python assets, each declaring 3 secrets, run with `--workers 2`, against the floor
measured in the same run: the same 100 `python -c` processes spawned with the same environment and
concurrency. Also `bruin --version` against `python -c pass`.

Usage: .venv/bin/python bench/run_overhead.py [--assets 100] [--repeat 3]
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BRUIN = str(Path(sys.executable).with_name("bruin"))


def make_project(root: Path, assets: int) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    secrets = "\n".join(f"        - name: SECRET_{i}\n          value: secret-value-{i:03d}-abcdefgh" for i in range(3))
    (root / ".bruin.yml").write_text(f"environments:\n  default:\n    connections:\n      generic:\n{secrets}\n")
    pipeline = root / "bench"
    (pipeline / "assets").mkdir(parents=True)
    (pipeline / "pipeline.yml").write_text("name: bench\n")
    for i in range(assets):
        (pipeline / "assets" / f"asset_{i:03d}.py").write_text(
            f'""" @bruin\nname: asset_{i:03d}\nsecrets:\n'
            "  - key: SECRET_0\n  - key: SECRET_1\n    inject_as: RENAMED\n  - key: SECRET_2\n"
            '@bruin """\n'
        )
    return pipeline


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def floor(root: Path, assets: int, workers: int, env: dict[str, str]) -> None:
    """The same number of interpreter spawns, same concurrency, same environment size."""
    child_env = dict(env, SECRET_0="x" * 30, RENAMED="y" * 30, SECRET_2="z" * 30)

    def spawn(_: int) -> None:
        subprocess.run([sys.executable, "-c", "pass"], cwd=root, env=child_env, check=True, capture_output=True)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(spawn, range(assets)))


def bruin_run(root: Path, pipeline: Path, workers: int, env: dict[str, str]) -> None:
    done = subprocess.run(
        [BRUIN, "run", "--workers", str(workers), str(pipeline)], cwd=root, env=env, capture_output=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    tmp = Path(tempfile.mkdtemp(prefix="pybruin-bench-"))
    try:
        pipeline = make_project(tmp, args.assets)
        bruin_run(tmp, pipeline, args.workers, env)  # warm-up: page cache, __pycache__
        floors, runs = [], []
        for _ in range(args.repeat):
            floors.append(timed(lambda: floor(tmp, args.assets, args.workers, env)))
            runs.append(timed(lambda: bruin_run(tmp, pipeline, args.workers, env)))
        version = [timed(lambda: subprocess.run([BRUIN, "--version"], capture_output=True)) for _ in range(20)]
        bare = [timed(lambda: subprocess.run([sys.executable, "-c", "pass"], capture_output=True)) for _ in range(20)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    floor_s, run_s = statistics.median(floors), statistics.median(runs)
    version_s, bare_s = statistics.median(version), statistics.median(bare)
    print(f"{args.assets} assets x 3 secrets, --workers {args.workers}, median of {args.repeat}")
    print(f"  floor (python -c spawns): {floor_s:.3f} s")
    print(f"  bruin run:                {run_s:.3f} s   ratio {run_s / floor_s:.2f} (target <= 1.2)")
    print(
        f"  bruin --version:          {version_s * 1000:.1f} ms  vs python -c pass {bare_s * 1000:.1f} ms"
        f"   ratio {version_s / bare_s:.2f} (target <= 1.5)"
    )


if __name__ == "__main__":
    main()
