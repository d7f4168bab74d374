"""Loading pipelines: pipeline.yml, asset discovery, default names, the defaults merge and load errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.pipeline import (
    Dependency,
    SecretMapping,
    find_pipeline_dirs,
    load_pipeline,
    pipeline_dir_for_asset,
)
from pybruin.pipeline.model import Pipeline


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def py_asset(header: str, body: str = "print(1)") -> str:
    return f'""" @bruin\n{header}\n@bruin """\n{body}\n'


def sql_asset(header: str, body: str = "select 1") -> str:
    return f"/* @bruin\n{header}\n@bruin */\n{body}\n"


def pipeline_with(tmp_path: Path, pipeline_yml: str, files: dict[str, str]) -> Pipeline:
    write(tmp_path / "pipeline.yml", pipeline_yml)
    for relative, text in files.items():
        write(tmp_path / relative, text)
    return load_pipeline(tmp_path)


def load_error(path: Path) -> str:
    with pytest.raises(BruinError) as info:
        load_pipeline(path)
    return str(info.value)


# --- pipeline.yml --------------------------------------------------------------------------------------


def test_pipeline_fields(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p1\ncommit: abc123\npristine_env: true\ndefault_connections:\n  duckdb: duck-a\n  chess: chess-b\n"
        "variables:\n  start: {type: string, default: 2024-01-01}\n  n: {type: integer, default: 3}\n",
        {},
    )
    assert pipeline.name == "p1"
    assert pipeline.directory == tmp_path
    assert pipeline.definition_file == tmp_path / "pipeline.yml"
    assert pipeline.commit == "abc123"
    assert pipeline.pristine_env is True
    assert pipeline.default_connections == {"duckdb": "duck-a", "chess": "chess-b"}
    assert pipeline.variables == {
        "start": {"type": "string", "default": "2024-01-01"},
        "n": {"type": "integer", "default": 3},
    }
    assert pipeline.assets == []


def test_defaults_when_keys_are_absent(tmp_path: Path) -> None:
    pipeline = pipeline_with(tmp_path, "", {})
    assert (pipeline.name, pipeline.commit, pipeline.pristine_env) == ("", "", False)
    assert pipeline.default_connections == {} and pipeline.variables == {}


def test_legacy_id_names_the_pipeline(tmp_path: Path) -> None:
    assert pipeline_with(tmp_path, "id: legacy\n", {}).name == "legacy"
    assert pipeline_with(tmp_path, "id: legacy\nname: modern\n", {}).name == "modern"


def test_pipeline_yaml_and_explicit_file_paths(tmp_path: Path) -> None:
    file = write(tmp_path / "pipeline.yaml", "name: y\n")
    assert load_pipeline(tmp_path).definition_file == file
    assert load_pipeline(file).name == "y"


def test_missing_pipeline_file(tmp_path: Path) -> None:
    assert load_error(tmp_path) == (
        f"no pipeline file found in '{tmp_path}'. Supported files: [pipeline.yml pipeline.yaml]"
    )


def test_pipeline_yml_bad_yaml_names_line(tmp_path: Path) -> None:
    file = write(tmp_path / "pipeline.yml", "name: p\ndefault:\n  type: python\n type: x\n")
    assert load_error(tmp_path) == f"{file}:4: invalid YAML: did not find expected key"


def test_pipeline_yml_yaml_error_does_not_echo_values(tmp_path: Path) -> None:
    canary = "canary-pipeline-91ab77"
    file = write(tmp_path / "pipeline.yml", f"name: p\nvariables:\n  token: {{default: '{canary}\n")
    message = load_error(tmp_path)
    assert message.startswith(f"{file}:")
    assert canary not in message


def test_pipeline_yml_must_be_a_mapping(tmp_path: Path) -> None:
    file = write(tmp_path / "pipeline.yml", "- a\n")
    assert load_error(tmp_path) == f"{file}:1: a pipeline definition must be a YAML mapping, got a list"


def test_variables_need_a_default(tmp_path: Path) -> None:
    file = write(
        tmp_path / "pipeline.yml", "name: p\nvariables:\n  a: {type: string, default: x}\n  b:\n    type: string\n"
    )
    assert load_error(tmp_path) == f'{file}:5: invalid variable "b": must have a default value'


def test_pristine_env_must_be_boolean(tmp_path: Path) -> None:
    file = write(tmp_path / "pipeline.yml", "name: p\npristine_env: sometimes\n")
    assert load_error(tmp_path) == f"{file}:2: 'pristine_env' must be true or false"


def test_bad_default_secrets_name_the_pipeline_file(tmp_path: Path) -> None:
    file = write(tmp_path / "pipeline.yml", "name: p\ndefault:\n  secrets:\n    - KEY2\n")
    assert load_error(tmp_path) == (
        f"{file}:4: each secrets item must be a mapping like '{{key: NAME, inject_as: ENV_VAR}}', got a string"
    )


# --- discovery -----------------------------------------------------------------------------------------


def test_discovery_order_dirs_and_suffixes(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\n",
        {
            "assets/b.sql": sql_asset("type: duckdb.sql"),
            "assets/a/z.sql": sql_asset("type: duckdb.sql"),
            "assets/a.sql": sql_asset("type: duckdb.sql"),
            "assets/c.R": '"@bruin\ntype: r\n@bruin"\n',
            "assets/c.r": '"@bruin\ntype: r\n@bruin"\n',
            "assets/d.txt": sql_asset("type: duckdb.sql"),
            "assets/e.sql": "select 'no header'\n",
            "assets/node_modules/f.sql": sql_asset("type: duckdb.sql"),
            "assets/.venv/g.py": py_asset("type: python"),
            "assets/h.asset.yml": "type: empty\n",
            "tasks/t.task.yml": "type: empty\n",
            "other/o.sql": sql_asset("type: duckdb.sql"),
        },
    )
    # tasks/ before assets/; within a directory, entries in lexical order ("a" sorts before "a.sql").
    assert [asset.name for asset in pipeline.assets] == ["t.task", "a.z", "a", "b", "c", "h"]


def test_default_names_from_the_path(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\n",
        {
            "assets/test2/shipping_providers.sql": sql_asset("type: duckdb.sql"),
            "assets/raw/users.py": py_asset("secrets: []"),
            "assets/deep/er/x.asset.yaml": "type: empty\n",
            "assets/named.sql": sql_asset("name: explicit.name"),
        },
    )
    assert [asset.name for asset in pipeline.assets] == [
        "deep.er.x",
        "explicit.name",
        "raw.users",
        "test2.shipping_providers",
    ]


def test_type_inference_and_default_type(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\ndefault:\n  type: ingestr\n",
        {
            "assets/a.py": py_asset("name: a"),
            "assets/b.r": '"@bruin\nname: b\n@bruin"\n',
            "assets/c.sql": sql_asset("name: c"),
            "assets/d.py": py_asset("name: d\ntype: bq.sql"),
            "assets/e.asset.yml": "name: e\nrun: code/e.py\n",
            "assets/code/e.py": "print('e')\n",
        },
    )
    types = {asset.name: asset.type for asset in pipeline.assets}
    assert types == {"a": "python", "b": "r", "c": "ingestr", "d": "bq.sql", "e": "python"}
    e = pipeline.asset("e")
    assert e is not None and e.executable_file == tmp_path / "assets/code/e.py" and e.content == "print('e')"


def test_duplicate_names_name_both_files(tmp_path: Path) -> None:
    first = write(tmp_path / "assets/a.sql", sql_asset("name: same"))
    second = write(tmp_path / "assets/b.py", py_asset("name: same"))
    write(tmp_path / "pipeline.yml", "name: p\n")
    assert load_error(tmp_path) == f"{second}: asset name 'same' is already used by '{first}'"


def test_asset_errors_surface_from_load(tmp_path: Path) -> None:
    file = write(tmp_path / "assets/a.py", '""" @bruin\nname: a\n')
    write(tmp_path / "pipeline.yml", "name: p\n")
    assert load_error(tmp_path) == f'{file}:1: the @bruin header is never closed (expected a line like \'@bruin"""\')'


