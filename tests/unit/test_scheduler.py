"""The scheduler: dependency order with the file-order tie-break, failure propagation, caps, refusals — at
10,000 tasks, so anything worse than linear shows up as a hang rather than a slow test."""

from __future__ import annotations

import threading
import time
from collections import Counter

from pybruin.run.scheduler import Limits, Status, TaskResult, run_tasks

N = 10_000


def run(order, upstreams, run_one=lambda name: None, *, workers=2, limits=None, refused=None):
    settled: list[TaskResult] = []
    results = run_tasks(
        order,
        upstreams,
        run_one,
        workers=workers,
        limits=limits or Limits({}, {}),
        describe_error=str,
        on_done=settled.append,
        stop=lambda: None,
        refused=refused,
    )
    return results, settled


def test_chain_of_ten_thousand_runs_in_order() -> None:
    order = [f"t{i}" for i in range(N)]
    upstreams = {name: [order[i - 1]] if i else [] for i, name in enumerate(order)}
    started: list[str] = []
    results, settled = run(order, upstreams, started.append)
    assert started == order
    assert [result.name for result in settled] == order
    assert all(result.status is Status.SUCCEEDED for result in results.values())


def test_ready_tasks_start_in_file_order_with_one_worker() -> None:
    # Declared out of dependency order: "late" waits for "root" but comes first in the file.
    order = ["late", "root", *[f"f{i}" for i in range(N)]]
    upstreams = {"late": ["root"], **{f"f{i}": ["root"] for i in range(N)}}
    started: list[str] = []
    run(order, upstreams, started.append, workers=1)
    assert started == ["root", "late", *[f"f{i}" for i in range(N)]]


def test_failure_marks_everything_downstream_and_nothing_else() -> None:
    order = [f"t{i}" for i in range(N)]
    # Two chains interleaved: even tasks depend on the previous even one, odd on the previous odd one.
    upstreams = {name: [order[i - 2]] if i >= 2 else [] for i, name in enumerate(order)}

    def run_one(name: str) -> None:
        if name == "t100":
            raise RuntimeError("boom")

    results, settled = run(order, upstreams, run_one)
    assert len(settled) == N
    assert results["t100"] == TaskResult("t100", Status.FAILED, results["t100"].duration, "boom")
    statuses = Counter(result.status for result in results.values())
    upstream_failed = {name for name, result in results.items() if result.status is Status.UPSTREAM_FAILED}
    assert upstream_failed == {f"t{i}" for i in range(102, N, 2)}
    assert statuses[Status.SUCCEEDED] == N - 1 - len(upstream_failed)


def test_refused_tasks_fail_before_anything_runs_and_block_their_downstream() -> None:
    order = ["a", "refused", "b", "c"]
    upstreams = {"b": ["refused"], "c": ["a"]}
    started: list[str] = []
    results, settled = run(order, upstreams, started.append, refused={"refused": "not supported"})
    assert settled[:2] == [
        TaskResult("refused", Status.FAILED, 0.0, "not supported"),
        TaskResult("b", Status.UPSTREAM_FAILED),
    ]
    assert started == ["a", "c"]
    assert results["c"].status is Status.SUCCEEDED


def test_caps_bound_concurrency_per_connection_and_never_block_other_work() -> None:
    order = [f"capped{i}" for i in range(400)] + [f"free{i}" for i in range(4000)]
    uses = {name: ["db"] for name in order if name.startswith("capped")}
    lock = threading.Lock()
    running = Counter()
    most = Counter()

    def run_one(name: str) -> None:
        kind = "db" if name.startswith("capped") else "free"
        with lock:
            running[kind] += 1
            most[kind] = max(most[kind], running[kind])
            if kind == "free" and running["db"]:
                most["free beside capped"] += 1
        if kind == "db":
            time.sleep(0.001)  # long enough for a third capped task to start, were the cap not kept
        with lock:
            running[kind] -= 1

    results, _ = run(order, {}, run_one, workers=8, limits=Limits({"db": 2}, uses))
    assert len(results) == 4400
    assert all(result.status is Status.SUCCEEDED for result in results.values())
    assert most["db"] == 2
    assert most["free beside capped"] > 0  # parked capped tasks hold no worker


def test_fan_out_and_fan_in_at_scale() -> None:
    leaves = [f"leaf{i}" for i in range(N)]
    order = ["root", *leaves, "sink"]
    upstreams = {**{leaf: ["root"] for leaf in leaves}, "sink": leaves}
    started: list[str] = []
    results, _ = run(order, upstreams, started.append, workers=4)
    assert started[0] == "root"
    assert started[-1] == "sink"
    assert results["sink"].status is Status.SUCCEEDED
