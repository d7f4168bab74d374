"""`bruin --help`, `bruin --version` and a one-asset `bruin run` stay light: no cloud SDK, database driver,
template engine or pydantic, and a run loads only the stores and platforms it uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("boto3", "botocore", "azure", "hvac", "httpx", "duckdb", "psycopg", "jinja2", "rich")
#: Besides HEAVY: the other SDKs and drivers, and pydantic (which only unusual connection values need).
SDKS_AND_DRIVERS = (*HEAVY, "requests", "urllib3", "google", "keyring", "secretstorage", "pymysql", "snowflake",
                    "pydantic", "pydantic_core", "sqlglot")  # fmt: skip


def imported_modules(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pybruin", *args], capture_output=True, text=True, check=True
    )
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def loaded_by_a_run(root: Path, *args: str) -> set[str]:
    """`sys.modules` of a `bruin run` (in a process of its own) once it has finished."""
    code = (
        "import sys\n"
        "from pybruin.cli.app import run_cli\n"
        f"code = run_cli({list(args)!r})\n"
        "open('modules.txt', 'w').write('\\n'.join(sorted(sys.modules)))\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRUIN_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[one] >> ran" in done.stdout
    return set((root / "modules.txt").read_text().split())


def test_help_imports_no_heavy_library():
    loaded = imported_modules("--help")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert not {m for m in loaded if m.split(".")[0] in SDKS_AND_DRIVERS}


def test_version_imports_nothing_but_the_package():
    loaded = imported_modules("--version")
    assert not {m for m in loaded if m.split(".")[0] in (*HEAVY, "click", "pydantic", "yaml")}


def test_the_bruin_command_imports_nothing_a_bare_interpreter_does_not_but_the_package():
    """`bruin` is a plain script: the entry points pip generates import `re` before anything else."""
    bruin = Path(sys.executable).with_name("bruin")
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}

    def modules(command: list[str]) -> set[str]:
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
        return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}

    extra = modules([str(bruin), "--version"]) - modules([sys.executable, "-c", "pass"])
    assert extra == {"pybruin", "pybruin.cli"}


def test_a_one_asset_run_imports_no_sdk_driver_or_pydantic(project):
    project.write(".bruin.yml", "environments:\n  default:\n    connections:\n      generic:\n"
                  "        - {name: TOKEN, value: token-value-1234}\n")  # fmt: skip
    project.write("p/pipeline.yml", "name: p\n")
    project.write("p/assets/one.py", '"""@bruin\nname: one\nsecrets: [{key: TOKEN}]\n@bruin"""\nprint("ran")\n')
    loaded = loaded_by_a_run(project.root, "run", "p")
    assert not {m for m in loaded if m.split(".")[0] in SDKS_AND_DRIVERS}
    stores = {m for m in loaded if m.startswith("pybruin.secrets.")}
    assert not stores - {"pybruin.secrets.base", "pybruin.secrets.cache", "pybruin.secrets.chain",
                         "pybruin.secrets.local", "pybruin.secrets.registry", "pybruin.secrets.view"}  # fmt: skip
    assert not {m for m in loaded if m.startswith("pybruin.platforms.")}, "a Python asset needs no SQL platform"
    assert not {"pybruin.run.templating", "pybruin.run.sql_helpers"} & loaded
    # the state file's compatibility hash reads `depends` as written without the parse documents' classes
    assert not {"pybruin.inspection.parsing", "pybruin.documents.parse"} & loaded
