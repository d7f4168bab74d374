"""The Vault backend against a real OpenBao server, with a fault-injecting proxy for retries."""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import pybruin.secrets
import pybruin.secrets.vault
from fixtures.vault_server import FaultProxy, VaultServer
from pybruin.config.bruin_yml import Environment
from pybruin.config.connections import Connection, GenericConnection, PostgresConnection
from pybruin.durations import parse_go_duration
from pybruin.secrets.base import BackendError
from pybruin.secrets.cache import ConnectionCache
from pybruin.secrets.local import LocalBackend
from pybruin.secrets.registry import BACKEND_CREDENTIAL_VARIABLES, is_backend_variable, open_backend
from pybruin.secrets.vault import VaultBackend, VaultSettings, validate_vault_address
from pybruin.secrets.view import describe_missing
from servers import free_port

CANARY = "canary-5b1d0e77-vault"
NO_SERVICE_ACCOUNT = Path("/nonexistent/serviceaccount/token")
ENVIRONMENT = Environment(name="default", schema_prefix="", connections={})
MUST_CONTAIN = "must contain both 'type' (non-empty string) and 'details' (object)"
FAST_RETRIES = {"BRUIN_VAULT_RETRY_WAIT_MIN": "1ms", "BRUIN_VAULT_RETRY_WAIT_MAX": "4ms"}


def vault_env(host: str, **overrides: str) -> dict[str, str]:
    """Root reading path ``bruin`` at ``host`` (the server, a proxy or an address nothing serves), retrying fast."""
    return VaultServer(host).bruin_env("bruin", **{**FAST_RETRIES, **overrides})


def open_vault(host: str, **overrides: str) -> VaultBackend:
    return VaultBackend.from_env(vault_env(host, **overrides), service_account_token_path=NO_SERVICE_ACCOUNT)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def read_error(backend: VaultBackend, name: str) -> BackendError:
    with pytest.raises(BackendError) as caught:
        backend.get_connection(name)
    assert CANARY not in str(caught.value)
    return caught.value


GENERIC = {"type": "generic", "details": {"value": "somevalue"}}


# --- settings -----------------------------------------------------------------------------------


def test_settings_defaults() -> None:
    env = {"BRUIN_VAULT_HOST": "http://h", "BRUIN_VAULT_ROLE": "r", "BRUIN_VAULT_PATH": "p"}
    settings = VaultSettings.from_env({**env, "BRUIN_VAULT_MOUNT_PATH": "m"})
    timings = (settings.timeout, settings.retry_wait_min, settings.retry_wait_max, settings.max_retries)
    assert timings == (30.0, 0.2, 2.0, 3)
    assert (settings.token, settings.role, settings.k8s_auth_mount) == ("", "r", "kubernetes")


