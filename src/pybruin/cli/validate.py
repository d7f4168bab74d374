"""`bruin validate`: flags in, the validation report (`pybruin.inspection.validation`) printed."""

from __future__ import annotations

from pathlib import Path

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinCommand
from pybruin.cli.options import config_file_option, environment_option, path_argument


@click.command("validate", cls=BruinCommand)
@path_argument
@environment_option
@config_file_option
@global_options
def command(path: Path, environment: str | None, config_file: str | None) -> None:
    """Check pipelines and assets without running anything."""
    from pybruin.inspection.validation import validate_project

    app = state()
    report = validate_project(app.project_settings(path, environment=environment, config_file=config_file), app.masker)
    for issue in report.issues:
        where = f"{issue.asset}" if issue.asset else str(issue.file)
        marker = "✘" if issue.severity == "error" else "!"
        click.echo(f"{marker} {where}: {issue.message}")
    if report.errors:
        click.echo(f"✘ Checked {len(report.pipelines)} pipeline(s) and found {report.errors} issue(s).")
        raise click.exceptions.Exit(1)
    click.echo(f"✓ Successfully validated {report.assets} assets across {len(report.pipelines)} pipeline(s), all good.")
