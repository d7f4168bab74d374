"""`bruin connections`: list, test, add and delete connections — showing field names, never values."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinGroup
from pybruin.cli.options import config_file_option, environment_option, output_option, path_argument
from pybruin.tables import plain_table


@click.group("connections", cls=BruinGroup)
@global_options
def command() -> None:
    """List, test, add and delete the connections of .bruin.yml."""


@command.command("list")
@path_argument
@environment_option
@config_file_option
@output_option
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
    from pybruin.inspection.connection_listing import list_connections

    app = state()
    listing = list_connections(app.project_settings(path, environment=environment, config_file=config_file), app.masker)
    if output_format == "json":
        click.echo(json.dumps(listing, indent=2))
        return
    click.echo("\n\n".join(_environment_table(name, entry) for name, entry in listing.items()))


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
    from pybruin.inspection.connection_listing import test_connection

    app = state()
    settings = app.project_settings(Path.cwd(), environment=environment, config_file=config_file)
    project, tested = test_connection(settings, app.masker, name)
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
    from pybruin.config.editing import add_connection
    from pybruin.inspection.connection_listing import credentials_object, editable_config, protect_credentials

    fields = credentials_object(credentials)
    protect_credentials(type_key, fields, state().masker)
    add_connection(editable_config(config_file, os.environ), environment, name, type_key, fields)
    click.echo(f"Successfully added connection: {name}")


@command.command("delete")
@click.option("-e", "--env", "--environment", "environment", required=True, help="The environment to delete it from.")
@click.option("--name", required=True, help="The connection to delete.")
@config_file_option
@global_options
def delete_command(environment: str, name: str, config_file: str | None) -> None:
    """Delete a connection from .bruin.yml, keeping the rest of the file as it is."""
    from pybruin.config.editing import delete_connection
    from pybruin.inspection.connection_listing import editable_config

    delete_connection(editable_config(config_file, os.environ), environment, name)
    click.echo(f"Successfully deleted connection: {name}")