def test_settings_overrides() -> None:
    settings = VaultSettings.from_env(
        vault_env(
            "http://h",
            BRUIN_VAULT_TIMEOUT="12s",
            BRUIN_VAULT_RETRY_WAIT_MIN="50ms",
            BRUIN_VAULT_RETRY_WAIT_MAX="3s",
            BRUIN_VAULT_MAX_RETRIES="5",
            BRUIN_VAULT_K8S_AUTH_MOUNT="k8s-prod",
        )
    )
    timings = (settings.timeout, settings.retry_wait_min, settings.retry_wait_max, settings.max_retries)
    assert timings == (12.0, 0.05, 3.0, 5)
    assert settings.k8s_auth_mount == "k8s-prod"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("BRUIN_VAULT_HOST", "BRUIN_VAULT_HOST env variable not set"),
        ("BRUIN_VAULT_TOKEN", "BRUIN_VAULT_TOKEN or BRUIN_VAULT_ROLE env variable not set"),
        ("BRUIN_VAULT_PATH", "BRUIN_VAULT_PATH env variable not set"),
        ("BRUIN_VAULT_MOUNT_PATH", "BRUIN_VAULT_MOUNT_PATH env variable not set"),
    ],
)
def test_required_settings(missing: str, message: str) -> None:
    env = {
        "BRUIN_VAULT_HOST": "ftp://checked-later",
        "BRUIN_VAULT_TOKEN": "",
        "BRUIN_VAULT_ROLE": "",
        "BRUIN_VAULT_PATH": "",
        "BRUIN_VAULT_MOUNT_PATH": "",
        "BRUIN_VAULT_TIMEOUT": "invalid",
    }
    order = ["BRUIN_VAULT_HOST", "BRUIN_VAULT_TOKEN", "BRUIN_VAULT_PATH", "BRUIN_VAULT_MOUNT_PATH"]
    for earlier in order[: order.index(missing)]:
        env[earlier] = env[earlier] or "set"
    env[missing] = ""
    with pytest.raises(BackendError) as caught:
        VaultSettings.from_env(env)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BRUIN_VAULT_TIMEOUT", "invalid", "BRUIN_VAULT_TIMEOUT must be a positive duration"),
        ("BRUIN_VAULT_TIMEOUT", "10", "BRUIN_VAULT_TIMEOUT must be a positive duration"),
        ("BRUIN_VAULT_RETRY_WAIT_MIN", "0s", "BRUIN_VAULT_RETRY_WAIT_MIN must be a positive duration"),
        ("BRUIN_VAULT_RETRY_WAIT_MAX", "-1s", "BRUIN_VAULT_RETRY_WAIT_MAX must be a positive duration"),
        ("BRUIN_VAULT_MAX_RETRIES", "-1", "BRUIN_VAULT_MAX_RETRIES must be a non-negative integer"),
        ("BRUIN_VAULT_MAX_RETRIES", "three", "BRUIN_VAULT_MAX_RETRIES must be a non-negative integer"),
        (
            "BRUIN_VAULT_RETRY_WAIT_MIN",
            "2s",
            "BRUIN_VAULT_RETRY_WAIT_MAX must be greater than or equal to BRUIN_VAULT_RETRY_WAIT_MIN",
        ),
    ],
)
def test_invalid_tuning_settings(variable: str, value: str, message: str) -> None:
    env = vault_env("http://h", BRUIN_VAULT_RETRY_WAIT_MAX="1s")
    env[variable] = value
    with pytest.raises(BackendError) as caught:
        VaultSettings.from_env(env)
    assert str(caught.value) == message


@pytest.mark.parametrize("token", [f"{CANARY}\r", f"{CANARY}\n", f" {CANARY}", f"{CANARY}\u20ac"])
def test_a_token_that_cannot_be_sent_is_rejected_without_being_echoed(token: str) -> None:
    with pytest.raises(BackendError) as caught:
        VaultSettings.from_env(vault_env("http://h", BRUIN_VAULT_TOKEN=token))
    assert str(caught.value) == "BRUIN_VAULT_TOKEN contains characters that cannot be sent in an HTTP header"


def test_settings_repr_hides_the_token() -> None:
    settings = VaultSettings.from_env(vault_env("http://h", BRUIN_VAULT_TOKEN=CANARY))
    assert settings.token == CANARY
    assert CANARY not in repr(settings)


def test_zero_retries_is_allowed() -> None:
    assert VaultSettings.from_env(vault_env("http://h", BRUIN_VAULT_MAX_RETRIES="0")).max_retries == 0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("10s", 10.0),
        ("1m", 60.0),
        ("1h30m", 5400.0),
        ("1.5s", 1.5),
        ("2us", 2e-6),
        ("2µs", 2e-6),
        ("7ns", 7e-9),
        ("1m0.5s", 60.5),
        ("-1s", -1.0),
        ("0", 0.0),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "1x", "s", "1h 30m", "1.2.3s", "+"])
def test_invalid_go_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_duration(text)


