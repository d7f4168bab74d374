"""`bruin connections` without click: listing connections by type, name and filled fields (never values),
testing one, and finding the config file that `add`/`delete` edit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.workspace import Project, ProjectSettings, open_project, open_store

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

_JSON_KINDS = {list: "array", str: "string", bool: "boolean", type(None): "null"}


def list_connections(settings: ProjectSettings, masker: Masker) -> dict[str, dict[str, Any]]:
    """Each environment's listing (only the selected one when `settings.environment` is set).

    With a secrets backend the names still come from `.bruin.yml`, because stores cannot list what they hold:
    each name is looked up in the store, and the type and filled fields shown are the store's.
    """
    project = open_project(settings)
    names = [project.environment.name] if settings.environment else project.config.environment_names
    return {name: _environment_listing(project.with_environment(name), settings, masker) for name in names}


def _environment_listing(project: Project, settings: ProjectSettings, masker: Masker) -> dict[str, Any]:
    named = project.environment.connections
    with open_store(project, settings, masker) as store:
        if store.is_config_file:
            return {"connections": [_described(connection) for connection in named.values()]}
        entries = []
        for name in named:
            found = store.get(name)
            if found is None:
                entries.append({"name": name, "type": None, "filled_fields": [], "source": None})
            else:
                entries.append({**_described(found.connection), "source": found.source})
        return {"secrets_backend": store.store_name, "connections": entries}


def _described(connection: Connection) -> dict[str, Any]:
    return {"name": connection.name, "type": connection.type_key, "filled_fields": connection.filled_fields()}


def test_connection(settings: ProjectSettings, masker: Masker, name: str) -> tuple[Project, bool]:
    """Open connection `name` (from the selected store) and run a trivial query; False when its type
    cannot be tested. Raises BruinError naming the connection, never a credential, when the test fails.
    A connection with per-run credentials is tested with a user issued for the test and revoked after it."""
    from pybruin.platforms.ping import ping

    project = open_project(settings)
    with open_store(project, settings, masker) as store:
        found = store.get(name)
        if found is None:
            raise BruinError(store.missing_message(name))
        masker.protect_connection(found.connection)
        held = store.lease(name)  # per-run credentials: a user made for this test, and dropped after it
        if held is None:
            return project, ping(found.connection)
        try:
            masker.protect_connection(held.connection)
            return project, ping(held.connection)
        finally:
            held.lease.revoke()


def credentials_object(text: str) -> dict[str, object]:
    """The parsed `--credentials`; the error says what is wrong and where, never what was given."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        # Keep only the problem: some decoder messages quote the offending characters after a colon.
        problem = exc.msg.partition(":")[0].removesuffix(" at")
        reason = f"{problem} at line {exc.lineno}, column {exc.colno}"
    else:
        if isinstance(value, dict):
            return value
        reason = f"got a JSON {_JSON_KINDS.get(type(value), 'number')}"
    raise BruinError(f"invalid --credentials: not a JSON object ({reason})")


def protect_credentials(type_key: str, fields: Mapping[str, object], masker: Masker) -> None:
    """Mask the credentials a user passes to `connections add`, so no error can echo them."""
    from pybruin.config.connections import credential_fields

    for _, value in credential_fields(type_key, fields):
        if isinstance(value, str):
            masker.protect(value)


def editable_config(config_file: str | None, environ: Mapping[str, str]) -> Path:
    """The config file that add/delete edit: --config-file, BRUIN_CONFIG_FILE or the project's."""
    from pybruin.config.bruin_yml import CONTENT_VARIABLE, load_config
    from pybruin.config.project import find_project_root

    if environ.get(CONTENT_VARIABLE):
        raise BruinError(
            f"cannot edit connections while {CONTENT_VARIABLE} is set: the configuration comes from that "
            "variable, not from a file; unset it to edit the file"
        )
    root = find_project_root(Path.cwd())
    return load_config(root, Path(config_file) if config_file else None, environ).path
