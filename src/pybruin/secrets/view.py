"""A command's view of the store it opened: one read per name, and where each answer came from.

Commands ask it for connections by name and get each one with its source, the label users
see (``.bruin.yml`` or the store's name, a chain's member that had it). It knows nothing
of assets: what a run does with a connection is the run's business.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from pybruin.records import Record
from pybruin.secrets.base import BackendError
from pybruin.secrets.cache import ConnectionCache
from pybruin.secrets.chain import MemberError
from pybruin.secrets.registry import DEFAULT_STORE, credential_values, sdk_credentials

if TYPE_CHECKING:
    from pathlib import Path

    from pybruin.config.connections import Connection
    from pybruin.secrets.base import SecretsBackend
    from pybruin.secrets.leases import Lease

#: How answers from ``.bruin.yml`` are labelled: by the file, not the store's name.
LOCAL_SOURCE = ".bruin.yml"


class Resolved(Record):
    """A connection and the store that answered for it (`.bruin.yml` or a backend's name)."""

    connection: Connection
    source: str


class HeldLease(Record):
    """Per-run credentials of connection ``name`` from ``source``: the connection carrying them, and the lease
    that is now its holder's to renew and revoke."""

    name: str
    source: str
    connection: Connection
    lease: Lease


def source_label(store_name: str) -> str:
    """How a store is named to users: the local store is the file it reads."""
    return LOCAL_SOURCE if store_name == DEFAULT_STORE else store_name


def describe_missing(name: str, backend_name: str | None, config_path: Path, environment_name: str) -> str:
    """Say where connection ``name`` was looked for, so users know which store to fix."""
    backend = (backend_name or "").strip()
    if backend and backend != DEFAULT_STORE:
        return f"connection '{name}' not found in secrets backend '{backend}'"
    return f"connection '{name}' not found in config file '{config_path}' under environment '{environment_name}'"


class StoreView:
    """The opened store, read through a per-run :class:`ConnectionCache` (one read per name, single flight)."""

    def __init__(
        self, store: SecretsBackend, *, config_path: Path, environment_name: str, environ: Mapping[str, str]
    ) -> None:
        self._store = store
        self._cache = ConnectionCache(store)
        self._config_path = config_path
        self._environment_name = environment_name
        self._environ = environ
        self._issued: dict[str, Resolved] = {}
        self._issue_failures: dict[str, BackendError] = {}

    @property
    def store_name(self) -> str:
        """``local``, a store's name, or a chain's members in order (``vault,aws``)."""
        return self._store.name

    @property
    def is_config_file(self) -> bool:
        """Whether the store is the ``.bruin.yml`` environment itself, so its connections need no lookup."""
        return self._store.is_config_file

    @property
    def sdk_credentials(self) -> frozenset[str]:
        """The SDK credential variables that are pybruin's own while this store is selected."""
        return sdk_credentials(self.store_name)

    def get(self, name: str) -> Resolved | None:
        """Connection ``name`` and who answered; ``None`` when no store has it.

        Raises :class:`~pybruin.secrets.base.BackendError` when a store cannot answer, or could not
        issue the per-run credentials :meth:`lease` asked for.
        """
        issued = self._issued.get(name)
        if issued is not None:
            return issued
        failure = self._issue_failures.get(name)
        if failure is not None:
            raise copy.copy(failure)
        connection = self._cache.get(name)
        if connection is None:
            return None
        return Resolved(connection, source_label(self._store.answered_by(name) or self.store_name))

    def prefetch(
        self, names: Iterable[str], *, on_read: Callable[[str], None] | None = None, wait: bool = True
    ) -> None:
        """Read the distinct ``names`` concurrently; failures are kept for :meth:`get` to raise. ``on_read``
        hears of each name as its answer comes in; ``wait=False`` returns at once (see ``ConnectionCache``)."""
        self._cache.prefetch(names, on_read=on_read, wait=wait)

    def lease(self, name: str) -> HeldLease | None:
        """Issue the per-run credentials of connection ``name``, if it has any; the caller holds the lease.

        From then on :meth:`get` answers with the connection carrying them. ``None`` when the
        connection's credentials are fixed, or when it cannot be read at all (:meth:`get` says why).
        A failure to issue is kept for :meth:`get` to raise, so only what needs the connection fails.
        """
        try:
            resolved = self.get(name)
        except BackendError:
            return None
        if resolved is None or name in self._issued:
            return None
        try:
            leased = self._store.lease(name)
        except BackendError as err:
            self._issue_failures[name] = err
            return None
        if leased is None:
            return None
        self._issued[name] = Resolved(leased.connection, resolved.source)
        return HeldLease(name, resolved.source, leased.connection, leased.lease)

    def describe_lease(self, name: str) -> str | None:
        """Where the per-run credentials of ``name`` would come from, checked without issuing any.

        ``None`` for fixed credentials; raises :class:`~pybruin.secrets.base.BackendError` when they could
        not be issued.
        """
        return self._store.describe_lease(name)

    def missing_message(self, name: str) -> str:
        """The one-line error for a connection no store has."""
        return describe_missing(name, self.store_name, self._config_path, self._environment_name)

    def not_found_message(self, name: str) -> str | None:
        """The store's own message for a name it does not have (``None`` for ``.bruin.yml``)."""
        return self._store.not_found_message(name)

    def shadowed(self, name: str) -> list[str]:
        """The sources after the answering one that also hold ``name``; ``[]`` unless the store is a chain."""
        return [source_label(store) for store in self._store.shadowed(name)]

    def failure_source(self, error: BackendError) -> str:
        """The source that raised ``error``: a chain's member, else this store."""
        return source_label(error.backend if isinstance(error, MemberError) else self.store_name)

    def credential_values(self) -> list[str]:
        """The values pybruin masks for its own credentials: secret-valued settings and this store's SDK credentials."""
        return credential_values(self._environ, self.store_name)

    def close(self) -> None:
        self._store.close()
