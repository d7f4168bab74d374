"""`bruin connections`: list, test, add and delete connections — showing field names, never values."""

from __future__ import annotations

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

    JSON (-o json) is upstream's layout — {"default_environment_name", "selected_environment_name",
    "selected_environment", "environments": {<env>: {"connections": {<type>: [<fields>]}, "schema_prefix"}}} —
    with each field as written: ${VAR} placeholders unexpanded, every sensitive literal shown as "****".
    With --secrets-backend, each environment also has "secrets_backend", each connection found "source",
    and "not_found" lists the names no store has.
    """
    app = state()
    settings = app.project_settings(path, environment=environment, config_file=config_file)
    if output_format == "json":
        from pybruin.documents.encoding import encode
        from pybruin.inspection.connection_listing import connections_document

        click.echo(app.masker.mask(encode(connections_document(settings, app.masker))))
        return
    from pybruin.inspection.connection_listing import list_connections

    listing = list_connections(settings, app.masker)
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
@click.argument("positional_name", required=False)
@click.option("-n", "--name", "-c", "--connection", "name", help="The connection to test.")
@click.option("--type", "type_key", hidden=True, help="Accepted and ignored, as upstream does.")
@environment_option
@config_file_option
@output_option
@global_options
def ping_command(
    positional_name: str | None,
    name: str | None,
    type_key: str | None,
    environment: str | None,
    config_file: str | None,
    output_format: str,
) -> None:
    """Open a connection and run a trivial query (DuckDB, PostgreSQL, Redshift, SQLite).

    Other types are reported as not testable yet. With --secrets-backend the connection comes from the backend.
    """
    from pybruin.errors import BruinError
    from pybruin.inspection.connection_listing import test_connection

    name = name or positional_name
    if not name:
        raise BruinError("connection name is required")
    app = state()
    settings = app.project_settings(Path.cwd(), environment=environment, config_file=config_file)
    project, tested = test_connection(settings, app.masker, name)
    if not tested:
        # Plain even with -o json, as upstream: the extension looks for the word "support".
        click.echo(f"Connection '{name}' does not support testing yet.")
    elif output_format == "json":
        from pybruin.documents.encoding import encode
        from pybruin.documents.messages import TestedDocument

        click.echo(encode(TestedDocument()))
    else:
        click.echo(f"Successfully tested connection '{name}' in environment: {project.environment.name}")


@command.command("add")
@click.option("-e", "--env", "--environment", "environment", help="The environment to add it to.")
@click.option("-n", "--name", help="The new connection's name.")
@click.option("--type", "type_key", help="The connection type, e.g. postgres or generic.")
@click.option("--credentials", help='The connection\'s fields as a JSON object, e.g. \'{"value": "..."}\'.')
@config_file_option
@output_option
@click.argument("path", required=False)
@global_options
def add_command(
    environment: str | None,
    name: str | None,
    type_key: str | None,
    credentials: str | None,
    config_file: str | None,
    output_format: str,
    path: str | None,
) -> None:
    """Add a connection to .bruin.yml, keeping the file's comments and layout.

    A field given as "****" (the mask `connections list -o json` shows) keeps the value it had before the
    connection was deleted: editors delete a connection and add it back with the fields they were shown.
    """
    from pybruin.errors import BruinError
    from pybruin.inspection.connection_listing import add_from_credentials, credentials_object, editable_config

    flags = (environment, name, type_key, credentials)
    if not any(flags):
        raise BruinError(
            "No flags provided and not running in a terminal. "
            "Use --environment, --name, --type, and --credentials flags."
        )
    if not all(flags):
        raise BruinError(
            "All of --environment, --name, --type, and --credentials flags must be provided together, "
            "or omit all flags for interactive mode."
        )
    assert environment and name and type_key and credentials
    fields = credentials_object(credentials)
    add_from_credentials(editable_config(config_file, os.environ), environment, name, type_key, fields, state().masker)
    if output_format != "json":  # upstream prints nothing on success with -o json; the extension relies on it
        click.echo(f"Successfully added connection: {name}")


@command.command("delete")
@click.option("-e", "--env", "--environment", "environment", required=True, help="The environment to delete it from.")
@click.option("-n", "--name", required=True, help="The connection to delete.")
@config_file_option
@output_option
@global_options
def delete_command(environment: str, name: str, config_file: str | None, output_format: str) -> None:
    """Delete a connection from .bruin.yml, keeping the rest of the file as it is."""
    from pybruin.config.editing import delete_connection
    from pybruin.inspection.connection_listing import editable_config

    delete_connection(editable_config(config_file, os.environ), environment, name, keep_copy=True)
    if output_format == "json":
        from pybruin.documents.encoding import encode
        from pybruin.documents.environments import ConnectionDeleted

        click.echo(
            encode(ConnectionDeleted(f"Successfully deleted connection: {name} from environment: {environment}"))
        )
    else:
        click.echo(f"Successfully deleted connection: {name}")
