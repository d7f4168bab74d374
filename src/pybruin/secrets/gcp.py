"""Google Cloud Secret Manager as the connection store (``--secrets-backend gcp``).

Each connection is the secret named after it, whose payload is the JSON document
``{"type": ..., "details": {...}}`` the other stores hold. The latest version is read unless
``BRUIN_GCP_VERSIONS`` pins one. The real ``google-cloud-secret-manager`` client is used over its
REST transport; every payload's CRC32C checksum is verified (the client does not).

Settings:

``BRUIN_GCP_PROJECT``
    The project holding the secrets (required).
``BRUIN_GCP_CREDENTIALS_FILE``
    A service account key file; without it, Application Default Credentials
    (``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth application-default login``, the metadata server).
``BRUIN_GCP_LOCATION``
    For regional secrets: ``projects/<p>/locations/<l>/secrets/...`` through the regional endpoint.
``BRUIN_GCP_VERSIONS``
    Pinned versions, ``warehouse=3,api_key=7``; every other secret is read at ``latest``.
``BRUIN_GCP_ENDPOINT``
    Another API endpoint (a private service connect address): ``https://...``, or ``http://`` on a
    loopback address only, so a token is never sent in clear over a network.
``BRUIN_GCP_TIMEOUT`` (``30s``), ``BRUIN_GCP_MAX_RETRIES`` (``3``), ``BRUIN_GCP_RETRY_WAIT_MIN`` (``200ms``),
``BRUIN_GCP_RETRY_WAIT_MAX`` (``2s``)
    The shared retry policy (``retrying.py``): 429, 500, 503, 504 and failed connections are retried,
    all within one deadline per secret.

Messages (never the server's text, which may echo the request):

* ``BRUIN_GCP_PROJECT env variable not set``, ``invalid BRUIN_GCP_VERSIONS: ...``, ``invalid BRUIN_GCP_ENDPOINT: ...``
* ``failed to read BRUIN_GCP_CREDENTIALS_FILE '<path>': <reason>``
* ``no Application Default Credentials found; set BRUIN_GCP_CREDENTIALS_FILE or run
  'gcloud auth application-default login'``
* ``failed to read secret '<name>' from GCP Secret Manager: GCP returned HTTP status 403 (Forbidden)`` (and the like)
* ``failed to read secret '<name>' from GCP Secret Manager: could not connect to GCP: <OS reason>``
* ``failed to read secret '<name>' from GCP Secret Manager: no answer within 30s (BRUIN_GCP_TIMEOUT)``
* ``version <v> of secret '<name>' not found in GCP Secret Manager`` (a pinned version; an unpinned
  secret that does not exist is "not found", and a chain asks its next store)
* ``secret '<name>' from GCP Secret Manager failed its CRC32C check``
* ``connection name '<name>' cannot be stored in GCP Secret Manager: ...``
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pybruin.records import Record, field
from pybruin.secrets.base import BackendError, SecretsBackend, StoreDeclaration
from pybruin.secrets.payload import connection_from_payload, parse_secret_object
from pybruin.secrets.settings import RetrySettings, no_answer_within
from pybruin.secrets.transport import http_status_text, is_transient_status, network_reason, status_kind

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

_SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
_VERSION = re.compile(r"[1-9][0-9]*|latest")
_LOCATION = re.compile(r"[a-z0-9-]+")
_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
_LABEL = "GCP Secret Manager"


class GcpSettings(Record):
    """The project, how to authenticate, which versions, and how hard to try."""

    project: str
    credentials_file: Path | None = None
    location: str = ""
    versions: Mapping[str, str] = field(default_factory=dict)
    endpoint: str = ""
    retry: RetrySettings = field(default_factory=RetrySettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> GcpSettings:
        project = environ.get("BRUIN_GCP_PROJECT", "").strip()
        if not project:
            raise BackendError("BRUIN_GCP_PROJECT env variable not set")
        location = environ.get("BRUIN_GCP_LOCATION", "").strip()
        if location and not _LOCATION.fullmatch(location):
            raise BackendError("invalid BRUIN_GCP_LOCATION: expected a location such as europe-west1")
        key_file = environ.get("BRUIN_GCP_CREDENTIALS_FILE", "")
        return cls(
            project=project,
            credentials_file=Path(key_file) if key_file else None,
            location=location,
            versions=_pinned_versions(environ.get("BRUIN_GCP_VERSIONS", "")),
            endpoint=_endpoint(environ.get("BRUIN_GCP_ENDPOINT", "").strip()),
            retry=RetrySettings.from_env(environ, "BRUIN_GCP_"),
        )

    def version_name(self, secret: str) -> str:
        parent = f"projects/{self.project}" + (f"/locations/{self.location}" if self.location else "")
        return f"{parent}/secrets/{secret}/versions/{self.versions.get(secret, 'latest')}"


def _pinned_versions(text: str) -> dict[str, str]:
    versions: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, version = (piece.strip() for piece in item.partition("="))
        if not equals or not _SECRET_ID.fullmatch(name) or not _VERSION.fullmatch(version):
            raise BackendError("invalid BRUIN_GCP_VERSIONS: expected name=version pairs such as warehouse=3,api=7")
        versions[name] = version
    return versions


def _endpoint(endpoint: str) -> str:
    if not endpoint:
        return ""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
        raise BackendError("invalid BRUIN_GCP_ENDPOINT: expected https://host[:port]")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise BackendError("invalid BRUIN_GCP_ENDPOINT: http:// is only allowed on a loopback address")
    return endpoint.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class GcpSecretManagerBackend(SecretsBackend):
    """Reads each connection with one ``AccessSecretVersion`` call."""

    name = "gcp"

    def __init__(self, settings: GcpSettings, client: Any, *, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self._client = client
        self._environ = environ

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> GcpSecretManagerBackend:
        settings = GcpSettings.from_env(environ)
        return cls(settings, _client(settings), environ=environ)

    def get_connection(self, name: str) -> Connection | None:
        if not _SECRET_ID.fullmatch(name):
            raise BackendError(
                f"connection name '{name}' cannot be stored in {_LABEL}: "
                "secret names hold only letters, digits, '-' and '_', at most 255 of them",
                kind="malformed",
            )
        payload = self._access(name)
        if payload is None:
            return None
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise BackendError(f"secret '{name}' from {_LABEL} is not UTF-8 text", kind="malformed") from None
        return connection_from_payload(name, parse_secret_object(text), environ=self._environ, rule="non_empty")

    def close(self) -> None:
        transport = getattr(self._client, "transport", None)
        if transport is not None:
            transport.close()

    def _access(self, name: str) -> bytes | None:
        """The payload of the secret's version, ``None`` when an unpinned secret does not exist."""
        import requests
        from google.api_core import exceptions as api
        from google.auth import exceptions as auth

        failure = f"failed to read secret '{name}' from {_LABEL}"
        retrying = self.settings.retry.policy.start()
        while (remaining := retrying.remaining()) > 0:
            try:
                response = self._client.access_secret_version(
                    request={"name": self.settings.version_name(name)}, retry=None, timeout=remaining
                )
            except api.NotFound:
                if name in self.settings.versions:
                    version = self.settings.versions[name]
                    raise BackendError(f"version {version} of secret '{name}' not found in {_LABEL}") from None
                return None
            except api.GoogleAPICallError as err:
                status = int(err.code or 0)
                transient = is_transient_status(status)
                if transient and retrying.pause(status, _retry_after(err)):
                    continue
                if transient and retrying.out_of_time:
                    break
                kind = status_kind(status, transient=transient)
                raise BackendError(f"{failure}: GCP returned {http_status_text(status)}", kind=kind) from None
            except auth.RefreshError:
                raise BackendError(f"{failure}: the credentials were refused", kind="denied") from None
            except requests.exceptions.Timeout:
                break
            except (requests.exceptions.ConnectionError, auth.TransportError) as err:
                if retrying.pause():
                    continue
                if retrying.out_of_time:
                    break
                reason = network_reason(err)
                raise BackendError(f"{failure}: could not connect to GCP: {reason}", kind="unreachable") from None
            except (auth.GoogleAuthError, requests.exceptions.RequestException, ValueError) as err:
                raise BackendError(f"{failure}: {type(err).__name__}") from None
            data = bytes(response.payload.data)
            if crc32c(data) != response.payload.data_crc32c:
                raise BackendError(f"secret '{name}' from {_LABEL} failed its CRC32C check", kind="malformed")
            return data
        reason = no_answer_within(self.settings.retry.timeout, "BRUIN_GCP_TIMEOUT")
        raise BackendError(f"{failure}: {reason}", kind="unreachable")


