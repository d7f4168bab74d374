"""`bruin render-ddl <asset>`: the asset's table as DDL (its strategy forced to `ddl`), as text or JSON (masked)."""

from __future__ import annotations

import click

from pybruin.cli.app import global_options
from pybruin.cli.flags import BruinCommand
from pybruin.cli.options import config_file_option, output_option
from pybruin.cli.render import asset_path, print_rendered


@click.command("render-ddl", cls=BruinCommand)
@click.argument("asset", required=False)
@click.option("--start-date", envvar="BRUIN_START_DATE", help="Start of the interval (default: yesterday).")
@click.option("--end-date", envvar="BRUIN_END_DATE", help="End of the interval (default: end of yesterday).")
@output_option
@config_file_option
@click.option("--apply-interval-modifiers", is_flag=True, help="Shift the interval by the asset's interval_modifiers.")
@global_options
def command(
    asset: str | None,
    start_date: str | None,
    end_date: str | None,
    output_format: str,
    config_file: str | None,
    apply_interval_modifiers: bool,
) -> None:
    """Print the CREATE TABLE statement of an asset's declared columns."""
    print_rendered(asset_path(asset, "render-ddl"), config_file, output_format, start_date=start_date,
                   end_date=end_date, apply_interval_modifiers=apply_interval_modifiers, ddl=True)  # fmt: skip
