"""AzureKeyVaultBackend with the real Azure SDK and ClientSecretCredential against an HTTPS stand-in."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import pybruin.secrets.azure
from pybruin.config.bruin_yml import Environment
from pybruin.config.connections import GenericConnection, PostgresConnection
from pybruin.secrets.azure import AzureKeyVaultBackend, parse_vault_url
from pybruin.secrets.base import BackendError
from pybruin.secrets.cache import ConnectionCache
from pybruin.secrets.registry import open_backend

if TYPE_CHECKING:
    from fixtures.keyvault_standin import KeyVaultStandin

CLIENT_SECRET_CANARY = "client-secret-canary-e1d7"
INVALID_URL = "invalid Azure Key Vault URL: must be https://<name>.vault.azure.net"
MISSING_FIELDS = "secret 'pg' must contain both 'type' (non-empty string) and 'details' (object)"
VAULT = {"BRUIN_AZURE_KEYVAULT_URL": "https://myvault.vault.azure.net"}
CLIENT_CREDENTIALS = {"BRUIN_AZURE_AUTH_METHOD": "client_credentials"}
TENANT = {"BRUIN_AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47"}
CLIENT = {"BRUIN_AZURE_CLIENT_ID": "8a2f4b7e-1c3d-4e5f-9a0b-1c2d3e4f5a6b"}
SECRET = {"BRUIN_AZURE_CLIENT_SECRET": CLIENT_SECRET_CANARY}


@pytest.fixture
def backend(keyvault: KeyVaultStandin) -> Iterator[AzureKeyVaultBackend]:
    backend = AzureKeyVaultBackend.from_env(keyvault.bruin_env())
    yield backend
    backend.close()


def _read_error(backend: AzureKeyVaultBackend, name: str) -> BackendError:
    with pytest.raises(BackendError) as caught:
        backend.get_connection(name)
    return caught.value


def test_reads_generic_and_typed_connections(keyvault: KeyVaultStandin) -> None:
    keyvault.put_json("api-key", {"type": "generic", "details": {"value": "generic-canary-61c2"}})
    keyvault.put_json(
        "warehouse",
        {"type": "postgres", "details": {"host": "${DB_HOST}", "port": 5432, "password": "pw-canary-8e"}},
    )
    backend = AzureKeyVaultBackend.from_env(keyvault.bruin_env(DB_HOST="db.internal"))

    generic = backend.get_connection("api-key")
    postgres = backend.get_connection("warehouse")

    assert isinstance(generic, GenericConnection)
    assert (generic.name, generic.value) == ("api-key", "generic-canary-61c2")
    assert isinstance(postgres, PostgresConnection)
    assert (postgres.name, postgres.host, postgres.port, postgres.password) == (
        "warehouse",
        "db.internal",
        5432,
        "pw-canary-8e",
    )
    assert keyvault.reads == {"api-key": 1, "warehouse": 1}
    assert keyvault.token_requests == 1


def test_missing_secret_is_not_found(keyvault: KeyVaultStandin, backend: AzureKeyVaultBackend) -> None:
    assert backend.get_connection("nope") is None
    assert keyvault.reads == {"nope": 1}


def test_concurrent_lookups_through_the_cache_read_each_secret_once(
    keyvault: KeyVaultStandin, backend: AzureKeyVaultBackend
) -> None:
    keyvault.put_json("pg", {"type": "generic", "details": {"value": "one"}})
    keyvault.put_json("api", {"type": "generic", "details": {"value": "two"}})
    cache = ConnectionCache(backend)

    with ThreadPoolExecutor(max_workers=10) as pool:
        values = list(pool.map(lambda name: cache.get(name).value, ["pg", "api"] * 5))

    assert values == ["one", "two"] * 5
    assert keyvault.reads == {"pg": 1, "api": 1}
    assert cache.reads == 2


@pytest.mark.parametrize("name", ["my_pg", "bruin/pg", "pg.prod", "pg prod", "ünïcode", "", "a" * 128])
def test_names_key_vault_cannot_store_are_rejected_before_any_request(
    keyvault: KeyVaultStandin, backend: AzureKeyVaultBackend, name: str
) -> None:
    error = _read_error(backend, name)

    reason = (
        "secret names may be at most 127 characters long"
        if len(name) > 127
        else "secret names may only contain letters, digits and '-'"
    )
    assert str(error) == f"connection name '{name}' cannot be stored in Azure Key Vault: {reason}"
    assert error.kind == "malformed"
    assert (keyvault.reads, keyvault.token_requests) == ({}, 0)


def test_longest_storable_name_is_read(keyvault: KeyVaultStandin, backend: AzureKeyVaultBackend) -> None:
    name = "Ab-9" * 31 + "xyz"
    keyvault.put_json(name, {"type": "generic", "details": {"value": "long"}})

    assert backend.get_connection(name).value == "long"


def test_forbidden_is_denied_without_body(keyvault: KeyVaultStandin, backend: AzureKeyVaultBackend) -> None:
    keyvault.forbidden.add("pg")

    error = _read_error(backend, "pg")

    assert (
        str(error) == "failed to read secret 'pg' from Azure Key Vault: Key Vault returned HTTP status 403 (Forbidden)"
    )
    assert error.kind == "denied"
    assert keyvault.body_canary not in str(error)


def test_server_error_is_retried_then_reported_without_body(
    keyvault: KeyVaultStandin, backend: AzureKeyVaultBackend
) -> None:
    keyvault.failing.add("pg")

    error = _read_error(backend, "pg")

    assert str(error) == (
        "failed to read secret 'pg' from Azure Key Vault: Key Vault returned HTTP status 500 (Internal Server Error)"
    )
    assert error.kind == "unreachable"  # the store is there but failing: a chain may fall through
    assert keyvault.body_canary not in str(error)
    assert keyvault.reads == {"pg": 3}


def test_wrong_client_secret_is_denied_without_echoing_secret_or_body(keyvault: KeyVaultStandin) -> None:
    wrong_secret = "client-secret-canary-2f9a"
    keyvault.put_json("pg", {"type": "generic", "details": {"value": "never-read"}})
    backend = AzureKeyVaultBackend.from_env(keyvault.bruin_env(BRUIN_AZURE_CLIENT_SECRET=wrong_secret))

    error = _read_error(backend, "pg")

    assert str(error) == "failed to read secret 'pg' from Azure Key Vault: authentication failed"
    assert error.kind == "denied"
    for canary in (wrong_secret, keyvault.client_secret, keyvault.body_canary, "AADSTS"):
        assert canary not in str(error)
    assert keyvault.reads == {}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_vault(keyvault: KeyVaultStandin) -> None:
    url = f"https://127.0.0.1:{_closed_port()}"
    backend = AzureKeyVaultBackend.from_env(keyvault.bruin_env(BRUIN_AZURE_KEYVAULT_URL=url))

    error = _read_error(backend, "pg")

    assert str(error).startswith("failed to read secret 'pg' from Azure Key Vault: could not reach the vault: ")
    assert error.kind == "unreachable"


def test_a_vault_that_never_answers_times_out(keyvault: KeyVaultStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pybruin.secrets.azure, "TIMEOUT", 0.3)
    with socket.socket() as silent:
        # The kernel completes TCP handshakes but nothing ever answers TLS. Without a connect timeout the
        # SDK would wait 300 s; closing the listener after 20 s resets such a connection instead.
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        closer = threading.Timer(20, silent.close)
        closer.start()
        url = f"https://127.0.0.1:{silent.getsockname()[1]}"
        backend = AzureKeyVaultBackend.from_env(keyvault.bruin_env(BRUIN_AZURE_KEYVAULT_URL=url))
        try:
            error = _read_error(backend, "pg")
        finally:
            closer.cancel()
            backend.close()

    assert str(error).startswith("failed to read secret 'pg' from Azure Key Vault: could not reach the vault: ")
    assert "timed out" in str(error)
    assert error.kind == "unreachable"


def test_unreachable_token_endpoint(keyvault: KeyVaultStandin) -> None:
    authority = f"https://127.0.0.1:{_closed_port()}"
    backend = AzureKeyVaultBackend.from_env(keyvault.bruin_env(BRUIN_AZURE_AUTHORITY_HOST=authority))

    error = _read_error(backend, "pg")

    assert str(error).startswith(
        "failed to read secret 'pg' from Azure Key Vault: could not reach the token endpoint: "
    )
    assert error.kind == "unreachable"
    assert keyvault.client_secret not in str(error)


def test_vault_certificate_is_verified(keyvault: KeyVaultStandin) -> None:
    backend = AzureKeyVaultBackend.from_env(keyvault.bruin_env(BRUIN_AZURE_CA_BUNDLE=""))

    error = _read_error(backend, "pg")

    assert "CERTIFICATE_VERIFY_FAILED" in str(error)
    assert error.kind == "unreachable"
    assert keyvault.reads == {}


def test_secret_without_value(keyvault: KeyVaultStandin, backend: AzureKeyVaultBackend) -> None:
    keyvault.secrets["pg"] = None

    error = _read_error(backend, "pg")

    assert (str(error), error.kind) == ("secret 'pg' has no value", "malformed")


@pytest.mark.parametrize(
    ("document", "message", "kind"),
    [
        (
            "value-canary-c4 is not json",
            "failed to parse secret as JSON: Expecting value at line 1 column 1",
            "malformed",
        ),
        ('"value-canary-c4"', "failed to parse secret as JSON: expected an object, got string", "malformed"),
        ({"some": "value-canary-c4"}, MISSING_FIELDS, "malformed"),
        ({"type": "generic", "details": "value-canary-c4"}, MISSING_FIELDS, "malformed"),
        ({"type": "", "details": {"value": "value-canary-c4"}}, MISSING_FIELDS, "malformed"),
        (
            {"type": "teleporter", "details": {"value": "value-canary-c4"}},
            "secret 'pg' has unknown connection type 'teleporter'",
            "wrong_type",
        ),
    ],
)
def test_malformed_secrets(
    keyvault: KeyVaultStandin, backend: AzureKeyVaultBackend, document: object, message: str, kind: str
) -> None:
    keyvault.secrets["pg"] = document if isinstance(document, str) else json.dumps(document)

    error = _read_error(backend, "pg")

    assert (str(error), error.kind) == (message, kind)
    assert "value-canary-c4" not in str(error)


def test_invalid_field_names_the_field_but_not_the_value(
    keyvault: KeyVaultStandin, backend: AzureKeyVaultBackend
) -> None:
    keyvault.put_json("pg", {"type": "postgres", "details": {"port": "port-canary-5a", "password": "pw-canary-5a"}})

    error = _read_error(backend, "pg")

    assert str(error).startswith("failed to configure connection 'pg': ")
    assert "port" in str(error)
    assert "canary-5a" not in str(error)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "BRUIN_AZURE_KEYVAULT_URL env variable not set"),
        (
            {"BRUIN_AZURE_KEYVAULT_URL": "", "BRUIN_AZURE_AUTH_METHOD": "cli"},
            "BRUIN_AZURE_KEYVAULT_URL env variable not set",
        ),
        ({**VAULT, "BRUIN_AZURE_AUTH_METHOD": "password"}, "unsupported Azure auth method: password"),
        ({**VAULT, "BRUIN_AZURE_AUTH_METHOD": "Default"}, "unsupported Azure auth method: Default"),
        ({"BRUIN_AZURE_KEYVAULT_URL": "not-a-url", "BRUIN_AZURE_AUTH_METHOD": "x"}, "unsupported Azure auth method: x"),
        ({**VAULT, **CLIENT_CREDENTIALS}, "BRUIN_AZURE_TENANT_ID env variable not set for client_credentials auth"),
        (
            {**CLIENT_CREDENTIALS, "BRUIN_AZURE_KEYVAULT_URL": "not-a-url"},
            "BRUIN_AZURE_TENANT_ID env variable not set for client_credentials auth",
        ),
        (
            {**VAULT, **CLIENT_CREDENTIALS, **TENANT},
            "BRUIN_AZURE_CLIENT_ID env variable not set for client_credentials auth",
        ),
        (
            {**VAULT, **CLIENT_CREDENTIALS, **TENANT, **SECRET},
            "BRUIN_AZURE_CLIENT_ID env variable not set for client_credentials auth",
        ),
        (
            {**VAULT, **CLIENT_CREDENTIALS, **TENANT, **CLIENT},
            "BRUIN_AZURE_CLIENT_SECRET env variable not set for client_credentials auth",
        ),
        (
            {
                **CLIENT_CREDENTIALS,
                **TENANT,
                **CLIENT,
                **SECRET,
                "BRUIN_AZURE_KEYVAULT_URL": "https://vault.example.com",
            },
            INVALID_URL,
        ),
        ({"BRUIN_AZURE_KEYVAULT_URL": "http://vault.vault.azure.net"}, INVALID_URL),
        ({"BRUIN_AZURE_KEYVAULT_URL": "not-a-url", "BRUIN_AZURE_AUTH_METHOD": "cli"}, INVALID_URL),
        (
            {"BRUIN_AZURE_KEYVAULT_URL": "https://127.0.0.1:8443", "BRUIN_AZURE_AUTH_METHOD": "managed_identity"},
            INVALID_URL,
        ),
        (
            {**VAULT, "BRUIN_AZURE_CA_BUNDLE": "/nonexistent/ca.pem"},
            "BRUIN_AZURE_CA_BUNDLE file not found: /nonexistent/ca.pem",
        ),
        (
            {**VAULT, **CLIENT_CREDENTIALS, **CLIENT, **SECRET, "BRUIN_AZURE_TENANT_ID": "not a tenant!"},
            "failed to create Azure client secret credential: Invalid tenant ID provided.",
        ),
        (
            {
                **VAULT,
                **CLIENT_CREDENTIALS,
                **TENANT,
                **CLIENT,
                **SECRET,
                "BRUIN_AZURE_AUTHORITY_HOST": "http://login.example",
            },
            "failed to create Azure client secret credential: 'http://login.example' is an invalid authority.",
        ),
    ],
)
def test_environment_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(BackendError) as caught:
        AzureKeyVaultBackend.from_env(env)

    assert str(caught.value).startswith(message)
    assert CLIENT_SECRET_CANARY not in str(caught.value)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"BRUIN_AZURE_AUTH_METHOD": "default"},
        {"BRUIN_AZURE_AUTH_METHOD": "managed_identity"},
        {
            "BRUIN_AZURE_AUTH_METHOD": "managed_identity",
            "BRUIN_AZURE_CLIENT_ID": "8a2f4b7e-1c3d-4e5f-9a0b-1c2d3e4f5a6b",
        },
        {"BRUIN_AZURE_AUTH_METHOD": "cli"},
    ],
)
def test_every_auth_method_builds_without_network(env: dict[str, str]) -> None:
    backend = AzureKeyVaultBackend.from_env({**VAULT, **env})

    assert backend.name == "azure"
    backend.close()


def test_open_backend_names_the_azure_client(tmp_path: Path) -> None:
    environment = Environment(name="default", schema_prefix="", connections={})

    with pytest.raises(BackendError) as caught:
        open_backend("azure", environment, tmp_path / ".bruin.yml", {"BRUIN_AZURE_AUTH_METHOD": "cli"})

    assert (
        str(caught.value)
        == "failed to initialize Azure Key Vault client: BRUIN_AZURE_KEYVAULT_URL env variable not set"
    )


@pytest.mark.parametrize(
    ("url", "extra", "azure_domain"),
    [
        ("https://myvault.vault.azure.net", "", True),
        ("https://myvault.vault.azure.net/", "", True),
        ("https://MyVault.Vault.Azure.NET:443", "", True),
        ("https://myvault.vault.azure.cn", "", True),
        ("https://myvault.vault.usgovcloudapi.net", "", True),
        ("https://myvault.vault.microsoftazure.de", "", True),
        ("https://kv.vault.local.azurestack.external", ".vault.local.azurestack.external", False),
        ("https://kv.vault.local.azurestack.external", " .example.org , .Vault.Local.AzureStack.External ", False),
        ("https://127.0.0.1:8443", "127.0.0.1", False),
    ],
)
def test_accepted_vault_urls(url: str, extra: str, azure_domain: bool) -> None:
    assert parse_vault_url(url, extra.split(",")).azure_domain is azure_domain


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("not-a-url", ""),
        ("http://vault.vault.azure.net", ""),
        ("https://vault.example.com", ""),
        ("https://vault.azure.net", ""),
        ("https://.vault.azure.net", ""),
        ("https://myvault.vault.azure.net.evil.example", ""),
        ("https://myvault.vault.azure.net/secrets", ""),
        ("https://myvault.vault.azure.net?x=1", ""),
        ("https://myvault.vault.azure.net#x", ""),
        ("https://user:pw@myvault.vault.azure.net", ""),
        ("https://myvault.vault.azure.net:notaport", ""),
        ("https://127.0.0.1:8443", ""),
        ("https://127.0.0.10:8443", "127.0.0.1"),
        ("https://vault.local.azurestack.external", ".vault.local.azurestack.external"),
        ("https://kv.vault.local.azurestack.external", ""),
    ],
)
def test_rejected_vault_urls(url: str, extra: str) -> None:
    with pytest.raises(BackendError) as caught:
        parse_vault_url(url, extra.split(","))

    assert str(caught.value) == INVALID_URL
