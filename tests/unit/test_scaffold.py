import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from pybruin.config.bruin_yml import load_config
from pybruin.config.project import find_project_root
from pybruin.errors import BruinError
from pybruin.pipeline.dag import topological_order
from pybruin.pipeline.loader import load_pipeline
from pybruin.pipeline.validate import validate_pipeline
from pybruin.scaffold import create_project

CANARY = "canary-5b1e0c7a-greeting-key"
PIPELINE_FILES = ["pipeline.yml", "assets/example.sql", "assets/numbers_summary.sql", "assets/hello.py"]


def header(path: Path, opener: str, closer: str) -> dict:
    """The YAML between the first line (which must be the opening marker) and the closing marker."""
    lines = path.read_text().splitlines()
    assert lines[0].strip() == opener
    return yaml.safe_load("\n".join(lines[1 : lines.index(closer)]))


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_creates_a_git_project_with_the_documented_files(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "project"
    created = create_project(folder).files

    expected = [folder / ".bruin.yml", folder / ".gitignore", *(folder / "my-pipeline" / f for f in PIPELINE_FILES)]
    assert created == expected
    assert all(path.is_file() for path in created)
    assert (folder / ".git").is_dir()
    assert stat.S_IMODE((folder / ".bruin.yml").stat().st_mode) == 0o600
    assert (folder / ".gitignore").read_text().splitlines() == [".bruin.yml", "logs/", "*.db", ".venv/"]
    ignored = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=folder, capture_output=True, text=True)
    assert "!! .bruin.yml" in ignored.stdout


def test_config_holds_the_duckdb_connection_and_a_variable_backed_secret(tmp_path: Path) -> None:
    create_project(tmp_path)
    document = yaml.safe_load((tmp_path / ".bruin.yml").read_text())
    assert document["default_environment"] == "default"
    assert document["environments"]["default"]["connections"] == {
        "duckdb": [{"name": "duckdb-default", "path": "duckdb.db"}],
        "generic": [{"name": "GREETING_API_KEY", "value": "${GREETING_API_KEY}"}],
    }
    unset = load_config(tmp_path, None, {}).environment(None).connections
    assert unset["duckdb-default"].path == str(tmp_path / "duckdb.db")
    assert unset["GREETING_API_KEY"].injection_value() == ""
    set_ = load_config(tmp_path, None, {"GREETING_API_KEY": CANARY}).environment(None).connections
    assert set_["GREETING_API_KEY"].injection_value() == CANARY


def test_headers_parse_and_the_pipeline_validates(tmp_path: Path) -> None:
    create_project(tmp_path)
    pipeline_dir = tmp_path / "my-pipeline"
    assert yaml.safe_load((pipeline_dir / "pipeline.yml").read_text()) == {
        "name": "my-pipeline",
        "default_connections": {"duckdb": "duckdb-default"},
    }
    numbers = header(pipeline_dir / "assets/example.sql", "/* @bruin", "@bruin */")
    assert numbers["name"] == "example.numbers"
    assert numbers["type"] == "duckdb.sql"
    assert numbers["materialization"] == {"type": "table"}
    summary = header(pipeline_dir / "assets/numbers_summary.sql", "/* @bruin", "@bruin */")
    assert summary["depends"] == ["example.numbers"]
    hello = header(pipeline_dir / "assets/hello.py", '""" @bruin', '@bruin """')
    assert hello["type"] == "python"
    assert hello["secrets"] == [{"key": "GREETING_API_KEY"}]

    pipeline = load_pipeline(pipeline_dir)
    assert validate_pipeline(pipeline, {"duckdb-default", "GREETING_API_KEY"}) == []
    order = [asset.name for asset in topological_order(pipeline)]
    assert order.index("example.numbers") < order.index("example.numbers_summary")
    assert find_project_root(pipeline_dir / "assets/hello.py") == tmp_path


