"""The interface every secrets backend implements, and the error it raises.

A backend answers one question: "what is connection ``name``?". It returns ``None``
when the store simply has no such connection, so callers can say "not found" with
their own context, and raises :class:`BackendError` when it could not answer at all.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Literal

from pybruin.errors import BruinError

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

BackendErrorKind = Literal["denied", "unreachable", "malformed", "wrong_type", "error"]

#: Environment variables that configure a secrets backend or carry the whole config.
#: They are credentials for *Bruin*, never for assets, so the run strips them from
#: every child environment.
BACKEND_CREDENTIAL_VARIABLES: frozenset[str] = frozenset(
    {
        "BRUIN_SECRETS_BACKEND",
        "BRUIN_SECRETS_FALLBACK_ON_ERROR",
        "BRUIN_CONFIG_FILE_CONTENT",
        "BRUIN_VAULT_HOST",
        "BRUIN_VAULT_TOKEN",
        "BRUIN_VAULT_ROLE",
        "BRUIN_VAULT_PATH",
        "BRUIN_VAULT_MOUNT_PATH",
        "BRUIN_VAULT_K8S_AUTH_MOUNT",
        "BRUIN_VAULT_TIMEOUT",
        "BRUIN_VAULT_RETRY_WAIT_MIN",
        "BRUIN_VAULT_RETRY_WAIT_MAX",
        "BRUIN_VAULT_MAX_RETRIES",
        "BRUIN_DOPPLER_TOKEN",
        "BRUIN_DOPPLER_PROJECT",
        "BRUIN_DOPPLER_CONFIG",
        "BRUIN_DOPPLER_API_HOST",
        "BRUIN_AWS_ACCESS_KEY_ID",
        "BRUIN_AWS_SECRET_ACCESS_KEY",
        "BRUIN_AWS_SESSION_TOKEN",
        "BRUIN_AWS_REGION",
        "BRUIN_AZURE_KEYVAULT_URL",
        "BRUIN_AZURE_AUTH_METHOD",
        "BRUIN_AZURE_TENANT_ID",
        "BRUIN_AZURE_CLIENT_ID",
        "BRUIN_AZURE_CLIENT_SECRET",
        "BRUIN_AZURE_AUTHORITY_HOST",
        "BRUIN_AZURE_CA_BUNDLE",
        "BRUIN_AZURE_KEYVAULT_DNS_SUFFIXES",
    }
)

#: How many secrets a run reads at once. A run's distinct connections then resolve in about two
#: round trips even when there are dozens of them, still far below any store's rate limits;
#: backends size their HTTP connection pools to match so concurrent reads reuse connections.
MAX_CONCURRENT_READS = 32

_BACKEND_VARIABLE_PREFIXES = ("BRUIN_VAULT_", "BRUIN_DOPPLER_", "BRUIN_AWS_", "BRUIN_AZURE_")


#: The backend variables whose values are themselves secrets (tokens, keys), as opposed to settings
#: such as a host or a region: pybruin masks their values in everything it prints.
SECRET_VALUED_VARIABLES: frozenset[str] = frozenset(
    {
        "BRUIN_VAULT_TOKEN",
        "BRUIN_DOPPLER_TOKEN",
        "BRUIN_AWS_SECRET_ACCESS_KEY",
        "BRUIN_AWS_SESSION_TOKEN",
        "BRUIN_AZURE_CLIENT_SECRET",
    }
)


def is_backend_variable(name: str) -> bool:
    """Whether ``name`` configures a backend, including variables a backend may add later.

    Filtering child environments by prefix as well as by the known list means a new
    ``BRUIN_VAULT_*`` knob can never leak to an asset just because this list was not updated.
    """
    return name in BACKEND_CREDENTIAL_VARIABLES or name.startswith(_BACKEND_VARIABLE_PREFIXES)


class BackendError(BruinError):
    """A backend could not answer; ``kind`` lets callers tell a denial from an outage.

    The message names the secret and the backend, never a value or a server's response body.
    """

    kind: BackendErrorKind

    def __init__(self, message: str, kind: BackendErrorKind = "error") -> None:
        super().__init__(message)
        self.kind = kind


class SecretsBackend(abc.ABC):
    """Where connections come from: ``.bruin.yml`` or a remote secrets store."""

    name: str
    #: The standard variables this backend's SDK authenticates with (e.g. ``AWS_SECRET_ACCESS_KEY``).
    #: They are pybruin's credentials while the backend is selected, so assets do not inherit them;
    #: an asset that needs cloud access declares a connection for it.
    auth_variables: frozenset[str] = frozenset()

    @abc.abstractmethod
    def get_connection(self, name: str) -> Connection | None:
        """Return connection ``name``; ``None`` if the store has no such connection.

        Raises :class:`BackendError` when the store cannot answer (denied, unreachable,
        malformed secret, unknown connection type).
        """

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release network clients; the default holds nothing."""
