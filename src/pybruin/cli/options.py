"""Options several commands share."""

from __future__ import annotations

from pathlib import Path

import click


def _json_requested(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """`-o json` (upstream: only `json` is special; anything else is plain), remembered for error output."""
    from pybruin.cli.app import AppState

    if value == "json":
        ctx.ensure_object(AppState).json_output = True
    return value


environment_option = click.option(
    "-e", "--environment", "--env", "environment", help="The environment of .bruin.yml (default: its default one)."
)
config_file_option = click.option(
    "--config-file", envvar="BRUIN_CONFIG_FILE", help="Path to .bruin.yml (default: the project root's)."
)
path_argument = click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
output_option = click.option(
    "-o",
    "--output",
    "output_format",
    default="plain",
    callback=_json_requested,
    is_eager=True,
    help="plain or json.",
)
