"""Per-run database users: OpenBao's database engine issues them, a run holds their leases, and ends them.

Real OpenBao, real PostgreSQL (scram passwords, so a dropped user really cannot log in) and the CLI as a
subprocess. Each test checks in `pg_roles` that the user exists while the run lasts and is gone after it,
however the run ended, and in OpenBao that the lease is gone too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from fixtures.vault_database import DynamicDatabase

if TYPE_CHECKING:
    from conftest import BruinProject

EMPTY_BRUIN_YML = "environments:\n  default:\n    connections: {}\n"

CONNECT = """
import json, os, pathlib
import psycopg
c = json.loads(os.environ["warehouse"])
conn = psycopg.connect(host=c["host"], port=c["port"], user=c["username"], password=c["password"],
                       dbname=c["database"], autocommit=True)
user = conn.execute("select current_user").fetchone()[0]
exists = conn.execute("select count(*) from pg_roles where rolname = current_user").fetchone()[0]
pathlib.Path("out").mkdir(exist_ok=True)
"""

USER_ASSET = (
    '"""@bruin\nname: who_py\nsecrets:\n  - key: warehouse\n@bruin"""\n'
    + CONNECT
    + """
assert c["username"] == user and exists == 1
pathlib.Path("out/user.txt").write_text(user)
print("connected as", user, "with", c["password"])
"""
)

WHO_SQL = """/* @bruin
name: public.who
type: pg.sql
connection: warehouse
materialization:
  type: table
@bruin */
select current_user::text as who
"""


def store(project: BruinProject, database: DynamicDatabase, path: str, **details: object) -> dict[str, str]:
    """Store connection `warehouse` in the KV secret at `path`; the env that makes `bruin` read it."""
    database.vault.put(f"{path}/warehouse", {"type": "postgres", "details": {**database.details(), **details}})
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    return database.vault.bruin_env(path)


def manifest(project: BruinProject) -> dict:
    (found,) = (project.root / "logs" / "runs").glob("*.json")
    return json.loads(found.read_text())


def test_a_run_gets_its_own_user_shares_it_and_the_user_is_gone_after(project, dynamic_database):
    dynamic = dynamic_database()
    env = store(project, dynamic, "dyn-ok")
    project.write("p/assets/who_py.py", USER_ASSET)
    project.write("p/assets/who.sql", WHO_SQL.replace("materialization:", "depends: [who_py]\nmaterialization:"))

    result = project.bruin("--secrets-backend", "vault", "run", "p", env=env)

    assert result.returncode == 0, result.output
    user = (project.root / "out" / "user.txt").read_text()
    assert user.startswith("v-") and f"-{dynamic.role}-" in user
    assert dynamic.database.rows("select who from public.who") == [(user,)], "the SQL asset used another user"
    assert dynamic.users() == [], "the run's user outlived the run"
    assert f"connected as {user} with ****" in result.stdout
    assert "Issued per-run credentials for connection 'warehouse' by vault (lease TTL 3600s)" in result.stdout
    assert "Revoked the per-run credentials of connection 'warehouse'" in result.stdout
    (lease,) = manifest(project)["leases"]
    assert lease["lease_id"].startswith(f"{dynamic.mount}/creds/{dynamic.role}/")
    assert lease == {
        "connection": "warehouse", "source": "vault", "lease_id": lease["lease_id"], "ttl_seconds": 3600,
        "renewable": True, "renewals": 0, "revoked": True,
    }  # fmt: skip
    assert dynamic.lease(lease["lease_id"]) is None and dynamic.leases() == []
    sources = {s["key"]: s["source"] for a in manifest(project)["assets"] for s in a["secrets"]}
    assert sources == {"warehouse": "vault"}


def test_a_failed_run_still_revokes(project, dynamic_database):
    dynamic = dynamic_database()
    env = store(project, dynamic, "dyn-fail")
    project.write("p/assets/who_py.py", USER_ASSET + "raise SystemExit(3)\n")

    result = project.bruin("--secrets-backend", "vault", "run", "p", env=env)

    assert result.returncode == 1, result.output
    assert (project.root / "out" / "user.txt").read_text()
    assert dynamic.users() == [] and dynamic.leases() == []
    assert manifest(project)["leases"][0]["revoked"] is True


SLEEPER = (
    '"""@bruin\nname: sleeper\nsecrets:\n  - key: warehouse\n@bruin"""\n'
    + CONNECT
    + """
