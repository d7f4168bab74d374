"""One backend read per connection name per run, whoever asks and however often."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from pybruin.config.connections import Connection, GenericConnection
from pybruin.secrets.base import BackendError, SecretsBackend
from pybruin.secrets.cache import ConnectionCache


class CountingBackend(SecretsBackend):
    """Serves generic connections, counts reads per name, and can hold reads until released."""

    name = "counting"

    def __init__(self, missing: frozenset[str] = frozenset(), broken: frozenset[str] = frozenset()) -> None:
        self.missing = missing
        self.broken = broken
        self.reads: Counter[str] = Counter()
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.rendezvous: threading.Barrier | None = None
        self._lock = threading.Lock()

    def get_connection(self, name: str) -> Connection | None:
        with self._lock:
            self.reads[name] += 1
            rendezvous = self.rendezvous if self.reads.total() <= 2 else None
        self.started.set()
        if rendezvous is not None:
            rendezvous.wait()
        assert self.release.wait(timeout=10)
        if name in self.broken:
            raise BackendError(f"failed to read secret '{name}'", kind="denied")
        if name in self.missing:
            return None
        return GenericConnection(name=name, value=f"value of {name}")


def test_concurrent_requests_for_one_name_share_one_read() -> None:
    backend = CountingBackend()
    backend.release.clear()
    cache = ConnectionCache(backend)
    start = threading.Barrier(11)
    results: list[Connection | None] = []

    def ask() -> None:
        start.wait()
        results.append(cache.get("pg"))

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    start.wait()
    assert backend.started.wait(timeout=10)
    backend.release.set()
    for thread in threads:
        thread.join()
    assert backend.reads == Counter({"pg": 1})
    assert cache.reads == 1
    assert len(results) == 10
    assert all(result is results[0] for result in results)


def test_missing_connections_are_remembered() -> None:
    backend = CountingBackend(missing=frozenset({"gone"}))
    cache = ConnectionCache(backend)
    assert cache.get("gone") is None
    assert cache.get("gone") is None
    assert backend.reads == Counter({"gone": 1})


def test_errors_are_remembered_for_the_run() -> None:
    backend = CountingBackend(broken=frozenset({"pg"}))
    cache = ConnectionCache(backend)
    for _ in range(2):
        with pytest.raises(BackendError) as caught:
            cache.get("pg")
        assert caught.value.kind == "denied"
    assert backend.reads == Counter({"pg": 1})


def test_prefetch_reads_each_distinct_name_once_and_concurrently() -> None:
    backend = CountingBackend(broken=frozenset({"bad"}))
    # The first two reads only finish once both are in flight, so this passes only if
    # prefetch really overlaps them.
    backend.rendezvous = threading.Barrier(2, timeout=10)
    cache = ConnectionCache(backend)
    cache.prefetch(["a", "bad", "a", "b", "bad"], max_workers=2)
    assert backend.reads == Counter({"a": 1, "bad": 1, "b": 1})
    assert cache.reads == 3
    connection = cache.get("a")
    assert isinstance(connection, GenericConnection) and connection.value == "value of a"
    with pytest.raises(BackendError):
        cache.get("bad")
    cache.prefetch(["a", "b"])
    assert backend.reads.total() == 3


def test_prefetch_runs_no_more_reads_at_once_than_allowed() -> None:
    in_flight = 0
    most = 0
    lock = threading.Lock()

    class Tracking(CountingBackend):
        def get_connection(self, name: str) -> Connection | None:
            nonlocal in_flight, most
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            try:
                return super().get_connection(name)
            finally:
                with lock:
                    in_flight -= 1

    cache = ConnectionCache(Tracking())
    cache.prefetch([f"c{i}" for i in range(12)], max_workers=3)
    assert cache.reads == 12
    assert 1 <= most <= 3
