"""`bruin run --secrets-backend vault,aws` (and `local,vault`) end to end, against a real OpenBao and moto.

Each name is looked up in chain order; the run manifest records, per secret, the backend that
answered. Assets check what they received by digest, so no value is written into the project.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from secrets import token_hex
from typing import TYPE_CHECKING

import pytest

from fixtures.moto_server import MotoServer
from fixtures.vault_server import VaultServer
from servers import free_port

if TYPE_CHECKING:
    from conftest import BruinProject, Result

DENIED = "denied"
"""The one name in the test's Vault path that its token may not read."""


def generic(value: str) -> dict[str, object]:
    return {"type": "generic", "details": {"value": value}}


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Stores:
    """A fresh Vault path and a fresh moto, and the variables that point the CLI at both."""

    env: dict[str, str]
    vault: Callable[[str, dict[str, object]], None]
    aws: Callable[[str, dict[str, object]], None]

    def vault_unreachable(self) -> None:
        """Point Vault at a closed loopback port, failing at once instead of retrying."""
        self.env["BRUIN_VAULT_HOST"] = f"http://127.0.0.1:{free_port()}"
        self.env["BRUIN_VAULT_MAX_RETRIES"] = "0"


@pytest.fixture
def stores(vault_server: VaultServer, moto: MotoServer, tmp_path: Path) -> Stores:
    path = f"chain-{token_hex(4)}"
    token = vault_server.scoped_token(path, denied=DENIED)
    aws = moto.client("eu-west-2")
    env = {
        **vault_server.bruin_env(path, BRUIN_VAULT_TOKEN=token),
        **moto.bruin_env("eu-west-2", isolated_in=tmp_path),
    }
    return Stores(
        env=env,
        vault=lambda name, document: vault_server.put(f"{path}/{name}", document),
        aws=lambda name, document: aws.create_secret(Name=name, SecretString=json.dumps(document)),
    )


def python_asset(name: str, keys: list[str]) -> str:
    """An asset that receives each key under its own name, checks its digest against EXPECT_<key>, and prints it."""
    secrets = "".join(f"  - key: {key}\n" for key in keys)
    return (
        f'"""@bruin\nname: {name}\nsecrets:\n{secrets}@bruin"""\n'
        "import hashlib, os, pathlib\n"
        f"for key in {keys!r}:\n"
        "    value = os.environ[key]\n"
        "    assert hashlib.sha256(value.encode()).hexdigest() == os.environ['EXPECT_' + key], key + ' is wrong'\n"
        "    print(key, value)\n"
        f"pathlib.Path('{name}-ran').touch()\n"
    )


def sources(manifest: dict, asset: str) -> dict[str, str]:
    entry = next(a for a in manifest["assets"] if a["name"] == asset)
    return {secret["key"]: secret["source"] for secret in entry["secrets"]}


def manifest_of(project: BruinProject, result: Result) -> dict:
    """The manifest `-o json` printed, checked against the copy under logs/runs/."""
    assert result.returncode in (0, 1), result.output
    manifest = json.loads(result.stdout)
    written = project.root / "logs" / "runs" / f"{manifest['run_id']}.json"
    assert json.loads(written.read_text()) == manifest
    return manifest


def assert_never_shown(project: BruinProject, result: Result, canary: str, *, allowed: list[Path]) -> None:
    assert canary not in result.stdout and canary not in result.stderr
    assert project.files_containing(canary) == allowed


EMPTY_BRUIN_YML = "environments:\n  default:\n    connections: {}\n"


def test_vault_then_aws_records_the_backend_of_each_secret(project: BruinProject, stores: Stores, tmp_path: Path):
    canary = f"canary-{token_hex(6)}"
    values = {
        "BOTH": f"{canary}-vault-both",
        "ONLY_VAULT": f"{canary}-vault-only",
        "ONLY_AWS": f"{canary}-aws-only",
    }
    stores.vault("BOTH", generic(values["BOTH"]))
    stores.vault("ONLY_VAULT", generic(values["ONLY_VAULT"]))
    stores.aws("BOTH", generic(f"{canary}-aws-both-shadowed"))
    stores.aws("ONLY_AWS", generic(values["ONLY_AWS"]))
    stores.aws("duck", {"type": "duckdb", "details": {"path": str(tmp_path / "chain.duckdb")}})
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/ingest.py", python_asset("ingest", ["BOTH", "ONLY_AWS", "ONLY_VAULT"]))
    project.write("p/assets/report.sql", "/* @bruin\nname: report\ntype: duckdb.sql\nconnection: duck\n@bruin */\n"
                  "select 1\n")
    expect = {f"EXPECT_{key}": digest(value) for key, value in values.items()}

    result = project.bruin("run", "-o", "json", "--secrets-backend", "vault,aws", "p", env={**stores.env, **expect})

    assert result.returncode == 0, result.output
    manifest = manifest_of(project, result)
    assert sources(manifest, "ingest") == {"BOTH": "vault", "ONLY_AWS": "aws", "ONLY_VAULT": "vault"}
    assert sources(manifest, "report") == {"duck": "aws"}
    assert (project.root / "ingest-ran").exists()
    assert "[ingest] >> BOTH ****" in result.stderr, "printed values are masked"
    assert_never_shown(project, result, canary, allowed=[])


