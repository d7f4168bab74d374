"""Per-run memo of backend answers, so each connection is read once however many ask.

Remote stores bill and throttle per read, and a run asks for the same connection from
many assets and threads at once. Errors are remembered too: a denied or broken secret
fails every asset that needs it the same way, without hammering the store again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
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
                answer.set_result(self.backend.get_connection(name))
            except BaseException as err:  # waiters must be released whatever the read raised
                answer.set_exception(err)
        return answer.result()

    def prefetch(self, names: Iterable[str], max_workers: int = MAX_CONCURRENT_READS) -> None:
        """Read the distinct ``names`` concurrently, at most ``max_workers`` at a time.

        Failures are kept for :meth:`get` to raise where the connection is needed.
        """
        with self._lock:
            pending = [name for name in dict.fromkeys(names) if name not in self._answers]
        if not pending:
            return
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(pending)))) as pool:
            for future in [pool.submit(self.get, name) for name in pending]:
                future.exception()
