"""HashiCorp Vault (or OpenBao) KV v2 as the connection store.

Each connection is the secret ``{mount}/data/{path}/{name}`` whose data holds
``type`` and ``details``. Transient failures (connection errors, 412, 429, most 5xx)
are retried under the shared :class:`~pybruin.secrets.retrying.RetryPolicy`, inside one
overall deadline, so a flaky Vault slows a run down instead of failing it, and a dead
one fails it within ``BRUIN_VAULT_TIMEOUT``. Vault's error bodies are never repeated:
only the status code is reported.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from pybruin.records import Record, field
from pybruin.secrets.base import (
    MAX_CONCURRENT_READS,
    BackendError,
    BackendErrorKind,
    SecretsBackend,
    StoreDeclaration,
)
from pybruin.secrets.payload import connection_from_payload
from pybruin.secrets.retrying import RetryPolicy
from pybruin.secrets.settings import RetrySettings, no_answer_within
from pybruin.secrets.transport import http_status_text, is_header_safe, is_transient_status, network_reason, status_kind
from pybruin.secrets.vault_database import DatabaseRole, check_role, check_user_fields, database_role, issue

if TYPE_CHECKING:
    import requests

    from pybruin.config.connections import Connection
    from pybruin.secrets.leases import Leased

log = logging.getLogger(__name__)

SERVICE_ACCOUNT_TOKEN_PATH = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")

_UNIX_BASE_URL = "http://localhost"
_TOKEN_HEADER = "X-Vault-Token"


def validate_vault_address(host: str) -> None:
    """Reject Vault addresses that are ambiguous or would leak something.

    Credentials or query strings in the address would be sent to, and logged by,
    every proxy on the way; a bare host name has no scheme to say how to connect.
    """
    try:
        parts = urlsplit(host)
        parts.port  # noqa: B018 - parsing the port is what validates it
    except ValueError as err:
        # Python's other reasons quote the host or port, which may be a mistyped password.
        reason = str(err) if str(err) == "Invalid IPv6 URL" else "malformed host or port"
        raise BackendError(f"invalid Vault host: {reason}") from None
    if "@" in parts.netloc:
        raise BackendError("invalid Vault host: URL credentials are not allowed")
    if parts.query or parts.fragment:
        raise BackendError("invalid Vault host: query parameters and fragments are not allowed")
    if parts.scheme in ("http", "https"):
        if not parts.netloc:
            raise BackendError("invalid Vault host: HTTP(S) URL must include a host")
    elif parts.scheme == "unix":
        if not _unix_socket_path(host):
            raise BackendError("invalid Vault host: unix URL must include a socket path")
    else:
        raise BackendError("invalid Vault host: URL scheme must be http, https, or unix")


class VaultSettings(Record):
    """Where the connections live and how hard to try reaching them."""

    host: str
    path: str
    mount_path: str
    token: str = field(default="", repr=False)
    role: str = ""
    k8s_auth_mount: str = "kubernetes"
    timeout: float = 30.0
    retry_wait_min: float = 0.2
    retry_wait_max: float = 2.0
    max_retries: int = 3

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> VaultSettings:
        """Read ``BRUIN_VAULT_*``, checking them in upstream Bruin's order and wording."""
        host = environ.get("BRUIN_VAULT_HOST", "")
        if not host:
            raise BackendError("BRUIN_VAULT_HOST env variable not set")
        token = environ.get("BRUIN_VAULT_TOKEN", "")
        role = environ.get("BRUIN_VAULT_ROLE", "")
        if not token and not role:
            raise BackendError("BRUIN_VAULT_TOKEN or BRUIN_VAULT_ROLE env variable not set")
        path = environ.get("BRUIN_VAULT_PATH", "")
        if not path:
            raise BackendError("BRUIN_VAULT_PATH env variable not set")
        mount_path = environ.get("BRUIN_VAULT_MOUNT_PATH", "")
        if not mount_path:
            raise BackendError("BRUIN_VAULT_MOUNT_PATH env variable not set")
        retry = RetrySettings.from_env(environ, "BRUIN_VAULT_")
        if token and not is_header_safe(token):
            raise BackendError("BRUIN_VAULT_TOKEN contains characters that cannot be sent in an HTTP header")
        return cls(
            host=host,
            path=path,
            mount_path=mount_path,
            token=token,
            role=role,
            k8s_auth_mount=environ.get("BRUIN_VAULT_K8S_AUTH_MOUNT") or cls.k8s_auth_mount,
            timeout=retry.timeout,
            retry_wait_min=retry.retry_wait_min,
            retry_wait_max=retry.retry_wait_max,
            max_retries=retry.max_retries,
        )

    @property
    def retry_policy(self) -> RetryPolicy:
        """Upstream's: ``max_retries`` after the first attempt, backoff between the waits, all within ``timeout``."""
        return RetrySettings(self.timeout, self.max_retries, self.retry_wait_min, self.retry_wait_max).policy


