"""The canary suite, tried as an attacker would: each test plants a unique canary and prints it (or lets
pybruin print it) in a disguise that once got through. Afterwards the canary appears in no terminal output
(also as a terminal would show it), run log, manifest, `-o json`, file under the project or `$TMPDIR`, and
no asset that did not declare it could read it.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from conftest import EMPTY_CONFIG
from pybruin.masking import strip_terminal_sequences


def canary(special: str = '+/@:"é= $&') -> str:
    token = uuid.uuid4().hex
    return f"Cx{token[:10]}{special}{token[10:22]}"


def generic_config(value: str, name: str = "K") -> str:
    entry = f"{{name: {name}, value: {json.dumps(value)}}}"
    return f"environments:\n  default:\n    connections:\n      generic:\n        - {entry}\n"


def assert_nowhere(project, tmp_path, result, value: str, *, allowed=(".bruin.yml",)) -> None:
    """The canary, and every escaped form a URL decoder or a terminal would show whole, is nowhere."""
    for text in (result.stdout, result.stderr):
        assert value not in text
        assert value not in strip_terminal_sequences(text.encode()).decode("utf-8", "replace")
    for path in [*project.root.rglob("*"), *(tmp_path / "tmp").rglob("*")]:
        if path.is_file() and ".git" not in path.parts and path.name not in allowed and path.suffix != ".py":
            data = path.read_bytes()
            assert value.encode() not in data and value.encode() not in strip_terminal_sequences(data), path


@pytest.fixture
def env(tmp_path):
    (tmp_path / "tmp").mkdir()
    return {"TMPDIR": str(tmp_path / "tmp")}


def write_asset(project, name: str, header: str, body: str) -> None:
    project.write(f"p/assets/{name}.py", f'"""@bruin\nname: {name}\n{header}@bruin"""\n{body}')


def run_printer(project, env, value: str, body: str):
    """Run one asset that declares the generic connection K holding `value` and runs `body` with it as `v`."""
    project.write(".bruin.yml", generic_config(value))
    project.write("p/pipeline.yml", "name: p\n")
    prelude = "import base64, os, re, urllib.parse\nv = os.environ['K']\n"
    write_asset(project, "a", "secrets: [{key: K}]\n", prelude + body)
    result = project.bruin("run", "p", env=env)
    assert result.returncode == 0, result.output
    return result


def test_a_variable_behind_a_credential_field_reaches_no_asset(project, tmp_path, env):
    """Leak 1: `password: "${PGPASSWORD}"` made PGPASSWORD part of every asset's environment."""
    password, host = canary(), "db.internal"
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      postgres:\n        - name: warehouse\n"
        '          host: "${PGHOST_FOR_TEST}"\n          username: etl\n          password: "${PGPASSWORD}"\n'
        "          database: d\n      mongo:\n        - name: docs\n          uri: \"${MONGO_URI}\"\n",
    )
    project.write("p/pipeline.yml", "name: p\n")
    body = (
        "import hashlib, json, os, pathlib\n"
        "print('reversed:', os.environ.get('PGPASSWORD', '')[::-1], os.environ.get('MONGO_URI', '')[::-1])\n"
        "assert 'PGPASSWORD' not in os.environ and 'MONGO_URI' not in os.environ\n"
        "assert os.environ['PGHOST_FOR_TEST'] == 'db.internal', 'a variable of a non-secret field is kept'\n"
    )
    write_asset(project, "nothing", "", body)
    write_asset(project, "declares", "secrets: [{key: warehouse}]\n", body + (
        "pathlib.Path('got').write_text(hashlib.sha256(json.loads(os.environ['warehouse'])['password']"
        ".encode()).hexdigest())\n"))  # fmt: skip
    mongo = f"mongodb://etl:{password[::-1][:12]}-mongo@h/db"
    result = project.bruin("run", "p", env=env | {"PGPASSWORD": password, "PGHOST_FOR_TEST": host, "MONGO_URI": mongo})
    assert result.returncode == 0, result.output
    assert (project.root / "got").read_text() == hashlib.sha256(password.encode()).hexdigest()
    assert password[::-1] not in result.output and "-mongo" not in result.output
    assert_nowhere(project, tmp_path, result, password)


URL_FORMS = {
    "quote safe=''": "urllib.parse.quote(v, safe='')",
    "quote lower-case escapes": "re.sub('%[0-9A-F]{2}', lambda m: m[0].lower(), urllib.parse.quote(v, safe=''))",
    "quote_plus safe='/'": "urllib.parse.quote_plus(v, safe='/')",
    "quote_plus safe=':@'": "urllib.parse.quote_plus(v, safe=':@')",
    "quote safe='/@:'": "urllib.parse.quote(v, safe='/@:')",
    "double-escaped once decoded": "urllib.parse.quote(v, safe='+')",
    "base64 then quote safe=''": "urllib.parse.quote(base64.b64encode(v.encode()).decode(), safe='')",
}


@pytest.mark.parametrize("form", sorted(URL_FORMS))
def test_every_url_escaped_form_is_masked(project, tmp_path, env, form):
    """Leak 2: `urllib.parse.quote(value, safe="")` of a value with a space, `/` and `$&+=` was printed."""
    value = canary()
    body = f"shown = {URL_FORMS[form]}\nprint('url:', shown)\nopen('shown.txt', 'w').write(shown)\n"
    result = run_printer(project, env, value, body)
    shown = (project.root / "shown.txt").read_text()
    (project.root / "shown.txt").unlink()
    assert "url: ****" in result.stdout and shown not in result.output
    assert_nowhere(project, tmp_path, result, value)


