"""`bruin connections` without click: listing connections by type, name and filled fields (plain), or in
upstream's JSON layout with every sensitive literal masked; testing one; adding one from a tool's
credentials (a `****` there keeps the value the connection had); finding the config file add/delete edit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pybruin.errors import BruinError
from pybruin.masking import Masker
from pybruin.workspace import Project, ProjectSettings, open_project, open_store, protect_environment

if TYPE_CHECKING:
    from pybruin.config.connections import Connection
    from pybruin.documents.connections import ConnectionsDocument

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


def connections_document(settings: ProjectSettings, masker: Masker) -> ConnectionsDocument:
    """Upstream's `connections list -o json` layout: fields as written, `****` for sensitive literals.

    With `settings.environment` only that environment is listed (and selected). With a secrets backend,
    each name is looked up there and shown as the store holds it (masked the same way).
    """
    from pybruin.documents.connections import ConnectionsDocument

    project = open_project(settings)
    names = [project.environment.name] if settings.environment else project.config.environment_names
    listed = {name: _environment_document(project, name, settings, masker) for name in names}
    selected = project.environment.name
    return ConnectionsDocument(project.config.default_environment, selected, listed[selected], listed)


def _environment_document(project: Project, name: str, settings: ProjectSettings, masker: Masker) -> Any:
    from pybruin.config.connections.catalogue import TYPE_KEYS
    from pybruin.config.shown import shown_fields, written_fields
    from pybruin.documents.connections import EnvironmentConnections

    written = project.config.written(name)
    raw_types = written.get("connections")
    raw_types = raw_types if isinstance(raw_types, Mapping) else {}
    prefix = written.get("schema_prefix")
    settings_block = written.get("config")
    extra: dict[str, Any] = {
        "schema_prefix": str(prefix) if prefix is not None else "",
        "config": dict(settings_block) if isinstance(settings_block, Mapping) else {},
    }
    by_type: dict[str, list[dict[str, Any]]] = {}
    environment = project.with_environment(name)
    protect_environment(environment, masker)  # a second guard: no value of this environment is printed
    with open_store(environment, settings, masker) as store:
        if store.is_config_file:
            for type_key, entries in raw_types.items():
                for entry in entries if isinstance(entries, list) else []:
                    if isinstance(entry, Mapping):
                        by_type.setdefault(str(type_key), []).append(shown_fields(str(type_key), entry))
        else:
            missing = []
            for connection_name in environment.environment.connections:
                found = store.get(connection_name)
                if found is None:
                    missing.append(connection_name)
                    continue
                connection = found.connection
                masker.protect_connection(connection)
                fields = shown_fields(connection.type_key, written_fields(connection))
                by_type.setdefault(connection.type_key, []).append({**fields, "source": found.source})
            extra |= {"secrets_backend": store.store_name, "not_found": missing}
    order = {type_key: index for index, type_key in enumerate(TYPE_KEYS)}
    ordered = dict(sorted(by_type.items(), key=lambda item: order.get(item[0], len(order))))
    return EnvironmentConnections(ordered, **extra)


def add_from_credentials(
    config_path: Path, environment: str, name: str, type_key: str, fields: Mapping[str, object], masker: Masker
) -> None:
    """Add a connection from the fields a tool sends (the VS Code extension sends every form field).

    Empty fields are left out; a `name` equal to the connection's is dropped; a `****` (the mask the
    listing shows) is the value the connection had before `connections delete` removed it.
    """
    from pybruin.config.editing import add_connection, forget_copy, kept_copy
    from pybruin.config.shown import MASK, restore_masked

    given = {key: value for key, value in fields.items() if value not in ("", None)}
    if given.get("name") == name:
        del given["name"]
    restored = False
    if MASK in json.dumps(given):
        kept = kept_copy(config_path)
        earlier = kept.get("fields") if kept and kept.get("type") == type_key else None
        given, missing = restore_masked(given, earlier if isinstance(earlier, Mapping) else None)
        if missing:
            raise BruinError(
                f"connection '{name}': field '{missing[0]}' is '{MASK}', the mask `connections list` shows, but no "
                "earlier value of it is kept to restore: give the value itself"
            )
        restored = True
    protect_credentials(type_key, given, masker)
    add_connection(config_path, environment, name, type_key, given)
    if restored:
        forget_copy(config_path)


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