@pytest.mark.parametrize(
    "host", ["https://vault.example.com:8200", "http://127.0.0.1:8200", "unix:///var/run/vault.sock"]
)
def test_valid_vault_addresses(host: str) -> None:
    validate_vault_address(host)


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("vault.example.com", "invalid Vault host: URL scheme must be http, https, or unix"),
        ("ftp://vault.example.com", "invalid Vault host: URL scheme must be http, https, or unix"),
        ("https:///vault", "invalid Vault host: HTTP(S) URL must include a host"),
        ("https://user:password@vault.example.com", "invalid Vault host: URL credentials are not allowed"),
        (
            "https://vault.example.com?token=secret",
            "invalid Vault host: query parameters and fragments are not allowed",
        ),
        ("https://vault.example.com#x", "invalid Vault host: query parameters and fragments are not allowed"),
        ("unix://", "invalid Vault host: unix URL must include a socket path"),
        ("http://[::1", "invalid Vault host: Invalid IPv6 URL"),
        ("https://admin:password", "invalid Vault host: malformed host or port"),
    ],
)
def test_invalid_vault_addresses(host: str, message: str) -> None:
    with pytest.raises(BackendError) as caught:
        validate_vault_address(host)
    assert str(caught.value) == message
    assert "password" not in str(caught.value) and "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (VaultSettings(host="", path="p", mount_path="m", token="t"), "empty vault host provided"),
        (VaultSettings(host="http://h", path="", mount_path="m", token="t"), "empty vault path provided"),
        (VaultSettings(host="http://h", path="p", mount_path="", token="t"), "empty vault mountpath provided"),
        (VaultSettings(host="http://h", path="p", mount_path="m"), "no vault credentials provided"),
        (VaultSettings(host="h", path="p", mount_path="m", token="t"), "invalid Vault host: URL scheme"),
    ],
)
def test_backend_checks_its_settings(settings: VaultSettings, message: str) -> None:
    with pytest.raises(BackendError, match=message.replace("(", r"\(")):
        VaultBackend(settings, environ={})


VAULT_RETRIES = VaultSettings(host="http://vault", path="p", mount_path="m", token="t").retry_policy
NOW = 1_700_000_000.0


def test_the_retry_policy_follows_the_settings() -> None:
    assert (VAULT_RETRIES.max_attempts, VAULT_RETRIES.deadline) == (4, 30.0), "3 retries after the first try"
    assert (VAULT_RETRIES.backoff_min, VAULT_RETRIES.backoff_max) == (0.2, 2.0)
    assert VAULT_RETRIES.wait_max == float("inf"), "Retry-After is obeyed exactly, within the deadline"


def test_retry_delay_honours_retry_after_exactly() -> None:
    assert VAULT_RETRIES.wait(1, 503, "3", now=NOW) == 3.0
    assert VAULT_RETRIES.wait(3, 429, "7", now=NOW) == 7.0