CONTROL_SPLITS = {
    "SGR colon form": "\\x1b[38:5:196m",
    "underline style": "\\x1b[4:3m",
    "OSC 8 link": "\\x1b]8;;https://example.com\\x1b\\\\",
    "OSC title with BEL": "\\x1b]0;title\\x07",
    "8-bit CSI": "\\u009b31m",
    "cursor save": "\\x1b7",
    "NUL": "\\x00",
    "overstrike": "Z\\b",
    "private CSI": "\\x1b[?25l",
}


@pytest.mark.parametrize("split", sorted(CONTROL_SPLITS))
def test_a_secret_split_by_any_control_sequence_is_masked(project, tmp_path, env, split):
    """Leak 3: colon-form SGR codes split a secret that the terminal and the run log then showed whole."""
    value = canary("-/:")
    cut = CONTROL_SPLITS[split]
    result = run_printer(project, env, value, f"print('x', v[:7] + '{cut}' + v[7:] + '\\x1b[0m', 'y')\n")
    assert "****" in result.stdout
    logs = list((project.root / "logs").glob("*.log"))
    assert logs and value not in logs[0].read_text(errors="replace")
    assert_nowhere(project, tmp_path, result, value)


def test_a_dsn_pasted_into_host_keeps_its_password_out_of_our_messages(project, tmp_path, env):
    """Leak 4: `could not connect ... at {host}:{port}` echoed a DSN's password from a non-secret field."""
    password = canary("-")
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      postgres:\n        - name: warehouse\n"
        f"          host: 'postgresql://etl:{password}@127.0.0.1/db'\n          port: 1\n          username: etl\n"
        "          password: 'another-pw-1234567'\n          database: d\n",
    )
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/report.sql", "/* @bruin\nname: report\ntype: pg.sql\nconnection: warehouse\n@bruin */\n"
                  "select 1\n")  # fmt: skip
    write_asset(project, "printer", "secrets: [{key: warehouse}]\n",
                "import json, os\nprint('host is', json.loads(os.environ['warehouse'])['host'])\n")  # fmt: skip
    ran = project.bruin("run", "p", env=env)
    assert ran.returncode == 1, ran.output
    assert "could not connect to postgres connection 'warehouse' at postgresql://" in ran.stdout
    tested = project.bruin("connections", "test", "--name", "warehouse", env=env)
    assert tested.returncode == 1 and "postgresql://" in tested.stderr
    listed = project.bruin("connections", "list", "-o", "json", env=env)
    for result in (ran, tested, listed):
        assert password not in result.output
        assert_nowhere(project, tmp_path, result, password)


def test_untyped_connections_mask_what_looks_like_a_credential(project, tmp_path, env):
    """Leak 5: a `mongo` connection's `uri` and `pin` were printed as they were."""
    password, pin = canary("-"), f"{uuid.uuid4().int % 10**8:08d}"
    project.write(
        ".bruin.yml",
        "environments:\n  default:\n    connections:\n      mongo:\n        - name: docs\n"
        f"          uri: 'mongodb://etl:{password}@mongo.internal/app'\n          pin: '{pin}'\n"
        "          region: eu-west-1\n      shopify:\n        - name: shop\n"
        f"          url: 'https://api.shop/x?access_token={password}-shop'\n"
        f"          account_secret_code: 'zz-{pin}'\n",
    )
    project.write("p/pipeline.yml", "name: p\n")
    write_asset(project, "a", "secrets: [{key: docs}, {key: shop}]\n",
                "import json, os, urllib.parse\n"
                "docs, shop = json.loads(os.environ['docs']), json.loads(os.environ['shop'])\n"
                "print(docs['uri'], docs['pin'], docs['region'], urllib.parse.urlsplit(docs['uri']).password)\n"
                "print(shop['url'], shop['account_secret_code'])\n")  # fmt: skip
    result = project.bruin("run", "p", env=env)
    assert result.returncode == 0, result.output
    assert "eu-west-1" in result.stdout, "non-credential fields stay readable"
    for secret in (password, pin, f"{password}-shop"):
        assert secret not in result.output
        assert_nowhere(project, tmp_path, result, secret)


@pytest.mark.parametrize("size", [64 * 1024 - 20, 64 * 1024, 200 * 1024])
def test_add_mask_of_any_length(project, tmp_path, env, size):
    """Leak 6: an `::add-mask::` line longer than 64 KiB was cut, and the rest printed."""
    project.write(".bruin.yml", EMPTY_CONFIG)
    project.write("p/pipeline.yml", "name: p\n")
    marker = uuid.uuid4().hex
    write_asset(project, "a", "", f"import sys\nvalue = ('{marker}' * {size // 32 + 1})[:{size}]\n"
                "sys.stdout.write('  ::add-mask::' + value + '\\n')\nsys.stdout.flush()\nprint('value:', value)\n")
    result = project.bruin("run", "p", env=env)
    assert result.returncode == 0, result.output
    assert marker not in result.output, "no part of the value is shown"
    assert "::add-mask::" not in result.output and "value: ****" in result.stdout
    assert_nowhere(project, tmp_path, result, marker)
