"""A run's per-run credentials: obtained when it starts, renewed while it lasts, revoked when it ends.

Some connections get a fresh database user for every run (see :mod:`pybruin.secrets.leases`). The run
owns those users' leases: :meth:`RunLeases.take` asks the store for one as soon as its connection has
been read, before any asset that needs it starts (assets that need other connections do not wait), a
background thread renews each one when two thirds of its time to live have passed, and
:meth:`RunLeases.close` revokes them all, on the way out of the run whatever ended it: success,
failure, Ctrl-C or SIGTERM (both arrive as ``KeyboardInterrupt`` and unwind through the session's
``with`` block). Ctrl-C and SIGTERM are held back while the leases are revoked, so pressing Ctrl-C
twice does not leave users behind. A run killed with SIGKILL cannot revoke anything: its leases end
when their TTL runs out, and the store drops the users then.

Nothing here knows which store issued a lease.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from pybruin.errors import BruinError
from pybruin.records import Record

if TYPE_CHECKING:
    from pybruin.masking import Masker
    from pybruin.run.output import RunOutput
    from pybruin.secrets.view import HeldLease

#: A lease is renewed once this share of the time it was last granted has passed.
RENEW_AT = 2 / 3
#: After a failed renewal, the next try comes after this share of the time left (at least a second).
RETRY_SHARE = 1 / 3


class LeasingStore(Protocol):
    """The store as the run sees it: issues per-run credentials for a connection it has read."""

    def lease(self, name: str) -> HeldLease | None: ...


class _Kept(Record, frozen=False):
    """One lease while the run holds it."""

    held: HeldLease
    #: Seconds the store granted at the last issue or renewal, and when (monotonic clock).
    granted: float
    since: float
    next_renewal: float | None
    renewals: int = 0
    revoked: bool = False

    def record(self) -> dict[str, object]:
        lease = self.held.lease
        return {
            "connection": self.held.name,
            "source": self.held.source,
            "lease_id": lease.lease_id,
            "ttl_seconds": round(lease.ttl),
            "renewable": lease.renewable,
            "renewals": self.renewals,
            "revoked": self.revoked,
        }


class RunLeases:
    """Every lease of one run; use it as a context manager around the run, so that leaving it revokes them."""

    def __init__(
        self,
        output: RunOutput,
        masker: Masker,
        *,
        clock: Callable[[], float] = time.monotonic,
        longest_wait: float | None = None,
    ) -> None:
        """``clock`` tells the time renewals are due by; the renewer waits ``longest_wait`` seconds at most
        before looking at it again (``None``: until the next renewal is due)."""
        self.output = output
        self.masker = masker
        self._now = clock
        self._longest_wait = longest_wait
        self._kept: list[_Kept] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._changed = threading.Event()
        self._renewer: threading.Thread | None = None

    def take(self, store: LeasingStore, name: str) -> None:
        """Issue the per-run credentials of connection ``name`` if it has any (called once it was read, from any
        thread), and keep them fresh. A connection whose credentials cannot be issued fails the assets that need
        it (the store keeps the error for them); the others run."""
        held = store.lease(name)
        if held is None:
            return
        self.masker.protect_connection(held.connection)
        now = self._now()
        lease = held.lease
        with self._lock:
            self._kept.append(_Kept(held, lease.ttl, now, now + lease.ttl * RENEW_AT if lease.renewable else None))
            if lease.renewable and self._renewer is None and not self._stop.is_set():
                self._renewer = threading.Thread(target=self._renew_while_running, name="lease-renewer", daemon=True)
                self._renewer.start()
        self._changed.set()
        self.output.line(
            f"Issued per-run credentials for connection '{name}' by {held.source} "
            f"(lease TTL {_seconds(lease.ttl)}{'' if lease.renewable else ', not renewable'})"
        )

    def records(self) -> list[dict[str, object]]:
        """The manifest's ``leases``: connection, source, lease id, TTL, renewals, revoked — never a credential."""
        with self._lock:
            return [kept.record() for kept in self._kept]

    def close(self) -> None:
        """Stop renewing and revoke every lease; one that cannot be revoked is reported and expires by its TTL."""
        self._stop.set()
        self._changed.set()
        with self._lock:
            renewer = self._renewer
        if renewer is not None:
            renewer.join()
        with _signals_held():
            for kept in self._kept:
                if not kept.revoked:
                    self._revoke(kept)

    def __enter__(self) -> RunLeases:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _revoke(self, kept: _Kept) -> None:
        name = kept.held.name
        try:
            kept.held.lease.revoke()
        except BruinError as err:
            left = max(0.0, kept.since + kept.granted - self._now())
            self.output.line(
                f"Could not revoke the per-run credentials of connection '{name}'; "
                f"they expire by their TTL within {_seconds(left)}: {err}"
            )
            return
        kept.revoked = True
        self.output.line(f"Revoked the per-run credentials of connection '{name}'")

    def _renew_while_running(self) -> None:
        """Until the run ends: sleep until the next renewal is due (or a lease is added), then renew what is due."""
        while not self._stop.is_set():
            with self._lock:
                due = [kept.next_renewal for kept in self._kept if kept.next_renewal is not None]
                kept_now = list(self._kept)
            wait = max(0.0, min(due) - self._now()) if due else None
            if self._longest_wait is not None:
                wait = self._longest_wait if wait is None else min(wait, self._longest_wait)
            self._changed.wait(wait)
            self._changed.clear()
            if self._stop.is_set():
                return
            for kept in kept_now:
                if kept.next_renewal is not None and kept.next_renewal <= self._now():
                    self._renew(kept)

    def _renew(self, kept: _Kept) -> None:
        lease = kept.held.lease
        name = kept.held.name
        now = self._now()
        try:
            granted = lease.renew(lease.ttl)
        except BruinError as err:
            left = kept.since + kept.granted - now
            kept.next_renewal = now + max(1.0, left * RETRY_SHARE) if left > 1.0 else None
            self.output.line(f"Could not renew the per-run credentials of connection '{name}': {err}")
            return
        kept.granted, kept.since, kept.renewals = granted, now, kept.renewals + 1
        if granted < lease.ttl:  # the role's max TTL: no renewal can extend it any further
            kept.next_renewal = None
            self.output.line(
                f"The per-run credentials of connection '{name}' reach their maximum TTL in {_seconds(granted)}"
            )
        else:
            kept.next_renewal = now + granted * RENEW_AT


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while the block runs, then deliver the first one that came.

    Only the main thread receives signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(number)
        if handler is not None:
            previous[number] = signal.signal(number, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if received:
            signal.raise_signal(received[0])


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f}s"
