"""The interface every secrets backend implements, the error it raises, and how a store declares itself.

A backend answers one question: "what is connection ``name``?". It returns ``None``
when the store simply has no such connection, so callers can say "not found" with
their own context, and raises :class:`BackendError` when it could not answer at all.
The chain queries (:meth:`SecretsBackend.answered_by`, :meth:`SecretsBackend.shadowed`)
have answers for a single store too, so callers never ask which kind they hold.

Each store module ends with a :class:`StoreDeclaration` named ``STORE``: everything
pybruin must know about the store without opening it. ``registry.py`` lists them.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

from pybruin.errors import BruinError
from pybruin.records import Record

if TYPE_CHECKING:
    from pathlib import Path

    from pybruin.config.bruin_yml import Environment
    from pybruin.config.connections import Connection
    from pybruin.secrets.leases import Leased

BackendErrorKind = Literal["denied", "unreachable", "malformed", "wrong_type", "error"]

#: How many secrets a run reads at once. A run's distinct connections then resolve in about two
#: round trips even when there are dozens of them, still far below any store's rate limits;
#: backends size their HTTP connection pools to match so concurrent reads reuse connections.
MAX_CONCURRENT_READS = 32


class BackendError(BruinError):
    """A backend could not answer; ``kind`` lets callers tell a denial from an outage.

    The message names the secret and the backend, never a value or a server's response body.
    """

    kind: BackendErrorKind

    def __init__(self, message: str, kind: BackendErrorKind = "error") -> None:
        super().__init__(message)
        self.kind = kind


class SecretsBackend(abc.ABC):
    """Where connections come from: ``.bruin.yml``, a remote secrets store, or a chain of them."""

    name: str
    #: Whether this store is the selected ``.bruin.yml`` environment itself, so listing the
    #: config's connections needs no lookup.
    is_config_file: bool = False
    #: Seconds one read may take in all, on the wall clock: connecting, retrying and receiving the body (a
    #: server that trickles it one byte at a time included); ``None`` for stores that do not go out.
    read_deadline: float | None = None

    def deadline_error(self, name: str) -> BackendError:
        """The error for a read of ``name`` that did not end within :attr:`read_deadline`."""
        return BackendError(f"failed to read secret '{name}' from {self.name}: no answer in time", "unreachable")

    @abc.abstractmethod
    def get_connection(self, name: str) -> Connection | None:
        """Return connection ``name``; ``None`` if the store has no such connection.

        Raises :class:`BackendError` when the store cannot answer (denied, unreachable,
        malformed secret, unknown connection type).
        """

    def answered_by(self, name: str) -> str | None:
        """The store whose answer a lookup of ``name`` gives: a single store answers for itself.

        A chain names its member holding ``name``, ``None`` when no member does. Costs no read
        beyond the lookup itself, and raises what :meth:`get_connection` raises.
        """
        return self.name

    def shadowed(self, name: str) -> list[str]:
        """Stores that also hold ``name`` but are hidden by the one answering; only a chain has any."""
        return []

    def lease(self, name: str) -> Leased | None:
        """Issue per-run credentials for connection ``name``, already read with :meth:`get_connection`.

        ``None`` when its credentials are fixed (the default: most stores issue nothing). Each call
        creates a new credential, so a run calls it once per connection and owns what it returns
        (see :mod:`pybruin.secrets.leases`). Raises :class:`BackendError` when issuing fails.
        """
        return None

    def describe_lease(self, name: str) -> str | None:
        """Check, without issuing anything, that per-run credentials for ``name`` could be issued.

        Returns where they would come from (``database/creds/etl``), ``None`` when the connection's
        credentials are fixed; raises :class:`BackendError` when they could not be issued.
        """
        return None

    def not_found_message(self, name: str) -> str | None:
        """What the store itself says when it has no ``name`` (upstream logs it before "there's no secret
        with the name ..."), so a user can tell a typo from a missing permission; ``None``: nothing to add."""
        return None

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release network clients; the default holds nothing."""


class StoreContext(Record):
    """What a store may be opened from: the process environment and the loaded ``.bruin.yml``."""

    environ: Mapping[str, str]
    environment: Environment
    config_path: Path


class StoreDeclaration(Record):
    """What pybruin knows about a store before opening it; each store module declares one as ``STORE``.

    ``settings`` are the variables that configure the store and ``settings_prefix`` covers the ones it may
    add later; they are pybruin's configuration, withheld from every asset whichever store is selected.
    ``secret_settings`` are those whose values are secrets (tokens, keys), masked in everything pybruin
    prints. ``sdk_credentials`` are the standard variables the store's SDK authenticates with
    (``AWS_SECRET_ACCESS_KEY``): pybruin's credentials while the store is selected, so assets do not
    inherit them then (an asset that needs cloud access declares a connection for it).
    """

    #: What ``--secrets-backend`` calls the store.
    name: str
    #: What failures to open it are called: ``failed to initialize <label>: ...``.
    label: str
    #: Opens the store, validating its settings; imports the store's SDK only now.
    open: Callable[[StoreContext], SecretsBackend]
    settings: frozenset[str] = frozenset()
    settings_prefix: str | None = None
    secret_settings: frozenset[str] = frozenset()
    sdk_credentials: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.secret_settings <= self.settings:
            raise ValueError(f"store {self.name}: secret settings must be settings")
        if self.settings_prefix is not None and not all(s.startswith(self.settings_prefix) for s in self.settings):
            raise ValueError(f"store {self.name}: every setting must start with {self.settings_prefix}")

    def configures(self, variable: str) -> bool:
        """Whether ``variable`` is one of this store's settings, or would be one under its prefix."""
        prefix = self.settings_prefix
        return variable in self.settings or (prefix is not None and variable.startswith(prefix))


