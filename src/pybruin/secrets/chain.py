"""Several backends asked in order, for ``--secrets-backend vault,aws``.

"Not found" falls through to the next backend. A backend that could not answer —
unreachable or denied — stops the lookup: the connection may well exist there, and
quietly using another store's copy could run an asset against the wrong account.
``fallback_on_error`` lets those two failures fall through when the user asks for
it. A broken secret (malformed, unknown type) or any other failure always stops the
lookup: the store did answer, and its answer is wrong.

Every member is read through its own :class:`ConnectionCache`, so each name costs at
most one read per member per run, whoever asks and however often.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from pybruin.secrets.base import BackendError, BackendErrorKind, SecretsBackend
from pybruin.secrets.cache import ConnectionCache

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.secrets.leases import Leased

T = TypeVar("T")

#: Failures that mean "could not ask", as opposed to "asked and got a broken answer".
FALLBACK_KINDS: frozenset[BackendErrorKind] = frozenset({"unreachable", "denied"})


class MemberError(BackendError):
    """A member of a chain could not answer; ``backend`` names that member."""

    def __init__(self, message: str, kind: BackendErrorKind, backend: str) -> None:
        super().__init__(message, kind)
        self.backend = backend


class UnavailableBackend(SecretsBackend):
    """A member that failed to open, kept so the chain can fall past it like a failed read."""

    def __init__(self, name: str, error: BackendError) -> None:
        self.name = name
        self._error = error

    def get_connection(self, name: str) -> Connection | None:
        raise BackendError(str(self._error), self._error.kind)


class ChainBackend(SecretsBackend):
    """Members asked in order; the first that has a connection answers for it."""

    def __init__(self, members: Sequence[SecretsBackend], *, fallback_on_error: bool = False) -> None:
        self.name = ",".join(member.name for member in members)
        self.members = list(members)
        self.fallback_on_error = fallback_on_error
        self._caches = [ConnectionCache(member) for member in members]

    def get_connection(self, name: str) -> Connection | None:
        found = self._find(name)
        return found[1] if found else None

    def answered_by(self, name: str) -> str | None:
        """The member that answers for ``name``; ``None`` when no member has it.

        Costs no read once the name was looked up, and raises what :meth:`get_connection` raises.
        """
        member = self._answering(name)
        return member.name if member else None

    def lease(self, name: str) -> Leased | None:
        """The answering member issues the credentials; a later member holding ``name`` too is never asked."""
        member = self._answering(name)
        return None if member is None else _as_member(member, lambda: member.lease(name))

    def describe_lease(self, name: str) -> str | None:
        member = self._answering(name)
        return None if member is None else _as_member(member, lambda: member.describe_lease(name))

    def shadowed(self, name: str) -> list[str]:
        """Members after the answering one that also hold ``name``, hidden by it.

        Unlike a lookup, this asks every later member (a run never does). A later member
        that cannot answer is left out: whether it shadows anything is unknown.
        """
        found = self._find(name)
        if found is None:
            return []
        holders = []
        for member, cache in zip(self.members[found[0] + 1 :], self._caches[found[0] + 1 :], strict=True):
            try:
                if cache.get(name) is not None:
                    holders.append(member.name)
            except BackendError:
                continue
        return holders

    def not_found_message(self, name: str) -> str | None:
        """Every member's own word on a name none of them has, in the chain's order."""
        return "; ".join(filter(None, (member.not_found_message(name) for member in self.members))) or None

    def close(self) -> None:
        for member in self.members:
            member.close()

    def _answering(self, name: str) -> SecretsBackend | None:
        found = self._find(name)
        return self.members[found[0]] if found else None

    def _find(self, name: str) -> tuple[int, Connection] | None:
        """Walk the members in order: the first answer wins, a failure stops the walk unless it may fall through.

        With ``fallback_on_error``, a name no member could provide raises the first
        failure met, not "not found": the failed member may hold it.
        """
        first_failure: MemberError | None = None
        last = len(self.members) - 1
        for index, (member, cache) in enumerate(zip(self.members, self._caches, strict=True)):
            try:
                connection = cache.get(name)
            except BackendError as err:
                may_fall_through = err.kind in FALLBACK_KINDS
                if may_fall_through and self.fallback_on_error:
                    first_failure = first_failure or MemberError(str(err), err.kind, member.name)
                    continue
                message = str(err)
                if may_fall_through and index < last:
                    message += (
                        f" (secrets backend chain '{self.name}' stops at '{member.name}'; "
                        "--secrets-fallback-on-error would try the next backend)"
                    )
                raise MemberError(message, err.kind, member.name) from None
            if connection is not None:
                return index, connection
        if first_failure is not None:
            raise first_failure
        return None


def _as_member(member: SecretsBackend, call: Callable[[], T]) -> T:
    """Run ``call`` on ``member``, naming the member in what it raises."""
    try:
        return call()
    except BackendError as err:
        raise MemberError(str(err), err.kind, member.name) from None
