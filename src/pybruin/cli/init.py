"""`bruin init`: create the example project, then say what was written and what to run next."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from pybruin.cli.app import global_options
from pybruin.scaffold import PIPELINE, create_project


@click.command("init")
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@global_options
def command(folder: Path) -> None:
    """Create a project in FOLDER (default: here) whose example pipeline `bruin run` succeeds on at once."""
    written = create_project(folder)
    click.echo(f"Created a Bruin project in {os.path.abspath(folder)}; files written:")
    for path in written:
        click.echo(f"  {os.path.relpath(path)}")
    click.echo("\nRun the example pipeline with:")
    click.echo(f"  bruin run {shlex.quote(os.path.relpath(folder / PIPELINE))}")
