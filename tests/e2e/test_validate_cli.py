"""`bruin validate` warnings about a config file git tracks: the file, and credentials written out in it."""

from __future__ import annotations

import subprocess
import uuid

import pytest

CANARY = "canary-94e0d6a1-validate"

CONFIG = f"""
environments:
  default:
    connections:
      generic:
        - name: API_KEY
          value: {CANARY}-generic
        - name: FROM_ENV
          value: ${{API_TOKEN}}
      postgres:
        - name: pg
          username: app
          password: {CANARY}-postgres
          host: localhost
      snowflake:
        - name: sf
          account: acme
          password: ${{SF_PASSWORD}}
          private_key: {CANARY}-snowflake
      google_cloud_platform:
        - name: gcp
          project_id: acme-data
          service_account_json: '{{"private_key": "{CANARY}-gcp"}}'
"""

CLEAN = "\nValidating pipelines in 'p' for 'default' environment...\n\nPipeline: p (.)\n  No issues found\n\n"
OK = CLEAN + "✓ Successfully validated 1 assets across 1 pipeline, all good.\n"


def warned(count: int) -> str:
    return CLEAN + f"✘ Checked 1 pipeline and found {count} warning{'s' if count > 1 else ''}, please check above.\n"


def tracked_warning(path) -> str:
    return (
        f"! {path}: '{path.name}' is tracked by git, but it is where credentials live: "
        f"untrack it with 'git rm --cached {path.name}' and git-ignore it\n"
    )


def literal_warning(path, connection: str, field: str) -> str:
    return (
        f"! {path}: connection '{connection}' in environment 'default' has a literal value in sensitive field "
        f"'{field}' of a file tracked by git; use a ${{VARIABLE}} reference instead\n"
    )


def git_add(project, *paths: str) -> None:
    subprocess.run(["git", "add", "-f", *paths], cwd=project.root, check=True, capture_output=True)


@pytest.fixture
def pipeline(project):
    project.write(".bruin.yml", CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", '"""@bruin\nname: a\nsecrets:\n  - key: API_KEY\n@bruin"""\nprint("a")\n')
    return project


def test_an_untracked_config_gets_no_warning(pipeline):
    result = pipeline.bruin("validate", "p")
    assert result.returncode == 0, result.output
    assert result.stdout == OK
    assert CANARY not in result.output


def test_a_tracked_config_is_warned_about_with_each_literal_credential(pipeline):
    git_add(pipeline, ".bruin.yml")
    result = pipeline.bruin("validate", "p", env={"API_TOKEN": CANARY, "SF_PASSWORD": CANARY})
    assert result.returncode == 0, result.output
    config = pipeline.root / ".bruin.yml"
    assert result.stdout == (
        tracked_warning(config)
        + literal_warning(config, "API_KEY", "value")
        + literal_warning(config, "pg", "password")
        + literal_warning(config, "sf", "private_key")
        + literal_warning(config, "gcp", "service_account_json")
        + warned(5)
    )
    assert result.stderr == ""
    assert CANARY not in result.output


def test_a_tracked_config_with_references_only_gets_the_tracking_warning(project):
    config = project.write(
        ".bruin.yml",
        """
        environments:
          default:
            connections:
              generic:
                - name: API_KEY
                  value: ${API_KEY}
        """,
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", '"""@bruin\nname: a\n@bruin"""\n')
    git_add(project, ".bruin.yml")
    result = project.bruin("validate", "p")
    assert result.returncode == 0, result.output
    assert result.stdout == tracked_warning(config) + warned(1)


def test_warnings_do_not_hide_errors(pipeline):
    git_add(pipeline, ".bruin.yml")
    pipeline.write("p/assets/b.py", '"""@bruin\nname: b\ndepends: [missing]\n@bruin"""\n')
    result = pipeline.bruin("validate", "p")
    assert result.returncode == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == tracked_warning(pipeline.root / ".bruin.yml").rstrip("\n")
    assert "  b (assets/b.py)\n    └── Dependency 'missing' does not exist (dependency-exists)\n" in result.stdout
    assert lines[-2:] == [
        "✘ Checked 1 pipeline and found 1 issue and 5 warnings, please check above.",
        "An error occurred: validation failed",
    ]
    assert CANARY not in result.output


def test_the_config_file_option_is_the_file_checked(pipeline):
    other = pipeline.write("conf/team.yml", CONFIG)
    git_add(pipeline, "conf/team.yml")
    result = pipeline.bruin("validate", "p", "--config-file", "conf/team.yml")
    assert result.returncode == 0, result.output
    assert result.stdout.startswith(tracked_warning(other) + literal_warning(other, "API_KEY", "value"))
    assert CANARY not in result.output


def test_no_file_checks_when_the_config_comes_from_a_variable(pipeline):
    git_add(pipeline, ".bruin.yml")
    result = pipeline.bruin("validate", "p", env={"BRUIN_CONFIG_FILE_CONTENT": CONFIG})
    assert result.returncode == 0, result.output
    assert result.stdout == OK


def test_with_a_secrets_backend_names_are_checked_in_that_store(project, vault_server):
    path = "validate-" + uuid.uuid4().hex[:8]
    vault_server.put(f"{path}/KEY1", {"type": "generic", "details": {"value": "from-vault-123"}})
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", '"""@bruin\nname: a\nsecrets: [{key: KEY1}, {key: ONLY_LOCAL}]\n@bruin"""\n')
    env = vault_server.bruin_env(path)
    result = project.bruin("validate", "--secrets-backend", "vault", "p", env=env)
    assert result.returncode == 1, result.output
    assert "└── secret 'ONLY_LOCAL' is not defined in secrets backend 'vault' (secret-exists)" in result.stdout
    assert "KEY1" not in result.stdout

    project.write("p/assets/a.py", '"""@bruin\nname: a\nsecrets: [{key: KEY1}]\n@bruin"""\n')
    assert project.bruin("validate", "--secrets-backend", "vault", "p", env=env).returncode == 0
    assert project.bruin("validate", "p", env=env).returncode == 1, "without the backend, .bruin.yml is checked"