def test_the_sql_assets_run_on_duckdb(tmp_path: Path) -> None:
    create_project(tmp_path)
    pipeline = load_pipeline(tmp_path / "my-pipeline")
    with duckdb.connect(str(tmp_path / "duckdb.db")) as connection:
        connection.execute("CREATE SCHEMA example")
        for asset in topological_order(pipeline):
            if asset.type == "duckdb.sql":
                connection.execute(f"CREATE TABLE {asset.name} AS {asset.content}")
        assert connection.execute("SELECT row_count, id_total FROM example.numbers_summary").fetchall() == [(3, 6)]


@pytest.mark.parametrize(("value", "expected"), [(None, "is empty"), (CANARY, "is set")])
def test_the_python_asset_says_whether_its_secret_is_set_but_never_prints_it(
    tmp_path: Path, value: str | None, expected: str
) -> None:
    create_project(tmp_path)
    env = {key: item for key, item in os.environ.items() if key != "GREETING_API_KEY"}
    if value is not None:
        env["GREETING_API_KEY"] = value
    done = subprocess.run(
        [sys.executable, "-m", "my-pipeline.assets.hello"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    assert CANARY not in done.stdout + done.stderr


def test_inside_a_work_tree_the_config_goes_to_its_root(tmp_path: Path) -> None:
    git("init", "-q", cwd=tmp_path)
    (tmp_path / ".gitignore").write_text("node_modules/\n*.db")
    created = create_project(tmp_path / "pipelines").files

    assert not (tmp_path / "pipelines" / ".git").exists()
    assert created[:2] == [tmp_path / ".bruin.yml", tmp_path / ".gitignore"]
    assert (tmp_path / ".gitignore").read_text() == "node_modules/\n*.db\n.bruin.yml\nlogs/\n.venv/\n"
    pipeline_dir = tmp_path / "pipelines" / "my-pipeline"
    assert find_project_root(pipeline_dir) == tmp_path
    connections = load_config(tmp_path, None, {}).environment(None).connections
    assert set(connections) == {"duckdb-default", "GREETING_API_KEY"}


def test_an_existing_root_config_gains_only_missing_connections(tmp_path: Path) -> None:
    git("init", "-q", cwd=tmp_path)
    existing = (
        "# team config\n"
        "default_environment: dev\n"
        "environments:\n"
        "  dev:\n"
        "    connections:\n"
        "      duckdb:\n"
        "        - name: duckdb-default   # ours\n"
        "          path: shared.db\n"
    )
    (tmp_path / ".bruin.yml").write_text(existing)
    create_project(tmp_path / "analytics")
    assert (tmp_path / ".bruin.yml").read_text() == existing + (
        "      generic:\n        - name: GREETING_API_KEY\n          value: ${GREETING_API_KEY}\n"
    )


@pytest.mark.parametrize("existing", ["my-pipeline"])
def test_refuses_a_folder_that_already_holds_a_project(tmp_path: Path, existing: str) -> None:
    # An existing .bruin.yml is merged into, as upstream's `bruin init` does; an existing pipeline folder is kept.
    (tmp_path / "notes.txt").write_text("keep me\n")
    (tmp_path / existing).mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(BruinError) as raised:
        create_project(tmp_path)
    assert str(raised.value) == f"folder '{tmp_path}' already contains a Bruin project"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_existing_folder_without_a_project_is_used(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me\n")
    create_project(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"
    assert (tmp_path / "my-pipeline" / "pipeline.yml").is_file()


def test_without_git_the_files_are_still_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    folder = tmp_path / "project"
    created = create_project(folder).files
    assert all(path.is_file() for path in created)
    assert not (folder / ".git").exists()
    assert find_project_root(folder / "my-pipeline" / "assets") == folder


def test_a_failing_git_init_is_reported_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_git = fake_bin / "git"
    fake_git.write_text("#!/bin/sh\necho 'hint: something' >&2\necho 'fatal: cannot init here' >&2\nexit 128\n")
    fake_git.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake_bin))
    with pytest.raises(BruinError) as raised:
        create_project(tmp_path / "project")
    assert str(raised.value) == f"git init failed in '{tmp_path / 'project'}': fatal: cannot init here"
