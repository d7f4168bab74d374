"""What does masking cost on a loud asset?

One Python asset writes 200 MB of log lines while 100 secrets are registered (100 generic connections in
`.bruin.yml`; every 1000th line carries one of them). The same `bruin run` is timed with masking on (the
default) and with `--mask-credentials=false`, in the same run; the ratio is masked/unmasked throughput.
Peak memory is the largest resident set among the processes waited for (that is `bruin run` itself).

Usage: .venv/bin/python bench/masking.py [--megabytes 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BRUIN = str(Path(sys.executable).with_name("bruin"))

WRITER = '''""" @bruin
name: loud
@bruin """
import os, sys

megabytes = int(os.environ["BENCH_MEGABYTES"])
secrets = [f"bench-secret-{i:03d}-Zq8vK2pLmN" for i in range(100)]
lines = []
for i in range(10_000):
    word = secrets[i // 100] if i % 1000 == 0 else "ok"
    lines.append(f"{i:06d} INFO worker=3 batch=17 rows=1024 status={word} elapsed_ms=12.5 detail=lorem-ipsum-dolor\\n")
block = "".join(lines).encode()
out = sys.stdout.buffer
written = 0
while written < megabytes * 1024 * 1024:
    out.write(block)
    written += len(block)
out.flush()
'''


def make_project(root: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    secrets = "".join(
        f"        - name: S{i:03d}\n          value: bench-secret-{i:03d}-Zq8vK2pLmN\n" for i in range(100)
    )
    (root / ".bruin.yml").write_text(f"environments:\n  default:\n    connections:\n      generic:\n{secrets}")
    pipeline = root / "loud"
    (pipeline / "assets").mkdir(parents=True)
    (pipeline / "pipeline.yml").write_text("name: loud\n")
    (pipeline / "assets" / "loud.py").write_text(WRITER)
    return pipeline


def run(root: Path, pipeline: Path, megabytes: int, *, masked: bool, keep_output: bool = False) -> tuple[float, bytes]:
    """One `bruin run`; output goes to /dev/null (a terminal that keeps up) unless it is to be checked."""
    flag = "--mask-credentials=true" if masked else "--mask-credentials=false"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")} | {"BENCH_MEGABYTES": str(megabytes)}
    sink = subprocess.PIPE if keep_output else subprocess.DEVNULL
    started = time.perf_counter()
    done = subprocess.run(
        [BRUIN, "run", "--no-log-file", flag, str(pipeline)], cwd=root, env=env, stdout=sink, stderr=sink
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bruin run failed with exit code {done.returncode}")
    return elapsed, done.stdout or b""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pybruin-mask-bench-"))
    try:
        pipeline = make_project(tmp)
        _, sample = run(tmp, pipeline, 2, masked=True, keep_output=True)
        if b"bench-secret-" in sample or b"****" not in sample:
            raise SystemExit("masking did not hide the registered secrets")
        unmasked = min(run(tmp, pipeline, args.megabytes, masked=False)[0] for _ in range(args.repeat))
        masked = min(run(tmp, pipeline, args.megabytes, masked=True)[0] for _ in range(args.repeat))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{args.megabytes} MB of output, 100 secrets registered, best of {args.repeat}")
    print(f"  unmasked: {args.megabytes / unmasked:7.1f} MB/s ({unmasked:.2f} s)")
    print(f"  masked:   {args.megabytes / masked:7.1f} MB/s ({masked:.2f} s)")
    print(f"  throughput ratio masked/unmasked: {unmasked / masked:.2f} (goal >= 0.8)")
    print(f"  peak RSS of bruin run: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
