"""`bruin connections list|test|add|delete` as a subprocess on temporary git projects.

Every connection of the shared config holds a canary; no command may print one.
"""

from __future__ import annotations

import json
import textwrap
import uuid

import duckdb
import pytest

from servers import free_port

CANARY = "canary-7c41e9b2-connections"


def config(pg_port: int) -> str:
    return f"""
    # Team connections.
    default_environment: default
    environments:
      default:
        connections:
          generic:
            - name: API_KEY
              value: {CANARY}-generic
          postgres:
            - name: pg
              username: app
              password: {CANARY}-postgres
              host: 127.0.0.1
              port: {pg_port}
              database: app
          snowflake:
            - name: sf
              account: acme
              username: loader
              password: {CANARY}-snowflake
              warehouse: loading
          google_cloud_platform:
            - name: gcp
              project_id: acme-data
              service_account_json: '{{"private_key": "{CANARY}-gcp"}}'
      staging:
        schema_prefix: stg
        connections:
          duckdb:
            - name: local-duck
              path: staging.db
      empty:
        connections: {{}}
    """


def assert_clean(result) -> None:
    assert CANARY not in result.output, result.output
    assert "Traceback" not in result.output, result.output


def assert_one_line_error(result, message: str) -> None:
    assert result.returncode == 1, result.output
    assert result.stderr == message + "\n"
    assert result.stdout == ""
    assert_clean(result)


@pytest.fixture
def configured(project):
    project.write(".bruin.yml", config(free_port()))
    return project


# -- list ----------------------------------------------------------------------------------------

DEFAULT_TABLE = """\
Environment: default
Type                   Name     Filled Fields
generic                API_KEY  value
postgres               pg       username, password, host, port, database
snowflake              sf       account, username, password, warehouse
google_cloud_platform  gcp      service_account_json, project_id"""


def test_list_shows_every_environment_with_field_names_only(configured):
    result = configured.bruin("connections", "list")
    assert result.returncode == 0, result.output
    assert result.stdout == (
        f"{DEFAULT_TABLE}\n\n"
        "Environment: staging\n"
        "Type    Name        Filled Fields\n"
        "duckdb  local-duck  path\n\n"
        "Environment: empty\n"
        "(no connections)\n"
    )
    assert_clean(result)


def test_list_one_environment(configured):
    result = configured.bruin("connections", "list", "-e", "default")
    assert result.returncode == 0, result.output
    assert result.stdout == DEFAULT_TABLE + "\n"


def test_list_json(configured):
    """Upstream's layout: fields as written, sensitive literals as `****`, placeholders unexpanded."""
    result = configured.bruin("connections", "list", "-o", "json")
    assert result.returncode == 0, result.output
    pg_port = json.loads(result.stdout)["environments"]["default"]["connections"]["postgres"][0]["port"]
    default = {
        "connections": {
            "google_cloud_platform": [
                {
                    "location": "",
                    "name": "gcp",
                    "project_id": "acme-data",
                    "service_account_file": "",
                    "service_account_json": "****",
                    "use_application_default_credentials": "false",
                }
            ],
            "snowflake": [
                {
                    "account": "acme",
                    "database": "",
                    "name": "sf",
                    "password": "****",
                    "private_key": "",
                    "region": "",
                    "role": "",
                    "schema": "",
                    "token": "",
                    "username": "loader",
                    "warehouse": "loading",
                }
            ],
            "postgres": [
                {
                    "name": "pg",
                    "username": "app",
                    "password": "****",
                    "host": "127.0.0.1",
                    "port": pg_port,
                    "database": "app",
                }
            ],
            "generic": [{"name": "API_KEY", "value": "****"}],
        },
        "schema_prefix": "",
    }
    expected = {
        "default_environment_name": "default",
        "selected_environment_name": "default",
        "selected_environment": default,
        "environments": {
            "default": default,
            "staging": {
                "connections": {"duckdb": [{"name": "local-duck", "path": "staging.db"}]},
                "schema_prefix": "stg",
            },
            "empty": {"connections": {}, "schema_prefix": ""},
        },
    }
    assert json.loads(result.stdout) == expected
    assert isinstance(pg_port, int)
    assert_clean(result)


