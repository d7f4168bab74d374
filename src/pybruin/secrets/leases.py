"""Credentials a store issues for one run and takes back at its end: the store side of a lease.

Most connections hold fixed credentials. A connection whose stored details name a role of a
credential-issuing engine (Vault's or OpenBao's ``database`` secrets engine) gets a fresh database
user per run instead: the store creates it when the run asks (:meth:`SecretsBackend.lease`) and
hands back the connection with that user's ``username`` and ``password`` together with a
:class:`Lease`. Whoever runs the pipeline owns the lease from then on: it renews it while the run
lasts and revokes it when the run ends. Nothing here knows about runs, and nothing that holds a
lease needs to know which store issued it.

A lease that is never revoked (the process was killed with SIGKILL, the machine died) is not
forever: the store revokes it itself once its TTL runs out.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

from pybruin.records import Record

if TYPE_CHECKING:
    from pybruin.config.connections import Connection


class Lease(abc.ABC):
    """One issued credential: its id and time to live, and how to extend or end it.

    ``lease_id`` and ``ttl`` are what an audit trail may record; neither is a credential.
    Both methods raise :class:`~pybruin.secrets.base.BackendError` (never quoting a value) when
    the store cannot do it, and may be called from any thread.
    """

    #: The store's id for the lease (Vault: ``database/creds/<role>/<id>``).
    lease_id: str
    #: Seconds the store granted when it issued the credential.
    ttl: float
    #: Whether the store lets the lease be extended; one that is not expires after ``ttl``.
    renewable: bool

    @abc.abstractmethod
    def renew(self, increment: float) -> float:
        """Ask for ``increment`` more seconds; returns the seconds the store granted (it may cap them)."""

    @abc.abstractmethod
    def revoke(self) -> None:
        """End the lease now: the store deletes the credential (Vault drops the database user)."""


class Leased(Record):
    """What a store returns for a connection with per-run credentials: the connection to use, and its lease."""

    connection: Connection
    lease: Lease
