"""`bruin run --secrets-backend <b>` end to end, for every backend.

The CLI runs as a subprocess against a real OpenBao and a real moto_server (each behind a
counting loopback proxy) and against the Doppler and Azure Key Vault stand-ins. The sample
pipeline's Python and R assets check what they received by digest, so no secret value is ever
written into the project, and the same pipeline run from `.bruin.yml` must hand them
byte-identical values.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from secrets import token_hex
from typing import TYPE_CHECKING

import pytest

from fixtures.doppler_standin import DopplerStandin
from fixtures.vault_server import FaultProxy

if TYPE_CHECKING:
    from conftest import BruinProject, Result

BROKEN = "broken"
"""The connection each backend is set up to fail on (denied, or stored in a shape it rejects)."""

TYPES = '{"API_TOKEN":"generic","PG":"postgres"}'
EMPTY_BRUIN_YML = "environments:\n  default:\n    connections: {}\n"

LEAK_CHECK = '''
import hashlib, os
BACKEND_PREFIXES = ("BRUIN_VAULT_", "BRUIN_DOPPLER_", "BRUIN_AWS_", "BRUIN_AZURE_")
leaked = [k for k in os.environ if k.startswith(BACKEND_PREFIXES) or k == "BRUIN_SECRETS_BACKEND"]
assert not leaked, f"backend variables reached the asset: {leaked}"
forbidden = set(os.environ.get("EXPECT_ABSENT_SHA256", "").split(","))
carriers = [k for k, v in os.environ.items() if hashlib.sha256(v.encode()).hexdigest() in forbidden]
assert not carriers, f"a backend credential reached the asset as {carriers}"
'''

PYTHON_CHECK = (
    '''"""@bruin
name: check_py
secrets:
  - key: api
    inject_as: API_TOKEN
  - key: pg
    inject_as: PG
