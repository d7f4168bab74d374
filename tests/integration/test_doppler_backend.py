"""DopplerBackend against a loopback stand-in of Doppler's secrets-download endpoint."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pybruin.config.bruin_yml import Environment
from pybruin.config.connections import GenericConnection, PostgresConnection
from pybruin.secrets.base import BackendError
from pybruin.secrets.doppler import MAX_ATTEMPTS, RETRY_POLICY, DopplerBackend
from pybruin.secrets.registry import open_backend

if TYPE_CHECKING:
    from fixtures.doppler_standin import DopplerStandin

PROJECT, CONFIG = "bruin", "dev"


def _secret(type_key: str, **details: object) -> str:
    return json.dumps({"type": type_key, "details": details})


def _read_error(backend: DopplerBackend, name: str) -> BackendError:
    with pytest.raises(BackendError) as caught:
        backend.get_connection(name)
    return caught.value


def test_reads_generic_and_typed_connections(doppler: DopplerStandin) -> None:
    doppler.configs[(PROJECT, CONFIG)] = {
        "api-key": _secret("generic", value="generic-canary-1f3a"),
        "pg": _secret("postgres", host="${DB_HOST}", port=5432, username="app", password="pw-canary-77"),
    }
    backend = DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG, DB_HOST="db.internal"))

    generic = backend.get_connection("api-key")
    postgres = backend.get_connection("pg")

    assert isinstance(generic, GenericConnection)
    assert (generic.name, generic.value) == ("api-key", "generic-canary-1f3a")
    assert isinstance(postgres, PostgresConnection)
    assert (postgres.name, postgres.host, postgres.port, postgres.password) == (
        "pg",
        "db.internal",
        5432,
        "pw-canary-77",
    )
    [request] = doppler.requests
    assert request.path == "/v3/configs/config/secrets/download"
    assert request.query == {"project": [PROJECT], "config": [CONFIG], "format": ["json"]}
    assert request.authorization == f"Bearer {doppler.token}"
    assert request.accept == "application/json"


def test_missing_secret_is_not_found(doppler: DopplerStandin) -> None:
    doppler.configs[(PROJECT, CONFIG)] = {"other": _secret("generic", value="x")}

    assert DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG)).get_connection("pg") is None


def test_config_is_downloaded_once_for_many_concurrent_lookups(doppler: DopplerStandin) -> None:
    names = [f"conn-{index}" for index in range(5)]
    doppler.configs[(PROJECT, CONFIG)] = {name: _secret("generic", value=name) for name in names}
    backend = DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG))

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(backend.get_connection, [*names, *names, "missing"] * 3))

    assert [conn.value if conn else None for conn in results] == [*names, *names, None] * 3
    assert doppler.downloads == 1


def test_close_forgets_the_downloaded_config(doppler: DopplerStandin) -> None:
    doppler.configs[(PROJECT, CONFIG)] = {"pg": _secret("generic", value="v1")}
    backend = DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG))
    backend.get_connection("pg")
    doppler.configs[(PROJECT, CONFIG)] = {"pg": _secret("generic", value="v2")}

    backend.close()

    assert backend.get_connection("pg").value == "v2"
    assert doppler.downloads == 2


def test_project_and_config_are_url_encoded(doppler: DopplerStandin) -> None:
    project, config = "data & ops team", "dev+eu/1?x=#"
    doppler.configs[(project, config)] = {"pg": _secret("generic", value="found")}
    backend = DopplerBackend.from_env(doppler.bruin_env(project, config))

    assert backend.get_connection("pg").value == "found"
    assert doppler.requests[0].query["project"] == [project]


def test_rate_limit_and_server_errors_are_retried(doppler: DopplerStandin) -> None:
    canary = "body-canary-retry-5d1e"
    doppler.configs[(PROJECT, CONFIG)] = {"pg": _secret("generic", value="after-retries")}
    doppler.fail_next(429, json.dumps({"messages": [canary]}), {"Retry-After": "0"})
    doppler.fail_next(500, json.dumps({"messages": [canary]}))

    assert DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG)).get_connection("pg").value == "after-retries"
    assert doppler.downloads == 3


def test_retries_are_bounded_and_the_body_is_never_reported(doppler: DopplerStandin) -> None:
    canary = "body-canary-500-9b2c"
    for _ in range(MAX_ATTEMPTS):
        doppler.fail_next(500, json.dumps({"messages": [f"internal error {canary}"]}), {"Retry-After": "0"})

    error = _read_error(DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG)), "pg")

    assert str(error) == "failed to read secret 'pg' from Doppler: doppler API returned status 500"
    assert error.kind == "unreachable"  # the store is there but failing: a chain may fall through
    assert canary not in str(error)
    assert doppler.downloads == MAX_ATTEMPTS


def test_wrong_token_is_denied_once_per_run_without_echoing_body_or_token(doppler: DopplerStandin) -> None:
    token = "dp.st.dev.token-canary-4c8d"

    backend = DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG, BRUIN_DOPPLER_TOKEN=token))

    errors = [_read_error(backend, name) for name in ("pg", "api", "pg")]

    assert [str(error) for error in errors] == [
        f"failed to read secret '{name}' from Doppler: doppler API returned status 401" for name in ("pg", "api", "pg")
    ]
    assert {error.kind for error in errors} == {"denied"}
    assert not [error for error in errors if token in str(error) or "Invalid Auth token" in str(error)]
    assert doppler.downloads == 1


@pytest.mark.parametrize("status", [401, 403])
def test_denials_report_the_status_only(doppler: DopplerStandin, status: int) -> None:
    canary = f"body-canary-{status}-a7e0"
    doppler.fail_next(status, json.dumps({"messages": [canary]}))

    error = _read_error(DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG)), "pg")

    assert str(error) == f"failed to read secret 'pg' from Doppler: doppler API returned status {status}"
    assert (error.kind, canary in str(error)) == ("denied", False)


def test_unknown_config_is_an_error_not_a_missing_secret(doppler: DopplerStandin) -> None:
    error = _read_error(DopplerBackend.from_env(doppler.bruin_env(PROJECT, "nope")), "pg")

    assert str(error) == "failed to read secret 'pg' from Doppler: doppler API returned status 404"
    assert error.kind == "error"
    assert doppler.downloads == 1


def test_unreachable_api(doppler: DopplerStandin) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    closed = f"http://127.0.0.1:{closed_port}"
    backend = DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG, BRUIN_DOPPLER_API_HOST=closed))

    error = _read_error(backend, "pg")

    assert str(error) == (
        "failed to read secret 'pg' from Doppler: failed to fetch secrets from Doppler: Connection refused"
    )
    assert error.kind == "unreachable"


@pytest.mark.parametrize("token", ["dp.st.dev.canary-31e9\r", "dp.st.dev.canary-31e9\n", " dp.st.dev.canary-31e9"])
def test_a_token_that_cannot_be_sent_is_rejected_without_being_echoed(doppler: DopplerStandin, token: str) -> None:
    with pytest.raises(BackendError) as caught:
        DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG, BRUIN_DOPPLER_TOKEN=token))

    assert str(caught.value) == "BRUIN_DOPPLER_TOKEN contains characters that cannot be sent in an HTTP header"


def test_request_errors_never_quote_the_token(doppler: DopplerStandin) -> None:
    backend = DopplerBackend("dp.st.dev.canary-31e9\r", PROJECT, CONFIG, api_host=doppler.url)

    error = _read_error(backend, "pg")

    assert str(error) == (
        "failed to read secret 'pg' from Doppler: failed to fetch secrets from Doppler: LocalProtocolError"
    )
    assert "canary-31e9" not in str(error)
    assert doppler.downloads == 0


def test_non_json_response_is_reported_without_body(doppler: DopplerStandin) -> None:
    doppler.fail_next(200, "<html>canary-html-3e</html>")

    error = _read_error(DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG)), "pg")

    assert str(error) == "failed to read secret 'pg' from Doppler: failed to decode Doppler response: JSONDecodeError"
    assert "canary-html-3e" not in str(error)


@pytest.mark.parametrize(
    ("value", "message", "kind"),
    [
        (5, "failed to read secret 'pg' from Doppler: secret 'pg' is not a string", "malformed"),
        (
            "not json value-canary-0b",
            "failed to read secret 'pg' from Doppler: failed to parse secret as JSON: "
            "Expecting value at line 1 column 1",
            "malformed",
        ),
        (
            '["value-canary-0b"]',
            "failed to read secret 'pg' from Doppler: failed to parse secret as JSON: expected an object, got array",
            "malformed",
        ),
        (
            json.dumps({"some_field": "value-canary-0b"}),
            "secret 'pg' is missing required 'details' or 'type' fields",
            "malformed",
        ),
        (
            json.dumps({"type": "generic", "details": "value-canary-0b"}),
            "secret 'pg' has invalid 'details' field: expected a map",
            "malformed",
        ),
        (
            json.dumps({"type": "postgres"}),
            "secret 'pg' has invalid 'details' field: expected a map",
            "malformed",
        ),
        (
            json.dumps({"details": {"value": "value-canary-0b"}}),
            "secret 'pg' has unknown connection type ''",
            "wrong_type",
        ),
    ],
)
def test_malformed_secrets(doppler: DopplerStandin, value: object, message: str, kind: str) -> None:
    doppler.configs[(PROJECT, CONFIG)] = {"pg": value}

    error = _read_error(DopplerBackend.from_env(doppler.bruin_env(PROJECT, CONFIG)), "pg")

    assert (str(error), error.kind) == (message, kind)
    assert "value-canary-0b" not in str(error)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "BRUIN_DOPPLER_TOKEN env variable not set"),
        ({"BRUIN_DOPPLER_PROJECT": "p", "BRUIN_DOPPLER_CONFIG": "c"}, "BRUIN_DOPPLER_TOKEN env variable not set"),
        ({"BRUIN_DOPPLER_TOKEN": "", "BRUIN_DOPPLER_PROJECT": "p"}, "BRUIN_DOPPLER_TOKEN env variable not set"),
        ({"BRUIN_DOPPLER_TOKEN": "t"}, "BRUIN_DOPPLER_PROJECT env variable not set"),
        ({"BRUIN_DOPPLER_TOKEN": "t", "BRUIN_DOPPLER_CONFIG": "c"}, "BRUIN_DOPPLER_PROJECT env variable not set"),
        ({"BRUIN_DOPPLER_TOKEN": "t", "BRUIN_DOPPLER_PROJECT": "p"}, "BRUIN_DOPPLER_CONFIG env variable not set"),
        (
            {"BRUIN_DOPPLER_TOKEN": "t", "BRUIN_DOPPLER_PROJECT": "p", "BRUIN_DOPPLER_CONFIG": "c",
             "BRUIN_DOPPLER_API_HOST": "api.doppler.com"},
            "BRUIN_DOPPLER_API_HOST must be an http or https URL",
        ),
        (
            {"BRUIN_DOPPLER_TOKEN": "t", "BRUIN_DOPPLER_PROJECT": "p", "BRUIN_DOPPLER_CONFIG": "c",
             "BRUIN_DOPPLER_API_HOST": "http://[::1"},
            "BRUIN_DOPPLER_API_HOST must be an http or https URL",
        ),
        (
            {"BRUIN_DOPPLER_TOKEN": "t", "BRUIN_DOPPLER_PROJECT": "p", "BRUIN_DOPPLER_CONFIG": "c",
             "BRUIN_DOPPLER_API_HOST": "https://api.doppler.com:443x"},
            "BRUIN_DOPPLER_API_HOST must be an http or https URL",
        ),
    ],
)  # fmt: skip
def test_environment_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(BackendError) as caught:
        DopplerBackend.from_env(env)

    assert str(caught.value) == message


def test_open_backend_names_the_doppler_client(tmp_path: Path) -> None:
    environment = Environment(name="default", schema_prefix="", connections={})

    with pytest.raises(BackendError) as caught:
        open_backend("doppler", environment, tmp_path / ".bruin.yml", {"BRUIN_DOPPLER_TOKEN": "t"})

    assert str(caught.value) == "failed to initialize doppler client: BRUIN_DOPPLER_PROJECT env variable not set"


@pytest.mark.parametrize(
    ("attempt", "retry_after", "delay"),
    [
        (1, None, 0.2),
        (2, None, 0.4),
        (3, None, 0.8),
        (6, None, 2.0),
        (1, "3", 3.0),
        (3, "0", 0.0),
        (1, "86400", 30.0),
        (2, "soon", 0.4),
        (1, "Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_delay_doubles_and_honours_retry_after(attempt: int, retry_after: str | None, delay: float) -> None:
    waited = RETRY_POLICY.wait(attempt, 429, retry_after, now=time.time())
    if retry_after in (None, "soon"):
        assert delay / 2 <= waited <= delay, "the backoff, with equal jitter"
    else:
        assert waited == pytest.approx(delay)
