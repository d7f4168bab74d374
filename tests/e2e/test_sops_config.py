"""A `.bruin.yml` encrypted with the real sops and an age key: read transparently, safe to commit.

Every test checks that the plaintext never reaches the disk and that failures say one clear line that
quotes neither the ciphertext nor the plaintext.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid

import pytest

from conftest import DIGEST_READER
from fixtures.sops_age import new_key

CLEAN = "\nValidating pipelines in 'p' for 'default' environment...\n\nPipeline: p (.)\n  No issues found\n\n"
OK = CLEAN + "✓ Successfully validated 1 assets across 1 pipeline, all good.\n"


def secret() -> str:
    return f"sops-{uuid.uuid4().hex}"


def plaintext(value: str, password: str, extra: str = "") -> str:
    return (
        "default_environment: default\n"
        "environments:\n  default:\n    connections:\n"
        f"      generic:\n        - name: API_KEY\n          value: {value}\n{extra}"
        "      postgres:\n        - name: pg\n          host: 127.0.0.1\n          port: 5432\n"
        f"          username: loader\n          password: {password}\n          database: analytics\n"
    )


ASSET = DIGEST_READER + '''
leaked = [k for k in os.environ if k.startswith("SOPS_")]
assert not leaked, leaked
'''


@pytest.fixture
def encrypted(project, age_key):
    """A project whose `.bruin.yml` is encrypted; returns (project, key, value, password)."""
    value, password = secret(), secret()
    project.write(".bruin.yml", age_key.encrypt(plaintext(value, password)))
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/reader.py", ASSET)
    return project, age_key, value, password


def assert_plaintext_nowhere(project, outputs: list[str], *values: str) -> None:
    for value in values:
        for output in outputs:
            assert value not in output
        assert project.files_containing(value) == []


def test_an_encrypted_config_is_read_in_memory(encrypted):
    project, key, value, password = encrypted

    result = project.bruin("run", "p", env=key.env())
    listing = project.bruin("connections", "list", "-o", "json", env=key.env())

    assert result.returncode == 0, result.output
    digest = (project.root / "out" / "digest").read_text()
    assert digest == hashlib.sha256((value + password).encode()).hexdigest()
    assert "api key: ****" in result.stdout
    manifest = json.loads(next((project.root / "logs" / "runs").glob("*.json")).read_text())
    sources = {s["key"]: s["source"] for s in manifest["assets"][0]["secrets"]}
    assert sources == {"API_KEY": ".bruin.yml", "pg": ".bruin.yml"}
    (pg,) = json.loads(listing.stdout)["environments"]["default"]["connections"]["postgres"]
    assert list(pg) == ["name", "username", "password", "host", "port", "database"]
    assert pg["password"] == "****"
    assert "ENC[AES256_GCM" in (project.root / ".bruin.yml").read_text()
    assert_plaintext_nowhere(project, [result.output, listing.output], value, password)


def test_the_key_can_come_from_a_file_and_never_reaches_assets(encrypted, tmp_path):
    project, key, value, password = encrypted
    key_file = tmp_path / "age.txt"
    key_file.write_text(key.identity + "\n")

    result = project.bruin("run", "p", env={"HOME": str(key.home), "SOPS_AGE_KEY_FILE": str(key_file)})

    assert result.returncode == 0, result.output
    assert_plaintext_nowhere(project, [result.output], value, password, key.identity)


def test_the_config_can_come_encrypted_in_the_environment(encrypted):
    project, key, _, _ = encrypted
    text = (project.root / ".bruin.yml").read_text()
    (project.root / ".bruin.yml").unlink()

    result = project.bruin("run", "p", env=key.env(BRUIN_CONFIG_FILE_CONTENT=text))

    assert result.returncode == 0, result.output
    assert (project.root / "out" / "digest").exists()


@pytest.mark.parametrize("key_given", ["missing", "wrong"])
def test_without_the_right_key_one_clear_line(encrypted, key_given):
    project, key, value, password = encrypted
    env = {"HOME": str(key.home)}
    if key_given == "wrong":
        env["SOPS_AGE_KEY"] = new_key(key.home / "other").identity

    result = project.bruin("run", "p", env=env)

    config = project.root / ".bruin.yml"
    assert result.returncode == 1
    assert result.stderr == (
        f"{config}: cannot decrypt the SOPS-encrypted config: none of its keys is available "
        "(set SOPS_AGE_KEY or SOPS_AGE_KEY_FILE)\n"
    )
    assert "ENC[" not in result.output and key.recipient not in result.output
    assert not (project.root / "out").exists()
    assert_plaintext_nowhere(project, [result.output], value, password)


def test_a_tampered_file_is_refused(encrypted):
    project, key, _, _ = encrypted
    config = project.root / ".bruin.yml"
    config.write_text(config.read_text().replace("username: loader", "username: intruder"))

    result = project.bruin("secrets", "check", "p", env=key.env())

    assert result.returncode == 1
    assert result.stderr == (
        f"{config}: cannot decrypt the SOPS-encrypted config: it was changed after it was encrypted (MAC mismatch)\n"
    )


def test_validate_does_not_warn_about_a_committed_encrypted_config(encrypted):
    project, key, _, _ = encrypted
    subprocess.run(["git", "add", "-f", ".bruin.yml"], cwd=project.root, check=True)

    result = project.bruin("validate", "p", env=key.env())

    assert result.returncode == 0, result.output
    assert result.stdout == OK


def test_validate_still_warns_about_a_credential_left_unencrypted(project, age_key):
    project.write(".bruin.yml", age_key.encrypt(plaintext(secret(), secret()), encrypted_regex="^value$"))
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/reader.py", ASSET)
    subprocess.run(["git", "add", "-f", ".bruin.yml"], cwd=project.root, check=True)

    result = project.bruin("validate", "p", env=age_key.env())

    config = project.root / ".bruin.yml"
    assert result.stdout == (
        f"! {config}: connection 'pg' in environment 'default' has a literal value in sensitive field 'password' "
        "of a file tracked by git; use a ${VARIABLE} reference instead\n" + CLEAN
        + "✘ Checked 1 pipeline and found 1 warning, please check above.\n"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["connections", "add", "--env", "default", "--name", "NEW", "--type", "generic", "--credentials", "{}"],
        ["connections", "delete", "--env", "default", "--name", "API_KEY"],
    ],
    ids=["add", "delete"],
)
def test_connections_add_and_delete_refuse_an_encrypted_file(encrypted, command):
    project, key, _, _ = encrypted
    config = project.root / ".bruin.yml"
    before = config.read_bytes()

    result = project.bruin(*command, env=key.env())

    assert result.returncode == 1
    assert result.stderr == (
        f"cannot edit {config}: it is encrypted with SOPS and pybruin never writes a config's plaintext; "
        "change it with 'sops edit .bruin.yml'\n"
    )
    assert config.read_bytes() == before
