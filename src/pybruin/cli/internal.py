"""`bruin internal`: the hidden commands the VS Code extension and other tools call.

Each prints one JSON document in upstream's shape (`pybruin.documents`); failures are `{"error": ...}` on
stdout with nothing on stderr, which is where the extension looks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinGroup
from pybruin.cli.options import output_option


@click.group("internal", cls=BruinGroup, hidden=True)
@global_options
def command() -> None:
    """Commands for tools: parse pipelines and assets, list templates."""


def _print(document: object) -> None:
    from pybruin.documents.encoding import encode

    sys.stdout.write(state().masker.mask(encode(document)) + "\n")
    sys.stdout.flush()


def _path_given(path: str) -> Path:
    if not path:
        click.echo("Please give an asset path to parse: bruin render <path to the asset file>)")
        raise click.exceptions.Exit(1)
    state().json_output = True
    return Path(path)


@command.command("parse-pipeline")
@click.argument("path", default="")
@click.option("-c", "--column-lineage", is_flag=True, help="Add the columns each SQL query reads and writes.")
@click.option("--exp-slim-response", is_flag=True, help="Only each asset's identity, files and upstreams.")
@click.option("--variant", help="The pipeline variant to parse.")
@global_options
def parse_pipeline_command(path: str, column_lineage: bool, exp_slim_response: bool, variant: str | None) -> None:
    """The pipeline PATH is in (its folder, pipeline.yml, an asset or a sub-folder), as JSON."""
    from pybruin.inspection.parsing import parse_pipeline

    target = _path_given(path)
    _refuse_variant(variant)
    _print(parse_pipeline(target, slim=exp_slim_response, column_lineage=column_lineage))


@command.command("parse-asset")
@click.argument("path", default="")
@click.option("-c", "--column-lineage", is_flag=True, help="Add the columns the SQL query reads and writes.")
@click.option("--variant", help="The pipeline variant to parse.")
@global_options
def parse_asset_command(path: str, column_lineage: bool, variant: str | None) -> None:
    """The asset file PATH with its pipeline's defaults, as JSON; `asset` is null for other files."""
    from pybruin.inspection.parsing import parse_asset

    target = _path_given(path)
    _refuse_variant(variant)
    _print(parse_asset(target, column_lineage=column_lineage))


def _refuse_variant(variant: str | None) -> None:
    from pybruin.errors import BruinError

    if variant:
        raise BruinError("variants in pipeline.yml are not supported by pybruin yet (--variant)")


@command.command("list-templates")
@output_option
@global_options
def list_templates_command(output_format: str) -> None:
    """The templates `bruin init` can create."""
    from pybruin.documents.templates import TemplatesDocument
    from pybruin.errors import BruinError
    from pybruin.tables import light_table
    from pybruin.templates import TEMPLATES

    names = sorted(TEMPLATES)
    if output_format == "json":
        _print(TemplatesDocument(names, len(names)))
    elif output_format == "plain":
        click.echo(f"Found {len(names)} template(s):\n{'=' * 30}")
        click.echo(light_table(["TEMPLATE"], [[name] for name in names]))
    else:
        raise BruinError(f"Error: invalid output type: {output_format}")


@command.command("asset-metadata")
@click.argument("path", default="")
@click.option("--start-date", help="Start of the interval.")
@click.option("--end-date", help="End of the interval.")
@click.option("--env", "--environment", "environment", help="The environment of .bruin.yml.")
@global_options
def asset_metadata_command(path: str, start_date: str | None, end_date: str | None, environment: str | None) -> None:
    """BigQuery's dry-run metadata of an asset: upstream answers only for BigQuery assets, with the Go
    client's `QueryStatistics` under its Go field names; pybruin does not write that document yet, so every
    asset gets upstream's answer for the others (the extension calls this on every asset it opens)."""
    from pybruin.errors import BruinError

    state().json_output = True
    raise BruinError("asset-metadata is only available for BigQuery SQL assets and BigQuery query sensors")


@command.command("connections")
@global_options
def connections_command() -> None:
    """The JSON schema of .bruin.yml's connections, by type (for editors and the VS Code extension)."""
    import json

    from pybruin.inspection.connection_schema import connections_schema

    state().json_output = True
    click.echo(json.dumps(connections_schema(), separators=(",", ":"), ensure_ascii=False))
