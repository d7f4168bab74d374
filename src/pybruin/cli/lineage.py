"""`bruin lineage <asset>`: the asset's upstream and downstream assets, as upstream prints them or as JSON."""

from __future__ import annotations

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinCommand
from pybruin.cli.options import output_option


@click.command("lineage", cls=BruinCommand)
@click.argument("asset", required=False)
@click.option("--full", is_flag=True, help="Every upstream and downstream asset, not only the direct ones.")
@output_option
@click.option("--variant", help="The pipeline variant (variants are not supported yet).")
@global_options
def command(asset: str | None, full: bool, output_format: str, variant: str | None) -> None:
    """Show which assets an asset depends on and which depend on it."""
    from pathlib import Path

    from pybruin.errors import BruinError
    from pybruin.inspection.asset_lineage import asset_lineage

    if not asset:
        raise BruinError("Please give an asset path to get lineage of: bruin lineage <path to the asset definition>)")
    if variant:
        raise BruinError("variants in pipeline.yml are not supported by pybruin yet (--variant)")
    lineage = asset_lineage(Path(asset), full=full)
    if output_format == "json":
        from pybruin.documents.encoding import encode

        click.echo(state().masker.mask(encode(lineage.document())))
    else:
        click.echo(state().masker.mask(lineage.render()), nl=False)
