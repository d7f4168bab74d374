"""``bruin init``: a project from a template (``pybruin.templates``) that ``bruin run`` succeeds on at once.

The ``default`` template shows the three things a new user needs to see working: a SQL asset materialised
into a local DuckDB file, a downstream asset reading it, and a Python asset receiving a secret from
``.bruin.yml`` through ``${VAR}`` — one that copes with the variable being unset and never prints it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from pybruin.config.bruin_yml import CONTENT_VARIABLE, DEFAULT_CONFIG_NAME, ignore_in_git, load_config
from pybruin.config.editing import add_connection
from pybruin.config.project import find_project_root
from pybruin.errors import BruinError
from pybruin.records import Record

PIPELINE = "my-pipeline"
# What git must not pick up: the config, run logs, DuckDB files and virtualenvs.
IGNORED = (DEFAULT_CONFIG_NAME, "logs/", "*.db", ".venv/")

_CONFIG = """\
# Connections and secrets, per environment. This file holds credentials: it is git-ignored.
# A "${NAME}" value is read from the environment variable NAME whenever the connection is used;
# an unset variable reads as "".
default_environment: default
environments:
  default:
    connections: {}
"""


class CreatedProject(Record):
    """What `create_project` wrote: the config (None for a template without one), .gitignore, then the
    pipeline's files; whether the config was there before and whether it gained connections."""

    files: list[Path]
    pipeline: Path
    config: Path | None
    config_existed: bool
    config_merged: bool


def create_project(folder: Path, template: str = "default", pipeline: str = PIPELINE) -> CreatedProject:
    """Create `template`'s pipeline in ``folder/pipeline`` and the config it needs.

    Outside a git work tree the folder becomes one (unless git is missing: the files are still
    written, and ``.bruin.yml`` marks the project root). Inside one, ``.bruin.yml`` and
    ``.gitignore`` belong at the work tree's root, where ``bruin run`` looks for them; an existing
    config there only gains the template's connections it lacks.
    """
    from pybruin.templates import TEMPLATES

    chosen = TEMPLATES[template]
    folder = Path(os.path.abspath(folder))
    target = folder / pipeline
    if os.path.lexists(target):
        raise BruinError(f"folder '{folder}' already contains a Bruin project")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BruinError(f"cannot create folder '{folder}': {exc.strerror}") from None
    root = git_work_tree(folder)
    if root is None:
        _git_init(folder)
        root = folder
    config = root / DEFAULT_CONFIG_NAME
    existed = os.path.lexists(config)
    written: list[Path] = []
    merged = False
    if chosen.connections:
        merged = _write_config(config, chosen.connections)
        written.append(config)
    written.append(ignore_in_git(root, IGNORED))
    written += [_create(target / relative, chosen.text(template, relative)) for relative in chosen.files]
    return CreatedProject(written, target, config if chosen.connections or existed else None, existed, merged)


def git_work_tree(folder: Path) -> Path | None:
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


def _write_config(path: Path, connections: Iterable[tuple[str, str, Mapping[str, object]]]) -> bool:
    """Create the config with the template's connections, or add the ones an existing config lacks;
    whether an existing config gained any."""
    existed = os.path.lexists(path)
    if not existed:
        _create(path, _CONFIG, mode=0o600)
    # The file is what gets edited, so it is also what must be read, whatever the variable says.
    environ = {key: value for key, value in os.environ.items() if key != CONTENT_VARIABLE}
    config = load_config(path.parent, path, environ)
    existing = config.environment(None).connections
    added = False
    for name, type_key, fields in connections:
        if name not in existing:
            add_connection(path, config.default_environment, name, type_key, dict(fields))
            added = True
    return existed and added


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