def test_list_shows_placeholders_as_written_and_counts_a_field_as_filled_once_its_variable_is_set(project):
    project.write(
        ".bruin.yml",
        """
        environments:
          default:
            connections:
              postgres:
                - name: pg
                  host: localhost
                  password: ${PG_PASSWORD}
        """,
    )
    for env in ({}, {"PG_PASSWORD": CANARY}):
        listed = json.loads(project.bruin("connections", "list", "-o", "json", env=env).stdout)
        [pg] = listed["environments"]["default"]["connections"]["postgres"]
        assert pg["password"] == "${PG_PASSWORD}"
    assert project.bruin("connections", "list").stdout.splitlines()[-1].split() == ["postgres", "pg", "host"]
    set_ = project.bruin("connections", "list", env={"PG_PASSWORD": CANARY})
    assert set_.stdout.splitlines()[-1].split() == ["postgres", "pg", "password,", "host"]
    assert_clean(set_)


def test_list_unknown_environment(configured):
    assert_one_line_error(
        configured.bruin("connections", "list", "-e", "nope"),
        "Failed to use the environment 'nope': environment 'nope' not found in the configuration file",
    )


def test_list_with_a_backend_looks_up_each_name(configured, vault_server):
    path = f"connections-list-{uuid.uuid4().hex}"
    vault_server.put(f"{path}/pg", {"type": "postgres", "details": {"host": "h", "password": f"{CANARY}-vault"}})
    vault_server.put(f"{path}/sf", {"type": "generic", "details": {"value": f"{CANARY}-vault"}})
    env = vault_server.bruin_env(path)

    result = configured.bruin("connections", "list", "-e", "default", "--secrets-backend", "vault", env=env)
    assert result.returncode == 0, result.output
    assert result.stdout == (
        "Environment: default (looked up in secrets backend 'vault')\n"
        "Type      Name     Filled Fields   Source\n"
        "-         API_KEY  -               not found\n"
        "postgres  pg       password, host  vault\n"
        "generic   sf       value           vault\n"
        "-         gcp      -               not found\n"
    )
    assert_clean(result)

    as_json = configured.bruin(
        "--secrets-backend", "vault", "connections", "list", "-e", "staging", "-o", "json", env=env
    )
    staging = {"connections": {}, "schema_prefix": "stg", "secrets_backend": "vault", "not_found": ["local-duck"]}
    assert json.loads(as_json.stdout) == {
        "default_environment_name": "default",
        "selected_environment_name": "staging",
        "selected_environment": staging,
        "environments": {"staging": staging},
    }
    found = json.loads(
        configured.bruin(
            "connections", "list", "-e", "default", "-o", "json", "--secrets-backend", "vault", env=env
        ).stdout
    )["environments"]["default"]
    assert found["connections"]["postgres"] == [
        {"name": "pg", "username": "", "password": "****", "host": "h", "port": 0, "database": "", "source": "vault"}
    ]
    assert found["not_found"] == ["API_KEY", "gcp"]


# -- test ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["API_KEY"])
def test_types_without_a_check_say_so(configured, name):
    result = configured.bruin("connections", "test", "--name", name)
    assert result.returncode == 0, result.output
    assert result.stdout == f"Connection '{name}' does not support testing yet.\n"
    assert_clean(result)


def test_missing_connection(configured):
    assert_one_line_error(
        configured.bruin("connections", "test", "--name", "nope", "-e", "staging"),
        f"connection 'nope' not found in config file '{configured.root / '.bruin.yml'}' under environment 'staging'",
    )


def test_missing_connection_in_a_backend(configured, vault_server):
    env = vault_server.bruin_env(f"connections-test-{uuid.uuid4().hex}")
    assert_one_line_error(
        configured.bruin("connections", "test", "--name", "pg", "--secrets-backend", "vault", env=env),
        "connection 'pg' not found in secrets backend 'vault'",
    )


def test_unreachable_postgres_fails_in_one_line_without_credentials(configured):
    result = configured.bruin("connections", "test", "--name", "pg")
    assert result.returncode == 1, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "connection 'pg' failed the test: could not connect to postgres connection 'pg' at 127.0.0.1:"
    )
    assert "refused" in line
    assert result.stdout == ""
    assert_clean(result)


@pytest.fixture(scope="module")
def pg_role(pg_server):
    """A role that must log in with its password (the superuser is trusted without one)."""
    return pg_server.create_role(f"tester_{uuid.uuid4().hex[:8]}", f"{CANARY}-role")


