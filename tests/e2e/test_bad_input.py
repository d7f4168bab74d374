"""Bad input: one clear line naming the file (and line), exit 1, never a traceback."""

from __future__ import annotations

import gc
import logging
import os
import warnings

import pytest

from conftest import EMPTY_CONFIG, GOOD_ASSET, assert_one_line_error
from pybruin.cli.app import run_cli


def test_malformed_bruin_yml(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: [unclosed\n")
    project.write("p/pipeline.yml", "name: p\n")
    assert_one_line_error(project.bruin("run", "p"), ".bruin.yml", ":")


def test_malformed_pipeline_yml(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\ndefault: [\n")
    assert_one_line_error(project.bruin("run", "p"), "pipeline.yml:")


def test_malformed_header_yaml_names_the_file_line(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/bad.py", '"""@bruin\nname: bad\nsecrets: [\n@bruin"""\n')
    assert_one_line_error(project.bruin("run", "p"), "bad.py:")


def test_unknown_environment(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    assert_one_line_error(
        project.bruin("run", "-e", "nope", "p"),
        "Failed to use the environment 'nope': environment 'nope' not found in the configuration file",
    )


def test_header_without_closing_marker(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/open.py", '"""@bruin\nname: open\n')
    assert_one_line_error(project.bruin("run", "p"), "open.py:1", "never closed")


def test_secrets_as_bare_strings(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/s.py", '"""@bruin\nname: s\nsecrets:\n  - KEY1\n@bruin"""\n')
    assert_one_line_error(project.bruin("run", "p"), "s.py", "mapping")


def test_dependency_cycle(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", '"""@bruin\nname: a\ndepends: [b]\n@bruin"""\n')
    project.write("p/assets/b.py", '"""@bruin\nname: b\ndepends: [a]\n@bruin"""\n')
    assert_one_line_error(project.bruin("run", "p"), "cycle")


@pytest.mark.parametrize("value", ["count=prod", "count", "{not json"])
def test_non_json_var(project, value):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\nvariables:\n  count: {type: integer, default: 1}\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    assert_one_line_error(project.bruin("run", "--var", value, "p"), "--var")


def test_unknown_variable(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    assert_one_line_error(project.bruin("run", "--var", "nope=1", "p"), 'no such variable "nope"')


@pytest.mark.parametrize("placement", ["before", "after", "env"])
def test_unsupported_secrets_backend(project, placement):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    args = {
        "before": ["--secrets-backend", "nope", "run", "p"],
        "after": ["run", "--secrets-backend", "nope", "p"],
        "env": ["run", "p"],
    }[placement]
    env = {"BRUIN_SECRETS_BACKEND": "nope"} if placement == "env" else {}
    assert_one_line_error(
        project.bruin(*args, env=env),
        'unsupported secrets backend "nope"; possible values: vault, doppler, aws, azure, gcp, keyring',
    )


def test_debug_shows_a_traceback(project):
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\ndefault: [\n")
    result = project.bruin("--debug", "run", "p")
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_missing_bruin_yml_is_created_and_ignored(project):
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    result = project.bruin("run", "p")
    assert result.returncode == 0, result.output
    assert "default_environment: default" in (project.root / ".bruin.yml").read_text()
    assert ".bruin.yml" in (project.root / ".gitignore").read_text().splitlines()


def test_a_backend_that_fails_to_open_leaves_no_log_file_unclosed(project, monkeypatch, capsys):
    """In-process: an abandoned open file is closed by the garbage collector, which warns about it."""
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", GOOD_ASSET)
    for name in [name for name in os.environ if name.startswith("BRUIN_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(project.root)
    root_logger = logging.getLogger()
    saved = root_logger.handlers[:], root_logger.level
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", ResourceWarning)
            code = run_cli(["run", "--secrets-backend", "vault", "p"])
            gc.collect()
    finally:
        logging.captureWarnings(False)
        root_logger.handlers, root_logger.level = saved
    err = capsys.readouterr().err
    assert code == 1
    assert "failed to initialize vault client" in err
    assert "ResourceWarning" not in err, err