def test_retry_delay_is_exponential_with_equal_jitter() -> None:
    for retry, full in [(1, 0.2), (2, 0.4), (3, 0.8), (4, 1.6), (5, 2.0), (10, 2.0)]:
        for _ in range(20):
            assert full / 2 <= VAULT_RETRIES.wait(retry, 500, "3", now=NOW) <= full
    # An HTTP-date already past asks for no wait (upstream reads only delta-seconds and backs off instead).
    assert VAULT_RETRIES.wait(1, 503, "Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0.0


# --- opening a backend ----------------------------------------------------------------------------


def test_no_backend_means_the_config_file(tmp_path: Path) -> None:
    connection = GenericConnection(name="api", value="v")
    environment = Environment(name="prod", schema_prefix="", connections={"api": connection})
    for spec in (None, "", "  "):
        backend = open_backend(spec, environment, tmp_path / ".bruin.yml", {})
        assert isinstance(backend, LocalBackend)
        assert backend.name == "local"
        assert backend.get_connection("api") is connection
        assert backend.get_connection("other") is None


@pytest.mark.parametrize("spec", ["unknown", "Vault", "aws-secrets-manager"])
def test_unsupported_backend(spec: str, tmp_path: Path) -> None:
    with pytest.raises(BackendError) as caught:
        open_backend(f" {spec} ", ENVIRONMENT, tmp_path / ".bruin.yml", {})
    values = "possible values: vault, doppler, aws, azure, gcp, keyring"
    assert str(caught.value) == f'unsupported secrets backend "{spec}"; {values}'


def test_vault_configuration_errors_are_prefixed(tmp_path: Path) -> None:
    with pytest.raises(BackendError) as caught:
        open_backend("vault", ENVIRONMENT, tmp_path / ".bruin.yml", {})
    assert str(caught.value) == "failed to initialize vault client: BRUIN_VAULT_HOST env variable not set"


def test_a_missing_client_library_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in [m for m in sys.modules if m == "hvac" or m.startswith("hvac.")] + ["hvac"]:
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(BackendError) as caught:
        open_backend("vault", ENVIRONMENT, tmp_path, vault_env("http://127.0.0.1:1"))
    assert str(caught.value) == "failed to initialize vault client: Python package 'hvac' is not installed"


def test_every_variable_a_backend_reads_is_kept_from_assets() -> None:
    sources = (Path(pybruin.secrets.__file__).parent).glob("*.py")
    variables = {name for path in sources for name in re.findall(r"BRUIN_[A-Z0-9_]*[A-Z0-9]\b", path.read_text())}
    assert variables <= BACKEND_CREDENTIAL_VARIABLES
    assert all(is_backend_variable(name) for name in BACKEND_CREDENTIAL_VARIABLES)
    assert is_backend_variable("BRUIN_VAULT_NAMESPACE")
    assert not is_backend_variable("BRUIN_CONFIG_FILE")
    assert not is_backend_variable("AWS_ACCESS_KEY_ID")


def test_describe_missing(tmp_path: Path) -> None:
    assert describe_missing("warehouse", "vault", tmp_path, "prod") == (
        "connection 'warehouse' not found in secrets backend 'vault'"
    )
    for backend in (None, "", "local"):
        assert describe_missing("missing", backend, Path(".bruin.yml"), "default") == (
            "connection 'missing' not found in config file '.bruin.yml' under environment 'default'"
        )


# --- reading from a real server ----------------------------------------------------------------------


def test_reads_a_generic_connection(vault_server: VaultServer, tmp_path: Path) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    backend = open_backend("vault", ENVIRONMENT, tmp_path, vault_env(vault_server.address))
    connection = backend.get_connection(name)
    assert isinstance(connection, GenericConnection)
    assert (connection.name, connection.value) == (name, "somevalue")
    backend.close()


def test_reads_a_typed_connection_with_variables_expanded(vault_server: VaultServer) -> None:
    name = unique("pg")
    details = {"host": "db", "port": 1337, "username": "u", "password": "${PG_PASSWORD}", "name": "ignored"}
    vault_server.put(f"bruin/{name}", {"type": " postgres ", "details": details})
    backend = VaultBackend.from_env({**vault_env(vault_server.address), "PG_PASSWORD": "from-env"})
    connection = backend.get_connection(name)
    assert isinstance(connection, PostgresConnection)
    assert (connection.name, connection.port, connection.password) == (name, 1337, "from-env")


@pytest.mark.parametrize("mount", ["team-kv", "team/kv"])
def test_custom_and_nested_mounts_and_paths(vault_server: VaultServer, mount: str) -> None:
    vault_server.enable_kv2(mount)
    name = unique("generic")
    vault_server.put(f"apps/etl/{name}", GENERIC, mount=mount)
    backend = open_vault(vault_server.address, BRUIN_VAULT_MOUNT_PATH=f"/{mount}/", BRUIN_VAULT_PATH="apps/etl")
    connection = backend.get_connection(name)
    assert isinstance(connection, GenericConnection) and connection.value == "somevalue"


def test_missing_secret_is_not_found(vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]) -> None:
    proxy = fault_proxy(vault_server.address)
    assert open_vault(proxy.url).get_connection(unique("missing")) is None
    assert proxy.count("/v1/secret/data/") == 1


def test_wrong_token_is_denied(vault_server: VaultServer) -> None:
    backend = open_vault(vault_server.address, BRUIN_VAULT_TOKEN=CANARY)
    error = read_error(backend, "pg")
    assert str(error) == "failed to read secret 'pg' from Vault: Vault returned HTTP status 403 (Forbidden)"
    assert error.kind == "denied"


def test_token_wins_over_role(vault_server: VaultServer) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    backend = open_vault(vault_server.address, BRUIN_VAULT_ROLE="never-used")
    assert isinstance(backend.get_connection(name), GenericConnection)


def test_request_errors_never_quote_the_token(vault_server: VaultServer) -> None:
    settings = VaultSettings(host=vault_server.address, path="bruin", mount_path="secret", token=f"{CANARY}\r")
    error = read_error(VaultBackend(settings, environ={}), "pg")
    assert str(error) == "failed to read secret 'pg' from Vault: request to Vault failed: InvalidHeader"
    assert error.kind == "error"
    assert error.__cause__ is None and error.__suppress_context__


