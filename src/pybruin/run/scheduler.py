"""Runs tasks in dependency order on a bounded pool of workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
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
    """Per-connection caps (`max_concurrent_assets`): one semaphore per connection name."""

    def __init__(self, caps: Mapping[str, int]) -> None:
        self._semaphores = {name: threading.BoundedSemaphore(cap) for name, cap in caps.items()}

    def hold(self, names: Sequence[str]) -> ExitStack:
        """Acquire the caps of `names` in a fixed order, so two tasks never wait on each other."""
        stack = ExitStack()
        for name in sorted(set(names) & self._semaphores.keys()):
            stack.enter_context(self._semaphores[name])
        return stack


def run_tasks(
    order: Sequence[str],
    upstreams: Mapping[str, Sequence[str]],
    run_one: Callable[[str], None],
    *,
    workers: int,
    describe_error: Callable[[BaseException], str],
    on_done: Callable[[TaskResult], None],
) -> dict[str, TaskResult]:
    """Run every task of `order` once its upstreams (within `order`) succeeded.

    A failed task marks everything downstream `upstream_failed`; independent branches keep running.
    `on_done` is called on this thread as each task settles.
    Ready tasks start in `order`, so the pipeline's file order breaks ties.
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
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="asset") as pool:
        while pending or running:
            for name in list(pending):
                if blocked(name):
                    pending.remove(name)
                    results[name] = TaskResult(name, Status.UPSTREAM_FAILED)
                    on_done(results[name])
                elif all(up in results for up in waits_on[name]):
                    pending.remove(name)
                    running.add(pool.submit(attempt, name))
            if not running:
                continue
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                results[result.name] = result
                on_done(result)
    return results
