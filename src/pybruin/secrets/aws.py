"""AWS Secrets Manager as the connection store.

Each connection is the secret named after it, whose string value is the JSON
document ``{"type": ..., "details": {...}}``. Credentials come from
``BRUIN_AWS_*`` when given, so Bruin can use a different identity than the
assets it runs; otherwise from boto3's usual chain (``AWS_*``, profiles, roles).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pybruin.secrets.base import (
    MAX_CONCURRENT_READS,
    BackendError,
    BackendErrorKind,
    SecretsBackend,
    StoreDeclaration,
)
from pybruin.secrets.payload import connection_from_payload, parse_secret_object
from pybruin.secrets.settings import no_answer_within, positive_duration
from pybruin.secrets.transport import is_header_safe

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

#: Seconds one read may take in all (``BRUIN_AWS_TIMEOUT``); also each connect and socket wait.
DEFAULT_TIMEOUT = 30.0

_DENIED_CODES = frozenset(
    {
        "AccessDeniedException",
        "DecryptionFailure",
        "ExpiredTokenException",
        "IncompleteSignature",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
_UNAVAILABLE_CODES = frozenset({"InternalServiceError", "ServiceUnavailable", "ThrottlingException"})


class AwsSecretsManagerBackend(SecretsBackend):
    """Reads one secret per connection with ``GetSecretValue`` (latest version)."""

    name = "aws"

    def __init__(self, client: Any, *, environ: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self._client = client
        self._environ = environ
        self.read_deadline = timeout

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AwsSecretsManagerBackend:
        """Build the client from ``BRUIN_AWS_*``, falling back to boto3's default chain.

        The static pair must be complete: half a pair is a typo, and silently using
        some other identity from the default chain instead would be a surprise.
        The default chain and ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` are read by boto3
        from the process environment.
        """
        key_id = environ.get("BRUIN_AWS_ACCESS_KEY_ID", "")
        secret_key = environ.get("BRUIN_AWS_SECRET_ACCESS_KEY", "")
        if key_id and not secret_key:
            raise BackendError("BRUIN_AWS_SECRET_ACCESS_KEY env variable not set")
        if secret_key and not key_id:
            raise BackendError("BRUIN_AWS_ACCESS_KEY_ID env variable not set")
        session_token = environ.get("BRUIN_AWS_SESSION_TOKEN", "") if key_id else ""
        timeout = positive_duration(environ, "BRUIN_AWS_TIMEOUT", DEFAULT_TIMEOUT)
        for variable, value in (("BRUIN_AWS_ACCESS_KEY_ID", key_id), ("BRUIN_AWS_SESSION_TOKEN", session_token)):
            if value and not is_header_safe(value):
                raise BackendError(f"{variable} contains characters that cannot be sent in an HTTP header")

        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        static: dict[str, str | None] = {}
        if key_id:
            static = {
                "aws_access_key_id": key_id,
                "aws_secret_access_key": secret_key,
                "aws_session_token": session_token or None,
            }
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"mode": "standard"},
            max_pool_connections=MAX_CONCURRENT_READS,
        )
        try:
            session = boto3.session.Session(region_name=_region(environ), **static)
            client = session.client("secretsmanager", config=config)
        except BotoCoreError as err:
            raise BackendError(f"failed to load AWS config: {err}") from None
        return cls(client, environ=environ, timeout=timeout)

    def get_connection(self, name: str) -> Connection | None:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            HTTPClientError,
            NoCredentialsError,
            ReadTimeoutError,
        )
        from botocore.exceptions import ConnectionError as EndpointUnreachable

        failure = f"failed to read secret '{name}' from AWS Secrets Manager"
        try:
            response = self._client.get_secret_value(SecretId=name)
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", "")) or "unknown error"
            if code == "ResourceNotFoundException":
                return None
            raise BackendError(f"{failure}: {code}", kind=_error_kind(code)) from None
        except (ConnectTimeoutError, ReadTimeoutError):
            raise self.deadline_error(name) from None
        except (EndpointUnreachable, HTTPClientError):
            raise BackendError(
                f"{failure}: could not reach {self._client.meta.endpoint_url}", kind="unreachable"
            ) from None
        except NoCredentialsError as err:
            raise BackendError(f"{failure}: {err}", kind="denied") from None
        except BotoCoreError as err:
            raise BackendError(f"{failure}: {type(err).__name__}") from None
        text = response.get("SecretString")
        if not isinstance(text, str):
            if "SecretBinary" not in response:  # not even a binary value: the answer itself is broken
                raise BackendError(f"{failure}: AWS returned an invalid response", kind="malformed")
            raise BackendError(f"secret '{name}' has no string value", kind="malformed")
        try:
            payload = parse_secret_object(text)
        except BackendError as err:
            raise BackendError(f"{failure}: {err}", kind=err.kind) from None
        return connection_from_payload(name, payload, environ=self._environ)

    def not_found_message(self, name: str) -> str:
        return f"failed to read secret '{name}' from AWS Secrets Manager: ResourceNotFoundException"

    def deadline_error(self, name: str) -> BackendError:
        reason = no_answer_within(self.read_deadline or DEFAULT_TIMEOUT, "BRUIN_AWS_TIMEOUT")
        return BackendError(f"failed to read secret '{name}' from AWS Secrets Manager: {reason}", "unreachable")

    def close(self) -> None:
        self._client.close()


def _region(environ: Mapping[str, str]) -> str | None:
    """``BRUIN_AWS_REGION``, else ``AWS_REGION`` (which boto3 alone would ignore), else boto3's choice."""
    return environ.get("BRUIN_AWS_REGION") or environ.get("AWS_REGION") or None


def _error_kind(code: str) -> BackendErrorKind:
    if code in _DENIED_CODES:
        return "denied"
    if code in _UNAVAILABLE_CODES:
        return "unreachable"
    return "error"


STORE = StoreDeclaration(
    name=AwsSecretsManagerBackend.name,
    label="AWS Secrets Manager client",
    open=lambda context: AwsSecretsManagerBackend.from_env(context.environ),
    settings=frozenset(
        {
            "BRUIN_AWS_ACCESS_KEY_ID",
            "BRUIN_AWS_SECRET_ACCESS_KEY",
            "BRUIN_AWS_SESSION_TOKEN",
            "BRUIN_AWS_REGION",
            "BRUIN_AWS_TIMEOUT",
        }
    ),
    settings_prefix="BRUIN_AWS_",
    secret_settings=frozenset({"BRUIN_AWS_SECRET_ACCESS_KEY", "BRUIN_AWS_SESSION_TOKEN"}),
    sdk_credentials=frozenset(
        {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"}
    ),
)