def pg_config(pg_server, role: str, password: str) -> str:
    return f"""
    environments:
      default:
        connections:
          postgres:
            - name: warehouse
              username: {role}
              password: {password}
              host: {pg_server.host}
              port: {pg_server.port}
              database: {pg_server.dbname}
    """


def test_postgres_success(project, pg_server, pg_role):
    project.write(".bruin.yml", pg_config(pg_server, pg_role, f"{CANARY}-role"))
    result = project.bruin("connections", "test", "--name", "warehouse")
    assert result.returncode == 0, result.output
    assert result.stdout == "Successfully tested connection 'warehouse' in environment: default\n"
    assert_clean(result)


def test_postgres_wrong_password(project, pg_server, pg_role):
    project.write(".bruin.yml", pg_config(pg_server, pg_role, f"{CANARY}-wrong"))
    result = project.bruin("connections", "test", "--name", "warehouse")
    assert result.returncode == 1, result.output
    assert result.stderr == (
        f"connection 'warehouse' failed the test: could not connect to postgres connection 'warehouse' at "
        f'{pg_server.host}:{pg_server.port}: password authentication failed for user "{pg_role}"\n'
    )
    assert_clean(result)


def test_duckdb_file(configured):
    duckdb.connect(str(configured.root / "staging.db")).close()
    result = configured.bruin("connections", "test", "--name", "local-duck", "--env", "staging")
    assert result.returncode == 0, result.output
    assert result.stdout == "Successfully tested connection 'local-duck' in environment: staging\n"


def test_missing_duckdb_file_is_not_created(configured):
    assert_one_line_error(
        configured.bruin("connections", "test", "--name", "local-duck", "-e", "staging"),
        f"connection 'local-duck' failed the test: database file '{configured.root / 'staging.db'}' does not exist",
    )
    assert not (configured.root / "staging.db").exists()


def test_connection_from_a_backend(configured, vault_server, tmp_path):
    path = f"connections-test-{uuid.uuid4().hex}"
    database = tmp_path / "from-vault.db"
    duckdb.connect(str(database)).close()
    vault_server.put(f"{path}/pg", {"type": "duckdb", "details": {"path": str(database)}})
    result = configured.bruin(
        "connections", "test", "--name", "pg", "--secrets-backend", "vault", env=vault_server.bruin_env(path)
    )
    assert result.returncode == 0, result.output
    assert result.stdout == "Successfully tested connection 'pg' in environment: default\n"


# -- add and delete ------------------------------------------------------------------------------


def test_add_then_delete_keeps_the_rest_of_the_file(configured):
    before = (configured.root / ".bruin.yml").read_text()
    credentials = json.dumps({"value": f"{CANARY}-added"})
    added = configured.bruin(
        "connections", "add", "--env", "staging", "--name", "NEW_KEY", "--type", "generic", "--credentials", credentials
    )
    assert added.returncode == 0, added.output
    assert added.stdout == "Successfully added connection: NEW_KEY\n"
    assert_clean(added)
    after = (configured.root / ".bruin.yml").read_text()
    assert after.startswith("# Team connections.\n")
    assert f"      generic:\n        - name: NEW_KEY\n          value: {CANARY}-added\n  empty:" in after

    listed = configured.bruin("connections", "list", "-e", "staging")
    assert listed.stdout == (
        "Environment: staging\n"
        "Type     Name        Filled Fields\n"
        "duckdb   local-duck  path\n"
        "generic  NEW_KEY     value\n"
    )

    deleted = configured.bruin("connections", "delete", "--env", "staging", "--name", "NEW_KEY")
    assert deleted.returncode == 0, deleted.output
    assert deleted.stdout == "Successfully deleted connection: NEW_KEY\n"
    assert_clean(deleted)
    assert (configured.root / ".bruin.yml").read_text() == before


def test_add_postgres_with_typed_fields(configured):
    credentials = json.dumps({"host": "db", "port": 5433, "username": "u", "password": f"{CANARY}-new"})
    added = configured.bruin(
        "connections", "add", "-e", "empty", "--name", "pg2", "--type", "postgres", "--credentials", credentials
    )
    assert added.returncode == 0, added.output
    listed = configured.bruin("connections", "list", "-e", "empty", "-o", "json")
    assert json.loads(listed.stdout)["environments"]["empty"]["connections"] == {
        "postgres": [{"name": "pg2", "username": "u", "password": "****", "host": "db", "port": 5433, "database": ""}]
    }
    assert_clean(listed)


