import json
import textwrap
from pathlib import Path

import pytest

from pybruin.config.bruin_yml import load_config
from pybruin.config.connections import ConnectionConfigError
from pybruin.errors import BruinError

CANARY = "canary-5be21d-do-not-print"

BASIC = """\
default_environment: default
environments:
  default:
    schema_prefix: dev
    connections:
      generic:
        - name: KEY1
          value: value1
      chess:
        - name: chess-default
          players: [FabianoCaruana, Hikaru]
      duckdb:
        - name: duckdb-default
          path: duckdb-files/duckdb.db
  other:
    connections:
      generic:
        - name: KEY2
          value: value2
"""


def write(folder: Path, text: str, name: str = ".bruin.yml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_loads_environments_and_builds_the_default_one(tmp_path: Path) -> None:
    write(tmp_path, BASIC)
    config = load_config(tmp_path, None, {})

    assert config.path == tmp_path / ".bruin.yml"
    assert config.default_environment == "default"
    assert config.environment_names == ["default", "other"]
    env = config.environment(None)
    assert env.name == "default"
    assert env.schema_prefix == "dev_"
    assert list(env.connections) == ["KEY1", "chess-default", "duckdb-default"]
    assert env.connections["KEY1"].injection_value() == "value1"
    assert env.connections["chess-default"].injection_value() == (
        '{"name":"chess-default","players":["FabianoCaruana","Hikaru"]}'
    )
    assert env.connections["duckdb-default"].injection_value() == json.dumps(
        {"name": "duckdb-default", "path": str(tmp_path / "duckdb-files" / "duckdb.db")}, separators=(",", ":")
    )
    assert config.environment("default") is env
    assert list(config.environment("other").connections) == ["KEY2"]
    assert config.environment("other").schema_prefix == ""


def test_missing_file_is_created_and_git_ignored(tmp_path: Path) -> None:
    config = load_config(tmp_path, None, {})

    assert (tmp_path / ".bruin.yml").read_text() == (
        "default_environment: default\nenvironments:\n  default:\n    connections: {}\n"
    )
    assert (tmp_path / ".gitignore").read_text() == ".bruin.yml\n"
    assert config.environment(None).connections == {}


def test_gitignore_is_appended_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules")
    load_config(tmp_path, None, {})
    assert (tmp_path / ".gitignore").read_text() == "node_modules\n.bruin.yml\n"

    (tmp_path / ".bruin.yml").unlink()
    load_config(tmp_path, None, {})
    assert (tmp_path / ".gitignore").read_text() == "node_modules\n.bruin.yml\n"


def test_config_file_is_relative_to_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "conf").mkdir()
    write(tmp_path / "conf", BASIC, "custom.yml")
    monkeypatch.chdir(tmp_path)

    from_flag = load_config(tmp_path / "elsewhere", Path("conf/custom.yml"), {})
    from_env = load_config(tmp_path / "elsewhere", None, {"BRUIN_CONFIG_FILE": "conf/custom.yml"})

    for config in (from_flag, from_env):
        assert config.path == tmp_path / "conf" / "custom.yml"
        path = json.loads(config.environment(None).connections["duckdb-default"].injection_value())["path"]
        assert path == str(tmp_path / "conf" / "duckdb-files" / "duckdb.db")


def test_created_config_file_is_ignored_beside_itself(tmp_path: Path) -> None:
    load_config(tmp_path, tmp_path / "sub" / "my.yml", {})

    assert (tmp_path / "sub" / "my.yml").exists()
    assert (tmp_path / "sub" / ".gitignore").read_text() == "my.yml\n"


