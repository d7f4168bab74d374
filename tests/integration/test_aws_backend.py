"""The AWS Secrets Manager backend against a real moto server.

boto3 finds the server through ``AWS_ENDPOINT_URL_SECRETS_MANAGER``, as a user's
would find a VPC endpoint. Which credentials and region were used is read from the
signed requests, captured by a loopback proxy in front of moto.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.moto_server import MotoServer
from fixtures.vault_server import FaultProxy
from pybruin.config.bruin_yml import Environment
from pybruin.config.connections import GenericConnection, PostgresConnection
from pybruin.secrets.aws import AwsSecretsManagerBackend
from pybruin.secrets.base import BackendError
from pybruin.secrets.registry import open_backend
from servers import free_port

CANARY = "canary-90c2e4ab-aws"
ENVIRONMENT = Environment(name="default", schema_prefix="", connections={})
MUST_CONTAIN = "secret 'pg' must contain both 'type' (non-empty string) and 'details' (object)"
GENERIC = json.dumps({"type": "generic", "details": {"value": "somevalue"}})
STATIC = {
    "BRUIN_AWS_ACCESS_KEY_ID": "bruin-key",
    "BRUIN_AWS_SECRET_ACCESS_KEY": "bruin-secret",
    "BRUIN_AWS_SESSION_TOKEN": "bruin-token",
    "BRUIN_AWS_REGION": "us-east-2",
}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], None]:
    """Isolate boto3 from this machine's AWS setup; returns a function pointing it at an endpoint."""
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(variable, raising=False)
    for variable in ("AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    def point_at(url: str) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", url)

    return point_at


@pytest.fixture
def backend(moto: MotoServer, aws_env: Callable[[str], None]) -> AwsSecretsManagerBackend:
    aws_env(moto.url)
    return AwsSecretsManagerBackend.from_env(STATIC)


def read_error(backend: AwsSecretsManagerBackend, name: str) -> BackendError:
    with pytest.raises(BackendError) as caught:
        backend.get_connection(name)
    assert CANARY not in str(caught.value)
    return caught.value


# --- credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BRUIN_AWS_SECRET_ACCESS_KEY": CANARY}, "BRUIN_AWS_ACCESS_KEY_ID env variable not set"),
        ({"BRUIN_AWS_ACCESS_KEY_ID": "bruin-key"}, "BRUIN_AWS_SECRET_ACCESS_KEY env variable not set"),
        ({"BRUIN_AWS_ACCESS_KEY_ID": "bruin-key", "BRUIN_AWS_SECRET_ACCESS_KEY": ""}, "BRUIN_AWS_SECRET_ACCESS_KEY"),
    ],
)
def test_static_credentials_come_in_pairs(env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(BackendError) as caught:
        open_backend("aws", ENVIRONMENT, tmp_path, env)
    assert str(caught.value).startswith(f"failed to initialize AWS Secrets Manager client: {message}")
    assert CANARY not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BRUIN_AWS_SESSION_TOKEN", f"{CANARY}\r"),
        ("BRUIN_AWS_SESSION_TOKEN", f"{CANARY}\n"),
        ("BRUIN_AWS_ACCESS_KEY_ID", f" {CANARY}"),
    ],
)
def test_credentials_that_cannot_be_sent_are_rejected_without_being_echoed(
    variable: str, value: str, tmp_path: Path
) -> None:
    with pytest.raises(BackendError) as caught:
        open_backend("aws", ENVIRONMENT, tmp_path, {**STATIC, variable: value})
    assert str(caught.value) == (
        f"failed to initialize AWS Secrets Manager client: {variable} contains characters "
        "that cannot be sent in an HTTP header"
    )
    assert caught.value.kind == "error"


def _signature(request_headers: dict[str, str]) -> tuple[str, str]:
    """The access key id and region a request was signed with."""
    match = re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/secretsmanager/", request_headers["Authorization"])
    assert match is not None
    return match[1], match[2]