import time
pathlib.Path("out/user.txt").write_text(user if exists else "")
time.sleep(600)
"""
)


@pytest.mark.parametrize("signalled", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_revokes_its_user(project, dynamic_database, signalled):
    dynamic = dynamic_database()
    env = store(project, dynamic, f"dyn-{signalled.name.lower()}")
    project.write("p/assets/sleeper.py", SLEEPER)
    bruin = project.spawn("--secrets-backend", "vault", "run", "p", env=env)
    try:
        user = project.wait_for_text("out/user.txt", bruin)
        assert dynamic.users() == [user], "the user exists while the run lasts"
        os.kill(bruin.pid, signalled)
        out, err = bruin.communicate(timeout=60)
    finally:
        if bruin.poll() is None:
            os.killpg(bruin.pid, signal.SIGKILL)
            bruin.wait()
    assert bruin.returncode != 0, out + err
    assert "Revoked the per-run credentials of connection 'warehouse'" in out, out + err
    assert dynamic.users() == [] and dynamic.leases() == []


RENEWED = (
    '"""@bruin\nname: long\nsecrets:\n  - key: warehouse\n@bruin"""\n'
    + """
import json, os, pathlib, time
import psycopg
c = json.loads(os.environ["warehouse"])
time.sleep(float(os.environ["SLEEP_SECONDS"]))
conn = psycopg.connect(host=c["host"], port=c["port"], user=c["username"], password=c["password"],
                       dbname=c["database"], autocommit=True)