def test_config_content_variable_is_parsed_instead_of_the_file(tmp_path: Path) -> None:
    environ = {"BRUIN_CONFIG_FILE_CONTENT": BASIC.replace("value1", "from-env")}
    config = load_config(tmp_path, None, environ)

    assert not (tmp_path / ".bruin.yml").exists()
    assert not (tmp_path / ".gitignore").exists()
    env = config.environment(None)
    assert env.connections["KEY1"].injection_value() == "from-env"
    assert json.loads(env.connections["duckdb-default"].injection_value())["path"] == str(
        tmp_path / "duckdb-files" / "duckdb.db"
    )


def test_empty_config_content_variable_falls_back_to_the_file(tmp_path: Path) -> None:
    write(tmp_path, BASIC)

    config = load_config(tmp_path, None, {"BRUIN_CONFIG_FILE_CONTENT": ""})

    assert config.environment(None).connections["KEY1"].injection_value() == "value1"


@pytest.mark.parametrize("line", ["default_environment: ''", ""])
def test_default_environment_defaults_to_default(tmp_path: Path, line: str) -> None:
    write(tmp_path, f"{line}\nenvironments:\n  default:\n    connections: {{}}\n")

    assert load_config(tmp_path, None, {}).default_environment == "default"


def test_selected_environment_must_exist(tmp_path: Path) -> None:
    write(tmp_path, "default_environment: prod\nenvironments:\n  dev:\n    connections: {}\n")
    config = load_config(tmp_path, None, {})

    with pytest.raises(BruinError) as caught:
        config.environment(None)
    assert str(caught.value) == "environment 'prod' not found in the configuration file"
    with pytest.raises(BruinError) as caught:
        config.environment("staging")
    assert str(caught.value) == "environment 'staging' not found in the configuration file"


@pytest.mark.parametrize("body", ["    schema_prefix: x\n", "    connections:\n", ""])
def test_environment_without_connections(tmp_path: Path, body: str) -> None:
    write(tmp_path, "environments:\n  default:\n" + body + "  ok:\n    connections: {}\n")
    config = load_config(tmp_path, None, {})

    assert config.environment("ok").connections == {}
    with pytest.raises(BruinError) as caught:
        config.environment(None)
    assert str(caught.value) == "environment 'default' has no connections defined"


def test_schema_prefix_keeps_an_existing_underscore(tmp_path: Path) -> None:
    write(tmp_path, "environments:\n  default:\n    schema_prefix: ${PREFIX}\n    connections: {}\n")

    assert load_config(tmp_path, None, {"PREFIX": "me_"}).environment(None).schema_prefix == "me_"


@pytest.mark.parametrize(
    ("connections", "message"),
    [
        ("      postgres: {name: pg}\n", "connection type 'postgres' must hold a list of connections"),
        ("      postgres:\n        - host: h\n", "postgres connection #1 has no name"),
        ("      postgres:\n        - name: a\n        - just-text\n", "postgres connection #2 must be a mapping"),
        ("      nosuchdb:\n        - name: x\n", "unknown connection type 'nosuchdb'"),
        (
            "      postgres:\n        - name: x\n      generic:\n        - name: x\n          value: v\n",
            "connection name 'x' is used by both postgres and generic connections",
        ),
        (
            "      chess:\n        - name: x\n        - name: x\n",
            "connection name 'x' is used by two chess connections",
        ),
    ],
)
def test_connection_structure_errors(tmp_path: Path, connections: str, message: str) -> None:
    path = write(tmp_path, "environments:\n  default:\n    connections:\n" + connections)

    with pytest.raises(BruinError) as caught:
        load_config(tmp_path, None, {}).environment(None)

    assert str(caught.value) == f"{path}: environment 'default': {message}"


def test_a_broken_environment_does_not_stop_another(tmp_path: Path) -> None:
    write(
        tmp_path,
        """\
        environments:
          default:
            connections:
              generic:
                - name: ok
                  value: fine
          broken:
            connections:
              postgres:
                - name: pg
                  port: not-a-port
              nosuchdb: []
        """,
    )
    config = load_config(tmp_path, None, {})

    assert list(config.environment(None).connections) == ["ok"]
    with pytest.raises(ConnectionConfigError):
        config.environment("broken")