class VaultBackend(SecretsBackend):
    """Reads connections from a KV v2 mount, logging in once when opened."""

    name = "vault"

    def __init__(
        self,
        settings: VaultSettings,
        *,
        environ: Mapping[str, str],
        service_account_token_path: Path = SERVICE_ACCOUNT_TOKEN_PATH,
    ) -> None:
        if not settings.host:
            raise BackendError("empty vault host provided")
        validate_vault_address(settings.host)
        if not settings.path:
            raise BackendError("empty vault path provided")
        if not settings.mount_path:
            raise BackendError("empty vault mountpath provided")
        if not settings.token and not settings.role:
            raise BackendError("no vault credentials provided")
        self.settings = settings
        self.read_deadline = settings.timeout
        self._environ = environ
        self._roles: dict[str, tuple[DatabaseRole, Connection]] = {}
        self._adapter = _open_adapter(settings.host, settings.timeout)
        try:
            self._adapter.token = settings.token or self._kubernetes_login(service_account_token_path)
        except BaseException:
            self._adapter.close()
            raise

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], *, service_account_token_path: Path = SERVICE_ACCOUNT_TOKEN_PATH
    ) -> VaultBackend:
        """Open the backend configured by ``BRUIN_VAULT_*`` (see :class:`VaultSettings`)."""
        return cls(
            VaultSettings.from_env(environ),
            environ=environ,
            service_account_token_path=service_account_token_path,
        )

    def get_connection(self, name: str) -> Connection | None:
        """The connection at ``{mount}/data/{path}/{name}``; one naming a database role is kept for :meth:`lease`."""
        if not name.strip():
            raise BackendError("cannot read a Vault secret with an empty name")
        secret_path = f"{self.settings.path.strip('/')}/{name}"
        url = f"v1/{quote(self.settings.mount_path.strip('/'), safe='')}/data/{quote(secret_path, safe='')}"
        body = self._call("GET", url, f"failed to read secret '{name}' from Vault")
        if body is None:
            log.debug("secret '%s' not found in Vault", name)
            return None
        secret = body.get("data")
        data = secret.get("data") if isinstance(secret, dict) else None
        if not isinstance(data, dict):
            failure = f"failed to read secret '{name}' from Vault"
            raise BackendError(f"{failure}: Vault returned an empty response", kind="malformed")
        details = data.get("details")
        role = database_role(name, details) if isinstance(details, dict) else None
        if role is not None:
            data = {**data, "details": {key: value for key, value in details.items() if key != "dynamic"}}
        connection = connection_from_payload(name, data, environ=self._environ, rule="trimmed")
        if role is not None:
            check_user_fields(name, connection)
            self._roles[name] = (role, connection)
        return connection

    def lease(self, name: str) -> Leased | None:
        """A new database user from the role the connection names (see ``vault_database.py``)."""
        held = self._roles.get(name)
        return None if held is None else issue(self._call, name, *held)

    def describe_lease(self, name: str) -> str | None:
        held = self._roles.get(name)
        return None if held is None else check_role(self._call, name, held[0])

    def not_found_message(self, name: str) -> str:
        return f"secret '{name}' not found in Vault"

    def deadline_error(self, name: str) -> BackendError:
        return BackendError(f"failed to read secret '{name}' from Vault: {_NoAnswer.timed_out(self)}", "unreachable")

    def close(self) -> None:
        self._adapter.close()

    def _kubernetes_login(self, token_path: Path) -> str:
        """Trade the pod's service account token for a Vault token."""
        try:
            jwt = token_path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise BackendError(f"failed to read service account token: {err}") from None
        if not jwt:
            raise BackendError("service account token is empty")
        failure = "failed to login to the secrets backend"
        url = f"v1/auth/{quote(self.settings.k8s_auth_mount.strip('/'), safe='')}/login"
        try:
            response = self._send("POST", url, json={"jwt": jwt, "role": self.settings.role})
        except _NoAnswer as err:
            raise BackendError(f"{failure}: {err}", kind=err.kind) from None
        if not response.ok:
            raise BackendError(f"{failure}: {_status_text(response.status_code)}", kind=_status_kind(response))
        auth = (_json_body(response) or {}).get("auth")
        client_token = auth.get("client_token") if isinstance(auth, dict) else None
        if not isinstance(client_token, str) or not client_token.strip():
            raise BackendError(f"{failure}: Vault returned no client token", kind="malformed")
        return client_token

    def _call(self, method: str, url: str, failure: str, **kwargs: Any) -> dict[str, Any] | None:
        """One request: the JSON body of a successful answer, ``None`` for a 404, else a :class:`BackendError`."""
        try:
            response = self._send(method, url, **kwargs)
        except _NoAnswer as err:
            raise BackendError(f"{failure}: {err}", kind=err.kind) from None
        if response.status_code == 404:
            return None
        if not response.ok:
            raise BackendError(f"{failure}: {_status_text(response.status_code)}", kind=_status_kind(response))
        if response.status_code == 204:  # renew/revoke answer with no body
            return {}
        body = _json_body(response)
        if body is None:
            raise BackendError(f"{failure}: Vault returned an invalid response (not a JSON object)", kind="malformed")
        return body

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one request, retrying transient failures within ``settings.timeout``.

        Returns the last response, which may still be an error status once retries are
        spent; raises :class:`_NoAnswer` when Vault never answered in time.
        """
        import requests

        retrying = self.settings.retry_policy.start()
        while (remaining := retrying.remaining()) > 0:
            try:
                response = self._adapter.request(method, url, raise_exception=False, timeout=remaining, **kwargs)
            except requests.exceptions.ReadTimeout:
                break
            except requests.exceptions.SSLError as err:
                raise _NoAnswer(f"TLS connection to Vault failed: {network_reason(err)}") from None
            except requests.exceptions.ConnectionError as err:
                if retrying.pause():
                    continue
                if retrying.out_of_time:
                    break
                raise _NoAnswer(f"could not connect to Vault: {network_reason(err)}") from None
            except (requests.exceptions.RequestException, ValueError) as err:
                # e.g. a header value the client refuses; its own text would quote the value
                raise _NoAnswer(f"request to Vault failed: {type(err).__name__}", kind="error") from None
            else:
                status = response.status_code
                if _is_transient(status) and retrying.pause(status, response.headers.get("Retry-After")):
                    continue
                if retrying.out_of_time:
                    break
                return response
        raise _NoAnswer(_NoAnswer.timed_out(self))


class _NoAnswer(Exception):
    """Vault gave no usable HTTP answer: refused, TLS failure, out of time, or the request failed locally."""

    def __init__(self, message: str, kind: BackendErrorKind = "unreachable") -> None:
        super().__init__(message)
        self.kind: BackendErrorKind = kind

    @staticmethod
    def timed_out(backend: VaultBackend) -> str:
        return no_answer_within(backend.settings.timeout, "BRUIN_VAULT_TIMEOUT")


def _open_adapter(host: str, timeout: float) -> Any:
    """An hvac adapter that leaves retries to :meth:`VaultBackend._send` and keeps the token to Vault's origin."""
    import requests
    from hvac.adapters import RawAdapter

    class TokenSession(requests.Session):
        """On a redirect requests drops only ``Authorization`` for another host; the token goes nowhere else either."""

        def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
            super().rebuild_auth(prepared_request, response)
            if _origin(prepared_request.url) != _origin(response.request.url):
                prepared_request.headers.pop(_TOKEN_HEADER, None)

    session = TokenSession()
    if urlsplit(host).scheme == "unix":
        session.trust_env = False
        session.mount(_UNIX_BASE_URL, _unix_socket_adapter(_unix_socket_path(host)))
        base_uri = _UNIX_BASE_URL
    else:
        for scheme in ("http://", "https://"):
            session.mount(scheme, requests.adapters.HTTPAdapter(max_retries=0, pool_maxsize=MAX_CONCURRENT_READS))
        base_uri = host.rstrip("/")
    return RawAdapter(base_uri=base_uri, timeout=timeout, session=session)


