"""Runs tasks in dependency order on a bounded pool of workers, in time linear in tasks plus edges.

Each task keeps a count of the upstreams it still waits for; when one settles, only its dependents are
looked at. Ready tasks wait in a heap keyed by their position in the plan, so among ready tasks the
pipeline's file order wins, and at most `workers` run at once. A task whose connection is at its
`max_concurrent_assets` cap is parked on that connection and comes back when a slot frees up, without
occupying a worker meanwhile.
"""

from __future__ import annotations

import heapq
import queue
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

from pybruin.records import Record


class Status(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"


class TaskResult(Record, frozen=False):
    """How one task ended: its status, how long it ran, and its error line when it failed."""

    name: str
    status: Status
    duration: float = 0.0
    error: str | None = None


class Limits:
    """Per-connection caps (`max_concurrent_assets`), counted by the scheduler before a task starts.

    `caps` is a mapping, or a function asked once per connection the first time a task using it may start
    (by then the connection has been read, so its cap is known); None or 0 means no cap.
    """

    def __init__(
        self, caps: Mapping[str, int] | Callable[[str], int | None], uses: Mapping[str, Sequence[str]]
    ) -> None:
        self._cap = caps.get if isinstance(caps, Mapping) else caps
        self._free: dict[str, int | None] = {}
        self._uses = {task: sorted(set(names)) for task, names in uses.items()}

    def full(self, task: str) -> str | None:
        """A capped connection of `task` with no slot left, or None when it may start."""
        return next((name for name in self._uses.get(task, ()) if self._slots(name) == 0), None)

    def take(self, task: str) -> None:
        for name in self._capped(task):
            self._free[name] -= 1  # type: ignore[operator]

    def give_back(self, task: str) -> Sequence[str]:
        """Return `task`'s slots; the connections it used, whose parked tasks may now start."""
        names = self._capped(task)
        for name in names:
            self._free[name] += 1  # type: ignore[operator]
        return names

    def _capped(self, task: str) -> list[str]:
        return [name for name in self._uses.get(task, ()) if self._slots(name) is not None]

    def _slots(self, name: str) -> int | None:
        if name not in self._free:
            self._free[name] = self._cap(name) or None
        return self._free[name]


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
    refused: Mapping[str, str] | None = None,
    held: Collection[str] = (),
    watch: Callable[[Callable[[str], None]], None] | None = None,
) -> dict[str, TaskResult]:
    """Run every task of `order` once its upstreams (within `order`) succeeded.

    A failed task marks everything downstream `upstream_failed`; independent branches keep running.
    `refused` tasks fail with the given error before anything starts. `held` tasks also wait to be released:
    `watch` is called once, before anything starts, with the function (callable from any thread) that
    releases one, such as when the secrets it needs have been read. `on_done` is called on this thread
    as each task settles. When this thread is interrupted (Ctrl-C), tasks not yet started never start,
    `stop` is asked to end the running ones, and the interrupt propagates once they have returned.
    """
    position = {name: index for index, name in enumerate(order)}
    waiting = dict.fromkeys(order, 0)
    unreleased = {name for name in held if name in position}
    for name in unreleased:
        waiting[name] += 1
    dependents: dict[str, list[str]] = {name: [] for name in order}
    for name in order:
        for up in dict.fromkeys(upstreams.get(name, ())):
            if up in position:
                waiting[name] += 1
                dependents[up].append(name)
    results: dict[str, TaskResult] = {}

    def settle(result: TaskResult) -> None:
        results[result.name] = result
        unreleased.discard(result.name)  # a release that comes later is ignored
        on_done(result)
        if result.status is Status.SUCCEEDED:
            for dependent in dependents[result.name]:
                waiting[dependent] -= 1
                if waiting[dependent] == 0 and dependent not in results:
                    heapq.heappush(ready, position[dependent])
            return
        pending = list(dependents[result.name])
        while pending:
            dependent = pending.pop()
            if dependent not in results:
                results[dependent] = TaskResult(dependent, Status.UPSTREAM_FAILED)
                unreleased.discard(dependent)
                on_done(results[dependent])
                pending.extend(dependents[dependent])

    ready: list[int] = []
    for name, error in (refused or {}).items():
        if name in position and name not in results:
            settle(TaskResult(name, Status.FAILED, 0.0, error))
    ready.extend(position[name] for name in order if waiting[name] == 0 and name not in results)
    heapq.heapify(ready)
    parked: dict[str, list[int]] = {}
    finished: queue.SimpleQueue[TaskResult | str] = queue.SimpleQueue()  # a result, or the name of a release

    def attempt(name: str) -> None:
        started = time.monotonic()
        try:
            run_one(name)
        except Exception as exc:
            finished.put(TaskResult(name, Status.FAILED, time.monotonic() - started, describe_error(exc)))
        else:
            finished.put(TaskResult(name, Status.SUCCEEDED, time.monotonic() - started))

    running = 0  # submitted tasks whose result has not been taken from `finished` yet
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="asset")
    try:
        if watch is not None and unreleased:
            watch(finished.put)
        while True:
            while ready and running < workers:
                name = order[heapq.heappop(ready)]
                full = limits.full(name)
                if full is not None:
                    heapq.heappush(parked.setdefault(full, []), position[name])
                    continue
                limits.take(name)
                pool.submit(attempt, name)
                running += 1
            if not running and not unreleased:
                break
            result = finished.get()
            if isinstance(result, str):
                if result in unreleased:
                    unreleased.discard(result)
                    waiting[result] -= 1
                    if waiting[result] == 0 and result not in results:
                        heapq.heappush(ready, position[result])
                continue
            running -= 1
            for connection in limits.give_back(result.name):
                if parked.get(connection):
                    heapq.heappush(ready, heapq.heappop(parked[connection]))
            settle(result)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        stop()
        raise
    finally:
        pool.shutdown(wait=True)
    return results
