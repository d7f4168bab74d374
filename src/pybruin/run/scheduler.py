"""Runs tasks in dependency order on a bounded pool of workers."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"


@dataclass
class TaskResult:
    name: str
    status: Status
    duration: float = 0.0
    error: str | None = None


class Limits:
    """Per-connection caps (`max_concurrent_assets`), counted by the scheduler before a task starts.

    A task is only handed to a worker once every capped connection it uses has room, so a task waiting
    for a connection never occupies a worker that an independent task could use.
    """

    def __init__(self, caps: Mapping[str, int], uses: Mapping[str, Sequence[str]]) -> None:
        self._free = dict(caps)
        self._capped = {task: sorted(set(names) & self._free.keys()) for task, names in uses.items()}

    def take(self, task: str) -> bool:
        """Reserve a slot on each capped connection `task` uses; False, reserving nothing, if one is full."""
        names = self._capped.get(task, ())
        if any(self._free[name] == 0 for name in names):
            return False
        for name in names:
            self._free[name] -= 1
        return True

    def give_back(self, task: str) -> None:
        for name in self._capped.get(task, ()):
            self._free[name] += 1


def run_tasks(
    order: Sequence[str],
    upstreams: Mapping[str, Sequence[str]],
    run_one: Callable[[str], None],
    *,
    workers: int,
    limits: Limits,
    describe_error: Callable[[BaseException], str],
    on_done: Callable[[TaskResult], None],
    stop: Callable[[], None],
) -> dict[str, TaskResult]:
    """Run every task of `order` once its upstreams (within `order`) succeeded.

    A failed task marks everything downstream `upstream_failed`; independent branches keep running.
    `on_done` is called on this thread as each task settles.
    Ready tasks start in `order`, so the pipeline's file order breaks ties.
    When this thread is interrupted (Ctrl-C), tasks not yet started never start, `stop` is asked to end
    the running ones, and the interrupt propagates once they have returned.
    """
    pending = list(order)
    in_run = set(order)
    waits_on = {name: [up for up in upstreams.get(name, ()) if up in in_run] for name in order}
    results: dict[str, TaskResult] = {}

    def attempt(name: str) -> TaskResult:
        started = time.monotonic()
        try:
            run_one(name)
        except Exception as exc:
            return TaskResult(name, Status.FAILED, time.monotonic() - started, describe_error(exc))
        return TaskResult(name, Status.SUCCEEDED, time.monotonic() - started)

    def blocked(name: str) -> bool:
        return any(up in results and results[up].status is not Status.SUCCEEDED for up in waits_on[name])

    running: set[Future[TaskResult]] = set()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="asset")
    try:
        while pending or running:
            for name in list(pending):
                if blocked(name):
                    pending.remove(name)
                    results[name] = TaskResult(name, Status.UPSTREAM_FAILED)
                    on_done(results[name])
                elif all(up in results for up in waits_on[name]) and limits.take(name):
                    pending.remove(name)
                    running.add(pool.submit(attempt, name))
            if not running:
                continue
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                limits.give_back(result.name)
                results[result.name] = result
                on_done(result)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        stop()
        raise
    finally:
        pool.shutdown(wait=True)
    return results
