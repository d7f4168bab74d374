"""`bruin validate`: flags in, the validation report (`pybruin.inspection.validation`) printed as upstream does."""

from __future__ import annotations

import click

from pybruin.cli.app import global_options, state
from pybruin.cli.flags import BruinCommand
from pybruin.cli.options import config_file_option, environment_option, output_option


@click.command("validate", cls=BruinCommand)
@click.argument("path", default=".")
@environment_option
@config_file_option
@output_option
@click.option("-f", "--force", is_flag=True, help="Accepted for compatibility: pybruin never prompts.")
@click.option("--exclude-warnings", is_flag=True, help="Report critical issues only.")
@click.option("--exclude-tag", "exclude_tags", multiple=True, help="Leave out assets carrying this tag.")
@click.option("--exclude-paths", multiple=True, help="Leave out pipelines under this path (repeatable).")
@click.option("--var", "variables", multiple=True, help="Override a pipeline variable: name=<json value>.")
@click.option("--variant", help="The pipeline variant to validate (variants are not supported yet).")
@click.option("--fast", is_flag=True, help="Fast rules only (pybruin's rules are all fast).")
@click.option("--full-refresh", is_flag=True, help="Validate as for a full refresh.")
@global_options
def command(
    path: str,
    environment: str | None,
    config_file: str | None,
    output_format: str,
    force: bool,
    exclude_warnings: bool,
    exclude_tags: tuple[str, ...],
    exclude_paths: tuple[str, ...],
    variables: tuple[str, ...],
    variant: str | None,
    fast: bool,
    full_refresh: bool,
) -> None:
    """Check pipelines and assets without running anything."""
    from pathlib import Path

    from pybruin.errors import BruinError
    from pybruin.inspection.validation import (
        config_lines,
        json_document,
        render_pipelines,
        render_summary,
        validate_project,
    )
    from pybruin.run.context import parse_var_overrides

    if variant:
        raise BruinError("variants in pipeline.yml are not supported by pybruin yet (--variant)")
    parse_var_overrides(variables)
    app = state()
    target = Path(path)
    report = validate_project(
        app.project_settings(target, environment=environment, config_file=config_file),
        app.masker,
        exclude_tags=exclude_tags,
        exclude_warnings=exclude_warnings,
        exclude_paths=exclude_paths,
    )
    if output_format == "json":
        from pybruin.documents.encoding import encode

        # Upstream exits 0 even when it finds critical issues; the extension relies on it.
        click.echo(app.masker.mask(encode(json_document(report), indent=True)))
        return
    lines = config_lines(report)
    if report.asset is None:
        lines += ["", f"Validating pipelines in '{path}' for '{report.environment}' environment..."]
    if report.asset is not None:
        base = report.results[0].pipeline.directory
    else:
        base = target if target.is_dir() else target.parent
    lines += [render_pipelines(report, base), "", render_summary(report, path)]
    click.echo(app.masker.mask("\n".join(lines)))
    if report.errors:
        click.echo("An error occurred: validation failed")
        raise click.exceptions.Exit(1)