def test_a_redirect_to_another_origin_does_not_carry_the_token(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]
) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    elsewhere = fault_proxy(vault_server.address)
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(307, headers={"Location": f"{elsewhere.url}/v1/secret/data/bruin%2F{name}"})
    error = read_error(open_vault(proxy.url, BRUIN_VAULT_TOKEN=CANARY), name)
    assert error.kind == "denied"
    (followed,) = elsewhere.seen
    assert "X-Vault-Token" not in followed.headers


def test_a_redirect_within_vault_keeps_the_token(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]
) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(307, headers={"Location": f"{proxy.url}/v1/secret/data/bruin%2F{name}"})
    assert isinstance(open_vault(proxy.url).get_connection(name), GenericConnection)
    assert [request.headers["X-Vault-Token"] for request in proxy.seen] == ["root", "root"]


def test_empty_name_is_rejected_before_any_request(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]
) -> None:
    proxy = fault_proxy(vault_server.address)
    for name in ("", "  "):
        assert str(read_error(open_vault(proxy.url), name)) == "cannot read a Vault secret with an empty name"
    assert proxy.count() == 0


def test_names_are_sent_percent_encoded(vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]) -> None:
    proxy = fault_proxy(vault_server.address)
    assert open_vault(proxy.url).get_connection("a b?c") is None
    assert proxy.seen[-1].path == "/v1/secret/data/bruin%2Fa%20b%3Fc"


@pytest.mark.parametrize(
    ("secret", "message", "kind"),
    [
        ({"details": {"value": CANARY}}, MUST_CONTAIN, "malformed"),
        ({"type": " ", "details": {"value": CANARY}}, MUST_CONTAIN, "malformed"),
        ({"type": "generic", "details": CANARY}, MUST_CONTAIN, "malformed"),
        ({"type": "teleporter", "details": {"value": CANARY}}, "unknown connection type 'teleporter'", "wrong_type"),
        ({"type": "postgres", "details": {"port": CANARY, "password": CANARY}}, "field 'port'", "malformed"),
    ],
)
def test_malformed_secrets(vault_server: VaultServer, secret: dict[str, object], message: str, kind: str) -> None:
    name = unique("bad")
    vault_server.put(f"bruin/{name}", secret)
    error = read_error(open_vault(vault_server.address), name)
    assert message in str(error)
    assert name in str(error)
    assert error.kind == kind


def test_empty_response_is_malformed(vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]) -> None:
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(200, body=json.dumps({"data": None}))
    error = read_error(open_vault(proxy.url), "pg")
    assert str(error) == "failed to read secret 'pg' from Vault: Vault returned an empty response"
    assert error.kind == "malformed"


def test_reads_over_a_unix_socket(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy], tmp_path: Path
) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    proxy = fault_proxy(vault_server.address, unix_socket=tmp_path / "vault.sock")
    connection = open_vault(proxy.url).get_connection(name)
    assert isinstance(connection, GenericConnection) and connection.value == "somevalue"
    assert proxy.count(f"bruin%2F{name}") == 1


# --- retries and timeouts --------------------------------------------------------------------------


def test_transient_failures_are_retried(vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(503, times=2, body='{"errors":["sealed"]}')
    backend = open_vault(proxy.url, BRUIN_VAULT_MAX_RETRIES="2")
    assert isinstance(backend.get_connection(name), GenericConnection)
    assert proxy.count(name) == 3


@pytest.mark.parametrize("status", [412, 429, 500, 502, 504])
def test_retryable_statuses(vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy], status: int) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(status)
    assert isinstance(open_vault(proxy.url).get_connection(name), GenericConnection)
    assert proxy.count(name) == 2


@pytest.mark.parametrize(
    ("status", "text"), [(400, "400 (Bad Request)"), (403, "403 (Forbidden)"), (501, "501 (Not Implemented)")]
)
def test_permanent_failures_are_not_retried(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy], status: int, text: str
) -> None:
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(status, times=4, body=json.dumps({"errors": [CANARY]}))
    error = read_error(open_vault(proxy.url), "pg")
    assert str(error) == f"failed to read secret 'pg' from Vault: Vault returned HTTP status {text}"
    assert proxy.count() == 1


