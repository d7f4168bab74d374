"""`bruin connections`: list, test, add and delete connections — showing field names, never values."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.project import Project, config_file_option, environment_option, open_connections, open_project
from pybruin.errors import BruinError
from pybruin.tables import plain_table

if TYPE_CHECKING:
    from pybruin.config.connections import Connection

_JSON_KINDS = {list: "array", str: "string", bool: "boolean", type(None): "null"}


@click.group("connections")
@global_options
def command() -> None:
    """List, test, add and delete the connections of .bruin.yml."""


@command.command("list")
@click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
@environment_option
@config_file_option
@click.option("-o", "--output", "output_format", type=click.Choice(["plain", "json"]), default="plain")
@global_options
def list_command(path: Path, environment: str | None, config_file: str | None, output_format: str) -> None:
    """Show each environment's connections: type, name and which fields are filled — never their values.

    A field counts as filled when it has a value once ${VAR} references are expanded from the current
    environment variables. With -e, only that environment is shown.

    With --secrets-backend the names still come from .bruin.yml, because backends cannot list what
    they hold: each name is looked up in the backend, the type and filled fields shown are the
    backend's, a Source column says which store answered, and a name no store has is "not found".

    JSON: {"<environment>": {"connections": [{"name": .., "type": .., "filled_fields": [..]}, ..]}}.
    With --secrets-backend each environment also has "secrets_backend": "<backend>", and each
    connection "source": "<store that answered>", or null (with "type": null) when none has it.
    """
    app = state()
    project = open_project(path, config_file=config_file, environment=environment)
    names = [project.environment.name] if environment else project.config.environment_names
    listing = {
        name: _environment_listing(replace(project, environment=project.config.environment(name)), app.secrets_backend)
        for name in names
    }
    if output_format == "json":
        click.echo(json.dumps(listing, indent=2))
        return
    click.echo("\n\n".join(_environment_table(name, entry) for name, entry in listing.items()))


def _environment_listing(project: Project, backend_spec: str | None) -> dict[str, Any]:
    named = project.environment.connections
    connections = open_connections(project, backend_spec)
    try:
        if connections.is_config_file:
            return {"connections": [_described(connection) for connection in named.values()]}
        entries = []
        for name in named:
            found = connections.get(name)
            if found is None:
                entries.append({"name": name, "type": None, "filled_fields": [], "source": None})
            else:
                entries.append({**_described(found.connection), "source": found.source})
        return {"secrets_backend": connections.store_name, "connections": entries}
    finally:
        connections.close()


def _described(connection: Connection) -> dict[str, Any]:
    return {"name": connection.name, "type": connection.type_key, "filled_fields": connection.filled_fields()}


def _environment_table(name: str, listing: Mapping[str, Any]) -> str:
    backend = listing.get("secrets_backend")
    title = f"Environment: {name}" + (f" (looked up in secrets backend '{backend}')" if backend else "")
    entries = listing["connections"]
    if not entries:
        return f"{title}\n(no connections)"
    header = ("Type", "Name", "Filled Fields", "Source")
    rows = []
    for entry in entries:
        row = (entry["type"] or "-", entry["name"], ", ".join(entry["filled_fields"]) or "-")
        rows.append((*row, entry["source"] or "not found") if backend else row)
    return f"{title}\n{plain_table(header if backend else header[:3], rows)}"


@command.command("test")
@click.option("--name", required=True, help="The connection to test.")
@environment_option
@config_file_option
@global_options
def ping_command(name: str, environment: str | None, config_file: str | None) -> None:
    """Open a connection and run a trivial query (DuckDB, PostgreSQL, Redshift, SQLite).

    Other types are reported as not testable yet. With --secrets-backend the connection comes from the backend.
    """
    from pybruin.run.ping import ping

    app = state()
    project = open_project(Path.cwd(), config_file=config_file, environment=environment)
    connections = open_connections(project, app.secrets_backend)
    try:
        found = connections.get(name)
        if found is None:
            raise BruinError(connections.missing_message(name))
        app.masker.add_connection(found.connection)
        tested = ping(found.connection)
    finally:
        connections.close()
    if tested:
        click.echo(f"Successfully tested connection '{name}' in environment: {project.environment.name}")
    else:
        click.echo(f"Connection '{name}' does not support testing yet.")


@command.command("add")
@click.option("-e", "--env", "--environment", "environment", required=True, help="The environment to add it to.")
@click.option("--name", required=True, help="The new connection's name.")
@click.option("--type", "type_key", required=True, help="The connection type, e.g. postgres or generic.")
@click.option(
    "--credentials", required=True, help='The connection\'s fields as a JSON object, e.g. \'{"value": "..."}\'.'
)
@config_file_option
@global_options
def add_command(environment: str, name: str, type_key: str, credentials: str, config_file: str | None) -> None:
    """Add a connection to .bruin.yml, keeping the file's comments and layout."""
    from pybruin.config.connections import credential_fields
    from pybruin.config.editing import add_connection

    fields = _credentials_object(credentials)
    for _, value in credential_fields(type_key, fields):
        if isinstance(value, str):
            state().masker.add(value)
    add_connection(_editable_config(config_file), environment, name, type_key, fields)
    click.echo(f"Successfully added connection: {name}")


@command.command("delete")
@click.option("-e", "--env", "--environment", "environment", required=True, help="The environment to delete it from.")
@click.option("--name", required=True, help="The connection to delete.")
@config_file_option
@global_options
def delete_command(environment: str, name: str, config_file: str | None) -> None:
    """Delete a connection from .bruin.yml, keeping the rest of the file as it is."""
    from pybruin.config.editing import delete_connection

    delete_connection(_editable_config(config_file), environment, name)
    click.echo(f"Successfully deleted connection: {name}")


def _credentials_object(text: str) -> dict[str, object]:
    """The parsed --credentials; the error says what is wrong and where, never what was given."""
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


def _editable_config(config_file: str | None) -> Path:
    """The config file that add/delete edit: --config-file, BRUIN_CONFIG_FILE or the project's."""
    from pybruin.config.bruin_yml import CONTENT_VARIABLE, load_config
    from pybruin.config.project import find_project_root

    if os.environ.get(CONTENT_VARIABLE):
        raise BruinError(
            f"cannot edit connections while {CONTENT_VARIABLE} is set: the configuration comes from that "
            "variable, not from a file; unset it to edit the file"
        )
    root = find_project_root(Path.cwd())
    return load_config(root, Path(config_file) if config_file else None, os.environ).path
