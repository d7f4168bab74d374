"""Per-run memo of backend answers, so each connection is read once however many ask.

Remote stores bill and throttle per read, and a run asks for the same connection from
many assets and threads at once. Errors are remembered too: a denied or broken secret
fails every asset that needs it the same way, without hammering the store again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from pybruin.secrets.base import MAX_CONCURRENT_READS

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.secrets.base import SecretsBackend


class ConnectionCache:
    """One read per connection name per run, shared across threads (single flight)."""

    def __init__(self, backend: SecretsBackend) -> None:
        self.backend = backend
        self.reads = 0
        self._answers: dict[str, Future[Connection | None]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Connection | None:
        """Return connection ``name``, reading the backend only if nobody has yet.

        Concurrent callers for a name wait for the one read in flight; all of them get
        its result or its :class:`~pybruin.secrets.base.BackendError`.
        """
        with self._lock:
            answer = self._answers.get(name)
            reader = answer is None
            if answer is None:
                answer = self._answers[name] = Future()
                self.reads += 1
        if reader:
            try:
                answer.set_result(self._read(name))
            except BaseException as err:  # waiters must be released whatever the read raised
                answer.set_exception(err)
        return answer.result()

    def _read(self, name: str) -> Connection | None:
        """One read, given up on at the store's wall-clock deadline.

        A client's own timeouts bound each wait on a socket, not a body that trickles in one byte at a time;
        so the read runs on a thread of its own, and when the deadline passes the run goes on without it
        (the thread ends with its socket, or with the process).
        """
        deadline = self.backend.read_deadline
        if deadline is None:
            return self.backend.get_connection(name)
        result: Future[Connection | None] = Future()

        def read() -> None:
            try:
                result.set_result(self.backend.get_connection(name))
            except BaseException as err:
                result.set_exception(err)

        threading.Thread(target=read, name=f"read-{self.backend.name}", daemon=True).start()
        try:
            return result.result(timeout=deadline)
        except TimeoutError:
            raise self.backend.deadline_error(name) from None

    def prefetch(
        self,
        names: Iterable[str],
        max_workers: int = MAX_CONCURRENT_READS,
        *,
        on_read: Callable[[str], None] | None = None,
        wait: bool = True,
    ) -> None:
        """Read the distinct ``names`` concurrently, at most ``max_workers`` at a time.

        Failures are kept for :meth:`get` to raise where the connection is needed. ``on_read`` is called
        with each name once its answer (or failure) is in, from the reading thread; at once for names read
        before. With ``wait=False`` this returns at once and the reads go on in the background.
        """
        wanted = list(dict.fromkeys(names))
        with self._lock:
            pending = [name for name in wanted if name not in self._answers]
        done_before = [name for name in wanted if name not in pending]
        if on_read is not None:
            for name in done_before:
                self._answers[name].add_done_callback(lambda _, name=name: on_read(name))
        if not pending:
            return
        pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(pending))), thread_name_prefix="prefetch")
        for name in pending:
            future = pool.submit(self.get, name)
            if on_read is not None:
                future.add_done_callback(lambda _, name=name: on_read(name))
        pool.shutdown(wait=wait)