def test_validation_error_names_file_environment_connection_and_field_not_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"environments:\n  default:\n    connections:\n      postgres:\n        - {{name: pg, port: {CANARY}}}\n",
    )

    with pytest.raises(ConnectionConfigError) as caught:
        load_config(tmp_path, None, {}).environment(None)

    assert str(caught.value) == (
        f"{path}: environment 'default': connection 'pg' (postgres): field 'port': "
        "Input should be a valid integer, unable to parse string as an integer"
    )
    assert caught.value.__cause__ is None


def test_yaml_syntax_error_names_file_and_line_without_content(tmp_path: Path) -> None:
    path = write(tmp_path, f"environments:\n  default:\n    connections:\n  password: {CANARY}: [oops\n")

    with pytest.raises(BruinError) as caught:
        load_config(tmp_path, None, {})

    message = str(caught.value)
    assert message.startswith(f"{path}:4: invalid YAML: ")
    assert CANARY not in message
    assert "\n" not in message


def test_yaml_error_in_content_variable_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(BruinError) as caught:
        load_config(tmp_path, None, {"BRUIN_CONFIG_FILE_CONTENT": f"a: b\n\tc: {CANARY}\n"})

    assert str(caught.value).startswith("BRUIN_CONFIG_FILE_CONTENT:2: invalid YAML: ")
    assert CANARY not in str(caught.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(BruinError) as caught:
        load_config(tmp_path, None, {})

    assert str(caught.value) == f"{path}: the top level must be a mapping"


def test_environment_variables_are_expanded_in_values_with_types(tmp_path: Path) -> None:
    write(
        tmp_path,
        """\
        environments:
          default:
            connections:
              postgres:
                - name: pg
                  host: ${PGHOST}
                  port: "${PGPORT}"
                  password: "${PGPASSWORD}"
                  username: user-${UNSET_USER}
              generic:
                - name: ${GENERIC_NAME}
                  value: "${UNSET_VALUE}"
              chess:
                - name: chess-default
                  port: "${PGPORT}"
                  label: "p${PGPORT}"
                  literal: "${UNSET_VALUE}"
                  ${PGHOST}: key-untouched
        """,
    )
    environ = {"PGHOST": "access:key # hash", "PGPORT": "5433", "PGPASSWORD": "null", "GENERIC_NAME": "KEY9"}
    env = load_config(tmp_path, None, environ).environment(None)

    pg = json.loads(env.connections["pg"].injection_value())
    assert (pg["host"], pg["port"], pg["password"], pg["username"]) == ("access:key # hash", 5433, "null", "user-")
    assert env.connections["KEY9"].injection_value() == ""
    assert env.connections["chess-default"].injection_value() == (
        '{"name":"chess-default","port":5433,"label":"p5433","literal":"","${PGHOST}":"key-untouched"}'
    )


def test_environment_is_captured_at_load(tmp_path: Path) -> None:
    write(tmp_path, "environments:\n  default:\n    connections:\n      generic:\n        - {name: g, value: '${V}'}\n")
    environ = {"V": "at-load"}
    config = load_config(tmp_path, None, environ)
    environ["V"] = "later"

    assert config.environment(None).connections["g"].injection_value() == "at-load"


def test_config_repr_and_errors_never_show_environment_values(tmp_path: Path) -> None:
    write(tmp_path, BASIC)
    config = load_config(tmp_path, None, {"SOME_TOKEN": CANARY})

    assert CANARY not in repr(config)
    assert CANARY not in repr(config.environment(None))


def test_sensitive_values_of_an_environment_cover_every_connection(tmp_path: Path) -> None:
    write(
        tmp_path,
        f"""\
        environments:
          default:
            connections:
              generic:
                - name: api
                  value: {CANARY}-generic
              postgres:
                - name: pg
                  password: {CANARY}-pg
              hubspot:
                - name: hs
                  api_key: {CANARY}-hs
        """,
    )
    env = load_config(tmp_path, None, {}).environment(None)

    secrets = [secret for connection in env.connections.values() for secret in connection.sensitive_values()]
    assert secrets == [f"{CANARY}-generic", f"{CANARY}-pg", f"{CANARY}-hs"]


def test_unquoted_scalars_reach_text_fields_exactly_as_written(tmp_path: Path) -> None:
    # YAML 1.1 would turn these into 7, 1.5, 750, 31, 1000, True and a date; Bruin's fields get the text.
    written = ["007", "1.50", "12:30", "0x1F", "1_000", "yes", "2024-01-01", "true", "5432"]
    entries = "".join(f"        - {{name: v{index}, value: {text}}}\n" for index, text in enumerate(written))
    write(tmp_path, "environments:\n  default:\n    connections:\n      generic:\n" + entries)

    env = load_config(tmp_path, None, {}).environment(None)

    assert [connection.injection_value() for connection in env.connections.values()] == written


def test_unquoted_scalars_still_fill_typed_number_and_flag_fields(tmp_path: Path) -> None:
    write(
        tmp_path,
        """\
        environments:
          default:
            connections:
              postgres:
                - {name: pg, port: 05432, password: 1_000, max_concurrent_assets: 2}
              duckdb:
                - {name: dd, path: /x.db, read_only: yes}
              google_cloud_platform:
                - {name: gcp, max_query_cost: 1.50, use_application_default_credentials: true}
        """,
    )
    env = load_config(tmp_path, None, {}).environment(None)

    pg, dd, gcp = env.connections.values()
    assert (pg.port, pg.password, pg.max_concurrent_assets) == (5432, "1_000", 2)
    assert dd.read_only is True
    assert (gcp.max_query_cost, gcp.use_application_default_credentials) == (1.5, True)


def test_untyped_connections_type_only_what_reads_back_as_written(tmp_path: Path) -> None:
    write(
        tmp_path,
        """\
        environments:
          default:
            connections:
              chess:
                - name: c
                  port: 5432
                  ratio: 1.5
                  enabled: true
                  quoted: "5432"
                  pin: 007
                  price: 1.50
                  answer: yes
                  since: 2024-01-01
                  nested: [1, 0x1F, {at: 12:30}]
        """,
    )
    connection = load_config(tmp_path, None, {}).environment(None).connections["c"]

    assert connection.injection_value() == (
        '{"name":"c","port":5432,"ratio":1.5,"enabled":true,"quoted":"5432","pin":"007","price":"1.50",'
        '"answer":"yes","since":"2024-01-01","nested":[1,"0x1F",{"at":"12:30"}]}'
    )


def test_numeric_and_boolean_names_are_their_text(tmp_path: Path) -> None:
    write(tmp_path, "default_environment: 2024\nenvironments:\n  2024:\n    schema_prefix: 1.50\n    connections: {}\n")
    config = load_config(tmp_path, None, {})

    assert config.environment_names == ["2024"]
    assert config.environment(None).schema_prefix == "1.50_"


@pytest.mark.parametrize("value", [f"!{CANARY}", f"*{CANARY}", f"!<{CANARY}> x", f"!!{CANARY} x"])
def test_yaml_errors_never_quote_a_tag_or_alias(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"environments:\n  default:\n    connections:\n      generic:\n        - value: {value}\n")

    with pytest.raises(BruinError) as caught:
        load_config(tmp_path, None, {})

    assert str(caught.value).startswith(f"{path}:5: invalid YAML: ")
    assert CANARY not in str(caught.value)


def test_created_config_is_owner_only(tmp_path: Path) -> None:
    load_config(tmp_path, None, {})

    assert (tmp_path / ".bruin.yml").stat().st_mode & 0o777 == 0o600
