"""Which credentials a config file writes out, and whether git tracks the file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pybruin.config.connections import credential_fields
from pybruin.config.exposure import LiteralCredential, exposure_warnings, is_tracked_by_git, literal_credentials
from pybruin.errors import BruinError

CANARY = "canary-0e4a7d-exposure"

CONFIG = f"""\
environments:
  default:
    connections:
      generic:
        - name: LITERAL
          value: {CANARY}
        - name: REFERENCED
          value: ${{API_KEY}}
        - name: EMPTY
          value: ""
      postgres:
        - name: pg
          username: app
          password: 12345678
          host: db.internal
      google_cloud_platform:
        - name: gcp
          service_account_file: /keys/sa.json
          service_account_json: "  ${{SA_JSON}}  "
  prod:
    connections:
      snowflake:
        - name: sf
          password: prefix-${{SF_PASSWORD}}
          private_key_path: keys/sf.p8
      chess:
        - name: chess
          players: [magnus]
      personio:
        - name: personio
          client_id: id
          client_secret: {CANARY}
"""


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_typed_credential_fields_come_from_the_models() -> None:
    fields = {"name": "pg", "username": "u", "password": "p", "host": "h", "port": "${PORT}"}
    assert list(credential_fields("postgres", fields)) == [("password", "p")]
    assert list(credential_fields("generic", {"name": "K", "value": 3})) == [("value", 3)]
    # A secret file's path is where the credential is, not the credential.
    assert list(credential_fields("snowflake", {"private_key_path": "k.p8", "token": "t"})) == [("token", "t")]


def test_nested_typed_credentials_are_dotted() -> None:
    fields = {
        "name": "lake",
        "path": "x.db",
        "lakehouse": {"format": "iceberg", "storage": {"type": "s3", "auth": {"access_key": "a", "secret_key": "s"}}},
    }
    assert list(credential_fields("duckdb", fields)) == [
        ("lakehouse.storage.auth.access_key", "a"),
        ("lakehouse.storage.auth.secret_key", "s"),
    ]


def test_untyped_credentials_are_guessed_from_keys() -> None:
    fields = {
        "name": "x",
        "client_id": "id",
        "client_secret": "s",
        "key_path": "/k",
        "auth": {"tokens": ["t1", "t2"], "url": "https://example.com"},
    }
    assert list(credential_fields("personio", fields)) == [
        ("client_secret", "s"),
        ("auth.tokens[0]", "t1"),
        ("auth.tokens[1]", "t2"),
    ]
    assert list(credential_fields("no-such-type", {"password": "p"})) == []


def test_literal_credentials_name_environment_connection_and_field(tmp_path: Path) -> None:
    config = tmp_path / ".bruin.yml"
    config.write_text(CONFIG)
    assert literal_credentials(config) == [
        LiteralCredential("default", "LITERAL", "value"),
        LiteralCredential("default", "pg", "password"),
        LiteralCredential("prod", "sf", "password"),
        LiteralCredential("prod", "personio", "client_secret"),
    ]


def test_unreadable_config_is_reported_by_path_only(tmp_path: Path) -> None:
    config = tmp_path / ".bruin.yml"
    config.write_text(f"environments: [{CANARY}\n")
    with pytest.raises(BruinError) as caught:
        literal_credentials(config)
    assert str(caught.value) == f"cannot read {config} to look for literal credentials"


def test_tracking_follows_git(tmp_path: Path) -> None:
    config = tmp_path / ".bruin.yml"
    config.write_text(CONFIG)
    assert not is_tracked_by_git(config)  # not a work tree
    git("init", "-q", cwd=tmp_path)
    assert not is_tracked_by_git(config)
    git("add", ".bruin.yml", cwd=tmp_path)
    assert is_tracked_by_git(config)
    assert not is_tracked_by_git(tmp_path / "missing" / ".bruin.yml")


def test_warnings_only_for_a_tracked_file_and_never_with_values(tmp_path: Path) -> None:
    config = tmp_path / ".bruin.yml"
    config.write_text(CONFIG)
    git("init", "-q", cwd=tmp_path)
    assert exposure_warnings(config) == []
    git("add", ".bruin.yml", cwd=tmp_path)
    warnings = exposure_warnings(config)
    assert warnings[0] == (
        "'.bruin.yml' is tracked by git, but it is where credentials live: "
        "untrack it with 'git rm --cached .bruin.yml' and git-ignore it"
    )
    assert warnings[1] == (
        "connection 'LITERAL' in environment 'default' has a literal value in sensitive field 'value' "
        "of a file tracked by git; use a ${VARIABLE} reference instead"
    )
    assert len(warnings) == 5
    assert not any(CANARY in warning or "12345678" in warning for warning in warnings)


def test_unquoted_text_counts_as_literal_but_unquoted_flags_do_not(tmp_path: Path) -> None:
    config = tmp_path / ".bruin.yml"
    config.write_text(
        "environments:\n  default:\n    connections:\n"
        "      postgres:\n        - {name: pg, password: yes}\n"
        "      generic:\n        - {name: day, value: 2024-01-01}\n"
        "      personio:\n        - {name: p, use_token: true, client_secret: 007}\n"
    )
    assert literal_credentials(config) == [
        LiteralCredential("default", "pg", "password"),
        LiteralCredential("default", "day", "value"),
        LiteralCredential("default", "p", "client_secret"),
    ]