@bruin"""
'''
    + LEAK_CHECK
    + '''
import json, pathlib
env = os.environ
def digest(value):
    return hashlib.sha256(value.encode()).hexdigest()
assert digest(env["API_TOKEN"]) == env["EXPECT_API_SHA256"], "API_TOKEN is wrong"
assert digest(env["PG"]) == env["EXPECT_PG_SHA256"], "PG is wrong"
assert env["BRUIN_CONNECTION_TYPES"] == env["EXPECT_TYPES"], env["BRUIN_CONNECTION_TYPES"]
print("token", env["API_TOKEN"])
print("pg", env["PG"])
pathlib.Path("out").mkdir(exist_ok=True)
digests = [f"{name}={digest(env[name])}" for name in ("API_TOKEN", "PG", "BRUIN_CONNECTION_TYPES")]
pathlib.Path("out/check_py.txt").write_text("\\n".join(digests) + "\\n")
'''
)

R_CHECK = r'''"@bruin
name: check_r
secrets:
  - key: api
    inject_as: API_TOKEN
  - key: pg
    inject_as: PG
@bruin"

leaked <- grep("^BRUIN_(VAULT|DOPPLER|AWS|AZURE)_|^BRUIN_SECRETS_BACKEND$", names(Sys.getenv()), value = TRUE)
if (length(leaked) > 0) stop(paste("backend variables reached the asset:", paste(leaked, collapse = " ")))
md5 <- function(value) {
  path <- tempfile()
  on.exit(unlink(path))
  writeBin(charToRaw(value), path)
  unname(tools::md5sum(path))
}
if (md5(Sys.getenv("API_TOKEN")) != Sys.getenv("EXPECT_API_MD5")) stop("API_TOKEN is wrong")
if (md5(Sys.getenv("PG")) != Sys.getenv("EXPECT_PG_MD5")) stop("PG is wrong")
if (Sys.getenv("BRUIN_CONNECTION_TYPES") != Sys.getenv("EXPECT_TYPES")) stop("BRUIN_CONNECTION_TYPES is wrong")
cat("r token", Sys.getenv("API_TOKEN"), "\n")
dir.create("out", showWarnings = FALSE)
names <- c("API_TOKEN", "PG", "BRUIN_CONNECTION_TYPES")
writeLines(paste0(names, "=", vapply(Sys.getenv(names), md5, "")), "out/check_r.txt")
'''


@dataclass
class Store:
    """One secrets backend as the CLI reaches it, plus how the test seeds and observes it."""

    name: str
    env: dict[str, str]
    put: Callable[[str, dict[str, object]], None]
    break_secret: Callable[[str, str], None]
    """Store connection `name` so that reading it fails; the stored data contains the given canary."""
    broken_error: str
    reads: Callable[[], int]
    """Requests that read secrets, as counted by the server or a proxy in front of it."""
    never_shown: list[str] = field(default_factory=list)
    """Credentials and server texts that must reach neither assets nor output."""


def _vault_store(request: pytest.FixtureRequest, fault_proxy: Callable[..., FaultProxy]) -> Store:
    server = request.getfixturevalue("vault_server")
    path = f"e2e-{token_hex(4)}"
    token = server.scoped_token(path, denied=BROKEN)
    proxy = fault_proxy(server.address)

    def put(name: str, document: dict[str, object]) -> None:
        server.put(f"{path}/{name}", document)

    return Store(
        name="vault",
        env=server.bruin_env(path, BRUIN_VAULT_HOST=proxy.url, BRUIN_VAULT_TOKEN=token),
        put=put,
        break_secret=lambda name, canary: put(name, generic(canary)),
        broken_error=f"failed to read secret '{BROKEN}' from Vault: Vault returned HTTP status 403 (Forbidden)",
        reads=lambda: proxy.count("/v1/secret/data/"),
        never_shown=[token],
    )


def _doppler_store(request: pytest.FixtureRequest, fault_proxy: Callable[..., FaultProxy]) -> Store:
    doppler = request.getfixturevalue("doppler")
    config: dict[str, object] = {}
    doppler.configs[("bruin-e2e", "dev")] = config

    def put(name: str, document: dict[str, object]) -> None:
        config[name] = json.dumps(document)

    def break_secret(name: str, canary: str) -> None:
        config[name] = f"not json: {canary}"

    return Store(
        name="doppler",
        env=doppler.bruin_env("bruin-e2e", "dev"),
        put=put,
        break_secret=break_secret,
        broken_error=(
            f"failed to read secret '{BROKEN}' from Doppler: "
            "failed to parse secret as JSON: Expecting value at line 1 column 1"
        ),
        reads=lambda: doppler.downloads,
        never_shown=[doppler.token],
    )


def _aws_store(request: pytest.FixtureRequest, fault_proxy: Callable[..., FaultProxy]) -> Store:
    moto = request.getfixturevalue("moto")
    proxy = fault_proxy(moto.url)
    client = moto.client("eu-west-2")
    env = moto.bruin_env("eu-west-2", AWS_ENDPOINT_URL_SECRETS_MANAGER=proxy.url)

    def put(name: str, document: dict[str, object]) -> None:
        client.create_secret(Name=name, SecretString=json.dumps(document))

    return Store(
        name="aws",
        env=env,
        put=put,
        break_secret=lambda name, canary: client.create_secret(Name=name, SecretBinary=canary.encode()),
        broken_error=f"secret '{BROKEN}' has no string value",
        reads=lambda: proxy.count(),
        never_shown=[env["BRUIN_AWS_SECRET_ACCESS_KEY"]],
    )


def _azure_store(request: pytest.FixtureRequest, fault_proxy: Callable[..., FaultProxy]) -> Store:
    keyvault = request.getfixturevalue("keyvault")

    def break_secret(name: str, canary: str) -> None:
        keyvault.put_json(name, generic(canary))
        keyvault.forbidden.add(name)

    return Store(
        name="azure",
        env=keyvault.bruin_env(),
        put=keyvault.put_json,
        break_secret=break_secret,
        broken_error=(
            f"failed to read secret '{BROKEN}' from Azure Key Vault: Key Vault returned HTTP status 403 (Forbidden)"
        ),
        reads=lambda: sum(keyvault.reads.values()),
        never_shown=[keyvault.client_secret, keyvault.body_canary],
    )


STORES = {"vault": _vault_store, "doppler": _doppler_store, "aws": _aws_store, "azure": _azure_store}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, fault_proxy: Callable[..., FaultProxy]) -> Store:
    return STORES[request.param](request, fault_proxy)


def generic(value: str) -> dict[str, object]:
    return {"type": "generic", "details": {"value": value}}


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def md5(value: str) -> str:
    return hashlib.md5(value.encode()).hexdigest()


def expectations(api: str, pg: str, absent: list[str]) -> dict[str, str]:
    """What the sample assets compare against: digests only, so the values stay out of the project."""
    return {
        "EXPECT_API_SHA256": sha256(api),
        "EXPECT_PG_SHA256": sha256(pg),
        "EXPECT_API_MD5": md5(api),
        "EXPECT_PG_MD5": md5(pg),
        "EXPECT_TYPES": TYPES,
        "EXPECT_ABSENT_SHA256": ",".join(sha256(value) for value in absent),
    }


def python_asset(name: str, keys: list[str], depends: list[str] | None = None) -> str:
    """A Python asset that needs `keys`, checks no backend credential reached it, and prints each value."""
    header = f'"""@bruin\nname: {name}\ndepends: {json.dumps(depends or [])}\n'
    header += f"secrets: {json.dumps([{'key': key} for key in keys])}\n@bruin\"\"\"\n"
    prints = "".join(f'print("{key}", os.environ["{key}"])\n' for key in keys)
    return header + LEAK_CHECK + prints


