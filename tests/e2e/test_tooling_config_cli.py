"""The config-editing surface tools use: `connections` with `-o json` (and the VS Code extension's edit
sequence, which gives back `****` for the values it was shown masked) and `environments` CRUD."""

from __future__ import annotations

import json
import stat

import pytest
import yaml

CANARY = "canary-61d0f3aa-tooling"

CONFIG = f"""
# team config: keep me
default_environment: default
environments:
  default:
    connections:
      postgres:
        - name: pg
          username: app
          password: {CANARY}-pg   # the real one
          host: old.example
          port: 5432
          database: app
      generic:
        - name: TOKEN
          value: ${{TOKEN_VAR}}
  staging:
    schema_prefix: stg
    connections: {{}}
"""


@pytest.fixture
def configured(project):
    project.write(".bruin.yml", CONFIG)
    return project


def listing(project) -> dict:
    result = project.bruin("connections", "list", "-o", "json")
    assert result.returncode == 0, result.output
    assert CANARY not in result.output
    return json.loads(result.stdout)


def written(project) -> dict:
    return yaml.safe_load((project.root / ".bruin.yml").read_text())


def test_the_extensions_edit_sequence_keeps_the_masked_password(configured):
    [shown] = listing(configured)["environments"]["default"]["connections"]["postgres"]
    assert shown["password"] == "****"
    # The form sends every field it has, the untouched mask included, and empty ones for fields never set.
    credentials = {**{k: v for k, v in shown.items() if k != "name"}, "host": "new.example", "ssl_mode": ""}

    deleted = configured.bruin("connections", "delete", "--env", "default", "--name", "pg")
    assert deleted.returncode == 0, deleted.output
    kept = configured.root / ".bruin.yml.last-deleted"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert ".bruin.yml.last-deleted" in (configured.root / ".gitignore").read_text()
    added = configured.bruin(
        "connections", "add", "--env", "default", "--type", "postgres", "--name", "pg",
        "--credentials", json.dumps(credentials), "-o", "json",
    )  # fmt: skip
    assert (added.returncode, added.stdout, added.stderr) == (0, "", "")
    assert not kept.exists(), "the kept copy is used once"

    [pg] = written(configured)["environments"]["default"]["connections"]["postgres"]
    assert pg == {"name": "pg", "username": "app", "password": f"{CANARY}-pg", "host": "new.example",
                  "port": 5432, "database": "app"}  # fmt: skip
    assert (configured.root / ".bruin.yml").read_text().startswith("# team config: keep me\n")
    assert listing(configured)["environments"]["default"]["connections"]["postgres"][0]["host"] == "new.example"


def test_a_renamed_connection_keeps_its_masked_values_and_placeholders_stay_placeholders(configured):
    [shown] = listing(configured)["environments"]["default"]["connections"]["generic"]
    assert shown == {"name": "TOKEN", "value": "${TOKEN_VAR}"}
    assert configured.bruin("connections", "delete", "--env", "default", "--name", "pg").returncode == 0
    masked = {"username": "app", "password": "****", "host": "h", "port": 5432}
    added = configured.bruin(
        "connections", "add", "--env", "staging", "--type", "postgres", "--name", "pg2",
        "--credentials", json.dumps(masked), "-o", "json",
    )  # fmt: skip
    assert (added.returncode, added.stdout) == (0, ""), added.output
    [pg2] = written(configured)["environments"]["staging"]["connections"]["postgres"]
    assert pg2["password"] == f"{CANARY}-pg"


def test_a_mask_with_nothing_to_restore_is_refused_without_writing(configured):
    before = (configured.root / ".bruin.yml").read_text()
    added = configured.bruin(
        "connections", "add", "--env", "staging", "--type", "postgres", "--name", "fresh",
        "--credentials", json.dumps({"password": "****"}), "-o", "json",
    )  # fmt: skip
    assert added.returncode == 1 and added.stderr == ""
    assert json.loads(added.stdout) == {
        "error": "connection 'fresh': field 'password' is '****', the mask `connections list` shows, but no earlier "
        "value of it is kept to restore: give the value itself"
    }
    assert (configured.root / ".bruin.yml").read_text() == before