def test_asset_fields(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\n",
        {
            "assets/a.sql": sql_asset(
                "name: a\ntype: duckdb.sql\nenabled: false\ndepends:\n  - b\n  - asset: c\n    mode: symbolic\n"
                "  - uri: x://y\nmaterialization:\n  type: table\n",
                body="select 42",
            ),
            "assets/b.sql": sql_asset("name: b\ntype: duckdb.sql"),
            "assets/c.sql": sql_asset("name: c\ntype: duckdb.sql"),
        },
    )
    a = pipeline.asset("a")
    assert a is not None
    assert a.content == "select 42"
    assert a.enabled is False
    assert a.depends == ["b"]
    assert a.other_depends == [Dependency("asset", "c", "symbolic"), Dependency("uri", "x://y")]
    assert a.materialization == {"type": "table"}
    assert a.header["name"] == "a"
    assert pipeline.asset("missing") is None


# --- defaults merge (reference §3.2) -------------------------------------------------------------------

PARSE_DEFAULT_OPTION = (
    "name: integration_test\n"
    "default_connections:\n  duckdb: duckdb-env-run-default-option\n  chess: chess-run-default-option\n"
    "default:\n  type: ingestr\n  secrets:\n    - key: KEY2\n      inject_as: INJECTED2\n"
)


