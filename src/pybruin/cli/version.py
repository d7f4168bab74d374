"""`bruin version`: pybruin's version, for people and for the VS Code extension's "CLI outdated" check.

`latest` is pybruin's own version: asking GitHub for upstream Bruin's latest release would tell the
extension to replace pybruin with upstream's binary.
"""

from __future__ import annotations

import click

from pybruin.cli.app import global_options
from pybruin.cli.flags import BruinCommand
from pybruin.cli.options import output_option


@click.command("version", cls=BruinCommand)
@output_option
@click.option("--timeout", default="5s", help="Accepted for compatibility; pybruin makes no network request.")
@click.argument("ignored", nargs=-1)
@global_options
def command(output_format: str, timeout: str, ignored: tuple[str, ...]) -> None:
    """Show the version."""
    from pybruin import __version__
    from pybruin.documents.encoding import encode
    from pybruin.documents.version import VersionDocument

    document = VersionDocument(__version__, "", __version__)
    if output_format == "json":
        click.echo(encode(document))
    else:
        click.echo(f"Current: {document.version} ({document.commit or 'unknown commit'})\nLatest: {document.latest}")
