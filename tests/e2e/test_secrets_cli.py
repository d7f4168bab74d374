"""`bruin secrets check` and `bruin secrets list` against a real OpenBao and moto, values never shown."""

from __future__ import annotations

import json
import textwrap
from secrets import token_hex
from typing import TYPE_CHECKING

import pytest
import test_backend_chain_run
from test_backend_chain_run import DENIED, EMPTY_BRUIN_YML, Stores, generic

if TYPE_CHECKING:
    from conftest import BruinProject, Result

stores = test_backend_chain_run.stores
"""The fixture: a fresh Vault path (with one denied name) and a fresh moto, and the CLI's variables for both."""

HINT = "--secrets-fallback-on-error would try the next backend"
REFUSED = "could not connect to Vault: Connection refused"


def asset(name: str, *secrets: str) -> str:
    """A Python asset declaring `KEY` or `KEY:INJECT_AS` secrets; it leaves a file behind if it ever runs."""
    lines = []
    for secret in secrets:
        key, _, inject_as = secret.partition(":")
        lines.append(f"  - key: {key}\n" + (f"    inject_as: {inject_as}\n" if inject_as else ""))
    return f'"""@bruin\nname: {name}\nsecrets:\n{"".join(lines)}@bruin"""\nopen("{name}-ran", "w").close()\n'


def sql_asset(name: str, connection: str, *secrets: str) -> str:
    """An SQL asset on `connection`, which its header also lists among `secrets` (as Bruin's merge does)."""
    listed = "".join(f"  - key: {key}\n" for key in (connection, *secrets))
    header = f"name: {name}\ntype: duckdb.sql\nconnection: {connection}\nsecrets:\n{listed}"
    return f"/* @bruin\n{header}@bruin */\nselect 1\n"


def bruin_yml(**values: str) -> str:
    entries = "".join(f"        - name: {name}\n          value: {value}\n" for name, value in values.items())
    return f"environments:\n  default:\n    connections:\n      generic:\n{entries}"


