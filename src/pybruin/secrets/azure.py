"""Connections stored as secrets in an Azure Key Vault.

Each connection is a Key Vault secret named after it whose value is the JSON document
``{"type": ..., "details": {...}}``. Key Vault secret names hold only letters, digits
and ``-``, so a connection name with anything else is rejected before any request.
Configuration comes from the environment:

``BRUIN_AZURE_KEYVAULT_URL``
    The vault, ``https://<name>.vault.azure.net`` (required). The sovereign clouds'
    ``.vault.azure.cn``, ``.vault.usgovcloudapi.net`` and ``.vault.microsoftazure.de``
    are accepted too.
``BRUIN_AZURE_AUTH_METHOD``
    ``default`` (the Azure SDK's default chain, also when unset), ``client_credentials``
    (needs ``BRUIN_AZURE_TENANT_ID``, ``BRUIN_AZURE_CLIENT_ID``, ``BRUIN_AZURE_CLIENT_SECRET``),
    ``managed_identity`` (``BRUIN_AZURE_CLIENT_ID`` selects a user-assigned identity) or
    ``cli`` (the ``az login`` session).
``BRUIN_AZURE_KEYVAULT_DNS_SUFFIXES``
    More accepted vault hosts, comma separated, for Azure Stack Hub and private
    endpoints: an entry starting with ``.`` matches hosts ending in it
    (``.vault.local.azurestack.external``), any other entry must equal the host
    (``127.0.0.1`` for a loopback stand-in). Such vaults cannot prove that their
    authentication challenge belongs to them, so that check is skipped for them only.
``BRUIN_AZURE_AUTHORITY_HOST``
    The Microsoft Entra authority for ``client_credentials`` when it is not the
    public cloud's (Azure Stack Hub, sovereign clouds, tests); instance discovery is
    turned off because such an authority cannot be discovered.
``BRUIN_AZURE_CA_BUNDLE``
    A PEM file of CAs to trust instead of the system store, for the vault and the
    token endpoint (private CAs, tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pybruin.records import Record
from pybruin.secrets.base import (
    BackendError,
    BackendErrorKind,
    SecretsBackend,
    StoreDeclaration,
)
from pybruin.secrets.payload import connection_from_payload, parse_secret_object
from pybruin.secrets.settings import no_answer_within, positive_duration
from pybruin.secrets.transport import http_status_text, is_transient_status, status_kind

if TYPE_CHECKING:
    from azure.core.credentials import SupportsTokenInfo
    from azure.core.exceptions import AzureError

    from pybruin.config.connections import Connection

AZURE_VAULT_DNS_SUFFIXES = (
    ".vault.azure.net",
    ".vault.azure.cn",
    ".vault.usgovcloudapi.net",
    ".vault.microsoftazure.de",
)
RETRY_TOTAL = 2
#: Seconds one read may take in all (``BRUIN_AZURE_TIMEOUT``); also each connect (TLS handshake included) and
#: socket wait, where the SDK would wait 300 to connect.
TIMEOUT = 30.0

#: Auth methods by ``BRUIN_AZURE_AUTH_METHOD`` value, with the credential's name for errors.
_CREDENTIAL_LABELS = {
    "default": "default",
    "client_credentials": "client secret",
    "managed_identity": "managed identity",
    "cli": "CLI",
}

_CLIENT_CREDENTIAL_VARIABLES = ("BRUIN_AZURE_TENANT_ID", "BRUIN_AZURE_CLIENT_ID", "BRUIN_AZURE_CLIENT_SECRET")
_SECRET_NAME = re.compile(r"[0-9A-Za-z-]+")
_SECRET_NAME_MAX_LENGTH = 127


class VaultAddress(Record):
    """A validated vault URL; ``azure_domain`` says whether Azure itself serves that domain."""

    url: str
    azure_domain: bool


def parse_vault_url(url: str, extra_suffixes: Iterable[str] = ()) -> VaultAddress:
    """Accept only ``https://<host>[:port][/]`` where the host is a Key Vault host.

    ``extra_suffixes`` follow the ``BRUIN_AZURE_KEYVAULT_DNS_SUFFIXES`` rules.
    """
    host = _https_host(url)
    if host and _host_matches(host, AZURE_VAULT_DNS_SUFFIXES):
        return VaultAddress(url, azure_domain=True)
    if host and _host_matches(host, extra_suffixes):
        return VaultAddress(url, azure_domain=False)
    raise BackendError("invalid Azure Key Vault URL: must be https://<name>.vault.azure.net")


def _https_host(url: str) -> str | None:
    """The host of a bare ``https://<host>[:port][/]`` URL; ``None`` for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    bare = not (parts.username is not None or parts.path.strip("/") or parts.query or parts.fragment)
    if parts.scheme != "https" or not bare or port == 0:
        return None
    return parts.hostname or None


