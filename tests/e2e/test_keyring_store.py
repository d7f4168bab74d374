"""`--secrets-backend keyring` and `bruin secrets set/delete` against a real Secret Service (gnome-keyring on a
private D-Bus session, see fixtures/secret_service.py), through the `keyring` package."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from conftest import DIGEST_READER
from fixtures.secret_service import running_secret_service

EMPTY_BRUIN_YML = "environments:\n  default:\n    connections: {}\n"

READER = DIGEST_READER + '''
assert pg["host"] == "db.internal" and pg["port"] == 5432, pg
assert "DBUS_SESSION_BUS_ADDRESS" in os.environ  # the keyring guards secrets at rest, not from the session
'''


def secret() -> str:
    return f"kr-{uuid.uuid4().hex}"


@pytest.fixture
def keyring_project(project, secret_service):
    """A project using the test keyring, under a service name of its own."""
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/reader.py", READER)
    env = secret_service.env(BRUIN_KEYRING_SERVICE=f"bruin-test-{uuid.uuid4().hex[:8]}")
    return project, env


def stored(env: dict[str, str], name: str) -> str | None:
    import keyring

    return keyring.get_password(env["BRUIN_KEYRING_SERVICE"], name)


def set_secret(project, env, name: str, value: str, *args: str):
    return project.bruin("secrets", "set", name, *args, env=env, stdin=value)


def test_set_stores_and_a_run_reads_from_the_keyring(keyring_project, keyring_env):
    project, env = keyring_project
    value, password = secret(), secret()
    fields = json.dumps({"host": "db.internal", "port": 5432, "username": "u", "password": password})

    generic = set_secret(project, env, "API_KEY", value + "\n")
    typed = set_secret(project, env, "pg", fields, "--type", "postgres")
    run = project.bruin("--secrets-backend", "keyring", "run", "p", env=env)

    service = env["BRUIN_KEYRING_SERVICE"]
    assert generic.returncode == 0, generic.output
    assert generic.stdout == f"Stored secret 'API_KEY' (generic) in the OS keyring under service '{service}'\n"
    assert typed.returncode == 0, typed.output
    assert json.loads(stored(env, "API_KEY") or "") == {"type": "generic", "details": {"value": value}}
    assert run.returncode == 0, run.output
    digest = (project.root / "out" / "digest").read_text()
    assert digest == hashlib.sha256((value + password).encode()).hexdigest()
    assert "api key: ****" in run.stdout
    manifest = json.loads(next((project.root / "logs" / "runs").glob("*.json")).read_text())
    assert {s["key"]: s["source"] for s in manifest["assets"][0]["secrets"]} == {"API_KEY": "keyring", "pg": "keyring"}
    for text in (value, password):
        assert text not in generic.output + typed.output + run.output
        assert project.files_containing(text) == []


def test_the_default_service_is_the_projects_folder(project, secret_service, keyring_env):
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    value = secret()

    result = project.bruin("secrets", "set", "TOKEN", env=secret_service.env(), stdin=value)

    service = f"bruin:{project.root}"
    assert result.stdout == f"Stored secret 'TOKEN' (generic) in the OS keyring under service '{service}'\n"
    assert json.loads(stored({"BRUIN_KEYRING_SERVICE": service}, "TOKEN") or "")["details"] == {"value": value}


def test_the_value_can_never_be_given_on_the_command_line(keyring_project):
    project, env = keyring_project

    result = project.bruin("secrets", "set", "API_KEY", "inline-value", env=env)

    assert result.returncode == 1  # a usage error, which exits 1 as upstream's do
    assert "the value is never taken from the command line: type it at the prompt or pipe it on stdin" in result.stderr
    assert "inline-value" not in result.stderr


def test_invalid_fields_are_named_and_nothing_is_stored(keyring_project, keyring_env):
    project, env = keyring_project
    password = secret()

    fields = json.dumps({"port": "not-a-port", "password": password})
    bad_port = set_secret(project, env, "pg", fields, "--type", "postgres")
    not_json = set_secret(project, env, "pg", f"password={password}", "--type", "postgres")
    empty = set_secret(project, env, "API_KEY", "")

    assert bad_port.returncode == 1 and "field 'port'" in bad_port.stderr
    assert not_json.stderr == (
        "the value of a postgres secret is its fields as a JSON object (invalid JSON at line 1, column 1)\n"
    )
    assert empty.stderr == "no value given for 'API_KEY': type it at the prompt or pipe it on stdin\n"
    assert password not in bad_port.output + not_json.output
    assert stored(env, "pg") is None and stored(env, "API_KEY") is None


def test_delete_removes_and_a_second_delete_fails(keyring_project, keyring_env):
    project, env = keyring_project
    set_secret(project, env, "API_KEY", secret())

    first = project.bruin("secrets", "delete", "API_KEY", env=env)
    second = project.bruin("secrets", "delete", "API_KEY", env=env)

    service = env["BRUIN_KEYRING_SERVICE"]
    assert first.stdout == f"Deleted secret 'API_KEY' from the OS keyring under service '{service}'\n"
    assert stored(env, "API_KEY") is None
    assert second.returncode == 1
    assert second.stderr == f"secret 'API_KEY' not found in the OS keyring under service '{service}'\n"


def test_set_refuses_another_selected_backend(keyring_project):
    project, env = keyring_project

    result = project.bruin("--secrets-backend", "vault", "secrets", "set", "K", env=env, stdin="x-1234567")

    assert result.returncode == 1
    assert result.stderr == (
        "bruin secrets set and delete write to the 'keyring' secrets backend only; --secrets-backend is 'vault'\n"
    )


def test_the_keyring_in_a_chain_and_in_secrets_check_and_list(keyring_project):
    project, env = keyring_project
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n"
        "      generic:\n        - {name: API_KEY, value: local-api-123}\n"
        "      postgres:\n        - {name: pg, host: db.internal, port: 5432, password: local-pg-123}\n",
    )
    set_secret(project, env, "API_KEY", secret())

    check = project.bruin("--secrets-backend", "keyring,local", "secrets", "check", "-o", "json", "p", env=env)
    listing = project.bruin("--secrets-backend", "keyring,local", "secrets", "list", "-o", "json", "p", env=env)
    alone = project.bruin("--secrets-backend", "keyring", "secrets", "check", "-o", "json", "p", env=env)

    assert check.returncode == 0, check.output
    assert {row["key"]: (row["source"], row["status"]) for row in json.loads(check.stdout)} == {
        "API_KEY": ("keyring", "ok"),
        "pg": (".bruin.yml", "ok"),
    }
    shadows = {row["key"]: row["shadowed"] for row in json.loads(listing.stdout)}
    assert shadows == {"API_KEY": [".bruin.yml"], "pg": []}
    assert alone.returncode == 1
    assert {row["key"]: row["status"] for row in json.loads(alone.stdout)} == {"API_KEY": "ok", "pg": "missing"}


@pytest.mark.parametrize("setup", ["no_bus", "plaintext_forced"])
def test_an_insecure_keyring_is_refused(project, tmp_path, setup):
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/reader.py", READER)
    env = {"HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(tmp_path / "run"), "DBUS_SESSION_BUS_ADDRESS": ""}
    if setup == "plaintext_forced":
        env["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"

    result = project.bruin("--secrets-backend", "keyring", "run", "p", env=env)

    assert result.returncode == 1
    assert result.stderr.startswith(
        "failed to initialize OS keyring: no secure OS keyring is available (found: keyrings.alt.file.PlaintextKeyring"
    ), result.stderr
    assert not (tmp_path / "home" / ".local" / "share" / "python_keyring").exists(), "a plaintext keyring was written"


def test_a_locked_keyring_is_one_clear_line(project, tmp_path):
    import keyring
    import secretstorage

    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/reader.py", READER)
    with running_secret_service() as service, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
        keyring.get_keyring().set_password("bruin-locked", "API_KEY", '{"type": "generic", "details": {"value": "v"}}')
        connection = secretstorage.dbus_init()
        secretstorage.get_default_collection(connection).lock()
        connection.close()

        env = service.env(BRUIN_KEYRING_SERVICE="bruin-locked")
        result = project.bruin("--secrets-backend", "keyring", "secrets", "check", "p", env=env)

    assert result.returncode == 1
    locked = "the OS keyring is locked; unlock it (log in to the desktop session) and try again"
    assert f"✘ API_KEY: {locked}" in result.stdout


def test_on_a_terminal_the_value_is_read_from_a_hidden_prompt(keyring_project, keyring_env):
    import os
    import pty
    import sys
    import time

    project, env = keyring_project
    value = secret()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")} | env
    pid, terminal = pty.fork()
    if pid == 0:  # the child: bruin on a terminal of its own
        os.chdir(project.root)
        os.execve(sys.executable, [sys.executable, "-m", "pybruin", "secrets", "set", "TYPED"], full_env)
    shown = b""
    deadline = time.monotonic() + 60
    while b"Value of TYPED: " not in shown and time.monotonic() < deadline:
        shown += os.read(terminal, 1024)
    os.write(terminal, value.encode() + b"\n")
    try:
        while chunk := os.read(terminal, 1024):
            shown += chunk
    except OSError:  # the terminal closes when bruin exits
        pass
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0, shown
    assert value.encode() not in shown, "the prompt echoed the value"
    assert b"Stored secret 'TYPED' (generic)" in shown
    assert json.loads(stored(env, "TYPED") or "")["details"] == {"value": value}
