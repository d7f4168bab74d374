"""Asset header parsing: block markers, legacy rows, YAML assets, field forms and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybruin.errors import BruinError
from pybruin.pipeline.headers import read_asset
from pybruin.pipeline.model import Dependency, SecretMapping

OPENERS = [f"{token}{' ' * gap}@bruin" for token in ("/*", '"""', '"', "'") for gap in range(4)]
CLOSERS = [f"@bruin{' ' * gap}{token}" for token in ("*/", '"""', '"', "'") for gap in range(4)]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(BruinError) as info:
        read_asset(path)
    return str(info.value)


@pytest.mark.parametrize("opener", OPENERS)
def test_every_opening_marker_starts_a_block(tmp_path: Path, opener: str) -> None:
    file = write(tmp_path / "a.sql", f"{opener}\nname: one\n@bruin */\nselect 1\n")
    source = read_asset(file)
    assert source is not None
    assert source.fields.name == "one"
    assert source.content == "select 1"


@pytest.mark.parametrize("closer", CLOSERS)
def test_every_closing_marker_ends_a_block(tmp_path: Path, closer: str) -> None:
    file = write(tmp_path / "a.py", f'"""@bruin\nname: one\n{closer}\nprint(1)\n')
    source = read_asset(file)
    assert source is not None
    assert source.header == {"name": "one"}
    assert source.content == "print(1)"


def test_marker_lines_are_trimmed_and_may_follow_blank_lines(tmp_path: Path) -> None:
    file = write(tmp_path / "a.r", '\n\n   "@bruin  \ntype: r\n  @bruin"\t\nprint(1)\n\n')
    source = read_asset(file)
    assert source is not None
    assert source.fields.type == "r"
    assert source.content == "print(1)"


def test_opening_marker_with_more_text_is_not_a_block(tmp_path: Path) -> None:
    file = write(tmp_path / "a.sql", "/* @bruin name: x\n@bruin */\nselect 1\n")
    assert read_asset(file) is None


def test_file_without_header_yields_no_asset(tmp_path: Path) -> None:
    assert read_asset(write(tmp_path / "plain.sql", "select 1\n")) is None
    assert read_asset(write(tmp_path / "plain.py", "# just a comment\nprint(1)\n")) is None
    assert read_asset(write(tmp_path / "empty.py", "")) is None


