"""`bruin environments list|create|update|delete|clone`: the environments of .bruin.yml, edited in place.

Edits are splices (`pybruin.config.editing`): comments and layout of the file stay as they are. JSON
answers (`-o json`) are upstream's documents (`pybruin.documents.environments`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinGroup
from pybruin.cli.options import config_file_option, output_option


def _config(config_file: str | None) -> Path:
    from pybruin.inspection.connection_listing import editable_config

    return editable_config(config_file, os.environ)


def _json(output_format: str) -> bool:
    return output_format.lower() == "json"  # environments lower-case the value, as upstream does


def _answer(output_format: str, document: object, plain: str, *, indent: bool = False) -> None:
    if _json(output_format):
        from pybruin.documents.encoding import encode

        click.echo(encode(document, indent=indent))
    else:
        click.echo(plain)


@click.group("environments", cls=BruinGroup)
@global_options
def command() -> None:
    """List, create, rename, delete and clone the environments of .bruin.yml."""


@command.command("list")
@output_option
@config_file_option
@global_options
def list_command(output_format: str, config_file: str | None) -> None:
    """The default environment and every environment, in file order."""
    from pybruin.config.editing import environment_names
    from pybruin.documents.environments import EnvironmentName, EnvironmentsDocument

    _mark_json(output_format)
    default, names = environment_names(_config(config_file))
    plain = "\n".join(["", f"Selected environment: {default}", "Available environments:", *(f"- {n}" for n in names)])
    _answer(output_format, EnvironmentsDocument(default, [EnvironmentName(n) for n in names]), plain)


@command.command("create")
@click.option("-n", "--name", required=True, help="The new environment.")
@click.option("-s", "--schema-prefix", default="", help="Its schema prefix.")
@output_option
@config_file_option
@global_options
def create_command(name: str, schema_prefix: str, output_format: str, config_file: str | None) -> None:
    """Add an environment without connections."""
    from pybruin.config.editing import create_environment
    from pybruin.documents.messages import StatusDocument

    _mark_json(output_format)
    create_environment(_config(config_file), name, schema_prefix)
    message = f"Successfully created environment: {name}"
    _answer(output_format, StatusDocument("success", message), message)


@command.command("update")
@click.option("-n", "--name", required=True, help="The environment to change.")
@click.option("--new-name", default="", help="Rename it (the default environment follows).")
@click.option("-s", "--schema-prefix", default="", help="Set its schema prefix (empty: keep it).")
@output_option
@config_file_option
@global_options
def update_command(name: str, new_name: str, schema_prefix: str, output_format: str, config_file: str | None) -> None:
    """Rename an environment and/or set its schema prefix."""
    from pybruin.config.editing import update_environment
    from pybruin.documents.environments import EnvironmentUpdated

    _mark_json(output_format)
    update_environment(_config(config_file), name, new_name, schema_prefix)
    renamed = new_name or name
    plain = f"Successfully updated environment '{name}'" + (f" to '{renamed}'" if renamed != name else "")
    document = EnvironmentUpdated("Environment updated successfully", renamed, name, schema_prefix)
    _answer(output_format, document, plain, indent=True)


@command.command("delete")
@click.option("-n", "--name", required=True, help="The environment to delete.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@output_option
@config_file_option
@global_options
def delete_command(name: str, force: bool, output_format: str, config_file: str | None) -> None:
    """Delete an environment and its connections (asks first unless --force)."""
    from pybruin.config.editing import delete_environment
    from pybruin.documents.environments import EnvironmentDeleted

    _mark_json(output_format)
    config = _config(config_file)
    if not force:
        click.echo(f"Are you sure you want to delete environment '{name}'? (y/N): ", nl=False)
        answer = sys.stdin.readline().strip()
        if answer not in ("y", "Y", "yes", "YES"):
            document = EnvironmentDeleted("Environment deletion cancelled", name)
            _answer(output_format, document, "Environment deletion cancelled.", indent=True)
            return
    delete_environment(config, name)
    document = EnvironmentDeleted("Environment deleted successfully", name)
    _answer(output_format, document, f"Successfully deleted environment '{name}'", indent=True)


@command.command("clone")
@click.option("-t", "--target", required=True, help="The new environment.")
@click.option("-s", "--source", default="", help="The environment to copy (default: the default one).")
@click.option("-p", "--schema-prefix", default="", help="The new environment's schema prefix.")
@output_option
@config_file_option
@global_options
def clone_command(target: str, source: str, schema_prefix: str, output_format: str, config_file: str | None) -> None:
    """Copy an environment, connections and all, under a new name."""
    from pybruin.config.editing import clone_environment, environment_names
    from pybruin.documents.environments import EnvironmentCloned
    from pybruin.errors import BruinError

    _mark_json(output_format)
    config = _config(config_file)
    default, names = environment_names(config)
    source = source or default
    if source not in names:
        raise BruinError(f"source environment '{source}' does not exist")
    clone_environment(config, source, target, schema_prefix)
    plain = f"Successfully cloned environment '{source}' to '{target}'" + (
        f" with schema prefix '{schema_prefix}'" if schema_prefix else ""
    )
    document = EnvironmentCloned("Environment cloned successfully", schema_prefix, source, target)
    _answer(output_format, document, plain, indent=True)


def _mark_json(output_format: str) -> None:
    """Errors as `{"error": ...}` for `-o JSON` too (environments lower-case the value)."""
    if _json(output_format):
        state().json_output = True