def test_exhausted_retries_report_the_last_status_without_the_body(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]
) -> None:
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(500, times=5, body=json.dumps({"errors": [f"internal error near {CANARY}"]}))
    error = read_error(open_vault(proxy.url, BRUIN_VAULT_MAX_RETRIES="1"), "pg")
    assert str(error) == "failed to read secret 'pg' from Vault: Vault returned HTTP status 500 (Internal Server Error)"
    assert error.kind == "unreachable"
    assert proxy.count() == 2


def test_retry_after_is_honoured_within_the_timeout(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]
) -> None:
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(429, headers={"Retry-After": "60"})
    error = read_error(open_vault(proxy.url, BRUIN_VAULT_TIMEOUT="2s"), "pg")
    assert str(error) == "failed to read secret 'pg' from Vault: no answer within 2s (BRUIN_VAULT_TIMEOUT)"
    assert error.kind == "unreachable"
    assert proxy.count() == 1


def test_short_retry_after_is_waited_out(vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(503, headers={"Retry-After": "0"})
    assert isinstance(open_vault(proxy.url).get_connection(name), GenericConnection)
    assert proxy.count(name) == 2


def test_one_overall_timeout_covers_a_hanging_server(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]
) -> None:
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(200, body="{}", pause=3)
    error = read_error(open_vault(proxy.url, BRUIN_VAULT_TIMEOUT="300ms"), "pg")
    assert str(error) == "failed to read secret 'pg' from Vault: no answer within 300ms (BRUIN_VAULT_TIMEOUT)"


def test_refused_connections_are_retried_then_reported(fault_proxy: Callable[..., FaultProxy]) -> None:

    error = read_error(open_vault(f"http://127.0.0.1:{free_port()}", BRUIN_VAULT_MAX_RETRIES="2"), "pg")
    assert str(error) == "failed to read secret 'pg' from Vault: could not connect to Vault: Connection refused"
    assert error.kind == "unreachable"


def test_concurrent_lookups_share_one_request(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy]
) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    proxy = fault_proxy(vault_server.address)
    cache = ConnectionCache(open_vault(proxy.url))
    results: list[Connection | None] = []
    start = threading.Barrier(10)

    def ask() -> None:
        start.wait()
        results.append(cache.get(name))

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 10 and all(isinstance(result, GenericConnection) for result in results)
    assert proxy.count(name) == 1


# --- Kubernetes (role) login ---------------------------------------------------------------------------


def test_missing_service_account_token(vault_server: VaultServer, tmp_path: Path) -> None:
    env = vault_env(vault_server.address, BRUIN_VAULT_TOKEN="", BRUIN_VAULT_ROLE="etl")
    with pytest.raises(BackendError) as caught:
        VaultBackend.from_env(env, service_account_token_path=tmp_path / "token")
    assert str(caught.value).startswith("failed to read service account token: ")
    assert str(tmp_path / "token") in str(caught.value)


