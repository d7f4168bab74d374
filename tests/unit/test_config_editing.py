import os
import stat
import textwrap
from pathlib import Path

import pytest
import yaml

from pybruin.config.bruin_yml import load_config
from pybruin.config.editing import add_connection, delete_connection
from pybruin.errors import BruinError

CANARY = "canary-7f3c9e1d-do-not-print"

CONFIG = """\
# Project connections. Keep this file out of git.
default_environment: default   # picked when --env is not given

environments:
  default:
    schema_prefix: ""
    connections:
      # API keys
      generic:
        - name: KEY1
          value: 'single-quoted'   # inline comment
        - name: "KEY2"
          value: ~
      # local warehouse
      duckdb:
        - name: duckdb-default
          path: duckdb.db
    # end of default
  staging:
    connections:
      postgres:
        - {name: pg, host: db.internal, port: 5432}
# the end
"""


def write(tmp_path: Path, text: str, name: str = ".bruin.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def connections(path: Path, environment: str) -> dict:
    return yaml.safe_load(path.read_text())["environments"][environment]["connections"]


def test_add_appends_to_an_existing_list_and_touches_no_other_line(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    add_connection(path, "default", "KEY3", "generic", {"value": "${KEY3_VALUE}"})
    expected = CONFIG.replace(
        "          value: ~\n",
        "          value: ~\n        - name: KEY3\n          value: ${KEY3_VALUE}\n",
    )
    assert path.read_text() == expected


def test_add_creates_the_type_list_after_the_last_type_in_the_file_style(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    add_connection(path, "default", "pg-main", "postgres", {"host": "localhost", "port": 5432, "database": "x"})
    expected = CONFIG.replace(
        "          path: duckdb.db\n",
        "          path: duckdb.db\n"
        "      postgres:\n"
        "        - name: pg-main\n"
        "          host: localhost\n"
        "          port: 5432\n"
        "          database: x\n",
    )
    assert path.read_text() == expected


def test_add_writes_variable_references_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_PORT", "5433")  # validation sees the value, the file keeps the reference
    path = write(tmp_path, CONFIG)
    add_connection(path, "staging", "pg2", "postgres", {"host": "h", "port": "${PG_PORT}"})
    expected = CONFIG.replace(
        "        - {name: pg, host: db.internal, port: 5432}\n",
        "        - {name: pg, host: db.internal, port: 5432}\n        - name: pg2\n          host: h\n"
        "          port: ${PG_PORT}\n",
    )
    assert path.read_text() == expected


def test_add_into_the_default_empty_connections(tmp_path: Path) -> None:
    path = write(tmp_path, "default_environment: default\nenvironments:\n  default:\n    connections: {}  # none yet\n")
    add_connection(path, "default", "GREETING", "generic", {"value": "hi"})
    assert path.read_text() == (
        "default_environment: default\n"
        "environments:\n"
        "  default:\n"
        "    connections:  # none yet\n"
        "      generic:\n"
        "        - name: GREETING\n"
        "          value: hi\n"
    )


@pytest.mark.parametrize(
    ("environment_text", "expected"),
    [
        ("  prod:\n", "  prod:\n    connections:\n      generic:\n        - name: K\n          value: v\n"),
        ("  prod: {}\n", "  prod:\n    connections:\n      generic:\n        - name: K\n          value: v\n"),
        (
            "  prod:\n    schema_prefix: p",  # no newline at the end of the file
            "  prod:\n    schema_prefix: p\n    connections:\n      generic:\n        - name: K\n          value: v\n",
        ),
        ("  prod: {schema_prefix: p}\n", "  prod: {schema_prefix: p, connections: {generic: [{name: K, value: v}]}}\n"),
        (
            "  prod:\n    connections:\n      generic: [{name: A, value: a}]  # flow\n",
            "  prod:\n    connections:\n      generic: [{name: A, value: a}, {name: K, value: v}]  # flow\n",
        ),
        (
            "  prod:\n    connections:\n      generic: []\n",
            "  prod:\n    connections:\n      generic:\n        - name: K\n          value: v\n",
        ),
    ],
)
def test_add_creates_what_is_missing(tmp_path: Path, environment_text: str, expected: str) -> None:
    path = write(tmp_path, "environments:\n" + environment_text)
    add_connection(path, "prod", "K", "generic", {"value": "v"})
    assert path.read_text() == "environments:\n" + expected


def test_add_follows_the_files_indentation(tmp_path: Path) -> None:
    text = (
        "environments:\n    default:\n        connections:\n"
        "            generic:\n            - name: A\n              value: a\n"
    )
    path = write(tmp_path, text)
    add_connection(path, "default", "B", "generic", {"value": "b"})
    add_connection(path, "default", "c", "duckdb", {"path": "c.db", "lakehouse": {"format": "ducklake"}})
    assert path.read_text() == text + (
        "            - name: B\n"
        "              value: b\n"
        "            duckdb:\n"
        "            - name: c\n"
        "              path: c.db\n"
        "              lakehouse:\n"
        "                  format: ducklake\n"
    )


def test_added_connection_loads_with_its_values(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    add_connection(path, "default", "pg-main", "postgres", {"host": "localhost", "port": 5433, "password": "5432"})
    add_connection(path, "default", "TOKEN", "generic", {"value": "it's: #1"})
    environment = load_config(tmp_path, path, {}).environment("default")
    assert environment.connections["pg-main"].port == 5433
    assert environment.connections["pg-main"].password == "5432"
    assert environment.connections["TOKEN"].value == "it's: #1"
    assert list(environment.connections) == ["KEY1", "KEY2", "TOKEN", "duckdb-default", "pg-main"]


def test_crlf_files_keep_their_line_ends(tmp_path: Path) -> None:
    path = tmp_path / ".bruin.yml"
    path.write_bytes(b"environments:\r\n  default:\r\n    connections:\r\n      generic:\r\n        - name: A\r\n")
    add_connection(path, "default", "B", "generic", {"value": "b"})
    assert path.read_bytes().endswith(b"        - name: A\r\n        - name: B\r\n          value: b\r\n")
    delete_connection(path, "default", "A")
    delete_connection(path, "default", "B")
    assert path.read_bytes() == b"environments:\r\n  default:\r\n    connections: {}\r\n"


def test_delete_a_middle_entry_keeps_the_comments_around_it(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    delete_connection(path, "default", "KEY1")
    removed = "        - name: KEY1\n          value: 'single-quoted'   # inline comment\n"
    assert path.read_text() == CONFIG.replace(removed, "")


def test_delete_the_last_entry_of_a_list_keeps_the_comment_below_it(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    delete_connection(path, "default", "KEY2")
    assert path.read_text() == CONFIG.replace('        - name: "KEY2"\n          value: ~\n', "")
    assert "      # local warehouse\n      duckdb:\n" in path.read_text()


def test_delete_the_only_entry_removes_its_type(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    delete_connection(path, "default", "duckdb-default")
    removed = "      duckdb:\n        - name: duckdb-default\n          path: duckdb.db\n"
    assert path.read_text() == CONFIG.replace(removed, "")


def test_delete_the_last_connection_leaves_a_loadable_environment(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    delete_connection(path, "staging", "pg")
    assert path.read_text() == CONFIG.replace(
        "    connections:\n      postgres:\n        - {name: pg, host: db.internal, port: 5432}\n",
        "    connections: {}\n",
    )
    assert load_config(tmp_path, path, {}).environment("staging").connections == {}


def test_delete_from_flow_collections(tmp_path: Path) -> None:
    head = "environments:\n  e:\n    connections: "
    path = write(tmp_path, head + "{generic: [{name: A, value: a}, {name: B, value: b}], duckdb: [{name: D}]}\n")
    delete_connection(path, "e", "A")
    assert path.read_text() == head + "{generic: [{name: B, value: b}], duckdb: [{name: D}]}\n"
    delete_connection(path, "e", "D")
    assert path.read_text() == head + "{generic: [{name: B, value: b}]}\n"
    delete_connection(path, "e", "B")
    assert path.read_text() == head + "{}\n"


def test_add_then_delete_restores_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    add_connection(path, "default", "pg-main", "postgres", {"host": "h"})
    add_connection(path, "staging", "S", "generic", {"value": "s"})
    delete_connection(path, "staging", "S")
    delete_connection(path, "default", "pg-main")
    assert path.read_text() == CONFIG


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: add_connection(p, "nope", "X", "generic", {"value": CANARY}), "environment 'nope' does not exist"),
        (lambda p: delete_connection(p, "nope", "KEY1"), "environment 'nope' does not exist"),
        (
            lambda p: add_connection(p, "default", "duckdb-default", "generic", {"value": CANARY}),
            "a connection named 'duckdb-default' already exists in the 'default' environment",
        ),
        (lambda p: add_connection(p, "default", "X", "nosuch", {"value": CANARY}), "unknown connection type 'nosuch'"),
        (
            lambda p: add_connection(p, "default", "pg", "postgres", {"host": "h", "port": CANARY}),
            "connection 'pg' (postgres): field 'port': Input should be a valid integer",
        ),
        (
            lambda p: add_connection(p, "default", "X", "generic", {"name": CANARY, "value": CANARY}),
            "the credentials must not contain 'name'",
        ),
        (
            lambda p: delete_connection(p, "staging", "KEY1"),
            "connection 'KEY1' not found in environment 'staging'",
        ),
    ],
)
def test_errors_name_things_never_values_and_leave_the_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], call, message: str
) -> None:
    path = write(tmp_path, CONFIG)
    with pytest.raises(BruinError) as raised:
        call(path)
    assert str(raised.value).startswith(message)
    assert CANARY not in str(raised.value)
    captured = capsys.readouterr()
    assert CANARY not in captured.out + captured.err
    assert path.read_text() == CONFIG
    assert sorted(p.name for p in tmp_path.iterdir()) == [".bruin.yml"]


def test_a_stored_credential_is_written_but_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, CONFIG)
    add_connection(path, "default", "SECRET", "generic", {"value": CANARY})
    with pytest.raises(BruinError) as raised:
        add_connection(path, "default", "SECRET", "generic", {"value": "x"})
    assert CANARY not in str(raised.value)
    delete_connection(path, "default", "SECRET")
    captured = capsys.readouterr()
    assert CANARY not in captured.out + captured.err
    assert CANARY not in path.read_text()


def test_invalid_yaml_is_reported_by_line_without_its_text(tmp_path: Path) -> None:
    path = write(tmp_path, f"environments:\n  default:\n    connections: {{generic: [{{name: A, value: {CANARY}\n")
    with pytest.raises(BruinError) as raised:
        add_connection(path, "default", "B", "generic", {"value": "b"})
    assert str(raised.value).startswith(f"cannot edit {path}:")
    assert "not valid YAML" in str(raised.value)
    assert CANARY not in str(raised.value)


def test_anchors_are_left_for_the_user(tmp_path: Path) -> None:
    text = (
        "environments:\n  default:\n    connections: &shared\n      generic: [{name: A, value: a}]\n"
        "  prod:\n    connections: *shared\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(BruinError, match="line 3 uses a YAML anchor, alias or tag; edit the file by hand"):
        add_connection(path, "prod", "B", "generic", {"value": "b"})
    assert path.read_text() == text


def test_a_value_of_the_wrong_kind_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "environments:\n  default:\n    connections:\n      generic: oops\n")
    with pytest.raises(BruinError, match=r":4: 'generic' must hold a list"):
        add_connection(path, "default", "B", "generic", {"value": "b"})


def test_the_file_keeps_its_mode(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    path.chmod(0o640)
    add_connection(path, "default", "B", "generic", {"value": "b"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    path.chmod(0o600)
    delete_connection(path, "default", "B")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".bruin.yml"]  # no temporary file left


def test_a_missing_file_is_created_private_and_git_ignored(tmp_path: Path) -> None:
    path = tmp_path / ".bruin.yml"
    add_connection(path, "default", "B", "generic", {"value": CANARY})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert connections(path, "default") == {"generic": [{"name": "B", "value": CANARY}]}
    assert ".bruin.yml" in (tmp_path / ".gitignore").read_text().splitlines()


def test_a_symlinked_config_stays_a_symlink(tmp_path: Path) -> None:
    real = write(tmp_path, CONFIG, name="real.yml")
    link = tmp_path / ".bruin.yml"
    os.symlink(real, link)
    add_connection(link, "default", "B", "generic", {"value": "b"})
    assert link.is_symlink()
    assert connections(real, "default")["generic"][-1] == {"name": "B", "value": "b"}


def test_multi_line_values_are_written_as_blocks_and_read_back_exactly(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n"
    odd = "  leading space\ntrailing space  \n\n\ttab"
    add_connection(path, "default", "sf", "snowflake", {"account": "acme", "private_key": key})
    add_connection(path, "staging", "ODD", "generic", {"value": odd})
    assert "          private_key: |\n            -----BEGIN PRIVATE KEY-----\n" in path.read_text()
    loaded = load_config(tmp_path, path, {})
    assert loaded.environment("default").connections["sf"].private_key == key
    assert loaded.environment("staging").connections["ODD"].value == odd