def _retry_after(err: Any) -> str | None:
    response = getattr(err, "response", None)
    headers = getattr(response, "headers", None) or {}
    return headers.get("Retry-After")


def _client(settings: GcpSettings) -> Any:
    """The Secret Manager client over REST, authenticated by the key file or Application Default Credentials."""
    from google.api_core.client_options import ClientOptions
    from google.cloud import secretmanager

    options: dict[str, str] = {}
    if settings.endpoint:
        options["api_endpoint"] = settings.endpoint
    elif settings.location:
        options["api_endpoint"] = f"https://secretmanager.{settings.location}.rep.googleapis.com"
    return secretmanager.SecretManagerServiceClient(
        credentials=_credentials(settings), transport="rest", client_options=ClientOptions(**options)
    )


def _credentials(settings: GcpSettings) -> Any:
    import google.auth
    from google.auth import exceptions as auth
    from google.oauth2 import service_account

    if settings.credentials_file is not None:
        path = settings.credentials_file
        try:
            return service_account.Credentials.from_service_account_file(str(path), scopes=_SCOPES)
        except OSError as err:
            reason = err.strerror or type(err).__name__
        except (ValueError, KeyError):
            reason = "not a service account key file"  # the parser's own words may quote the file
        raise BackendError(f"failed to read BRUIN_GCP_CREDENTIALS_FILE '{path}': {reason}", kind="denied")
    try:
        credentials, _project = google.auth.default(scopes=_SCOPES)
    except auth.DefaultCredentialsError:
        raise BackendError(
            "no Application Default Credentials found; set BRUIN_GCP_CREDENTIALS_FILE or run "
            "'gcloud auth application-default login'",
            kind="denied",
        ) from None
    return credentials


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum Secret Manager sends with every payload."""
    table = _crc32c_table()
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


@functools.cache
def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return tuple(table)


STORE = StoreDeclaration(
    name=GcpSecretManagerBackend.name,
    label="GCP Secret Manager client",
    open=lambda context: GcpSecretManagerBackend.from_env(context.environ),
    settings=frozenset(
        {
            "BRUIN_GCP_PROJECT",
            "BRUIN_GCP_CREDENTIALS_FILE",
            "BRUIN_GCP_LOCATION",
            "BRUIN_GCP_VERSIONS",
            "BRUIN_GCP_ENDPOINT",
            "BRUIN_GCP_TIMEOUT",
            "BRUIN_GCP_MAX_RETRIES",
            "BRUIN_GCP_RETRY_WAIT_MIN",
            "BRUIN_GCP_RETRY_WAIT_MAX",
        }
    ),
    settings_prefix="BRUIN_GCP_",
    sdk_credentials=frozenset({"GOOGLE_APPLICATION_CREDENTIALS"}),
)