def assert_nothing_leaked(project: BruinProject, result: Result, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in result.output
        assert project.files_containing(secret) == []


def test_injection_is_byte_identical_to_a_bruin_yml_connection(
    store: Store, make_project: Callable[[str], BruinProject]
) -> None:
    assert shutil.which("Rscript"), "Rscript is required (installed by .ci/run)"
    api, password = f"canary-api-{token_hex(8)}", f"canary-pw-{token_hex(8)}"
    expected_pg = f'{{"name":"pg","username":"u","password":"{password}","host":"h","port":5432,"database":"d"}}'
    checks = expectations(api, expected_pg, store.never_shown)
    store.put("api", generic(api))
    details = {"username": "u", "password": password, "host": "${E2E_PG_HOST}", "port": 5432, "database": "d",
               "schema": "${E2E_UNSET_VARIABLE}"}
    store.put("pg", {"type": "postgres", "details": details})

    remote = make_project("remote")
    remote.write(".bruin.yml", EMPTY_BRUIN_YML)
    remote.write("p/pipeline.yml", "name: backends\n")
    remote.write("p/assets/check.py", PYTHON_CHECK)
    remote.write("p/assets/check.r", R_CHECK)
    result = remote.bruin("run", "--secrets-backend", store.name, "p",
                          env={**store.env, **checks, "E2E_PG_HOST": "h"})
    assert result.returncode == 0, result.output
    assert "Finished: check_py" in result.stdout and "Finished: check_r" in result.stdout
    assert "[check_py] >> token ****" in result.stdout
    assert '"password":"****"' in result.stdout
    assert "[check_r] >> r token ****" in result.stdout
    assert_nothing_leaked(remote, result, [api, password, *store.never_shown])

    local = make_project("local")
    local.write(
        ".bruin.yml",
        """
        environments:
          default:
            connections:
              generic:
                - {name: api, value: "${E2E_API}"}
              postgres:
                - name: pg
                  username: u
                  password: "${E2E_PG_PASSWORD}"
                  host: "${E2E_PG_HOST}"
                  port: 5432
                  database: d
                  schema: "${E2E_UNSET_VARIABLE}"
        """,
    )
    local.write("p/pipeline.yml", "name: backends\n")
    local.write("p/assets/check.py", PYTHON_CHECK)
    local.write("p/assets/check.r", R_CHECK)
    reference = local.bruin("run", "p", env={**checks, "E2E_API": api, "E2E_PG_PASSWORD": password, "E2E_PG_HOST": "h"})
    assert reference.returncode == 0, reference.output
    for written in ("out/check_py.txt", "out/check_r.txt"):
        assert (remote.root / written).read_bytes() == (local.root / written).read_bytes()


@pytest.mark.parametrize(
    ("args", "variable"),
    [
        (["--secrets-backend", "doppler", "run", "p"], None),
        (["run", "p", "--secrets-backend", "doppler"], None),
        (["run", "p"], "doppler"),
        (["run", "--secrets-backend", "doppler", "p"], "vault"),
    ],
    ids=["flag-before-run", "flag-after-path", "environment-variable", "flag-beats-environment-variable"],
)
def test_backend_selection(
    args: list[str], variable: str | None, doppler: DopplerStandin, project: BruinProject
) -> None:
    api = f"canary-api-{token_hex(8)}"
    doppler.configs[("bruin-e2e", "dev")] = {"api": json.dumps(generic(api))}
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n"
                  "      generic:\n        - {name: api, value: from-bruin-yml-not-the-backend}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", python_asset("a", ["api"]) + "assert hashlib.sha256(os.environ['api'].encode())"
                  f".hexdigest() == {sha256(api)!r}, 'not the backend value'\n")
    env = doppler.bruin_env("bruin-e2e", "dev")
    if variable:
        env["BRUIN_SECRETS_BACKEND"] = variable
    result = project.bruin(*args, env=env)
    assert result.returncode == 0, result.output
    assert doppler.downloads == 1
    assert_nothing_leaked(project, result, [api, doppler.token])


