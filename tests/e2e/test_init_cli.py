"""`bruin init [template] [folder] [--in-place]`: every template it creates runs and validates straight away."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

CANARY = "canary-2d8f5b3e-init"
FILES = [
    "bruin-pipeline/pipeline.yml",
    "bruin-pipeline/assets/example.sql",
    "bruin-pipeline/assets/numbers_summary.sql",
    "bruin-pipeline/assets/hello.py",
]


def bruin(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pybruin", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )


def summary(folder: str, config: Path, pipeline: Path, state: str, note: str) -> str:
    return (
        f"\n\nA new 'default' pipeline created successfully in folder '{folder}'.\n"
        f"\nConfig:   {config}\nPipeline: {pipeline}\n\n{state}\n{note}\n"
        f"\nNext steps:\n  1. Add your connection credentials to {config}\n"
        f"  2. Run: bruin validate {folder}\n  3. Run: bruin run {folder}\n\n"
    )


def test_init_outside_git_makes_a_bruin_project_then_runs_and_validates(tmp_path: Path):
    created = bruin(tmp_path, "init")
    assert created.returncode == 0, created.stderr
    project = tmp_path / "bruin"
    config = project / ".bruin.yml"
    assert created.stdout == summary(
        "bruin/bruin-pipeline", config, project / "bruin-pipeline", f"Created .bruin.yml at {config}.",
        "This is the new Bruin project root created for you.",
    )  # fmt: skip
    assert (project / ".git").is_dir()
    assert all((project / name).is_file() for name in FILES)

    ran = bruin(project, "run", "bruin-pipeline", env={"GREETING_API_KEY": CANARY})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Hello from Bruin! GREETING_API_KEY is set." in ran.stdout
    assert CANARY not in ran.stdout + ran.stderr

    validated = bruin(project, "validate", "bruin-pipeline")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.endswith("\n✓ Successfully validated 3 assets across 1 pipeline, all good.\n")


def test_init_in_place_makes_this_folder_the_project(tmp_path: Path):
    created = bruin(tmp_path, "init", "default", "my project", "--in-place")
    assert created.returncode == 0, created.stderr
    assert f"in folder '{tmp_path / 'my project'}'." in created.stdout
    assert "This is your Bruin project root.\n" in created.stdout
    assert (tmp_path / ".git").is_dir() and (tmp_path / ".bruin.yml").is_file()
    ran = bruin(tmp_path, "run", "my project")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_init_inside_a_git_work_tree_puts_the_config_at_its_root(project):
    (project.root / "analytics").mkdir()
    result = project.bruin("init", "duckdb", "--in-place")  # --in-place has no effect inside a repository
    assert result.returncode == 0, result.output
    assert "This is your Git repo root, so it may sit several levels above the pipeline folder.\n" in result.stdout
    assert (project.root / ".bruin.yml").is_file()
    assert (project.root / "duckdb" / "pipeline.yml").is_file()
    assert project.bruin("run", "duckdb").returncode == 0

    again = project.bruin("init", "python", "py")
    assert again.returncode == 0, again.output
    config = project.root / ".bruin.yml"
    assert f"\nUsing existing .bruin.yml at {config} (left unchanged).\n" in again.stdout
    first = project.bruin("init", "default")
    assert f"\nUsing existing .bruin.yml at {config} (merged template config).\n" in first.stdout
    connections = yaml.safe_load(config.read_text())["environments"]["default"]["connections"]
    assert connections == {
        "duckdb": [{"name": "duckdb-default", "path": "duckdb.db"}],
        "generic": [{"name": "GREETING_API_KEY", "value": "${GREETING_API_KEY}"}],
    }


@pytest.mark.parametrize("template", ["default", "duckdb", "duckdb-lineage", "empty", "python", "r"])
def test_every_listed_template_runs_at_once(project, template):
    listed = json.loads(project.bruin("internal", "list-templates", "-o", "json").stdout)
    assert template in listed["templates"] and listed["count"] == len(listed["templates"])
    created = project.bruin("init", template)
    assert created.returncode == 0, created.output
    folder = "bruin-pipeline" if template == "default" else template
    assert f"  3. Run: bruin run {folder}\n" in created.stdout
    ran = project.bruin("run", folder)
    assert ran.returncode == 0, ran.output
    validated = project.bruin("validate", folder)
    assert validated.returncode == 0, validated.output


def test_init_without_a_config_for_the_empty_template(tmp_path: Path):
    created = bruin(tmp_path, "init", "empty", "--in-place")
    assert created.returncode == 0, created.stderr
    assert created.stdout.endswith(
        f"\nPipeline: {tmp_path / 'empty'}\n\nNext steps:\n  1. Create a .bruin.yml with your connection credentials\n"
        f"  2. Run: bruin validate {tmp_path / 'empty'}\n  3. Run: bruin run {tmp_path / 'empty'}\n\n"
    )
    assert not (tmp_path / ".bruin.yml").exists()


def test_unknown_template_and_folder_paths(tmp_path: Path):
    unknown = bruin(tmp_path, "init", "bigquery-nope")
    assert (unknown.returncode, unknown.stderr) == (1, "Template 'bigquery-nope' not found\n")
    nested = bruin(tmp_path, "init", "default", "a/b")
    assert nested.returncode == 1
    assert nested.stderr == (
        "Traversing up or down in the folder structure is not allowed, provide base folder name only.\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_an_existing_pipeline_folder(tmp_path: Path):
    assert bruin(tmp_path, "init", "--in-place").returncode == 0
    again = bruin(tmp_path, "init", "--in-place")
    assert again.returncode == 1
    assert again.stderr == f"folder '{tmp_path}' already contains a Bruin project\n"
    assert again.stdout == ""
