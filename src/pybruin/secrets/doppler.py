"""Connections stored as secrets of one Doppler config.

Each connection is a Doppler secret named after it whose value is the JSON document
``{"type": ..., "details": {...}}``. Configuration comes from the environment:

``BRUIN_DOPPLER_TOKEN``
    A Doppler service token (required).
``BRUIN_DOPPLER_PROJECT`` / ``BRUIN_DOPPLER_CONFIG``
    The project and config holding the connections (required).
``BRUIN_DOPPLER_API_HOST``
    The API base URL, ``https://api.doppler.com`` unless set (for proxies and tests).

Doppler can only hand out a whole config, so it is downloaded once, on the first
lookup, and every later lookup of the run reads from that copy (or gets the same
error, if the download failed). Rate limits, server errors and failed connections are
retried a few times under the shared :class:`~pybruin.secrets.retrying.RetryPolicy`;
error messages give the HTTP status but never the response body, which may echo
request data.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pybruin.records import replace
from pybruin.secrets.base import BackendError, SecretsBackend, StoreDeclaration
from pybruin.secrets.payload import connection_from_payload, parse_secret_object
from pybruin.secrets.retrying import RetryPolicy
from pybruin.secrets.settings import no_answer_within, positive_duration
from pybruin.secrets.transport import is_header_safe, is_transient_status, network_reason, status_kind

if TYPE_CHECKING:
    import httpx

    from pybruin.config.connections import Connection

DEFAULT_API_HOST = "https://api.doppler.com"
DOWNLOAD_PATH = "/v3/configs/config/secrets/download"
#: Seconds the download may take in all (``BRUIN_DOPPLER_TIMEOUT``): attempts, waits and the body.
DEFAULT_TIMEOUT = 30.0
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.2
BACKOFF_MAX = 2.0
RETRY_AFTER_MAX = 30.0
#: The retries of one download; each backend bounds them by its timeout as well.
RETRY_POLICY = RetryPolicy(
    max_attempts=MAX_ATTEMPTS, backoff_min=BACKOFF_BASE, backoff_max=BACKOFF_MAX, wait_max=RETRY_AFTER_MAX
)

_REQUIRED_VARIABLES = ("BRUIN_DOPPLER_TOKEN", "BRUIN_DOPPLER_PROJECT", "BRUIN_DOPPLER_CONFIG")


class DopplerBackend(SecretsBackend):
    """Reads connections from one Doppler config, downloaded once per run."""

    name = "doppler"

    def __init__(
        self,
        token: str,
        project: str,
        config: str,
        *,
        api_host: str = DEFAULT_API_HOST,
        environ: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._token = token
        self._project = project
        self._config = config
        self._api_host = api_host.rstrip("/")
        self._environ: Mapping[str, str] = environ if environ is not None else {}
        self._lock = threading.Lock()
        self._secrets: dict[str, object] | BackendError | None = None
        self.read_deadline = timeout
        self._retry_policy = replace(RETRY_POLICY, deadline=timeout)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DopplerBackend:
        """Build the backend from ``BRUIN_DOPPLER_*`` variables, checked in documented order."""
        for variable in _REQUIRED_VARIABLES:
            if not environ.get(variable):
                raise BackendError(f"{variable} env variable not set")
        api_host = environ.get("BRUIN_DOPPLER_API_HOST") or DEFAULT_API_HOST
        if not _is_http_url(api_host):
            raise BackendError("BRUIN_DOPPLER_API_HOST must be an http or https URL")
        token, project, config = (environ[variable] for variable in _REQUIRED_VARIABLES)
        if not is_header_safe(token):
            raise BackendError("BRUIN_DOPPLER_TOKEN contains characters that cannot be sent in an HTTP header")
        timeout = positive_duration(environ, "BRUIN_DOPPLER_TIMEOUT", DEFAULT_TIMEOUT)
        return cls(token, project, config, api_host=api_host, environ=environ, timeout=timeout)

    def get_connection(self, name: str) -> Connection | None:
        try:
            payload = self._payload(name)
        except BackendError as err:
            raise BackendError(f"failed to read secret '{name}' from Doppler: {err}", err.kind) from None
        if payload is None:
            return None
        return connection_from_payload(name, payload, environ=self._environ, rule="lenient")

    def not_found_message(self, name: str) -> str:
        return f"failed to read secret '{name}' from Doppler: secret '{name}' not found in Doppler"

    def deadline_error(self, name: str) -> BackendError:
        reason = no_answer_within(self.read_deadline or DEFAULT_TIMEOUT, "BRUIN_DOPPLER_TIMEOUT")
        return BackendError(f"failed to read secret '{name}' from Doppler: {reason}", "unreachable")

    def close(self) -> None:
        """Forget the downloaded config so secret values do not outlive the run."""
        with self._lock:
            self._secrets = None

    def _payload(self, name: str) -> dict[str, object] | None:
        with self._lock:
            if self._secrets is None:
                try:
                    self._secrets = self._download()
                except BackendError as err:
                    self._secrets = err
            secrets = self._secrets
        if isinstance(secrets, BackendError):
            raise BackendError(str(secrets), secrets.kind)
        if name not in secrets:
            return None
        value = secrets[name]
        if not isinstance(value, str):
            raise BackendError(f"secret '{name}' is not a string", kind="malformed")
        return parse_secret_object(value)

    def _download(self) -> dict[str, object]:
        import httpx

        params = {"project": self._project, "config": self._config, "format": "json"}
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        with httpx.Client(base_url=self._api_host, timeout=self.read_deadline) as client:
            retrying = self._retry_policy.start()
            while True:
                status = retry_after = None
                try:
                    response = client.get(DOWNLOAD_PATH, params=params, headers=headers)
                except httpx.TransportError as err:
                    reason = f"failed to fetch secrets from Doppler: {network_reason(err)}"
                    failure = BackendError(reason, kind="unreachable")
                else:
                    status = response.status_code
                    if status == 200:
                        return _decode_config(response)
                    transient = is_transient_status(status)
                    failure = BackendError(
                        f"doppler API returned status {status}", kind=status_kind(status, transient=transient)
                    )
                    if not transient:
                        raise failure from None
                    retry_after = response.headers.get("Retry-After")
                if not retrying.pause(status, retry_after):
                    raise failure from None


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what validates it
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _decode_config(response: httpx.Response) -> dict[str, object]:
    try:
        document = response.json()
    except ValueError as err:
        raise BackendError(f"failed to decode Doppler response: {type(err).__name__}", kind="error") from None
    if not isinstance(document, dict):
        raise BackendError("failed to decode Doppler response: expected a JSON object", kind="error")
    return document


STORE = StoreDeclaration(
    name=DopplerBackend.name,
    label="doppler client",
    open=lambda context: DopplerBackend.from_env(context.environ),
    settings=frozenset(
        {
            "BRUIN_DOPPLER_TOKEN",
            "BRUIN_DOPPLER_PROJECT",
            "BRUIN_DOPPLER_CONFIG",
            "BRUIN_DOPPLER_API_HOST",
            "BRUIN_DOPPLER_TIMEOUT",
        }
    ),
    settings_prefix="BRUIN_DOPPLER_",
    secret_settings=frozenset({"BRUIN_DOPPLER_TOKEN"}),
    sdk_credentials=frozenset({"DOPPLER_TOKEN"}),
)