def test_connection_commands_answer_in_json(configured):
    deleted = configured.bruin("connections", "delete", "--env", "default", "--name", "TOKEN", "-o", "json")
    assert deleted.stdout == (
        '{"message":"Successfully deleted connection: TOKEN from environment: default","status":"success"}\n'
    )
    missing = configured.bruin("connections", "delete", "--env", "default", "-n", "nope", "-o", "json")
    assert missing.returncode == 1 and missing.stderr == ""
    assert json.loads(missing.stdout) == {"error": "connection 'nope' not found in environment 'default'"}
    duplicate = configured.bruin(
        "connections", "add", "--env", "default", "--type", "generic", "--name", "pg", "--credentials", "{}",
        "-o", "json",
    )  # fmt: skip
    assert json.loads(duplicate.stdout) == {
        "error": "a connection named 'pg' already exists in the 'default' environment"
    }
    some = configured.bruin("connections", "add", "--env", "default", "--name", "x", "-o", "json")
    assert some.returncode == 1
    assert "must be provided together" in some.output
    untestable = configured.bruin("connections", "test", "--env", "default", "--type", "generic", "--name", "pg2",
                                  "-o", "json")  # fmt: skip
    assert json.loads(untestable.stdout)["error"].startswith("connection 'pg2' not found in config file")


def test_environment_commands(configured):
    def run(*args: str) -> dict:
        result = configured.bruin("environments", *args, "-o", "json")
        assert result.returncode == 0, result.output
        return json.loads(result.stdout)

    assert run("list") == {
        "selected_environment": "default",
        "environments": [{"name": "default"}, {"name": "staging"}],
    }
    assert run("create", "--name", "prod") == {"status": "success", "message": "Successfully created environment: prod"}
    assert run("clone", "-t", "dev", "-p", "dv") == {
        "message": "Environment cloned successfully", "schema_prefix": "dv", "source_name": "default",
        "target_name": "dev",
    }  # fmt: skip
    assert run("update", "--name", "default", "--new-name", "main") == {
        "message": "Environment updated successfully", "new_name": "main", "old_name": "default"
    }  # fmt: skip
    assert run("delete", "--force", "--name", "staging") == {"message": "Environment deleted successfully",
                                                              "name": "staging"}  # fmt: skip
    document = written(configured)
    assert document["default_environment"] == "main"
    assert list(document["environments"]) == ["main", "dev", "prod"]
    assert document["environments"]["dev"]["schema_prefix"] == "dv"
    assert document["environments"]["dev"]["connections"] == document["environments"]["main"]["connections"]
    assert "# team config: keep me" in (configured.root / ".bruin.yml").read_text()

    cancelled = configured.bruin("environments", "delete", "--name", "dev", "-o", "json")
    assert cancelled.stdout.endswith('{\n  "message": "Environment deletion cancelled",\n  "name": "dev"\n}\n')
    exists = configured.bruin("environments", "create", "-n", "dev", "-o", "JSON")
    assert json.loads(exists.stdout) == {"error": "environment 'dev' already exists"}
    plain = configured.bruin("environments", "list")
    assert plain.stdout == "\nSelected environment: main\nAvailable environments:\n- main\n- dev\n- prod\n"
    assert CANARY not in plain.output


def test_version_and_templates_in_plain_text(project):
    from pybruin import __version__

    assert project.bruin("version").stdout == f"Current: {__version__} (unknown commit)\nLatest: {__version__}\n"
    assert (
        project.bruin("version", "-o", "json").stdout
        == f'{{"version":"{__version__}","commit":"","latest":"{__version__}"}}\n'
    )
    listed = project.bruin("internal", "list-templates")
    assert listed.stdout.startswith("Found 6 template(s):\n" + "=" * 30 + "\n┌────────────────┐\n│ TEMPLATE       │\n")
    bad = project.bruin("internal", "list-templates", "-o", "yaml")
    assert (bad.returncode, bad.stderr) == (1, "Error: invalid output type: yaml\n")