def test_content_is_body_after_closing_marker_stripped(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", '""" @bruin\nname: a\n@bruin """\n\n\nimport os\n\nprint(os.sep)\n\n')
    source = read_asset(file)
    assert source is not None
    assert source.content == "import os\n\nprint(os.sep)"
    assert source.definition_file == source.executable_file == file


def test_unclosed_header_is_an_error_naming_the_opening_line(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", '\n\n""" @bruin\nname: x\nprint(1)\n')
    assert error_of(file) == (f'{file}:3: the @bruin header is never closed (expected a line like \'@bruin"""\')')


def test_unclosed_sql_header_suggests_the_sql_closer(tmp_path: Path) -> None:
    file = write(tmp_path / "a.sql", "/* @bruin\nname: x\n")
    assert error_of(file) == f"{file}:1: the @bruin header is never closed (expected a line like '@bruin*/')"


@pytest.mark.parametrize("body", ["", "\n   \n", "# only a comment\n"])
def test_empty_block_is_an_error(tmp_path: Path, body: str) -> None:
    file = write(tmp_path / "a.py", f'""" @bruin\n{body}@bruin """\n')
    assert error_of(file) == f"{file}: no embedded YAML found in the comments"


def test_yaml_error_line_matches_the_file(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", '\n""" @bruin\nname: x\ntype: python\n  bad: [\n@bruin """\n')
    assert error_of(file) == (
        f"{file}:5: invalid YAML in the @bruin header: mapping values are not allowed in this context"
    )


# An unclosed quote makes PyYAML quote the line; an unknown tag (a value starting with `!`), the tag.
@pytest.mark.parametrize("opening", ['"', "!"])
def test_yaml_error_does_not_echo_the_offending_line(tmp_path: Path, opening: str) -> None:
    canary = "canary-7f3e9a1c"
    file = write(tmp_path / "a.py", f'""" @bruin\nname: x\nparameters:\n  token: {opening}{canary}\n@bruin """\n')
    message = error_of(file)
    assert message.startswith(f"{file}:4: invalid YAML in the @bruin header: ")
    assert canary not in message
    assert "\n" not in message


def test_header_must_be_a_mapping(tmp_path: Path) -> None:
    file = write(tmp_path / "a.sql", "/* @bruin\n\n- a\n@bruin */\n")
    assert error_of(file) == f"{file}:3: the @bruin header must be a YAML mapping, got a list"


def test_python_tags_are_refused(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", '""" @bruin\nname: !!python/object/apply:os.getcwd []\n@bruin """\n')
    assert error_of(file).startswith(f"{file}:2: invalid YAML in the @bruin header: could not determine a constructor")


def test_scalars_are_read_like_yaml_1_2(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", '""" @bruin\nname: no\nstart_date: 2024-01-02\nenabled: false\n@bruin """\n')
    source = read_asset(file)
    assert source is not None
    assert source.fields.name == "no"
    assert source.fields.start_date == "2024-01-02"
    assert source.fields.enabled is False


def test_crlf_files_parse(tmp_path: Path) -> None:
    file = tmp_path / "a.sql"
    file.write_bytes(b"/* @bruin\r\nname: a\r\ntype: duckdb.sql\r\n@bruin */\r\nselect 1\r\n")
    source = read_asset(file)
    assert source is not None
    assert (source.fields.name, source.fields.type, source.content) == ("a", "duckdb.sql", "select 1")


# --- secrets -------------------------------------------------------------------------------------------


def test_secrets_inject_as_defaults_to_key(tmp_path: Path) -> None:
    # The shape of upstream's comment_test: one renamed secret, one injected under its key.
    file = write(
        tmp_path / "a.r",
        '"@bruin\nsecrets:\n  - key: secret1\n    inject_as: INJECTED_SECRET1\n  - key: secret2\n@bruin"\n',
    )
    source = read_asset(file)
    assert source is not None
    assert source.fields.secrets == [SecretMapping("secret1", "INJECTED_SECRET1"), SecretMapping("secret2", "secret2")]


def test_bare_string_secret_is_an_error_on_its_line(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", '""" @bruin\nname: a\nsecrets:\n  - key: A\n  - KEY1\n@bruin """\n')
    assert error_of(file) == (
        f"{file}:5: each secrets item must be a mapping like '{{key: NAME, inject_as: ENV_VAR}}', got a string"
    )


def test_secrets_must_be_a_list(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", '""" @bruin\nsecrets: KEY1\n@bruin """\n')
    assert error_of(file) == (
        f"{file}:2: 'secrets' must be a list of mappings like '{{key: NAME, inject_as: ENV_VAR}}', got a string"
    )


def test_secret_key_must_be_a_string(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", '""" @bruin\nsecrets:\n  - key: [a]\n@bruin """\n')
    assert error_of(file) == f"{file}:3: 'key' must be a string, got a list"


def test_secret_without_key_is_kept_for_validation(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", '""" @bruin\nsecrets:\n  - inject_as: X\n@bruin """\n')
    source = read_asset(file)
    assert source is not None
    assert source.fields.secrets == [SecretMapping("", "X")]


# --- depends -------------------------------------------------------------------------------------------


def test_depends_forms(tmp_path: Path) -> None:
    file = write(
        tmp_path / "a.sql",
        "/* @bruin\ndepends:\n  - plain\n  - asset: full_one\n  - asset: sym\n    mode: symbolic\n"
        "  - uri: bq://p.d.t\n  - asset: loud\n    mode: FULL\n@bruin */\n",
    )
    source = read_asset(file)
    assert source is not None
    assert source.fields.depends == [
        Dependency("asset", "plain"),
        Dependency("asset", "full_one"),
        Dependency("asset", "sym", "symbolic"),
        Dependency("uri", "bq://p.d.t"),
        Dependency("asset", "loud"),
    ]


def test_depends_may_be_a_single_name(tmp_path: Path) -> None:
    source = read_asset(write(tmp_path / "a.sql", "/* @bruin\ndepends: other\n@bruin */\n"))
    assert source is not None
    assert source.fields.depends == [Dependency("asset", "other")]


def test_depends_mode_must_be_known(tmp_path: Path) -> None:
    file = write(tmp_path / "a.sql", "/* @bruin\ndepends:\n  - asset: a\n    mode: weird\n@bruin */\n")
    assert error_of(file) == f"{file}:4: depends mode must be 'full' or 'symbolic', got 'weird'"


def test_depends_mapping_needs_asset_or_uri(tmp_path: Path) -> None:
    file = write(tmp_path / "a.sql", "/* @bruin\ndepends:\n  - x\n  - asset: a\n    uri: b\n@bruin */\n")
    assert error_of(file) == f"{file}:4: each depends mapping needs exactly one of 'asset' or 'uri'"


def test_depends_items_must_be_names_or_mappings(tmp_path: Path) -> None:
    file = write(tmp_path / "a.sql", "/* @bruin\ndepends:\n  - [a, b]\n@bruin */\n")
    assert error_of(file) == (
        f"{file}:3: each depends item must be an asset name or a mapping like '{{asset: NAME}}', got a list"
    )


# --- other fields --------------------------------------------------------------------------------------


def test_typed_fields(tmp_path: Path) -> None:
    file = write(
        tmp_path / "a.py",
        '""" @bruin\nname: a\ntype: python\nimage: python:3.12\nconnection: c\nenabled: false\n'
        'materialization:\n  type: TABLE\n  strategy: Merge\nparameters:\n  p: 1\ntags: [x, y]\n@bruin """\n',
    )
    source = read_asset(file)
    assert source is not None
    fields = source.fields
    assert (fields.name, fields.type, fields.image, fields.connection) == ("a", "python", "python:3.12", "c")
    assert fields.enabled is False
    assert fields.materialization == {"type": "table", "strategy": "merge"}
    assert fields.parameters == {"p": 1}
    assert fields.tags == ["x", "y"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("enabled: maybe", "'enabled' must be true or false"),
        ("name: {a: 1}", "'name' must be a string, got a mapping"),
        ("parameters: [1]", "'parameters' must be a mapping, got a list"),
    ],
)
def test_field_type_errors_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    file = write(tmp_path / "a.py", f'""" @bruin\ntype: python\n{line}\n@bruin """\n')
    assert error_of(file) == f"{file}:3: {message}"


# --- legacy one-line headers ---------------------------------------------------------------------------


def test_legacy_sql_rows(tmp_path: Path) -> None:
    file = write(
        tmp_path / "a.sql",
        "-- @bruin.name: legacy.one\n"
        "-- @bruin.type: duckdb.sql\n"
        "--@bruin.connection: duck\n"
        "-- @bruin.depends: a, b ,c\n"
        "-- @bruin.secrets: KEY1:INJECTED1, KEY2\n"
        "-- @bruin.materialization.type: TABLE\n"
        "-- @bruin.materialization.cluster_by: x, y\n"
        "-- @bruin.parameters.source_table: t\n"
        "-- @bruin.enabled: false\n"
        "-- just a comment\n"
        "  -- @bruin.image: not-at-column-zero\n"
        "select 1\n",
    )
    source = read_asset(file)
    assert source is not None
    fields = source.fields
    assert (fields.name, fields.type, fields.connection, fields.image) == ("legacy.one", "duckdb.sql", "duck", None)
    assert fields.depends == [Dependency("asset", "a"), Dependency("asset", "b"), Dependency("asset", "c")]
    assert fields.secrets == [SecretMapping("KEY1", "INJECTED1"), SecretMapping("KEY2", "KEY2")]
    assert fields.materialization == {"type": "table", "cluster_by": ["x", "y"]}
    assert fields.parameters == {"source_table": "t"}
    assert fields.enabled is False
    assert source.content == "-- @bruin.image: not-at-column-zero\nselect 1"


def test_legacy_python_rows_use_hash(tmp_path: Path) -> None:
    file = write(tmp_path / "a.py", "# @bruin.name: py\n# @bruin.secrets: A\nprint(1)\n")
    source = read_asset(file)
    assert source is not None
    assert (source.fields.name, source.fields.secrets, source.content) == ("py", [SecretMapping("A", "A")], "print(1)")


def test_legacy_rows_use_the_files_comment_token(tmp_path: Path) -> None:
    assert read_asset(write(tmp_path / "a.sql", "# @bruin.name: x\nselect 1\n")) is None
    assert read_asset(write(tmp_path / "a.py", "-- @bruin.name: x\n")) is None


def test_legacy_bad_flag_names_the_row(tmp_path: Path) -> None:
    file = write(tmp_path / "a.sql", "-- @bruin.name: x\n-- @bruin.enabled: maybe\n")
    assert error_of(file) == f"{file}:2: '@bruin.enabled' must be true or false"


# --- YAML assets ---------------------------------------------------------------------------------------


def test_yaml_asset_without_run(tmp_path: Path) -> None:
    file = write(tmp_path / "x.asset.yml", "name: x\ntype: ingestr\nparameters:\n  destination: duckdb\n")
    source = read_asset(file)
    assert source is not None
    assert source.executable_file == file
    assert source.content == ""
    assert source.fields.parameters == {"destination": "duckdb"}


def test_yaml_asset_with_run(tmp_path: Path) -> None:
    script = write(tmp_path / "code" / "job.py", "\nprint('run')\n")
    file = write(tmp_path / "defs" / "x.asset.yaml", "name: x\nrun: ../code/job.py\n")
    source = read_asset(file)
    assert source is not None
    assert source.definition_file == file
    assert source.executable_file == script
    assert source.content == "print('run')"


def test_yaml_asset_with_missing_run_file(tmp_path: Path) -> None:
    file = write(tmp_path / "x.task.yml", "name: x\n\nrun: nothere.py\n")
    assert error_of(file) == f"{file}:3: cannot read the 'run' file 'nothere.py'"


def test_yaml_asset_bad_yaml(tmp_path: Path) -> None:
    file = write(tmp_path / "x.asset.yml", "name: x\ndepends: [a\n")
    assert error_of(file) == f"{file}:3: invalid YAML: did not find expected ',' or ']'"


def test_empty_yaml_asset_has_empty_header(tmp_path: Path) -> None:
    source = read_asset(write(tmp_path / "x.asset.yml", "# nothing yet\n"))
    assert source is not None
    assert source.header == {}
