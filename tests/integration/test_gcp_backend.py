"""GcpSecretManagerBackend with the real google-cloud-secret-manager client (REST) against the loopback stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pybruin.config.bruin_yml import Environment
from pybruin.config.connections import GenericConnection, PostgresConnection
from pybruin.secrets.base import BackendError
from pybruin.secrets.gcp import GcpSecretManagerBackend, crc32c
from pybruin.secrets.registry import open_backend

if TYPE_CHECKING:
    from pathlib import Path

    from fixtures.gcp_standin import GcpStandin

from fixtures.gcp_standin import BODY_CANARY
from fixtures.gcp_standin import crc32c as bitwise_crc32c

ENVIRONMENT = Environment(name="default", schema_prefix="", connections={})
FAILURE = "failed to read secret 'pg' from GCP Secret Manager"


@pytest.fixture
def backend(gcp: GcpStandin) -> Iterator[GcpSecretManagerBackend]:
    backend = GcpSecretManagerBackend.from_env(gcp.bruin_env())
    yield backend
    backend.close()


def read_error(backend: GcpSecretManagerBackend, name: str = "pg") -> BackendError:
    with pytest.raises(BackendError) as caught:
        backend.get_connection(name)
    assert BODY_CANARY not in str(caught.value)
    return caught.value


def test_reads_generic_and_typed_connections_with_a_signed_token(gcp: GcpStandin) -> None:
    gcp.put("api_key", {"type": "generic", "details": {"value": "gcp-generic-canary"}})
    gcp.put("pg", {"type": "postgres", "details": {"host": "${DB_HOST}", "port": 5432, "password": "pw-canary"}})
    backend = GcpSecretManagerBackend.from_env(gcp.bruin_env(DB_HOST="db.internal"))

    generic = backend.get_connection("api_key")
    postgres = backend.get_connection("pg")

    assert isinstance(generic, GenericConnection) and generic.value == "gcp-generic-canary"
    assert isinstance(postgres, PostgresConnection)
    assert (postgres.name, postgres.host, postgres.port, postgres.password) == ("pg", "db.internal", 5432, "pw-canary")
    assert [request.path for request in gcp.seen] == [
        "/v1/projects/bruin-test/secrets/api_key/versions/latest:access",
        "/v1/projects/bruin-test/secrets/pg/versions/latest:access",
    ]
    assert all((request.authorization or "").startswith("Bearer eyJ") for request in gcp.seen)


def test_the_latest_version_unless_one_is_pinned(gcp: GcpStandin) -> None:
    for value in ("v1-value", "v2-value", "v3-value"):
        gcp.put("api_key", {"type": "generic", "details": {"value": value}})

    latest = GcpSecretManagerBackend.from_env(gcp.bruin_env()).get_connection("api_key")
    pinned = GcpSecretManagerBackend.from_env(gcp.bruin_env(BRUIN_GCP_VERSIONS="other=1, api_key=2"))

    assert isinstance(latest, GenericConnection) and latest.value == "v3-value"
    connection = pinned.get_connection("api_key")
    assert isinstance(connection, GenericConnection) and connection.value == "v2-value"
    assert gcp.seen[-1].path.endswith("/secrets/api_key/versions/2:access")


def test_a_missing_secret_is_not_found_but_a_missing_pinned_version_is_an_error(gcp: GcpStandin) -> None:
    gcp.put("api_key", {"type": "generic", "details": {"value": "only-one"}})
    backend = GcpSecretManagerBackend.from_env(gcp.bruin_env(BRUIN_GCP_VERSIONS="api_key=5"))

    assert backend.get_connection("nope") is None
    assert str(read_error(backend, "api_key")) == "version 5 of secret 'api_key' not found in GCP Secret Manager"


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (403, "GCP returned HTTP status 403 (Forbidden)", "denied"),
        (400, "GCP returned HTTP status 400 (Bad Request)", "error"),
    ],
)
def test_refusals_are_reported_in_our_words(gcp: GcpStandin, backend, status: int, reason: str, kind: str) -> None:
    gcp.secrets[(gcp.project, "pg")] = status

    error = read_error(backend)

    assert (str(error), error.kind) == (f"{FAILURE}: {reason}", kind)
    assert gcp.reads("pg") == 1, "a refusal is not retried"


@pytest.mark.parametrize("status", [429, 503, 500])
def test_transient_failures_are_retried(gcp: GcpStandin, backend, status: int) -> None:
    gcp.put("pg", {"type": "generic", "details": {"value": "after-retries"}})
    gcp.fail_next(status, times=2)

    connection = backend.get_connection("pg")

    assert isinstance(connection, GenericConnection) and connection.value == "after-retries"
    assert gcp.reads("pg") == 3


def test_retries_stop_after_max_retries(gcp: GcpStandin) -> None:
    gcp.secrets[(gcp.project, "pg")] = 503
    backend = GcpSecretManagerBackend.from_env(gcp.bruin_env(BRUIN_GCP_MAX_RETRIES="2"))

    error = read_error(backend)

    assert (str(error), error.kind) == (f"{FAILURE}: GCP returned HTTP status 503 (Service Unavailable)", "unreachable")
    assert gcp.reads("pg") == 3


def test_retry_after_that_overshoots_the_deadline_gives_up_at_once(gcp: GcpStandin) -> None:
    gcp.fail_next(429, headers={"Retry-After": "120"})
    backend = GcpSecretManagerBackend.from_env(gcp.bruin_env(BRUIN_GCP_TIMEOUT="2s"))

    error = read_error(backend)

    assert (str(error), error.kind) == (f"{FAILURE}: no answer within 2s (BRUIN_GCP_TIMEOUT)", "unreachable")
    assert gcp.reads("pg") == 1


def test_an_unreachable_endpoint(gcp: GcpStandin) -> None:
    from servers import free_port

    backend = GcpSecretManagerBackend.from_env(
        gcp.bruin_env(BRUIN_GCP_ENDPOINT=f"http://127.0.0.1:{free_port()}", BRUIN_GCP_MAX_RETRIES="1")
    )

    error = read_error(backend)

    assert (str(error), error.kind) == (f"{FAILURE}: could not connect to GCP: Connection refused", "unreachable")


def test_a_corrupted_payload_fails_its_checksum(gcp: GcpStandin, backend) -> None:
    gcp.put("pg", {"type": "generic", "details": {"value": "x-canary-crc"}})
    gcp.bad_checksums.add("pg")

    error = read_error(backend)

    assert (str(error), error.kind) == ("secret 'pg' from GCP Secret Manager failed its CRC32C check", "malformed")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "failed to parse secret as JSON: Expecting value at line 1 column 1"),
        (b"\xff\xfe", "secret 'pg' from GCP Secret Manager is not UTF-8 text"),
        (b'{"details": {}}', "secret 'pg' must contain both 'type' (non-empty string) and 'details' (object)"),
        (b'{"type": "nosuch", "details": {}}', "secret 'pg' has unknown connection type 'nosuch'"),
    ],
)
def test_malformed_payloads(gcp: GcpStandin, backend, payload: bytes, message: str) -> None:
    gcp.put("pg", payload)
    assert str(read_error(backend)) == message


def test_a_name_gcp_cannot_hold_is_refused_before_any_request(gcp: GcpStandin, backend) -> None:
    error = read_error(backend, "my.db")
    assert error.kind == "malformed" and "cannot be stored in GCP Secret Manager" in str(error)
    assert gcp.seen == []


def test_regional_secrets(gcp: GcpStandin) -> None:
    gcp.put("api_key", {"type": "generic", "details": {"value": "regional"}})
    backend = GcpSecretManagerBackend.from_env(gcp.bruin_env(BRUIN_GCP_LOCATION="europe-west1"))

    connection = backend.get_connection("api_key")

    assert isinstance(connection, GenericConnection) and connection.value == "regional"
    assert gcp.seen[-1].path == "/v1/projects/bruin-test/locations/europe-west1/secrets/api_key/versions/latest:access"


def test_application_default_credentials(gcp: GcpStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    gcp.put("api_key", {"type": "generic", "details": {"value": "via-adc"}})
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(gcp.key_file))
    env = gcp.bruin_env()
    del env["BRUIN_GCP_CREDENTIALS_FILE"]

    connection = GcpSecretManagerBackend.from_env(env).get_connection("api_key")

    assert isinstance(connection, GenericConnection) and connection.value == "via-adc"


def open_error(environ: dict[str, str], tmp_path: Path) -> str:
    with pytest.raises(BackendError) as caught:
        open_backend("gcp", ENVIRONMENT, tmp_path / ".bruin.yml", environ)
    return str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"BRUIN_GCP_PROJECT": ""}, "BRUIN_GCP_PROJECT env variable not set"),
        ({"BRUIN_GCP_VERSIONS": "api_key"}, "invalid BRUIN_GCP_VERSIONS: expected name=version pairs such as "
                                            "warehouse=3,api=7"),
        ({"BRUIN_GCP_VERSIONS": "api_key=0"}, "invalid BRUIN_GCP_VERSIONS: expected name=version pairs such as "
                                              "warehouse=3,api=7"),
        ({"BRUIN_GCP_ENDPOINT": "http://10.1.2.3:8080"}, "invalid BRUIN_GCP_ENDPOINT: http:// is only allowed on a "
                                                         "loopback address"),
        ({"BRUIN_GCP_ENDPOINT": "ftp://x"}, "invalid BRUIN_GCP_ENDPOINT: expected https://host[:port]"),
        ({"BRUIN_GCP_TIMEOUT": "30"}, "BRUIN_GCP_TIMEOUT must be a positive duration"),
        ({"BRUIN_GCP_MAX_RETRIES": "-1"}, "BRUIN_GCP_MAX_RETRIES must be a non-negative integer"),
        ({"BRUIN_GCP_LOCATION": "Europe West"}, "invalid BRUIN_GCP_LOCATION: expected a location such as europe-west1"),
    ],
)  # fmt: skip
def test_settings_are_checked_when_opened(gcp: GcpStandin, tmp_path, overrides, message) -> None:
    expected = f"failed to initialize GCP Secret Manager client: {message}"
    assert open_error(gcp.bruin_env(**overrides), tmp_path) == expected


def test_a_bad_key_file_is_named_without_its_contents(gcp: GcpStandin, tmp_path) -> None:
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "private_key": "pk-canary-71"}))

    message = open_error(gcp.bruin_env(BRUIN_GCP_CREDENTIALS_FILE=str(key)), tmp_path)

    assert message == (
        f"failed to initialize GCP Secret Manager client: failed to read BRUIN_GCP_CREDENTIALS_FILE '{key}': "
        "not a service account key file"
    )
    missing = open_error(gcp.bruin_env(BRUIN_GCP_CREDENTIALS_FILE=str(tmp_path / "nope.json")), tmp_path)
    assert missing.endswith(f"'{tmp_path / 'nope.json'}': No such file or directory")


def test_no_application_default_credentials(gcp: GcpStandin, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    env = gcp.bruin_env()
    del env["BRUIN_GCP_CREDENTIALS_FILE"]

    assert open_error(env, tmp_path) == (
        "failed to initialize GCP Secret Manager client: no Application Default Credentials found; set "
        "BRUIN_GCP_CREDENTIALS_FILE or run 'gcloud auth application-default login'"
    )


@pytest.mark.parametrize("data", [b"", b"123456789", bytes(range(256)) * 3])
def test_our_crc32c_matches_the_reference(data: bytes) -> None:
    assert crc32c(data) == bitwise_crc32c(data)
    assert crc32c(b"123456789") == 0xE3069283
