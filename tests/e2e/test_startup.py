"""`bruin --help` and `bruin --version` stay light: no cloud SDK, database driver or template engine."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("boto3", "botocore", "azure", "hvac", "httpx", "duckdb", "psycopg", "jinja2", "rich")


def imported_modules(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pybruin", *args], capture_output=True, text=True, check=True
    )
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_help_imports_no_heavy_library():
    loaded = imported_modules("--help")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_version_imports_nothing_but_the_package():
    loaded = imported_modules("--version")
    assert not {m for m in loaded if m.split(".")[0] in (*HEAVY, "click", "pydantic", "yaml")}