print("still valid after the first TTL:", conn.execute("select current_user").fetchone()[0])
"""
)


def test_a_run_longer_than_the_ttl_keeps_its_user_by_renewing(project, dynamic_database):
    dynamic = dynamic_database(default_ttl="3s", max_ttl="1h")
    env = store(project, dynamic, "dyn-renew") | {"SLEEP_SECONDS": "5"}
    project.write("p/assets/long.py", RENEWED)

    result = project.bruin("--secrets-backend", "vault", "run", "p", env=env)

    assert result.returncode == 0, result.output
    assert "still valid after the first TTL: v-" in result.stdout
    (lease,) = manifest(project)["leases"]
    assert lease["ttl_seconds"] == 3 and lease["renewals"] >= 1 and lease["revoked"] is True
    assert dynamic.users() == []


def test_without_renewal_the_user_would_be_gone(project, dynamic_database):
    """The control for the test above: a lease left alone ends at its TTL, and the user with it."""
    import psycopg

    dynamic = dynamic_database(default_ttl="2s", max_ttl="2s")
    creds = dynamic.vault.client().secrets.database.generate_credentials(name=dynamic.role, mount_point=dynamic.mount)
    deadline = time.monotonic() + 30
    while dynamic.users() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dynamic.users() == []
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            **{k: v for k, v in dynamic.database.details().items() if k not in ("username", "password", "database")},
            user=creds["data"]["username"],
            password=creds["data"]["password"],
            dbname=dynamic.database.name,
        )


def test_a_role_that_cannot_issue_fails_only_the_assets_that_need_it(project, dynamic_database):
    dynamic = dynamic_database()
    env = store(project, dynamic, "dyn-norole", dynamic={"role": "nope", "mount": dynamic.mount})
    project.write("p/assets/who_py.py", USER_ASSET)
    project.write("p/assets/other.py", '"""@bruin\nname: other\n@bruin"""\nprint("independent")\n')

    result = project.bruin("--secrets-backend", "vault", "run", "-o", "json", "p", env=env)

    assets = {a["name"]: a for a in json.loads(result.stdout)["assets"]}
    assert assets["other"]["status"] == "succeeded"
    assert assets["who_py"]["status"] == "failed"
    assert assets["who_py"]["error"] == (
        f"failed to issue credentials for connection 'warehouse' from Vault role '{dynamic.mount}/creds/nope': "
        "Vault returned HTTP status 400 (Bad Request)"
    )
    assert json.loads(result.stdout)["leases"] == []


def check_rows(project: BruinProject, env: dict[str, str]) -> tuple[int, list[dict]]:
    result = project.bruin("--secrets-backend", "vault", "secrets", "check", "-o", "json", "p", env=env)
    return result.returncode, json.loads(result.stdout)


def test_secrets_check_reads_the_role_without_creating_a_user(project, dynamic_database):
    dynamic = dynamic_database()
    env = store(project, dynamic, "dyn-check")
    project.write("p/assets/who_py.py", USER_ASSET)

    code, rows = check_rows(project, env)

    assert code == 0
    assert rows == [
        {
            "pipeline": "p", "asset": "who_py", "key": "warehouse", "inject_as": "warehouse", "source": "vault",
            "status": "ok", "message": None, "issued_by": f"{dynamic.mount}/creds/{dynamic.role}",
        }
    ]  # fmt: skip
    assert dynamic.users() == [] and dynamic.leases() == [], "checking created a user"

    plain = project.bruin("--secrets-backend", "vault", "secrets", "check", "p", env=env)
    assert f"warehouse: per-run credentials from {dynamic.mount}/creds/{dynamic.role}" in plain.stdout


def test_secrets_check_reports_a_missing_role(project, dynamic_database):
    dynamic = dynamic_database()
    env = store(project, dynamic, "dyn-check-missing", dynamic={"role": "nope", "mount": dynamic.mount})
    project.write("p/assets/who_py.py", USER_ASSET)

    code, rows = check_rows(project, env)

    assert code == 1
    assert rows[0]["status"] == "malformed"
    assert rows[0]["message"] == f"Vault role '{dynamic.mount}/roles/nope' of connection 'warehouse' not found"


@pytest.mark.parametrize(
    ("dynamic", "problem"),
    [
        ("etl", "expected an object with 'role' (and optionally 'engine' and 'mount')"),
        ({"role": "etl", "engine": "kv"}, "unsupported engine (supported: database)"),
        ({"role": ""}, "'role' must be a role name"),
        ({"role": "etl", "ttl": "1h"}, "unknown keys ttl (known: engine, mount, role)"),
    ],
)
def test_an_invalid_dynamic_field_is_named(project, dynamic_database, dynamic, problem):
    database = dynamic_database()
    env = store(project, database, "dyn-invalid", dynamic=dynamic)
    project.write("p/assets/who_py.py", USER_ASSET)

    code, rows = check_rows(project, env)

    assert code == 1
    assert rows[0]["status"] == "malformed"
    assert rows[0]["message"] == f"connection 'warehouse' has an invalid 'dynamic' field: {problem}"


def test_a_generic_connection_cannot_be_dynamic(project, dynamic_database):
    database = dynamic_database()
    project.write(".bruin.yml", EMPTY_BRUIN_YML)
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", '"""@bruin\nname: a\nsecrets:\n  - key: token\n@bruin"""\n')
    database.vault.put("dyn-generic/token", {"type": "generic", "details": {"value": "x", "dynamic": {"role": "etl"}}})

    code, rows = check_rows(project, database.vault.bruin_env("dyn-generic"))

    assert code == 1
    assert rows[0]["message"] == (
        "connection 'token' has an invalid 'dynamic' field: a generic connection has no username and password "
        "for per-run credentials"
    )


def test_the_password_reaches_the_asset_and_nothing_else(project, dynamic_database, tmp_path):
    """Canary check for a value nobody knew before the run: the asset hands it to the test over a socket."""
    dynamic = dynamic_database()
    env = store(project, dynamic, "dyn-canary") | {"TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        env["CANARY_PORT"] = str(listener.getsockname()[1])
        project.write(
            "p/assets/who_py.py",
            USER_ASSET
            + """
import socket, sys, base64, urllib.parse
with socket.create_connection(("127.0.0.1", int(os.environ["CANARY_PORT"]))) as s:
    s.sendall(c["password"].encode())
