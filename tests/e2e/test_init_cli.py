"""`bruin init`: the project it creates runs and validates straight away."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CANARY = "canary-2d8f5b3e-init"
FILES = [
    ".bruin.yml",
    ".gitignore",
    "my-pipeline/pipeline.yml",
    "my-pipeline/assets/example.sql",
    "my-pipeline/assets/numbers_summary.sql",
    "my-pipeline/assets/hello.py",
]


def bruin(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pybruin", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_init_here_then_run_and_validate(tmp_path: Path):
    created = bruin(tmp_path, "init")
    assert created.returncode == 0, created.stderr
    listed = "".join(f"  {name}\n" for name in FILES)
    assert created.stdout == (
        f"Created a Bruin project in {tmp_path}; files written:\n{listed}\n"
        "Run the example pipeline with:\n  bruin run my-pipeline\n"
    )
    assert (tmp_path / ".git").is_dir()

    ran = bruin(tmp_path, "run", "my-pipeline", env={"GREETING_API_KEY": CANARY})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Hello from Bruin! GREETING_API_KEY is set." in ran.stdout
    assert CANARY not in ran.stdout + ran.stderr

    validated = bruin(tmp_path, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout == "✓ Successfully validated 3 assets across 1 pipeline(s), all good.\n"


def test_init_into_a_folder_names_the_next_command(tmp_path: Path):
    created = bruin(tmp_path, "init", "my project")
    assert created.returncode == 0, created.stderr
    assert created.stdout.endswith("Run the example pipeline with:\n  bruin run 'my project/my-pipeline'\n")
    assert f"  {os.path.join('my project', '.bruin.yml')}\n" in created.stdout

    ran = bruin(tmp_path, "run", "my project/my-pipeline")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_init_inside_a_git_work_tree_puts_the_config_at_its_root(project):
    result = project.bruin("init", "analytics")
    assert result.returncode == 0, result.output
    assert "  .bruin.yml\n  .gitignore\n  analytics/my-pipeline/pipeline.yml\n" in result.stdout
    assert (project.root / ".bruin.yml").is_file()
    assert project.bruin("run", "analytics/my-pipeline").returncode == 0


def test_init_refuses_an_existing_project(tmp_path: Path):
    assert bruin(tmp_path, "init").returncode == 0
    again = bruin(tmp_path, "init")
    assert again.returncode == 1
    assert again.stderr == f"folder '{tmp_path}' already contains a Bruin project\n"
    assert again.stdout == ""
