"""Canary suite: a unique secret per test must reach the asset and nothing else.

Each canary is planted in generic, postgres, snowflake and google_cloud_platform connections, in `.bruin.yml`,
via `${VAR}` or via OpenBao. Assets print it in every common disguise; afterwards the canary must appear in no
terminal output, log file, manifest, JSON output, or file under the project and temp dirs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid

import pytest

from fixtures.sops_age import new_key

CONNECTIONS = ("generic_secret", "warehouse", "snow", "gcp")

PRINTER = '''
""" @bruin
name: printer
secrets:
  - key: generic_secret
    inject_as: GENERIC
  - key: warehouse
  - key: snow
  - key: gcp
@bruin """
import base64, hashlib, json, os, pathlib, sys, time, urllib.parse

canaries = {
    "generic_secret": os.environ["GENERIC"],
    "warehouse": json.loads(os.environ["warehouse"])["password"],
    "snow": json.loads(os.environ["snow"])["password"],
    "gcp": json.loads(json.loads(os.environ["gcp"])["service_account_json"])["private_key"],
}
received = pathlib.Path("received")
received.mkdir(exist_ok=True)
for name, value in canaries.items():
    (received / name).write_text(hashlib.sha256(value.encode()).hexdigest())
    print("raw:", value)
    print("query:", urllib.parse.quote_plus(value), "path:", urllib.parse.quote(value, safe=""))
    print("json:", json.dumps({"token": value}))
    blob = base64.b64encode(b"some-longer-payload:" + value.encode() + b":and-more").decode()
    print("base64 blob:", blob)
    sys.stdout.write("split:" + value[:5])
    sys.stdout.flush()
    time.sleep(0.05)
    sys.stdout.write(value[5:] + " (joined)\\n")
    print("to stderr:", value, file=sys.stderr)
for name in ("BRUIN_VAULT_TOKEN", "BRUIN_AWS_SECRET_ACCESS_KEY", "VAULT_TOKEN", "BRUIN_CONFIG_FILE_CONTENT",
             "SOPS_AGE_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "BRUIN_GCP_CREDENTIALS_FILE"):
    assert name not in os.environ, f"{name} leaked into the asset environment"
argv = pathlib.Path(f"/proc/{os.getppid()}/cmdline").read_bytes() + pathlib.Path("/proc/self/cmdline").read_bytes()
assert not any(value.encode() in argv for value in canaries.values()), "a secret is in a process argv"
print("printer done")
'''

CRASHER = '''
""" @bruin
name: crasher
secrets:
  - key: warehouse
