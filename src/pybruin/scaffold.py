"""``bruin init``: a small project that ``bruin run`` succeeds on straight away.

It shows the three things a new user needs to see working: a SQL asset materialised into a local
DuckDB file, a downstream asset reading it, and a Python asset receiving a secret from
``.bruin.yml`` through ``${VAR}`` — one that copes with the variable being unset and never prints it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pybruin.config.bruin_yml import CONTENT_VARIABLE, DEFAULT_CONFIG_NAME, ignore_in_git, load_config
from pybruin.config.editing import add_connection
from pybruin.config.project import find_project_root
from pybruin.errors import BruinError

PIPELINE = "my-pipeline"
# What git must not pick up: the config, run logs, DuckDB files and virtualenvs.
IGNORED = (DEFAULT_CONFIG_NAME, "logs/", "*.db", ".venv/")

# (name, type key, fields) of what the example pipeline uses.
_CONNECTIONS = (
    ("duckdb-default", "duckdb", {"path": "duckdb.db"}),
    ("GREETING_API_KEY", "generic", {"value": "${GREETING_API_KEY}"}),
)

_CONFIG = """\
# Connections and secrets, per environment. This file holds credentials: it is git-ignored.
# A "${NAME}" value is read from the environment variable NAME whenever the connection is used;
# an unset variable reads as "".
default_environment: default
environments:
  default:
    connections: {}
"""

_FILES = {
    f"{PIPELINE}/pipeline.yml": """\
name: my-pipeline
default_connections:
  duckdb: duckdb-default
""",
    f"{PIPELINE}/assets/example.sql": """\
/* @bruin
name: example.numbers
type: duckdb.sql
description: A few rows to start from, materialised as a table in duckdb.db.
materialization:
  type: table
@bruin */

SELECT 1 AS id, 'one' AS label
UNION ALL
SELECT 2 AS id, 'two' AS label
UNION ALL
SELECT 3 AS id, 'three' AS label
""",
    f"{PIPELINE}/assets/numbers_summary.sql": """\
/* @bruin
name: example.numbers_summary
type: duckdb.sql
description: Runs after example.numbers, because it depends on it.
materialization:
  type: table
depends:
  - example.numbers
@bruin */

SELECT COUNT(*) AS row_count, SUM(id) AS id_total
FROM example.numbers
""",
    f"{PIPELINE}/assets/hello.py": '''\
""" @bruin
name: hello
type: python
description: Receives the GREETING_API_KEY connection as an environment variable of that name.
secrets:
  - key: GREETING_API_KEY
@bruin """

import os

# A secret is for using, never for printing: say whether it is there, not what it is.
api_key = os.environ.get("GREETING_API_KEY", "")
if api_key:
    print("Hello from Bruin! GREETING_API_KEY is set.")
else:
    print("Hello from Bruin! GREETING_API_KEY is empty: export it before `bruin run` to use it.")
''',
}


def create_project(folder: Path) -> list[Path]:
    """Create the example project in ``folder``; return its config, .gitignore and pipeline files.

    Outside a git work tree the folder becomes one (unless git is missing: the files are still
    written, and ``.bruin.yml`` marks the project root). Inside one, ``.bruin.yml`` and
    ``.gitignore`` belong at the work tree's root, where ``bruin run`` looks for them; an existing
    config there only gains the example's connections it lacks.
    """
    folder = Path(os.path.abspath(folder))
    if any(os.path.lexists(folder / name) for name in (DEFAULT_CONFIG_NAME, PIPELINE)):
        raise BruinError(f"folder '{folder}' already contains a Bruin project")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BruinError(f"cannot create folder '{folder}': {exc.strerror}") from None
    root = _git_work_tree(folder)
    if root is None:
        _git_init(folder)
        root = folder
    written = [_write_config(root / DEFAULT_CONFIG_NAME), ignore_in_git(root, IGNORED)]
    written += [_create(folder / relative, text) for relative, text in _FILES.items()]
    return written


def _git_work_tree(folder: Path) -> Path | None:
    try:
        root = find_project_root(folder)
    except BruinError:
        return None
    return root if os.path.lexists(root / ".git") else None


def _git_init(folder: Path) -> None:
    git = shutil.which("git")
    if git is None:
        return
    done = subprocess.run([git, "init", "--quiet", str(folder)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise BruinError(f"git init failed in '{folder}': {reason}")


def _write_config(path: Path) -> Path:
    """Create the config with the example's connections, or add the ones an existing config lacks."""
    if not os.path.lexists(path):
        _create(path, _CONFIG, mode=0o600)
    # The file is what gets edited, so it is also what must be read, whatever the variable says.
    environ = {key: value for key, value in os.environ.items() if key != CONTENT_VARIABLE}
    config = load_config(path.parent, path, environ)
    existing = config.environment(None).connections
    for name, type_key, fields in _CONNECTIONS:
        if name not in existing:
            add_connection(path, config.default_environment, name, type_key, fields)
    return path


def _create(path: Path, text: str, *, mode: int = 0o644) -> Path:
    """Write a new file; never overwrite one (a folder may gain files between the check and now)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise BruinError(f"folder '{path.parent}' already contains '{path.name}'") from None
    except OSError as exc:
        raise BruinError(f"cannot create '{path}': {exc.strerror}") from None
    return path
