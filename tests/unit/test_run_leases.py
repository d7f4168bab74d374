"""RunLeases: what the run does with per-run credentials — take, renew on schedule, revoke on the way out.

The store is a stand-in here (the real OpenBao cycle is in tests/e2e/test_dynamic_credentials.py); the clock
is the test's, so renewals happen when the test says time has passed, not after real waiting.
"""

from __future__ import annotations

import io
import signal
import threading
from collections.abc import Iterable

import pytest

from pybruin.config.connections import PostgresConnection
from pybruin.masking import Masker
from pybruin.run.leases import RunLeases
from pybruin.run.output import RunOutput
from pybruin.secrets.base import BackendError
from pybruin.secrets.leases import Lease
from pybruin.secrets.view import HeldLease

PASSWORD = "per-run-password-4f1e"


class FakeLease(Lease):
    def __init__(self, ttl: float, *, renewable: bool = True, grants: Iterable[float | BackendError] = ()) -> None:
        self.lease_id = "database/creds/etl/abc"
        self.ttl = ttl
        self.renewable = renewable
        self.grants = list(grants)
        self.renewed = threading.Event()
        self.renewals: list[float] = []
        self.revoked = 0
        self.revoke_error: BackendError | None = None

    def renew(self, increment: float) -> float:
        self.renewals.append(increment)
        grant = self.grants.pop(0) if self.grants else increment
        self.renewed.set()
        if isinstance(grant, BackendError):
            raise grant
        return grant

    def revoke(self) -> None:
        self.revoked += 1
        if self.revoke_error is not None:
            raise self.revoke_error


class FakeStore:
    def __init__(self, leases: dict[str, FakeLease]) -> None:
        self.leases = leases

    def lease(self, name: str) -> HeldLease | None:
        lease = self.leases.get(name)
        if lease is None:
            return None
        connection = PostgresConnection(name=name, username="v-etl-1", password=PASSWORD)
        return HeldLease(name, "vault", connection, lease)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def terminal() -> io.BytesIO:
    return io.BytesIO()


def keeper(terminal: io.BytesIO, clock: Clock) -> tuple[RunLeases, Masker]:
    masker = Masker()
    output = RunOutput(masker, terminal, timestamps=False)
    return RunLeases(output, masker, clock=clock, longest_wait=0.005), masker


def wait_for_renewal(lease: FakeLease) -> None:
    assert lease.renewed.wait(10), "no renewal"
    lease.renewed.clear()


def test_obtains_masks_and_revokes(terminal: io.BytesIO) -> None:
    lease = FakeLease(3600)
    store = FakeStore({"warehouse": lease})
    leases, masker = keeper(terminal, Clock())

    with leases:
        for name in ("warehouse", "api"):
            leases.take(store, name)
        assert masker.mask(f"pw={PASSWORD}") == "pw=****"

    assert lease.revoked == 1
    assert terminal.getvalue().decode().splitlines() == [
        "Issued per-run credentials for connection 'warehouse' by vault (lease TTL 3600s)",
        "Revoked the per-run credentials of connection 'warehouse'",
    ]
    assert leases.records() == [
        {
            "connection": "warehouse", "source": "vault", "lease_id": "database/creds/etl/abc", "ttl_seconds": 3600,
            "renewable": True, "renewals": 0, "revoked": True,
        }
    ]  # fmt: skip


def test_revokes_when_the_run_is_interrupted(terminal: io.BytesIO) -> None:
    lease = FakeLease(60)
    leases, _ = keeper(terminal, Clock())

    with pytest.raises(KeyboardInterrupt), leases:
        leases.take(FakeStore({"warehouse": lease}), "warehouse")
        raise KeyboardInterrupt

    assert lease.revoked == 1


def test_renews_after_two_thirds_of_the_ttl_with_the_original_increment(terminal: io.BytesIO) -> None:
    lease = FakeLease(90)
    clock = Clock()
    leases, _ = keeper(terminal, clock)
    with leases:
        leases.take(FakeStore({"warehouse": lease}), "warehouse")
        clock.now += 61
        wait_for_renewal(lease)
        clock.now += 61
        wait_for_renewal(lease)
    assert lease.renewals == [90, 90]
    assert leases.records()[0]["renewals"] == 2


def test_a_capped_renewal_stops_renewing_and_says_so(terminal: io.BytesIO) -> None:
    lease = FakeLease(90, grants=[30])
    clock = Clock()
    leases, _ = keeper(terminal, clock)
    with leases:
        leases.take(FakeStore({"warehouse": lease}), "warehouse")
        clock.now += 61
        wait_for_renewal(lease)
        clock.now += 1000
    assert lease.renewals == [90]
    capped = "The per-run credentials of connection 'warehouse' reach their maximum TTL in 30s"
    assert capped in terminal.getvalue().decode()


def test_a_failed_renewal_is_reported_and_tried_again(terminal: io.BytesIO) -> None:
    lease = FakeLease(90, grants=[BackendError("failed to renew the lease of connection 'warehouse': down")])
    clock = Clock()
    leases, _ = keeper(terminal, clock)
    with leases:
        leases.take(FakeStore({"warehouse": lease}), "warehouse")
        clock.now += 61
        wait_for_renewal(lease)
        clock.now += 11
        wait_for_renewal(lease)
    assert lease.renewals == [90, 90]
    output = terminal.getvalue().decode()
    assert "Could not renew the per-run credentials of connection 'warehouse': failed to renew the lease" in output


def test_a_lease_that_is_not_renewable_is_left_to_expire(terminal: io.BytesIO) -> None:
    lease = FakeLease(90, renewable=False)
    clock = Clock()
    leases, _ = keeper(terminal, clock)
    with leases:
        leases.take(FakeStore({"warehouse": lease}), "warehouse")
        assert leases._renewer is None
    assert lease.renewals == [] and lease.revoked == 1
    assert "(lease TTL 90s, not renewable)" in terminal.getvalue().decode()


def test_a_lease_that_cannot_be_revoked_says_when_it_expires(terminal: io.BytesIO) -> None:
    lease = FakeLease(3600)
    lease.revoke_error = BackendError("failed to revoke the lease of connection 'warehouse': Vault returned HTTP 503")
    clock = Clock()
    leases, _ = keeper(terminal, clock)
    with leases:
        leases.take(FakeStore({"warehouse": lease}), "warehouse")
        clock.now += 600
    assert leases.records()[0]["revoked"] is False
    assert (
        "Could not revoke the per-run credentials of connection 'warehouse'; they expire by their TTL within 3000s: "
        "failed to revoke the lease" in terminal.getvalue().decode()
    )


def test_ctrl_c_and_sigterm_wait_until_every_lease_is_revoked(terminal: io.BytesIO) -> None:
    interrupted: list[int] = []

    class Interrupting(FakeLease):
        def revoke(self) -> None:
            signal.raise_signal(signal.SIGINT)  # a second Ctrl-C while revoking
            signal.raise_signal(signal.SIGTERM)
            super().revoke()

    first, second = Interrupting(60), FakeLease(60)
    leases, _ = keeper(terminal, Clock())
    store = FakeStore({"a": first, "b": second})
    for name in ("a", "b"):
        leases.take(store, name)
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: interrupted.append(signum))
    try:
        with pytest.raises(KeyboardInterrupt):
            leases.close()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (first.revoked, second.revoked) == (1, 1), "a signal cut the revocation short"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