@bruin """
import json, os, urllib.parse
password = json.loads(os.environ["warehouse"])["password"]
dsn = f"postgresql://loader:{urllib.parse.quote(password, safe='')}@127.0.0.1:1/analytics"
print("connecting to", dsn)
try:
    import psycopg
    psycopg.connect(dsn, connect_timeout=2)
except Exception as exc:
    print("driver said:", exc)
raise RuntimeError(f"login failed for password {password!r}")
'''

SQL_ASSET = """
/* @bruin
name: pg_report
type: pg.sql
connection: warehouse
@bruin */
SELECT 1
"""


def canary() -> str:
    token = uuid.uuid4().hex
    return f'Cn{token[:10]}+/@:"é={token[10:22]}'


def connection_yaml(values: dict[str, str]) -> str:
    sa_json = json.dumps({"type": "service_account", "private_key": values["gcp"]})
    return (
        "environments:\n  default:\n    connections:\n"
        f"      generic:\n        - name: generic_secret\n          value: {json.dumps(values['generic_secret'])}\n"
        "      postgres:\n        - name: warehouse\n          host: 127.0.0.1\n          port: 1\n"
        f"          username: loader\n          password: {json.dumps(values['warehouse'])}\n"
        "          database: analytics\n"
        "      snowflake:\n        - name: snow\n          account: acme\n          username: etl\n"
        f"          password: {json.dumps(values['snow'])}\n"
        "      google_cloud_platform:\n        - name: gcp\n          project_id: demo\n"
        f"          service_account_json: {json.dumps(sa_json)}\n"
    )


def backend_payloads(values: dict[str, str]) -> dict[str, dict[str, object]]:
    sa_json = json.dumps({"type": "service_account", "private_key": values["gcp"]})
    return {
        "generic_secret": {"type": "generic", "details": {"value": values["generic_secret"]}},
        "warehouse": {
            "type": "postgres",
            "details": {
                "host": "127.0.0.1",
                "port": 1,
                "username": "loader",
                "password": values["warehouse"],
                "database": "analytics",
            },
        },
        "snow": {"type": "snowflake", "details": {"account": "acme", "username": "etl", "password": values["snow"]}},
        "gcp": {"type": "google_cloud_platform", "details": {"project_id": "demo", "service_account_json": sa_json}},
    }


STORE_SOURCES = ("vault", "gcp", "keyring")


@pytest.fixture(params=["bruin_yml", "env_var", "sops", "vault", "gcp", "keyring"])
def planted(request, project, tmp_path):
    """A project whose four connections hold fresh canaries, from the source under test."""
    values = {name: canary() for name in CONNECTIONS}
    env = {"TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    args: list[str] = []
    if request.param == "bruin_yml":
        project.write(".bruin.yml", connection_yaml(values))
    elif request.param == "env_var":
        placeholders = {name: "${CANARY_" + name.upper() + "}" for name in CONNECTIONS}
        project.write(
            ".bruin.yml",
            connection_yaml(placeholders).replace(
                '"{\\"type\\": \\"service_account\\", \\"private_key\\": \\"${CANARY_GCP}\\"}"', '"${CANARY_GCP_JSON}"'
            ),
        )
        env |= {f"CANARY_{name.upper()}": value for name, value in values.items()}
        env["CANARY_GCP_JSON"] = json.dumps({"type": "service_account", "private_key": values["gcp"]})
    elif request.param == "sops":
        key = new_key(tmp_path / "home")
        project.write(".bruin.yml", key.encrypt(connection_yaml(values)))
        env |= key.env()
    elif request.param == "gcp":
        gcp = request.getfixturevalue("gcp")
        for name, payload in backend_payloads(values).items():
            gcp.put(name, payload)
        project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
        env |= gcp.bruin_env(GOOGLE_APPLICATION_CREDENTIALS=str(gcp.key_file))
        args = ["--secrets-backend", "gcp"]
    elif request.param == "keyring":
        import keyring

        request.getfixturevalue("keyring_env")
        service = f"bruin-canary-{uuid.uuid4().hex[:8]}"
        for name, payload in backend_payloads(values).items():
            keyring.get_keyring().set_password(service, name, json.dumps(payload))
        project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
        env |= request.getfixturevalue("secret_service").env(BRUIN_KEYRING_SERVICE=service)
        args = ["--secrets-backend", "keyring"]
    else:
        vault = request.getfixturevalue("vault_server")
        path = f"canary-{uuid.uuid4().hex[:8]}"
        for name, payload in backend_payloads(values).items():
            vault.put(f"{path}/{name}", payload)
        project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
        env |= vault.bruin_env(path, VAULT_TOKEN=vault.root_token)
        args = ["--secrets-backend", "vault"]
    project.write("p/pipeline.yml", "name: leakproof\n")
    project.write("p/assets/printer.py", PRINTER)
    project.write("p/assets/crasher.py", CRASHER)
    project.write("p/assets/pg_report.sql", SQL_ASSET)
    return project, values, env, args, request.param


def assert_nowhere(project, tmp_path, outputs: list[str], values: dict[str, str], source: str) -> None:
    for value in values.values():
        for output in outputs:
            assert value not in output
        leaked = [p for p in project.files_containing(value) if not (source == "bruin_yml" and p.name == ".bruin.yml")]
        assert leaked == [], leaked
        others = [p for p in (tmp_path / "tmp").rglob("*") if p.is_file() and value.encode() in p.read_bytes()]
        assert others == [], others


def test_canaries_reach_the_asset_and_nothing_else(planted, tmp_path):
    project, values, env, args, source = planted
    result = project.bruin(*args, "run", "--debug", "p", env=env)
    json_result = project.bruin(*args, "run", "-o", "json", "p", env=env)

    assert result.returncode == 1, result.output
    assert "printer done" in result.stdout
    for name, value in values.items():
        received = (project.root / "received" / name).read_text()
        assert received == hashlib.sha256(value.encode()).hexdigest(), f"{name} did not reach the asset intact"
    assert "raw: ****" in result.stdout and "split:**** (joined)" in result.stdout
    assert "Traceback" in result.stdout, "the crasher's traceback is shown, masked"
    assert "asset 'pg_report'" in result.stdout

    manifest = json.loads(json_result.stdout)
    assets = {a["name"]: a for a in manifest["assets"]}
    assert assets["printer"]["status"] == "succeeded"
    assert assets["crasher"]["status"] == "failed" and assets["pg_report"]["status"] == "failed"
    expected_source = source if source in STORE_SOURCES else ".bruin.yml"
    assert {s["key"]: (s["inject_as"], s["type"], s["source"]) for s in assets["printer"]["secrets"]} == {
        "generic_secret": ("GENERIC", "generic", expected_source),
        "warehouse": ("warehouse", "postgres", expected_source),
        "snow": ("snow", "snowflake", expected_source),
        "gcp": ("gcp", "google_cloud_platform", expected_source),
    }
    manifest_files = list((project.root / "logs" / "runs").glob("*.json"))
    log_files = list((project.root / "logs").glob("*.log"))
    assert manifest_files and log_files
    assert_nowhere(
        project, tmp_path, [result.stdout, result.stderr, json_result.stdout, json_result.stderr], values, source
    )


def test_add_mask_registers_a_derived_value(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    derived = canary()
    project.write(
        "p/assets/derive.py",
        f'''
        """@bruin
        name: derive
        @bruin"""
        import sys
        token = {derived!r}
        print("::add-mask::" + token)
        print("session token is", token)
        print("again:", token, file=sys.stderr)
        ''',
    )
    project.write(
        "p/assets/later.py",
        f'"""@bruin\nname: later\ndepends: [derive]\n@bruin"""\nprint("later sees", {derived!r})\n',
    )
    result = project.bruin("run", "p")
    assert result.returncode == 0, result.output
    assert derived not in result.output
    assert "::add-mask::" not in result.output
    assert "session token is ****" in result.stdout and "later sees ****" in result.stdout
    assert project.files_containing(derived) == [p for p in project.files_containing(derived) if p.suffix == ".py"]


def test_add_mask_of_a_value_that_is_not_utf8(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/derive.py",
        '''
        """@bruin
        name: derive
        @bruin"""
        import sys
        token = b"tok\\xff\\xfe-derived-7c41"
        sys.stdout.buffer.write(b"::add-mask::" + token + b"\\n")
        sys.stdout.buffer.write(b"token " + token + b" end\\n")
        ''',
    )
    result = project.bruin("run", "p")
    assert result.returncode == 0, result.output
    assert "derived-7c41" not in result.output
    assert "token **** end" in result.stdout
    assert [path.name for path in project.files_containing("derived-7c41")] == ["derive.py"], "log file"


def test_add_mask_of_a_short_value_is_warned_about(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", '"""@bruin\nname: a\n@bruin"""\nprint("::add-mask::ab1")\n')
    result = project.bruin("run", "p")
    assert result.returncode == 0, result.output
    assert "asset 'a' asked to mask a value shorter than 6 characters" in result.stdout
    assert "ab1" not in result.stdout


def test_short_values_are_not_masked_and_warned_about_by_name(project):
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      generic:\n        - {name: TINY, value: abc12}\n",
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/a.py", '"""@bruin\nname: a\nsecrets: [{key: TINY}]\n@bruin"""\nprint("x")\n')
    result = project.bruin("run", "p")
    assert result.returncode == 0, result.output
    assert "connection 'TINY' has a sensitive value shorter than 6 characters" in result.stdout
    assert "abc12" not in result.stdout
    assert result.stdout.count("connection 'TINY'") == 1, "warned once, though both configured and used"


def test_mask_credentials_false_disables_masking(project):
    value = canary()
    project.write(
        ".bruin.yml",
        f"environments:\n  default:\n    connections:\n      generic:\n        - {{name: K, value: '{value}'}}\n",
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/a.py", '"""@bruin\nname: a\nsecrets: [{key: K}]\n@bruin"""\nimport os\nprint(os.environ["K"])\n'
    )
    assert value in project.bruin("run", "--mask-credentials=false", "p").stdout
    assert value not in project.bruin("run", "--mask-credentials", "p").stdout


@pytest.mark.parametrize("how", ["flag", "pipeline"])
def test_pristine_env_gives_a_minimal_environment(project, how):
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      generic:\n        - {name: K, value: v-123456}\n",
    )
    project.write("p/pipeline.yml", "name: p\n" + ("pristine_env: true\n" if how == "pipeline" else ""))
    project.write(
        "p/assets/a.py",
        '''
        """@bruin
        name: a
        secrets: [{key: K}]
        @bruin"""
        import os
        assert "UNRELATED_PARENT_SECRET" not in os.environ
        assert os.environ["K"] == "v-123456" and os.environ["BRUIN_ASSET"] == "a"
        allowed = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONUNBUFFERED", "PYTHONPATH", "K", "LC_CTYPE"}
        extra = {k for k in os.environ if not k.startswith("BRUIN_") and k not in allowed}
        assert not extra, extra
        ''',
    )
    args = ["run", "--pristine-env", "p"] if how == "flag" else ["run", "p"]
    result = project.bruin(*args, env={"UNRELATED_PARENT_SECRET": "nope"})
    assert result.returncode == 0, result.output


def test_inherited_environment_keeps_the_parent_but_not_our_credentials(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/a.py",
        '''
        """@bruin
        name: a
        @bruin"""
        import os
        assert os.environ["UNRELATED_PARENT_VAR"] == "kept"
        for name in ("BRUIN_VAULT_TOKEN", "BRUIN_AWS_SECRET_ACCESS_KEY", "BRUIN_DOPPLER_TOKEN",
                     "BRUIN_AZURE_CLIENT_SECRET", "BRUIN_CONFIG_FILE_CONTENT"):
            assert name not in os.environ, name
        ''',
    )
    env = {
        "UNRELATED_PARENT_VAR": "kept",
        "BRUIN_VAULT_TOKEN": "t-1234567",
        "BRUIN_AWS_SECRET_ACCESS_KEY": "s-1234567",
        "BRUIN_DOPPLER_TOKEN": "d-1234567",
        "BRUIN_AZURE_CLIENT_SECRET": "a-1234567",
    }
    result = project.bruin("run", "p", env=env)
    assert result.returncode == 0, result.output


def test_a_run_seals_itself_against_assets_reading_its_environment():
    """Assets run as our user, who may read /proc/<pid>/environ of a dumpable process: the backend token
    withheld from them is there. Once sealed (non-dumpable), only root can. The kernel side cannot be
    shown from a test that runs as root, so this checks the flag itself, in a fresh interpreter."""
    script = (
        "import ctypes\n"
        "from pybruin.run.processes import seal_this_process\n"
        "libc = ctypes.CDLL(None)\n"
        "print(libc.prctl(3, 0, 0, 0, 0), end=' ')\n"  # PR_GET_DUMPABLE
        "seal_this_process()\n"
        "print(libc.prctl(3, 0, 0, 0, 0))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == "1 0\n"


def test_our_own_store_credentials_are_masked_too(project, tmp_path):
    """A backend token is withheld from assets; should one print it anyway (read elsewhere), it is masked."""
    token = canary()
    elsewhere = tmp_path / "token.txt"
    elsewhere.write_text(token)
    project.write(".bruin.yml", "environments:\n  default:\n    connections: {}\n")
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/a.py",
        f'"""@bruin\nname: a\n@bruin"""\nimport os\nassert "BRUIN_VAULT_TOKEN" not in os.environ\n'
        f"print('token:', open({str(elsewhere)!r}).read())\n",
    )
    result = project.bruin("run", "p", env={"BRUIN_VAULT_TOKEN": token})
    assert result.returncode == 0, result.output
    assert "token: ****" in result.stdout
    assert token not in result.output


def test_a_secret_split_by_colour_codes_is_masked_on_the_terminal_and_in_the_log(project):
    value = canary()
    project.write(
        ".bruin.yml",
        f"environments:\n  default:\n    connections:\n      generic:\n        - {{name: K, value: '{value}'}}\n",
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write(
        "p/assets/a.py",
        '"""@bruin\nname: a\nsecrets: [{key: K}]\n@bruin"""\nimport os\nv = os.environ["K"]\n'
        'print("\\x1b[1mbold\\x1b[0m", v[:5] + "\\x1b[31m" + v[5:] + "\\x1b[0m"'
        ' + "\\n\\x1b[32mgreen and harmless\\x1b[0m")\n',
    )
    result = project.bruin("run", "p")
    assert result.returncode == 0, result.output
    shown = result.stdout.replace("\x1b[31m", "").replace("\x1b[0m", "").replace("\x1b[1m", "")
    assert value not in shown
    assert "bold ****" in result.stdout
    assert "\x1b[32mgreen and harmless\x1b[0m" in result.stdout, "colours stay where no secret hides"
    assert project.files_containing(value) == [project.root / ".bruin.yml"]