def test_local_then_vault(project: BruinProject, stores: Stores):
    local, remote = f"canary-local-{token_hex(6)}", f"canary-vault-{token_hex(6)}"
    project.write(
        ".bruin.yml",
        f"""
        environments:
          default:
            connections:
              generic:
                - name: BOTH
                  value: {local}-both
                - name: ONLY_LOCAL
                  value: {local}-only
        """,
    )
    stores.vault("BOTH", generic(f"{remote}-both-shadowed"))
    stores.vault("ONLY_VAULT", generic(f"{remote}-only"))
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/ingest.py", python_asset("ingest", ["BOTH", "ONLY_LOCAL", "ONLY_VAULT"]))
    expect = {
        "EXPECT_BOTH": digest(f"{local}-both"),
        "EXPECT_ONLY_LOCAL": digest(f"{local}-only"),
        "EXPECT_ONLY_VAULT": digest(f"{remote}-only"),
    }

    result = project.bruin("run", "-o", "json", "--secrets-backend", "local,vault", "p", env={**stores.env, **expect})

    assert result.returncode == 0, result.output
    manifest = manifest_of(project, result)
    assert sources(manifest, "ingest") == {"BOTH": ".bruin.yml", "ONLY_LOCAL": ".bruin.yml", "ONLY_VAULT": "vault"}
    assert_never_shown(project, result, remote, allowed=[])
    assert_never_shown(project, result, local, allowed=[project.root / ".bruin.yml"])


@pytest.fixture
def unreachable_first(project: BruinProject, stores: Stores) -> tuple[str, dict[str, str]]:
    """Vault at a closed port in front of AWS, which holds the asset's one secret."""
    canary = f"canary-{token_hex(6)}"
    stores.vault_unreachable()
    stores.aws("KEY", generic(f"{canary}-aws"))
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/ingest.py", python_asset("ingest", ["KEY"]))
    return canary, {**stores.env, "EXPECT_KEY": digest(f"{canary}-aws")}


def test_an_unreachable_backend_fails_closed(project: BruinProject, unreachable_first):
    canary, env = unreachable_first
    result = project.bruin("run", "-o", "json", "--secrets-backend", "vault,aws", "p", env=env)

    assert result.returncode == 1
    (asset,) = manifest_of(project, result)["assets"]
    assert asset["status"] == "failed"
    assert asset["error"] == (
        "failed to read secret 'KEY' from Vault: could not connect to Vault: Connection refused "
        "(secrets backend chain 'vault,aws' stops at 'vault'; --secrets-fallback-on-error would try the next backend)"
    )
    assert asset["error"] in result.stderr
    assert not (project.root / "ingest-ran").exists(), "the asset must not start without its secret"
    assert_never_shown(project, result, canary, allowed=[])


@pytest.mark.parametrize(
    ("args", "extra_env"),
    [
        (["run", "--secrets-fallback-on-error", "-o", "json", "--secrets-backend", "vault,aws", "p"], {}),
        (["--secrets-fallback-on-error", "run", "-o", "json", "p"], {"BRUIN_SECRETS_BACKEND": "vault,aws"}),
        (["run", "-o", "json", "--secrets-backend", "vault,aws", "p"], {"BRUIN_SECRETS_FALLBACK_ON_ERROR": "true"}),
    ],
    ids=["flag", "flag-before-subcommand", "env"],
)
def test_fallback_on_error_falls_through(project: BruinProject, unreachable_first, args, extra_env):
    canary, env = unreachable_first
    result = project.bruin(*args, env={**env, **extra_env})

    assert result.returncode == 0, result.output
    assert sources(manifest_of(project, result), "ingest") == {"KEY": "aws"}
    assert (project.root / "ingest-ran").exists()
    assert_never_shown(project, result, canary, allowed=[])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", 'unsupported secrets backend "nope"; possible values: vault, doppler, aws, azure, gcp, keyring'),
        (
            "vault,nope",
            'unsupported secrets backend "nope" in chain "vault,nope"; '
            "possible values: local, vault, doppler, aws, azure, gcp, keyring",
        ),
    ],
)
def test_unknown_backend_names_the_bad_element(project: BruinProject, spec: str, message: str):
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/ingest.py", python_asset("ingest", ["KEY"]))
    result = project.bruin("run", "--secrets-backend", spec, "p")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == message
    assert not (project.root / "ingest-ran").exists()