def lines(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def row(asset: str, key: str, inject_as: str | None, source: str | None, status: str, message: str | None = None):
    return {
        "pipeline": "p",
        "asset": asset,
        "key": key,
        "inject_as": inject_as,
        "source": source,
        "status": status,
        "message": message,
    }


def assert_nothing_leaked(project: BruinProject, results: list[Result], local: str, remote: str) -> None:
    for result in results:
        assert local not in result.output and remote not in result.output
    assert project.files_containing(remote) == []
    assert project.files_containing(local) == [project.root / ".bruin.yml"]
    assert not list(project.root.glob("*-ran")), "checking must not run any asset"


@pytest.fixture
def every_status(project: BruinProject, stores: Stores, tmp_path) -> tuple[str, str]:
    """A `local,vault,aws` chain in which assets need an ok, missing, denied, malformed and wrong-type secret."""
    local, remote = f"canary-local-{token_hex(6)}", f"canary-remote-{token_hex(6)}"
    project.write(".bruin.yml", bruin_yml(LOCAL_OK=f"{local}-ok"))
    stores.vault("VAULT_OK", generic(f"{remote}-vault-ok"))
    stores.vault("BOTH", generic(f"{remote}-vault-both"))
    stores.vault("MALFORMED", {"type": "generic", "value": f"{remote}-malformed"})
    stores.vault("WRONG_TYPE", {"type": "nosuchtype", "details": {"value": f"{remote}-wrong-type"}})
    stores.vault(DENIED, generic(f"{remote}-denied"))
    stores.aws("AWS_OK", generic(f"{remote}-aws-ok"))
    stores.aws("BOTH", generic(f"{remote}-aws-both"))
    stores.aws("duck", {"type": "duckdb", "details": {"path": str(tmp_path / f"{remote}.duckdb")}})
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/broken.py", asset("broken", "MALFORMED", "WRONG_TYPE:WT", DENIED, "NOWHERE"))
    project.write("p/assets/ingest.py", asset("ingest", "LOCAL_OK:LOCAL", "VAULT_OK", "AWS_OK", "BOTH"))
    project.write("p/assets/report.sql", sql_asset("report", "duck", "AWS_OK"))
    return local, remote


MALFORMED = "secret 'MALFORMED' must contain both 'type' (non-empty string) and 'details' (object)"
WRONG_TYPE = "secret 'WRONG_TYPE' has unknown connection type 'nosuchtype'"
DENIED_MESSAGE = (
    "failed to read secret 'denied' from Vault: Vault returned HTTP status 403 (Forbidden) "
    f"(secrets backend chain 'local,vault,aws' stops at 'vault'; {HINT})"
)
NOWHERE = "connection 'NOWHERE' not found in secrets backend 'local,vault,aws'"


def test_check_reports_every_status(project: BruinProject, stores: Stores, every_status):
    plain = project.bruin("secrets", "check", "--secrets-backend", "local,vault,aws", env=stores.env)
    chain_from_env = {**stores.env, "BRUIN_SECRETS_BACKEND": "local,vault,aws"}
    as_json = project.bruin("secrets", "check", "p", "-o", "json", env=chain_from_env)

    assert plain.returncode == 1, plain.output
    assert plain.stderr == ""
    assert plain.stdout == lines(
        f"""
        ASSET   KEY         INJECT AS  SOURCE      STATUS
        broken  MALFORMED   MALFORMED  vault       malformed
        broken  WRONG_TYPE  WT         vault       wrong type
        broken  denied      denied     vault       denied
        broken  NOWHERE     NOWHERE    -           missing
        ingest  LOCAL_OK    LOCAL      .bruin.yml  ok
        ingest  VAULT_OK    VAULT_OK   vault       ok
        ingest  AWS_OK      AWS_OK     aws         ok
        ingest  BOTH        BOTH       vault       ok
        report  duck        -          aws         ok
        report  AWS_OK      AWS_OK     aws         ok

        ✘ MALFORMED: {MALFORMED}
        ✘ WRONG_TYPE: {WRONG_TYPE}
        ✘ denied: {DENIED_MESSAGE}
        ✘ NOWHERE: {NOWHERE}
        ✘ 4 of 10 secrets do not resolve.
        """
    )
    assert as_json.returncode == 1, as_json.output
    assert json.loads(as_json.stdout) == [
        row("broken", "MALFORMED", "MALFORMED", "vault", "malformed", MALFORMED),
        row("broken", "WRONG_TYPE", "WT", "vault", "wrong type", WRONG_TYPE),
        row("broken", "denied", "denied", "vault", "denied", DENIED_MESSAGE),
        row("broken", "NOWHERE", "NOWHERE", None, "missing", NOWHERE),
        row("ingest", "LOCAL_OK", "LOCAL", ".bruin.yml", "ok"),
        row("ingest", "VAULT_OK", "VAULT_OK", "vault", "ok"),
        row("ingest", "AWS_OK", "AWS_OK", "aws", "ok"),
        row("ingest", "BOTH", "BOTH", "vault", "ok"),
        row("report", "duck", None, "aws", "ok"),
        row("report", "AWS_OK", "AWS_OK", "aws", "ok"),
    ]
    assert_nothing_leaked(project, [plain, as_json], *every_status)


@pytest.fixture
def vault_down(project: BruinProject, stores: Stores) -> str:
    """A `vault,local` chain whose Vault is at a closed port; only `.bruin.yml` can answer."""
    local = f"canary-local-{token_hex(6)}"
    stores.vault_unreachable()
    project.write(".bruin.yml", bruin_yml(LOCAL_OK=f"{local}-ok"))
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/ingest.py", asset("ingest", "LOCAL_OK", "NOWHERE"))
    return local


def test_check_fails_closed_on_an_unreachable_backend(project: BruinProject, stores: Stores, vault_down: str):
    result = project.bruin("secrets", "check", "--secrets-backend", "vault,local", env=stores.env)

    assert result.returncode == 1, result.output
    stops = f"(secrets backend chain 'vault,local' stops at 'vault'; {HINT})"
    assert result.stdout == lines(
        f"""
        ASSET   KEY       INJECT AS  SOURCE  STATUS
        ingest  LOCAL_OK  LOCAL_OK   vault   unreachable
        ingest  NOWHERE   NOWHERE    vault   unreachable

        ✘ LOCAL_OK: failed to read secret 'LOCAL_OK' from Vault: {REFUSED} {stops}
        ✘ NOWHERE: failed to read secret 'NOWHERE' from Vault: {REFUSED} {stops}
        ✘ 2 of 2 secrets do not resolve.
        """
    )
    assert vault_down not in result.output


def test_check_with_fallback_on_error(project: BruinProject, stores: Stores, vault_down: str):
    plain = project.bruin("secrets", "check", "--secrets-backend", "vault,local", "--secrets-fallback-on-error",
                          env=stores.env)
    as_json = project.bruin("--secrets-fallback-on-error", "secrets", "check", "-o", "json",
                            "--secrets-backend", "vault,local", env=stores.env)

    unreachable = f"failed to read secret 'NOWHERE' from Vault: {REFUSED}"
    assert plain.returncode == 1, plain.output
    assert plain.stdout == lines(
        f"""
        ASSET   KEY       INJECT AS  SOURCE      STATUS
        ingest  LOCAL_OK  LOCAL_OK   .bruin.yml  ok
        ingest  NOWHERE   NOWHERE    vault       unreachable

        ✘ NOWHERE: {unreachable}
        ✘ 1 of 2 secrets do not resolve.
        """
    )
    assert as_json.returncode == 1, as_json.output
    assert json.loads(as_json.stdout) == [
        row("ingest", "LOCAL_OK", "LOCAL_OK", ".bruin.yml", "ok"),
        row("ingest", "NOWHERE", "NOWHERE", "vault", "unreachable", unreachable),
    ]
    assert vault_down not in plain.output + as_json.output


def test_check_passes_when_everything_resolves(project: BruinProject, stores: Stores):
    remote = f"canary-remote-{token_hex(6)}"
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    stores.vault("A", generic(f"{remote}-a"))
    stores.vault("B", generic(f"{remote}-b"))
    project.write("p/pipeline.yml", "name: p\ndefault:\n  secrets:\n    - key: B\n      inject_as: FROM_DEFAULTS\n")
    project.write("p/assets/one.py", asset("one", "A"))
    project.write("p/assets/two.py", '"""@bruin\nname: two\n@bruin"""\n')

    result = project.bruin("secrets", "check", "--secrets-backend", "vault", env=stores.env)

    assert result.returncode == 0, result.output
    assert result.stdout == lines(
        """
        ASSET  KEY  INJECT AS      SOURCE  STATUS
        one    A    A              vault   ok
        one    B    FROM_DEFAULTS  vault   ok
        two    B    FROM_DEFAULTS  vault   ok

        ✓ All 3 secrets resolve.
        """
    )
    assert remote not in result.output and project.files_containing(remote) == []


def test_check_with_nothing_to_check(project: BruinProject):
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/one.py", '"""@bruin\nname: one\n@bruin"""\n')
    plain, as_json = project.bruin("secrets", "check"), project.bruin("secrets", "check", "-o", "json")
    assert (plain.returncode, plain.stdout) == (0, "No secrets referenced.\n")
    assert (as_json.returncode, json.loads(as_json.stdout)) == (0, [])


def test_check_rejects_an_unknown_backend(project: BruinProject):
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    result = project.bruin("secrets", "check", "--secrets-backend", "local,nope")
    assert result.returncode == 1
    assert result.stderr == (
        'unsupported secrets backend "nope" in chain "local,nope"; '
        "possible values: local, vault, doppler, aws, azure, gcp, keyring\n"
    )


def test_list_shows_the_answering_backend_and_what_it_shadows(project: BruinProject, stores: Stores):
    local, remote = f"canary-local-{token_hex(6)}", f"canary-remote-{token_hex(6)}"
    project.write(".bruin.yml", bruin_yml(BOTH=f"{local}-both", LOCAL_ONLY=f"{local}-only"))
    stores.vault("BOTH", generic(f"{remote}-vault-both"))
    stores.vault(DENIED, generic(f"{remote}-denied"))
    stores.aws("BOTH", generic(f"{remote}-aws-both"))
    stores.aws("AWS_ONLY", generic(f"{remote}-aws-only"))
    stores.aws("duck", {"type": "duckdb", "details": {"path": f"/tmp/{remote}.duckdb"}})
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", asset("a", "BOTH", "AWS_ONLY", "NOWHERE"))
    project.write("p/assets/b.py", asset("b", "BOTH:X", "LOCAL_ONLY", DENIED))
    project.write("p/assets/c.sql", sql_asset("c", "duck"))
    chain = ("--secrets-backend", "vault,aws,local")

    plain = project.bruin("secrets", "list", *chain, env=stores.env)
    as_json = project.bruin("secrets", "list", "p", "-o", "json", *chain, env=stores.env)

    assert plain.returncode == 0, plain.output
    assert plain.stdout == lines(
        """
        KEY         STATUS   SOURCE      SHADOWED         USED BY
        BOTH        ok       vault       aws, .bruin.yml  a, b
        AWS_ONLY    ok       aws         -                a
        NOWHERE     missing  -           -                a
        LOCAL_ONLY  ok       .bruin.yml  -                b
        denied      denied   vault       -                b
        duck        ok       aws         -                c
        """
    )
    assert as_json.returncode == 0, as_json.output
    assert json.loads(as_json.stdout) == [
        {"key": "BOTH", "status": "ok", "source": "vault", "shadowed": ["aws", ".bruin.yml"], "assets": ["a", "b"]},
        {"key": "AWS_ONLY", "status": "ok", "source": "aws", "shadowed": [], "assets": ["a"]},
        {"key": "NOWHERE", "status": "missing", "source": None, "shadowed": [], "assets": ["a"]},
        {"key": "LOCAL_ONLY", "status": "ok", "source": ".bruin.yml", "shadowed": [], "assets": ["b"]},
        {"key": DENIED, "status": "denied", "source": "vault", "shadowed": [], "assets": ["b"]},
        {"key": "duck", "status": "ok", "source": "aws", "shadowed": [], "assets": ["c"]},
    ]
    assert_nothing_leaked(project, [plain, as_json], local, remote)


def test_list_without_a_chain_in_another_environment(project: BruinProject):
    local = f"canary-local-{token_hex(6)}"
    staging = bruin_yml(KEY=f"{local}-key").replace("default:", "staging:")
    project.write(".bruin.yml", f"default_environment: default\n{staging}\n  default:\n    connections: {{}}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", asset("a", "KEY", "GONE"))
    result = project.bruin("secrets", "list", "-e", "staging", "p/assets/a.py")
    assert result.returncode == 0, result.output
    assert result.stdout == lines(
        """
        KEY   STATUS   SOURCE      SHADOWED  USED BY
        KEY   ok       .bruin.yml  -         a
        GONE  missing  -           -         a
        """
    )
    assert local not in result.output
