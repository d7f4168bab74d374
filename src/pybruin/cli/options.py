"""Options several commands share."""

from __future__ import annotations

from pathlib import Path

import click

environment_option = click.option(
    "-e", "--environment", "--env", "environment", help="The environment of .bruin.yml (default: its default one)."
)
config_file_option = click.option(
    "--config-file", envvar="BRUIN_CONFIG_FILE", help="Path to .bruin.yml (default: the project root's)."
)
path_argument = click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
output_option = click.option("-o", "--output", "output_format", type=click.Choice(["plain", "json"]), default="plain")