def test_add_to_an_unknown_environment(configured):
    assert_one_line_error(
        configured.bruin(
            "connections", "add", "--env", "nope", "--name", "K", "--type", "generic", "--credentials", '{"value":"v"}'
        ),
        "environment 'nope' does not exist",
    )


def test_add_a_duplicate_name(configured):
    credentials = json.dumps({"value": f"{CANARY}-dup"})
    assert_one_line_error(
        configured.bruin(
            "connections", "add", "--env", "default", "--name", "pg", "--type", "generic", "--credentials", credentials
        ),
        "a connection named 'pg' already exists in the 'default' environment",
    )


@pytest.mark.parametrize(
    ("credentials", "reason"),
    [
        ('{"value": "' + CANARY, "Unterminated string starting at line 1, column 11"),
        ('{"value": "\\' + CANARY + '"}', "Invalid \\escape at line 1, column 12"),
        ('{"value": "' + CANARY + '\n"}', "Invalid control character at line 1, column 39"),
        (f"{CANARY}", "Expecting value at line 1, column 1"),
        (json.dumps([CANARY]), "got a JSON array"),
        (json.dumps(CANARY), "got a JSON string"),
        ("42", "got a JSON number"),
    ],
)
def test_add_with_bad_credentials(configured, credentials, reason):
    before = (configured.root / ".bruin.yml").read_text()
    assert_one_line_error(
        configured.bruin(
            "connections", "add", "--env", "default", "--name", "K", "--type", "generic", "--credentials", credentials
        ),
        f"invalid --credentials: not a JSON object ({reason})",
    )
    assert (configured.root / ".bruin.yml").read_text() == before


def test_add_with_an_invalid_field_names_it_without_the_value(configured):
    credentials = json.dumps({"port": f"{CANARY}-port"})
    result = configured.bruin(
        "connections", "add", "--env", "default", "--name", "pg3", "--type", "postgres", "--credentials", credentials
    )
    assert result.returncode == 1, result.output
    assert result.stderr.startswith("connection 'pg3' (postgres): field 'port': ")
    assert_clean(result)


def test_delete_missing_connection_and_environment(configured):
    assert_one_line_error(
        configured.bruin("connections", "delete", "--env", "staging", "--name", "pg"),
        "connection 'pg' not found in environment 'staging'",
    )
    assert_one_line_error(
        configured.bruin("connections", "delete", "--env", "nope", "--name", "pg"),
        "environment 'nope' does not exist",
    )


def test_add_and_delete_refuse_while_the_config_comes_from_a_variable(configured):
    env = {"BRUIN_CONFIG_FILE_CONTENT": textwrap.dedent(config(1))}
    message = (
        "cannot edit connections while BRUIN_CONFIG_FILE_CONTENT is set: the configuration comes from that "
        "variable, not from a file; unset it to edit the file"
    )
    before = (configured.root / ".bruin.yml").read_text()
    credentials = json.dumps({"value": f"{CANARY}-x"})
    add = ("connections", "add", "--env", "default", "--name", "K", "--type", "generic", "--credentials", credentials)
    assert_one_line_error(configured.bruin(*add, env=env), message)
    assert_one_line_error(
        configured.bruin("connections", "delete", "--env", "default", "--name", "pg", env=env), message
    )
    assert (configured.root / ".bruin.yml").read_text() == before


@pytest.mark.parametrize("how", ["option", "variable"])
def test_add_and_delete_honour_the_config_file_option(configured, how):
    other = configured.write("conf/team.yml", "environments:\n  team:\n    connections:\n      generic: []\n")
    default_before = (configured.root / ".bruin.yml").read_text()
    args, env = (["--config-file", "conf/team.yml"], {}) if how == "option" else ([], {"BRUIN_CONFIG_FILE": str(other)})
    added = configured.bruin(
        "connections", "add", "--env", "team", "--name", "K", "--type", "generic", "--credentials",
        json.dumps({"value": "${TEAM_KEY}"}), *args, env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.output
    assert other.read_text() == (
        "environments:\n  team:\n    connections:\n      generic:\n        - name: K\n          value: ${TEAM_KEY}\n"
    )
    deleted = configured.bruin("connections", "delete", "--env", "team", "--name", "K", *args, env=env)
    assert deleted.returncode == 0, deleted.output
    assert other.read_text() == "environments:\n  team:\n    connections: {}\n"
    assert (configured.root / ".bruin.yml").read_text() == default_before