def test_missing_and_unreadable_secrets_fail_only_their_assets(store: Store, project: BruinProject) -> None:
    api, broken = f"canary-api-{token_hex(8)}", f"canary-broken-{token_hex(8)}"
    store.put("api", generic(api))
    store.break_secret(BROKEN, broken)
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/uses_missing.py", python_asset("uses_missing", ["missing"]))
    project.write("p/assets/uses_broken.py", python_asset("uses_broken", [BROKEN]))
    project.write("p/assets/after_broken.py", python_asset("after_broken", [], depends=["uses_broken"]))
    project.write("p/assets/uses_api.py", python_asset("uses_api", ["api"]))
    project.write("p/assets/plain.py", python_asset("plain", []))
    env = {**store.env, "EXPECT_ABSENT_SHA256": ",".join(sha256(v) for v in store.never_shown)}
    result = project.bruin("run", "-o", "json", "--secrets-backend", store.name, "p", env=env)
    assert result.returncode == 1, result.output
    assets = {a["name"]: (a["status"], a["error"]) for a in json.loads(result.stdout)["assets"]}
    assert assets == {
        "after_broken": ("upstream_failed", None),
        "plain": ("succeeded", None),
        "uses_api": ("succeeded", None),
        "uses_broken": ("failed", store.broken_error),
        "uses_missing": ("failed", "there's no secret with the name 'missing'."),
    }
    assert "[uses_api] >> api ****" in result.stderr
    assert_nothing_leaked(project, result, [api, broken, *store.never_shown])


def test_each_connection_is_read_once_per_run(store: Store, project: BruinProject) -> None:
    names = ["one", "two", "three"]
    for name in names:
        store.put(name, generic(f"canary-{name}-{token_hex(8)}"))
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    for index in range(6):
        keys = [names[index % 3], names[(index + 1) % 3]]
        depends = [f"a{index - 3}"] if index >= 3 else []
        project.write(f"p/assets/a{index}.py", python_asset(f"a{index}", keys, depends))
    result = project.bruin("run", "--workers", "3", "--secrets-backend", store.name, "p", env=store.env)
    assert result.returncode == 0, result.output
    # Doppler only hands out whole configs: one download serves every name.
    assert store.reads() == (1 if store.name == "doppler" else len(names))


NOT_FOUND = {
    "vault": "secret 'missing' not found in Vault",
    "doppler": "failed to read secret 'missing' from Doppler: secret 'missing' not found in Doppler",
    "aws": "failed to read secret 'missing' from AWS Secrets Manager: ResourceNotFoundException",
    "azure": "failed to read secret 'missing' from Azure Key Vault: Key Vault returned HTTP status 404 (Not Found)",
}


def test_the_run_shows_the_store_message_and_upstreams(store: Store, project: BruinProject) -> None:
    """A typo and a missing permission read differently: the store's own text and upstream's, both shown."""
    store.break_secret(BROKEN, f"canary-broken-{token_hex(8)}")
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/uses_missing.py", python_asset("uses_missing", ["missing"]))
    project.write("p/assets/uses_broken.py", python_asset("uses_broken", [BROKEN]))
    result = project.bruin("run", "--secrets-backend", store.name, "p", env=store.env)
    assert result.returncode == 1, result.output
    assert f"[uses_missing] {NOT_FOUND[store.name]}\n" in result.stdout
    assert "Failed: uses_missing" in result.stdout and "there's no secret with the name 'missing'." in result.stdout
    assert f"[uses_broken] there's no secret with the name '{BROKEN}'.\n" in result.stdout
    assert store.broken_error in result.stdout
