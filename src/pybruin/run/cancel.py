"""How a running task is stopped from another thread: its own timeout, or the whole run being interrupted.

A task registers what stopping it means while it runs (end a process group, cancel a SQL statement); whoever
cancels it first decides why, and every registered action runs once, at once if the task was already cancelled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum


class Why(StrEnum):
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"


class Cancellation:
    """One task's cancel switch; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: Why | None = None
        self._actions: dict[int, Callable[[], None]] = {}
        self._next = 0

    @property
    def reason(self) -> Why | None:
        """Why the task was cancelled; None while it was not."""
        return self._reason

    def cancel(self, reason: Why) -> None:
        """Stop the task: run every registered action (the first reason given is the one kept)."""
        with self._lock:
            if self._reason is None:
                self._reason = reason
            actions = list(self._actions.values())
        for action in actions:
            action()

    @contextmanager
    def on_cancel(self, action: Callable[[], None]) -> Iterator[None]:
        """While the block runs, `cancel` calls `action`; at once if the task is already cancelled."""
        with self._lock:
            key = self._next
            self._next += 1
            self._actions[key] = action
            cancelled = self._reason is not None
        if cancelled:
            action()
        try:
            yield
        finally:
            with self._lock:
                del self._actions[key]


@contextmanager
def deadline(cancellation: Cancellation, seconds: float | None) -> Iterator[None]:
    """Cancel with `Why.TIMEOUT` once the block has run for `seconds` (None: never)."""
    if seconds is None:
        yield
        return
    timer = threading.Timer(seconds, cancellation.cancel, args=(Why.TIMEOUT,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