def _host_matches(host: str, entries: Iterable[str]) -> bool:
    for entry in entries:
        entry = entry.strip().lower()
        if entry.startswith("."):
            if host.endswith(entry) and len(host) > len(entry):
                return True
        elif entry and host == entry:
            return True
    return False


class AzureKeyVaultBackend(SecretsBackend):
    """Reads each connection as one Key Vault secret, on demand."""

    name = "azure"

    def __init__(
        self,
        address: VaultAddress,
        credential: SupportsTokenInfo,
        *,
        ca_bundle: Path | None = None,
        environ: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        from azure.keyvault.secrets import SecretClient

        self.read_deadline = timeout
        self._environ: Mapping[str, str] = environ if environ is not None else {}
        self._credential = credential
        self._client = SecretClient(
            address.url,
            credential,
            verify_challenge_resource=address.azure_domain,
            **_transport_options(ca_bundle, timeout),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AzureKeyVaultBackend:
        """Build the backend from ``BRUIN_AZURE_*`` variables, checked in documented order."""
        url = environ.get("BRUIN_AZURE_KEYVAULT_URL")
        if not url:
            raise BackendError("BRUIN_AZURE_KEYVAULT_URL env variable not set")
        method = environ.get("BRUIN_AZURE_AUTH_METHOD") or "default"
        if method not in _CREDENTIAL_LABELS:
            raise BackendError(f"unsupported Azure auth method: {method}")
        if method == "client_credentials":
            for variable in _CLIENT_CREDENTIAL_VARIABLES:
                if not environ.get(variable):
                    raise BackendError(f"{variable} env variable not set for client_credentials auth")
        suffixes = environ.get("BRUIN_AZURE_KEYVAULT_DNS_SUFFIXES", "").split(",")
        address = parse_vault_url(url, suffixes)
        ca_bundle = _ca_bundle(environ)
        timeout = positive_duration(environ, "BRUIN_AZURE_TIMEOUT", TIMEOUT)
        credential = _credential(method, environ, ca_bundle, timeout)
        return cls(address, credential, ca_bundle=ca_bundle, environ=environ, timeout=timeout)

    def get_connection(self, name: str) -> Connection | None:
        _check_secret_name(name)
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        try:
            secret = self._client.get_secret(name)
        except ResourceNotFoundError:
            return None
        except AzureError as err:
            reason, kind = _describe_failure(err)
            raise BackendError(f"failed to read secret '{name}' from Azure Key Vault: {reason}", kind) from None
        if secret.value is None:
            raise BackendError(f"secret '{name}' has no value", kind="malformed")
        payload = parse_secret_object(secret.value)
        return connection_from_payload(name, payload, environ=self._environ, rule="non_empty")

    def deadline_error(self, name: str) -> BackendError:
        reason = no_answer_within(self.read_deadline or TIMEOUT, "BRUIN_AZURE_TIMEOUT")
        return BackendError(f"failed to read secret '{name}' from Azure Key Vault: {reason}", "unreachable")

    def not_found_message(self, name: str) -> str:
        return f"failed to read secret '{name}' from Azure Key Vault: Key Vault returned {http_status_text(404)}"

    def close(self) -> None:
        self._client.close()
        self._credential.close()


def _check_secret_name(name: str) -> None:
    if not _SECRET_NAME.fullmatch(name):
        reason = "secret names may only contain letters, digits and '-'"
    elif len(name) > _SECRET_NAME_MAX_LENGTH:
        reason = f"secret names may be at most {_SECRET_NAME_MAX_LENGTH} characters long"
    else:
        return
    raise BackendError(f"connection name '{name}' cannot be stored in Azure Key Vault: {reason}", "malformed")


def _ca_bundle(environ: Mapping[str, str]) -> Path | None:
    value = environ.get("BRUIN_AZURE_CA_BUNDLE")
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise BackendError(f"BRUIN_AZURE_CA_BUNDLE file not found: {path}")
    return path


def _transport_options(ca_bundle: Path | None, timeout: float) -> dict[str, Any]:
    """Settings shared by the vault client and the credentials' token requests."""
    options: dict[str, Any] = {"retry_total": RETRY_TOTAL, "connection_timeout": timeout, "read_timeout": timeout}
    if ca_bundle:
        options["connection_verify"] = str(ca_bundle)
    return options


def _credential(
    method: str, environ: Mapping[str, str], ca_bundle: Path | None, timeout: float
) -> SupportsTokenInfo:
    from azure import identity

    transport = _transport_options(ca_bundle, timeout)
    try:
        if method == "client_credentials":
            authority = environ.get("BRUIN_AZURE_AUTHORITY_HOST")
            directory = {"authority": authority, "disable_instance_discovery": True} if authority else {}
            tenant, client, secret = (environ[variable] for variable in _CLIENT_CREDENTIAL_VARIABLES)
            return identity.ClientSecretCredential(tenant, client, secret, **directory, **transport)
        if method == "managed_identity":
            return identity.ManagedIdentityCredential(
                client_id=environ.get("BRUIN_AZURE_CLIENT_ID") or None, **transport
            )
        if method == "cli":
            return identity.AzureCliCredential()
        return identity.DefaultAzureCredential(**transport)
    except ValueError as err:
        raise BackendError(f"failed to create Azure {_CREDENTIAL_LABELS[method]} credential: {err}") from None


def _describe_failure(err: AzureError) -> tuple[str, BackendErrorKind]:
    """Say why a read failed without the server's words: response bodies can echo request data."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )
    from azure.identity import CredentialUnavailableError

    unreachable = ServiceRequestError | ServiceResponseError
    if isinstance(err, CredentialUnavailableError):
        return "no Azure credential is available for this auth method", "denied"
    if isinstance(err, ClientAuthenticationError) and isinstance(err.__cause__, unreachable):
        return f"could not reach the token endpoint: {_first_line(err.__cause__.message)}", "unreachable"
    if isinstance(err, ClientAuthenticationError):
        status = f" ({http_status_text(err.status_code)})" if err.status_code else ""
        return f"authentication failed{status}", "denied"
    if isinstance(err, HttpResponseError) and err.status_code:
        kind = status_kind(err.status_code, transient=is_transient_status(err.status_code))
        return f"Key Vault returned {http_status_text(err.status_code)}", kind
    if isinstance(err, unreachable):
        return f"could not reach the vault: {_first_line(err.message)}", "unreachable"
    return type(err).__name__, "error"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "connection failed"


STORE = StoreDeclaration(
    name=AzureKeyVaultBackend.name,
    label="Azure Key Vault client",
    open=lambda context: AzureKeyVaultBackend.from_env(context.environ),
    settings=frozenset(
        {
            "BRUIN_AZURE_KEYVAULT_URL",
            "BRUIN_AZURE_AUTH_METHOD",
            "BRUIN_AZURE_TENANT_ID",
            "BRUIN_AZURE_CLIENT_ID",
            "BRUIN_AZURE_CLIENT_SECRET",
            "BRUIN_AZURE_AUTHORITY_HOST",
            "BRUIN_AZURE_CA_BUNDLE",
            "BRUIN_AZURE_KEYVAULT_DNS_SUFFIXES",
            "BRUIN_AZURE_TIMEOUT",
        }
    ),
    settings_prefix="BRUIN_AZURE_",
    secret_settings=frozenset({"BRUIN_AZURE_CLIENT_SECRET"}),
    sdk_credentials=frozenset({"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD"}),
)