def test_integration_fixture_parse_default_option(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        PARSE_DEFAULT_OPTION,
        {
            "assets/asset.py": py_asset("name: python_asset\nsecrets:\n  - key: KEY1\n    inject_as: INJECTED1"),
            "assets/games.asset.yml": "name: chess_playground.games\nparameters:\n  source_connection: chess\n",
        },
    )
    python_asset = pipeline.asset("python_asset")
    games = pipeline.asset("chess_playground.games")
    assert python_asset is not None and games is not None
    assert python_asset.type == "python"
    assert python_asset.secrets == [SecretMapping("KEY1", "INJECTED1"), SecretMapping("KEY2", "INJECTED2")]
    assert games.type == "ingestr"
    assert games.secrets == [SecretMapping("KEY2", "INJECTED2")]
    # default_connections are never injected as secrets.
    assert games.connection is None


def test_default_secret_without_inject_as_uses_its_key(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path, "name: p\ndefault:\n  secrets:\n    - key: API\n", {"assets/a.py": py_asset("name: a")}
    )
    assert pipeline.assets[0].secrets == [SecretMapping("API", "API")]


def test_asset_secret_wins_over_default_with_same_key(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\ndefault:\n  secrets:\n    - key: K\n      inject_as: FROM_DEFAULT\n    - key: D1\n    - key: D1\n"
        "      inject_as: D1_AGAIN\n",
        {"assets/a.py": py_asset("name: a\nsecrets:\n  - key: K\n    inject_as: MINE\n  - key: Z")},
    )
    assert pipeline.assets[0].secrets == [
        SecretMapping("K", "MINE"),
        SecretMapping("Z", "Z"),
        SecretMapping("D1", "D1"),
        SecretMapping("D1", "D1_AGAIN"),
    ]


def test_scalar_defaults_fill_only_empty_fields(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\ndefault:\n  description: d\n  start_date: '2024-01-01'\n  image: python:3.12\n  instance: big\n"
        "  owner: team@x\n  parameters:\n    p1: default\n    p2: default\n  tags: [t1, t2]\n  depends: [base]\n",
        {
            "assets/a.py": py_asset(
                "name: a\ndescription: mine\nimage: python:3.11\nparameters:\n  p1: mine\ntags: [t2, t3]\ndepends: [x]"
            ),
            "assets/b.py": py_asset("name: b"),
        },
    )
    a, b = pipeline.asset("a"), pipeline.asset("b")
    assert a is not None and b is not None
    assert (a.description, a.image, a.start_date, a.instance, a.owner) == (
        "mine",
        "python:3.11",
        "2024-01-01",
        "big",
        "team@x",
    )
    assert a.parameters == {"p1": "mine", "p2": "default"}
    assert a.tags == ["t2", "t3", "t1"]
    assert a.depends == ["x", "base"]
    assert (b.description, b.image, b.parameters, b.tags) == (
        "d",
        "python:3.12",
        {"p1": "default", "p2": "default"},
        ["t1", "t2"],
    )


