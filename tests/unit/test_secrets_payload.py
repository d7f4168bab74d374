"""The shared secret → connection path every remote backend uses."""

from __future__ import annotations

import pytest

from pybruin.config.connections import GenericConnection, PostgresConnection
from pybruin.secrets.base import BackendError
from pybruin.secrets.payload import connection_from_payload, parse_secret_object

CANARY = "canary-7f3a9c1e-payload"
MUST_CONTAIN = "secret 'pg' must contain both 'type' (non-empty string) and 'details' (object)"


def test_generic_secret_takes_the_connection_name() -> None:
    payload = {"type": "generic", "details": {"name": "other", "value": "somevalue"}}
    connection = connection_from_payload("test-connection", payload, environ={})
    assert isinstance(connection, GenericConnection)
    assert (connection.name, connection.value) == ("test-connection", "somevalue")
    assert payload["details"]["name"] == "other"


def test_typed_secret_is_validated() -> None:
    details = {"host": "db", "port": 1337, "username": "u", "password": "p", "database": "d"}
    connection = connection_from_payload("pg", {"type": "postgres", "details": details}, environ={})
    assert isinstance(connection, PostgresConnection)
    assert (connection.name, connection.port) == ("pg", 1337)


def test_type_is_matched_case_insensitively_like_upstream() -> None:
    connection = connection_from_payload("pg", {"type": "Postgres", "details": {"port": 1}}, environ={})
    assert isinstance(connection, PostgresConnection)


def test_variables_are_expanded_and_unset_ones_become_empty() -> None:
    details = {"password": "${PG_PASSWORD}", "host": "${UNSET_HOST_VARIABLE}"}
    connection = connection_from_payload(
        "pg", {"type": "postgres", "details": details}, environ={"PG_PASSWORD": "from-env"}
    )
    assert isinstance(connection, PostgresConnection)
    assert (connection.password, connection.host) == ("from-env", "")


def test_unknown_type_is_an_error_naming_the_type() -> None:
    with pytest.raises(BackendError) as caught:
        connection_from_payload("pg", {"type": "postgresql", "details": {}}, environ={})
    assert str(caught.value) == "secret 'pg' has unknown connection type 'postgresql'"
    assert caught.value.kind == "wrong_type"


@pytest.mark.parametrize(
    "payload",
    [
        {"details": {}},
        {"type": "", "details": {}},
        {"type": 5, "details": {}},
        {"type": "postgres"},
        {"type": "postgres", "details": "secret"},
        ["postgres"],
    ],
)
@pytest.mark.parametrize("rule", ["trimmed", "non_empty"])
def test_strict_rules_need_a_type_and_details(payload: object, rule: str) -> None:
    with pytest.raises(BackendError) as caught:
        connection_from_payload("pg", payload, environ={}, rule=rule)  # type: ignore[arg-type]
    assert (str(caught.value), caught.value.kind) == (MUST_CONTAIN, "malformed")


def test_vault_rule_trims_the_type_and_rejects_a_blank_one() -> None:
    connection = connection_from_payload("pg", {"type": " postgres\n", "details": {}}, environ={}, rule="trimmed")
    assert isinstance(connection, PostgresConnection)
    with pytest.raises(BackendError, match="must contain both"):
        connection_from_payload("pg", {"type": " ", "details": {}}, environ={}, rule="trimmed")


def test_non_empty_rule_keeps_a_blank_type_which_is_then_unknown() -> None:
    with pytest.raises(BackendError) as caught:
        connection_from_payload("pg", {"type": " ", "details": {}}, environ={}, rule="non_empty")
    assert (str(caught.value), caught.value.kind) == ("secret 'pg' has unknown connection type ' '", "wrong_type")


def test_lenient_rule_only_rejects_a_secret_with_neither_field() -> None:
    with pytest.raises(BackendError) as caught:
        connection_from_payload("pg", {"some_field": "value"}, environ={}, rule="lenient")
    assert str(caught.value) == "secret 'pg' is missing required 'details' or 'type' fields"
    assert caught.value.kind == "malformed"


@pytest.mark.parametrize("payload", [{"type": "postgres"}, {"type": "postgres", "details": "not-a-map"}])
def test_lenient_rule_still_needs_details_to_be_an_object(payload: dict[str, object]) -> None:
    with pytest.raises(BackendError) as caught:
        connection_from_payload("pg", payload, environ={}, rule="lenient")
    assert str(caught.value) == "secret 'pg' has invalid 'details' field: expected a map"


def test_lenient_rule_treats_a_missing_type_as_unknown() -> None:
    with pytest.raises(BackendError) as caught:
        connection_from_payload("pg", {"details": {}}, environ={}, rule="lenient")
    assert (str(caught.value), caught.value.kind) == ("secret 'pg' has unknown connection type ''", "wrong_type")


def test_invalid_fields_are_named_without_their_values() -> None:
    details = {"password": CANARY, "port": CANARY}
    with pytest.raises(BackendError) as caught:
        connection_from_payload("pg", {"type": "postgres", "details": details}, environ={})
    message = str(caught.value)
    assert message.startswith("failed to configure connection 'pg': ")
    assert "port" in message
    assert CANARY not in message
    assert caught.value.kind == "malformed"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_secret_json_must_be_an_object() -> None:
    assert parse_secret_object('{"type": "generic"}') == {"type": "generic"}
    with pytest.raises(BackendError) as caught:
        parse_secret_object('["generic"]')
    assert str(caught.value) == "failed to parse secret as JSON: expected an object, got array"
    assert caught.value.kind == "malformed"


def test_unparsable_secret_json_is_described_without_its_text() -> None:
    with pytest.raises(BackendError) as caught:
        parse_secret_object(f'{{"type": "generic", "details": {{"value": {CANARY}}}}}')
    message = str(caught.value)
    assert message.startswith("failed to parse secret as JSON: Expecting value at line 1 column")
    assert CANARY not in message