print("json:", json.dumps({"pw": c["password"]}), "quoted:", urllib.parse.quote(c["password"]))
print("b64:", base64.b64encode(c["password"].encode()).decode(), file=sys.stderr)
raise RuntimeError(f"failing with {c['password']!r} in the message")
""",
        )
        project.write("p/assets/who.sql", WHO_SQL)
        listener.settimeout(120)
        result = project.bruin("--secrets-backend", "vault", "run", "--debug", "p", env=env)
        connection, _ = listener.accept()
        with connection:
            password = connection.recv(4096).decode()
    json_result = project.bruin("--secrets-backend", "vault", "run", "-o", "json", "p", env=env)

    assert len(password) >= 8
    assert "Traceback" in result.stdout and "****" in result.stdout
    for output in (result.stdout, result.stderr, json_result.stdout, json_result.stderr):
        assert password not in output
    assert project.files_containing(password) == []
    assert [p for p in (tmp_path / "tmp").rglob("*") if p.is_file() and password.encode() in p.read_bytes()] == []
    assert dynamic.users() == []


@pytest.fixture
def chain_env(dynamic_database) -> Callable[..., tuple[DynamicDatabase, dict[str, str]]]:
    def make(project: BruinProject) -> tuple[DynamicDatabase, dict[str, str]]:
        dynamic = dynamic_database()
        return dynamic, store(project, dynamic, "dyn-chain")

    return make


def test_a_dynamic_connection_in_a_chain(project, chain_env):
    dynamic, env = chain_env(project)
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      generic:\n        - {name: local_only, value: v-123456}\n",
    )
    project.write(
        "p/assets/who_py.py",
        USER_ASSET.replace("  - key: warehouse\n", "  - key: warehouse\n  - key: local_only\n"),
    )

    result = project.bruin("--secrets-backend", "vault,local", "run", "p", env=env)

    assert result.returncode == 0, result.output
    (lease,) = manifest(project)["leases"]
    assert lease["source"] == "vault" and lease["revoked"] is True
    sources = {s["key"]: s["source"] for a in manifest(project)["assets"] for s in a["secrets"]}
    assert sources == {"warehouse": "vault", "local_only": ".bruin.yml"}
    assert dynamic.users() == []


def test_connections_test_logs_in_as_a_user_made_for_the_test(project, dynamic_database):
    dynamic = dynamic_database()
    env = store(project, dynamic, "dyn-ping")

    result = project.bruin("--secrets-backend", "vault", "connections", "test", "--name", "warehouse", env=env)

    assert result.returncode == 0, result.output
    assert result.stdout == "Successfully tested connection 'warehouse' in environment: default\n"
    assert dynamic.users() == [] and dynamic.leases() == []


def with_scoped_token(project: BruinProject, dynamic: DynamicDatabase, path: str, *, revoke: bool) -> dict[str, str]:
    """Store `warehouse` at `path`; the env reading it with a token that may read the KV secrets there and
    issue and renew users of the role, and revoke them only if asked (never read the role: `secrets check`
    is denied)."""
    env = store(project, dynamic, path)
    client = dynamic.vault.client()
    policy = f'path "secret/data/{path}/*" {{ capabilities = ["read"] }}\n'
    policy += f'path "{dynamic.mount}/creds/{dynamic.role}" {{ capabilities = ["read"] }}\n'
    policy += 'path "sys/leases/renew" { capabilities = ["update"] }\n'
    if revoke:
        policy += 'path "sys/leases/revoke" { capabilities = ["update"] }\n'
    client.sys.create_or_update_policy(name=path, policy=policy)
    token = client.auth.token.create(policies=[path], ttl="10m", no_parent=True)
    env["BRUIN_VAULT_TOKEN"] = token["auth"]["client_token"]
    project.write("p/assets/who_py.py", USER_ASSET)
    return env


def test_a_token_that_may_not_revoke_leaves_the_user_to_its_ttl_and_says_so(project, dynamic_database):
    dynamic = dynamic_database()
    env = with_scoped_token(project, dynamic, "dyn-norevoke", revoke=False)

    result = project.bruin("--secrets-backend", "vault", "run", "p", env=env)
    check = project.bruin("--secrets-backend", "vault", "secrets", "check", "-o", "json", "p", env=env)

    assert result.returncode == 0, result.output
    assert re.search(
        r"Could not revoke the per-run credentials of connection 'warehouse'; "
        r"they expire by their TTL within 3[0-9]{3}s: failed to revoke the lease of connection 'warehouse': "
        r"Vault returned HTTP status 403 \(Forbidden\)",
        result.stdout,
    ), result.stdout
    (lease,) = manifest(project)["leases"]
    assert lease["revoked"] is False
    assert dynamic.users() == [(project.root / "out" / "user.txt").read_text()]
    assert json.loads(check.stdout)[0]["status"] == "denied", "reading the role needs its own capability"
    dynamic.vault.client().sys.revoke_prefix(f"{dynamic.mount}/creds/{dynamic.role}")
    assert dynamic.users() == []


def test_a_scoped_token_with_the_documented_policy_is_enough(project, dynamic_database):
    dynamic = dynamic_database()
    env = with_scoped_token(project, dynamic, "dyn-scoped", revoke=True)

    result = project.bruin("--secrets-backend", "vault", "run", "p", env=env)

    assert result.returncode == 0, result.output
    assert manifest(project)["leases"][0]["revoked"] is True, result.stdout
    assert dynamic.users() == [] and dynamic.leases() == []