# --- connection as secret (reference §3.3) -------------------------------------------------------------


def test_connection_without_secrets_is_added(tmp_path: Path) -> None:
    pipeline = pipeline_with(tmp_path, "name: p\n", {"assets/a.py": py_asset("name: a\nconnection: my-conn")})
    assert pipeline.assets[0].secrets == [SecretMapping("my-conn", "my-conn")]


def test_connection_already_listed_is_not_duplicated(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\n",
        {
            "assets/a.py": py_asset(
                "name: a\nconnection: my-conn\nsecrets:\n  - key: my-conn\n    inject_as: MY_CONN_OVERRIDE"
            )
        },
    )
    assert pipeline.assets[0].secrets == [SecretMapping("my-conn", "MY_CONN_OVERRIDE")]


def test_connection_is_appended_after_other_secrets(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\ndefault:\n  secrets:\n    - key: D\n",
        {"assets/a.py": py_asset("name: a\nconnection: c\nsecrets:\n  - key: S\n    inject_as: S_VAR")},
    )
    assert pipeline.assets[0].secrets == [SecretMapping("S", "S_VAR"), SecretMapping("D", "D"), SecretMapping("c", "c")]


def test_default_connection_is_used_and_injected(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\ndefault:\n  connection: shared\n",
        {"assets/a.py": py_asset("name: a"), "assets/b.py": py_asset("name: b\nconnection: own")},
    )
    a, b = pipeline.assets
    assert (a.connection, a.secrets) == ("shared", [SecretMapping("shared", "shared")])
    assert (b.connection, b.secrets) == ("own", [SecretMapping("own", "own")])


def test_default_connection_already_a_default_secret(tmp_path: Path) -> None:
    pipeline = pipeline_with(
        tmp_path,
        "name: p\ndefault:\n  connection: shared\n  secrets:\n    - key: shared\n      inject_as: SHARED\n",
        {"assets/a.sql": sql_asset("name: a\ntype: duckdb.sql")},
    )
    assert pipeline.assets[0].secrets == [SecretMapping("shared", "SHARED")]


# --- finding pipelines ---------------------------------------------------------------------------------


def test_find_pipeline_dirs(tmp_path: Path) -> None:
    write(tmp_path / "b" / "pipeline.yml", "name: b\n")
    write(tmp_path / "a" / "pipeline.yaml", "name: a\n")
    write(tmp_path / "a" / "nested" / "pipeline.yml", "name: n\n")
    write(tmp_path / "node_modules" / "x" / "pipeline.yml", "name: skipped\n")
    write(tmp_path / "c" / "my_pipeline.yml", "name: not-a-pipeline-file\n")
    # Walk order: "nested" sorts before "pipeline.yaml" inside a/.
    assert find_pipeline_dirs(tmp_path) == [tmp_path / "a" / "nested", tmp_path / "a", tmp_path / "b"]


def test_find_pipeline_dirs_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BruinError, match="is not a directory"):
        find_pipeline_dirs(tmp_path / "missing")


def test_pipeline_dir_for_asset(tmp_path: Path) -> None:
    write(tmp_path / "p" / "pipeline.yml", "name: p\n")
    asset = write(tmp_path / "p" / "assets" / "deep" / "a.py", py_asset("name: a"))
    assert pipeline_dir_for_asset(asset) == tmp_path / "p"


def test_pipeline_dir_for_asset_outside_any_pipeline(tmp_path: Path) -> None:
    asset = write(tmp_path / "loose.py", "print(1)\n")
    with pytest.raises(BruinError) as info:
        pipeline_dir_for_asset(asset)
    assert str(info.value) == (
        "cannot find a pipeline the given task belongs to. Are you sure this task is in an actual pipeline?"
    )
