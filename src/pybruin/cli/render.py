"""`bruin render <asset>`: the SQL the run executes for an asset, as text or `{"query": ...}` (masked)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinCommand
from pybruin.cli.options import config_file_option, output_option


@click.command("render", cls=BruinCommand)
@click.argument("asset", required=False)
@click.option("-r", "--full-refresh", is_flag=True, envvar="BRUIN_FULL_REFRESH", help="Render as for a full refresh.")
@click.option("--start-date", envvar="BRUIN_START_DATE", help="Start of the interval (default: yesterday).")
@click.option("--end-date", envvar="BRUIN_END_DATE", help="End of the interval (default: end of yesterday).")
@output_option
@config_file_option
@click.option("--apply-interval-modifiers", is_flag=True, help="Shift the interval by the asset's interval_modifiers.")
@click.option("--var", "variables", multiple=True, help="Override a pipeline variable: name=<json value>.")
@click.option("--variant", help="The pipeline variant to render (variants are not supported yet).")
@click.option("--raw-query", is_flag=True, help="The rendered query alone, without materialization or hooks.")
@global_options
def command(
    asset: str | None,
    full_refresh: bool,
    start_date: str | None,
    end_date: str | None,
    output_format: str,
    config_file: str | None,
    apply_interval_modifiers: bool,
    variables: tuple[str, ...],
    variant: str | None,
    raw_query: bool,
) -> None:
    """Print an asset's SQL rendered with the run's context, materialized and wrapped in its hooks."""
    from pybruin.errors import BruinError

    path = asset_path(asset, "render")
    if variant:
        raise BruinError("variants in pipeline.yml are not supported by pybruin yet (--variant)")
    print_rendered(path, config_file, output_format, start_date=start_date, end_date=end_date,
                   full_refresh=full_refresh, apply_interval_modifiers=apply_interval_modifiers, variables=variables,
                   raw=raw_query)  # fmt: skip


def asset_path(asset: str | None, command_name: str) -> Path:
    """The asset file given to `render` or `render-ddl`, which must exist (upstream's texts)."""
    from pybruin.errors import BruinError

    if not asset:
        raise BruinError(f"Please give an asset path to render: bruin {command_name} <path to the asset file>)")
    path = Path(asset)
    if not path.exists():
        raise BruinError(f"The specified asset path does not exist: {asset}")
    return path


def print_rendered(path: Path, config_file: str | None, output_format: str, **options: Any) -> None:
    """The asset's SQL (`pybruin.run.rendering.render_asset` with `options`) as text, or `{"query": ...}`
    without a trailing newline (as upstream writes it); masked."""
    from pybruin.run.rendering import render_asset

    app = state()
    settings = app.project_settings(path, environment=None, config_file=config_file)
    query = render_asset(settings, path, masker=app.masker, **options)
    masker = app.masker
    if output_format == "json":
        from pybruin.documents.encoding import encode
        from pybruin.documents.render import RenderDocument

        sys.stdout.write(masker.mask(encode(RenderDocument(query))))
    else:
        sys.stdout.write(masker.mask(query) + "\n")
    sys.stdout.flush()