def test_a_failed_login_closes_the_http_session(
    vault_server: VaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[bool] = []
    open_adapter = pybruin.secrets.vault._open_adapter

    def recording(host: str, timeout: float) -> object:
        adapter = open_adapter(host, timeout)
        close = adapter.close
        adapter.close = lambda: (closed.append(True), close())
        return adapter

    monkeypatch.setattr(pybruin.secrets.vault, "_open_adapter", recording)
    env = vault_env(vault_server.address, BRUIN_VAULT_TOKEN="", BRUIN_VAULT_ROLE="etl")
    with pytest.raises(BackendError):
        VaultBackend.from_env(env, service_account_token_path=tmp_path / "token")
    assert closed == [True]


def test_empty_service_account_token(vault_server: VaultServer, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(" \n")
    env = vault_env(vault_server.address, BRUIN_VAULT_TOKEN="", BRUIN_VAULT_ROLE="etl")
    with pytest.raises(BackendError) as caught:
        VaultBackend.from_env(env, service_account_token_path=tmp_path / "token")
    assert str(caught.value) == "service account token is empty"


def _signed_jwt(private_key: object, claims: dict[str, object]) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def part(data: dict[str, object] | bytes) -> str:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}"
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[attr-defined]
    return f"{signing_input}.{part(signature)}"


@pytest.fixture(scope="module")
def service_account_jwt(vault_server: VaultServer) -> str:
    """A signed JWT that a JWT auth mount named like a Kubernetes one accepts for role ``etl``.

    Vault's Kubernetes and JWT auth methods take the same login body (``jwt`` and ``role``), so
    this exercises the real login exchange without a Kubernetes API server.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    adapter = vault_server.client().adapter
    adapter.post("/v1/sys/auth/k8s-test", json={"type": "jwt"})
    adapter.post("/v1/auth/k8s-test/config", json={"jwt_validation_pubkeys": [public_pem]})
    policy = 'path "secret/data/*" { capabilities = ["read"] }'
    adapter.post("/v1/sys/policies/acl/bruin-reader", json={"policy": policy})
    adapter.post(
        "/v1/auth/k8s-test/role/etl",
        json={
            "role_type": "jwt",
            "user_claim": "sub",
            "bound_audiences": ["bruin"],
            "token_policies": ["bruin-reader"],
        },
    )
    now = int(time.time())
    claims = {"sub": "system:serviceaccount:etl:bruin", "aud": "bruin", "iat": now, "nbf": now, "exp": now + 3600}
    return _signed_jwt(key, claims)


def test_kubernetes_login_then_read(
    vault_server: VaultServer, service_account_jwt: str, fault_proxy: Callable[..., FaultProxy], tmp_path: Path
) -> None:
    name = unique("generic")
    vault_server.put(f"bruin/{name}", GENERIC)
    token_file = tmp_path / "token"
    token_file.write_text(service_account_jwt + "\n")
    proxy = fault_proxy(vault_server.address)
    env = vault_env(proxy.url, BRUIN_VAULT_TOKEN="", BRUIN_VAULT_ROLE="etl", BRUIN_VAULT_K8S_AUTH_MOUNT="k8s-test")
    backend = VaultBackend.from_env(env, service_account_token_path=token_file)
    assert isinstance(backend.get_connection(name), GenericConnection)
    login, read = proxy.seen
    assert login.method == "POST" and login.path == "/v1/auth/k8s-test/login"
    assert read.headers["X-Vault-Token"] not in ("", "root")


def test_kubernetes_login_rejected(vault_server: VaultServer, service_account_jwt: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(service_account_jwt)
    env = vault_env(vault_server.address, BRUIN_VAULT_TOKEN="", BRUIN_VAULT_ROLE="no-such-role")
    env["BRUIN_VAULT_K8S_AUTH_MOUNT"] = "k8s-test"
    with pytest.raises(BackendError) as caught:
        VaultBackend.from_env(env, service_account_token_path=token_file)
    assert str(caught.value) == "failed to login to the secrets backend: Vault returned HTTP status 400 (Bad Request)"
    assert service_account_jwt not in str(caught.value)


def test_kubernetes_login_without_a_client_token(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy], tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(CANARY)
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(200, body=json.dumps({"data": None}))
    env = vault_env(proxy.url, BRUIN_VAULT_TOKEN="", BRUIN_VAULT_ROLE="etl")
    with pytest.raises(BackendError) as caught:
        VaultBackend.from_env(env, service_account_token_path=token_file)
    assert str(caught.value) == "failed to login to the secrets backend: Vault returned no client token"
    assert proxy.seen[0].path == "/v1/auth/kubernetes/login"


def test_kubernetes_login_errors_do_not_echo_the_body(
    vault_server: VaultServer, fault_proxy: Callable[..., FaultProxy], tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(CANARY)
    proxy = fault_proxy(vault_server.address)
    proxy.fail_next(403, body=json.dumps({"errors": [f"permission denied for {CANARY}"]}))
    env = vault_env(proxy.url, BRUIN_VAULT_TOKEN="", BRUIN_VAULT_ROLE="etl")
    with pytest.raises(BackendError) as caught:
        VaultBackend.from_env(env, service_account_token_path=token_file)
    assert str(caught.value) == "failed to login to the secrets backend: Vault returned HTTP status 403 (Forbidden)"
    assert caught.value.kind == "denied"
    assert CANARY not in str(caught.value)
