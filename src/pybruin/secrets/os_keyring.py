"""The operating system's keyring as the connection store (``--secrets-backend keyring``), for a laptop.

Each connection is one keyring entry: service ``bruin:<the folder of .bruin.yml>`` (one per project;
``BRUIN_KEYRING_SERVICE`` names another), user name the connection name, password the JSON document
``{"type": ..., "details": {...}}`` the other stores hold. ``bruin secrets set NAME`` stores an entry (its
value read from a prompt or stdin, never the command line) and ``bruin secrets delete NAME`` removes one.

The ``keyring`` package finds the keyring: the Secret Service on Linux (GNOME Keyring, KWallet) over the
session's D-Bus, the macOS Keychain, the Windows Credential Locker. Only keyrings that keep secrets
encrypted are used: the package's plaintext file fallbacks (``keyrings.alt``, which it picks silently when
there is no D-Bus session) and its no-op backends are refused. A keyring guards secrets at rest and from
other users; any process of the same desktop session may ask it, as for every program using it.

Each call has a deadline, ``BRUIN_KEYRING_TIMEOUT`` (default ``10s``): a locked keyring may be waiting for
a password prompt nobody sees. Messages:

* ``no secure OS keyring is available (found: <backends>); on Linux, run inside a desktop session with a
  Secret Service such as GNOME Keyring``
* ``the OS keyring is locked; unlock it (log in to the desktop session) and try again``
* ``failed to read secret '<name>' from the OS keyring: no answer within 10s (BRUIN_KEYRING_TIMEOUT)``
* ``failed to read secret '<name>' from the OS keyring: <the keyring error's class>``
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pybruin.secrets.base import BackendError, SecretsBackend, StoreContext, StoreDeclaration
from pybruin.secrets.payload import connection_from_payload, parse_secret_object
from pybruin.secrets.settings import no_answer_within, positive_duration

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
_LABEL = "the OS keyring"
#: Backends that keep secrets in clear or not at all, by module: never used, whatever their priority.
_INSECURE_MODULES = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null", "keyring.backends.chainer")


def service_name(config_path: Path, environ: Mapping[str, str]) -> str:
    """The keyring service a project's connections live under."""
    return environ.get("BRUIN_KEYRING_SERVICE", "").strip() or f"bruin:{config_path.parent}"


class KeyringBackend(SecretsBackend):
    """Connections stored as entries of one keyring service."""

    name = "keyring"

    def __init__(self, service: str, keyring: Any, *, timeout: float, environ: Mapping[str, str]) -> None:
        self.service = service
        self._keyring = keyring
        self._timeout = timeout
        self._environ = environ
        self._lock = threading.Lock()

    @classmethod
    def open(cls, context: StoreContext) -> KeyringBackend:
        timeout = positive_duration(context.environ, "BRUIN_KEYRING_TIMEOUT", DEFAULT_TIMEOUT)
        return cls(
            service_name(context.config_path, context.environ),
            secure_keyring(),
            timeout=timeout,
            environ=context.environ,
        )

    def get_connection(self, name: str) -> Connection | None:
        text = self._call(f"failed to read secret '{name}' from {_LABEL}", self._keyring.get_password, name)
        if text is None:
            return None
        return connection_from_payload(name, parse_secret_object(text), environ=self._environ, rule="non_empty")

    def store(self, name: str, document: str) -> None:
        """Write connection ``name`` (its JSON document), replacing what was there."""
        self._call(f"failed to store secret '{name}' in {_LABEL}", self._keyring.set_password, name, document)

    def delete(self, name: str) -> bool:
        """Remove connection ``name``; ``False`` when there was no such entry."""
        from keyring.errors import PasswordDeleteError

        def delete_entry(service: str, user: str) -> bool:
            try:
                self._keyring.delete_password(service, user)
            except PasswordDeleteError:
                return False
            return True

        return self._call(f"failed to delete secret '{name}' from {_LABEL}", delete_entry, name)

    def _call(self, failure: str, call: Callable[..., T], *args: str) -> T:
        """Run one keyring call for this service within the deadline, its failures in our words."""
        from keyring.errors import InitError, KeyringError, KeyringLocked

        outcome: dict[str, Any] = {}

        def attempt() -> None:
            try:
                with self._lock:
                    outcome["value"] = call(self.service, *args)
            except BaseException as err:  # handed to the caller's thread below
                outcome["error"] = err

        worker = threading.Thread(target=attempt, name="keyring", daemon=True)
        worker.start()
        worker.join(self._timeout)
        if worker.is_alive():
            reason = no_answer_within(self._timeout, "BRUIN_KEYRING_TIMEOUT")
            raise BackendError(f"{failure}: {reason}", kind="unreachable")
        error = outcome.get("error")
        if isinstance(error, KeyringLocked) or (isinstance(error, InitError) and "dismissed" in str(error)):
            raise BackendError(
                "the OS keyring is locked; unlock it (log in to the desktop session) and try again", kind="denied"
            )
        if isinstance(error, KeyringError):
            raise BackendError(f"{failure}: {type(error).__name__}", kind="unreachable")
        if error is not None:
            raise BackendError(f"{failure}: {type(error).__name__}")
        return outcome["value"]


def secure_keyring() -> Any:
    """The highest-priority keyring backend that stores secrets encrypted; refuses plaintext and no-op ones."""
    import keyring
    from keyring.backends import chainer

    chosen = keyring.get_keyring()
    candidates = chosen.backends if isinstance(chosen, chainer.ChainerBackend) else [chosen]
    secure = [backend for backend in candidates if not type(backend).__module__.startswith(_INSECURE_MODULES)]
    if not secure:
        found = ", ".join(f"{type(b).__module__}.{type(b).__name__}" for b in candidates) or "none"
        raise BackendError(
            f"no secure OS keyring is available (found: {found}); on Linux, run inside a desktop session "
            "with a Secret Service such as GNOME Keyring",
            kind="unreachable",
        )
    return secure[0]


STORE = StoreDeclaration(
    name=KeyringBackend.name,
    label="OS keyring",
    open=KeyringBackend.open,
    settings=frozenset({"BRUIN_KEYRING_SERVICE", "BRUIN_KEYRING_TIMEOUT"}),
    settings_prefix="BRUIN_KEYRING_",
)