def test_bruin_static_credentials_override_the_default_chain(
    moto: MotoServer,
    aws_env: Callable[[str], None],
    fault_proxy: Callable[..., FaultProxy],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "default-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "default-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "default-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    moto.client("us-east-2").create_secret(Name="api", SecretString=GENERIC)
    proxy = fault_proxy(moto.url)
    aws_env(proxy.url)
    connection = AwsSecretsManagerBackend.from_env(STATIC).get_connection("api")
    assert isinstance(connection, GenericConnection) and connection.value == "somevalue"
    (request,) = proxy.seen
    assert _signature(request.headers) == ("bruin-key", "us-east-2")
    assert request.headers["X-Amz-Security-Token"] == "bruin-token"


def test_default_chain_is_used_without_bruin_credentials(
    moto: MotoServer,
    aws_env: Callable[[str], None],
    fault_proxy: Callable[..., FaultProxy],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "default-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "default-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "default-token")
    moto.client("eu-west-1").create_secret(Name="api", SecretString=GENERIC)
    proxy = fault_proxy(moto.url)
    aws_env(proxy.url)
    backend = open_backend("aws", ENVIRONMENT, Path(".bruin.yml"), {"AWS_REGION": "eu-west-1"})
    assert isinstance(backend.get_connection("api"), GenericConnection)
    (request,) = proxy.seen
    assert _signature(request.headers) == ("default-key", "eu-west-1")
    assert request.headers["X-Amz-Security-Token"] == "default-token"


def test_session_token_is_optional(
    moto: MotoServer, aws_env: Callable[[str], None], fault_proxy: Callable[..., FaultProxy]
) -> None:
    moto.client("us-east-2").create_secret(Name="api", SecretString=GENERIC)
    proxy = fault_proxy(moto.url)
    aws_env(proxy.url)
    env = {key: value for key, value in STATIC.items() if key != "BRUIN_AWS_SESSION_TOKEN"}
    assert isinstance(AwsSecretsManagerBackend.from_env(env).get_connection("api"), GenericConnection)
    (request,) = proxy.seen
    assert "X-Amz-Security-Token" not in request.headers


def test_bruin_region_overrides_aws_region(
    moto: MotoServer, aws_env: Callable[[str], None], fault_proxy: Callable[..., FaultProxy]
) -> None:
    moto.client("us-east-2").create_secret(Name="api", SecretString=GENERIC)
    proxy = fault_proxy(moto.url)
    aws_env(proxy.url)
    backend = AwsSecretsManagerBackend.from_env({**STATIC, "AWS_REGION": "eu-west-1"})
    assert isinstance(backend.get_connection("api"), GenericConnection)
    assert _signature(proxy.seen[0].headers) == ("bruin-key", "us-east-2")


# --- reading ----------------------------------------------------------------------------------------


def test_reads_a_generic_connection(moto: MotoServer, backend: AwsSecretsManagerBackend) -> None:
    moto.client("us-east-2").create_secret(Name="test-connection", SecretString=GENERIC)
    connection = backend.get_connection("test-connection")
    assert isinstance(connection, GenericConnection)
    assert (connection.name, connection.value) == ("test-connection", "somevalue")
    backend.close()


def test_reads_a_typed_connection_by_name_or_arn(moto: MotoServer, backend: AwsSecretsManagerBackend) -> None:
    details = {"host": "db", "port": 5432, "username": "u", "password": "${PG_PASSWORD}", "database": "d"}
    created = moto.client("us-east-2").create_secret(
        Name="bruin/my-postgres", SecretString=json.dumps({"type": "postgres", "details": details})
    )
    by_name = backend.get_connection("bruin/my-postgres")
    assert isinstance(by_name, PostgresConnection)
    assert (by_name.name, by_name.port, by_name.password) == ("bruin/my-postgres", 5432, "")
    by_arn = backend.get_connection(created["ARN"])
    assert isinstance(by_arn, PostgresConnection) and by_arn.name == created["ARN"]


def test_variables_in_secrets_are_expanded(moto: MotoServer, aws_env: Callable[[str], None]) -> None:
    aws_env(moto.url)
    secret = {"type": "generic", "details": {"value": "prefix-${SUFFIX}"}}
    moto.client("us-east-2").create_secret(Name="api", SecretString=json.dumps(secret))
    connection = AwsSecretsManagerBackend.from_env({**STATIC, "SUFFIX": "x"}).get_connection("api")
    assert isinstance(connection, GenericConnection) and connection.value == "prefix-x"


def test_missing_secret_is_not_found(moto: MotoServer, backend: AwsSecretsManagerBackend) -> None:
    assert backend.get_connection("missing") is None


def test_binary_secret_has_no_string_value(moto: MotoServer, backend: AwsSecretsManagerBackend) -> None:
    moto.client("us-east-2").create_secret(Name="bin", SecretBinary=b"\x00\x01" + CANARY.encode())
    error = read_error(backend, "bin")
    assert str(error) == "secret 'bin' has no string value"
    assert error.kind == "malformed"


# The secret is named, as every other failure to read it is (upstream's text names nothing).
PARSE_FAILURE = "failed to read secret 'pg' from AWS Secrets Manager: failed to parse secret as JSON"


@pytest.mark.parametrize(
    ("value", "message", "kind"),
    [
        (f"not valid json {CANARY}", f"{PARSE_FAILURE}: Expecting value at line 1 column 1", "malformed"),
        (json.dumps([CANARY]), f"{PARSE_FAILURE}: expected an object, got array", "malformed"),
        ('{"type": "generic', f"{PARSE_FAILURE}: Unterminated string starting at line 1 column 10", "malformed"),
        (json.dumps({"some": CANARY}), MUST_CONTAIN, "malformed"),
        (json.dumps({"type": "", "details": {"value": CANARY}}), MUST_CONTAIN, "malformed"),
        (json.dumps({"type": "generic", "details": CANARY}), MUST_CONTAIN, "malformed"),
        (json.dumps({"type": "generic"}), MUST_CONTAIN, "malformed"),
        (json.dumps({"type": "nope", "details": {}}), "secret 'pg' has unknown connection type 'nope'", "wrong_type"),
    ],
)
def test_malformed_secrets(
    moto: MotoServer, backend: AwsSecretsManagerBackend, value: str, message: str, kind: str
) -> None:
    moto.client("us-east-2").create_secret(Name="pg", SecretString=value)
    error = read_error(backend, "pg")
    assert str(error) == message
    assert error.kind == kind


def test_invalid_field_is_named_without_its_value(moto: MotoServer, backend: AwsSecretsManagerBackend) -> None:
    secret = {"type": "postgres", "details": {"port": CANARY, "password": CANARY}}
    moto.client("us-east-2").create_secret(Name="pg", SecretString=json.dumps(secret))
    error = read_error(backend, "pg")
    assert str(error).startswith("failed to configure connection 'pg': ")
    assert "'port'" in str(error)


def test_access_denied_names_only_the_error_code(
    moto: MotoServer, aws_env: Callable[[str], None], fault_proxy: Callable[..., FaultProxy]
) -> None:
    proxy = fault_proxy(moto.url)
    aws_env(proxy.url)
    body = {"__type": "AccessDeniedException", "message": f"not authorized to read {CANARY}"}
    proxy.fail_next(400, body=json.dumps(body), headers={"Content-Type": "application/x-amz-json-1.1"})
    error = read_error(AwsSecretsManagerBackend.from_env(STATIC), "pg")
    assert str(error) == "failed to read secret 'pg' from AWS Secrets Manager: AccessDeniedException"
    assert error.kind == "denied"


def test_unreachable_endpoint(aws_env: Callable[[str], None]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    aws_env(url)
    error = read_error(AwsSecretsManagerBackend.from_env(STATIC), "pg")
    assert str(error) == f"failed to read secret 'pg' from AWS Secrets Manager: could not reach {url}"
    assert error.kind == "unreachable"


def test_missing_credentials(moto: MotoServer, aws_env: Callable[[str], None]) -> None:
    aws_env(moto.url)
    backend = AwsSecretsManagerBackend.from_env({"BRUIN_AWS_REGION": "us-east-1"})
    error = read_error(backend, "pg")
    assert str(error) == "failed to read secret 'pg' from AWS Secrets Manager: Unable to locate credentials"
    assert error.kind == "denied"