def _origin(url: str | None) -> tuple[str, str]:
    parts = urlsplit(url or "")
    return parts.scheme, parts.netloc.lower()


def _unix_socket_path(host: str) -> str:
    return host.split("://", 1)[1] if "://" in host else ""


def _unix_socket_adapter(socket_path: str) -> Any:
    """A requests transport adapter that speaks HTTP over a Unix socket (Vault Agent's listener)."""
    import requests
    import urllib3
    from urllib3.connection import HTTPConnection

    class UnixConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            if isinstance(self.timeout, int | float):
                sock.settimeout(self.timeout)
            try:
                sock.connect(socket_path)
            except OSError:
                sock.close()
                raise
            return sock

    class UnixConnectionPool(urllib3.HTTPConnectionPool):
        ConnectionCls = UnixConnection

    class UnixSocketAdapter(requests.adapters.HTTPAdapter):
        def get_connection_with_tls_context(
            self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
        ) -> UnixConnectionPool:
            return UnixConnectionPool("localhost")

    return UnixSocketAdapter(max_retries=0)


def _is_transient(status: int) -> bool:
    return status == 412 or is_transient_status(status)


def _status_text(status: int) -> str:
    return f"Vault returned {http_status_text(status)}"


def _status_kind(response: requests.Response) -> BackendErrorKind:
    return status_kind(response.status_code, transient=_is_transient(response.status_code))


def _json_body(response: requests.Response) -> dict[str, Any] | None:
    """The body as a JSON object; None when it is not one (cut short, or not JSON at all)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


STORE = StoreDeclaration(
    name=VaultBackend.name,
    label="vault client",
    open=lambda context: VaultBackend.from_env(context.environ),
    settings=frozenset(
        {
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
        }
    ),
    settings_prefix="BRUIN_VAULT_",
    secret_settings=frozenset({"BRUIN_VAULT_TOKEN"}),
    sdk_credentials=frozenset({"VAULT_TOKEN"}),
)
